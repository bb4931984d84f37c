#include "http_client.hpp"

#include "no_delay.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>

namespace tpmbot {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::optional<url_parts> parse_url(std::string_view url) {
    auto r = boost::urls::parse_absolute_uri(url);
    if (!r) {
        return std::nullopt;
    }
    url_parts p;
    p.scheme = std::string(r->scheme());
    if (p.scheme == "https" || p.scheme == "wss") {
        p.tls = true;
    } else if (p.scheme != "http" && p.scheme != "ws") {
        return std::nullopt;
    }
    p.host = std::string(r->encoded_host());
    if (p.host.empty()) {
        return std::nullopt;
    }
    p.port = r->has_port() ? std::string(r->port()) : (p.tls ? "443" : "80");
    p.target = std::string(r->encoded_path());
    if (p.target.empty()) {
        p.target = "/";
    }
    if (r->has_query()) {
        p.target += "?" + std::string(r->encoded_query());
    }
    return p;
}

namespace {

/// True when `dir` holds a certificate under a subject-hash name ("3513523f.0"), the layout
/// OpenSSL's directory lookup reads (`openssl rehash`; Debian's ca-certificates keeps
/// /etc/ssl/certs so).
bool is_hashed_cert_dir(const std::string& dir) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        auto name = it->path().filename().string();
        auto dot = name.find('.');
        if (dot == 8 && name.size() > 9 && name.find_first_not_of("0123456789abcdef") == 8 &&
            name.find_first_not_of("0123456789", 9) == std::string::npos) {
            return true;
        }
    }
    return false;
}

/// Trusts the system's CAs. OpenSSL's defaults are a bundle file and a directory; the bundle
/// is parsed whole when the context is made (about 0.8 MB of heap for Debian's 140-odd
/// roots), while a hashed directory is read one certificate at a time, when a chain needs it.
/// So unless SSL_CERT_FILE names a bundle, a hashed directory ($SSL_CERT_DIR, or OpenSSL's
/// own) is used alone; otherwise both defaults, as OpenSSL would.
void trust_system_cas(ssl::context& ctx) {
    const char* file_env = std::getenv(X509_get_default_cert_file_env());
    const char* dir_env = std::getenv(X509_get_default_cert_dir_env());
    std::string dir = dir_env && *dir_env ? dir_env : X509_get_default_cert_dir();
    // A list of directories is left to OpenSSL's defaults.
    if ((!file_env || !*file_env) && dir.find(':') == std::string::npos &&
        is_hashed_cert_dir(dir) && SSL_CTX_load_verify_dir(ctx.native_handle(), dir.c_str()) == 1) {
        return;
    }
    ctx.set_default_verify_paths();
}

} // namespace

std::shared_ptr<ssl::context> make_tls_context(const std::string& extra_ca_file) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    trust_system_cas(*ctx);
    if (!extra_ca_file.empty()) {
        boost::system::error_code ec;
        ctx->load_verify_file(extra_ca_file, ec);
        if (ec) {
            throw std::runtime_error("cannot load CA file " + extra_ca_file + ": " + ec.message());
        }
    }
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
}

ssl::context& tls_source::get() {
    if (!ctx_) {
        ctx_ = make_tls_context(ca_file_);
    }
    return *ctx_;
}

struct http_client::impl {
    net::any_io_executor ex;
    std::shared_ptr<tls_source> tls;
    std::chrono::milliseconds timeout;
    std::optional<beast::tcp_stream> plain;
    std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
    std::string key;      ///< scheme://host:port of the open connection
    std::string last_url; ///< the URL of the last request ...
    url_parts last_parts; ///< ... and its parts
    std::string last_key; ///< ... and its scheme://host:port
    beast::flat_buffer buffer;

    void close() {
        boost::system::error_code ec;
        if (secure) {
            beast::get_lowest_layer(*secure).socket().close(ec);
        }
        if (plain) {
            plain->socket().close(ec);
        }
        secure.reset();
        plain.reset();
        key.clear();
        buffer.clear();
    }

    /// When the current request must be done by: one deadline for resolve, connect, TLS,
    /// write and read together.
    std::chrono::steady_clock::time_point deadline;
    std::chrono::steady_clock::time_point last_used; ///< end of the last exchange

