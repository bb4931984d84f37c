// Operations: metrics in Prometheus' format, log lines, and the settings that choose them.
#include "config.hpp"
#include "http_server.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "support/fake_env.hpp"
#include "support/prometheus.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <sstream>

using namespace tpmbot;
using test::parse_prometheus;

namespace {

config parse_env(const test::fake_env& env) {
    return parse_config({"tpmbot"}, env.fn());
}

} // namespace

TEST_CASE("metrics render as Prometheus text that a strict reader accepts", "[ops]") {
    metrics m;
    m.describe("t_requests_total", "counter", "Requests, by method.\nSecond line \\ kept.");
    m.value("t_requests_total", {{"method", "chat.postMessage"}, {"result", "ok"}}) += 3;
    m.value("t_requests_total", {{"method", "a\"b\\c\nd"}, {"result", "error"}}) += 1;
    m.describe("t_depth", "gauge", "Depth.");
    m.value("t_depth") = 2.5;
    m.describe("t_latency_seconds", "histogram", "Latency.");
    auto& h = m.hist("t_latency_seconds", {0.01, 0.001, 0.1});
    for (double v : {0.0005, 0.001, 0.002, 0.05, 7.0}) {
        h.observe(v);
    }
    auto text = m.render();
    auto p = parse_prometheus(text);
    INFO(text);
    REQUIRE(p.error.empty());
    CHECK(p.types["t_requests_total"] == "counter");
    CHECK(p.types["t_latency_seconds"] == "histogram");
    CHECK(p.help["t_requests_total"] == "Requests, by method.\\nSecond line \\\\ kept.");
    CHECK(p.value("t_requests_total", {{"method", "chat.postMessage"}, {"result", "ok"}}) == 3);
    // Label values keep what they held, escapes and all.
    CHECK(p.value("t_requests_total", {{"method", "a\"b\\c\nd"}, {"result", "error"}}) == 1);
    CHECK(p.value("t_depth") == 2.5);
    // Buckets are cumulative and sorted; the bound itself is inside its bucket.
    CHECK(p.value("t_latency_seconds_bucket", {{"le", "0.001"}}) == 2);
    CHECK(p.value("t_latency_seconds_bucket", {{"le", "0.01"}}) == 3);
    CHECK(p.value("t_latency_seconds_bucket", {{"le", "0.1"}}) == 4);
    CHECK(p.value("t_latency_seconds_bucket", {{"le", "+Inf"}}) == 5);
    CHECK(p.value("t_latency_seconds_count") == 5);
    CHECK(p.value("t_latency_seconds_sum").value() == Approx(7.0535));
    // Integers are written without a fraction.
    CHECK(text.find("t_requests_total{method=\"chat.postMessage\",result=\"ok\"} 3\n") !=
          std::string::npos);
}

TEST_CASE("a histogram and a counter cannot be confused", "[ops]") {
    metrics m;
    m.describe("t_h", "histogram", "H.");
    m.describe("t_c", "counter", "C.");
    CHECK_THROWS_AS(m.value("t_h"), std::logic_error);
    CHECK_THROWS_AS(m.hist("t_c", {1.0}), std::logic_error);
}

TEST_CASE("render_value writes Prometheus' numbers", "[ops]") {
    CHECK(render_value(0) == "0");
    CHECK(render_value(42) == "42");
    CHECK(render_value(-3) == "-3");
    CHECK(render_value(0.25) == "0.25");
    CHECK(render_value(HUGE_VAL) == "+Inf");
    CHECK(render_value(-HUGE_VAL) == "-Inf");
    CHECK(render_value(std::nan("")) == "NaN");
    CHECK(render_labels({}) == "");
}

TEST_CASE("the strict reader refuses what Prometheus refuses", "[ops]") {
    CHECK(parse_prometheus("a 1\n").error.empty());
    CHECK(parse_prometheus("# TYPE a counter\na{x=\"1\"} 1\n").error.empty());
    CHECK_FALSE(parse_prometheus("a 1").error.empty());              // no final newline
    CHECK_FALSE(parse_prometheus("1a 1\n").error.empty());           // bad name
    CHECK_FALSE(parse_prometheus("a{x=1} 1\n").error.empty());       // unquoted value
    CHECK_FALSE(parse_prometheus("a{x=\"1} 1\n").error.empty());     // unterminated value
    CHECK_FALSE(parse_prometheus("a{x=\"\\t\"} 1\n").error.empty()); // unknown escape
    CHECK_FALSE(parse_prometheus("a one\n").error.empty());          // not a number
    CHECK_FALSE(parse_prometheus("a 1\na 2\n").error.empty());       // repeated series
    CHECK_FALSE(parse_prometheus("a 1\n# TYPE a gauge\n").error.empty());
    CHECK_FALSE(parse_prometheus("# TYPE a counter\na -1\n").error.empty());
    CHECK_FALSE(parse_prometheus("# TYPE a bogus\n").error.empty());
    CHECK_FALSE(parse_prometheus("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} "
                                 "1\nh_count 1\nh_sum 0\n")
                    .error.empty()); // not cumulative
    CHECK_FALSE(parse_prometheus("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\nh_sum 0\n")
                    .error.empty()); // no +Inf
    CHECK_FALSE(parse_prometheus("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1\nh_sum "
                                 "0\n")
                    .error.empty()); // count differs
}

