#include "slack_app.hpp"

#include "envelope.hpp"
#include "http_client.hpp"
#include "http_server.hpp"
#include "metrics.hpp"
#include "no_delay.hpp"
#include "open_store.hpp"
#include "signature.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <fmt/format.h>
#include <limits>
#include <malloc.h>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <unistd.h>
#include <unordered_map>

namespace tpmbot {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto nothrow = net::as_tuple(net::use_awaitable);

/// Errors that no retry will fix: a token that is wrong, revoked or for a disabled workspace
/// (reference §1.3). The bot stops with a message instead of looping.
bool is_auth_error(const std::string& e) {
    static const std::set<std::string> errors = {"not_authed",
                                                 "invalid_auth",
                                                 "account_inactive",
                                                 "user_removed_from_team",
                                                 "team_disabled",
                                                 "token_revoked",
                                                 "token_expired",
                                                 "forbidden_team",
                                                 "not_allowed_token_type",
                                                 "missing_scope",
                                                 "invalid_token"};
    return errors.count(e) != 0;
}

/// ok:false answers worth retrying; everything else is the request's fault and is recorded.
bool is_transient_error(const std::string& e) {
    static const std::set<std::string> errors = {
        "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited",
        "invalid_json",   "timeout"};
    return errors.count(e) != 0;
}

/// The outcome of one Web API call.
struct call_result {
    int status = 0;
    slack::api_reply reply;
    milliseconds retry_after{0};
    bool network_error = false;
    std::string detail;

    bool ok() const { return !network_error && status == 200 && reply.ok; }
    bool rate_limited() const { return status == 429 || reply.error == "ratelimited"; }
    bool transient() const {
        return network_error || status >= 500 || rate_limited() ||
               (status == 200 && is_transient_error(reply.error));
    }
    std::string what() const {
        if (network_error) {
            return detail;
        }
        if (status != 200) {
            return fmt::format("HTTP {} {}", status, reply.error);
        }
        return reply.error;
    }
};

/// One Socket Mode connection, shared between its own coroutine and the supervisor.
struct connection {
    int id = 0;
    bool hello = false;   ///< Slack said hello: it may be used
    bool ended = false;   ///< the socket is gone
    bool replace = false; ///< Slack asked for a replacement (disconnect)
    std::string reason;   ///< the disconnect reason, or why we dropped it (hello_timeout)
    /// When the frame being handled was read: an ack's latency is counted from it.
    std::chrono::steady_clock::time_point read_at{};
    int closes_in_flight = 0;
    std::unique_ptr<net::steady_timer> closes_done; ///< woken when a close finishes
    std::function<void(bool graceful)> close;       ///< set while the socket is open
};

/// Work done after the ack, in arrival order: events, and refreshes of stale users.
struct job {
    enum kind_type { process_event, refresh_user } kind = process_event;
    slack::event ev;
    std::string team;
    std::string user;
};

/// The queue a message is delivered in, in order: its conversation. A DM and an answer
/// in the bot's DM with the same person share one, so they arrive in the order written.
std::string delivery_key(const effect& e) {
    switch (e.to) {
    case destination::dm:
        return "dm:" + e.user;
    case destination::home:
        return "home:" + e.user;
    case destination::ephemeral:
        return !e.channel.empty() && e.channel[0] == 'D' ? "dm:" + e.user : "eph:" + e.channel;
    default:
        return e.channel;
    }
}

} // namespace

struct slack_app::impl {
    impl(durable_store& store, dispatcher& disp, slack_settings settings, log_fn logger)
        : db(store), d(disp), s(std::move(settings)), log(std::move(logger)) {
        if (s.api_url.empty() || s.api_url.back() != '/') {
            s.api_url += '/';
        }
        tls = std::make_shared<tls_source>(s.ca_file);
        if (s.api_url.starts_with("https:") || !s.ca_file.empty()) {
            tls->get(); // needed at once: a bad CA file is reported at the start, not later
        }
        conn_http = std::make_unique<http_client>(ioc.get_executor(), tls, s.http_timeout);
        init_metrics();
    }

    durable_store& db;
    dispatcher& d;
    slack_settings s;
    log_fn log;

    net::io_context ioc{1};
    std::shared_ptr<tls_source> tls;
    std::unique_ptr<http_client> conn_http; ///< apps.connections.open and auth.test
    net::steady_timer supervisor_wake{ioc};
    net::steady_timer sender_wake{ioc};
    net::steady_timer jobs_wake{ioc};
    net::steady_timer scheduler_wake{ioc};
    bool scheduler_poked = false; ///< something changed while the scheduler was busy
    std::map<std::string, unix_time> members_read; ///< "team:channel" -> last conversations.members
    std::map<std::string, unix_time>
        lookups_tried; ///< "team:user" -> last users.info for a standup
    std::mt19937 rng{std::random_device{}()};
    int exit_code = 0;
    bool stopping = false;

    std::string bot_user_id;
    std::vector<std::shared_ptr<connection>> conns;
    int next_conn_id = 1;
    int failures = 0;           ///< consecutive failed connection attempts
    bool link_disabled = false; ///< Slack said Socket Mode is off for the app

    std::deque<job> jobs;

    // What stats() reports; written on the io thread, read from any.
    std::atomic<std::uint64_t> frames_committed{0};
    std::atomic<std::uint64_t> group_commits{0};
    std::atomic<std::uint64_t> posts_delivered{0};

    // --- metrics and health (`/metrics`, `/healthz` on the admin address) ----------------

    metrics meters;
    histogram* ack_latency = nullptr;
    double* acks_sent = nullptr;
    double* frames_total = nullptr;
    double* commits_total = nullptr;
    double* delivered_total = nullptr;
    double* firings_total = nullptr;
    double* events_done_total = nullptr;
    std::array<double*, 7> envelope_counts{}; ///< by slack::frame_kind
    /// Why the next connection is opened: "start", Slack's disconnect reason, or what became
    /// of the last one (connection_lost, hello_timeout, connect_failed).
    std::string why_next = "start";
    std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now();
    std::unique_ptr<http_server> admin; ///< declared after ioc: closed before it goes
    std::atomic<unsigned short> admin_bound{0};
    std::unique_ptr<http_server> events_in; ///< HTTP mode's requests
    std::atomic<unsigned short> events_bound{0};

    void init_metrics() {
        meters.describe("tpmbot_envelopes_total", "counter",
                        "Socket Mode frames received, by envelope type.");
        for (auto [kind, name] : {std::pair{slack::frame_kind::hello, "hello"},
                                  {slack::frame_kind::disconnect, "disconnect"},
                                  {slack::frame_kind::events_api, "events_api"},
                                  {slack::frame_kind::slash_commands, "slash_commands"},
                                  {slack::frame_kind::interactive, "interactive"},
                                  {slack::frame_kind::other, "unknown"},
                                  {slack::frame_kind::malformed, "malformed"}}) {
            envelope_counts.at(static_cast<std::size_t>(kind)) =
                &meters.value("tpmbot_envelopes_total", {{"type", name}});
        }
        meters.describe("tpmbot_acks_total", "counter", "Envelope acks written to Slack.");
        meters.describe("tpmbot_ack_latency_seconds", "histogram",
                        "From a frame's read to its ack's write (including the commit before it).");
        ack_latency =
            &meters.hist("tpmbot_ack_latency_seconds",
                         {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
        acks_sent = &meters.value("tpmbot_acks_total");
        meters.describe("tpmbot_frames_committed_total", "counter",
                        "Slash commands, button presses and events committed before their ack.");
        frames_total = &meters.value("tpmbot_frames_committed_total");
        meters.describe("tpmbot_group_commits_total", "counter",
                        "Transactions that committed those frames.");
        commits_total = &meters.value("tpmbot_group_commits_total");
        meters.describe("tpmbot_commit_failures_total", "counter",
                        "Frames that could not be committed, by cause (unwritable: a full disk, a "
                        "read-only or failing database).");
        meters.describe("tpmbot_connections_opened_total", "counter",
                        "Socket Mode connections opened, by why: start, Slack's disconnect reason "
                        "(refresh_requested, warning, too_many_websockets, link_disabled), "
                        "connection_lost, hello_timeout or connect_failed.");
        meters.describe("tpmbot_connections", "gauge", "Socket Mode connections open and greeted.");
        meters.describe("tpmbot_web_api_calls_total", "counter",
                        "Web API calls by method and result (ok, error, rate_limited, http_error, "
                        "network_error).");
        meters.describe("tpmbot_messages_delivered_total", "counter",
                        "Outbox messages Slack accepted.");
        delivered_total = &meters.value("tpmbot_messages_delivered_total");
        meters.describe("tpmbot_messages_failed_total", "counter",
                        "Outbox messages given up: refused by Slack, or failing past every retry.");
        meters.describe("tpmbot_outbox_pending", "gauge",
                        "Messages waiting in the outbox (counted up to 100000).");
        meters.describe("tpmbot_outbox_oldest_age_seconds", "gauge",
                        "Age of the oldest message waiting in the outbox; 0 when none.");
        meters.describe("tpmbot_events_processed_total", "counter",
                        "Events (mentions, DMs) processed after their ack.");
        events_done_total = &meters.value("tpmbot_events_processed_total");
        meters.describe("tpmbot_events_waiting", "gauge", "Events acked and not processed yet.");
        meters.describe("tpmbot_scheduler_firings_total", "counter",
                        "Scheduled firings run: standup prompts, reminders and reports, weekly "
                        "statuses, escalations.");
        firings_total = &meters.value("tpmbot_scheduler_firings_total");
        meters.describe("tpmbot_http_requests_total", "counter",
                        "HTTP-mode requests by path and the status answered (401: a signature "
                        "that is not valid, or too old).");
        meters.describe("tpmbot_database_up", "gauge", "1 when the database answered a read.");
        meters.describe("tpmbot_start_time_seconds", "gauge",
                        "When the process started (Unix time).");
        meters.value("tpmbot_start_time_seconds") = static_cast<double>(
            std::chrono::duration_cast<std::chrono::seconds>(started_at.time_since_epoch())
                .count());
        meters.describe("tpmbot_build_info", "gauge", "The version, as a label.");
        meters.value("tpmbot_build_info", {{"version", TPMBOT_VERSION}}) = 1;
    }

    double& envelopes(slack::frame_kind k) { return *envelope_counts[static_cast<std::size_t>(k)]; }

    /// A reason as a label value: Slack's are short snake_case words; anything else is "other".
    static std::string reason_label(const std::string& r) {
        bool plain = !r.empty() && r.size() <= 40 && std::all_of(r.begin(), r.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9');
        });
        return plain ? r : "other";
    }

    /// Reads the store once: whether it answers, and the oldest pending message's age.
    struct outbox_view {
        bool db_ok = false;
        std::string db_error;
        unix_time oldest_age = 0;
    };
    outbox_view look_at_outbox() {
        outbox_view v;
        try {
            auto rows = db.pending(1);
            v.db_ok = true;
            if (!rows.empty()) {
                v.oldest_age = std::max<unix_time>(now_unix() - rows.front().created_at, 0);
            }
        } catch (const std::exception& e) {
            v.db_error = e.what();
        }
        return v;
    }

    int open_connections() const {
        return static_cast<int>(std::count_if(conns.begin(), conns.end(),
                                              [](const auto& c) { return c->hello && !c->ended; }));
    }

    std::string render_metrics() {
        auto v = look_at_outbox();
        meters.value("tpmbot_connections") = open_connections();
        meters.value("tpmbot_outbox_pending") = static_cast<double>(queued);
        meters.value("tpmbot_outbox_oldest_age_seconds") = static_cast<double>(v.oldest_age);
        meters.value("tpmbot_events_waiting") = static_cast<double>(jobs.size());
        meters.value("tpmbot_database_up") = v.db_ok ? 1 : 0;
        return meters.render();
    }

    /// 200 when a connection to Slack is up and the database answers; 503 otherwise. The body
    /// says which, with the outbox's lag.
    http_answer health() {
        auto v = look_at_outbox();
        int open = open_connections();
        bool serving = events_in != nullptr && !bot_user_id.empty();
        bool ok = (open > 0 || serving) && v.db_ok;
        boost::json::object o;
        o["status"] = ok ? "ok" : "unavailable";
        o["connections"] = open;
        if (!s.http_host.empty()) {
            o["http_mode"] = serving ? "serving" : "not serving";
        }
        o["database"] = v.db_ok ? std::string("ok") : "error: " + v.db_error;
        o["outbox_pending"] = queued;
        o["outbox_oldest_age_seconds"] = v.oldest_age;
        o["events_waiting"] = jobs.size();
        o["uptime_seconds"] = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now() - started_at)
                                  .count();
        return {ok ? 200 : 503, "application/json", boost::json::serialize(o) + "\n", {}};
    }

