// Faults against the real binary: SIGKILL at random points under load, again and again, on
// one database and one fake Slack; then a graceful stop. What is checked comes from the fake's
// records (acks, posts) and the database, never from the bot's own log.

#include "sqlite_store.hpp"
#include "support/bot_process.hpp"
#include "support/fake_slack.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <sys/wait.h>
#include <vector>

using namespace tpmbot;
using namespace std::chrono_literals;
using test::bot_process;
using test::fake_slack;

namespace {

/// One frame of the load and what became of it.
struct sent_frame {
    std::string envelope_id;
    std::string token;    ///< unique text in the item it creates ("k3-17")
    bool event = false;   ///< an app_mention (redelivered by Slack until acked), else a slash
    std::string event_id; ///< events only
    std::string ts;       ///< events only: the mentioning message
    int attempts = 1;     ///< deliveries so far (events: Slack's retries)
};

/// Items whose title holds each token, over the whole database.
std::map<std::string, int> items_by_token(const std::string& db,
                                          const std::vector<sent_frame>& frames) {
    sqlite_store look(db);
    item_query q;
    q.team_id = "T111";
    auto items = look.list_items(q);
    std::map<std::string, int> n;
    for (const auto& f : frames) {
        n[f.token] = 0;
    }
    for (const auto& it : items) {
        // Titles read "kill <token>", "kill <token> <@U222|lee>" or "event <token>".
        auto from = it.title.find(' ');
        if (from == std::string::npos) {
            continue;
        }
        auto token = it.title.substr(from + 1, it.title.find(' ', from + 1) - from - 1);
        if (n.count(token) != 0) {
            ++n[token];
        }
    }
    return n;
}

/// Whether any file in `dir` (the database, its WAL, the bot's log) holds either token.
void check_no_tokens(const test::temp_dir& dir) {
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        auto text = test::read_file(entry.path().string());
        INFO(entry.path().string());
        CHECK(text.find("xoxb-test") == std::string::npos);
        CHECK(text.find("xapp-1-test") == std::string::npos);
    }
}

/// A fake Slack and the real binary on a new database, connected.
struct scene {
    test::temp_dir dir;
    std::string db = dir.file("bot.db").string();
    std::string log = dir.file("bot.log").string();
    fake_slack slack;
    bot_process bot{slack, db, log};

    scene() {
        REQUIRE(slack.wait_for([&] { return slack.connections_opened() == 1; }, 10s));
    }

    /// Titles of every item stored.
    std::vector<std::string> titles() const {
        sqlite_store look(db);
        item_query q;
        q.team_id = "T111";
        std::vector<std::string> out;
        for (const auto& it : look.list_items(q)) {
            out.push_back(it.title);
        }
        return out;
    }

    /// Stops the bot with SIGTERM: a clean exit, and no token in anything it wrote.
    void stop() {
        bot.signal(SIGTERM);
        REQUIRE(slack.wait_for([&] { return bot.exited(); }, 10s));
        CHECK(WIFEXITED(bot.status()));
        CHECK(WEXITSTATUS(bot.status()) == 0);
        check_no_tokens(dir);
    }
};

std::set<std::string> acked_envelopes(const fake_slack& slack, std::map<std::string, int>& count) {
    std::set<std::string> out;
    for (const auto& a : slack.acks()) {
        ++count[a.envelope_id];
        out.insert(a.envelope_id);
    }
    return out;
}

} // namespace

