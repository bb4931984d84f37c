// A standup day against the in-process fake Slack: the scheduler on a manual clock, prompts
// by DM in each member's zone (conversations.open, users.info), answers and an edit over
// Socket Mode, the digest in the channel, and exactly once across a restart. Every wait is
// bounded; time moves only when the test moves it.

#include "scheduler.hpp"
#include "sqlite_store.hpp"
#include "support/fake_slack.hpp"
#include "support/running_bot.hpp"

#include <catch2/catch.hpp>

using namespace tpmbot;
using namespace std::chrono_literals;
using test::fake_slack;
using test::running_bot;

namespace {

constexpr unix_time hour = 3600;
/// Tue 2026-11-24 12:00 UTC.
constexpr unix_time tuesday_noon = 1795521600;
/// Wed 2026-11-25 08:00 UTC: 09:00 in Berlin (CET).
constexpr unix_time wednesday_0800 = tuesday_noon + 20 * hour;

/// chat.postMessage calls to `channel` whose text contains `part`.
std::vector<test::api_call> posts_to(const fake_slack& slack, const std::string& channel,
                                     const std::string& part) {
    std::vector<test::api_call> out;
    for (const auto& c : slack.calls("chat.postMessage")) {
        if (param(c, "channel") == channel && param(c, "text").find(part) != std::string::npos) {
            out.push_back(c);
        }
    }
    return out;
}

bool called_for(const fake_slack& slack, const std::string& method, const std::string& key,
                const std::string& value) {
    for (const auto& c : slack.calls(method)) {
        if (param(c, key) == value) {
            return true;
        }
    }
    return false;
}

/// The scheduler's last tick as stored, read through a separate connection.
unix_time last_tick(const std::string& path) {
    sqlite_store look(path);
    auto v = look.setting("", "scheduler.last_tick");
    return v ? std::stoll(*v) : 0;
}

} // namespace

TEST_CASE("a standup day over Socket Mode: prompts by zone, answers, an edit, the digest, "
          "and nothing twice after a restart",
          "[slack][standup]") {
    test::temp_dir dir;
    auto path = dir.file("bot.db").string();
    {
        sqlite_store setup(path);
        setup.transact([&] { setup.add_admin("T111", "U111", 0); });
    }
    auto clock = std::make_shared<manual_clock>(tuesday_noon);
    {
        running_bot bot({}, path);
        bot.settings.clock = clock;
        bot.slack.set_person("U222", "America/Los_Angeles");
        bot.slack.set_members("C111", {"U111", "U222", "U333", "UBOT"}); // U444 is not in it
        bot.start_connected();

        bot.slack.send(fake_slack::slash_envelope(
            "e-setup", "standup setup at:09:00 report:11:00 members:<@U111>,<@U222>,<@U444>"));
        REQUIRE(bot.ack_for("e-setup"));
        bot.app->poke_scheduler(); // rather than wait for its once-a-minute round
        // The scheduler reads the channel's members (two pages here) and the members' zones.
        REQUIRE(bot.slack.wait_for([&] {
            return bot.slack.calls("conversations.members").size() >= 2 &&
                   called_for(bot.slack, "users.info", "user", "U222");
        }));
        CHECK(called_for(bot.slack, "conversations.members", "cursor", "offset=2"));

        // Wednesday 09:00 in Berlin: U111 is asked; U222 (Los Angeles) is still asleep.
        clock->set(wednesday_0800);
        bot.app->poke_scheduler();
        INFO(bot.log_text());
        REQUIRE(bot.slack.wait_for(
            [&] { return !posts_to(bot.slack, "D111", "Standup for <#C111>").empty(); }));
        CHECK(called_for(bot.slack, "conversations.open", "users", "U111"));
        CHECK_FALSE(called_for(bot.slack, "conversations.open", "users", "U222"));

        // All three answers at once, one per line, then an edit of that message.
        bot.slack.send(fake_slack::dm_envelope("e-dm", "Ev-dm",
                                               "fixed the login bug\nreview the API PR\n"
                                               "waiting on infra for the staging cert",
                                               "U111", "D111", "1795594000.000100"));
        REQUIRE(bot.slack.wait_for(
            [&] { return !posts_to(bot.slack, "D111", "that's everything").empty(); }));
        REQUIRE(bot.slack.wait_for(
            [&] { return !posts_to(bot.slack, "D111", "You mentioned a blocker").empty(); }));
        bot.slack.send(fake_slack::dm_edit_envelope(
            "e-edit", "Ev-edit",
            "fixed the login bug\nreview the API PR and the design doc\n"
            "waiting on infra for the staging cert",
            "U111", "D111", "1795594000.000100"));
        REQUIRE(bot.slack.wait_for(
            [&] { return !posts_to(bot.slack, "D111", "Updated your standup answer").empty(); }));

        // 11:00 in Berlin: the digest, with the edited answer, the blocker first, and the
        // member who is not in the channel reported rather than nudged.
        clock->set(wednesday_0800 + 2 * hour);
        bot.app->poke_scheduler();
        REQUIRE(bot.slack.wait_for(
            [&] { return !posts_to(bot.slack, "C111", "*Standup · <#C111>").empty(); }));
        auto digest = param(posts_to(bot.slack, "C111", "*Standup · <#C111>")[0], "text");
        CHECK(digest.find("review the API PR and the design doc") != std::string::npos);
        CHECK(digest.find("*Blockers*\n• <@U111>: waiting on infra") != std::string::npos);
        CHECK(digest.find("<@U444> (not in the channel)") != std::string::npos);
        CHECK(digest.find("<@U222>") == std::string::npos); // asked later, for tomorrow
        CHECK_FALSE(called_for(bot.slack, "conversations.open", "users", "U444"));

        // 09:00 in Los Angeles (17:00 UTC): U222 is asked.
        clock->set(wednesday_0800 + 9 * hour);
        bot.app->poke_scheduler();
        REQUIRE(bot.slack.wait_for(
            [&] { return !posts_to(bot.slack, "D222", "Standup for <#C111>").empty(); }));
        CHECK(posts_to(bot.slack, "D111", "Standup for").size() == 1);
        CHECK(posts_to(bot.slack, "C111", "*Standup ·").size() == 1);
        REQUIRE(bot.slack.wait_for([&] { return last_tick(path) == wednesday_0800 + 9 * hour; }));
    }

    // A restart a minute later, on the same database: the scheduler runs, and nothing that
    // already fired is posted again.
    clock->set(wednesday_0800 + 9 * hour + 60);
    running_bot again({}, path);
    again.settings.clock = clock;
    again.slack.set_members("C111", {"U111", "U222", "U333", "UBOT"});
    again.start_connected();
    REQUIRE(again.slack.wait_for([&] { return last_tick(path) == clock->now(); }));
    CHECK(posts_to(again.slack, "D111", "Standup for").empty());
    CHECK(posts_to(again.slack, "D222", "Standup for").empty());
    CHECK(posts_to(again.slack, "C111", "*Standup ·").empty());
}
