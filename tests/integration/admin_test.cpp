// The admin address (/healthz, /metrics) of a bot connected to the fake Slack, and the HTTP
// server behind it.
#include "http_server.hpp"
#include "support/fake_slack.hpp"
#include "support/http_fetch.hpp"
#include "support/prometheus.hpp"
#include "support/running_bot.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>

using namespace tpmbot;
using namespace std::chrono_literals;
using test::fake_slack;
using test::http_fetch;
using test::parse_prometheus;
using test::running_bot;

namespace {

/// A bot with its admin address on a free loopback port.
struct admin_bot : running_bot {
    explicit admin_bot(fake_slack::options o = {}) : running_bot(std::move(o)) {
        settings.admin_host = "127.0.0.1";
        settings.admin_port = "0";
    }
    unsigned short port() {
        REQUIRE(slack.wait_for([&] { return app && app->admin_port() != 0; }));
        return app->admin_port();
    }
    test::prom_text scrape() {
        auto r = http_fetch(port(), "/metrics");
        REQUIRE(r.status == 200);
        CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
        auto p = parse_prometheus(r.body);
        INFO(r.body);
        REQUIRE(p.error.empty());
        return p;
    }
    double metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
        return scrape().value(name, labels).value_or(-1);
    }
};

} // namespace

TEST_CASE("/healthz is 503 until a connection to Slack is up, then 200 with the outbox's lag",
          "[admin]") {
    fake_slack::options o;
    o.send_hello = false; // connected only once the fake says hello
    admin_bot bot(o);
    bot.start();
    auto port = bot.port();
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.connections_open() == 1; }));
    auto r = http_fetch(port, "/healthz");
    CHECK(r.status == 503);
    CHECK(r.content_type == "application/json");
    auto body = boost::json::parse(r.body).as_object();
    CHECK(body.at("status").as_string() == "unavailable");
    CHECK(body.at("connections").as_int64() == 0);
    CHECK(body.at("database").as_string() == "ok");

    bot.slack.send(R"({"type":"hello","num_connections":1})");
    REQUIRE(bot.slack.wait_for([&] { return http_fetch(port, "/healthz").status == 200; }));
    body = boost::json::parse(http_fetch(port, "/healthz").body).as_object();
    CHECK(body.at("status").as_string() == "ok");
    CHECK(body.at("connections").as_int64() == 1);
    CHECK(body.at("outbox_pending").as_int64() == 0);
    CHECK(body.at("outbox_oldest_age_seconds").to_number<double>() == 0);
}

TEST_CASE("/metrics counts envelopes, acks and their latency, commits, posts and Web API calls",
          "[admin]") {
    admin_bot bot;
    bot.start_connected();
    for (int i = 1; i <= 3; ++i) {
        bot.slack.send(fake_slack::slash_envelope("env-" + std::to_string(i),
                                                  "blocker waiting on thing " + std::to_string(i)));
    }
    bot.slack.send(
        fake_slack::mention_envelope("env-m", "Ev1", "<@UBOT> blocker: waiting on legal"));
    bot.slack.send("{not json");
    bot.slack.send(R"({"type":"mystery","envelope_id":"env-x"})");
    for (const char* id : {"env-1", "env-2", "env-3", "env-m", "env-x"}) {
        REQUIRE(bot.ack_for(id));
    }
    // Three cards, and the mention's answer in its thread.
    REQUIRE(bot.posts(4));
    REQUIRE(bot.slack.wait_for([&] { return bot.metric("tpmbot_messages_delivered_total") == 4; }));
    auto p = bot.scrape();
    CHECK(p.value("tpmbot_envelopes_total", {{"type", "hello"}}) == 1);
    CHECK(p.value("tpmbot_envelopes_total", {{"type", "slash_commands"}}) == 3);
    CHECK(p.value("tpmbot_envelopes_total", {{"type", "events_api"}}) == 1);
    CHECK(p.value("tpmbot_envelopes_total", {{"type", "malformed"}}) == 1);
    CHECK(p.value("tpmbot_envelopes_total", {{"type", "unknown"}}) == 1);
    // Every envelope with an id is acked once; the malformed frame had none.
    CHECK(p.value("tpmbot_acks_total") == 5);
    CHECK(p.value("tpmbot_ack_latency_seconds_count") == 5);
    CHECK(p.value("tpmbot_ack_latency_seconds_bucket", {{"le", "+Inf"}}) == 5);
    CHECK(p.value("tpmbot_ack_latency_seconds_sum").value() > 0);
    CHECK(p.types["tpmbot_ack_latency_seconds"] == "histogram");
    CHECK(p.value("tpmbot_frames_committed_total") == 4);
    CHECK(p.value("tpmbot_group_commits_total").value() >= 1);
    CHECK(p.value("tpmbot_group_commits_total").value() <= 4);
    CHECK(p.value("tpmbot_events_processed_total") == 1);
    CHECK(p.value("tpmbot_web_api_calls_total", {{"method", "auth.test"}, {"result", "ok"}}) == 1);
    CHECK(p.value("tpmbot_web_api_calls_total",
                  {{"method", "apps.connections.open"}, {"result", "ok"}}) == 1);
    CHECK(
        p.value("tpmbot_web_api_calls_total", {{"method", "chat.postMessage"}, {"result", "ok"}}) ==
        static_cast<double>(bot.slack.calls("chat.postMessage").size()));
    CHECK(p.value("tpmbot_connections_opened_total", {{"reason", "start"}}) == 1);
    CHECK(p.value("tpmbot_connections") == 1);
    CHECK(p.value("tpmbot_outbox_pending") == 0);
    CHECK(p.value("tpmbot_database_up") == 1);
    CHECK(p.value("tpmbot_build_info", {{"version", TPMBOT_VERSION}}) == 1);
    // Every family has its help and type.
    for (const auto& [name, type] : p.types) {
        INFO(name);
        CHECK(!p.help[name].empty());
    }
    // What operations asked for: envelopes by type, acks and their latency, reconnects by
    // reason, the outbox's depth and age, Web API calls, scheduler firings.
    for (const char* family :
         {"tpmbot_envelopes_total", "tpmbot_acks_total", "tpmbot_ack_latency_seconds",
          "tpmbot_connections_opened_total", "tpmbot_outbox_pending",
          "tpmbot_outbox_oldest_age_seconds", "tpmbot_web_api_calls_total",
          "tpmbot_scheduler_firings_total", "tpmbot_messages_failed_total"}) {
        INFO(family);
        CHECK(p.types.count(family) == 1);
    }
}