TEST_CASE("SIGKILL at random points under load loses nothing and repeats nothing",
          "[fault][crash]") {
    test::temp_dir dir;
    auto db = dir.file("bot.db").string();
    auto log = dir.file("bot.log").string();
    fake_slack slack;
    std::mt19937 rng(20261206); // fixed: a failure can be run again as it was
    constexpr int kills = 24;
    constexpr int per_round = 30; // frames sent at once in each round, a sixth of them events

    std::vector<sent_frame> frames;
    std::vector<std::size_t> owed_events; // events Slack has not seen acked: sent again
    int envelope_seq = 0;
    auto next_envelope = [&] {
        return "env-" + std::to_string(++envelope_seq);
    };

    auto send_round = [&](int round) {
        // Slack retries the events it saw no ack for, on the new connection (retry_attempt).
        for (auto i : owed_events) {
            auto& f = frames[i];
            f.envelope_id = next_envelope();
            slack.send(fake_slack::mention_envelope(f.envelope_id, f.event_id,
                                                    "<@UBOT> event " + f.token, "U111", "C111",
                                                    f.ts, "", f.attempts++));
        }
        owed_events.clear();
        for (int n = 1; n <= per_round; ++n) {
            sent_frame f;
            f.envelope_id = next_envelope();
            f.token = fmt::format("k{}-{}", round, n);
            if (n % 6 == 0) {
                f.event = true;
                f.event_id = "Ev" + f.token;
                f.ts = fmt::format("1700000000.{:06}", frames.size());
                slack.send(fake_slack::mention_envelope(f.envelope_id, f.event_id,
                                                        "<@UBOT> event " + f.token, "U111", "C111",
                                                        f.ts, "", 0));
            } else {
                // Every third one names another DRI, so its card is also a DM.
                auto dri = n % 3 == 0 ? " <@U222|lee>" : "";
                slack.send(
                    fake_slack::slash_envelope(f.envelope_id, "blocker kill " + f.token + dri));
            }
            frames.push_back(std::move(f));
        }
    };

    for (int round = 1; round <= kills; ++round) {
        bot_process bot(slack, db, log);
        int opened_before = slack.connections_opened();
        REQUIRE(slack.wait_for([&] { return slack.connections_opened() > opened_before; }, 10s));
        auto acks_before = slack.ack_count();
        send_round(round);
        // Kill after a random number of this round's acks: none (right after it connected)
        // up to all of them (while the posts of the round are still going out).
        auto wait_acks = std::uniform_int_distribution<std::size_t>(0, per_round)(rng);
        REQUIRE(slack.wait_for([&] { return slack.ack_count() >= acks_before + wait_acks; }, 10s));
        bot.signal(SIGKILL);
        REQUIRE(slack.wait_for([&] { return bot.exited(); }, 10s));
        REQUIRE(WIFSIGNALED(bot.status()));

        std::map<std::string, int> ack_count;
        auto acked = acked_envelopes(slack, ack_count);
        auto items = items_by_token(db, frames);
        for (std::size_t i = 0; i < frames.size(); ++i) {
            const auto& f = frames[i];
            INFO("round " << round << ", " << f.token << " (" << f.envelope_id << ")");
            bool was_acked = acked.count(f.envelope_id) != 0;
            CHECK(ack_count[f.envelope_id] <= 1);
            if (was_acked) {
                // Acked: committed before, so there, once (an event at least stored: it is
                // processed by this or the next process, and checked at the end).
                if (!f.event) {
                    CHECK(items[f.token] == 1);
                }
            } else {
                CHECK(items[f.token] <= 1); // may have been committed just before the kill
                if (f.event) {
                    owed_events.push_back(i);
                }
            }
            if (f.event) {
                CHECK(items[f.token] <= 1);
            }
        }
    }

    // The last start: Slack's retries of what is still owed, then a graceful stop once the
    // inbox and the outbox are empty.
    bot_process bot(slack, db, log);
    int opened_before = slack.connections_opened();
    REQUIRE(slack.wait_for([&] { return slack.connections_opened() > opened_before; }, 10s));
    send_round(kills + 1);
    std::map<std::string, int> ack_count;
    REQUIRE(slack.wait_for(
        [&] {
            std::map<std::string, int> c;
            auto acked = acked_envelopes(slack, c);
            for (std::size_t i = frames.size() - per_round; i < frames.size(); ++i) {
                if (acked.count(frames[i].envelope_id) == 0) {
                    return false;
                }
            }
            for (const auto& f : frames) {
                if (f.event && acked.count(f.envelope_id) == 0) {
                    return false;
                }
            }
            sqlite_store look(db);
            return look.pending(1).empty() && look.inbox_unprocessed(1).empty();
        },
        30s));
    bot.signal(SIGTERM);
    REQUIRE(slack.wait_for([&] { return bot.exited(); }, 10s));
    CHECK(WIFEXITED(bot.status()));
    CHECK(WEXITSTATUS(bot.status()) == 0);
    auto conns = slack.connection_log();
    REQUIRE(!conns.empty());
    CHECK(conns.back().close_code == 1000); // the graceful stop's close frame

    auto acked = acked_envelopes(slack, ack_count);
    auto items = items_by_token(db, frames);
    int acked_commands = 0;
    int unacked_commands = 0;
    for (const auto& f : frames) {
        INFO(f.token << " (" << f.envelope_id << ")");
        CHECK(ack_count[f.envelope_id] <= 1);
        if (f.event || acked.count(f.envelope_id) != 0) {
            CHECK(items[f.token] == 1);
            acked_commands += f.event ? 0 : 1;
        } else {
            CHECK(items[f.token] <= 1);
            ++unacked_commands;
        }
    }
    // The kills did land among the commands (not only between rounds).
    CHECK(acked_commands > 0);
    CHECK(unacked_commands > 0);

    // Every outbox row went out once: the fake's posts by the row their metadata names.
    sqlite_store look(db);
    std::map<std::int64_t, int> posts_of_row;
    for (const auto& call : slack.calls("chat.postMessage")) {
        auto m = call.params.find("metadata");
        REQUIRE(m != call.params.end());
        auto meta = boost::json::parse(m->second).as_object();
        ++posts_of_row[meta.at("event_payload").at("outbox_id").as_int64()];
    }
    int rows = 0;
    int posted_rows = 0;
    for (std::int64_t id = 1;; ++id) {
        auto row = look.outbox(id);
        if (!row) {
            break;
        }
        ++rows;
        INFO("outbox row " << id << ": " << row->e.text);
        CHECK(row->state == "sent");
        bool ephemeral = row->e.to == destination::ephemeral &&
                         (row->e.channel.empty() || row->e.channel[0] != 'D');
        CHECK(posts_of_row[id] == (ephemeral ? 0 : 1));
        posted_rows += ephemeral ? 0 : 1;
    }
    int events = 0;
    for (const auto& f : frames) {
        events += f.event ? 1 : 0;
    }
    std::size_t searches =
        slack.calls("conversations.history").size() + slack.calls("conversations.replies").size();
    // For the README's figures: printed by `fault_tests -s` or `ctest -V -L fault`.
    std::cout << fmt::format(
        "fault run: {} kills under load, {} frames ({} slash commands: {} acked, {} never acked; "
        "{} events, each processed once), {} outbox rows, {} posts, {} searches\n",
        kills, frames.size(), acked_commands + unacked_commands, acked_commands, unacked_commands,
        events, rows, slack.calls("chat.postMessage").size(), searches);
    CHECK(rows > kills * per_round / 2);
    CHECK(posts_of_row.size() == static_cast<std::size_t>(posted_rows));
    CHECK(look.inbox_unprocessed(10).empty());
    check_no_tokens(dir);
}

