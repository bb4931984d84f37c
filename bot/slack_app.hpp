#pragma once
/// The bot connected to Slack: Socket Mode (or HTTP mode's requests) for what comes in, the Web
/// API for what goes out, the dispatcher and store in between. One io_context thread runs
/// everything.

#include "dispatcher.hpp"
#include "durable_store.hpp"
#include "log.hpp"
#include "scheduler.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace tpmbot {

/// How to reach Slack and how patient to be. The defaults are for the real Slack; tests shorten
/// the timeouts.
struct slack_settings {
    std::string api_url = "https://slack.com/api/"; ///< every call, apps.connections.open too
    std::string app_token;                          ///< xapp-…, for apps.connections.open
    std::string bot_token;                          ///< xoxb-…, for everything else
    std::string ca_file;                            ///< an extra CA bundle to trust (tests)
    std::chrono::milliseconds http_timeout{10000};
    /// A connection that has not said hello by then is abandoned (reference §2.11: ~10 s).
    std::chrono::milliseconds hello_timeout{10000};
    /// Nothing received for this long means the connection is dead; a ping goes out at half of
    /// it (reference §2.9 recommends 20 s).
    std::chrono::milliseconds idle_timeout{20000};
    /// Backoff for failed connection attempts: base doubling up to cap, with jitter (§2.10).
    std::chrono::milliseconds backoff_base{1000};
    std::chrono::milliseconds backoff_cap{60000};
    /// After `link_disabled` (Socket Mode switched off for the app) retry only this rarely.
    std::chrono::milliseconds link_disabled_backoff{std::chrono::minutes(5)};
    /// After a replacement connection said hello, the old one is closed by us if Slack has not
    /// closed it within this time (Slack closes it ~10 s after `warning`, §2.3).
    std::chrono::milliseconds old_connection_grace{std::chrono::seconds(15)};
    /// Transient delivery failures are retried with this backoff (doubling, capped).
    std::chrono::milliseconds retry_base{500};
    std::chrono::milliseconds retry_cap{std::chrono::minutes(5)};
    /// Conversations delivered to at once, each on its own keep-alive connection; within a
    /// conversation messages go one at a time, in order.
    int parallel_posts = 8;
    /// Events held in memory for the worker; past this many, new ones wait in the store's
    /// inbox (where they are already, before their ack) and are read from there once the
    /// worker has caught up.
    std::size_t max_queued_events = 1024;
    /// The largest Socket Mode frame read; a larger one ends its connection (close code 1009)
    /// and another is opened. Slack's envelopes are a few KB (a message's text is at most
    /// 40,000 characters), so 1 MiB is far above any real one.
    std::size_t max_frame_bytes = 1 << 20;
    /// Attempts before a transiently failing message is given up and recorded as failed.
    int max_attempts = 12;
    /// Test-only failpoint: the process kills itself (SIGKILL) right after acking an event,
    /// before processing it, so tests can prove that an acked event survives a crash.
    bool kill_after_event_ack = false;
    /// Grace windows of the standup scheduler (TPMBOT_PROMPT_GRACE, TPMBOT_REPORT_GRACE).
    standup_timing timing;
    /// Where the time comes from; null for the system clock. Tests move a manual clock and
    /// call `poke_scheduler`.
    std::shared_ptr<const clock_source> clock;
    /// How often the members of standup channels are read again (conversations.members).
    std::chrono::seconds members_refresh{std::chrono::hours(1)};
    /// Where `/healthz` and `/metrics` are served (TPMBOT_ADMIN_ADDR); an empty host serves
    /// nothing. Port "0" picks a free one (`admin_port` says which).
    std::string admin_host;
    std::string admin_port;
    /// HTTP mode (TPMBOT_HTTP_ADDR): where Slack's requests arrive, each checked against the
    /// signing secret; an empty host serves nothing. Socket Mode runs only with an app token.
    std::string http_host;
    std::string http_port;
    std::string signing_secret;
    /// How long the outbox lease lasts without renewal (renewed every third of it): with
    /// replicas on one database, how soon another takes over sending after one is killed.
    std::chrono::seconds outbox_lease{15};
    /// The largest HTTP-mode request body; larger ones are refused (413).
    std::size_t max_request_bytes = 1 << 20;
};

/// Runs the bot against Slack until `stop()` or a permanent error.
class slack_app {
public:
    using log_fn = logger;

    slack_app(durable_store& db, dispatcher& d, slack_settings s, log_fn log);
    ~slack_app();
    slack_app(const slack_app&) = delete;
    slack_app& operator=(const slack_app&) = delete;

    /// Blocks until stopped. Returns 0 after `stop()`, 1 after a permanent error (for example
    /// an invalid token), which has been logged with what to do about it.
    int run();
    /// Asks `run` to return; safe from any thread and from a signal handler's thread.
    void stop();

    /// Makes the scheduler look at the clock now (after a test moved it); any thread.
    void poke_scheduler();

    /// Counts of the work done so far; any thread.
    struct counters {
        std::uint64_t frames_committed = 0; ///< slash commands, button presses and events
        std::uint64_t group_commits = 0;    ///< the transactions that committed them
        std::uint64_t posts_delivered = 0;  ///< outbox messages Slack accepted
    };
    counters stats() const;

    /// The admin address's bound port once `run` has bound it, 0 before and when there is none;
    /// any thread.
    unsigned short admin_port() const;
    /// The same for HTTP mode's address (bound once the bot has signed in).
    unsigned short http_port() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace tpmbot
