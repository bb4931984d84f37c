#include "support/fake_slack.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace tpmbot::test {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
namespace json = boost::json;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

/// Socket outcomes are expected here (peers vanish, tests drop sockets): (ec, ...) not throws.
constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

constexpr const char* app_id = "A111";
constexpr const char* json_type = "application/json; charset=utf-8";

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i])
            return false;
    return true;
}

std::string url_decode(std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '+') {
            out += ' ';
        } else if (in[i] == '%' && i + 2 < in.size() &&
                   std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
            out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else {
            out += in[i];
        }
    }
    return out;
}

/// `a=1&b=x+y` (query strings and form bodies).
void parse_form(std::string_view in, std::map<std::string, std::string>& out) {
    while (!in.empty()) {
        auto amp = in.find('&');
        auto pair = in.substr(0, amp);
        in = amp == std::string_view::npos ? std::string_view{} : in.substr(amp + 1);
        if (pair.empty())
            continue;
        auto eq = pair.find('=');
        auto key = url_decode(pair.substr(0, eq));
        out[key] = eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    }
}

/// Top-level fields of a JSON object body: strings as they are, anything else as JSON text
/// (so `blocks` reads the same whether the client sent JSON or a form).
void parse_json_fields(std::string_view body, std::map<std::string, std::string>& out) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object())
        return;
    for (const auto& [key, value] : v.as_object())
        out[std::string(key)] =
            value.is_string() ? std::string(value.as_string()) : json::serialize(value);
}

std::string query_param(std::string_view target, const std::string& name) {
    auto q = target.find('?');
    if (q == std::string_view::npos)
        return {};
    std::map<std::string, std::string> params;
    parse_form(target.substr(q + 1), params);
    auto it = params.find(name);
    return it == params.end() ? std::string{} : it->second;
}

/// beast::tcp_stream with a gate that fails every read started once it is shut. go_silent needs
/// Beast to stop reading (and so answering pings) for good: cancelling the socket alone misses
/// a read that Beast restarts from a completion already queued (say, its last pong's).
/// It sits below TLS so that no layer can read past it.
class gated_stream {
public:
    using executor_type = beast::tcp_stream::executor_type;
    using lowest_layer_type = beast::tcp_stream::socket_type;

    explicit gated_stream(beast::tcp_stream s) : next_(std::move(s)) {}

    executor_type get_executor() noexcept { return next_.get_executor(); }
    beast::tcp_stream& next_layer() noexcept { return next_; }
    lowest_layer_type& lowest_layer() noexcept { return next_.socket(); }

    /// Fails every later read and cancels the pending one; writes still go through.
    void shut_reads() {
        reads_shut_ = true;
        beast::error_code ec;
        next_.socket().cancel(ec);
    }

    template <class Buffers, class Token>
    auto async_read_some(const Buffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(beast::error_code, std::size_t)>(
            [this](auto handler, const Buffers& b) {
                if (reads_shut_)
                    net::post(next_.get_executor(),
                              beast::bind_front_handler(
                                  std::move(handler),
                                  beast::error_code(net::error::operation_aborted), 0));
                else
                    next_.async_read_some(b, std::move(handler));
            },
            token, buffers);
    }

    template <class Buffers, class Token>
    auto async_write_some(const Buffers& buffers, Token&& token) {
        return next_.async_write_some(buffers, std::forward<Token>(token));
    }

private:
    beast::tcp_stream next_;
    bool reads_shut_ = false;
};

/// WebSocket teardown of a gated stream is the socket's (as for beast::tcp_stream).
[[maybe_unused]] void teardown(beast::role_type role, gated_stream& s, beast::error_code& ec) {
    using beast::websocket::teardown;
    teardown(role, s.lowest_layer(), ec);
}

template <class Handler>
void async_teardown(beast::role_type role, gated_stream& s, Handler&& handler) {
    using beast::websocket::async_teardown;
    async_teardown(role, s.lowest_layer(), std::forward<Handler>(handler));
}

gated_stream& gate_of(gated_stream& s) {
    return s;
}
gated_stream& gate_of(beast::ssl_stream<gated_stream>& s) {
    return s.next_layer();
}

/// A frame waiting for the connection's single writer.
struct out_frame {
    enum kind_t { text, binary, close } kind = text;
    std::string data;
};

/// What the io thread needs to script one WebSocket connection, whatever its stream type.
struct ws_conn_base {
    int index = 0;       ///< 1-based, in opening order
    bool open = true;    ///< until the read side sees the end (io thread only)
    bool silent = false; ///< go_silent: nothing is read or written any more
    /// Told how many text or binary frames were dropped unwritten (the connection had ended,
    /// went silent, or a write failed).
    std::function<void(std::size_t)> undelivered;
    virtual ~ws_conn_base() = default;
    virtual void enqueue(out_frame f) = 0;
    virtual void drop() = 0;
    virtual void silence() = 0;
};

/// One accepted WebSocket. Shared (not owned by one coroutine frame) because commands from the
/// test thread reach it through the registry while its read loop and writer run.
template <class Stream>
struct ws_conn final : ws_conn_base, std::enable_shared_from_this<ws_conn<Stream>> {
    explicit ws_conn(Stream s) : ws(std::move(s)) {}

    websocket::stream<Stream> ws;
    std::deque<out_frame> queue;
    bool writing = false;

    /// One writer at a time (Beast allows one write beside the read): frames queue up and a
    /// writer coroutine drains them, as chat-multi's websocket_session does.
    void enqueue(out_frame f) override {
        if (!open || silent) {
            if (f.kind != out_frame::close)
                count_undelivered(1);
            return;
        }
        queue.push_back(std::move(f));
        if (writing)
            return;
        writing = true;
        net::co_spawn(ws.get_executor(), write_loop(this->shared_from_this()), net::detached);
    }

    void drop() override {
        beast::error_code ec;
        beast::get_lowest_layer(ws).socket().close(ec);
    }

    /// Failing Beast's read is the only way to stop it answering pings; that leaves the
    /// websocket unusable, so a silent connection writes nothing more either (a half-open link).
    void silence() override {
        silent = true;
        drop_queue(0);
        gate_of(ws.next_layer()).shut_reads();
    }

