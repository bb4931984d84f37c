/// The fake Slack against a minimal Beast client written here: each client runs its own
/// io_context only while a test waits on it, so every wait is bounded and nothing sleeps.

#include "support/fake_slack.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <optional>
#include <stdlib.h>
#include <string>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
namespace json = boost::json;
using tcp = net::ip::tcp;
using ms = std::chrono::milliseconds;
using tpmbot::test::fake_slack;
using tpmbot::test::scripted_reply;
using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using namespace std::chrono_literals;

/// Runs the client's io_context until `done()` or `limit`; false when it did not happen.
bool run_until(net::io_context& ioc, const std::function<bool()>& done, ms limit = 5s) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    ioc.restart();
    while (!done()) {
        auto now = std::chrono::steady_clock::now();
        if (now >= deadline)
            return false;
        ioc.run_one_for(deadline - now);
        if (ioc.stopped()) // no work left: nothing more can happen
            return done();
    }
    return true;
}

/// Starts one async operation with a completion handler and waits for it, bounded.
template <class Start>
beast::error_code await_op(net::io_context& ioc, Start&& start, ms limit = 5s) {
    bool done = false;
    beast::error_code result;
    start([&](beast::error_code ec, auto&&...) {
        result = ec;
        done = true;
    });
    if (!run_until(
            ioc, [&] { return done; }, limit))
        throw std::runtime_error("client operation timed out");
    return result;
}

void require_ok(const beast::error_code& ec) {
    INFO(ec.message());
    REQUIRE(!ec);
}

template <class Stream>
Stream make_stream(net::io_context& ioc, ssl::context* ctx) {
    if constexpr (std::is_same_v<Stream, tls_stream>)
        return Stream(ioc, *ctx);
    else
        return Stream(ioc);
}

/// TCP connect, then the TLS handshake (checking the certificate names 127.0.0.1) if any.
template <class Stream>
void open_stream(net::io_context& ioc, Stream& s, std::uint16_t port) {
    tcp::endpoint ep{net::ip::make_address("127.0.0.1"), port};
    require_ok(await_op(ioc, [&](auto h) { beast::get_lowest_layer(s).async_connect(ep, h); }));
    if constexpr (std::is_same_v<Stream, tls_stream>) {
        s.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
        require_ok(await_op(ioc, [&](auto h) { s.async_handshake(ssl::stream_base::client, h); }));
    }
}

struct reply {
    unsigned status = 0;
    std::string body;
    std::string retry_after;
    bool keep_alive = false;
    json::value json() const { return json::parse(body); }
};

/// HTTP/1.1 requests on one kept-alive connection.
template <class Stream = plain_stream>
struct http_client {
    net::io_context ioc;
    Stream stream;
    beast::flat_buffer buffer;

    explicit http_client(std::uint16_t port, ssl::context* ctx = nullptr)
        : stream(make_stream<Stream>(ioc, ctx)) {
        open_stream(ioc, stream, port);
    }

    reply request(http::verb verb, const std::string& target, const std::string& auth,
                  const std::string& content_type = "", const std::string& body = "") {
        http::request<http::string_body> req{verb, target, 11};
        req.set(http::field::host, "127.0.0.1");
        if (!auth.empty())
            req.set(http::field::authorization, auth);
        if (!content_type.empty())
            req.set(http::field::content_type, content_type);
        req.body() = body;
        req.prepare_payload();
        require_ok(await_op(ioc, [&](auto h) { http::async_write(stream, req, h); }));
        http::response<http::string_body> res;
        require_ok(await_op(ioc, [&](auto h) { http::async_read(stream, buffer, res, h); }));
        return {res.result_int(), res.body(), std::string(res[http::field::retry_after]),
                res.keep_alive()};
    }

    reply post_json(const std::string& method, const std::string& auth, const std::string& body) {
        return request(http::verb::post, "/api/" + method, auth, "application/json; charset=utf-8",
                       body);
    }

    reply post_form(const std::string& method, const std::string& auth, const std::string& body) {
        return request(http::verb::post, "/api/" + method, auth,
                       "application/x-www-form-urlencoded", body);
    }
};

/// A Socket Mode client: connects to the URL apps.connections.open returned and keeps reading.
template <class Stream = plain_stream>
struct ws_client {
    struct frame {
        bool text = true;
        std::string data;
    };