TEST_CASE("/metrics counts connections by why they were opened", "[admin]") {
    admin_bot bot;
    bot.start_connected();
    bot.slack.disconnect("refresh_requested", 0, 50ms);
    REQUIRE(bot.slack.wait_for([&] {
        return bot.metric("tpmbot_connections_opened_total", {{"reason", "refresh_requested"}}) ==
               1;
    }));
    // The replacement said hello and the old one is gone: the drop hits the replacement.
    REQUIRE(bot.slack.wait_for([&] {
        return bot.slack.connections_opened() == 2 && bot.slack.connections_open() == 1 &&
               bot.logged("connected to Slack (connection 2)") == 1;
    }));
    CHECK(bot.metric("tpmbot_connections") == 1);
    bot.slack.drop();
    REQUIRE(bot.slack.wait_for([&] {
        return bot.metric("tpmbot_connections_opened_total", {{"reason", "connection_lost"}}) == 1;
    }));
    CHECK(bot.metric("tpmbot_connections_opened_total", {{"reason", "start"}}) == 1);
    CHECK(bot.metric("tpmbot_envelopes_total", {{"type", "disconnect"}}) == 1);
}

TEST_CASE("/metrics shows a rate limit, and the outbox waiting while Slack fails", "[admin]") {
    admin_bot bot;
    auto clock = std::make_shared<manual_clock>(1795597200);
    bot.settings.clock = clock;
    bot.settings.retry_base = 10s; // the failed post waits while the test looks
    bot.settings.retry_cap = 10s;
    test::scripted_reply limited;
    limited.status = 429;
    limited.retry_after = 1;
    bot.slack.script("chat.postMessage", limited);
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-1", "blocker waiting on the cert"));
    REQUIRE(bot.ack_for("env-1"));
    REQUIRE(bot.slack.wait_for(
        [&] {
            return bot.metric("tpmbot_web_api_calls_total",
                              {{"method", "chat.postMessage"}, {"result", "rate_limited"}}) == 1;
        },
        5s));
    // After the Retry-After second the card goes; then a server error holds the next post.
    REQUIRE(bot.posts(1));
    test::scripted_reply failing;
    failing.status = 500;
    bot.slack.script("chat.postMessage", failing);
    bot.slack.send(fake_slack::slash_envelope("env-2", "blocker waiting on the DNS"));
    REQUIRE(bot.ack_for("env-2"));
    REQUIRE(bot.slack.wait_for([&] {
        return bot.metric("tpmbot_web_api_calls_total",
                          {{"method", "chat.postMessage"}, {"result", "http_error"}}) == 1;
    }));
    clock->set(1795597200 + 90);
    auto p = bot.scrape();
    CHECK(p.value("tpmbot_outbox_pending").value() >= 1);
    CHECK(p.value("tpmbot_outbox_oldest_age_seconds") == 90);
    auto health = boost::json::parse(http_fetch(bot.port(), "/healthz").body).as_object();
    CHECK(health.at("outbox_oldest_age_seconds").to_number<double>() == 90);
    CHECK(health.at("outbox_pending").as_int64() >= 1);
}