TEST_CASE("log lines: text keeps the message and names warnings and errors", "[ops][log]") {
    auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795597200123));
    CHECK(format_log_line(log_level::info, "tpmbot: connected", log_format::text, at) ==
          "tpmbot: connected");
    CHECK(format_log_line(log_level::warn, "tpmbot: could not x", log_format::text, at) ==
          "tpmbot: warning: could not x");
    CHECK(format_log_line(log_level::error, "tpmbot: refused", log_format::text, at) ==
          "tpmbot: error: refused");
    CHECK(format_log_line(log_level::error, "scheduler: odd", log_format::text, at) ==
          "error: scheduler: odd");
}

TEST_CASE("log lines: JSON is one valid object a line, whatever the message holds", "[ops][log]") {
    auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795597200123));
    auto line = format_log_line(log_level::warn, "tpmbot: a \"quoted\"\n\tline \\ \x01 \xff end",
                                log_format::json, at);
    CHECK(line.find('\n') == std::string::npos);
    auto v = boost::json::parse(line).as_object();
    CHECK(v.at("time").as_string() == "2026-11-25T09:00:00.123Z");
    CHECK(v.at("level").as_string() == "warn");
    CHECK(v.at("msg").as_string() == "a \"quoted\"\n\tline \\ \x01 \xef\xbf\xbd end");
}

TEST_CASE("a stream sink drops lines below its level", "[ops][log]") {
    std::ostringstream out;
    logger log(stream_sink(out, log_format::text, log_level::warn));
    log("tpmbot: routine");
    log.debug("tpmbot: detail");
    log.warn("tpmbot: odd");
    log.error("tpmbot: bad");
    CHECK(out.str() == "tpmbot: warning: odd\ntpmbot: error: bad\n");
    // A plain function of a string is a logger too, and sees every level.
    std::vector<std::string> seen;
    logger plain = [&](const std::string& l) {
        seen.push_back(l);
    };
    plain.debug("a");
    plain.error("b");
    CHECK(seen == std::vector<std::string>{"a", "b"});
    logger none;
    none.error("nowhere"); // discarded, no crash
}

TEST_CASE("log levels by name", "[ops][log]") {
    CHECK(parse_log_level("debug") == log_level::debug);
    CHECK(parse_log_level("info") == log_level::info);
    CHECK(parse_log_level("warn") == log_level::warn);
    CHECK(parse_log_level("warning") == log_level::warn);
    CHECK(parse_log_level("error") == log_level::error);
    CHECK_FALSE(parse_log_level("INFO"));
    CHECK_FALSE(parse_log_level(""));
    CHECK(level_name(log_level::warn) == "warn");
}

TEST_CASE("host:port for the admin address", "[ops][config]") {
    std::string host;
    std::string port;
    REQUIRE(split_host_port("127.0.0.1:9187", host, port));
    CHECK((host == "127.0.0.1" && port == "9187"));
    REQUIRE(split_host_port("[::1]:0", host, port));
    CHECK((host == "::1" && port == "0"));
    REQUIRE(split_host_port(":8080", host, port));
    CHECK((host == "0.0.0.0" && port == "8080"));
    REQUIRE(split_host_port("localhost:65535", host, port));
    for (const char* bad : {"", "9187", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                            "127.0.0.1:80a", "::1:80", "[]:80", "[::1]80", "[::1", "h:123456"}) {
        INFO(bad);
        CHECK_FALSE(split_host_port(bad, host, port));
    }
}

TEST_CASE("TPMBOT_ADMIN_ADDR, TPMBOT_LOG_FORMAT and TPMBOT_LOG_LEVEL", "[ops][config]") {
    test::fake_env env;
    auto c = parse_env(env);
    CHECK(c.admin_host == "127.0.0.1"); // loopback unless told otherwise
    CHECK(c.admin_port == "9187");
    CHECK(c.log_as == log_format::text);
    CHECK(c.log_min == log_level::info);

    env.vars["TPMBOT_ADMIN_ADDR"] = "0.0.0.0:9100";
    env.vars["TPMBOT_LOG_FORMAT"] = "json";
    env.vars["TPMBOT_LOG_LEVEL"] = "warn";
    c = parse_env(env);
    CHECK(c.admin_host == "0.0.0.0");
    CHECK(c.admin_port == "9100");
    CHECK(c.log_as == log_format::json);
    CHECK(c.log_min == log_level::warn);

    env.vars["TPMBOT_ADMIN_ADDR"] = "off";
    CHECK(parse_env(env).admin_host.empty());

    env.vars["TPMBOT_ADMIN_ADDR"] = "9100";
    CHECK_THROWS_WITH(parse_env(env), Catch::Contains("TPMBOT_ADMIN_ADDR=9100 is not host:port"));
    env.vars["TPMBOT_ADMIN_ADDR"] = "off";
    env.vars["TPMBOT_LOG_FORMAT"] = "xml";
    CHECK_THROWS_WITH(parse_env(env), Catch::Contains("use text or json"));
    env.vars["TPMBOT_LOG_FORMAT"] = "text";
    env.vars["TPMBOT_LOG_LEVEL"] = "loud";
    CHECK_THROWS_WITH(parse_env(env), Catch::Contains("use debug, info, warn or error"));
}