    net::awaitable<http_answer> admin_request(http_request req) {
        if (req.method != "GET") {
            co_return http_answer{
                405, "text/plain; charset=utf-8", "only GET\n", {{"Allow", "GET"}}};
        }
        if (req.path() == "/healthz") {
            co_return health();
        }
        if (req.path() == "/metrics") {
            co_return http_answer{
                200, "text/plain; version=0.0.4; charset=utf-8", render_metrics(), {}};
        }
        co_return http_answer{404,
                              "text/plain; charset=utf-8",
                              "not found: this address serves /healthz and /metrics\n",
                              {}};
    }

    /// Serves the admin address, when one is set. A failure to listen is logged, not fatal:
    /// the bot's work is Slack's.
    void start_admin() {
        if (s.admin_host.empty()) {
            return;
        }
        try {
            admin = std::make_unique<http_server>(
                ioc.get_executor(), s.admin_host, s.admin_port,
                [this](http_request r) { return admin_request(std::move(r)); },
                http_server_limits{64 * 1024, 16384, milliseconds(10000), 16}, log);
            admin->start();
            admin_bound = admin->port();
            log(fmt::format("tpmbot: serving /healthz and /metrics on {}", admin->address()));
        } catch (const std::exception& e) {
            log.error(fmt::format("tpmbot: no /healthz or /metrics: {}", e.what()));
        }
    }

    std::map<std::string, std::string> dm_channels; ///< user id -> D… channel

    // --- small helpers -------------------------------------------------------------------

    unix_time now_unix() const {
        if (s.clock) {
            return s.clock->now();
        }
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    milliseconds backoff(int n, milliseconds base, milliseconds cap) {
        auto exp = base * (1LL << std::min(n > 0 ? n - 1 : 0, 20));
        auto capped = std::min<milliseconds>(exp, cap);
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        return milliseconds(
            static_cast<long long>(static_cast<double>(capped.count()) * jitter(rng)));
    }

    static void wake(net::steady_timer& t) { t.cancel(); }

    /// Waits until woken or until `until`.
    static net::awaitable<void> wait(net::steady_timer& t, clock_type::time_point until) {
        t.expires_at(until);
        co_await t.async_wait(nothrow);
    }

    net::awaitable<void> sleep(milliseconds duration) {
        net::steady_timer t(ioc);
        t.expires_after(duration);
        co_await t.async_wait(nothrow);
    }

    /// Runs a long-lived loop; if it ever throws, the bot stops with the reason (better than
    /// a bot that looks alive but no longer delivers).
    void spawn(net::awaitable<void> task, std::string name) {
        net::co_spawn(ioc, std::move(task), [this, name](std::exception_ptr e) {
            if (!e) {
                return;
            }
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                fatal(fmt::format("{} failed: {}", name, ex.what()));
            } catch (...) {
                fatal(name + " failed");
            }
        });
    }

    void fatal(const std::string& message) {
        log.error("tpmbot: " + message);
        exit_code = 1;
        stop_now();
    }

    /// Stops taking work and returns from `run`: each Socket Mode connection is closed with a
    /// close frame (1000), and messages being delivered are allowed to finish and be recorded,
    /// so they are not sent again at the next start. Both are bounded: `run` returns after the
    /// HTTP timeout and a second at the latest.
    void stop_now() {
        if (stopping) {
            return;
        }
        stopping = true;
        if (events_in) {
            // A load balancer sends new requests elsewhere; those being answered finish.
            events_in->stop_accepting();
        }
        for (auto& c : conns) {
            if (c->close && !c->ended) {
                c->close(true);
            }
        }
        if (!sender_running) {
            settle();
            flush_marks();
            sender_done = true;
        }
        wake(sender_wake); // it waits for the deliveries in flight, records them, and ends
        net::co_spawn(ioc, close_all(), net::detached);
        auto last_chance = std::make_shared<net::steady_timer>(
            ioc, s.http_timeout + milliseconds(500) + close_wait);
        last_chance->async_wait(
            [this, last_chance](const boost::system::error_code&) { ioc.stop(); });
    }

    /// How long a stop waits for Slack to answer the close frames.
    static constexpr milliseconds close_wait{1000};
    bool sender_running = false; ///< the outbox sender has started
    bool sender_done = false;    ///< ... and, stopping, has recorded its last deliveries
    bool sockets_closed = false; ///< stopping: every connection has ended (or close_wait passed)
    net::steady_timer stop_wake{ioc}; ///< woken when a connection ends

    /// Waits (at most `close_wait`) for every connection to end after its close frame.
    net::awaitable<void> close_all() {
        auto deadline = clock_type::now() + close_wait;
        auto open = [&] {
            return std::any_of(conns.begin(), conns.end(), [](auto& c) { return !c->ended; });
        };
        while (open() && clock_type::now() < deadline) {
            co_await wait(stop_wake, deadline);
        }
        sockets_closed = true;
        finish_if_done();
    }

    void finish_if_done() {
        if (sender_done && sockets_closed) {
            ioc.stop();
        }
    }

    net::awaitable<call_result> call(http_client& http, std::string method, std::string token,
                                     std::string content_type, std::string body) {
        call_result r;
        try {
            auto resp = co_await http.request(s.api_url + method, std::move(content_type),
                                              "Bearer " + token, std::move(body));
            r.status = resp.status;
            r.reply = slack::parse_api_reply(resp.body);
            if (r.rate_limited()) {
                // Retry-After is in seconds (reference §6.1); without one, wait a second.
                long secs = 1;
                try {
                    secs = resp.retry_after.empty() ? 1 : std::stol(resp.retry_after);
                } catch (const std::exception&) {
                }
                r.retry_after = std::chrono::seconds(std::max(1L, secs));
            }
        } catch (const std::exception& e) {
            r.network_error = true;
            r.detail = e.what();
        }
        const char* result = r.ok()             ? "ok"
                             : r.network_error  ? "network_error"
                             : r.rate_limited() ? "rate_limited"
                             : r.status != 200  ? "http_error"
                                                : "error";
        meters.value("tpmbot_web_api_calls_total", {{"method", method}, {"result", result}}) += 1;
        co_return r;
    }

    net::awaitable<call_result> call_json(http_client& http, std::string method, std::string body) {
        co_return co_await call(http, std::move(method), s.bot_token,
                                "application/json; charset=utf-8", std::move(body));
    }

    // --- commands in -------------------------------------------------------------------

    /// Completes a command from Slack with the time and what the store knows of the caller
    /// (zone, admin flag; reference §6.2), without asking Slack. False when the caller must be
    /// looked up first: new to the bot, or last looked up a day ago and `refresh_now`. A stale
    /// caller without `refresh_now` is looked up later by the worker, so an ack never waits
    /// for it.
    bool prepare_known(command& cmd, bool refresh_now) {
        cmd.now = now_unix();
        cmd.user_tz = "UTC";
        auto u = known_user(cmd.team_id, cmd.user_id);
        bool stale = u && cmd.now - u->updated_at > 24 * 3600;
        if (!u || (stale && refresh_now)) {
            return false;
        }
        if (stale && refreshing.insert(cmd.team_id + '\x1f' + cmd.user_id).second) {
            jobs.push_back({job::refresh_user, {}, cmd.team_id, cmd.user_id});
            wake(jobs_wake);
        }
        if (!u->tz.empty()) {
            cmd.user_tz = u->tz;
        }
        return true;
    }

    /// What the store says of the people who sent commands, kept in memory: every frame needs
    /// its caller's zone, and a read of the store on its own costs a lock of the database
    /// file. Written through by `look_up`, the only writer of users; emptied when it grows
    /// past `max_callers`.
    std::unordered_map<std::string, user_row> callers;
    static constexpr std::size_t max_callers = 50000;
    /// Callers whose refresh is queued for the worker: one lookup each, however many
    /// commands they send meanwhile.
    std::set<std::string> refreshing;

    std::optional<user_row> known_user(const std::string& team, const std::string& user) {
        auto key = team + '\x1f' + user;
        if (auto it = callers.find(key); it != callers.end()) {
            return it->second;
        }
        auto u = db.find_user(team, user);
        if (u) {
            remember(*u);
        }
        return u;
    }

    void remember(const user_row& u) {
        if (callers.size() >= max_callers) {
            callers.clear();
        }
        callers[u.team_id + '\x1f' + u.user_id] = u;
    }

    /// `prepare_known`, asking users.info first when needed. A failed lookup leaves UTC and
    /// no Slack admin flag.
    net::awaitable<void> prepare(command& cmd, bool refresh_now) {
        if (prepare_known(cmd, refresh_now)) {
            co_return;
        }
        co_await look_up(cmd.team_id, cmd.user_id);
        if (auto u = known_user(cmd.team_id, cmd.user_id); u && !u->tz.empty()) {
            cmd.user_tz = u->tz;
        }
    }

    /// What a users.info lookup came to.
    struct lookup {
        bool stored = false;       ///< the answer is in the store
        bool rate_limited = false; ///< Slack said to slow down
    };

    /// Asks users.info about a person and stores the answer.
    net::awaitable<lookup> look_up(std::string team, std::string user) {
        // Its own short-lived client: lookups from two connections may overlap; one deadline
        // for the whole request keeps a waiting ack well inside Slack's 3 s.
        http_client http(ioc.get_executor(), tls, std::min(s.http_timeout, milliseconds(1500)));
        // users.info takes a form body, not JSON (reference §6.1).
        auto r = co_await call(http, "users.info", s.bot_token, "application/x-www-form-urlencoded",
                               "user=" + slack::form_escape(user));
        // Slack answers user_not_found for an id that is not (or no longer) in the
        // workspace: recorded as gone, so a standup stops nudging it.
        bool gone = !r.network_error && r.reply.error == "user_not_found";
        if (!r.ok() && !gone) {
            log.warn(fmt::format("tpmbot: users.info for {} failed: {}", user, r.what()));
            co_return lookup{false, r.rate_limited()};
        }
        try {
            user_row u;
            u.team_id = team;
            u.user_id = user;
            u.tz = r.reply.tz;
            u.is_admin = r.reply.is_admin;
            u.updated_at = now_unix();
            u.deleted = r.reply.deleted || gone;
            u.name = r.reply.display_name;
            u.is_bot = r.reply.is_bot;
            db.transact([&] { db.set_user(u); });
            remember(u);
        } catch (const std::exception& e) {
            log.warn(
                fmt::format("tpmbot: could not store what Slack says of {}: {}", user, e.what()));
            co_return lookup{};
        }
        co_return lookup{true, false};
    }

