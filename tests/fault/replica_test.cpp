// Replicas: three tpmbot processes on one PostgreSQL database, each with its own Socket Mode
// connection to the fake Slack, which spreads envelopes over them as Slack spreads them over an
// app's connections. One is killed mid-load; nothing acked is lost, nothing is done twice, every
// message goes out once, a scheduled standup prompt goes out once. The server comes from ctest's
// fixture (deploy/pg.sh); each run gets a schema of its own.
#include "open_store.hpp"
#include "support/bot_process.hpp"
#include "support/fake_slack.hpp"
#include "support/test_store.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <sys/wait.h>
#include <vector>

using namespace tpmbot;
using namespace std::chrono_literals;
using test::bot_process;
using test::fake_slack;
namespace json = boost::json;

namespace {

/// The outbox ids Slack holds, each as often as it was posted.
std::map<std::int64_t, int> posted_ids(const fake_slack& slack) {
    std::map<std::int64_t, int> ids;
    for (const auto& m : slack.posted_metadata()) {
        if (m.empty()) {
            continue;
        }
        auto id = json::parse(m).at("event_payload").at("outbox_id").to_number<std::int64_t>();
        ++ids[id];
    }
    return ids;
}

std::set<std::string> acked(const fake_slack& slack) {
    std::set<std::string> ids;
    for (const auto& a : slack.acks()) {
        ids.insert(a.envelope_id);
    }
    return ids;
}

} // namespace