    static net::awaitable<void> write_loop(std::shared_ptr<ws_conn> c) {
        while (!c->queue.empty()) {
            out_frame f = std::move(c->queue.front());
            c->queue.pop_front();
            beast::error_code ec;
            if (f.kind == out_frame::close) {
                std::tie(ec) =
                    co_await c->ws.async_close(websocket::close_code::normal, use_nothrow);
            } else {
                c->ws.text(f.kind == out_frame::text);
                std::tie(ec, std::ignore) =
                    co_await c->ws.async_write(net::buffer(f.data), use_nothrow);
            }
            if (ec)
                c->drop_queue(f.kind == out_frame::close ? 0 : 1);
        }
        c->writing = false;
    }

    void count_undelivered(std::size_t n) {
        if (n > 0 && undelivered)
            undelivered(n);
    }

    /// Empties the queue, counting its data frames (and `failed` more) as undelivered.
    void drop_queue(std::size_t failed) {
        for (const auto& q : queue)
            failed += q.kind == out_frame::close ? 0 : 1;
        queue.clear();
        count_undelivered(failed);
    }
};

std::string envelope_id_of(const std::string& frame) {
    boost::system::error_code ec;
    auto v = json::parse(frame, ec);
    if (ec || !v.is_object())
        return {};
    auto* id = v.as_object().if_contains("envelope_id");
    return id && id->is_string() ? std::string(id->as_string()) : std::string{};
}

} // namespace

struct fake_slack::impl {
    /// One answer to one HTTP request.
    struct reply {
        unsigned status = 200;
        std::string body;
        int retry_after = 0;
        std::chrono::milliseconds delay{0};
        std::string content_type = json_type;
    };

    explicit impl(options o) : opts(std::move(o)) {
        if (!opts.cert_file.empty() && !opts.key_file.empty()) {
            ssl_ctx.emplace(ssl::context::tls_server);
            ssl_ctx->use_certificate_chain_file(opts.cert_file);
            ssl_ctx->use_private_key_file(opts.key_file, ssl::context::pem);
        }
        tcp::endpoint ep{net::ip::make_address("127.0.0.1"), 0};
        acceptor.open(ep.protocol());
        acceptor.set_option(net::socket_base::reuse_address(true));
        acceptor.bind(ep);
        acceptor.listen();
        port = acceptor.local_endpoint().port();
        net::co_spawn(ioc, accept_loop(), net::detached);
        thread = std::thread([this] { ioc.run(); });
    }

    /// Closes the listener and every WebSocket on the io thread, stops it and joins; coroutines
    /// still suspended (keep-alive HTTP, scripted delays) are destroyed with the io_context.
    ~impl() {
        net::post(ioc, [this] {
            beast::error_code ec;
            acceptor.close(ec);
            for (auto& c : conns)
                c->drop();
            ioc.stop();
        });
        thread.join();
        conns.clear();
    }

    options opts;
    std::optional<ssl::context> ssl_ctx;
    std::uint16_t port = 0;

    // Recorded state, shared with the test thread.
    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    std::uint64_t generation = 0; ///< bumped on every change, so wait_for sees each one
    std::vector<api_call> calls;
    std::vector<ack_record> acks;
    /// Positions in `calls` of each method's calls, so counts and slices by method are cheap.
    std::map<std::string, std::vector<std::size_t>> call_index;
    std::vector<connection_record> conn_log; ///< by connection index - 1
    int undelivered = 0;
    std::map<std::string, std::deque<scripted_reply>> scripts;
    std::map<std::string, clock_type::time_point> sent_at;
    int opened = 0;
    int open_now = 0;
    int pings = 0;
    /// users.info answers: user id -> (tz, deleted); others are Europe/Berlin, active.
    std::map<std::string, std::pair<std::string, bool>> people;
    /// conversations.members answers: channel id -> members; other channels: channel_not_found.
    std::map<std::string, std::vector<std::string>> members;

    // io thread only.
    std::set<std::string> tickets;
    int next_ticket = 0;
    /// Guards `last_ts_us` and `posted` (the io thread posts, add_message writes from outside).
    mutable std::mutex posted_mutex;
    std::uint64_t last_ts_us = 0; ///< the last ts handed out, in microseconds
    /// What was posted (chat.postMessage, add_message), oldest first, for conversations.history
    /// and conversations.replies.
    struct posted_message {
        std::string channel;
        std::string ts;
        std::string thread_ts;
        std::string text;
        std::string metadata; ///< JSON text as posted; empty without
    };
    std::vector<posted_message> posted;
    std::vector<std::shared_ptr<ws_conn_base>> conns;

    // Declared after the state and the TLS context, so destroyed before them: ~io_context
    // destroys the coroutine frames still suspended, and with them the last streams.
    net::io_context ioc;
    net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
    tcp::acceptor acceptor{ioc};
    std::thread thread;

    std::string scheme(bool websocket) const {
        if (ssl_ctx)
            return websocket ? "wss" : "https";
        return websocket ? "ws" : "http";
    }

    /// Runs `f` under the state lock and wakes every waiter.
    template <class F>
    void change(F&& f) {
        {
            std::lock_guard lock(mutex);
            f();
            ++generation;
        }
        changed.notify_all();
    }

    /// The connection a command addresses: 1-based, or 0 = the newest one still open.
    ws_conn_base* find(int connection) {
        if (connection > 0)
            return connection <= static_cast<int>(conns.size()) ? conns[connection - 1].get()
                                                                : nullptr;
        for (auto it = conns.rbegin(); it != conns.rend(); ++it)
            if ((*it)->open)
                return it->get();
        return nullptr;
    }

    // ---- accepting -------------------------------------------------------------------------