TEST_CASE("the admin address answers only GET of its two paths, on a kept-alive connection",
          "[admin]") {
    admin_bot bot;
    bot.start_connected();
    auto port = bot.port();
    auto r = http_fetch(port, "/nope");
    CHECK(r.status == 404);
    CHECK(r.body.find("/healthz and /metrics") != std::string::npos);
    test::fetch_options post;
    post.method = "POST";
    post.body = "x=1";
    r = http_fetch(port, "/metrics", post);
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "GET");
    auto many = test::http_fetch_many(port, {"/healthz", "/metrics", "/healthz?verbose=1"});
    REQUIRE(many.size() == 3);
    CHECK(many[0].status == 200);
    CHECK(many[1].status == 200);
    CHECK(many[2].status == 200);
}

TEST_CASE("an admin address that cannot be bound is logged, the bot still works", "[admin]") {
    admin_bot first;
    first.start_connected();
    admin_bot second;
    second.settings.admin_port = std::to_string(first.port());
    second.start_connected();
    CHECK(second.logged("no /healthz or /metrics: cannot listen on 127.0.0.1:") == 1);
    CHECK(second.app->admin_port() == 0);
    second.slack.send(fake_slack::slash_envelope("env-1", "blocker list"));
    CHECK(second.ack_for("env-1"));
}

namespace {

/// An http_server on its own io_context thread that echoes the request.
struct echo_server {
    net::io_context ioc;
    std::unique_ptr<http_server> server;
    std::thread thread;
    explicit echo_server(http_server_limits limits) {
        server = std::make_unique<http_server>(
            ioc.get_executor(), "127.0.0.1", "0",
            [](http_request r) -> net::awaitable<http_answer> {
                http_answer a;
                a.body = r.method + " " + std::string(r.path()) + " " +
                         std::string(r.header("X-Test")) + " " + std::to_string(r.body.size());
                co_return a;
            },
            limits, logger{});
        server->start();
        thread = std::thread([this] { ioc.run(); });
    }
    ~echo_server() {
        net::post(ioc, [this] { server->stop(); });
        ioc.stop();
        thread.join();
    }
};

} // namespace

TEST_CASE("the HTTP server caps bodies, headers and connections, and refuses garbage", "[admin]") {
    http_server_limits limits;
    limits.max_body = 1000;
    limits.max_header = 2000;
    limits.max_connections = 2;
    limits.io_timeout = 2s;
    echo_server echo(limits);
    auto port = echo.server->port();

    test::fetch_options o;
    o.method = "POST";
    o.body = std::string(1000, 'a');
    o.headers = {{"X-Test", "hi"}};
    auto r = test::http_fetch(port, "/p?q=1", o);
    CHECK(r.status == 200);
    CHECK(r.body == "POST /p hi 1000");

    o.body = std::string(1001, 'a');
    r = test::http_fetch(port, "/p", o);
    CHECK(r.status == 413);

    auto raw = test::http_raw(
        port, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(3000, 'b') + "\r\n\r\n");
    CHECK(raw.starts_with("HTTP/1.1 431"));

    raw = test::http_raw(port, "NOT HTTP AT ALL\r\n\r\n");
    CHECK(raw.starts_with("HTTP/1.1 400"));

    // A body announced larger than the cap is refused before it is read.
    raw = test::http_raw(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n");
    CHECK(raw.starts_with("HTTP/1.1 413"));
}

TEST_CASE("the HTTP server closes connections past its cap and ends idle ones", "[admin]") {
    http_server_limits limits;
    limits.max_connections = 1;
    limits.io_timeout = 300ms;
    echo_server echo(limits);
    auto port = echo.server->port();
    // One connection held open without a request: a second is closed at once.
    net::io_context ioc;
    net::ip::tcp::socket held(ioc);
    held.connect({net::ip::make_address("127.0.0.1"), port});
    auto refused = test::http_raw(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 2s);
    CHECK(refused.empty());
    // The held one says nothing and is closed after the io timeout; then requests are served.
    timeval bound{5, 0}; // the read below returns by then whatever the server does
    ::setsockopt(held.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    std::array<char, 16> buf{};
    boost::system::error_code ec;
    held.read_some(net::buffer(buf), ec);
    CHECK(ec == net::error::eof);
    // The server frees the slot as its side of the read ends, a moment after closing.
    bool served = false;
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (!served && std::chrono::steady_clock::now() < deadline) {
        served = test::http_fetch(port, "/").status == 200;
    }
    CHECK(served);
}