    /// Events stored in the inbox but not queued, since the queue was full.
    bool events_in_store = false;

    /// Queues a stored event for the worker, or leaves it in the store when the queue is full
    /// (memory stays bounded however fast events come).
    void queue_event(slack::event ev) {
        if (jobs.size() >= s.max_queued_events) {
            if (!events_in_store) {
                log.warn(fmt::format("tpmbot: events arrive faster than they are processed; more "
                                     "than {} wait in the database",
                                     s.max_queued_events));
            }
            events_in_store = true;
            return;
        }
        jobs.push_back({job::process_event, std::move(ev), {}, {}});
        wake(jobs_wake);
    }

    /// Queues the stored events not yet processed that were received at or before `until`
    /// (at most a queue's worth); returns how many.
    int queue_stored_events(unix_time until) {
        int queued_now = 0;
        for (auto& row : db.inbox_unprocessed(static_cast<int>(s.max_queued_events))) {
            if (row.received_at > until) {
                continue;
            }
            if (auto ev = slack::parse_event(row.payload)) {
                jobs.push_back({job::process_event, std::move(*ev), {}, {}});
                ++queued_now;
            }
        }
        return queued_now;
    }

    /// Queues the stored events that did not fit, once the worker has caught up.
    void requeue_stored_events() {
        events_in_store = false;
        queue_stored_events(std::numeric_limits<unix_time>::max());
        if (jobs.size() >= s.max_queued_events) {
            events_in_store = true; // there may be more: read again when these are done
        }
    }

    net::awaitable<void> worker() {
        while (!stopping) {
            if (jobs.empty() && events_in_store) {
                try {
                    requeue_stored_events();
                } catch (const std::exception& e) {
                    log.warn(
                        fmt::format("tpmbot: could not read the waiting events: {}", e.what()));
                }
            }
            if (jobs.empty()) {
                co_await wait(jobs_wake, clock_type::now() + lease_length());
                if (jobs.empty() && !stopping) {
                    try {
                        sweep_orphans();
                    } catch (const std::exception& e) {
                        log.warn(
                            fmt::format("tpmbot: could not look for waiting events: {}", e.what()));
                    }
                }
                continue;
            }
            auto j = std::move(jobs.front());
            jobs.pop_front();
            try {
                if (j.kind == job::process_event) {
                    co_await process_event(std::move(j.ev));
                } else {
                    struct done_refreshing {
                        std::set<std::string>& set;
                        std::string key;
                        ~done_refreshing() { set.erase(key); }
                    } guard{refreshing, j.team + '\x1f' + j.user};
                    co_await look_up(j.team, j.user);
                }
            } catch (const std::exception& e) {
                // The event stays in the inbox, unprocessed, and is retried at the next start.
                log.warn(
                    fmt::format("tpmbot: could not process event {}: {}", j.ev.event_id, e.what()));
            }
        }
    }

    /// The outbox lease's length (at least 2 s): also how often an idle worker looks for
    /// orphaned events.
    std::chrono::seconds lease_length() const {
        return std::max(s.outbox_lease, std::chrono::seconds(2));
    }

    /// Events stored and acked but still unprocessed two lease lengths later: their replica
    /// was killed between the ack and the work (a single process finds them at its next
    /// start). Processed here, once (`process_event` checks in its transaction).
    void sweep_orphans() {
        int found = queue_stored_events(now_unix() - 2 * lease_length().count());
        if (found > 0) {
            log.warn(fmt::format("tpmbot: {} event(s) acked long ago are still unprocessed (their "
                                 "replica stopped?); processing them",
                                 found));
        }
    }

    /// Runs an event's command; its inbox row is marked processed in the same transaction.
    net::awaitable<void> process_event(slack::event ev) {
        auto done = [&] {
            db.inbox_done(ev.event_id, now_unix());
        };
        auto cmd = slack::command_of_event(ev, bot_user_id);
        if (!cmd) {
            db.transact(done);
            co_return;
        }
        co_await prepare(*cmd, true);
        handle_options opts;
        opts.in_transaction = done;
        // An event can be queued twice (read back from the store while its first copy waited,
        // or during a lookup above), or reach two replicas: checked inside the transaction that
        // marks it (transactions on one database take turns), so it runs once.
        opts.still_wanted = [&] {
            return !db.inbox_processed(ev.event_id);
        };
        if (d.handle(std::move(*cmd), opts).skipped) {
            co_return;
        }
        *events_done_total += 1;
        wake(sender_wake);
    }

    /// Events persisted by an earlier run but not processed (a crash between ack and work).
    net::awaitable<void> recover_inbox() {
        for (;;) {
            auto rows = db.inbox_unprocessed(500);
            if (rows.empty()) {
                co_return;
            }
            for (const auto& row : rows) {
                auto ev = slack::parse_event(row.payload);
                if (!ev) {
                    log.warn("tpmbot: dropping an unreadable stored event " + row.event_id);
                    db.transact([&] { db.inbox_done(row.event_id, now_unix()); });
                    continue;
                }
                log("tpmbot: processing event " + row.event_id + " left from an earlier run");
                co_await process_event(*ev);
            }
        }
    }

    /// Writes an ack; false when the connection failed under it.
    template <class WS>
    net::awaitable<bool> write_ack(WS& ws, std::string text, clock_type::time_point read_at) {
        ws.text(true);
        auto [ec, n] = co_await ws.async_write(net::buffer(text), nothrow);
        if (ec) {
            log.warn(fmt::format("tpmbot: could not send an ack: {}", ec.message()));
        } else {
            note_answered(read_at);
        }
        co_return !ec;
    }

    // --- group commit --------------------------------------------------------------------

    /// A frame whose work waits for the next group commit. Its ack is written once that
    /// commit is on disk: what Slack sees acked is never lost.
    struct batched {
        enum kind_type { slash, action, event, form } kind = slash;
        std::string envelope_id;
        std::optional<command> cmd;     ///< slash, action
        std::optional<slack::event> ev; ///< event
        std::string payload;            ///< event: as received, for the inbox
        std::string reply;              ///< slash: the caller's answer, carried by the ack
        std::map<std::string, std::string> form_errors; ///< form: refused, shown in the form
        bool stored = false;            ///< committed (an event not stored is not acked)
        bool fresh = false;             ///< event: the first delivery of this event_id
        clock_type::time_point read_at; ///< when its frame was read
    };

    /// The most frames one commit takes: bounds the memory a burst can take and the wait of
    /// the first frame of a batch.
    static constexpr std::size_t max_batch = 256;

    /// A batched frame's work, inside the caller's transaction.
    void run_batched(batched& b) {
        switch (b.kind) {
        case batched::slash: {
            handle_options opts;
            opts.reply_in_ack = true;
            b.reply = d.handle(*b.cmd, opts).reply;
            break;
        }
        case batched::action:
            d.handle(*b.cmd);
            break;
        case batched::form:
            b.form_errors = d.handle(*b.cmd).form_errors;
            break;
        case batched::event: {
            inbox_row row{b.ev->event_id, b.ev->team_id, b.payload, now_unix()};
            b.fresh = db.inbox_put(row);
            break;
        }
        }
    }

    /// Commits a batch's work in one transaction: one commit, one fsync, for all of it
    /// (and for the outbox's delivery marks waiting to be written). Each command runs in a
    /// savepoint of its own (dispatcher::handle), so one refused or failing command leaves
    /// the others' work in. If the transaction as a whole fails (a full disk, an I/O error),
    /// each frame is tried again alone, so one frame cannot take the others down with it.
    void commit(std::vector<batched>& items) {
        bool unwritable = false; ///< the last failure: the database cannot be written
        try {
            db.transact([&] {
                for (auto& b : items) {
                    run_batched(b);
                }
                write_marks();
            });
            marks_written();
            for (auto& b : items) {
                b.stored = true;
            }
            frames_committed += items.size();
            ++group_commits;
            *frames_total += static_cast<double>(items.size());
            *commits_total += 1;
            return;
        } catch (const std::exception& e) {
            unwritable = store_unwritable(e);
            log.warn(fmt::format("tpmbot: {} frame(s) could not be committed together{}: {}",
                                 items.size(),
                                 unwritable ? " (the database cannot be written)" : "", e.what()));
        }
        for (auto& b : items) {
            b.reply.clear(); // from the rolled-back attempt
            b.form_errors.clear();
            b.fresh = false;
            if (items.size() > 1) { // alone, it has just failed
                try {
                    db.transact([&] { run_batched(b); });
                    b.stored = true;
                    ++frames_committed;
                    ++group_commits;
                    *frames_total += 1;
                    *commits_total += 1;
                } catch (const std::exception& e) {
                    unwritable = store_unwritable(e);
                    log.warn(fmt::format("tpmbot: a frame alone could not be committed either: {}",
                                         e.what()));
                }
            }
            if (!b.stored) {
                meters.value("tpmbot_commit_failures_total",
                             {{"cause", unwritable ? "unwritable" : "other"}}) += 1;
            }
            if (!b.stored && b.kind != batched::event) {
                // Still acked, with what happened: an unacked command shows the person a
                // timeout (§2.6), and Slack never sends a slash command again.
                b.reply = unwritable
                              ? ":warning: tpmbot could not save this: its database cannot be "
                                "written right now (a full disk or a read-only file), so nothing "
                                "was changed. Please try again in a few minutes."
                              : ":warning: Something went wrong on tpmbot's side, so nothing was "
                                "changed. Please try again.";
                if (b.kind == batched::form) { // a form shows it beside its first field
                    b.form_errors = {{std::string(form_general_field), b.reply}};
                }
            }
        }
    }

    /// A form's ack: nothing when it was taken (Slack closes the form), else its errors, shown
    /// beside the fields.
    static std::string form_ack(const batched& b) {
        return b.form_errors.empty() ? slack::ack(b.envelope_id)
                                     : slack::ack_with_form_errors(b.envelope_id, b.form_errors);
    }

    /// The command of a slash command, a form's submission or a button press (Socket Mode's
    /// payload or HTTP mode's body); none, logged, when it cannot be read.
    std::optional<command> read_command(bool slash, bool submission, std::string_view payload) {
        try {
            return slash        ? slack::command_of_slash(payload)
                   : submission ? slack::command_of_submission(payload)
                                : slack::command_of_action(payload);
        } catch (const std::exception& e) {
            log.warn(fmt::format("tpmbot: could not read a {}: {}",
                                 slash        ? "slash command"
                                 : submission ? "form submission"
                                              : "button press",
                                 e.what()));
            return std::nullopt;
        }
    }