    net::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
            if (ec) {
                if (!acceptor.is_open())
                    co_return;
                continue;
            }
            net::co_spawn(ioc, serve(std::move(socket)), net::detached);
        }
    }

    net::awaitable<void> serve(tcp::socket socket) {
        gated_stream stream(beast::tcp_stream(std::move(socket)));
        if (!ssl_ctx) {
            co_await run_http(std::move(stream));
            co_return;
        }
        beast::ssl_stream<gated_stream> tls(std::move(stream), *ssl_ctx);
        beast::get_lowest_layer(tls).expires_after(std::chrono::seconds(10));
        auto [ec] = co_await tls.async_handshake(ssl::stream_base::server, use_nothrow);
        if (ec)
            co_return;
        beast::get_lowest_layer(tls).expires_never();
        co_await run_http(std::move(tls));
    }

    // ---- HTTP ------------------------------------------------------------------------------

    /// HTTP/1.1 with keep-alive until the peer closes, asks to close, or upgrades.
    template <class Stream>
    net::awaitable<void> run_http(Stream stream) {
        beast::flat_buffer buffer;
        for (;;) {
            http::request<http::string_body> req;
            auto [ec, n] = co_await http::async_read(stream, buffer, req, use_nothrow);
            if (ec)
                break;
            if (websocket::is_upgrade(req)) {
                if (take_ticket(req.target())) {
                    co_await run_websocket(std::move(stream), std::move(req));
                    co_return;
                }
                // An unknown or used ticket: refused before any upgrade.
                reply r{403, R"({"ok":false,"error":"invalid_ticket"})"};
                auto res = make_response(req, r);
                res.keep_alive(false);
                co_await http::async_write(stream, res, use_nothrow);
                break;
            }
            reply r = handle(req);
            if (r.delay.count() > 0) {
                net::steady_timer timer(ioc, r.delay);
                co_await timer.async_wait(use_nothrow);
            }
            auto res = make_response(req, r);
            auto [wec, wn] = co_await http::async_write(stream, res, use_nothrow);
            if (wec || !res.keep_alive())
                break;
        }
        beast::error_code ec;
        beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
    }

    static http::response<http::string_body>
    make_response(const http::request<http::string_body>& req, const reply& r) {
        http::response<http::string_body> res;
        res.version(req.version());
        res.result(r.status);
        res.set(http::field::server, "fake-slack");
        res.set(http::field::content_type, r.content_type);
        if (r.retry_after > 0)
            res.set(http::field::retry_after, std::to_string(r.retry_after));
        res.keep_alive(req.keep_alive());
        res.body() = r.body;
        res.prepare_payload();
        return res;
    }

    bool take_ticket(std::string_view target) {
        auto path = target.substr(0, target.find('?'));
        if (path != "/link/" && path != "/link")
            return false;
        return tickets.erase(query_param(target, "ticket")) == 1;
    }

    /// Records the call, then answers: a scripted reply if one is queued, else Slack's answer.
    reply handle(const http::request<http::string_body>& req) {
        std::string_view target = req.target();
        auto path = target.substr(0, target.find('?'));
        api_call call;
        if (path.starts_with("/api/"))
            call.method = std::string(path.substr(5));
        else if (req.method() == http::verb::post)
            call.method = "response_url";
        else
            return reply{404, R"({"ok":false,"error":"not_found"})"};
        call.authorization = std::string(req[http::field::authorization]);
        call.content_type = std::string(req[http::field::content_type]);
        call.body = req.body();
        call.at = clock_type::now();
        if (auto q = target.find('?'); q != std::string_view::npos)
            parse_form(target.substr(q + 1), call.params);
        if (starts_with_ci(call.content_type, "application/json"))
            parse_json_fields(call.body, call.params);
        else
            parse_form(call.body, call.params);

        std::optional<scripted_reply> scripted;
        change([&] {
            call_index[call.method].push_back(calls.size());
            calls.push_back(call);
            auto it = scripts.find(call.method);
            if (it != scripts.end() && !it->second.empty()) {
                scripted = std::move(it->second.front());
                it->second.pop_front();
            }
        });
        if (scripted) {
            if (scripted->perform)
                answer(call); // done as Slack does it; only its answer is the scripted one
            if (!scripted->body.empty() || scripted->status != 200) {
                reply r{static_cast<unsigned>(scripted->status), scripted->body,
                        scripted->retry_after, scripted->delay};
                if (r.body.empty() && r.status == 429)
                    r.body = R"({"ok":false,"error":"ratelimited"})";
                return r;
            }
            reply r = answer(call);
            r.delay = scripted->delay;
            r.retry_after = scripted->retry_after;
            return r;
        }
        return answer(call);
    }

    /// Slack's message ts: the wall clock's seconds and microseconds, each one later than the
    /// one before.
    std::string next_ts() {
        auto now_us =
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
        std::lock_guard lock(posted_mutex);
        last_ts_us = std::max(now_us, last_ts_us + 1);
        char buf[40];
        std::snprintf(buf, sizeof buf, "%llu.%06llu",
                      static_cast<unsigned long long>(last_ts_us / 1000000),
                      static_cast<unsigned long long>(last_ts_us % 1000000));
        return buf;
    }

    void remember(std::string channel, std::string ts, std::string thread_ts, std::string text,
                  std::string metadata) {
        std::lock_guard lock(posted_mutex);
        posted.push_back({std::move(channel), std::move(ts), std::move(thread_ts), std::move(text),
                          std::move(metadata)});
    }

    /// Whether (channel, ts) is a message the bot posted (or one put into the history).
    bool was_posted(const std::string& channel, const std::string& ts) {
        std::lock_guard lock(posted_mutex);
        return std::any_of(posted.begin(), posted.end(),
                           [&](const auto& m) { return m.channel == channel && m.ts == ts; });
    }

    /// conversations.history (top-level messages, newest first) or conversations.replies (a
    /// thread, oldest first), after `oldest`, in pages of `limit` with an "offset=N" cursor;
    /// metadata only with include_all_metadata.
    reply history(const std::function<std::string(const char*)>& param, bool replies) {
        auto channel = param("channel");
        if (channel.empty())
            return error("channel_not_found");
        auto thread_ts = param("ts");
        if (replies && thread_ts.empty())
            return error("thread_not_found");
        double oldest = 0;
        if (auto o = param("oldest"); !o.empty())
            oldest = std::stod(o);
        auto with_metadata = param("include_all_metadata");
        bool metadata = with_metadata == "true" || with_metadata == "1";
        std::lock_guard lock(posted_mutex);
        std::vector<const posted_message*> found;
        for (const auto& m : posted) {
            if (m.channel != channel || std::stod(m.ts) <= oldest)
                continue;
            bool top = m.thread_ts.empty() || m.thread_ts == m.ts;
            if (replies ? (m.ts == thread_ts || m.thread_ts == thread_ts) : top)
                found.push_back(&m);
        }
        if (!replies)
            std::reverse(found.begin(), found.end());
        std::size_t limit = 100;
        if (auto l = param("limit"); !l.empty())
            limit = std::clamp<std::size_t>(std::stoul(l), 1, 1000);
        std::size_t from = 0;
        if (auto c = param("cursor"); !c.empty())
            from = std::stoul(c.substr(c.find('=') + 1));
        json::array list;
        for (std::size_t i = from; i < found.size() && i < from + limit; ++i) {
            const auto& m = *found[i];
            json::object msg{{"type", "message"},
                             {"user", opts.bot_user_id},
                             {"bot_id", "BBOT"},
                             {"text", m.text},
                             {"ts", m.ts}};
            if (!m.thread_ts.empty())
                msg["thread_ts"] = m.thread_ts;
            if (metadata && !m.metadata.empty())
                msg["metadata"] = json::parse(m.metadata);
            list.push_back(std::move(msg));
        }
        bool more = from + limit < found.size();
        std::string next = more ? "offset=" + std::to_string(from + limit) : "";
        return ok({{"messages", list},
                   {"has_more", more},
                   {"response_metadata", {{"next_cursor", next}}}});
    }

    static reply ok(json::object o) {
        json::object out{{"ok", true}};
        for (auto& [k, v] : o)
            out[k] = std::move(v);
        return reply{200, json::serialize(out)};
    }

    static reply error(const char* code) {
        return reply{200, json::serialize(json::object{{"ok", false}, {"error", code}})};
    }

    /// Slack's normal answers (reference §1.2, §6.2): HTTP 200 with ok true or false.
    reply answer(const api_call& call) {
        const auto& m = call.method;
        auto param = [&](const char* name) {
            auto it = call.params.find(name);
            return it == call.params.end() ? std::string{} : it->second;
        };
        if (m == "response_url")
            return reply{200, "ok", 0, {}, "text/plain"};
        if (m == "apps.connections.open") {
            if (call.authorization != "Bearer " + opts.app_token)
                return error("invalid_auth");
            auto ticket = std::to_string(++next_ticket);
            tickets.insert(ticket);
            return ok({{"url", scheme(true) + "://127.0.0.1:" + std::to_string(port) +
                                   "/link/?ticket=" + ticket + "&app_id=" + app_id}});
        }
        static const std::set<std::string> bot_methods{
            "chat.postMessage",      "chat.postEphemeral",   "chat.update",
            "conversations.open",    "users.info",           "auth.test",
            "views.publish",         "views.open",           "conversations.members",
            "conversations.history", "conversations.replies"};
        if (!bot_methods.contains(m))
            return error("unknown_method");
        if (call.authorization != "Bearer " + opts.bot_token)
            return error("not_authed");
        if (m == "chat.postMessage" || m == "chat.postEphemeral" || m == "chat.update") {
            auto channel = param("channel");
            // chat.update needs the D… id for DMs, not the user id (reference §6.2, §10.9).
            if (channel.empty() || (m == "chat.update" && (channel[0] == 'U' || channel[0] == 'W')))
                return error("channel_not_found");
            if (m == "chat.postEphemeral")
                return ok({{"message_ts", next_ts()}});
            // chat.update replaces a message that exists (reference §6.2 message_not_found).
            if (m == "chat.update" && !was_posted(channel, param("ts")))
                return error("message_not_found");
            auto ts = m == "chat.update" ? param("ts") : next_ts();
            if (m == "chat.postMessage")
                remember(channel, ts, param("thread_ts"), param("text"), param("metadata"));
            return ok({{"channel", channel},
                       {"ts", ts},
                       {"message",
                        {{"type", "message"},
                         {"text", param("text")},
                         {"user", opts.bot_user_id},
                         {"bot_id", "BBOT"},
                         {"ts", ts}}}});
        }
        if (m == "conversations.open") {
            auto users = param("users");
            users = users.substr(0, users.find(','));
            if (users.empty())
                return error("users_list_not_supplied");
            return ok({{"channel", {{"id", "D" + users.substr(1)}}}});
        }
        if (m == "users.info") {
            // "This method does not currently accept application/json." (reference §6.1)
            if (starts_with_ci(call.content_type, "application/json"))
                return error("invalid_arguments");
            auto user = param("user");
            if (user.empty())
                return error("user_not_found");
            std::pair<std::string, bool> who{"Europe/Berlin", false};
            {
                std::lock_guard lock(mutex);
                if (auto it = people.find(user); it != people.end())
                    who = it->second;
            }
            return ok({{"user",
                        {{"id", user},
                         {"tz", who.first},
                         {"is_admin", false},
                         {"is_owner", false},
                         {"deleted", who.second}}}});
        }
        if (m == "conversations.history" || m == "conversations.replies") {
            // Form fields only, like users.info (reference §6.1).
            if (starts_with_ci(call.content_type, "application/json"))
                return error("invalid_arguments");
            return history(param, m == "conversations.replies");
        }
        if (m == "conversations.members") {
            // Form body; pages of `limit` (at most 2 here, so paging is exercised) with a
            // cursor, as Slack pages (reference §6.2).
            std::vector<std::string> all;
            {
                std::lock_guard lock(mutex);
                auto it = members.find(param("channel"));
                if (it == members.end())
                    return error("channel_not_found");
                all = it->second;
            }
            std::size_t from = 0;
            if (auto c = param("cursor"); !c.empty())
                from = std::stoul(c.substr(c.find('=') + 1));
            std::size_t page = 2;
            json::array list;
            for (std::size_t i = from; i < all.size() && i < from + page; ++i)
                list.emplace_back(all[i]);
            std::string next =
                from + page < all.size() ? "offset=" + std::to_string(from + page) : "";
            return ok({{"members", list}, {"response_metadata", {{"next_cursor", next}}}});
        }
        if (m == "auth.test")
            return ok({{"user_id", opts.bot_user_id},
                       {"team_id", opts.team_id},
                       {"bot_id", "BBOT"},
                       {"user", "tpmbot"}});
        if (m == "views.open") {
            // A trigger, and a modal with a title; input blocks need a submit button.
            auto view = param("view");
            if (param("trigger_id").empty())
                return error("invalid_trigger_id");
            if (view.find(R"("type":"modal")") == std::string::npos ||
                view.find(R"("title":)") == std::string::npos ||
                (view.find(R"("type":"input")") != std::string::npos &&
                 view.find(R"("submit":)") == std::string::npos))
                return error("invalid_arguments");
            return ok({{"view", {{"id", "VMODAL"}, {"type", "modal"}}}});
        }
        // views.publish: a user and a home view (reference §6.2).
        auto view = param("view");
        if (param("user_id").empty() || view.find(R"("type":"home")") == std::string::npos)
            return error("invalid_arguments");
        return ok({{"view", {{"id", "V" + param("user_id")}, {"type", "home"}}}});
    }

    // ---- WebSocket -------------------------------------------------------------------------

    template <class Stream>
    net::awaitable<void> run_websocket(Stream stream, http::request<http::string_body> req) {
        auto c = std::make_shared<ws_conn<Stream>>(std::move(stream));
        beast::get_lowest_layer(c->ws).expires_never();
        // Only called while a read is pending, i.e. never once the connection is silent.
        c->ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
            if (kind == websocket::frame_type::ping)
                change([this] { ++pings; });
        });
        auto [ec] = co_await c->ws.async_accept(req, use_nothrow);
        if (ec)
            co_return;
        int open_count = 0;
        conns.push_back(c);
        c->index = static_cast<int>(conns.size());
        c->undelivered = [this](std::size_t n) {
            change([&] { undelivered += static_cast<int>(n); });
        };
        change([&] {
            ++opened;
            open_count = ++open_now;
            connection_record r;
            r.index = c->index;
            r.opened_at = clock_type::now();
            if (opts.send_hello)
                r.hello_at = r.opened_at;
            conn_log.push_back(r);
        });
        if (opts.send_hello)
            c->enqueue({out_frame::text, hello(open_count)});
        co_await read_loop(c);
    }

    template <class Stream>
    net::awaitable<void> read_loop(std::shared_ptr<ws_conn<Stream>> c) {
        std::optional<int> close_code;
        for (;;) {
            beast::flat_buffer buffer;
            auto [ec, n] = co_await c->ws.async_read(buffer, use_nothrow);
            if (ec == websocket::error::closed)
                close_code = static_cast<int>(c->ws.reason().code);
            if (ec || c->silent)
                break;
            if (c->ws.got_text())
                on_text(c->index, beast::buffers_to_string(buffer.data()));
        }
        if (c->silent) {
            // Half-open: swallow whatever arrives, unanswered, until the peer goes away.
            std::array<char, 4096> scratch;
            for (;;) {
                auto [ec, n] = co_await beast::get_lowest_layer(c->ws).socket().async_read_some(
                    net::buffer(scratch), use_nothrow);
                if (ec)
                    break;
            }
        }
        c->open = false;
        auto ended = clock_type::now();
        change([&] {
            --open_now;
            conn_log[static_cast<std::size_t>(c->index - 1)].closed_at = ended;
            conn_log[static_cast<std::size_t>(c->index - 1)].close_code = close_code;
        });
    }

    static std::string hello(int num_connections) {
        return json::serialize(json::object{{"type", "hello"},
                                            {"num_connections", num_connections},
                                            {"debug_info",
                                             {{"host", "applink-fake"},
                                              {"build_number", 1},
                                              {"approximate_connection_time", 18060}}},
                                            {"connection_info", {{"app_id", app_id}}}});
    }

    /// A text frame from the client: a JSON object with an envelope_id is an ack (§2.5).
    void on_text(int connection, std::string frame) {
        boost::system::error_code ec;
        auto v = json::parse(frame, ec);
        if (ec || !v.is_object())
            return;
        auto& o = v.as_object();
        auto* id = o.if_contains("envelope_id");
        if (!id || !id->is_string())
            return;
        ack_record a;
        a.envelope_id = std::string(id->as_string());
        if (auto* p = o.if_contains("payload"))
            a.payload = json::serialize(*p);
        a.raw = std::move(frame);
        a.connection = connection;
        auto now = clock_type::now();
        change([&] {
            auto it = sent_at.find(a.envelope_id);
            a.latency_ms =
                it == sent_at.end()
                    ? -1.0
                    : std::chrono::duration<double, std::milli>(now - it->second).count();
            ++conn_log[static_cast<std::size_t>(connection - 1)].acks;
            acks.push_back(std::move(a));
        });
    }

    void post_frame(int connection, out_frame f) {
        net::post(ioc, [this, connection, f = std::move(f)]() mutable {
            if (auto* c = find(connection))
                c->enqueue(std::move(f));
            else
                change([this] { ++undelivered; });
        });
    }

    /// Records that the fake itself began closing connection `c` (io thread).
    void mark_closing(const ws_conn_base& c) {
        if (!c.open)
            return;
        auto now = clock_type::now();
        change([&] {
            auto& r = conn_log[static_cast<std::size_t>(c.index - 1)];
            if (!r.closing_at)
                r.closing_at = now;
        });
    }

    net::awaitable<void> close_later(int index, std::chrono::milliseconds after) {
        net::steady_timer timer(ioc, after);
        co_await timer.async_wait(use_nothrow);
        if (auto* c = find(index)) {
            mark_closing(*c);
            c->enqueue({out_frame::close, {}});
        }
    }
};