TEST_CASE("TPMBOT_OUTBOX_LEASE is a number of seconds", "[ops][config]") {
    test::fake_env env;
    CHECK(parse_env(env).outbox_lease == std::chrono::seconds(15));
    env.vars["TPMBOT_OUTBOX_LEASE"] = "30s";
    CHECK(parse_env(env).outbox_lease == std::chrono::seconds(30));
    env.vars["TPMBOT_OUTBOX_LEASE"] = "2";
    CHECK(parse_env(env).outbox_lease == std::chrono::seconds(2));
    for (const char* bad : {"1", "0s", "s", "15m", "-3", "999999"}) {
        INFO(bad);
        env.vars["TPMBOT_OUTBOX_LEASE"] = bad;
        CHECK_THROWS_WITH(parse_env(env), Catch::Contains("TPMBOT_OUTBOX_LEASE="));
    }
}

TEST_CASE("--help names every environment variable the binary reads", "[ops][config]") {
    auto text = usage();
    for (const char* var : {"SLACK_APP_TOKEN",
                            "SLACK_BOT_TOKEN",
                            "SLACK_APP_TOKEN_FILE",
                            "SLACK_BOT_TOKEN_FILE",
                            "SLACK_API_URL",
                            "TPMBOT_CA_FILE",
                            "TPMBOT_DB",
                            "TPMBOT_ADMINS",
                            "TPMBOT_TZ",
                            "TPMBOT_PROMPT_GRACE",
                            "TPMBOT_REPORT_GRACE",
                            "TPMBOT_ADMIN_ADDR",
                            "TPMBOT_LOG_FORMAT",
                            "TPMBOT_LOG_LEVEL",
                            "TPMBOT_HTTP_ADDR",
                            "SLACK_SIGNING_SECRET",
                            "TPMBOT_OUTBOX_LEASE",
                            "check-config",
                            "--version",
                            "--db",
                            "--console",
                            "--script"}) {
        INFO(var);
        CHECK(text.find(var) != std::string::npos);
    }
}

TEST_CASE("HTTP mode's settings: an address, a signing secret and a bot token", "[ops][config]") {
    test::fake_env env;
    env.vars["SLACK_BOT_TOKEN"] = "xoxb-1";
    env.vars["TPMBOT_HTTP_ADDR"] = "0.0.0.0:3000";
    CHECK_THROWS_WITH(parse_env(env),
                      Catch::Contains("TPMBOT_HTTP_ADDR is set but SLACK_SIGNING_SECRET is not"));
    env.vars["SLACK_SIGNING_SECRET"] = "8f742231b10e8888abcd99yyyzzz85a5";
    auto c = parse_env(env);
    CHECK(c.slack_tokens); // no app token needed: no Socket Mode
    CHECK(c.app_token.empty());
    CHECK((c.http_host == "0.0.0.0" && c.http_port == "3000"));
    CHECK(c.signing_secret == "8f742231b10e8888abcd99yyyzzz85a5");

    env.vars["TPMBOT_HTTP_ADDR"] = "3000";
    CHECK_THROWS_WITH(parse_env(env), Catch::Contains("TPMBOT_HTTP_ADDR=3000 is not host:port"));
    env.vars.erase("TPMBOT_HTTP_ADDR");
    CHECK_THROWS_WITH(parse_env(env),
                      Catch::Contains("SLACK_SIGNING_SECRET is set but TPMBOT_HTTP_ADDR is not"));
    env.vars["TPMBOT_HTTP_ADDR"] = "127.0.0.1:3000";
    env.vars.erase("SLACK_BOT_TOKEN");
    CHECK_THROWS_WITH(parse_env(env),
                      Catch::Contains("TPMBOT_HTTP_ADDR is set but SLACK_BOT_TOKEN is not"));
    // Both transports at once.
    env.vars["SLACK_BOT_TOKEN"] = "xoxb-1";
    env.vars["SLACK_APP_TOKEN"] = "xapp-1";
    c = parse_env(env);
    CHECK((c.app_token == "xapp-1" && !c.http_host.empty()));
    // The secret is in no message.
    env.vars["TPMBOT_HTTP_ADDR"] = "nope";
    try {
        parse_env(env);
        FAIL("accepted");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()).find("8f742231") == std::string::npos);
    }
}