    /// A message shortcut: opens its form at once (the trigger expires 3 seconds after the
    /// person used it, and lives on Slack's side: nothing is stored). When Slack refuses, the
    /// person is told, ephemerally, what to do instead.
    void open_shortcut(const std::string& payload) {
        auto sc = slack::parse_message_action(payload);
        if (!sc) {
            log.warn("tpmbot: a message shortcut without user, team, channel or message was "
                     "acked and ignored");
            return;
        }
        auto f = shortcut_form(sc->callback_id, sc->message);
        if (!f) {
            log.warn(fmt::format("tpmbot: a message shortcut with an unknown callback id '{}' "
                                 "was acked and ignored (is the manifest current?)",
                                 sc->callback_id));
            return;
        }
        net::co_spawn(ioc, show_form(std::move(*sc), std::move(*f)), net::detached);
    }

    net::awaitable<void> show_form(slack::shortcut sc, form f) {
        // Its own connection: the sender's may all be busy, and the trigger does not wait.
        http_client http(ioc.get_executor(), tls, s.http_timeout);
        auto body = slack::open_view_body(f, sc.trigger_id);
        auto r = co_await call_json(http, "views.open", std::move(body));
        if (r.ok()) {
            co_return;
        }
        auto why = r.network_error ? r.detail : r.reply.error;
        log.warn(fmt::format("tpmbot: could not open the form of shortcut {} for {}: {}",
                             sc.callback_id, sc.user_id, why));
        command cmd;
        cmd.team_id = sc.team_id;
        cmd.user_id = sc.user_id;
        cmd.channel_id = sc.message.channel;
        context ctx(db, cmd);
        ctx.reply(fmt::format(
            ":warning: I could not open the form ({}). Please use the shortcut again, or type "
            "the command instead, e.g. `/tpm {} <text>`.",
            why, sc.callback_id == log_decision_form ? "decision" : "blocker"));
        try {
            db.transact([&] { db.enqueue(cmd.team_id, ctx.out.front(), now_unix()); });
            wake(sender_wake);
        } catch (const std::exception& e) {
            log.warn(fmt::format("tpmbot: could not queue that answer: {}", e.what()));
        }
    }

    /// Commits what `batch` holds, then acks each frame on `ws`; `batch` is empty after.
    template <class WS>
    net::awaitable<void> commit_and_ack(WS& ws, std::vector<batched>& batch) {
        if (batch.empty()) {
            co_return;
        }
        auto items = std::move(batch);
        batch.clear();
        commit(items);
        std::vector<std::pair<std::string, effect>> lost_replies; ///< (team, reply)
        for (auto& b : items) {
            if (b.kind == batched::event && !b.stored) {
                log.warn(fmt::format("tpmbot: could not store event {}; not acking it so Slack "
                                     "retries",
                                     b.ev->event_id));
                continue;
            }
            // A named local, not a temporary inside the co_await expression (GCC 12).
            auto frame = b.kind == batched::form ? form_ack(b)
                         : b.reply.empty()       ? slack::ack(b.envelope_id)
                                                 : slack::ack_with_text(b.envelope_id, b.reply);
            bool acked = co_await write_ack(ws, std::move(frame), b.read_at);
            if (b.kind == batched::event) {
                if (acked && s.kill_after_event_ack) {
                    ::raise(SIGKILL);
                }
                if (b.fresh) {
                    // Processed by the worker, so the next frame (maybe a slash command
                    // waiting for its ack) is not held up by this event's work (§2.11).
                    queue_event(std::move(*b.ev));
                }
            } else if (!acked && b.stored && !b.reply.empty() && b.kind != batched::form) {
                // The command is committed but its answer rode on the lost ack: send it the
                // other way, so the person still sees it.
                context ctx(db, *b.cmd);
                ctx.reply(b.reply);
                lost_replies.emplace_back(b.cmd->team_id, std::move(ctx.out.front()));
            }
        }
        if (!lost_replies.empty()) {
            try {
                db.transact([&] {
                    for (const auto& [team, e] : lost_replies) {
                        db.enqueue(team, e, now_unix());
                    }
                });
            } catch (const std::exception& e) {
                log.warn(fmt::format("tpmbot: could not queue {} lost replies: {}",
                                     lost_replies.size(), e.what()));
            }
        }
        wake(sender_wake);
    }

    /// Bytes that have arrived on the connection and are not read yet: while there are, the
    /// next frame joins the current batch.
    template <class WS>
    static std::size_t bytes_waiting(WS& ws) {
        boost::system::error_code ec;
        auto n = beast::get_lowest_layer(ws).socket().available(ec);
        return ec ? 0 : n;
    }

    template <class WS>
    net::awaitable<void> on_frame(std::shared_ptr<connection> c, WS& ws, std::string text,
                                  std::vector<batched>& batch) {
        auto f = slack::parse_frame(text);
        envelopes(f.kind) += 1;
        switch (f.kind) {
        case slack::frame_kind::hello:
            c->hello = true;
            failures = 0;
            link_disabled = false;
            log(fmt::format("tpmbot: connected to Slack (connection {})", c->id));
            wake(supervisor_wake);
            break;
        case slack::frame_kind::disconnect:
            log(fmt::format("tpmbot: Slack asked connection {} to disconnect: {}", c->id,
                            f.reason));
            c->reason = f.reason;
            c->replace = true;
            why_next = reason_label(f.reason);
            if (f.reason == "too_many_websockets" || f.reason == "link_disabled") {
                // Close this one now; for link_disabled retry only rarely (§2.3).
                link_disabled = f.reason == "link_disabled";
                if (f.reason == "too_many_websockets") {
                    ++failures; // reconnect only after a backoff (§2.3)
                }
                if (c->close) {
                    c->close(true);
                }
            }
            wake(supervisor_wake);
            break;
        case slack::frame_kind::slash_commands:
        case slack::frame_kind::interactive: {
            bool slash = f.kind == slack::frame_kind::slash_commands;
            auto type = slash ? std::string() : slack::interactive_type(f.payload);
            if (type == "message_action") {
                co_await write_ack(ws, slack::ack(f.envelope_id), c->read_at);
                open_shortcut(f.payload);
                break;
            }
            bool submission = type == "view_submission";
            auto cmd = read_command(slash, submission, f.payload);
            if (!cmd) {
                if (slash) {
                    log("tpmbot: a slash command without user, team or command was acked and "
                        "ignored");
                }
                co_await write_ack(ws, slack::ack(f.envelope_id), c->read_at);
                break;
            }
            if (!prepare_known(*cmd, false)) {
                // A person new to the bot: users.info first. What is already read is
                // committed and acked before that wait.
                co_await commit_and_ack(ws, batch);
                co_await prepare(*cmd, false);
            }
            batched b;
            b.kind = slash ? batched::slash : submission ? batched::form : batched::action;
            b.read_at = c->read_at;
            b.envelope_id = std::move(f.envelope_id);
            b.cmd = std::move(cmd);
            batch.push_back(std::move(b));
            break;
        }
        case slack::frame_kind::events_api: {
            auto ev = slack::parse_event(f.payload);
            if (!ev) {
                log("tpmbot: an events_api envelope without a readable event was acked");
                co_await write_ack(ws, slack::ack(f.envelope_id), c->read_at);
                break;
            }
            // Persisted before the ack (in the group commit), so an acked event survives a
            // crash; the event_id de-duplicates Slack's retries and overlapping connections
            // (§2.7, §4.6). Its command runs later, in the worker.
            batched b;
            b.kind = batched::event;
            b.read_at = c->read_at;
            b.envelope_id = std::move(f.envelope_id);
            b.ev = std::move(ev);
            b.payload = std::move(f.payload);
            batch.push_back(std::move(b));
            break;
        }
        case slack::frame_kind::other:
            if (!f.envelope_id.empty()) {
                co_await write_ack(ws, slack::ack(f.envelope_id), c->read_at);
            }
            log(fmt::format("tpmbot: ignored a frame of unknown type '{}'", f.type));
            break;
        case slack::frame_kind::malformed:
            log.warn(fmt::format("tpmbot: ignored a malformed frame: {}", f.error));
            // Ack every envelope, even one we cannot read, or Slack redelivers it (§2.5).
            if (!f.envelope_id.empty()) {
                co_await write_ack(ws, slack::ack(f.envelope_id), c->read_at);
            }
            break;
        }
    }

    // --- HTTP mode -----------------------------------------------------------------------

    /// Commits one HTTP-mode request's work on its own (one transaction) and says whether it
    /// is stored.
    bool commit_one(batched& b) {
        std::vector<batched> one;
        one.push_back(std::move(b));
        commit(one);
        b = std::move(one.front());
        return b.stored;
    }

    static http_answer plain(int status, std::string text) {
        return {status, "text/plain; charset=utf-8", std::move(text), {}};
    }

    /// A request Slack sent to HTTP mode's address (reference §8): checked against the signing
    /// secret first, then handled as its Socket Mode twin is, with the HTTP answer in place of
    /// the ack: committed before it is answered, an event stored and processed after.
    net::awaitable<http_answer> slack_request(http_request req) {
        auto read_at = clock_type::now();
        std::string path(req.path());
        bool known =
            path == "/slack/events" || path == "/slack/commands" || path == "/slack/interactivity";
        auto answer = co_await answer_slack(std::move(req), path, known, read_at);
        meters.value("tpmbot_http_requests_total", {{"path", known ? path : "other"},
                                                    {"status", std::to_string(answer.status)}}) +=
            1;
        co_return answer;
    }

    net::awaitable<http_answer> answer_slack(http_request req, const std::string& path, bool known,
                                             clock_type::time_point read_at) {
        if (!known) {
            co_return plain(404, "not found: Slack's requests go to /slack/events, "
                                 "/slack/commands and /slack/interactivity\n");
        }
        if (req.method != "POST") {
            auto a = plain(405, "only POST\n");
            a.headers.emplace_back("Allow", "POST");
            co_return a;
        }
        auto check = slack::verify(s.signing_secret, req.header("x-slack-request-timestamp"),
                                   req.body, req.header("x-slack-signature"), wall_clock_now());
        if (check != slack::signature_check::valid) {
            log.warn(
                fmt::format("tpmbot: refused a request to {}: {}", path, slack::describe(check)));
            co_return plain(401, "the request's signature is not valid\n");
        }
        if (path == "/slack/events") {
            if (auto challenge = slack::url_verification_challenge(req.body)) {
                co_return http_answer{
                    200, "application/json", slack::challenge_body(*challenge), {}};
            }
            auto ev = slack::parse_event(req.body);
            if (!ev) {
                // Answered, as an unreadable envelope is acked: Slack would only send it again.
                log.warn("tpmbot: an events request without a readable event was answered and "
                         "ignored");
                co_return plain(200, "");
            }
            batched b;
            b.kind = batched::event;
            b.read_at = read_at;
            b.ev = std::move(ev);
            b.payload = std::move(req.body);
            if (!commit_one(b)) {
                log.warn(fmt::format("tpmbot: could not store event {}; answering 503 so Slack "
                                     "retries",
                                     b.ev->event_id));
                co_return plain(503, "could not store the event; please retry\n");
            }
            note_answered(read_at);
            if (b.fresh) {
                queue_event(std::move(*b.ev));
            }
            co_return plain(200, "");
        }
        auto form = slack::parse_form(req.body);
        if (!form) {
            co_return plain(400, "the body is not a valid form\n");
        }
        bool slash = path == "/slack/commands";
        bool submission = false;
        std::optional<command> cmd;
        if (slash) {
            cmd = read_command(true, false, slack::form_as_json(*form));
        } else if (auto payload = form->find("payload"); payload != form->end()) {
            auto type = slack::interactive_type(payload->second);
            if (type == "message_action") {
                open_shortcut(payload->second);
                note_answered(read_at);
                co_return plain(200, "");
            }
            submission = type == "view_submission";
            cmd = read_command(false, submission, payload->second);
        }
        if (!cmd) {
            if (slash) {
                log.warn("tpmbot: a slash command without user, team or command was answered "
                         "and ignored");
            }
            co_return plain(200, "");
        }
        if (!prepare_known(*cmd, false)) {
            co_await prepare(*cmd, false);
        }
        batched b;
        b.kind = slash ? batched::slash : submission ? batched::form : batched::action;
        b.read_at = read_at;
        b.cmd = std::move(cmd);
        commit_one(b); // a command not stored is answered with what happened (see commit)
        note_answered(read_at);
        wake(sender_wake);
        if (submission) {
            // An empty 200 closes the form; errors keep it open (reference: response_action).
            if (b.form_errors.empty()) {
                co_return plain(200, "");
            }
            co_return http_answer{
                200, "application/json", slack::form_errors_body(b.form_errors), {}};
        }
        if (b.reply.empty()) {
            co_return plain(200, "");
        }
        co_return http_answer{200, "application/json", slack::reply_body(b.reply), {}};
    }