fake_slack::fake_slack() : fake_slack(options{}) {}

fake_slack::fake_slack(options o) : impl_(std::make_unique<impl>(std::move(o))) {}

fake_slack::~fake_slack() = default;

std::string fake_slack::api_url() const {
    return impl_->scheme(false) + "://127.0.0.1:" + std::to_string(impl_->port) + "/api/";
}

std::uint16_t fake_slack::port() const {
    return impl_->port;
}

void fake_slack::send(const std::string& frame, int connection) {
    if (auto id = envelope_id_of(frame); !id.empty())
        impl_->change([&] { impl_->sent_at[id] = clock_type::now(); });
    impl_->post_frame(connection, {out_frame::text, frame});
}

void fake_slack::send_binary(const std::string& data, int connection) {
    impl_->post_frame(connection, {out_frame::binary, data});
}

void fake_slack::disconnect(const std::string& reason, int connection,
                            std::chrono::milliseconds close_after) {
    auto frame = json::serialize(json::object{
        {"type", "disconnect"}, {"reason", reason}, {"debug_info", {{"host", "applink-fake"}}}});
    auto* i = impl_.get();
    net::post(i->ioc, [i, connection, close_after, frame = std::move(frame)]() mutable {
        auto* c = i->find(connection);
        if (!c) {
            i->change([i] { ++i->undelivered; });
            return;
        }
        c->enqueue({out_frame::text, std::move(frame)});
        if (close_after.count() >= 0)
            net::co_spawn(i->ioc, i->close_later(c->index, close_after), net::detached);
    });
}