    net::io_context ioc;
    websocket::stream<Stream> ws;
    beast::flat_buffer buffer;
    std::deque<frame> frames;
    std::optional<beast::error_code> read_error;
    websocket::response_type upgrade;
    int pongs = 0;

    explicit ws_client(ssl::context* ctx = nullptr) : ws(make_stream<Stream>(ioc, ctx)) {}

    /// "ws://127.0.0.1:PORT/link/?ticket=…": the handshake's outcome.
    beast::error_code connect(const std::string& url) {
        auto host_at = url.find("://") + 3;
        auto path_at = url.find('/', host_at);
        auto host = url.substr(host_at, path_at - host_at);
        auto port = static_cast<std::uint16_t>(std::stoi(host.substr(host.find(':') + 1)));
        open_stream(ioc, ws.next_layer(), port);
        ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
            if (kind == websocket::frame_type::pong)
                ++pongs;
        });
        auto ec = await_op(
            ioc, [&](auto h) { ws.async_handshake(upgrade, host, url.substr(path_at), h); });
        if (!ec)
            read_next();
        return ec;
    }

    void read_next() {
        ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
            if (ec) {
                read_error = ec;
                return;
            }
            frames.push_back({ws.got_text(), beast::buffers_to_string(buffer.data())});
            buffer.consume(buffer.size());
            read_next();
        });
    }

    /// The next frame, or nothing when the connection ended or `limit` passed.
    std::optional<frame> next(ms limit = 5s) {
        run_until(
            ioc, [&] { return !frames.empty() || read_error; }, limit);
        if (frames.empty())
            return std::nullopt;
        auto f = std::move(frames.front());
        frames.pop_front();
        return f;
    }

    json::object next_json() {
        auto f = next();
        REQUIRE(f);
        return json::parse(f->data).as_object();
    }

    void write(const std::string& text) {
        require_ok(await_op(ioc, [&](auto h) { ws.async_write(net::buffer(text), h); }));
    }

    void ping() {
        require_ok(await_op(ioc, [&](auto h) { ws.async_ping({}, h); }));
    }
};

const std::string app_auth = "Bearer xapp-1-test";
const std::string bot_auth = "Bearer xoxb-test";

/// apps.connections.open with the app token; the ws:// URL.
template <class Stream = plain_stream>
std::string open_url(fake_slack& slack, ssl::context* ctx = nullptr) {
    http_client<Stream> http(slack.port(), ctx);
    auto r = http.post_form("apps.connections.open", app_auth, "").json();
    REQUIRE(r.at("ok").as_bool());
    return std::string(r.at("url").as_string());
}

/// A connected client that has read its hello.
std::unique_ptr<ws_client<>> connected(fake_slack& slack) {
    auto c = std::make_unique<ws_client<>>();
    require_ok(c->connect(open_url(slack)));
    REQUIRE(c->next_json().at("type") == "hello");
    return c;
}

} // namespace

TEST_CASE("apps.connections.open needs the app token and returns a ticket URL", "[fake]") {
    fake_slack slack;
    http_client http(slack.port());
    CHECK(slack.api_url() == "http://127.0.0.1:" + std::to_string(slack.port()) + "/api/");

    auto none = http.post_form("apps.connections.open", "", "");
    CHECK(none.status == 200);
    CHECK(none.json() == json::parse(R"({"ok":false,"error":"invalid_auth"})"));
    CHECK(http.post_form("apps.connections.open", bot_auth, "").json().at("error") ==
          "invalid_auth");

    auto r = http.post_form("apps.connections.open", app_auth, "").json();
    CHECK(r.at("ok") == true);
    CHECK(r.at("url").as_string() ==
          "ws://127.0.0.1:" + std::to_string(slack.port()) + "/link/?ticket=1&app_id=A111");
    auto calls = slack.calls("apps.connections.open");
    REQUIRE(calls.size() == 3);
    CHECK(calls[2].authorization == app_auth);
}

TEST_CASE("a ticket opens one connection only", "[fake]") {
    fake_slack slack;
    auto url = open_url(slack);
    ws_client first;
    require_ok(first.connect(url));
    CHECK(first.next_json().at("type") == "hello");

    ws_client again;
    CHECK(again.connect(url) == websocket::error::upgrade_declined);
    CHECK(again.upgrade.result_int() == 403);
    ws_client unknown;
    CHECK(unknown.connect(url.substr(0, url.find("ticket=")) + "ticket=999&app_id=A111"));
    CHECK(unknown.upgrade.result_int() == 403);
    CHECK(slack.connections_opened() == 1);
    CHECK(slack.connections_open() == 1);
}