TEST_CASE("100 routine refreshes under traffic: never without a connection, nothing lost",
          "[fault][refresh]") {
    scene run;
    auto& slack = run.slack;
    constexpr int cycles = 100;
    int sent = 0;
    auto send = [&](int connection, int n) {
        for (int i = 0; i < n; ++i) {
            ++sent;
            slack.send(fake_slack::slash_envelope("env-" + std::to_string(sent),
                                                  "blocker refresh r" + std::to_string(sent)),
                       connection);
        }
    };
    for (int cycle = 1; cycle <= cycles; ++cycle) {
        INFO("cycle " << cycle);
        int old = slack.connections_opened(); // the newest, in use
        send(old, 5);
        // Slack's routine refresh (reference §2.8): a warning, then refresh_requested on the
        // same connection, which Slack then closes.
        slack.disconnect("warning", old);
        send(old, 5);
        REQUIRE(slack.wait_for(
            [&] {
                auto conns = slack.connection_log();
                return static_cast<int>(conns.size()) > old && conns[old].hello_at.has_value();
            },
            10s));
        send(old + 1, 5);
        send(old, 5);
        // The old one's frames are all acked before Slack closes it.
        REQUIRE(slack.wait_for([&] { return slack.ack_count() == static_cast<std::size_t>(sent); },
                               10s));
        slack.disconnect("refresh_requested", old, 0ms);
        REQUIRE(slack.wait_for(
            [&] { return slack.connection_log()[old - 1].closed_at.has_value(); }, 10s));
    }
    send(0, 5);
    REQUIRE(
        slack.wait_for([&] { return slack.ack_count() == static_cast<std::size_t>(sent); }, 10s));

    std::map<std::string, int> acks;
    for (const auto& a : slack.acks()) {
        ++acks[a.envelope_id];
    }
    CHECK(acks.size() == static_cast<std::size_t>(sent));
    for (const auto& [envelope, n] : acks) {
        INFO(envelope);
        CHECK(n == 1);
    }
    auto titles = run.titles();
    CHECK(titles.size() == static_cast<std::size_t>(sent));
    CHECK(std::set<std::string>(titles.begin(), titles.end()).size() == titles.size());
    // Each replacement said hello before Slack began closing the one it replaced: there was
    // always a connection to send to. One connection per refresh, no more.
    auto conns = slack.connection_log();
    CHECK(conns.size() == static_cast<std::size_t>(cycles + 1));
    for (std::size_t i = 1; i < conns.size(); ++i) {
        INFO("connection " << i + 1);
        REQUIRE(conns[i].hello_at.has_value());
        REQUIRE(conns[i - 1].closing_at.has_value());
        CHECK(*conns[i].hello_at < *conns[i - 1].closing_at);
    }
    CHECK(slack.frames_undelivered() == 0);
    run.stop();
    std::cout << fmt::format("refresh run: {} routine refreshes, {} commands, each acked once\n",
                             cycles, sent);
}