void fake_slack::drop(int connection) {
    auto* i = impl_.get();
    net::post(i->ioc, [i, connection] {
        if (auto* c = i->find(connection)) {
            i->mark_closing(*c);
            c->drop();
        }
    });
}

void fake_slack::go_silent(int connection) {
    auto* i = impl_.get();
    net::post(i->ioc, [i, connection] {
        if (auto* c = i->find(connection))
            c->silence();
    });
}

void fake_slack::script(const std::string& method, scripted_reply reply) {
    impl_->change([&] { impl_->scripts[method].push_back(std::move(reply)); });
}

std::vector<api_call> fake_slack::calls() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->calls;
}

std::vector<api_call> fake_slack::calls(const std::string& method) const {
    return calls(method, 0);
}

std::vector<ack_record> fake_slack::acks() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->acks;
}

std::vector<ack_record> fake_slack::acks(std::size_t from) const {
    std::lock_guard lock(impl_->mutex);
    const auto& all = impl_->acks;
    if (from >= all.size())
        return {};
    return {all.begin() + static_cast<std::ptrdiff_t>(from), all.end()};
}

std::vector<api_call> fake_slack::calls(const std::string& method, std::size_t from) const {
    std::lock_guard lock(impl_->mutex);
    std::vector<api_call> out;
    auto it = impl_->call_index.find(method);
    if (it == impl_->call_index.end() || from >= it->second.size())
        return out;
    out.reserve(it->second.size() - from);
    for (auto k = from; k < it->second.size(); ++k)
        out.push_back(impl_->calls[it->second[k]]);
    return out;
}