TEST_CASE("hello, then an envelope is acked and recorded with its latency", "[fake]") {
    fake_slack slack;
    auto c = std::make_unique<ws_client<>>();
    require_ok(c->connect(open_url(slack)));
    auto hello = c->next_json();
    CHECK(json::value(hello) ==
          json::parse(R"({"type":"hello","num_connections":1,"debug_info":{"host":"applink-fake",
                "build_number":1,"approximate_connection_time":18060},
                "connection_info":{"app_id":"A111"}})"));

    slack.send(fake_slack::slash_envelope("env-1", "blocker list"));
    auto envelope = c->next_json();
    CHECK(envelope.at("envelope_id") == "env-1");
    CHECK(envelope.at("payload").at("text") == "blocker list");
    c->write(R"({"envelope_id":"env-1","payload":{"text":"Thanks!"}})");
    c->write("not json");
    c->write(R"({"envelope_id":"never-sent"})");
    REQUIRE(slack.wait_for([&] { return slack.acks().size() == 2; }));

    auto acks = slack.acks();
    CHECK(acks[0].envelope_id == "env-1");
    CHECK(json::parse(acks[0].payload) == json::parse(R"({"text":"Thanks!"})"));
    CHECK(acks[0].connection == 1);
    CHECK(acks[0].latency_ms >= 0);
    CHECK(acks[1].payload.empty());
    CHECK(acks[1].latency_ms == -1);
}

TEST_CASE("connection 0 is the newest open one, others are addressed by number", "[fake]") {
    fake_slack slack;
    auto first = connected(slack);
    ws_client second;
    require_ok(second.connect(open_url(slack)));
    CHECK(second.next_json().at("num_connections") == 2);

    slack.send(R"({"to":"newest"})");
    slack.send(R"({"to":"first"})", 1);
    CHECK(second.next_json().at("to") == "newest");
    CHECK(first->next_json().at("to") == "first");
}

TEST_CASE("binary frames arrive as binary", "[fake]") {
    fake_slack slack;
    auto c = connected(slack);
    slack.send_binary(std::string("\x01\x00\xff", 3));
    auto f = c->next();
    REQUIRE(f);
    CHECK_FALSE(f->text);
    CHECK(f->data == std::string("\x01\x00\xff", 3));
}

TEST_CASE("disconnect sends the frame, then closes normally after the delay", "[fake]") {
    fake_slack slack;
    auto c = connected(slack);
    auto start = std::chrono::steady_clock::now();
    slack.disconnect("warning", 0, 50ms);
    CHECK(json::value(c->next_json()) == json::parse(R"({"type":"disconnect","reason":"warning",
                          "debug_info":{"host":"applink-fake"}})"));
    CHECK_FALSE(c->next());
    CHECK(std::chrono::steady_clock::now() - start >= 50ms);
    CHECK(c->read_error == websocket::error::closed);
    CHECK(c->ws.reason().code == websocket::close_code::normal);
    CHECK(slack.wait_for([&] { return slack.connections_open() == 0; }));
}

TEST_CASE("drop closes the socket without a close frame", "[fake]") {
    fake_slack slack;
    auto c = connected(slack);
    slack.drop();
    CHECK_FALSE(c->next());
    REQUIRE(c->read_error);
    CHECK(*c->read_error != websocket::error::closed);
    CHECK(slack.wait_for([&] { return slack.connections_open() == 0; }));
}

TEST_CASE("go_silent leaves pings unanswered and acks unread", "[fake]") {
    fake_slack slack;
    auto c = connected(slack);
    c->ping();
    CHECK(run_until(c->ioc, [&] { return c->pongs == 1; }));
    CHECK(slack.wait_for([&] { return slack.pings_received() == 1; }));

    slack.go_silent();
    // A round trip on the fake's single io thread runs after the go_silent posted before it.
    http_client(slack.port()).post_form("auth.test", bot_auth, "");
    c->ping();
    c->write(R"({"envelope_id":"late"})");
    CHECK_FALSE(run_until(
        c->ioc, [&] { return c->pongs == 2; }, 300ms));
    CHECK(slack.acks().empty());
    CHECK(slack.pings_received() == 1);
    CHECK(slack.connections_open() == 1);

    beast::get_lowest_layer(c->ws).close();
    CHECK(slack.wait_for([&] { return slack.connections_open() == 0; }));
}

