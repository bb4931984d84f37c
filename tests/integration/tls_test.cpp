// The bot against the fake Slack serving HTTPS and WSS, with certificates made at test time by
// the openssl CLI: a trusted chain works end to end; a wrong host name or an untrusted
// certificate is refused before any request is sent. Every wait is bounded; nothing sleeps.

#include "support/running_bot.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

using namespace tpmbot;
using namespace std::chrono_literals;
using test::fake_slack;
using test::running_bot;

namespace {

std::string sh_quote(const std::filesystem::path& p) {
    return "'" + p.string() + "'";
}

/// Certificates made with the openssl CLI in a temp dir: a CA, and server certificates that
/// it signs or that sign themselves. EC P-256 keys, so each takes milliseconds.
class test_pki {
public:
    struct cert {
        std::string pem;
        std::string key;
    };

    test_pki() {
        ca_ = make("ca",
                   "basicConstraints = critical, CA:true\n"
                   "keyUsage = critical, keyCertSign, cRLSign\n"
                   "subjectKeyIdentifier = hash\n",
                   false);
    }

    const cert& ca() const { return ca_; }

    /// A server certificate naming `san` (e.g. "IP:127.0.0.1, DNS:localhost"), signed by the
    /// CA unless `self_signed`.
    cert server(const std::string& name, const std::string& san, bool self_signed = false) {
        return make(name,
                    "basicConstraints = critical, CA:false\n"
                    "keyUsage = critical, digitalSignature\n"
                    "extendedKeyUsage = serverAuth\n"
                    "subjectAltName = " +
                        san + "\n",
                    !self_signed);
    }

private:
    test::temp_dir dir_;
    cert ca_;
    int serial_ = 1;

    /// Runs an openssl command; on failure the test stops with the command and its output.
    void run(const std::string& command) {
        auto out = dir_.file("openssl.out");
        int rc = std::system((command + " >" + sh_quote(out) + " 2>&1").c_str());
        std::ostringstream output;
        output << std::ifstream(out).rdbuf();
        INFO(command << "\n" << output.str());
        REQUIRE(rc == 0);
    }

    cert make(const std::string& name, const std::string& extensions, bool signed_by_ca) {
        auto base = dir_.path() / name;
        auto cnf = base.string() + ".cnf";
        std::ofstream(cnf) << "[req]\ndistinguished_name = dn\nprompt = no\n"
                           << "[dn]\nCN = tpmbot test " << name << "\n[ext]\n"
                           << extensions;
        cert c{base.string() + ".pem", base.string() + ".key"};
        auto req = "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                   "-config " +
                   sh_quote(cnf) + " -keyout " + sh_quote(c.key);
        if (!signed_by_ca) {
            run(req + " -x509 -days 2 -extensions ext -out " + sh_quote(c.pem));
            return c;
        }
        auto csr = base.string() + ".csr";
        run(req + " -out " + sh_quote(csr));
        run("openssl x509 -req -in " + sh_quote(csr) + " -CA " + sh_quote(ca_.pem) + " -CAkey " +
            sh_quote(ca_.key) + " -set_serial " + std::to_string(++serial_) + " -days 2 -extfile " +
            sh_quote(cnf) + " -extensions ext -out " + sh_quote(c.pem));
        return c;
    }
};

/// Sets (or, with nullptr, unsets) an environment variable for the scope, then puts it back.
class scoped_env {
public:
    scoped_env(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        if (value) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~scoped_env() {
        if (old_) {
            ::setenv(name_.c_str(), old_->c_str(), 1);
        } else {
            ::unsetenv(name_.c_str());
        }
    }
    scoped_env(const scoped_env&) = delete;
    scoped_env& operator=(const scoped_env&) = delete;

private:
    std::string name_;
    std::optional<std::string> old_;
};

/// A new directory holding `pem` under its subject-hash name, as `openssl rehash` lays out a
/// certificate directory.
std::string hashed_dir_with(const test::temp_dir& dir, const std::string& pem) {
    auto hash_file = dir.file("hash.out");
    REQUIRE(
        std::system(("openssl x509 -hash -noout -in " + sh_quote(pem) + " >" + sh_quote(hash_file))
                        .c_str()) == 0);
    std::string hash;
    std::ifstream(hash_file) >> hash;
    REQUIRE(hash.size() == 8);
    auto certs = dir.path() / "certs";
    std::filesystem::create_directories(certs);
    std::filesystem::copy_file(pem, certs / (hash + ".0"));
    return certs.string();
}

fake_slack::options serving(const test_pki::cert& c) {
    fake_slack::options o;
    o.cert_file = c.pem;
    o.key_file = c.key;
    return o;
}

/// A bot against a fake Slack serving `served`, trusting the system CAs plus `ca_file`.
struct tls_bot : running_bot {
    tls_bot(const test_pki::cert& served, const std::string& ca_file)
        : running_bot(serving(served)) {
        settings.ca_file = ca_file;
        start();
    }