std::size_t fake_slack::ack_count() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->acks.size();
}

std::size_t fake_slack::call_count(const std::string& method) const {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->call_index.find(method);
    return it == impl_->call_index.end() ? 0 : it->second.size();
}

std::vector<connection_record> fake_slack::connection_log() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->conn_log;
}

int fake_slack::frames_undelivered() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->undelivered;
}

int fake_slack::connections_opened() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->opened;
}

int fake_slack::connections_open() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->open_now;
}

int fake_slack::pings_received() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->pings;
}

bool fake_slack::wait_for(const std::function<bool()>& pred,
                          std::chrono::milliseconds timeout) const {
    // The predicate usually calls the accessors above, so it runs without the lock; the
    // generation counter makes sure no change between two checks is missed.
    auto deadline = clock_type::now() + timeout;
    std::unique_lock lock(impl_->mutex);
    for (;;) {
        auto seen = impl_->generation;
        lock.unlock();
        if (pred())
            return true;
        lock.lock();
        // Predicates may also look at the bot's own state (its log, its database), which does
        // not notify us: re-check at least every 10 ms, never past the deadline.
        auto until = std::min(deadline, clock_type::now() + std::chrono::milliseconds(10));
        impl_->changed.wait_until(lock, until, [&] { return impl_->generation != seen; });
        if (clock_type::now() >= deadline) {
            lock.unlock();
            return pred();
        }
    }
}

// ---- envelopes (reference §2.4, §4.3), built from the verbatim fixtures ---------------------

namespace {

json::object fixture(const char* text) {
    return json::parse(text).as_object();
}

/// "1605853844.000800" → 1605853844
std::int64_t seconds_of(const std::string& ts) {
    try {
        return std::stoll(ts.substr(0, ts.find('.')));
    } catch (...) {
        return 0;
    }
}

constexpr const char* slash_fixture = R"({
  "envelope_id": "xxx-11-222-yyy-zzz",
  "payload": {
    "token": "fixed-value", "team_id": "T111", "team_domain": "test-test-test",
    "channel_id": "C111", "channel_name": "random", "user_id": "U111",
    "user_name": "test-test-test", "command": "/hi-socket-mode", "text": "",
    "api_app_id": "A111", "response_url": "https://hooks.slack.com/commands/T111/111/xxx",
    "trigger_id": "111.222.xxx"
  },
  "type": "slash_commands",
  "accepts_response_payload": true
})";

constexpr const char* mention_fixture = R"({
  "envelope_id": "xxx-11-222-yyy-zzz",
  "payload": {
    "token": "fixed-value", "team_id": "T111", "api_app_id": "A111",
    "event": {
      "client_msg_id": "1748313e-912c-4942-a562-99754707692c", "type": "app_mention",
      "text": "<@U222> hey", "user": "U111", "ts": "1605853844.000800", "team": "T111",
      "blocks": [{"type": "rich_text", "block_id": "K8xp", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": " hey"}]}]}],
      "channel": "C111", "event_ts": "1605853844.000800"
    },
    "type": "event_callback", "event_id": "Ev01ERKCFKK9", "event_time": 1605853844,
    "authorizations": [{"enterprise_id": null, "team_id": "T111", "user_id": "U222",
                        "is_bot": true, "is_enterprise_install": false}],
    "is_ext_shared_channel": false, "event_context": "1-app_mention-T111-C111"
  },
  "type": "events_api",
  "accepts_response_payload": false,
  "retry_attempt": 0,
  "retry_reason": ""
})";

constexpr const char* dm_fixture = R"({
  "envelope_id": "xxx-11-222-yyy-zzz",
  "payload": {
    "token": "fixed-value", "team_id": "T111", "api_app_id": "A111",
    "event": {
      "type": "message", "channel": "D111", "user": "U111", "text": "",
      "ts": "1605853844.000900", "event_ts": "1605853844.000900", "channel_type": "im"
    },
    "type": "event_callback", "authed_teams": ["T111"], "event_id": "Ev0PV52K21",
    "event_time": 1605853844
  },
  "type": "events_api",
  "accepts_response_payload": false,
  "retry_attempt": 0,
  "retry_reason": ""
})";