TEST_CASE("three replicas on one database: one killed mid-load, nothing lost or doubled",
          "[replica][fault]") {
    if (!test::on_postgres()) {
        WARN("no PostgreSQL server configured (TPMBOT_TEST_PG_FILE or TPMBOT_TEST_PG)");
        return;
    }
    test::test_db db;
    test::temp_dir logs;
    fake_slack slack;
    // Everyone answers users.info with UTC, so the standup's times are UTC.
    for (const char* u : {"U111", "U901", "U902"}) {
        slack.set_person(u, "UTC");
    }
    slack.set_members("C111", {"U111", "U901", "U902"});
    std::vector<std::unique_ptr<bot_process>> bots;
    std::vector<std::string> log_paths;
    for (int i = 0; i < 3; ++i) {
        log_paths.push_back(logs.file(fmt::format("bot{}.log", i).c_str()).string());
        bots.push_back(std::make_unique<bot_process>(
            slack, db.where(), log_paths.back(),
            std::vector<std::string>{"TPMBOT_OUTBOX_LEASE=2", "TPMBOT_ADMINS=U111"}));
    }
    REQUIRE(slack.wait_for([&] { return slack.connections_open() == 3; }, 20s));

    // A standup whose prompt is due a minute or so from now, in UTC, every day.
    auto now = std::time(nullptr);
    auto due = (now + 70) / 60 * 60;
    std::tm utc{};
    gmtime_r(&due, &utc);
    auto at = fmt::format("{:02}:{:02}", utc.tm_hour, utc.tm_min);
    slack.send(fake_slack::slash_envelope(
                   "env-standup",
                   fmt::format("standup setup at:{} days:mon-sun members:<@U901>,<@U902>", at),
                   "U111", "C111"),
               1);
    REQUIRE(slack.wait_for([&] { return acked(slack).count("env-standup") == 1; }));
    for (const auto& ack : slack.acks()) {
        if (ack.envelope_id == "env-standup") {
            INFO(ack.payload);
            REQUIRE(test::pg_exec(db.where(), "SELECT count(*) FROM standups") == "1");
        }
    }

    // Slash commands and mentions, spread over the three connections.
    const int total = 240;
    std::map<std::string, std::string> events; // envelope id -> the envelope, for redelivery
    auto send = [&](int i, int connection) {
        auto id = fmt::format("env-{}", i);
        if (i % 4 == 3) {
            auto e = fake_slack::mention_envelope(
                id, fmt::format("Ev{}", i), fmt::format("<@UBOT> blocker: mention {}", i), "U111",
                "C111", fmt::format("1700000000.{:06}", i));
            events[id] = e;
            slack.send(e, connection);
        } else {
            slack.send(fake_slack::slash_envelope(id, fmt::format("blocker command {}", i)),
                       connection);
        }
    };
    for (int i = 0; i < total / 2; ++i) {
        send(i, 1 + i % 3);
    }
    // Kill the replica that sends the outbox, while the first half is in flight.
    REQUIRE(slack.wait_for([&] { return slack.calls("chat.postMessage").size() >= 10; }));
    auto holder = test::pg_exec(db.where(), "SELECT value FROM settings WHERE team_id = '' AND "
                                            "key = 'outbox.sender'");
    REQUIRE(!holder.empty());
    int killed = -1;
    for (int i = 0; i < 3; ++i) {
        if (holder.find(fmt::format("-{}-", bots[i]->pid())) != std::string::npos) {
            killed = i;
        }
    }
    REQUIRE(killed >= 0);
    bots[killed]->signal(SIGKILL);
    REQUIRE(slack.wait_for([&] { return bots[killed]->exited(); }));
    REQUIRE(slack.wait_for([&] { return slack.connections_open() == 2; }));
    // The rest goes to the two left (0 = the newest open connection; Slack picks any).
    for (int i = total / 2; i < total; ++i) {
        send(i, 0);
    }
    REQUIRE(slack.wait_for(
        [&] {
            auto a = acked(slack);
            int n = 0;
            for (int i = total / 2; i < total; ++i) {
                n += a.count(fmt::format("env-{}", i));
            }
            return n == total / 2;
        },
        30s));
    // Slack sends an event never acked once more (retry_attempt 1) on a connection still open;
    // an unacked slash command is not sent again: its person saw it fail.
    std::set<std::string> retries;
    auto before = acked(slack);
    for (const auto& [id, e] : events) {
        if (before.count(id) == 0) {
            auto v = json::parse(e).as_object();
            v["envelope_id"] = id + "-retry";
            v["retry_attempt"] = 1;
            slack.send(json::serialize(v), 0);
            retries.insert(id + "-retry");
        }
    }
    REQUIRE(slack.wait_for([&] {
        auto a = acked(slack);
        return std::all_of(retries.begin(), retries.end(),
                           [&](const std::string& id) { return a.count(id) != 0; });
    }));

    // Everything acked is stored once; every event is processed once.
    auto look = open_store(db.where());
    auto a = acked(slack);
    item_query q;
    q.team_id = "T111";
    int mentions_stored = 0;
    std::size_t unprocessed = 0;
    bool all_events = slack.wait_for(
        [&] {
            int n = 0;
            for (const auto& it : look->list_items(q)) {
                n += it.title.starts_with("mention ") ? 1 : 0;
            }
            mentions_stored = n;
            unprocessed = look->inbox_unprocessed(1000).size();
            return unprocessed == 0 && n == static_cast<int>(events.size());
        },
        30s);
    {
        INFO("mentions stored " << mentions_stored << " of " << events.size() << ", unprocessed "
                                << unprocessed << "\n"
                                << test::read_file(log_paths[0]) << test::read_file(log_paths[1])
                                << test::read_file(log_paths[2]));
        REQUIRE(all_events);
    }
    std::map<std::string, int> titles;
    std::set<std::int64_t> numbers;
    for (const auto& it : look->list_items(q)) {
        ++titles[it.title];
        CHECK(numbers.insert(it.num).second); // ids unique
    }
    for (const auto& [title, n] : titles) {
        INFO(title);
        CHECK(n == 1);
    }
    for (int i = 0; i < total; ++i) {
        auto id = fmt::format("env-{}", i);
        bool is_event = i % 4 == 3;
        auto title = is_event ? fmt::format("mention {}", i) : fmt::format("command {}", i);
        INFO(title);
        if (is_event) {
            // Every event gets through: Slack retries what was not acked.
            CHECK(titles.count(title) == 1);
        } else if (a.count(id) != 0) {
            CHECK(titles.count(title) == 1); // acked means stored
        }
    }

    // Every message is posted once, including those the killed replica may have posted.
    REQUIRE(slack.wait_for([&] { return look->pending(10).empty(); }, 30s));
    for (const auto& [id, n] : posted_ids(slack)) {
        INFO("outbox row " << id);
        CHECK(n == 1);
    }

    // The standup's prompt: once per person, whichever replica's scheduler got there first.
    auto wait_s = static_cast<int>(due - std::time(nullptr)) + 90;
    bool prompted = slack.wait_for(
        [&] {
            return test::pg_exec(db.where(),
                                 "SELECT count(*) FROM standup_entries WHERE state = 'prompted'") ==
                   "2";
        },
        std::chrono::seconds(std::max(wait_s, 10)));
    {
        INFO("standups: "
             << test::pg_exec(db.where(), "SELECT string_agg(channel_id || ' ' || minute || ' ' "
                                          "|| days || ' ' || tz, '; ') FROM standups")
             << "\nentries: "
             << test::pg_exec(db.where(), "SELECT string_agg(user_id || ' ' || state, '; ') FROM "
                                          "standup_entries")
             << "\nclaims: "
             << test::pg_exec(db.where(),
                              "SELECT string_agg(job || ' ' || period, '; ') FROM job_claims")
             << "\nat " << at << "\n"
             << test::read_file(log_paths[(killed + 1) % 3]));
        REQUIRE(prompted);
    }
    REQUIRE(slack.wait_for([&] { return look->pending(10).empty(); }, 30s));
    for (const char* user : {"U901", "U902"}) {
        INFO(user);
        CHECK(test::pg_exec(db.where(), fmt::format("SELECT count(*) FROM outbox WHERE "
                                                    "destination = 'dm' AND \"user\" = '{}'",
                                                    user)) == "1");
        int posts = 0;
        for (const auto& c : slack.calls("chat.postMessage")) {
            posts += test::param(c, "channel") == "D" + std::string(user).substr(1) ? 1 : 0;
        }
        CHECK(posts == 1);
    }
    for (const auto& [id, n] : posted_ids(slack)) {
        INFO("outbox row " << id);
        CHECK(n == 1);
    }
    for (auto& b : bots) {
        b->signal(SIGTERM);
    }
    for (auto& b : bots) {
        REQUIRE(slack.wait_for([&] { return b->exited(); }, 20s));
    }
}