TEST_CASE("scripted 429 with Retry-After, then normal answers", "[fake]") {
    fake_slack slack;
    scripted_reply limited;
    limited.status = 429;
    limited.body = R"({"ok":false,"error":"ratelimited"})";
    limited.retry_after = 3;
    slack.script("chat.postMessage", limited);
    http_client http(slack.port());
    const std::string msg = R"({"channel":"C1","text":"hi","blocks":[]})";

    auto r1 = http.post_json("chat.postMessage", bot_auth, msg);
    CHECK(r1.status == 429);
    CHECK(r1.retry_after == "3");
    CHECK(r1.json().at("error") == "ratelimited");
    auto r2 = http.post_json("chat.postMessage", bot_auth, msg).json();
    auto r3 = http.post_json("chat.postMessage", bot_auth, msg).json();
    CHECK(r2.at("ok") == true);
    CHECK(r2.at("channel") == "C1");
    CHECK(r2.at("message").at("text") == "hi");
    // Slack's ts: the wall clock's seconds and microseconds, each one later than the last.
    auto ts2 = std::string(r2.at("ts").as_string());
    auto ts3 = std::string(r3.at("ts").as_string());
    REQUIRE(ts2.size() == 17);
    CHECK(ts2[10] == '.');
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
    CHECK(std::abs(std::stoll(ts2.substr(0, 10)) - now) < 60);
    CHECK(ts3 > ts2); // same length, so the text orders as the number

    CHECK(http.post_json("chat.postMessage", "", msg).json().at("error") == "not_authed");
    CHECK(http.post_json("chat.postMessage", bot_auth, "{}").json().at("error") ==
          "channel_not_found");
    CHECK(http.post_json("chat.nope", bot_auth, "{}").json().at("error") == "unknown_method");
    auto calls = slack.calls("chat.postMessage");
    REQUIRE(calls.size() == 5);
    CHECK(calls[0].params ==
          std::map<std::string, std::string>{{"channel", "C1"}, {"text", "hi"}, {"blocks", "[]"}});

    scripted_reply slow;
    slow.delay = 50ms;
    slack.script("auth.test", slow);
    auto start = std::chrono::steady_clock::now();
    CHECK(http.post_form("auth.test", bot_auth, "").json().at("user_id") == "UBOT");
    CHECK(std::chrono::steady_clock::now() - start >= 50ms);
}

TEST_CASE("users.info takes a form or a query, never JSON", "[fake]") {
    fake_slack slack;
    http_client http(slack.port());
    CHECK(http.post_json("users.info", bot_auth, R"({"user":"U1"})").json().at("error") ==
          "invalid_arguments");
    auto form = http.post_form("users.info", bot_auth, "user=U1").json();
    CHECK(form == json::parse(R"({"ok":true,"user":{"id":"U1","tz":"Europe/Berlin",
                                  "is_admin":false,"is_owner":false,"deleted":false}})"));
    auto query = http.request(http::verb::get, "/api/users.info?user=W%202", bot_auth).json();
    CHECK(query.at("user").at("id") == "W 2");
}

TEST_CASE("two requests on one kept-alive connection, response_url POSTs are recorded", "[fake]") {
    fake_slack slack;
    http_client http(slack.port());
    auto first = http.post_form("auth.test", bot_auth, "");
    CHECK(first.keep_alive);
    CHECK(first.json() == json::parse(R"({"ok":true,"user_id":"UBOT","team_id":"T111",
                                          "bot_id":"BBOT","user":"tpmbot"})"));
    CHECK(http.post_form("conversations.open", bot_auth, "users=U42").json().at("channel") ==
          json::parse(R"({"id":"D42"})"));

    auto hook = http.request(http::verb::post, "/commands/T111/111/xxx", "", "application/json",
                             R"({"text":"done","replace_original":true})");
    CHECK(hook.status == 200);
    CHECK(hook.body == "ok");
    auto calls = slack.calls("response_url");
    REQUIRE(calls.size() == 1);
    CHECK(calls[0].params.at("text") == "done");
    CHECK(calls[0].params.at("replace_original") == "true");
    CHECK_FALSE(slack.wait_for([] { return false; }, 20ms));
}