    /// An ack written, or an HTTP-mode answer, for the metrics.
    void note_answered(clock_type::time_point read_at) {
        *acks_sent += 1;
        ack_latency->observe(std::chrono::duration<double>(clock_type::now() - read_at).count());
    }

    /// The signature's timestamps are Slack's wall clock, whatever clock the bot runs on.
    static unix_time wall_clock_now() {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    /// Serves HTTP mode's address once signed in. A failure to listen ends the bot when it has
    /// no Socket Mode to fall back on.
    void start_http_events() {
        if (s.http_host.empty()) {
            return;
        }
        try {
            http_server_limits limits;
            limits.max_body = s.max_request_bytes;
            limits.max_connections = 256;
            events_in = std::make_unique<http_server>(
                ioc.get_executor(), s.http_host, s.http_port,
                [this](http_request r) { return slack_request(std::move(r)); }, limits, log);
            events_in->start();
            events_bound = events_in->port();
            log(fmt::format("tpmbot: taking Slack's requests on {} (/slack/commands, "
                            "/slack/events, /slack/interactivity)",
                            events_in->address()));
        } catch (const std::exception& e) {
            if (s.app_token.empty()) {
                fatal(fmt::format("HTTP mode cannot start: {}", e.what()));
            } else {
                log.error(fmt::format("tpmbot: no HTTP mode: {}", e.what()));
            }
        }
    }

    // --- Socket Mode ---------------------------------------------------------------------

    template <class WS>
    static net::awaitable<void> close_socket(WS& ws, std::shared_ptr<connection> c) {
        co_await ws.async_close(websocket::close_code::normal, nothrow);
        --c->closes_in_flight;
        c->closes_done->cancel();
    }

    template <class WS>
    net::awaitable<void> session(std::shared_ptr<connection> c, WS& ws, const url_parts& u) {
        ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
            req.set(beast::http::field::user_agent, "tpmbot/0.1");
        }));
        // A named local, not a temporary inside the co_await expression: GCC 12 destroys such
        // temporaries wrongly across the suspension.
        std::string host = u.host;
        if (u.port != (u.tls ? "443" : "80")) {
            host += ":" + u.port;
        }
        co_await ws.async_handshake(host, u.target, net::use_awaitable);
        beast::get_lowest_layer(ws).expires_never();
        // Beast's client defaults have no idle timeout and no pings (model-codebases §2):
        // ours pings at half of idle_timeout and drops a connection silent for idle_timeout.
        websocket::stream_base::timeout t;
        t.handshake_timeout = s.hello_timeout;
        t.idle_timeout = s.idle_timeout;
        t.keep_alive_pings = true;
        ws.set_option(t);
        ws.read_message_max(s.max_frame_bytes);

        c->closes_done = std::make_unique<net::steady_timer>(ioc);
        bool closing = false;
        // The connection owns this function, so it refers to `c` in this frame rather than
        // holding a shared_ptr copy (the connection would own itself and never be freed). It is
        // only called while this frame runs: it is reset before the frame ends.
        c->close = [&](bool graceful) {
            if (closing) {
                return;
            }
            closing = true;
            if (graceful) {
                ++c->closes_in_flight;
                net::co_spawn(ioc, close_socket(ws, c), net::detached);
            } else {
                boost::system::error_code ec;
                beast::get_lowest_layer(ws).socket().close(ec);
            }
        };
        net::co_spawn(ioc, hello_watch(c), net::detached);

        beast::flat_buffer buffer;
        std::vector<batched> batch;
        for (;;) {
            auto [ec, n] = co_await ws.async_read(buffer, nothrow);
            if (ec) {
                if (ec != websocket::error::closed && ec != net::error::operation_aborted) {
                    log.warn(fmt::format("tpmbot: connection {} ended: {}", c->id, ec.message()));
                } else {
                    log(fmt::format("tpmbot: connection {} closed", c->id));
                }
                break;
            }
            if (!ws.got_text()) {
                log("tpmbot: ignored a binary frame");
                buffer.consume(buffer.size());
            } else {
                auto text = beast::buffers_to_string(buffer.data());
                buffer.consume(buffer.size());
                c->read_at = clock_type::now();
                co_await on_frame(c, ws, std::move(text), batch);
            }
            // Group commit: while more frames have already arrived, read them into the same
            // batch; then one transaction commits them all and each is acked. Under load a
            // batch is what came in during the previous commit; alone, a frame is committed
            // at once.
            if (batch.size() >= max_batch || (!batch.empty() && bytes_waiting(ws) == 0)) {
                co_await commit_and_ack(ws, batch);
            }
        }
        // Read but not committed when the connection ended: committed now. Their acks cannot
        // be sent; Slack redelivers the events (recognized by event_id) and a command's answer
        // is posted instead.
        co_await commit_and_ack(ws, batch);
        c->close = nullptr;
        // A close in flight refers to this stream: let it finish (bounded by the handshake
        // timeout) before the stream goes away.
        while (c->closes_in_flight > 0) {
            co_await wait(*c->closes_done, clock_type::now() + s.hello_timeout);
        }
    }

    net::awaitable<void> hello_watch(std::shared_ptr<connection> c) {
        co_await sleep(s.hello_timeout);
        if (!c->hello && !c->ended && c->close) {
            log.warn(fmt::format("tpmbot: connection {} sent no hello in time", c->id));
            c->reason = "hello_timeout";
            c->close(false);
        }
    }

    net::awaitable<void> run_connection(std::shared_ptr<connection> c, url_parts u) {
        try {
            tcp::resolver resolver(ioc);
            auto results = co_await resolver.async_resolve(u.host, u.port, net::use_awaitable);
            if (u.tls) {
                websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(ioc, tls->get());
                auto& tls_stream = ws.next_layer();
                if (SSL_set_tlsext_host_name(tls_stream.native_handle(), u.host.c_str()) != 1) {
                    throw std::runtime_error("cannot set TLS server name " + u.host);
                }
                tls_stream.set_verify_mode(ssl::verify_peer);
                tls_stream.set_verify_callback(ssl::host_name_verification(u.host));
                beast::get_lowest_layer(ws).expires_after(s.hello_timeout);
                co_await beast::get_lowest_layer(ws).async_connect(results, net::use_awaitable);
                no_delay(beast::get_lowest_layer(ws));
                co_await tls_stream.async_handshake(ssl::stream_base::client, net::use_awaitable);
                co_await session(c, ws, u);
            } else {
                websocket::stream<beast::tcp_stream> ws(ioc);
                beast::get_lowest_layer(ws).expires_after(s.hello_timeout);
                co_await beast::get_lowest_layer(ws).async_connect(results, net::use_awaitable);
                no_delay(beast::get_lowest_layer(ws));
                co_await session(c, ws, u);
            }
        } catch (const std::exception& e) {
            log.warn(fmt::format("tpmbot: connection {} failed: {}", c->id, e.what()));
        }
        c->ended = true;
        if (!c->hello) {
            ++failures;
        }
        if (!c->replace && !stopping) {
            why_next = !c->reason.empty() ? c->reason
                       : c->hello         ? "connection_lost"
                                          : "connect_failed";
        }
        wake(supervisor_wake);
        wake(stop_wake);
    }

    net::awaitable<void> close_later(std::shared_ptr<connection> old) {
        co_await sleep(s.old_connection_grace);
        if (!old->ended && old->close) {
            log(fmt::format("tpmbot: closing replaced connection {}", old->id));
            old->close(true);
        }
    }

    /// Keeps one usable connection: opens a replacement before the old one goes (§2.3),
    /// reconnects with capped backoff and jitter after failures (§2.10), and stops on
    /// permanent auth errors (§1.3).
    net::awaitable<void> supervisor() {
        std::shared_ptr<connection> primary;
        while (!stopping) {
            std::erase_if(conns, [](const auto& c) { return c->ended; });
            std::shared_ptr<connection> usable, pending;
            for (const auto& c : conns) {
                if (c->hello && !c->replace) {
                    usable = c;
                } else if (!c->hello) {
                    pending = c;
                }
            }
            if (usable && usable != primary) {
                // A new primary: connections it replaces stay open (and acking) until Slack
                // closes them, or until the grace period ends.
                for (const auto& c : conns) {
                    if (c != usable) {
                        net::co_spawn(ioc, close_later(c), net::detached);
                    }
                }
                primary = usable;
            }
            if (usable || pending) {
                co_await wait(supervisor_wake, clock_type::time_point::max());
                continue;
            }
            if (link_disabled) {
                log.warn("tpmbot: Socket Mode is disabled for this app in its settings; retrying "
                         "rarely");
                co_await sleep(s.link_disabled_backoff);
            } else if (failures > 0) {
                co_await sleep(backoff(failures, s.backoff_base, s.backoff_cap));
            }
            if (stopping) {
                break;
            }
            auto r = co_await call(*conn_http, "apps.connections.open", s.app_token,
                                   "application/x-www-form-urlencoded", "");
            if (!r.ok()) {
                if (!r.network_error && is_auth_error(r.reply.error)) {
                    fatal(fmt::format("Slack refused SLACK_APP_TOKEN ({}). Check that it is the "
                                      "app-level token (xapp-…) with the connections:write "
                                      "scope.",
                                      r.reply.error));
                    co_return;
                }
                ++failures;
                log.warn(fmt::format("tpmbot: apps.connections.open failed: {}", r.what()));
                if (r.rate_limited()) {
                    co_await sleep(r.retry_after);
                }
                continue;
            }
            auto u = parse_url(r.reply.url);
            if (!u) {
                ++failures;
                log.warn("tpmbot: apps.connections.open returned an unusable URL");
                continue;
            }
            auto c = std::make_shared<connection>();
            c->id = next_conn_id++;
            meters.value("tpmbot_connections_opened_total", {{"reason", why_next}}) += 1;
            conns.push_back(c);
            net::co_spawn(ioc, run_connection(c, *u), net::detached);
        }
    }

    // --- the outbox ----------------------------------------------------------------------

    enum class outcome { sent, transient, permanent, rate_limited };

    struct delivery {
        outcome result = outcome::sent;
        std::string channel;
        std::string ts;
        milliseconds retry_after{0};
        std::string error;
        /// Not sent as far as we know, but Slack may have posted it: no answer came, or the
        /// conversation could not be searched for it.
        bool maybe_delivered = false;
    };

    /// What an answer means for the message. A refused token stops the bot, unless
    /// `refusal_stops` is false: a search refused for a missing scope is not the token's fault.
    delivery judge(const call_result& r, bool refusal_stops = true) {
        delivery out;
        if (r.ok()) {
            out.channel = r.reply.channel;
            out.ts = r.reply.ts;
            return out;
        }
        out.error = r.what();
        // Slack's own answer (HTTP 200, ok false; or 429) says it did not post; anything else
        // (a broken connection, a timeout, a 5xx or a proxy's answer) leaves it open.
        out.maybe_delivered = r.network_error || (r.status != 200 && r.status != 429);
        if (r.rate_limited()) {
            out.result = outcome::rate_limited;
            out.retry_after = r.retry_after;
        } else if (refusal_stops && !r.network_error && is_auth_error(r.reply.error)) {
            // Not this message's fault: keep it pending for when the token is fixed.
            out.result = outcome::transient;
            fatal("Slack refused SLACK_BOT_TOKEN (" + r.reply.error +
                  ") while sending; the "
                  "outbox keeps the messages for the next start.");
        } else if (r.transient() || r.status != 200 || r.reply.error.empty()) {
            // 5xx, a proxy's 4xx, or no Slack answer at all: worth another try.
            out.result = outcome::transient;
        } else {
            out.result = outcome::permanent;
        }
        return out;
    }

    /// How far back, before the oldest message it may hold began, a conversation is searched
    /// (Slack's clock and ours may differ a little), and how many pages of 200 at most.
    static constexpr unix_time look_back_s = 60;
    static constexpr int max_history_pages = 10;

    /// What searches found, by where they looked (channel, '\x1f', thread ts): outbox id ->
    /// (its created_at, ts). A search sees what was posted before it, so one per place covers
    /// every row an earlier process may have posted; a lost answer here empties it all.
    using found_posts = std::map<std::int64_t, std::pair<std::int64_t, std::string>>;
    std::map<std::string, found_posts> searches;

    /// Searches a channel (conversations.history) or a thread (conversations.replies) from a
    /// little before `since` for the messages the outbox posted, by their metadata, into
    /// `searches[where]`. Sent when searched (a conversation Slack refuses to show, for a
    /// missing scope or a channel the bot is not in, counts as searched and empty, said in the
    /// log); otherwise the search must be tried again later.
    net::awaitable<delivery> search(http_client& http, std::string where, unix_time since,
                                    const std::string& channel, const std::string& thread_ts) {
        auto oldest = fmt::format("{}.000000", std::max<unix_time>(since - look_back_s, 0));
        const char* method = thread_ts.empty() ? "conversations.history" : "conversations.replies";
        found_posts found;
        std::string cursor;
        for (int page = 0; page < max_history_pages; ++page) {
            // Both methods take form fields only, like users.info (reference §6.1).
            std::string body = "channel=" + slack::form_escape(channel) + "&oldest=" + oldest +
                               "&limit=200&include_all_metadata=true";
            if (!thread_ts.empty()) {
                body += "&ts=" + slack::form_escape(thread_ts);
            }
            if (!cursor.empty()) {
                body += "&cursor=" + slack::form_escape(cursor);
            }
            auto r = co_await call(http, method, s.bot_token, "application/x-www-form-urlencoded",
                                   std::move(body));
            if (!r.ok()) {
                auto res = judge(r, false);
                res.maybe_delivered = true; // still not known
                if (res.result != outcome::permanent) {
                    co_return res; // tried again later
                }
                log.warn(
                    fmt::format("tpmbot: cannot search {} for messages that may have been posted "
                                "already ({}); posting them again, so some may show twice",
                                channel, res.error));
                break;
            }
            for (const auto& m : r.reply.messages) {
                if (m.outbox_id > 0) {
                    found[m.outbox_id] = {m.created_at, m.ts};
                }
            }
            cursor = r.reply.next_cursor;
            if (cursor.empty()) {
                break;
            }
        }
        searches[where] = std::move(found);
        co_return delivery{};
    }

    /// Posts the row's message, once: a row that may have been posted already (an earlier
    /// process ended without recording its answer, or an answer was lost here) is first
    /// looked for in its conversation.
    net::awaitable<delivery> post(http_client& http, const outbox_row& row, std::string channel,
                                  std::string thread_ts) {
        if (row.unsure) {
            auto where = channel + '\x1f' + thread_ts;
            if (!searches.contains(where)) {
                auto searched = co_await search(http, where, row.created_at, channel, thread_ts);
                if (searched.result != outcome::sent) {
                    co_return searched;
                }
            }
            const auto& found = searches[where];
            if (auto f = found.find(row.id);
                f != found.end() && f->second.first == row.created_at) {
                log(fmt::format("tpmbot: message {} was already in {} (ts {}); not posted again",
                                row.id, channel, f->second.second));
                delivery res;
                res.channel = channel;
                res.ts = f->second.second;
                co_return res;
            }
        }
        auto r = co_await call_json(
            http, "chat.postMessage",
            slack::post_message_body(row.e, channel, thread_ts, row.id, row.created_at));
        auto out = judge(r);
        if (out.result == outcome::sent && out.channel.empty()) {
            out.channel = channel;
        }
        co_return out;
    }

    net::awaitable<delivery> deliver(const outbox_row& row, http_client& http) {
        const auto& e = row.e;
        switch (e.to) {
        case destination::ephemeral:
            if (!e.channel.empty() && e.channel[0] == 'D') {
                // In a DM with the bot only the person sees it anyway, and a normal message
                // persists where an ephemeral one would vanish on reload.
                co_return co_await post(http, row, e.channel, e.thread_ts);
            } else {
                // Ephemeral messages are in no history to search: one whose answer was lost
                // is shown again, to its one reader, until it vanishes.
                auto r =
                    co_await call_json(http, "chat.postEphemeral", slack::post_ephemeral_body(e));
                co_return judge(r);
            }
        case destination::channel:
            co_return co_await post(http, row, e.channel, e.thread_ts);
        case destination::thread: {
            // The thread's ts is written by the mark of the post that started it.
            flush_marks();
            auto [channel, thread] = thread_target(db, row.team_id, e);
            co_return co_await post(http, row, channel, thread);
        }
        case destination::dm: {
            auto known = dm_channels.find(e.user);
            if (known == dm_channels.end()) {
                auto body = boost::json::serialize(boost::json::object{{"users", e.user}});
                auto r = co_await call_json(http, "conversations.open", std::move(body));
                auto opened = judge(r);
                if (opened.result == outcome::sent && r.reply.channel.empty()) {
                    opened.result = outcome::transient;
                    opened.error = "conversations.open returned no channel";
                }
                if (opened.result != outcome::sent) {
                    co_return opened;
                }
                known = dm_channels.emplace(e.user, r.reply.channel).first;
            }
            co_return co_await post(http, row, known->second, {});
        }
        case destination::update: {
            // A newer replacement of the same post waits behind this one: it alone goes (a
            // busy poll would otherwise spend chat.update's Tier 3 on stale versions).
            if (newer_update_queued(row)) {
                co_return delivery{};
            }
            // The post it replaces may have been delivered a moment ago: its mark first.
            flush_marks();
            std::optional<std::pair<std::string, std::string>> where;
            for (const auto& m : marks) { // not written yet (the write just failed)
                if (m.row.e.name == e.name && m.row.e.to != destination::update) {
                    where.emplace(m.channel, m.ts);
                }
            }
            if (!where) {
                where = db.post_of(row.team_id, e.name);
            }
            if (!where) {
                if (!marks.empty()) {
                    delivery later; // its post's mark may be among those still unwritten
                    later.result = outcome::transient;
                    later.error = "the delivery of the post it replaces is not recorded yet";
                    co_return later;
                }
                log(fmt::format("tpmbot: {} was never posted; there is nothing to update (outbox "
                                "row {})",
                                e.name, row.id));
                co_return delivery{};
            }
            // Replacing a message twice with the same content does no harm: an attempt whose
            // answer was lost is simply made again.
            auto r = co_await call_json(http, "chat.update",
                                        slack::update_body(e, where->first, where->second));
            co_return judge(r);
        }
        case destination::home: {
            // A newer view of the same Home waits behind this one: publishing this one would
            // only spend the rate limit (views.publish is Tier 4) on what is replaced at once.
            if (auto c = conversations.find(delivery_key(e));
                c != conversations.end() && c->second.ids.size() > 1) {
                co_return delivery{};
            }
            auto r = co_await call_json(http, "views.publish", slack::publish_home_body(e));
            co_return judge(r);
        }
        }
        co_return delivery{};
    }

    /// Whether a later replacement of the same post as `row` (an update) is queued close
    /// behind it in its conversation, among the rows held in memory.
    bool newer_update_queued(const outbox_row& row) {
        auto c = conversations.find(delivery_key(row.e));
        if (c == conversations.end()) {
            return false;
        }
        constexpr std::size_t look_ahead = 256; // a bounded look: a long backlog is not scanned
        std::size_t looked = 0;
        for (auto id : c->second.ids) {
            if (++looked > look_ahead) {
                break;
            }
            if (id <= row.id) {
                continue;
            }
            auto kept = rows_kept.find(id);
            if (kept != rows_kept.end() && kept->second.e.to == destination::update &&
                kept->second.e.name == row.e.name) {
                return true;
            }
        }
        return false;
    }

    /// A delivered message whose "sent" is not written yet. Marks ride with the next group
    /// commit of frames; the sender writes those still waiting after `marks_wait` (or once
    /// there are `max_marks`) in a transaction that does not wait for the disk. Until written,
    /// the row is still pending in the store: if the process ends before then, without a
    /// clean stop, the next one finds the message in its conversation (`recover_outbox`,
    /// `search`) instead of posting it again.
    struct sent_mark {
        outbox_row row; ///< without its text, blocks and buttons
        std::string channel;
        std::string ts;
        unix_time at = 0;
    };
    std::vector<sent_mark> marks;
    clock_type::time_point marks_since; ///< when the oldest mark was made
    static constexpr std::size_t max_marks = 256;
    /// How long marks wait for a group commit to take them before the sender writes them.
    static constexpr milliseconds marks_wait{5};

    /// Writes the marks, inside the caller's transaction.
    void write_marks() {
        for (const auto& m : marks) {
            db.mark_sent(m.row, m.channel, m.ts, m.at);
        }
    }

    /// After the transaction that wrote them committed.
    void marks_written() { marks.clear(); }

    /// Writes the marks in a transaction of their own; on failure they are kept for the next
    /// try.
    void flush_marks() {
        if (marks.empty()) {
            return;
        }
        try {
            db.transact_relaxed([&] { write_marks(); });
            marks_written();
        } catch (const std::exception& e) {
            log.warn(fmt::format("tpmbot: could not record {} delivered message(s) as sent: {}",
                                 marks.size(), e.what()));
        }
    }

    /// One conversation's pending messages, oldest first, as the sender knows them.
    struct conversation {
        std::deque<std::int64_t> ids;         ///< outbox ids; the first is the next to go
        bool busy = false;                    ///< the first is being delivered
        clock_type::time_point not_before{};  ///< a 429's Retry-After, pacing or a backoff
        clock_type::time_point paced_until{}; ///< after a 429: about one message a second
    };
    /// The outbox's pending rows by conversation, loaded in id order: every pending row with
    /// an id up to `loaded_up_to` is here (or delivered and its mark not written yet). At
    /// most `max_queued` ids are held (a few bytes each); rows beyond wait in the store.
    std::map<std::string, conversation> conversations;
    std::int64_t loaded_up_to = 0;
    std::size_t queued = 0;
    static constexpr std::size_t max_queued = 100000;
    std::string last_launched; ///< round-robin start, so no conversation starves the others
    /// The rows themselves, as loaded, for the first `max_rows_kept` queued ids: a message is
    /// read from the store once. Rows past that are read again when their turn comes.
    std::unordered_map<std::int64_t, outbox_row> rows_kept;
    static constexpr std::size_t max_rows_kept = 4096;

    /// A delivery that has finished, handed from its coroutine back to the sender.
    struct finished {
        outbox_row row;
        std::string key;
        delivery res;
    };
    std::vector<finished> finished_deliveries;         ///< not yet settled
    std::vector<std::unique_ptr<http_client>> clients; ///< idle ones, each one connection
    int in_flight = 0;

    net::awaitable<void> deliver_one(outbox_row row, std::string key,
                                     std::unique_ptr<http_client> http) {
        delivery res;
        try {
            res = co_await deliver(row, *http);
        } catch (const std::exception& e) {
            res.result = outcome::transient;
            res.error = e.what();
        }
        clients.push_back(std::move(http));
        --in_flight;
        finished_deliveries.push_back({std::move(row), std::move(key), std::move(res)});
        wake(sender_wake);
    }

    /// The conversation's first message is done with (sent or given up).
    void pop_first(conversation& c) {
        c.ids.pop_front();
        --queued;
    }

    // --- who sends: the outbox lease -----------------------------------------------------
    //
    // Replicas on one database share one outbox; exactly one of them sends at a time, so a
    // conversation's messages keep their order and none goes twice. That one holds a lease in
    // the store ("outbox.sender": owner, until, clean), renews it while it runs, and releases
    // it at a clean stop. When it ends without releasing it (killed, cut off), another replica
    // takes the lease once it has expired, and first marks every pending row unsure: the one
    // before may have posted any of them, so each is looked for in its conversation before it
    // is posted again (`search`). A single process goes through the same steps: its last run
    // either released the lease or did not.

    static constexpr std::string_view lease_key = "outbox.sender";
    /// What a version before the lease recorded: "1" after a clean stop.
    static constexpr std::string_view legacy_clean_key = "outbox.clean_stop";

    struct lease {
        std::string owner;
        unix_time until = 0;
        bool clean = false; ///< released at a clean stop, every delivery recorded
    };

    static std::optional<lease> parse_lease(const std::optional<std::string>& text) {
        if (!text) {
            return std::nullopt;
        }
        lease l;
        std::istringstream in(*text);
        int clean = 0;
        if (!(in >> l.owner >> l.until >> clean)) {
            return std::nullopt;
        }
        l.clean = clean == 1;
        return l;
    }

    std::string replica_host = [] {
        std::array<char, 256> host{};
        if (::gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') {
            return std::string("tpmbot");
        }
        return std::string(host.data());
    }();
    /// This process among the replicas: host, process id and a random part.
    std::string replica_id =
        fmt::format("{}-{}-{:04x}", replica_host, ::getpid(), std::random_device{}() & 0xffff);
    /// Whether a lease's owner was a process on this host that has ended (or an earlier bot
    /// of this process): a restart after a crash takes the lease at once instead of waiting
    /// for it to expire.
    bool holder_gone(const std::string& owner) const {
        auto last = owner.rfind('-');
        auto before =
            last == std::string::npos || last == 0 ? std::string::npos : owner.rfind('-', last - 1);
        if (before == std::string::npos) {
            return false;
        }
        if (owner.substr(0, before) != replica_host) {
            return false; // another host: only the expiry tells
        }
        long pid = std::strtol(owner.c_str() + before + 1, nullptr, 10);
        if (pid == ::getpid()) {
            return true; // an earlier bot of this process (one runs at a time), now ended
        }
        return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    }

    bool holding = false;     ///< this replica sends now
    unix_time held_until = 0; ///< the lease's end as last written (wall clock)
    bool queue_stale = false; ///< lost the lease: the queue in memory is dropped once settled
    clock_type::time_point lease_check_at{}; ///< when the lease is next taken or renewed

    /// Takes the lease, or renews it when it is ours; false when another replica holds it.
    bool hold_lease() {
        auto now = wall_clock_now();
        auto ttl = static_cast<unix_time>(lease_length().count());
        bool got = false;
        int unsure = 0;
        std::string from;
        db.transact([&] {
            auto current = parse_lease(db.setting("", lease_key));
            bool mine = current && current->owner == replica_id;
            if (current && !mine && !current->clean && current->until >= now &&
                !holder_gone(current->owner)) {
                return; // another replica's, still running
            }
            bool clean = current ? current->clean || mine : db.setting("", legacy_clean_key) == "1";
            if (!clean) {
                unsure = db.mark_pending_unsure();
                from = current ? current->owner : "a run before the lease";
            }
            db.set_setting("", lease_key, fmt::format("{} {} 0", replica_id, now + ttl), now);
            got = true;
        });
        if (got) {
            held_until = now + ttl;
        }
        if (unsure > 0) {
            log.warn(fmt::format("tpmbot: the last run did not stop cleanly; {} message(s) it "
                                 "may have posted are looked for in their conversations first "
                                 "(the last sender: {})",
                                 unsure, from));
        }
        return got;
    }

    /// Whether this replica may send now, taking or renewing the lease when it is time.
    bool may_send() {
        auto now = clock_type::now();
        if (now >= lease_check_at) {
            lease_check_at = now + lease_length() / 3;
            bool had = holding;
            try {
                holding = hold_lease();
            } catch (const std::exception& e) {
                // Still ours until it expires; by then another replica may take it.
                holding = had && wall_clock_now() + 1 < held_until;
                log.warn(fmt::format("tpmbot: could not renew the outbox lease: {}", e.what()));
            }
            if (had && !holding) {
                log.warn("tpmbot: another replica took over sending the outbox");
                queue_stale = true;
            } else if (!had && holding) {
                log(fmt::format("tpmbot: sending the outbox (as {})", replica_id));
                searches.clear();
            }
        }
        if (queue_stale && in_flight == 0) {
            // What was loaded may be sent by now: read the store afresh next time.
            conversations.clear();
            rows_kept.clear();
            queued = 0;
            loaded_up_to = 0;
            searches.clear();
            queue_stale = false;
        }
        return holding && !queue_stale;
    }

    /// At a clean stop with every delivery recorded: the next holder need not search.
    void release_lease() {
        auto now = wall_clock_now();
        db.transact([&] {
            auto current = parse_lease(db.setting("", lease_key));
            if (current && current->owner == replica_id) {
                db.set_setting("", lease_key, fmt::format("{} {} 1", replica_id, now), now);
            }
        });
    }

    /// After an attempt that failed: if it may have been posted all the same, the row is
    /// looked for before its next attempt, by a new search.
    void mark_unsure(outbox_row& row, bool maybe_delivered) {
        if (maybe_delivered) {
            row.unsure = true;
            searches.clear();
        }
    }

    /// Keeps a row that will be tried again, so it is not read again.
    void retry_later(outbox_row row) {
        auto id = row.id;
        rows_kept.insert_or_assign(id, std::move(row));
    }

    /// Records what finished deliveries came to.
    void settle() {
        auto now = clock_type::now();
        for (auto& f : finished_deliveries) {
            const auto& row = f.row;
            auto& res = f.res;
            auto& c = conversations[f.key];
            c.busy = false;
            switch (res.result) {
            case outcome::sent:
                ++posts_delivered;
                *delivered_total += 1;
                if (marks.empty()) {
                    marks_since = now;
                }
                f.row.e.text.clear();
                f.row.e.blocks.clear();
                f.row.e.buttons.clear();
                marks.push_back({std::move(f.row), res.channel, res.ts, now_unix()});
                pop_first(c);
                if (c.paced_until > now) {
                    c.not_before = now + milliseconds(1000);
                }
                break;
            case outcome::rate_limited:
                log.warn(fmt::format("tpmbot: rate limited on {}; waiting {} ms", f.key,
                                     res.retry_after.count()));
                c.not_before = now + res.retry_after;
                c.paced_until = now + res.retry_after + std::chrono::minutes(1);
                mark_unsure(f.row, res.maybe_delivered);
                retry_later(std::move(f.row));
                break;
            case outcome::transient:
                if (row.attempts + 1 >= s.max_attempts) {
                    log.error(fmt::format("tpmbot: giving up on message {} after {} attempts: {}",
                                          row.id, row.attempts + 1, res.error));
                    db.mark_failed(row.id, res.error, true, now_unix(), res.maybe_delivered);
                    meters.value("tpmbot_messages_failed_total") += 1;
                    pop_first(c);
                } else {
                    db.mark_failed(row.id, res.error, false, now_unix(), res.maybe_delivered);
                    c.not_before = now + backoff(row.attempts + 1, s.retry_base, s.retry_cap);
                    ++f.row.attempts; // as mark_failed counted it
                    mark_unsure(f.row, res.maybe_delivered);
                    retry_later(std::move(f.row));
                }
                break;
            case outcome::permanent:
                log.error(
                    fmt::format("tpmbot: message {} was refused by Slack: {}", row.id, res.error));
                db.mark_failed(row.id, res.error, true, now_unix());
                meters.value("tpmbot_messages_failed_total") += 1;
                pop_first(c);
                tell_card_refused(f.row, res.error);
                break;
            }
        }
        finished_deliveries.clear();
    }

    /// An item's card Slack refused for good (the bot cannot post in that conversation: a
    /// private channel it was not invited to, a DM between people): the item is recorded all
    /// the same, and whoever raised it is told by DM where it is and how to let the bot in.
    void tell_card_refused(const outbox_row& row, const std::string& error) {
        if (!row.e.name.starts_with("card:") || row.e.to == destination::update) {
            return;
        }
        auto id = parse_item_id(row.e.item);
        if (!id) {
            return;
        }
        try {
            db.transact([&] {
                auto it = db.find_item(row.team_id, *id);
                if (!it || it->reporter.empty()) {
                    return;
                }
                db.enqueue(row.team_id,
                           dm_effect(it->reporter,
                                     fmt::format(":warning: I could not post the card of *{}* {} "
                                                 "in <#{}> (Slack said {}). It is recorded all "
                                                 "the same: `/tpm {} {}` shows it. To have its "
                                                 "card and thread there, invite me (`/invite "
                                                 "@tpmbot`).",
                                                 it->id_str(), it->title, row.e.channel, error,
                                                 kind_name(it->kind), it->id_str())),
                           now_unix());
            });
            wake(sender_wake);
        } catch (const std::exception& e) {
            log.warn(fmt::format("tpmbot: could not queue the note about {}'s card: {}", row.e.item,
                                 e.what()));
        }
    }

    /// Loads pending rows the sender has not seen yet (ids past `loaded_up_to`).
    void load_pending() {
        constexpr int page = 500;
        while (queued < max_queued) {
            auto rows = db.pending(page, loaded_up_to);
            for (auto& row : rows) {
                conversations[delivery_key(row.e)].ids.push_back(row.id);
                ++queued;
                loaded_up_to = row.id;
                if (rows_kept.size() < max_rows_kept) {
                    rows_kept.emplace(row.id, std::move(row));
                }
            }
            if (rows.size() < page) {
                break;
            }
        }
    }

    /// Starts what may go now: each conversation's first message, unless it is being
    /// delivered or waits, while a connection is free. Returns when the next waiting
    /// conversation may go (max when none).
    clock_type::time_point launch() {
        auto now = clock_type::now();
        auto next = clock_type::time_point::max();
        if (conversations.empty()) {
            return next;
        }
        // Each conversation once, round-robin from the one after the last one started.
        auto it = conversations.upper_bound(last_launched);
        for (auto n = conversations.size(); n > 0; --n) {
            if (it == conversations.end()) {
                it = conversations.begin();
            }
            auto& [key, c] = *it;
            if (c.busy || c.ids.empty()) {
                if (!c.busy && c.ids.empty() && c.paced_until <= now) {
                    it = conversations.erase(it); // nothing to send and no pacing to keep
                } else {
                    ++it;
                }
                continue;
            }
            if (c.not_before > now) {
                next = std::min(next, c.not_before);
                ++it;
                continue;
            }
            if (clients.empty()) {
                break; // woken when a delivery finishes
            }
            std::optional<outbox_row> row;
            while (!c.ids.empty()) {
                if (auto kept = rows_kept.find(c.ids.front()); kept != rows_kept.end()) {
                    row = std::move(kept->second);
                    rows_kept.erase(kept);
                } else {
                    row = db.outbox(c.ids.front());
                }
                if (row && row->state == "pending") {
                    break;
                }
                row.reset();
                pop_first(c); // no longer pending: nothing to send
            }
            if (row) {
                auto http = std::move(clients.back());
                clients.pop_back();
                c.busy = true;
                ++in_flight;
                last_launched = key;
                net::co_spawn(ioc, deliver_one(std::move(*row), key, std::move(http)),
                              net::detached);
            }
            ++it;
        }
        return next;
    }

    /// Delivers the outbox: in order within each conversation (one delivery in flight per
    /// conversation), up to `parallel_posts` conversations at once, each on a keep-alive
    /// connection of its own. A burst goes out at once; a 429 makes that conversation wait
    /// Retry-After and then go at about one message a second (reference §6.3); transient
    /// failures retry with backoff; nothing is dropped. Each pending row is read from the
    /// store once to be queued and once to be sent, however long the backlog.
    net::awaitable<void> sender() {
        sender_running = true;
        for (int i = 0; i < std::max(s.parallel_posts, 1); ++i) {
            clients.push_back(
                std::make_unique<http_client>(ioc.get_executor(), tls, s.http_timeout));
        }
        while (!stopping) {
            settle();
            if (marks.size() >= max_marks ||
                (!marks.empty() && clock_type::now() - marks_since >= marks_wait)) {
                flush_marks();
            }
            auto next_wake = lease_check_at;
            if (may_send()) {
                load_pending();
                next_wake = std::min(launch(), lease_check_at);
            } else {
                next_wake = lease_check_at;
            }
            if (!marks.empty()) {
                next_wake = std::min(next_wake, marks_since + marks_wait);
            }
            if (finished_deliveries.empty()) {
                co_await wait(sender_wake, next_wake);
            }
        }
        // Stopping: the deliveries in flight are allowed to finish (bounded by the HTTP
        // timeout) and are recorded, so they are not sent again at the next start.
        auto deadline = clock_type::now() + s.http_timeout + milliseconds(500);
        while (in_flight > 0 && clock_type::now() < deadline) {
            co_await wait(sender_wake, deadline);
        }
        settle();
        flush_marks();
        if (holding && in_flight == 0 && marks.empty()) {
            // Every delivery begun has its answer recorded: the next holder need not search.
            try {
                release_lease();
            } catch (const std::exception& e) {
                log.warn(fmt::format("tpmbot: could not record a clean stop: {}", e.what()));
            }
        }
        sender_done = true;
        finish_if_done();
    }

    // --- scheduled work ------------------------------------------------------------------

    /// Reads a channel's members (conversations.members, paged) into the store; on failure
    /// (the bot is not in the channel, a missing scope) they stay unknown and nobody is taken
    /// for gone.
    net::awaitable<void> read_members(std::string team, std::string channel) {
        // Its own client: the connection supervisor may be using conn_http right now, and one
        // client carries one request at a time.
        http_client http(ioc.get_executor(), tls, s.http_timeout);
        std::vector<std::string> members;
        std::string cursor;
        for (int page = 0; page < 50; ++page) {
            std::string body = "channel=" + slack::form_escape(channel) + "&limit=1000";
            if (!cursor.empty()) {
                body += "&cursor=" + slack::form_escape(cursor);
            }
            auto r = co_await call(http, "conversations.members", s.bot_token,
                                   "application/x-www-form-urlencoded", body);
            if (!r.ok()) {
                log.warn(fmt::format("tpmbot: conversations.members for {} failed: {}", channel,
                                     r.what()));
                co_return;
            }
            for (auto& m : r.reply.members) {
                if (m != bot_user_id) {
                    members.push_back(std::move(m));
                }
            }
            cursor = r.reply.next_cursor;
            if (cursor.empty()) {
                break;
            }
        }
        db.transact([&] { db.set_channel_members(team, channel, members, now_unix()); });
    }

    /// Keeps what the scheduler needs fresh: each standup channel's members (hourly) and each
    /// member's zone, name and bot flag from users.info (daily), so prompts go out in the
    /// right zone. A rate limit ends the round; the rest waits for the next one.
    net::awaitable<void> refresh_standup_people() {
        auto now = now_unix();
        for (const auto& st : db.list_standups("")) {
            if (st.paused) {
                continue;
            }
            auto key = st.team_id + ":" + st.channel_id;
            auto read = members_read.find(key);
            if (read == members_read.end() || now - read->second >= s.members_refresh.count()) {
                members_read[key] = now;
                try {
                    co_await read_members(st.team_id, st.channel_id);
                } catch (const std::exception& e) {
                    log.warn(fmt::format("tpmbot: could not store the members of {}: {}",
                                         st.channel_id, e.what()));
                }
            }
            std::vector<std::string> people = st.members;
            if (st.whole_channel) {
                people = db.channel_members(st.team_id, st.channel_id)
                             .value_or(std::vector<std::string>{});
            }
            for (const auto& u : people) {
                auto known = db.find_user(st.team_id, u);
                // A lookup that failed is tried again after an hour, not at every tick.
                auto& tried = lookups_tried[st.team_id + ":" + u];
                if ((!known || now - known->updated_at > 24 * 3600) && now - tried >= 3600) {
                    tried = now;
                    auto result = co_await look_up(st.team_id, u);
                    if (result.rate_limited) {
                        tried = 0; // not this person's fault: asked again next round
                        co_return;
                    }
                }
                if (stopping) {
                    co_return;
                }
            }
        }
    }

    /// Makes the scheduler look again now, even if it is busy at this moment (tests move a
    /// manual clock and call this through `poke_scheduler`).
    void poke() {
        scheduler_poked = true;
        wake(scheduler_wake);
    }

    /// Runs standup prompts, reminders and reports, weekly statuses and the escalation ladder
    /// at their times, from the clock and the stored configuration; each firing is claimed
    /// with its posts, so a restart never repeats one and catches up what it missed within
    /// the grace windows. It wakes at the next due time and at least once a minute, so a
    /// command never has to wake it: what a command schedules runs within that minute.
    net::awaitable<void> scheduler() {
        while (!stopping) {
            scheduler_poked = false;
            auto delay = std::chrono::seconds(60);
            try {
                auto now = now_unix();
                if (int ran = run_due_jobs(db, now, s.timing, log); ran > 0) {
                    *firings_total += ran;
                    wake(sender_wake);
                }
                // After the due work, so lookups never delay a prompt or a report.
                co_await refresh_standup_people();
                now = now_unix();
                auto next = next_due(db, now);
                if (next != 0 && next - now < 60) {
                    delay = std::chrono::seconds(std::max<unix_time>(next - now, 1));
                }
            } catch (const std::exception& e) {
                log.warn(fmt::format("tpmbot: scheduled work failed, retrying in a minute: {}",
                                     e.what()));
            }
            if (scheduler_poked) {
                continue; // poked while busy: look again at once
            }
            // Memory freed by a burst goes back to the system rather than staying with the
            // process (glibc keeps it otherwise); at most once a round, off the ack path.
            ::malloc_trim(0);
            auto until = clock_type::now() + delay;
            co_await wait(scheduler_wake, until);
        }
    }

    // --- start ---------------------------------------------------------------------------

    net::awaitable<void> start() {
        int attempt = 0;
        while (!stopping) {
            auto r = co_await call(*conn_http, "auth.test", s.bot_token,
                                   "application/x-www-form-urlencoded", "");
            if (r.ok()) {
                bot_user_id = r.reply.user_id;
                break;
            }
            if (!r.network_error && is_auth_error(r.reply.error)) {
                fatal(fmt::format("Slack refused SLACK_BOT_TOKEN ({}). Check that it is the bot "
                                  "token (xoxb-…) of an installed app.",
                                  r.reply.error));
                co_return;
            }
            log.warn(fmt::format("tpmbot: auth.test failed: {}", r.what()));
            auto pause = r.rate_limited() ? r.retry_after
                                          : backoff(++attempt, s.backoff_base, s.backoff_cap);
            co_await sleep(pause);
        }
        log(fmt::format("tpmbot: signed in as bot user {}", bot_user_id));
        co_await recover_inbox();
        spawn(sender(), "the outbox sender");
        spawn(worker(), "the event worker");
        if (!s.app_token.empty()) {
            spawn(supervisor(), "the connection supervisor");
        }
        start_http_events();
        spawn(scheduler(), "the scheduler");
    }
};

