#include "config.hpp"
#include "console.hpp"
#include "dispatcher.hpp"
#include "router.hpp"
#include "sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <sstream>

using namespace tpmbot;

namespace {

/// A console over a fresh database, printing into a string.
struct console_fixture {
    test::temp_dir dir;
    sqlite_store db{dir.file("c.db").string()};
    router routes = make_router();
    dispatcher d{db, routes, {}, [](const std::string&) {
                 }};
    config cfg = [] {
        config fixed;
        fixed.tz = "Europe/Berlin";
        fixed.clock = 1795597200; // 2026-11-25T09:00:00Z
        return fixed;
    }();
    std::ostringstream out;
    console c{db, d, cfg, out};

    std::string say(const std::string& line) {
        out.str("");
        c.line(line);
        return out.str();
    }
};

} // namespace

TEST_CASE("the console encodes typed text the way Slack sends it", "[console]") {
    console_fixture f;
    CHECK(f.c.encode("waiting on @dana & #infra <now>") ==
          "waiting on <@UDANA|dana> &amp; <#CINFRA|infra> &lt;now&gt;");
    CHECK(f.c.encode("@here and @channel, @everyone") == "<!here> and <!channel>, <!everyone>");
    CHECK(f.c.encode("consult:@ana,@raj dri:@lee") ==
          "consult:<@UANA|ana>,<@URAJ|raj> dri:<@ULEE|lee>");
    CHECK(f.c.encode("mail a@b.com about #1") == "mail a@b.com about #1");
    CHECK(f.c.encode("ping <!subteam^S1|@eng> and <@W2>") == "ping <!subteam^S1|@eng> and <@W2>");
    CHECK(f.c.encode("thanks @dana.") == "thanks <@UDANA|dana>.");
}

TEST_CASE("console ids are derived from names", "[console]") {
    CHECK(console::user_id_for("dana") == "UDANA");
    CHECK(console::user_id_for("qa-lead") == "UQALEAD");
    CHECK(console::channel_id_for("design-review") == "CDESIGNREVIEW");
}

TEST_CASE("the console prints where each post went and delivers it once", "[console]") {
    console_fixture f;
    auto out = f.say("/tpm blocker waiting on the cert @dana sev:high");
    CHECK_THAT(out, Catch::Contains("[#general · card of B-1 · ts 1795597200."));
    CHECK_THAT(out, Catch::Contains("[DM to @dana]"));
    CHECK_THAT(out, Catch::Contains("[1: Ack] [2: Resolve] [3: Take ownership]"));
    CHECK(f.db.pending(10).empty());
    auto it = f.db.find_item("T0CONSOLE", {item_kind::blocker, 1});
    REQUIRE(it);
    CHECK(it->thread_channel == "CGENERAL");
    CHECK_FALSE(it->thread_ts.empty());

    out = f.say("/tpm blocker B-1 ack");
    CHECK_THAT(out, Catch::Contains("[#general · thread of B-1]"));
    out = f.say("/tpm blocker list");
    CHECK_THAT(out, Catch::Contains("[#general · only @me sees this]"));
}

TEST_CASE("console buttons run their command as the person who presses them", "[console]") {
    console_fixture f;
    f.say("/tpm blocker vendor sandbox down");
    f.say(":as sam");
    auto out = f.say(":click 3");
    CHECK_THAT(out, Catch::Contains("(@sam pressed [Take ownership])"));
    CHECK(f.db.find_item("T0CONSOLE", {item_kind::blocker, 1})->dri == "USAM");
    out = f.say(":click 99");
    CHECK_THAT(out, Catch::Contains("there is no button 99"));
}

TEST_CASE("console mentions answer in their thread", "[console]") {
    console_fixture f;
    auto out = f.say("@tpmbot waiting on design review from @lee");
    CHECK_THAT(out, Catch::Contains("[#general · in thread 1795597200."));
    CHECK_THAT(out, Catch::Contains("[5: Undo]"));
    auto it = f.db.find_item("T0CONSOLE", {item_kind::blocker, 1});
    REQUIRE(it);
    f.say(":thread B-1");
    out = f.say("@tpmbot blocker: second one in the same thread");
    CHECK_THAT(out, Catch::Contains("in thread " + it->thread_ts));
}