TEST_CASE("envelopes keep the fixtures' shapes with the values given", "[fake]") {
    auto slash = json::parse(fake_slack::slash_envelope("e1", "a & b", "U9", "C9", "/x"));
    CHECK(slash.at("type") == "slash_commands");
    CHECK(slash.at("accepts_response_payload") == true);
    CHECK(slash.at("payload").at("text") == "a & b");
    CHECK(slash.at("payload").at("user_id") == "U9");
    CHECK(slash.at("payload").at("command") == "/x");

    auto mention = json::parse(fake_slack::mention_envelope(
        "e2", "Ev9", "<@UBOT> hi", "U9", "C9", "1605853844.000800", "1605853800.000100", 2));
    CHECK(mention.at("retry_attempt") == 2);
    CHECK(mention.at("retry_reason") == "timeout");
    CHECK(mention.at("payload").at("event_id") == "Ev9");
    CHECK(mention.at("payload").at("authorizations").at(0).at("user_id") == "UBOT");
    auto& event = mention.at("payload").at("event");
    CHECK(event.at("type") == "app_mention");
    CHECK(event.at("thread_ts") == "1605853800.000100");
    CHECK(event.at("channel") == "C9");

    auto dm = json::parse(fake_slack::dm_envelope("e3", "Ev8", "hey", "U9", "D9",
                                                  "1605853844.000900", "B1", "bot_message"));
    CHECK(dm.at("payload").at("event").at("channel_type") == "im");
    CHECK(dm.at("payload").at("event").at("bot_id") == "B1");
    CHECK(dm.at("payload").at("event").at("subtype") == "bot_message");

    auto action = json::parse(fake_slack::action_envelope("e4", "blocker:7", "U9", "C9", "1.2"));
    CHECK(action.at("type") == "interactive");
    CHECK(action.at("payload").at("actions").at(0).at("value") == "blocker:7");
    CHECK(action.at("payload").at("container").at("message_ts") == "1.2");
}

TEST_CASE("TLS: HTTPS and WSS with a certificate made at test time", "[fake]") {
    std::string dir = (std::filesystem::temp_directory_path() / "fake_slack_XXXXXX").string();
    REQUIRE(mkdtemp(dir.data()));
    struct cleanup {
        std::string dir;
        ~cleanup() {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    } remove_dir{dir};
    auto cert = dir + "/cert.pem";
    auto key = dir + "/key.pem";
    auto cmd = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
               "-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
               key + " -out " + cert + " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);

    fake_slack::options o;
    o.cert_file = cert;
    o.key_file = key;
    fake_slack slack(o);
    CHECK(slack.api_url() == "https://127.0.0.1:" + std::to_string(slack.port()) + "/api/");

    ssl::context ctx{ssl::context::tls_client};
    ctx.load_verify_file(cert);
    ctx.set_verify_mode(ssl::verify_peer);
    auto url = open_url<tls_stream>(slack, &ctx);
    CHECK(url.starts_with("wss://127.0.0.1:"));

    ws_client<tls_stream> c(&ctx);
    require_ok(c.connect(url));
    CHECK(c.next_json().at("type") == "hello");
    slack.send(fake_slack::mention_envelope("env-tls", "Ev1", "<@UBOT> hi"));
    CHECK(c.next_json().at("envelope_id") == "env-tls");
    c.write(R"({"envelope_id":"env-tls"})");
    CHECK(slack.wait_for([&] { return slack.acks().size() == 1; }));
}

TEST_CASE("destruction is prompt with sockets open and a slow reply pending", "[fake]") {
    auto slack = std::make_unique<fake_slack>();
    auto c = connected(*slack);
    scripted_reply slow;
    slow.delay = 30s;
    slack->script("auth.test", slow);
    http_client http(slack->port());
    http::request<http::string_body> req{http::verb::post, "/api/auth.test", 11};
    req.prepare_payload();
    require_ok(await_op(http.ioc, [&](auto h) { http::async_write(http.stream, req, h); }));
    REQUIRE(slack->wait_for([&] { return slack->calls("auth.test").size() == 1; }));

    auto start = std::chrono::steady_clock::now();
    slack.reset();
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    CHECK_FALSE(c->next());
    http::response<http::string_body> res;
    CHECK(await_op(http.ioc, [&](auto h) { http::async_read(http.stream, http.buffer, res, h); }));
}