slack_app::slack_app(durable_store& db, dispatcher& d, slack_settings s, log_fn log)
    : impl_(std::make_unique<impl>(db, d, std::move(s), std::move(log))) {}

slack_app::~slack_app() = default;

int slack_app::run() {
    auto& d = *impl_;
    net::signal_set signals(d.ioc, SIGINT, SIGTERM);
    signals.async_wait([&d](const boost::system::error_code& ec, int) {
        if (!ec) {
            d.log("tpmbot: stopping");
            d.stop_now();
        }
    });
    d.start_admin();
    d.spawn(d.start(), "start-up");
    d.ioc.run();
    if (d.admin) {
        d.admin->stop();
    }
    if (d.events_in) {
        d.events_in->stop();
    }
    d.log(fmt::format("tpmbot: stopped after {} frames in {} commits and {} messages delivered",
                      d.frames_committed.load(), d.group_commits.load(), d.posts_delivered.load()));
    return d.exit_code;
}

void slack_app::stop() {
    net::post(impl_->ioc, [d = impl_.get()] { d->stop_now(); });
}

slack_app::counters slack_app::stats() const {
    return {impl_->frames_committed.load(), impl_->group_commits.load(),
            impl_->posts_delivered.load()};
}

unsigned short slack_app::admin_port() const {
    return impl_->admin_bound.load();
}

unsigned short slack_app::http_port() const {
    return impl_->events_bound.load();
}

void slack_app::poke_scheduler() {
    net::post(impl_->ioc, [d = impl_.get()] { d->poke(); });
}

} // namespace tpmbot