// Slack's app_home_opened doc example (the view of an earlier publish trimmed to its ids) in
// an event_callback and an envelope.
constexpr const char* home_fixture = R"({
  "envelope_id": "a4e6c2d0",
  "payload": {
    "token": "one-long-verification-token", "team_id": "T111", "api_app_id": "A111",
    "event": {
      "type": "app_home_opened", "user": "U111", "channel": "D111",
      "event_ts": "1515449522000016", "tab": "home",
      "view": {"id": "V123ABC456", "team_id": "T111", "type": "home", "blocks": [],
               "private_metadata": "", "callback_id": "", "hash": "1231232323.12321312",
               "root_view_id": "V123ABC456", "app_id": "A111", "external_id": "",
               "app_installed_team_id": "T111", "bot_id": "B111"}
    },
    "type": "event_callback", "event_id": "Ev0HOME", "event_time": 1515449522
  },
  "type": "events_api", "accepts_response_payload": false, "retry_attempt": 0,
  "retry_reason": ""
})";

// java MessageShortcutTest's realPayload in python's interactive envelope.
constexpr const char* shortcut_fixture = R"({
  "envelope_id": "c2d4e6f8",
  "payload": {
    "type": "message_action", "token": "legacy-fixed-value", "action_ts": "1583637157.207593",
    "team": {"id": "T111", "domain": "test-test"},
    "user": {"id": "U111", "name": "test-test"},
    "channel": {"id": "C111", "name": "dev"},
    "callback_id": "test-message-action", "trigger_id": "123.123.xxx",
    "message_ts": "1583636382.000300",
    "message": {"client_msg_id": "b64abe86", "type": "message", "text": "<@U234> test",
                "user": "U111", "ts": "1583636382.000300", "team": "T111"},
    "response_url": "https://hooks.slack.com/app/T111/123/yYHNzRxp"
  },
  "type": "interactive", "accepts_response_payload": false
})";

// bolt-python test_view_submission's body in the envelope of Slack's Socket Mode example.
constexpr const char* submission_fixture = R"({
  "envelope_id": "dbdd0ef3",
  "payload": {
    "type": "view_submission",
    "team": {"id": "T111", "domain": "workspace-domain"},
    "user": {"id": "U111", "username": "primary-owner", "name": "primary-owner",
             "team_id": "T111"},
    "api_app_id": "A111", "token": "verification_token", "trigger_id": "111.222.valid",
    "view": {"id": "V111", "team_id": "T111", "type": "modal", "blocks": [],
             "private_metadata": "", "callback_id": "view-id",
             "state": {"values": {}}, "hash": "1596530361.3wRYuk3R",
             "title": {"type": "plain_text", "text": "My App"},
             "clear_on_close": false, "notify_on_close": false,
             "close": {"type": "plain_text", "text": "Cancel"},
             "submit": {"type": "plain_text", "text": "Submit"},
             "previous_view_id": null, "root_view_id": "V111", "app_id": "A111",
             "external_id": "", "app_installed_team_id": "T111", "bot_id": "B111"},
    "response_urls": []
  },
  "type": "interactive", "accepts_response_payload": true
})";

constexpr const char* action_fixture = R"({
  "envelope_id": "xxx-11-222-yyy-zzz",
  "payload": {
    "type": "block_actions",
    "user": {"id": "U111", "username": "test-test-test", "name": "test-test-test",
             "team_id": "T111"},
    "api_app_id": "A111", "token": "fixed-value",
    "container": {"type": "message", "message_ts": "1605853634.000400", "channel_id": "C111",
                  "is_ephemeral": false},
    "trigger_id": "111.222.xxx",
    "team": {"id": "T111", "domain": "test-test-test"},
    "channel": {"id": "C111", "name": "random"},
    "message": {
      "bot_id": "B111", "type": "message", "text": "This content can't be displayed.",
      "user": "U222", "ts": "1605853634.000400", "team": "T111",
      "blocks": [{"type": "actions", "block_id": "b", "elements": [
        {"type": "button", "action_id": "a",
         "text": {"type": "plain_text", "text": "Click Me!", "emoji": true},
         "value": "underlying"}]}]
    },
    "response_url": "https://hooks.slack.com/actions/T111/111/xxx",
    "actions": [{"action_id": "a", "block_id": "b",
                 "text": {"type": "plain_text", "text": "Click Me!", "emoji": true},
                 "value": "underlying", "type": "button", "action_ts": "1605853645.582706"}]
  },
  "type": "interactive",
  "accepts_response_payload": false
})";

} // namespace

std::string fake_slack::slash_envelope(const std::string& envelope_id, const std::string& text,
                                       const std::string& user, const std::string& channel,
                                       const std::string& command) {
    auto e = fixture(slash_fixture);
    e["envelope_id"] = envelope_id;
    auto& p = e["payload"].as_object();
    p["channel_id"] = channel;
    p["user_id"] = user;
    p["command"] = command;
    p["text"] = text;
    return json::serialize(e);
}

std::string fake_slack::mention_envelope(const std::string& envelope_id,
                                         const std::string& event_id, const std::string& text,
                                         const std::string& user, const std::string& channel,
                                         const std::string& ts, const std::string& thread_ts,
                                         int retry_attempt) {
    auto e = fixture(mention_fixture);
    e["envelope_id"] = envelope_id;
    e["retry_attempt"] = retry_attempt;
    e["retry_reason"] = retry_attempt > 0 ? "timeout" : "";
    auto& p = e["payload"].as_object();
    p["event_id"] = event_id;
    p["event_time"] = seconds_of(ts);
    p["event_context"] = "1-app_mention-T111-" + channel;
    // The installing bot is the user mentioned first, as in the fixture ("<@U222> hey").
    if (text.starts_with("<@") && text.find('>') != std::string::npos)
        p["authorizations"].as_array()[0].as_object()["user_id"] =
            text.substr(2, text.find_first_of(">|") - 2);
    auto& ev = p["event"].as_object();
    ev["text"] = text;
    ev["user"] = user;
    ev["channel"] = channel;
    ev["ts"] = ts;
    ev["event_ts"] = ts;
    if (!thread_ts.empty())
        ev["thread_ts"] = thread_ts;
    ev["blocks"].as_array()[0].as_object()["elements"].as_array()[0].as_object()["elements"] =
        json::array{json::object{{"type", "text"}, {"text", text}}};
    return json::serialize(e);
}

