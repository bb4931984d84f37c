#pragma once
/// A bot running on its own thread against the in-process fake Slack, on a real store, with
/// short timeouts; the test reads the database through a second connection.

#include "dispatcher.hpp"
#include "router.hpp"
#include "slack_app.hpp"
#include "sqlite_store.hpp"
#include "support/fake_slack.hpp"
#include "support/temp_dir.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tpmbot::test {

using namespace std::chrono_literals;

/// A bot running on its own thread against a fake Slack, with a second store connection for
/// the test to look at the database.
struct running_bot {
    test::temp_dir dir;
    std::string path;
    fake_slack slack;
    sqlite_store db{path};
    router routes = make_router();
    std::mutex log_mutex;
    std::vector<std::string> log_lines;
    dispatcher d{db, routes, {}, [this](const std::string& l) {
                     log(l);
                 }};
    slack_settings settings;
    std::unique_ptr<slack_app> app;
    std::thread thread;
    std::atomic<int> exit_code{-1};

    /// A bot on a fresh database, or on `db_path` when given.
    explicit running_bot(fake_slack::options o = {}, const std::string& db_path = {})
        : path(db_path.empty() ? dir.file("bot.db").string() : db_path), slack(std::move(o)) {
        settings.api_url = slack.api_url();
        settings.app_token = "xapp-1-test";
        settings.bot_token = "xoxb-test";
        settings.http_timeout = 2s;
        settings.hello_timeout = 2s;
        settings.idle_timeout = 2s;
        settings.backoff_base = 20ms;
        settings.backoff_cap = 200ms;
        settings.link_disabled_backoff = 300ms;
        settings.old_connection_grace = 500ms;
        settings.retry_base = 20ms;
        settings.retry_cap = 100ms;
    }

    void log(const std::string& l) {
        std::lock_guard lock(log_mutex);
        log_lines.push_back(l);
    }

    /// How many log lines contain `part`.
    int logged(const std::string& part) {
        std::lock_guard lock(log_mutex);
        int n = 0;
        for (const auto& l : log_lines) {
            n += l.find(part) != std::string::npos ? 1 : 0;
        }
        return n;
    }

    /// The whole log, for a failing test's message.
    std::string log_text() {
        std::lock_guard lock(log_mutex);
        std::string all;
        for (const auto& l : log_lines) {
            all += l + "\n";
        }
        return all;
    }

    void start() {
        app =
            std::make_unique<slack_app>(db, d, settings, [this](const std::string& l) { log(l); });
        thread = std::thread([this] { exit_code = app->run(); });
    }

    /// Starts and waits for the first hello to be answered by a usable connection.
    void start_connected() {
        start();
        REQUIRE(slack.wait_for([&] { return slack.connections_open() == 1; }));
        REQUIRE(slack.wait_for([&] { return logged("connected to Slack (connection 1)"); }));
    }

    /// Waits (bounded) for the envelope's ack.
    bool ack_for(const std::string& envelope_id) {
        return slack.wait_for([&] { return acks_of(envelope_id) > 0; });
    }

    /// The payload of the envelope's ack ("" when none, or not acked).
    std::string ack_payload(const std::string& envelope_id) {
        for (const auto& a : slack.acks()) {
            if (a.envelope_id == envelope_id) {
                return a.payload;
            }
        }
        return {};
    }

    int acks_of(const std::string& envelope_id) {
        int n = 0;
        for (const auto& a : slack.acks()) {
            n += a.envelope_id == envelope_id ? 1 : 0;
        }
        return n;
    }

    bool posts(std::size_t n, const std::string& method = "chat.postMessage") {
        return slack.wait_for([&] { return slack.calls(method).size() >= n; });
    }

    /// The items of the fake's team, read through a separate connection.
    std::vector<item> items() {
        sqlite_store look(path);
        item_query q;
        q.team_id = "T111";
        return look.list_items(q);
    }

    /// Where the post named `name` landed, read through a separate connection.
    std::optional<std::pair<std::string, std::string>> post_of(const std::string& name) {
        sqlite_store look(path);
        return look.post_of("T111", name);
    }

    /// Whether the outbox has nothing left to send, read through a separate connection.
    bool outbox_empty() {
        sqlite_store look(path);
        return look.pending(1).empty();
    }

    /// Decision D-`num`'s poll, read through a separate connection.
    std::optional<poll> poll_of(std::int64_t num) {
        sqlite_store look(path);
        return look.find_poll("T111", num);
    }

    ~running_bot() {
        if (app) {
            app->stop();
        }
        if (thread.joinable()) {
            thread.join();
        }
    }
};

} // namespace tpmbot::test