TEST_CASE("the console has its own meta commands and tells what it ignores", "[console]") {
    console_fixture f;
    CHECK_THAT(f.say("hello team"), Catch::Contains("a plain message"));
    CHECK_THAT(f.say("/giphy cats"), Catch::Contains("not a command of this app"));
    CHECK_THAT(f.say(":advance 2d"), Catch::Contains("Fri 2026-11-27"));
    CHECK(f.c.now() == 1795597200 + 2 * 86400);
    CHECK_THAT(f.say(":advance soon"), Catch::Contains("use :advance"));
    CHECK_THAT(f.say(":frobnicate"), Catch::Contains("unknown console command"));
    CHECK_THAT(f.say(":thread B-9"), Catch::Contains("B-9 has no thread"));
    CHECK(f.say("# a comment").empty());
    CHECK_FALSE(f.c.line(":quit"));
}

TEST_CASE("only the console's own person is an admin", "[console]") {
    console_fixture f;
    CHECK_THAT(f.say("/tpm config admins @ana"), Catch::Contains("are now tpmbot admins"));
    f.say(":as lee");
    CHECK_THAT(f.say("/tpm config admins @lee"), Catch::Contains("Only an admin"));
    f.say(":as ana");
    CHECK_THAT(f.say("/tpm config admins @lee"), Catch::Contains("are now tpmbot admins"));
}

TEST_CASE("console DMs answer a standup, :edit changes the last one, :advance stops at each "
          "due time",
          "[console][standup]") {
    console_fixture f; // Wed 2026-11-25 10:00 in Berlin
    CHECK_THAT(f.say(":edit nothing yet"), Catch::Contains("not sent tpmbot a direct message"));
    CHECK_THAT(f.say(":dm hello"), Catch::Contains("No standup is waiting"));
    f.say("/standup setup at:09:00 report:11:00 members:@me,@ana");
    // A day in one step: Thursday's prompts, reminders and report each run at their time.
    auto day = f.say(":advance 25h");
    auto prompt = day.find("[DM to @me]\n  :wave: *Standup for <#CGENERAL>* · Thu 2026-11-26");
    auto reminder = day.find(":alarm_clock: A reminder");
    auto digest = day.find("*Standup · <#CGENERAL> · Thu 2026-11-26*");
    REQUIRE(prompt != std::string::npos);
    REQUIRE(reminder != std::string::npos);
    REQUIRE(digest != std::string::npos);
    CHECK(prompt < reminder);
    CHECK(reminder < digest);
    CHECK_THAT(day, Catch::Contains("*No answer yet:* <@UANA>, <@UME>"));
    CHECK_THAT(day, Catch::Contains("(the clock is now Thu 2026-11-26 11:00 in Europe/Berlin)"));
    // A late answer goes in the digest's thread; an edit of it before it is complete counts.
    CHECK_THAT(f.say(":dm shipped it"), Catch::Contains("*2/3*"));
    CHECK_THAT(f.say(":edit shipped the search page"), Catch::Contains("Updated your standup"));
    f.say(":dm the API");
    auto late = f.say(":dm none");
    CHECK_THAT(late, Catch::Contains("[#general · thread of standup:CGENERAL:2026-11-26]"));
    CHECK_THAT(late, Catch::Contains("shipped the search page"));
}

TEST_CASE("in the console a members:channel standup asks who has typed in the channel",
          "[console][standup]") {
    console_fixture f;
    f.say("/standup setup at:09:00 report:11:00 members:channel");
    f.say(":as ana");
    f.say("/tpm blocker list");
    f.say(":as lee");
    f.say(":in #design");
    f.say("/tpm blocker list"); // another channel: not a member of #general's standup
    auto members = f.db.channel_members("T0CONSOLE", "CGENERAL");
    REQUIRE(members);
    CHECK(*members == std::vector<std::string>{"UANA", "UME"});
    auto day = f.say(":advance 1d");
    CHECK_THAT(day, Catch::Contains("[DM to @ana]"));
    CHECK_THAT(day, Catch::Contains("[DM to @me]"));
    CHECK_THAT(day, !Catch::Contains("[DM to @lee]"));
}