std::string fake_slack::home_opened_envelope(const std::string& envelope_id,
                                             const std::string& event_id, const std::string& user,
                                             const std::string& tab) {
    auto e = fixture(home_fixture);
    e["envelope_id"] = envelope_id;
    auto& p = e["payload"].as_object();
    p["event_id"] = event_id;
    auto& ev = p["event"].as_object();
    ev["user"] = user;
    ev["channel"] = "D" + user.substr(1);
    ev["tab"] = tab;
    return json::serialize(e);
}

std::string fake_slack::dm_envelope(const std::string& envelope_id, const std::string& event_id,
                                    const std::string& text, const std::string& user,
                                    const std::string& channel, const std::string& ts,
                                    const std::string& bot_id, const std::string& subtype) {
    auto e = fixture(dm_fixture);
    e["envelope_id"] = envelope_id;
    auto& p = e["payload"].as_object();
    p["event_id"] = event_id;
    p["event_time"] = seconds_of(ts);
    auto& ev = p["event"].as_object();
    ev["channel"] = channel;
    ev["user"] = user;
    ev["text"] = text;
    ev["ts"] = ts;
    ev["event_ts"] = ts;
    if (!bot_id.empty())
        ev["bot_id"] = bot_id;
    if (!subtype.empty())
        ev["subtype"] = subtype;
    return json::serialize(e);
}

void fake_slack::set_person(const std::string& user, const std::string& tz, bool deleted) {
    std::lock_guard lock(impl_->mutex);
    impl_->people[user] = {tz, deleted};
}

void fake_slack::set_members(const std::string& channel, std::vector<std::string> users) {
    std::lock_guard lock(impl_->mutex);
    impl_->members[channel] = std::move(users);
}

std::vector<std::string> fake_slack::posted_metadata() const {
    std::lock_guard lock(impl_->posted_mutex);
    std::vector<std::string> out;
    for (const auto& m : impl_->posted) {
        out.push_back(m.metadata);
    }
    return out;
}

std::string fake_slack::add_message(const std::string& channel, const std::string& text,
                                    const std::string& metadata) {
    auto ts = impl_->next_ts();
    impl_->remember(channel, ts, "", text, metadata);
    return ts;
}

std::string fake_slack::dm_edit_envelope(const std::string& envelope_id,
                                         const std::string& event_id, const std::string& text,
                                         const std::string& user, const std::string& channel,
                                         const std::string& edited_ts,
                                         const std::string& event_ts) {
    auto e = json::parse(dm_envelope(envelope_id, event_id, "", user, channel, event_ts, "",
                                     "message_changed"))
                 .as_object();
    auto& ev = e["payload"].as_object()["event"].as_object();
    ev.erase("user");
    ev.erase("text");
    ev["hidden"] = true;
    ev["message"] = json::object{{"type", "message"},
                                 {"user", user},
                                 {"text", text},
                                 {"edited", {{"user", user}, {"ts", event_ts}}},
                                 {"ts", edited_ts}};
    ev["previous_message"] =
        json::object{{"type", "message"}, {"user", user}, {"text", "(before)"}, {"ts", edited_ts}};
    return json::serialize(e);
}

std::string fake_slack::action_envelope(const std::string& envelope_id, const std::string& value,
                                        const std::string& user, const std::string& channel,
                                        const std::string& message_ts) {
    auto e = fixture(action_fixture);
    e["envelope_id"] = envelope_id;
    auto& p = e["payload"].as_object();
    p["user"].as_object()["id"] = user;
    auto& container = p["container"].as_object();
    container["message_ts"] = message_ts;
    container["channel_id"] = channel;
    p["channel"].as_object()["id"] = channel;
    auto& msg = p["message"].as_object();
    msg["ts"] = message_ts;
    msg["blocks"].as_array()[0].as_object()["elements"].as_array()[0].as_object()["value"] = value;
    p["actions"].as_array()[0].as_object()["value"] = value;
    return json::serialize(e);
}

std::string fake_slack::shortcut_envelope(const std::string& envelope_id,
                                          const std::string& callback_id, const std::string& text,
                                          const std::string& user, const std::string& channel,
                                          const std::string& ts, const std::string& thread_ts) {
    auto e = fixture(shortcut_fixture);
    e["envelope_id"] = envelope_id;
    auto& p = e["payload"].as_object();
    p["callback_id"] = callback_id;
    p["trigger_id"] = "trigger-" + envelope_id;
    p["user"].as_object()["id"] = user;
    p["channel"].as_object()["id"] = channel;
    p["message_ts"] = ts;
    auto& msg = p["message"].as_object();
    msg["text"] = text;
    msg["ts"] = ts;
    if (!thread_ts.empty())
        msg["thread_ts"] = thread_ts;
    return json::serialize(e);
}

std::string fake_slack::submission_envelope(const std::string& envelope_id,
                                            const std::string& callback_id,
                                            const std::string& private_metadata,
                                            const std::map<std::string, std::string>& values,
                                            const std::string& user) {
    auto e = fixture(submission_fixture);
    e["envelope_id"] = envelope_id;
    auto& p = e["payload"].as_object();
    p["user"].as_object()["id"] = user;
    auto& view = p["view"].as_object();
    view["callback_id"] = callback_id;
    view["private_metadata"] = private_metadata;
    // Each input as Slack reports its element: text, a picked user, option or date.
    json::object state;
    for (const auto& [block, value] : values) {
        json::object element;
        if (block == "dri") {
            element = {{"type", "users_select"}, {"selected_user", value}};
        } else if (block == "severity") {
            element = {{"type", "static_select"},
                       {"selected_option",
                        {{"text", {{"type", "plain_text"}, {"text", value}}}, {"value", value}}}};
        } else if (block == "due") {
            element = {{"type", "datepicker"}, {"selected_date", value}};
        } else {
            element = {{"type", "plain_text_input"}};
            if (value.empty())
                element["value"] = nullptr; // left blank
            else
                element["value"] = value;
        }
        state[block] = json::object{{"value", std::move(element)}};
    }
    view["state"] = json::object{{"values", std::move(state)}};
    return json::serialize(e);
}

} // namespace tpmbot::test