TEST_CASE("a storm of faults under traffic: every acked command stored once, every post once",
          "[fault][storm]") {
    scene run;
    auto& slack = run.slack;
    int sent = 0;      // commands
    int envelopes = 0; // every envelope sent, each to be acked once (checked at the end)
    // Sends a round of commands on the newest connection and waits for every ack. Each round
    // goes to a channel of its own: after a 429 Slack's pace is a message a second per
    // channel, which the bot keeps for a minute in the channel that got it.
    int rounds = 0;
    auto round = [&](int n) {
        auto channel = fmt::format("C{:03}", ++rounds);
        for (int i = 0; i < n; ++i) {
            ++sent;
            ++envelopes;
            slack.send(fake_slack::slash_envelope("env-" + std::to_string(sent),
                                                  "blocker storm s" + std::to_string(sent), "U111",
                                                  channel));
        }
        REQUIRE(slack.wait_for(
            [&] { return slack.ack_count() >= static_cast<std::size_t>(envelopes); }, 20s));
    };
    auto newest_said_hello = [&](int n) {
        return slack.wait_for(
            [&] {
                auto conns = slack.connection_log();
                return static_cast<int>(conns.size()) >= n && conns[n - 1].hello_at.has_value() &&
                       !conns[n - 1].closed_at.has_value();
            },
            40s);
    };
    round(10);

    // Posts: a 429 storm, 5xx answers, a lost answer after Slack posted, slow answers.
    for (int i = 0; i < 3; ++i) {
        slack.script("chat.postMessage", {429, "", 1});
    }
    slack.script("chat.postMessage", {500, "", 0});
    slack.script("chat.postMessage", {503, "", 0});
    test::scripted_reply lost{502, "bad gateway", 0};
    lost.perform = true;
    slack.script("chat.postMessage", lost);
    test::scripted_reply slow;
    slow.delay = 800ms;
    slack.script("chat.postMessage", slow);
    slack.script("chat.postMessage", slow);
    round(10);

    // Frames Slack should never send: malformed, binary, unknown, an envelope without a type.
    slack.send("{not json");
    slack.send("[1,2,3]");
    slack.send_binary(std::string("\x00\x01\x02", 3));
    slack.send(R"({"envelope_id":"env-unknown","type":"something_new","payload":{}})");
    ++envelopes;
    round(10);

    // An abrupt close (no close frame): replaced at once.
    slack.drop();
    REQUIRE(newest_said_hello(2));
    round(10);

    // Slack closes a connection for too many websockets; and apps.connections.open is
    // rate-limited while the bot replaces it.
    slack.script("apps.connections.open", {429, "", 1});
    slack.script("apps.connections.open", {500, "", 0});
    slack.disconnect("too_many_websockets", 0, 0ms);
    REQUIRE(newest_said_hello(3));
    round(10);

    // A half-open link: the connection stops answering pings and reading; the watchdog
    // (Slack's 20 s idle) replaces it.
    slack.go_silent();
    REQUIRE(newest_said_hello(4));
    round(10);

    sqlite_store look(run.db);
    REQUIRE(slack.wait_for([&] { return look.pending(1).empty(); }, 30s));
    std::map<std::string, int> acks;
    for (const auto& a : slack.acks()) {
        ++acks[a.envelope_id];
    }
    for (const auto& [envelope, n] : acks) {
        INFO(envelope);
        CHECK(n == 1);
    }
    CHECK(acks.count("env-unknown") == 1);
    CHECK(acks.size() == static_cast<std::size_t>(envelopes));
    auto titles = run.titles();
    CHECK(titles.size() == static_cast<std::size_t>(sent));
    CHECK(std::set<std::string>(titles.begin(), titles.end()).size() == titles.size());
    // Each card is in Slack exactly once, whatever the answers to its attempts were.
    std::map<std::int64_t, int> posts_of_row;
    for (const auto& meta : slack.posted_metadata()) {
        REQUIRE_FALSE(meta.empty());
        auto m = boost::json::parse(meta).as_object();
        ++posts_of_row[m.at("event_payload").at("outbox_id").as_int64()];
    }
    CHECK(posts_of_row.size() == static_cast<std::size_t>(sent));
    for (const auto& [row, n] : posts_of_row) {
        INFO("outbox row " << row);
        CHECK(n == 1);
    }
    CHECK(slack.connections_open() == 1);
    run.stop();
    std::cout << fmt::format("storm run: {} commands through 6 kinds of fault, {} connections, "
                             "{} post requests for {} messages\n",
                             sent, slack.connections_opened(),
                             slack.calls("chat.postMessage").size(), posts_of_row.size());
}