    /// The handshake must fail every time: auth.test fails at least twice (so a backoff ran
    /// in between), naming the certificate, and the fake never sees a request or a socket.
    void require_refused() {
        REQUIRE(slack.wait_for([&] { return logged("auth.test failed") >= 2; }));
        INFO(log_text());
        CHECK(logged("certificate verify failed") >= 2);
        CHECK(slack.calls().empty());
        CHECK(slack.connections_opened() == 0);
        CHECK(logged("signed in") == 0);
    }
};

} // namespace

TEST_CASE("over TLS with a trusted test CA the bot signs in, connects and acks", "[tls]") {
    test_pki pki;
    tls_bot bot(pki.server("server", "IP:127.0.0.1, DNS:localhost"), pki.ca().pem);
    REQUIRE(bot.slack.api_url().starts_with("https://127.0.0.1:"));
    REQUIRE(
        bot.slack.wait_for([&] { return bot.logged("connected to Slack (connection 1)") > 0; }));
    CHECK(bot.slack.calls("auth.test").size() == 1);
    CHECK(bot.slack.calls("apps.connections.open").size() == 1);
    CHECK(bot.slack.connections_open() == 1);

    bot.slack.send(fake_slack::slash_envelope("env-tls", "help"));
    REQUIRE(bot.slack.wait_for([&] {
        auto acks = bot.slack.acks();
        return !acks.empty() && acks[0].envelope_id == "env-tls";
    }));
    CHECK_FALSE(bot.slack.acks()[0].payload.empty());
}

TEST_CASE("over TLS a certificate for another host name is refused", "[tls]") {
    test_pki pki;
    tls_bot bot(pki.server("wrong-host", "DNS:wrong.example"), pki.ca().pem);
    bot.require_refused();
}

TEST_CASE("over TLS a certificate no trusted CA signed is refused", "[tls]") {
    test_pki pki;
    tls_bot bot(pki.server("self-signed", "IP:127.0.0.1, DNS:localhost", true), "");
    bot.require_refused();
}

TEST_CASE("over TLS the system CAs may come from a hashed certificate directory alone", "[tls]") {
    // With no bundle named by SSL_CERT_FILE, the bot reads the directory, one certificate at a
    // time as a chain needs it; a CA that is only there is trusted. (What this saves, the
    // system bundle never parsed, is memory: BENCHMARKS.md measures it. These three cases hold
    // the trust it gives, which OpenSSL's defaults gave too.)
    test_pki pki;
    test::temp_dir dir;
    scoped_env file("SSL_CERT_FILE", nullptr);
    scoped_env certs("SSL_CERT_DIR", hashed_dir_with(dir, pki.ca().pem).c_str());
    tls_bot bot(pki.server("server", "IP:127.0.0.1, DNS:localhost"), "");
    REQUIRE(
        bot.slack.wait_for([&] { return bot.logged("connected to Slack (connection 1)") > 0; }));
    CHECK(bot.slack.calls("auth.test").size() == 1);
}

TEST_CASE("over TLS a hashed certificate directory without the CA refuses its chain", "[tls]") {
    test_pki pki;
    test_pki other;
    test::temp_dir dir;
    scoped_env file("SSL_CERT_FILE", nullptr);
    scoped_env certs("SSL_CERT_DIR", hashed_dir_with(dir, other.ca().pem).c_str());
    tls_bot bot(pki.server("server", "IP:127.0.0.1, DNS:localhost"), "");
    bot.require_refused();
}

TEST_CASE("over TLS a bundle named by SSL_CERT_FILE is trusted beside the directory", "[tls]") {
    // An operator's SSL_CERT_FILE is honoured even when the directory is hashed.
    test_pki pki;
    test_pki other;
    test::temp_dir dir;
    scoped_env file("SSL_CERT_FILE", pki.ca().pem.c_str());
    scoped_env certs("SSL_CERT_DIR", hashed_dir_with(dir, other.ca().pem).c_str());
    tls_bot bot(pki.server("server", "IP:127.0.0.1, DNS:localhost"), "");
    REQUIRE(
        bot.slack.wait_for([&] { return bot.logged("connected to Slack (connection 1)") > 0; }));
}