    /// Connects to `u`, whose connection key is `to`.
    net::awaitable<void> connect(const url_parts& u, const std::string& to) {
        close();
        tcp::resolver resolver(ex);
        // The resolver has no timeout of its own: cancel it at the deadline.
        net::steady_timer guard(ex);
        guard.expires_at(deadline);
        guard.async_wait([&resolver](const boost::system::error_code& ec) {
            if (!ec) {
                resolver.cancel();
            }
        });
        auto results = co_await resolver.async_resolve(u.host, u.port, net::use_awaitable);
        guard.cancel();
        if (u.tls) {
            secure.emplace(ex, tls->get());
            // SNI, and a certificate that must name the host we asked for.
            if (SSL_set_tlsext_host_name(secure->native_handle(), u.host.c_str()) != 1) {
                throw std::runtime_error("cannot set TLS server name " + u.host);
            }
            secure->set_verify_mode(ssl::verify_peer);
            secure->set_verify_callback(ssl::host_name_verification(u.host));
            beast::get_lowest_layer(*secure).expires_at(deadline);
            co_await beast::get_lowest_layer(*secure).async_connect(results, net::use_awaitable);
            no_delay(beast::get_lowest_layer(*secure));
            co_await secure->async_handshake(ssl::stream_base::client, net::use_awaitable);
        } else {
            plain.emplace(ex);
            plain->expires_at(deadline);
            co_await plain->async_connect(results, net::use_awaitable);
            no_delay(*plain);
        }
        key = to;
    }

    template <class Stream>
    net::awaitable<http_response> exchange(Stream& s, http::request<http::string_body>& req,
                                           bool& written) {
        beast::get_lowest_layer(s).expires_at(deadline);
        co_await http::async_write(s, req, net::use_awaitable);
        written = true;
        http::response<http::string_body> res;
        co_await http::async_read(s, buffer, res, net::use_awaitable);
        http_response out;
        out.status = static_cast<int>(res.result_int());
        out.body = std::move(res.body());
        if (auto it = res.find(http::field::retry_after); it != res.end()) {
            out.retry_after = std::string(it->value());
        }
        last_used = std::chrono::steady_clock::now();
        if (!res.keep_alive()) {
            close();
        }
        co_return out;
    }
};

http_client::http_client(net::any_io_executor ex, std::shared_ptr<tls_source> tls,
                         std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>()) {
    impl_->ex = std::move(ex);
    impl_->tls = std::move(tls);
    impl_->timeout = timeout;
}

http_client::~http_client() {
    impl_->close();
}

void http_client::close() {
    impl_->close();
}

net::awaitable<http_response> http_client::request(std::string url, std::string content_type,
                                                   std::string authorization, std::string body) {
    auto& d = *impl_;
    // A sender's client calls the same few methods again and again: the last URL's parts are
    // kept rather than parsed for every request.
    if (url != d.last_url) {
        auto parsed = parse_url(url);
        if (!parsed) {
            throw std::invalid_argument("not an http(s) URL: " + url);
        }
        d.last_parts = std::move(*parsed);
        d.last_url = std::move(url);
        d.last_key = d.last_parts.scheme + "://" + d.last_parts.host + ":" + d.last_parts.port;
    }
    const url_parts* u = &d.last_parts;
    bool post = !body.empty() || !content_type.empty();
    http::request<http::string_body> req{post ? http::verb::post : http::verb::get, u->target, 11};
    req.set(http::field::host, u->host);
    req.set(http::field::user_agent, "tpmbot/0.1");
    if (!authorization.empty()) {
        req.set(http::field::authorization, authorization);
    }
    if (!content_type.empty()) {
        req.set(http::field::content_type, content_type);
    }
    req.body() = std::move(body);
    req.keep_alive(true);
    req.prepare_payload();

    const std::string& key = d.last_key;
    auto now = std::chrono::steady_clock::now();
    // Servers drop idle keep-alive connections; after a long pause start afresh rather than
    // find out by a failed request.
    if (d.key == key && now - d.last_used > std::chrono::seconds(30)) {
        d.close();
    }
    bool reused = d.key == key;
    d.deadline = now + d.timeout;
    for (int attempt = 0;; ++attempt) {
        if (d.key != key) {
            co_await d.connect(*u, key);
        }
        bool written = false;
        try {
            if (d.secure) {
                co_return co_await d.exchange(*d.secure, req, written);
            }
            co_return co_await d.exchange(*d.plain, req, written);
        } catch (const boost::system::system_error& e) {
            d.close();
            // A kept-alive connection the server closed while idle fails on first use; one
            // fresh connection is worth a try, but only when the request was not sent: a
            // request that went out may have been acted on, and must not be sent twice.
            bool stale = e.code() == net::error::eof || e.code() == net::error::connection_reset ||
                         e.code() == net::error::broken_pipe;
            if (!(reused && stale && !written && attempt == 0)) {
                throw;
            }
        }
    }
}

} // namespace tpmbot
