// Standups (`/tpm standup`, SPEC §4): setup, show, pause/resume, now, ooo/back/skip/tz, the
// DM conversation that collects answers, edits, late answers, the blocker offer and the
// digest. "Today" is Wed 2026-11-25; t0 = 09:00 UTC = 10:00 in Europe/Berlin, the harness
// zone and so the zone of every standup set up here. The usual standup asks at 09:30 Berlin
// (08:30 UTC) and reports at 11:30 Berlin (10:30 UTC).

#include "standup.hpp"
#include "support/harness.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

using strings = std::vector<std::string>;

constexpr unix_time prompt_at = t0 - 30 * 60; // Wed 09:30 Berlin
constexpr unix_time report_at = t0 + 90 * 60; // Wed 11:30 Berlin
constexpr unix_time before_prompt = t0 - 2 * hour;
const std::string today = "2026-11-25";
const std::string q1 = "*1/3* What did you do since last time?";
const std::string q2 = "*2/3* What will you do next?";
const std::string q3 = "*3/3* Anything blocking you?";

opts admin_at(unix_time now) {
    opts o;
    o.admin = true;
    o.now = now;
    return o;
}

/// Sets up the usual standup of CGENERAL (UANA and URAJ, 09:30, report 11:30) at `now`.
void usual_standup(harness& h, unix_time now = before_prompt,
                   const std::string& members = "<@UANA|ana>,<@URAJ|raj>") {
    h.ok("standup setup at:09:30 members:" + members, "UADMIN", admin_at(now));
}

/// A fresh Slack message ts for a DM.
std::string next_ts() {
    static int n = 0;
    ++n;
    auto digits = std::to_string(1000000 + n).substr(1);
    return "1795600000." + digits;
}

opts dm_opts(const std::string& user, unix_time now, const std::string& ts) {
    opts o;
    o.from = source::dm;
    o.channel = "D" + user;
    o.message_ts = ts;
    o.now = now;
    return o;
}

/// `user` writes `text` in their DM with the bot (message `ts`, a fresh one when empty).
handled dm(harness& h, const std::string& user, const std::string& text, unix_time now = t0,
           std::string ts = {}) {
    return h.run(text, user, dm_opts(user, now, ts.empty() ? next_ts() : ts));
}

/// `user` edits their DM `ts` to read `text`.
handled edit(harness& h, const std::string& user, const std::string& text, const std::string& ts,
             unix_time now = t0) {
    auto c = h.make(text, user, dm_opts(user, now, ts));
    c.edited = true;
    return h.dispatch.handle(c);
}

/// What a run of the scheduled standup work produced.
struct job_run {
    int ran = 0;
    std::vector<std::pair<std::string, effect>> out; ///< (team, effect)
    strings logs;

    std::vector<effect> dms_to(const std::string& user) const {
        std::vector<effect> r;
        for (const auto& [team, e] : out) {
            if (e.to == destination::dm && e.user == user) {
                r.push_back(e);
            }
        }
        return r;
    }
    std::vector<effect> posts() const {
        std::vector<effect> r;
        for (const auto& [team, e] : out) {
            if (e.to == destination::channel) {
                r.push_back(e);
            }
        }
        return r;
    }
};

job_run jobs(harness& h, unix_time from, unix_time to) {
    job_run r;
    r.ran = run_standup_jobs(
        h.db, from, to, standup_timing{},
        [&](const std::string& team, const effect& e) { r.out.emplace_back(team, e); },
        [&](const std::string& line) { r.logs.push_back(line); });
    return r;
}

/// The digest posted by a job run, which must be exactly one channel post.
effect digest_of(const job_run& r) {
    auto posts = r.posts();
    REQUIRE(posts.size() == 1);
    return posts[0];
}

/// The DMs of a handled command to `user`.
std::vector<effect> dms_to(const handled& r, const std::string& user) {
    std::vector<effect> out;
    for (const auto& e : r.effects) {
        if (e.to == destination::dm && e.user == user) {
            out.push_back(e);
        }
    }
    return out;
}

/// The DM effects of `r` that carry buttons (the blocker offer).
std::vector<effect> offers(const handled& r) {
    std::vector<effect> out;
    for (const auto& e : r.effects) {
        if (e.to == destination::dm && !e.buttons.empty()) {
            out.push_back(e);
        }
    }
    return out;
}

standup_entry entry_of(harness& h, const std::string& user, const std::string& period = today,
                       const std::string& channel = "CGENERAL") {
    auto e = h.db.find_entry("T1", channel, period, user);
    INFO("entry of " << user << " for " << period);
    REQUIRE(e);
    return *e;
}

/// The usual standup, its prompts sent by the scheduler at 09:30.
job_run prompted(harness& h, const std::string& members = "<@UANA|ana>,<@URAJ|raj>") {
    usual_standup(h, before_prompt, members);
    return jobs(h, before_prompt, prompt_at);
}

} // namespace

// --- setup ---

TEST_CASE("standup setup stores the standup and announces it in the channel", "[standup]") {
    harness h;
    auto r = h.ok("standup setup at:09:30 days:mon-fri report:11:00 "
                  "members:<@UANA|ana>,<@URAJ|raj>",
                  "UADMIN", as_admin());
    auto s = h.db.find_standup("T1", "CGENERAL");
    REQUIRE(s);
    CHECK(s->minute == 9 * 60 + 30);
    CHECK(s->report_minute == 11 * 60);
    CHECK(s->days == 0x1fu);
    CHECK(s->tz == "Europe/Berlin");
    CHECK(s->members == strings{"UANA", "URAJ"});
    CHECK_FALSE(s->whole_channel);
    CHECK_FALSE(s->paused);
    CHECK(s->created_by == "UADMIN");
    CHECK(s->created_at == t0);

    REQUIRE(r.effects.size() == 2);
    auto line = one(r, destination::channel);
    CHECK(line.channel == "CGENERAL");
    CHECK(line.text == ":spiral_calendar_pad: <@UADMIN> set up a standup for <#CGENERAL>. "
                       "I'll ask <@UANA>, <@URAJ> at 09:30 in each person's own time zone "
                       "(mon-fri) and post the report here at 11:00 Europe/Berlin.");
    auto reply = one(r, destination::ephemeral);
    CHECK(reply.user == "UADMIN");
    CHECK(has(reply.text, "Standup saved for <#CGENERAL>."));
    CHECK(has(reply.text, "`/tpm standup now`"));
}

TEST_CASE("standup setup for another channel announces it there", "[standup]") {
    harness h;
    auto r = h.ok("standup setup <#CENG|eng> at:08:45 days:mon,wed,fri members:<@UANA>", "UADMIN",
                  as_admin());
    CHECK_FALSE(h.db.find_standup("T1", "CGENERAL"));
    auto s = h.db.find_standup("T1", "CENG");
    REQUIRE(s);
    CHECK(s->days == 0b10101u);
    CHECK(s->report_minute == 10 * 60 + 45);
    auto line = one(r, destination::channel);
    CHECK(line.channel == "CENG");
    CHECK(has(line.text, "(mon,wed,fri)"));
    auto reply = one(r, destination::ephemeral);
    CHECK(reply.channel == "CGENERAL");
    CHECK(has(reply.text, "Standup saved for <#CENG>."));
}

TEST_CASE("standup setup with members:channel asks everyone in the channel", "[standup]") {
    harness h;
    auto r = h.ok("standup setup at:09:30 members:channel", "UADMIN", as_admin());
    auto s = h.db.find_standup("T1", "CGENERAL");
    REQUIRE(s);
    CHECK(s->whole_channel);
    CHECK(s->members.empty());
    CHECK(has(one(r, destination::channel).text, "I'll ask everyone in <#CGENERAL> at 09:30"));

    h.db.set_channel_members("T1", "CGENERAL", {"UANA", "UBOB"}, t0);
    auto now = h.ok("standup now", "UADMIN", as_admin());
    CHECK(dms_to(now, "UANA").size() == 1);
    CHECK(dms_to(now, "UBOB").size() == 1);
    CHECK(has(one(now, destination::ephemeral).text, "Asked 2 of 2 members"));
}

TEST_CASE("standup setup reports two hours after the prompt unless told", "[standup]") {
    harness h;
    auto r = h.ok("standup setup at:21:59 members:<@UANA>", "UADMIN", as_admin());
    CHECK(h.db.find_standup("T1", "CGENERAL")->report_minute == 23 * 60 + 59);
    CHECK(has(one(r, destination::ephemeral).text, "post the report here at 23:59"));
    h.ok("standup setup at:9:05 members:<@UANA>", "UADMIN", as_admin());
    CHECK(h.db.find_standup("T1", "CGENERAL")->minute == 9 * 60 + 5);
    CHECK(h.db.find_standup("T1", "CGENERAL")->report_minute == 11 * 60 + 5);
}

TEST_CASE("standup setup tz: gives the standup its zone", "[standup]") {
    harness h;
    auto r =
        h.ok("standup setup at:09:00 tz:America/New_York members:<@UANA>", "UADMIN", as_admin());
    CHECK(h.db.find_standup("T1", "CGENERAL")->tz == "America/New_York");
    CHECK(has(one(r, destination::ephemeral).text, "at 11:00 America/New_York."));
    // A member with no zone of their own is asked in the standup's zone.
    CHECK(member_zone(h.db, *h.db.find_standup("T1", "CGENERAL"), "UANA") == "America/New_York");
    h.db.set_user_info("T1", "UANA", "Asia/Tokyo", false, t0);
    CHECK(member_zone(h.db, *h.db.find_standup("T1", "CGENERAL"), "UANA") == "Asia/Tokyo");
}

TEST_CASE("standup setup again replaces the standup", "[standup]") {
    harness h;
    h.ok("standup setup at:09:30 days:daily members:<@UANA>,<@URAJ>", "UADMIN", as_admin());
    h.ok("standup pause", "UADMIN", as_admin());
    opts la = admin_at(t0 + hour);
    la.tz = "America/Los_Angeles";
    auto r = h.ok("standup setup at:10:00 report:10:45 members:<@ULEE>", "UBOSS", la);
    auto all = h.db.list_standups("T1");
    REQUIRE(all.size() == 1);
    auto s = all[0];
    CHECK(s.minute == 10 * 60);
    CHECK(s.report_minute == 10 * 60 + 45);
    // What is not given again is kept: days, the zone (not the changer's), the pause.
    CHECK(s.days == 0x7fu);
    CHECK(s.tz == "Europe/Berlin");
    CHECK(s.paused);
    CHECK(has(all_text(r), "It is paused"));
    CHECK(has(one(r, destination::channel).text, "changed a standup"));
    CHECK(s.members == strings{"ULEE"});
    CHECK(s.created_by == "UADMIN"); // still who created it
    CHECK(s.created_at == t0);
    CHECK(s.updated_at == t0 + hour);
    // Only the time: the members stay, and the report keeps its 45 minutes after the prompt.
    h.ok("standup setup at:09:00", "UBOSS", admin_at(t0 + 2 * hour));
    s = *h.db.find_standup("T1", "CGENERAL");
    CHECK(s.minute == 9 * 60);
    CHECK(s.report_minute == 9 * 60 + 45);
    CHECK(s.members == strings{"ULEE"});
    // Only the report: the prompt stays.
    h.ok("standup setup report:12:00", "UBOSS", admin_at(t0 + 3 * hour));
    s = *h.db.find_standup("T1", "CGENERAL");
    CHECK(s.minute == 9 * 60);
    CHECK(s.report_minute == 12 * 60);
}

TEST_CASE("a standup belongs to a channel, not a DM", "[standup]") {
    harness h;
    opts o = as_admin();
    o.channel = "DUADMIN";
    auto msg = h.refused("standup setup at:09:30 members:<@UANA>", "UADMIN", o);
    CHECK(has(msg, "A standup belongs to a channel"));
    CHECK(h.db.list_standups("T1").empty());
}

TEST_CASE("standup setup is for admins only", "[standup]") {
    harness h;
    auto msg = h.refused("standup setup at:09:30 members:<@UANA>", "UANA");
    CHECK(has(msg, "Only an admin can set up a standup"));
    CHECK_FALSE(h.db.find_standup("T1", "CGENERAL"));
}

TEST_CASE("standup setup refuses bad input with a clear message and stores nothing", "[standup]") {
    harness h;
    auto refused = [&](const std::string& args) {
        auto msg = h.refused("standup setup " + args, "UADMIN", as_admin());
        CHECK_FALSE(h.db.find_standup("T1", "CGENERAL"));
        CHECK(h.db.list_standups("T1").empty());
        return msg;
    };
    SECTION("an unknown zone") {
        CHECK(has(refused("at:09:30 tz:Mars/Base members:<@UANA>"),
                  "Unknown time zone \"Mars/Base\""));
    }
    SECTION("times of day that are not") {
        CHECK(has(refused("at:25:00 members:<@UANA>"), "`25:00` is not a time of day"));
        CHECK(has(refused("at:9am members:<@UANA>"), "`9am` is not a time of day"));
        CHECK(
            has(refused("at:09:30 report:11:75 members:<@UANA>"), "`11:75` is not a time of day"));
    }
    SECTION("no prompt time") {
        CHECK(has(refused("members:<@UANA>"), "When should I ask? Add `at:<HH:MM>`"));
    }
    SECTION("a report before or at the prompt") {
        auto msg = refused("at:09:30 report:09:00 members:<@UANA>");
        CHECK(has(msg, "must come after the prompt (`at:09:30`)"));
        CHECK(has(msg, "e.g. `report:11:30`"));
        CHECK(has(refused("at:09:30 report:09:30 members:<@UANA>"), "must come after the prompt"));
    }
    SECTION("a late prompt whose default report falls past midnight") {
        CHECK(has(refused("at:23:00 members:<@UANA>"), "would fall on the next day"));
        CHECK(has(refused("at:22:00 members:<@UANA>"), "would fall on the next day"));
    }
    SECTION("nobody to ask") {
        CHECK(has(refused("at:09:30"), "Who takes part? Add `members:@a,@b` or `members:channel`"));
    }
    SECTION("both the channel and people") {
        CHECK(has(refused("at:09:30 members:channel <@UANA>"),
                  "Use either `members:channel` or a list of people, not both."));
        CHECK(has(refused("at:09:30 members:channel,<@UANA>"), "not both"));
    }
    SECTION("members that are not people") {
        CHECK(has(refused("at:09:30 members:ana"), "`members:` needs a person"));
    }
    SECTION("days that are not") {
        CHECK(
            has(refused("at:09:30 days:funday members:<@UANA>"), "`funday` is not a set of days"));
    }
    SECTION("a typo in a key") {
        CHECK(has(refused("at:09:30 membres:<@UANA>"),
                  "`membres:` is not an option here. Did you mean `members:`?"));
        CHECK(has(refused("at:09:30 reprot:11:00 members:<@UANA>"), "Did you mean `report:`?"));
    }
    SECTION("words left over") {
        CHECK(has(refused("at:09:30 members:<@UANA> please"),
                  "I don't understand `please` in a standup setup"));
    }
}

TEST_CASE("a refused standup setup leaves the existing one as it was", "[standup]") {
    harness h;
    usual_standup(h, t0);
    auto before = h.db.find_standup("T1", "CGENERAL");
    REQUIRE(before);
    h.refused("standup setup at:10:00 tz:Mars/Base members:<@ULEE>", "UADMIN", admin_at(t0 + hour));
    auto after = h.db.find_standup("T1", "CGENERAL");
    REQUIRE(after);
    CHECK(after->minute == before->minute);
    CHECK(after->members == before->members);
    CHECK(after->tz == before->tz);
    CHECK(after->updated_at == t0);
}

// --- show, pause, resume ---

TEST_CASE("standup show describes the channel's standup", "[standup]") {
    harness h;
    auto r = h.ok("standup show");
    CHECK(one(r, destination::ephemeral).text ==
          "There is no standup in <#CGENERAL>, and you are in none. An admin can set one up, "
          "e.g. `/tpm standup setup #eng at:09:30 days:mon-fri report:11:00 "
          "members:@ana,@raj`");

    usual_standup(h, t0);
    h.db.set_user_info("T1", "URAJ", "Asia/Kolkata", false, t0);
    auto shown = one(h.ok("standup show"), destination::ephemeral).text;
    CHECK(shown == "*Standup in <#CGENERAL>*\n"
                   "Asks at 09:30 in each member's zone, mon-fri; reports here at 11:30 "
                   "Europe/Berlin.\n"
                   "Members: <@UANA> (Europe/Berlin), <@URAJ> (Asia/Kolkata)\n"
                   "Questions:\n"
                   "1. What did you do since last time?\n"
                   "2. What will you do next?\n"
                   "3. Anything blocking you?\n"
                   "Next report: Wed 2026-11-25 11:30 Europe/Berlin.");
    // `standup` alone is show.
    CHECK(one(h.ok("standup"), destination::ephemeral).text == shown);
    // Out of office shows.
    h.ok("standup ooo 2d", "UANA");
    CHECK(has(one(h.ok("standup show"), destination::ephemeral).text,
              "<@UANA> (Europe/Berlin, out of office until Thu 2026-11-26)"));
}

TEST_CASE("standup show elsewhere lists the caller's standups", "[standup]") {
    harness h;
    h.ok("standup setup <#CENG|eng> at:09:30 members:<@UANA>", "UADMIN", as_admin());
    h.ok("standup setup <#COPS|ops> at:07:00 members:<@UANA>,<@URAJ>", "UADMIN", as_admin());

    auto mine = one(h.ok("standup show", "UANA", in_channel("CRANDOM")), destination::ephemeral);
    CHECK(has(mine.text, "*Standup in <#CENG>*"));
    CHECK(has(mine.text, "*Standup in <#COPS>*"));
    auto raj = one(h.ok("standup show", "URAJ", in_channel("CRANDOM")), destination::ephemeral);
    CHECK(has(raj.text, "*Standup in <#COPS>*"));
    CHECK_FALSE(has(raj.text, "<#CENG>"));
    // Someone in none gets the pointer; naming the channel shows it to anyone.
    CHECK(has(one(h.ok("standup show", "UOUT", in_channel("CRANDOM")), destination::ephemeral).text,
              "There is no standup in <#CRANDOM>, and you are in none."));
    CHECK(has(
        one(h.ok("standup show <#CENG|eng>", "UOUT", in_channel("CRANDOM")), destination::ephemeral)
            .text,
        "*Standup in <#CENG>*"));
}

TEST_CASE("standup pause and resume are for admins and stop the scheduled work", "[standup]") {
    harness h;
    usual_standup(h, t0);
    CHECK(has(h.refused("standup pause", "UANA"), "Only an admin can pause a standup"));
    CHECK_FALSE(h.db.find_standup("T1", "CGENERAL")->paused);
    CHECK(has(h.refused("standup pause <#CNONE|none>", "UADMIN", as_admin()),
              "There is no standup in <#CNONE>"));

    auto p = h.ok("standup pause", "UADMIN", as_admin());
    CHECK(h.db.find_standup("T1", "CGENERAL")->paused);
    auto line = one(p, destination::channel);
    CHECK(line.channel == "CGENERAL");
    CHECK(has(line.text, ":double_vertical_bar: <@UADMIN> paused this channel's standup"));
    CHECK(has(one(p, destination::ephemeral).text, "Paused."));

    auto again = h.ok("standup pause", "UADMIN", as_admin());
    REQUIRE(again.effects.size() == 1);
    CHECK(again.effects[0].text == "The standup in <#CGENERAL> is already paused.");

    auto shown = one(h.ok("standup show"), destination::ephemeral).text;
    CHECK(has(shown, "*Standup in <#CGENERAL>* (paused)"));
    CHECK_FALSE(has(shown, "Next report"));

    // Paused: no prompts, no report, all of Thursday.
    auto thu = jobs(h, t0, t0 + day + 6 * hour);
    CHECK(thu.out.empty());
    CHECK_FALSE(h.db.find_entry("T1", "CGENERAL", "2026-11-26", "UANA"));

    CHECK(has(h.refused("standup resume", "UANA"), "Only an admin can resume a standup"));
    auto res = h.ok("standup resume", "UADMIN", as_admin());
    CHECK_FALSE(h.db.find_standup("T1", "CGENERAL")->paused);
    CHECK(has(one(res, destination::channel).text, ":arrow_forward: <@UADMIN> resumed"));
    CHECK(one(h.ok("standup resume", "UADMIN", as_admin()), destination::ephemeral).text ==
          "The standup in <#CGENERAL> is already running.");
}

// --- now ---

TEST_CASE("standup now asks by DM only the members not asked yet", "[standup]") {
    harness h;
    usual_standup(h, t0);
    auto r = h.ok("standup now", "UADMIN", as_admin());
    REQUIRE(effects_to(r, destination::dm).size() == 2);
    for (const std::string u : {"UANA", "URAJ"}) {
        auto d = dms_to(r, u);
        REQUIRE(d.size() == 1);
        CHECK(d[0].text == ":wave: *Standup for <#CGENERAL>* · Wed 2026-11-25 · the report goes "
                           "out at 11:30 your time.\nAnswer here: one message per question, or "
                           "all 3 at once, one per line.\n\n" +
                               q1);
        auto e = entry_of(h, u);
        CHECK(e.state == "prompted");
        CHECK(e.prompted_at == t0);
        CHECK(e.answers.empty());
        CHECK(e.reminder_due == t0 + 45 * 60); // halfway to the 10:30 UTC report
    }
    CHECK(one(r, destination::ephemeral).text ==
          "Asked 2 of 2 members of the standup in <#CGENERAL> now. The report goes out Wed "
          "2026-11-25 at 11:30 Europe/Berlin.");
    CHECK(effects_to(r, destination::channel).empty());

    // A member added later is asked; the others are not asked twice, and a member may do it.
    h.ok("standup setup at:09:30 members:<@UANA>,<@URAJ>,<@ULEE>", "UADMIN", admin_at(t0 + 60));
    auto again = h.ok("standup now", "UANA", at_time(t0 + 120));
    auto d = effects_to(again, destination::dm);
    REQUIRE(d.size() == 1);
    CHECK(d[0].user == "ULEE");
    CHECK(has(one(again, destination::ephemeral).text,
              "Asked 1 of 3 members of the standup in <#CGENERAL> now (2 already asked)."));
    CHECK(entry_of(h, "UANA").prompted_at == t0);

    // The scheduled prompt of the same day asks nobody again.
    auto sched = jobs(h, prompt_at - 60, prompt_at);
    CHECK(sched.dms_to("UANA").empty());
}

TEST_CASE("standup now lists the member's open blockers with resolve buttons", "[standup]") {
    harness h;
    usual_standup(h, t0);
    h.ok("blocker waiting on the staging cert", "UANA");
    h.ok("blocker no test data <@UANA>", "URAJ");
    h.ok("blocker someone else's problem", "URAJ");
    auto r = h.ok("standup now", "UADMIN", as_admin());
    auto prompt = dms_to(r, "UANA");
    REQUIRE(prompt.size() == 1);
    CHECK(has(prompt[0].text, "*Still blocked?* Open blockers you own or reported:"));
    CHECK(has(prompt[0].text, "*B-1*"));
    CHECK(has(prompt[0].text, "*B-2*"));
    CHECK_FALSE(has(prompt[0].text, "*B-3*"));
    CHECK(has(prompt[0].text, q1));
    REQUIRE(prompt[0].buttons.size() == 2);
    CHECK(prompt[0].buttons[0].value == "blocker B-1 resolve");
    CHECK(prompt[0].buttons[1].value == "blocker B-2 resolve");
}

TEST_CASE("standup now is refused for outsiders, when paused and without a standup", "[standup]") {
    harness h;
    CHECK(
        has(h.refused("standup now", "UADMIN", as_admin()), "There is no standup in <#CGENERAL>"));
    usual_standup(h, t0);
    CHECK(has(h.refused("standup now", "UOUT"),
              "Only an admin or a member of the standup in <#CGENERAL> can start it early."));
    h.ok("standup pause", "UADMIN", as_admin());
    CHECK(has(h.refused("standup now", "UADMIN", as_admin()),
              "The standup in <#CGENERAL> is paused; `/tpm standup resume` first."));
    CHECK(has(h.refused("standup now", "UANA"), "is paused"));
    CHECK_FALSE(h.db.find_entry("T1", "CGENERAL", today, "UANA"));
    CHECK_FALSE(h.db.find_entry("T1", "CGENERAL", today, "URAJ"));
}

// --- ooo, back, skip, tz ---

TEST_CASE("standup ooo stores the last day away in the caller's zone", "[standup]") {
    harness h;
    SECTION("a number of days counts today") {
        auto r = h.ok("standup ooo 3d", "UANA");
        CHECK(h.db.find_standup_person("T1", "UANA")->ooo_until == "2026-11-27");
        CHECK(one(r, destination::ephemeral).text ==
              ":palm_tree: Out of office until Fri 2026-11-27 (your time): no standup nudges, "
              "and you won't count as missing. `/tpm standup back` ends it early.");
        h.ok("standup ooo 1d", "UANA");
        CHECK(h.db.find_standup_person("T1", "UANA")->ooo_until == today);
        h.ok("standup ooo 2w", "UANA");
        CHECK(h.db.find_standup_person("T1", "UANA")->ooo_until == "2026-12-08");
    }
    SECTION("until a date") {
        h.ok("standup ooo until:fri", "UANA");
        CHECK(h.db.find_standup_person("T1", "UANA")->ooo_until == "2026-11-27");
        h.ok("standup ooo until:2026-12-04", "UANA");
        CHECK(h.db.find_standup_person("T1", "UANA")->ooo_until == "2026-12-04");
        h.ok("standup ooo until:today", "UANA");
        CHECK(h.db.find_standup_person("T1", "UANA")->ooo_until == today);
    }
    SECTION("today is the caller's date") {
        // 23:30 UTC Wed is 00:30 Thu in Berlin and 15:30 Wed in Los Angeles.
        auto late = t0 + 14 * hour + 30 * 60;
        h.ok("standup ooo 1d", "UANA", at_time(late));
        CHECK(h.db.find_standup_person("T1", "UANA")->ooo_until == "2026-11-26");
        opts la;
        la.now = late;
        la.tz = "America/Los_Angeles";
        h.ok("standup ooo 1d", "URAJ", la);
        CHECK(h.db.find_standup_person("T1", "URAJ")->ooo_until == today);
        // A `standup tz` wins over Slack's zone: 10:00 Thu in Tokyo is still Wed in LA.
        la.now = t0 + 16 * hour;
        h.ok("standup tz Asia/Tokyo", "URAJ", la);
        h.ok("standup ooo 1d", "URAJ", la);
        CHECK(h.db.find_standup_person("T1", "URAJ")->ooo_until == "2026-11-26");
        h.ok("standup ooo until:today", "URAJ", la);
        CHECK(h.db.find_standup_person("T1", "URAJ")->ooo_until == "2026-11-26");
    }
}

TEST_CASE("standup ooo refuses what is not a length or a later date", "[standup]") {
    harness h;
    auto refused = [&](const std::string& args) {
        auto msg = h.refused("standup ooo" + args, "UANA");
        CHECK_FALSE(h.db.find_standup_person("T1", "UANA"));
        return msg;
    };
    CHECK(has(refused(" until:2026-11-01"), "2026-11-01 is in the past (today is 2026-11-25)"));
    CHECK(has(refused(" until:yesterday"), "is in the past"));
    CHECK(has(refused(" until:someday"), "`someday` is not a date"));
    CHECK(has(refused(" 0d"), "`0d` is not a number of days"));
    CHECK(has(refused(" 400d"), "`400d` is not a number of days"));
    CHECK(has(refused(" banana"), "`banana` is not a number of days"));
    CHECK(has(refused(" <!channel>"), "For how long?"));
    CHECK(has(refused(""), "For how long? e.g. `/tpm standup ooo 3d`"));
    CHECK(has(refused(" until:fri please"), "I don't understand `please` after ooo"));
}

TEST_CASE("standup ooo marks an open prompt away and back ends it", "[standup]") {
    harness h;
    usual_standup(h, t0);
    h.ok("standup now", "UADMIN", as_admin());
    h.ok("standup ooo 2d", "UANA", at_time(t0 + 60));
    auto e = entry_of(h, "UANA");
    CHECK(e.state == "away");
    CHECK(e.note == "out of office until Thu 2026-11-26");
    CHECK(entry_of(h, "URAJ").state == "prompted");
    // No longer waiting: a DM is not an answer.
    auto d = dm(h, "UANA", "did things", t0 + 120);
    CHECK(has(one(d, destination::ephemeral).text, "No standup is waiting"));
    CHECK(entry_of(h, "UANA").answers.empty());

    auto back = h.ok("standup back", "UANA", at_time(t0 + 180));
    CHECK(one(back, destination::ephemeral).text ==
          "Welcome back! Standup nudges are on again from the next one.");
    auto p = h.db.find_standup_person("T1", "UANA");
    REQUIRE(p);
    CHECK(p->ooo_until.empty());
    CHECK(p->skip_day.empty());
    CHECK(one(h.ok("standup back", "UANA"), destination::ephemeral).text ==
          "You weren't marked away, so nothing changed.");
    CHECK(one(h.ok("standup back", "UNEW"), destination::ephemeral).text ==
          "You weren't marked away, so nothing changed.");
}

TEST_CASE("standup skip marks an open prompt away, else skips the next standup day", "[standup]") {
    harness h;
    usual_standup(h, t0);
    SECTION("an open prompt") {
        h.ok("standup now", "UADMIN", as_admin());
        auto r = h.ok("standup skip", "UANA", at_time(t0 + 60));
        CHECK(has(one(r, destination::ephemeral).text, "Skipped: today's standup won't count you"));
        auto e = entry_of(h, "UANA");
        CHECK(e.state == "away");
        CHECK(e.note == "skipped");
        // Any standup still to ask them today skips them too.
        CHECK(h.db.find_standup_person("T1", "UANA")->skip_day == today);
    }
    SECTION("no open prompt: the next standup day") {
        // 10:00 Wed, after today's 09:30 prompt: Thursday is next.
        auto r = h.ok("standup skip", "UANA");
        CHECK(h.db.find_standup_person("T1", "UANA")->skip_day == "2026-11-26");
        CHECK(one(r, destination::ephemeral).text ==
              "You'll skip the standup on Thu 2026-11-26: no nudges that day, and you won't "
              "count as missing. `/tpm standup back` undoes it.");
        // Thursday's prompt marks them away and asks the others.
        auto thu = jobs(h, t0, t0 + day - 30 * 60);
        CHECK(thu.dms_to("UANA").empty());
        CHECK(thu.dms_to("URAJ").size() == 1);
        auto e = entry_of(h, "UANA", "2026-11-26");
        CHECK(e.state == "away");
        CHECK(e.note == "skipped");
        // Friday they are asked again.
        auto fri = jobs(h, t0 + day, t0 + 2 * day - 30 * 60);
        CHECK(fri.dms_to("UANA").size() == 1);
    }
    SECTION("on a Friday the next standup day is Monday") {
        h.ok("standup skip", "URAJ", at_time(t0 + 2 * day));
        CHECK(h.db.find_standup_person("T1", "URAJ")->skip_day == "2026-11-30");
    }
    SECTION("back undoes a skip") {
        h.ok("standup skip", "UANA");
        h.ok("standup back", "UANA");
        CHECK(h.db.find_standup_person("T1", "UANA")->skip_day.empty());
    }
    SECTION("words after skip") {
        CHECK(has(h.refused("standup skip tomorrow", "UANA"), "takes nothing after it"));
        CHECK_FALSE(h.db.find_standup_person("T1", "UANA"));
    }
}

TEST_CASE("standup skip needs a running standup", "[standup]") {
    harness h;
    CHECK(has(h.refused("standup skip", "UOUT"),
              "You are not in any standup, so there is nothing to skip."));
    usual_standup(h, t0);
    CHECK(has(h.refused("standup skip", "UOUT"), "You are not in any standup"));
    h.ok("standup pause", "UADMIN", as_admin());
    CHECK(has(h.refused("standup skip", "UANA"), "Your standups are paused"));
    CHECK_FALSE(h.db.find_standup_person("T1", "UANA"));
    CHECK_FALSE(h.db.find_standup_person("T1", "UOUT"));
}

TEST_CASE("standup tz sets, shows and clears the zone prompts come in", "[standup]") {
    harness h;
    usual_standup(h, t0);
    CHECK(one(h.ok("standup tz", "UANA"), destination::ephemeral).text ==
          "Your standup prompts follow your Slack time zone (Europe/Berlin). Set another with "
          "`/tpm standup tz Europe/Berlin`.");

    auto set = h.ok("standup tz Asia/Kolkata", "UANA");
    CHECK(one(set, destination::ephemeral).text ==
          "Your standup prompts now come at the standup's time in Asia/Kolkata.");
    CHECK(h.db.find_standup_person("T1", "UANA")->tz == "Asia/Kolkata");
    CHECK(member_zone(h.db, *h.db.find_standup("T1", "CGENERAL"), "UANA") == "Asia/Kolkata");
    CHECK(has(one(h.ok("standup tz", "UANA"), destination::ephemeral).text,
              "Your standup prompts follow Asia/Kolkata (set with `standup tz`)"));
    CHECK(has(one(h.ok("standup show"), destination::ephemeral).text, "<@UANA> (Asia/Kolkata)"));

    CHECK(has(h.refused("standup tz Mars/Base", "UANA"), "Unknown time zone \"Mars/Base\""));
    CHECK(has(h.refused("standup tz europe/paris", "UANA"), "Did you mean Europe/Paris?"));
    CHECK(has(h.refused("standup tz Europe/Paris Asia/Tokyo", "UANA"), "Give one IANA zone"));
    CHECK(h.db.find_standup_person("T1", "UANA")->tz == "Asia/Kolkata");

    auto back = h.ok("standup tz auto", "UANA");
    CHECK(one(back, destination::ephemeral).text ==
          "Your standup prompts follow your Slack time zone (Europe/Berlin) again.");
    CHECK(h.db.find_standup_person("T1", "UANA")->tz.empty());
}

// --- the DM conversation ---

TEST_CASE("standup answers: one DM per question, then thanks", "[standup]") {
    harness h;
    auto p = prompted(h);
    REQUIRE(p.dms_to("UANA").size() == 1);
    CHECK(has(p.dms_to("UANA")[0].text, q1));
    CHECK(p.out[0].first == "T1");

    auto a1 = dm(h, "UANA", "shipped the importer", t0);
    CHECK(a1.ok);
    REQUIRE(a1.effects.size() == 1);
    CHECK(one(a1, destination::dm).user == "UANA");
    CHECK(a1.effects[0].text == q2);
    CHECK(entry_of(h, "UANA").answers == strings{"shipped the importer"});

    auto a2 = dm(h, "UANA", "the exporter", t0 + 60);
    REQUIRE(a2.effects.size() == 1);
    CHECK(a2.effects[0].text == q3);

    auto a3 = dm(h, "UANA", "none", t0 + 120);
    REQUIRE(a3.effects.size() == 1);
    CHECK(one(a3, destination::dm).text ==
          "Thanks, that's everything for <#CGENERAL>. It goes in the report at 11:30 your "
          "time; edit your messages until then to change an answer.");
    auto e = entry_of(h, "UANA");
    CHECK(e.state == "answered");
    CHECK(e.answered_at == t0 + 120);
    CHECK_FALSE(e.late);
    CHECK(e.answers == strings{"shipped the importer", "the exporter", "none"});
    // The other member is untouched.
    CHECK(entry_of(h, "URAJ").answers.empty());

    // Nothing is waiting any more.
    auto more = dm(h, "UANA", "oh and one more thing", t0 + 180);
    CHECK(has(one(more, destination::ephemeral).text, "No standup is waiting"));
    CHECK(entry_of(h, "UANA").answers.size() == 3);
}

TEST_CASE("standup answers: three lines at once answer all three questions", "[standup]") {
    harness h;
    prompted(h);
    auto r = dm(h, "UANA", "shipped the importer\n  the exporter  \nnothing.");
    REQUIRE(r.effects.size() == 1);
    CHECK(has(one(r, destination::dm).text, "Thanks, that's everything for <#CGENERAL>."));
    auto e = entry_of(h, "UANA");
    CHECK(e.state == "answered");
    CHECK(e.answers == strings{"shipped the importer", "the exporter", "nothing."});
}

TEST_CASE("standup answers: fewer lines than questions left make one answer", "[standup]") {
    harness h;
    prompted(h);
    auto r = dm(h, "UANA", "shipped the importer\nand fixed the build");
    CHECK(one(r, destination::dm).text == q2);
    CHECK(entry_of(h, "UANA").answers == strings{"shipped the importer\nand fixed the build"});
    // After the first question each reply is one answer, whatever its lines.
    auto r2 = dm(h, "UANA", "the exporter\nand the docs");
    CHECK(one(r2, destination::dm).text == q3);
    dm(h, "UANA", "none");
    CHECK(entry_of(h, "UANA").answers == strings{"shipped the importer\nand fixed the build",
                                                 "the exporter\nand the docs", "none"});
}

TEST_CASE("standup answers: more lines than questions make one answer", "[standup]") {
    harness h;
    prompted(h);
    // A bullet list answers the first question; only exactly one line per question splits.
    dm(h, "UANA", "one\n\ntwo\nthree\n\nfour");
    CHECK(entry_of(h, "UANA").answers == strings{"one\n\ntwo\nthree\n\nfour"});
    // Two lines for the two questions left after the first are still one answer: only a
    // reply to the first question is split.
    dm(h, "UANA", "migrate auth\nand review the PR");
    CHECK(entry_of(h, "UANA").answers ==
          strings{"one\n\ntwo\nthree\n\nfour", "migrate auth\nand review the PR"});
}

TEST_CASE("standup answers: an empty DM asks the question again", "[standup]") {
    harness h;
    prompted(h);
    dm(h, "UANA", "shipped");
    auto r = dm(h, "UANA", "  \n ");
    CHECK(r.ok);
    CHECK(one(r, destination::dm).text == "I only read text here. " + q2);
    auto e = entry_of(h, "UANA");
    CHECK(e.answers == strings{"shipped"});
    CHECK(e.state == "prompted");
}

TEST_CASE("standup answers: a too-long answer is refused and nothing is recorded", "[standup]") {
    harness h;
    prompted(h);
    const std::string ts = "1795600000.999001";
    auto msg = h.refused(std::string(1001, 'x'), "UANA", dm_opts("UANA", t0, ts));
    CHECK(has(msg, "The answer is 1001 characters long; the limit is 1000."));
    CHECK(entry_of(h, "UANA").answers.empty());
    CHECK_FALSE(h.db.find_standup_message("T1", "UANA", ts));
    // One long line of three is refused too, and the other two are not kept.
    h.refused("fine\n" + std::string(1001, 'y') + "\nnone", "UANA", dm_opts("UANA", t0, ts));
    CHECK(entry_of(h, "UANA").answers.empty());
    // 1000 characters (`&amp;` is one) are fine.
    dm(h, "UANA", std::string(996, 'z') + "&amp;&amp;&amp;&amp;");
    CHECK(entry_of(h, "UANA").answers.size() == 1);
}

TEST_CASE("a DM with no standup waiting gets a pointer", "[standup]") {
    harness h;
    auto r = dm(h, "UANA", "did some stuff");
    CHECK(r.ok);
    auto reply = one(r, destination::ephemeral);
    CHECK(reply.channel == "DUANA");
    CHECK(reply.text == "No standup is waiting for your answers right now. In this DM you can "
                        "give me the same commands as after `/tpm`, e.g. `blocker list mine` or "
                        "`standup show`. `help` lists them.");
    // A member who is not asked yet gets the same answer.
    usual_standup(h, t0);
    CHECK(has(one(dm(h, "UANA", "did some stuff"), destination::ephemeral).text,
              "No standup is waiting"));
    CHECK_FALSE(h.db.find_entry("T1", "CGENERAL", today, "UANA"));
}

TEST_CASE("a DM starting with standup while a prompt waits runs the command", "[standup]") {
    harness h;
    prompted(h);
    auto show = dm(h, "UANA", "standup show");
    CHECK(has(one(show, destination::ephemeral).text, "*Standup in <#CGENERAL>*"));
    CHECK(entry_of(h, "UANA").answers.empty());
    CHECK(entry_of(h, "UANA").state == "prompted");

    auto skip = dm(h, "UANA", "Standup skip");
    CHECK(has(one(skip, destination::ephemeral).text, "Skipped"));
    auto e = entry_of(h, "UANA");
    CHECK(e.state == "away");
    CHECK(e.answers.empty());
}

TEST_CASE("standup answers never ping the channel, here or a user group", "[standup]") {
    harness h;
    prompted(h);
    auto r = dm(h, "UANA", "<!channel> shipped it\n<!here> next up\nwaiting on <!subteam^S1|@eng>");
    auto e = entry_of(h, "UANA");
    CHECK(e.answers == strings{"@channel shipped it", "@here next up", "waiting on @eng"});
    CHECK_FALSE(has(all_text(r), "<!"));
    for (const auto& x : r.effects) {
        for (const auto& b : x.buttons) {
            CHECK_FALSE(has(b.value, "<!"));
        }
    }
    auto report = jobs(h, prompt_at, report_at);
    auto digest = digest_of(report);
    CHECK(has(digest.text, "@channel shipped it"));
    CHECK(has(digest.text, "• <@UANA>: waiting on @eng"));
    CHECK_FALSE(has(digest.text, "<!"));
}

// --- edits ---

TEST_CASE("editing an answer before the report replaces it", "[standup]") {
    harness h;
    prompted(h);
    const std::string m1 = "1795600000.100001", m2 = "1795600000.100002", m3 = "1795600000.100003";
    dm(h, "UANA", "shipped the importr", t0, m1);
    dm(h, "UANA", "the exporter", t0 + 10, m2);
    dm(h, "UANA", "none", t0 + 20, m3);

    auto r = edit(h, "UANA", "shipped the importer", m1, t0 + 60);
    CHECK(r.ok);
    CHECK(one(r, destination::dm).text == ":pencil2: Updated your standup answer for <#CGENERAL>.");
    CHECK(entry_of(h, "UANA").answers == strings{"shipped the importer", "the exporter", "none"});
    edit(h, "UANA", "tests for the exporter", m2, t0 + 70);
    CHECK(entry_of(h, "UANA").answers ==
          strings{"shipped the importer", "tests for the exporter", "none"});

    auto digest = digest_of(jobs(h, prompt_at, report_at));
    CHECK(has(digest.text, "_What did you do since last time?_ shipped the importer"));
    CHECK(has(digest.text, "_What will you do next?_ tests for the exporter"));
    CHECK_FALSE(has(digest.text, "importr"));
}

TEST_CASE("editing a three-line answer replaces all three", "[standup]") {
    harness h;
    prompted(h);
    const std::string m = "1795600000.200001";
    dm(h, "UANA", "a\nb\nc", t0, m);
    auto r = edit(h, "UANA", "A\nB\nC <!here>", m, t0 + 60);
    CHECK(has(one(r, destination::dm).text, "Updated your standup answer"));
    CHECK(entry_of(h, "UANA").answers == strings{"A", "B", "C @here"});
    // An edit with fewer lines still answers one question per line; the rest stay as they
    // were, and the person is told.
    auto fewer = edit(h, "UANA", "A2\nB2", m, t0 + 70);
    CHECK(has(all_text(fewer), "That message answered 3 questions, one per line; the edit has "
                               "2, so the last 1 kept its earlier text."));
    CHECK(entry_of(h, "UANA").answers == strings{"A2", "B2", "C @here"});
    // An edit to nothing (whitespace) keeps the answers.
    auto empty = edit(h, "UANA", "  ", m, t0 + 75);
    CHECK(has(all_text(empty), "kept it"));
    CHECK(entry_of(h, "UANA").answers == strings{"A2", "B2", "C @here"});
    edit(h, "UANA", "A\nB\nC <!here>", m, t0 + 80);
    // A too-long edit is refused and changes nothing.
    auto c = h.make("A\nB\n" + std::string(1001, 'x'), "UANA", dm_opts("UANA", t0 + 90, m));
    c.edited = true;
    auto bad = h.dispatch.handle(c);
    CHECK_FALSE(bad.ok);
    CHECK(has(one(bad, destination::ephemeral).text, "the limit is 1000"));
    CHECK(entry_of(h, "UANA").answers == strings{"A", "B", "C @here"});
}

TEST_CASE("an edit after the report is not applied and the person is told", "[standup]") {
    harness h;
    prompted(h);
    const std::string m = "1795600000.300001";
    dm(h, "UANA", "shipped\nnext\nnone", t0, m);
    digest_of(jobs(h, prompt_at, report_at));
    auto r = edit(h, "UANA", "something else\nx\ny", m, report_at + 60);
    CHECK(r.ok);
    CHECK(one(r, destination::dm).text ==
          "The report for <#CGENERAL> was already posted, so that edit is not in it.");
    CHECK(entry_of(h, "UANA").answers == strings{"shipped", "next", "none"});
}

TEST_CASE("an edit of a message that carried no answers does nothing", "[standup]") {
    harness h;
    prompted(h);
    dm(h, "UANA", "shipped", t0, "1795600000.400001");
    auto r = edit(h, "UANA", "what", "1795600000.499999", t0 + 60);
    CHECK(r.ok);
    CHECK(r.effects.empty());
    // Someone else's ts is not theirs to edit either.
    auto other = edit(h, "URAJ", "hijack", "1795600000.400001", t0 + 60);
    CHECK(other.effects.empty());
    CHECK(entry_of(h, "UANA").answers == strings{"shipped"});
    CHECK(entry_of(h, "URAJ").answers.empty());
}

// --- late answers ---

TEST_CASE("answers after the digest go to its thread, marked late", "[standup]") {
    harness h;
    prompted(h);
    auto report = jobs(h, prompt_at, report_at);
    auto digest = digest_of(report);
    CHECK(digest.item == digest_key("CGENERAL", today));
    CHECK(digest.item == "standup:CGENERAL:2026-11-25");
    CHECK(has(digest.text, "*No answer yet:* <@UANA>, <@URAJ> (late answers go in this thread)"));

    auto a1 = dm(h, "UANA", "shipped", report_at + 60);
    CHECK(one(a1, destination::dm).text == q2); // still a conversation
    dm(h, "UANA", "next", report_at + 90);
    auto r = dm(h, "UANA", "none", report_at + 120);
    auto post = one(r, destination::thread);
    CHECK(post.item == digest_key("CGENERAL", today));
    CHECK(post.channel == "CGENERAL");
    CHECK(post.text == "*Late answer from <@UANA>*\n_What did you do since last time?_ shipped\n"
                       "_What will you do next?_ next\n_Anything blocking you?_ none");
    CHECK(one(r, destination::dm).text ==
          "Thanks! The report for <#CGENERAL> was already posted, so I added your answers to "
          "its thread, marked late.");
    auto e = entry_of(h, "UANA");
    CHECK(e.late);
    CHECK(e.state == "answered");
    CHECK(e.answered_at == report_at + 120);

    // A day after the report it no longer takes answers.
    auto stale = dm(h, "URAJ", "shipped\nnext\nnone", report_at + day + 60);
    CHECK(has(one(stale, destination::ephemeral).text, "No standup is waiting"));
    CHECK(entry_of(h, "URAJ").answers.empty());
}

// --- the blocker offer ---

TEST_CASE("a blocker answer is offered as a B- item in the standup's channel", "[standup]") {
    harness h;
    prompted(h);
    auto r = dm(h, "UANA", "shipped\nnext\nwaiting on the staging cert from ops");
    auto o = offers(r);
    REQUIRE(o.size() == 1);
    CHECK(o[0].user == "UANA");
    CHECK(has(o[0].text, "You mentioned a blocker: _waiting on the staging cert from ops_"));
    CHECK(has(o[0].text, "Track it as a blocker in <#CGENERAL>"));
    auto b = button_named(o[0], "Log as blocker");
    CHECK(b.value == "standup log <#CGENERAL> 2026-11-25");
    CHECK(h.items().empty());

    // Pressing it in the DM creates the blocker in the standup's channel.
    opts press;
    press.from = source::action;
    press.channel = "DUANA";
    press.now = t0 + 60;
    auto pressed = h.run(b.value, "UANA", press);
    CHECK(pressed.ok);
    auto it = h.get("B-1");
    CHECK(it.channel_id == "CGENERAL");
    CHECK(it.reporter == "UANA");
    CHECK(it.title == "waiting on the staging cert from ops");
    CHECK(it.status == "open");
    auto card = card_of(pressed);
    CHECK(card.channel == "CGENERAL");
    CHECK(card.item == "B-1");

    // A second press (a double click) logs nothing more.
    auto again = h.run(b.value, "UANA", press);
    CHECK(again.ok);
    CHECK(has(all_text(again), "Already logged as *B-1*"));
    CHECK(h.items().size() == 1);
}

TEST_CASE("the Log as blocker button takes the answer as typed, whatever it holds", "[standup]") {
    // The answer is not parsed as a command: an unbalanced quote, `sev:`/`dri:` words or a
    // mention at the end are just text of the blocker.
    auto answer =
        GENERATE(as<std::string>{}, "waiting on \"the cert", "waiting on dri:bob sev:urgent",
                 "waiting on sevv:x", "review from <@UBOB>", "ops &amp; infra <!here>",
                 "line one\nline two\nline three");
    harness h;
    prompted(h);
    dm(h, "UANA", "shipped");
    dm(h, "UANA", "next");
    auto r = dm(h, "UANA", answer);
    auto o = offers(r);
    INFO("answer: " << answer);
    REQUIRE(o.size() == 1);
    auto stored = entry_of(h, "UANA").answers.at(2);
    opts press;
    press.from = source::action;
    press.channel = "DUANA";
    auto pressed = h.run(button_named(o[0], "Log as blocker").value, "UANA", press);
    INFO("reply: " << all_text(pressed));
    REQUIRE(pressed.ok);
    auto it = h.get("B-1");
    auto flat = stored;
    std::replace(flat.begin(), flat.end(), '\n', ' ');
    CHECK(it.title == flat);
    CHECK(it.severity == "med");
    CHECK(it.dri.empty());
    CHECK(it.channel_id == "CGENERAL");
    CHECK_FALSE(has(it.title, "<!"));
}

TEST_CASE("a blocker logged from a standup answer republishes its reporter's App Home",
          "[standup][home]") {
    harness h;
    prompted(h);
    opts home;
    home.from = source::home;
    h.ok("", "UANA", home); // Ana has opened her Home
    dm(h, "UANA", "shipped");
    dm(h, "UANA", "next");
    auto o = offers(dm(h, "UANA", "waiting on the staging cert"));
    REQUIRE(o.size() == 1);
    opts press;
    press.from = source::action;
    press.channel = "DUANA";
    auto pressed = h.run(button_named(o[0], "Log as blocker").value, "UANA", press);
    REQUIRE(pressed.ok);
    auto homes = effects_to(pressed, destination::home);
    REQUIRE(homes.size() == 1);
    CHECK(homes[0].user == "UANA");
}

TEST_CASE("the Log as blocker button logs the answer as it is now", "[standup]") {
    harness h;
    prompted(h);
    const std::string m = "1795600000.500001";
    auto r = dm(h, "UANA", "shipped\nnext\nwaiting on the cert", t0, m);
    auto b = button_named(offers(r).at(0), "Log as blocker");
    edit(h, "UANA", "shipped\nnext\nwaiting on the staging cert from ops", m, t0 + 60);
    opts press;
    press.from = source::action;
    press.channel = "DUANA";
    h.ok(b.value, "UANA", press);
    CHECK(h.get("B-1").title == "waiting on the staging cert from ops");
    // Typed by hand with a text, it logs that text.
    h.ok("standup log <#CENG|eng> no test data sev:high", "URAJ");
    auto typed = h.get("B-2");
    CHECK(typed.channel_id == "CENG");
    CHECK(typed.title == "no test data");
    CHECK(typed.severity == "high");
    CHECK(has(h.refused("standup log no channel here", "URAJ"), "`standup log` needs a channel"));
}

TEST_CASE("nothing-like blocker answers and answers naming an item get no offer", "[standup]") {
    auto answer = GENERATE(as<std::string>{}, "none", "None.", "no blockers", "nothing.", "Nope!",
                           "n/a", "all good", "  ");
    harness h;
    prompted(h);
    dm(h, "UANA", "shipped");
    dm(h, "UANA", "next");
    auto r = dm(h, "UANA", answer);
    INFO("answer: " << answer);
    CHECK(offers(r).empty());
    if (answer != "  ") {
        CHECK(entry_of(h, "UANA").state == "answered");
    }
}

TEST_CASE("a blocker answer naming an existing item gets no offer", "[standup]") {
    harness h;
    h.ok("blocker waiting on the staging cert", "UANA", at_time(before_prompt));
    prompted(h);
    auto r = dm(h, "UANA", "shipped\nnext\nstill B-1.");
    CHECK(offers(r).empty());
    CHECK(has(one(r, destination::dm).text, "Thanks"));
    // An id that does not exist is a new blocker.
    auto r2 = dm(h, "URAJ", "shipped\nnext\nwaiting on B-9");
    CHECK(offers(r2).size() == 1);
}

// --- the digest ---

TEST_CASE("the digest lists blockers first, then answers, away, no answer and not asked",
          "[standup]") {
    harness h;
    usual_standup(h, before_prompt,
                  "<@UANA>,<@URAJ>,<@ULEE>,<@UKIM>,<@UBOB>,<@UDEL>,<@UOUT>,<@UPAT>");
    h.db.set_channel_members("T1", "CGENERAL",
                             {"UANA", "URAJ", "ULEE", "UKIM", "UBOB", "UDEL", "UPAT", "UADMIN"},
                             before_prompt);
    h.db.set_user_info("T1", "UDEL", "Europe/Berlin", false, before_prompt, /*deleted*/ true);
    h.ok("standup ooo 3d", "ULEE", at_time(before_prompt));
    h.ok("standup skip", "UKIM", at_time(before_prompt)); // 08:00 Berlin: today's is next
    REQUIRE(h.db.find_standup_person("T1", "UKIM")->skip_day == today);

    auto p = jobs(h, before_prompt, prompt_at);
    for (const std::string u : {"UANA", "URAJ", "UBOB", "UPAT"}) {
        INFO(u);
        CHECK(p.dms_to(u).size() == 1);
    }
    for (const std::string u : {"ULEE", "UKIM", "UDEL", "UOUT"}) {
        INFO(u);
        CHECK(p.dms_to(u).empty());
    }

    dm(h, "UANA", "shipped the importer\nthe exporter\nwaiting on the staging cert from ops");
    dm(h, "URAJ", "reviews\nmore reviews\nnone");
    dm(h, "UPAT", "half of it");

    auto report = jobs(h, prompt_at, report_at);
    auto digest = digest_of(report);
    CHECK(report.out[0].first == "T1");
    CHECK(digest.channel == "CGENERAL");
    CHECK(digest.is_card);
    CHECK(digest.item == "standup:CGENERAL:2026-11-25");
    CHECK(digest.text == "*Standup · <#CGENERAL> · Wed 2026-11-25*\n\n"
                         "*Blockers*\n"
                         "• <@UANA>: waiting on the staging cert from ops\n\n"
                         "*Answers*\n"
                         "*<@UANA>*\n"
                         "_What did you do since last time?_ shipped the importer\n"
                         "_What will you do next?_ the exporter\n"
                         "_Anything blocking you?_ waiting on the staging cert from ops\n"
                         "*<@UPAT>*\n"
                         "_What did you do since last time?_ half of it\n"
                         "_(did not finish)_\n"
                         "*<@URAJ>*\n"
                         "_What did you do since last time?_ reviews\n"
                         "_What will you do next?_ more reviews\n"
                         "_Anything blocking you?_ none\n\n"
                         "*Away:* <@UKIM> (skipped), <@ULEE> (out of office until Fri "
                         "2026-11-27)\n\n"
                         "*No answer yet:* <@UBOB> (late answers go in this thread)\n\n"
                         "*Not asked:* <@UDEL> (left the workspace), <@UOUT> (not in the "
                         "channel)");
    CHECK(h.db.find_run("T1", "CGENERAL", today)->reported_at == report_at);

    // The report is written once.
    CHECK(jobs(h, prompt_at, report_at).out.empty());
}

TEST_CASE("the digest with no blockers says so", "[standup]") {
    harness h;
    prompted(h);
    dm(h, "UANA", "a\nb\nnone");
    auto digest = digest_of(jobs(h, prompt_at, report_at));
    CHECK(has(digest.text, "*Blockers*\nNone reported.\n\n*Answers*\n*<@UANA>*"));
    CHECK(has(digest.text, "*No answer yet:* <@URAJ>"));
    CHECK_FALSE(has(digest.text, "*Away:*"));
    CHECK_FALSE(has(digest.text, "*Not asked:*"));
}

TEST_CASE("no digest is posted when nobody was asked", "[standup]") {
    harness h;
    // Set up after today's 09:30 prompt: nobody is asked today.
    usual_standup(h, t0);
    auto report = jobs(h, t0, report_at);
    CHECK(report.out.empty());
    REQUIRE(report.logs.size() == 1);
    CHECK(has(report.logs[0], "nobody was asked, nothing posted"));
    CHECK(h.db.find_run("T1", "CGENERAL", today)->reported_at == report_at);

    // A whole-channel standup whose members were never read asks nobody either.
    harness w;
    w.ok("standup setup at:09:30 members:channel", "UADMIN", admin_at(before_prompt));
    auto all = jobs(w, before_prompt, report_at);
    CHECK(all.out.empty());
}

TEST_CASE("a DM answers a prompt whose report is still to come before a late one", "[standup]") {
    harness h;
    // CEARLY reports at 09:00 (its prompt 08:30 went unanswered); CGENERAL prompts at 09:30.
    h.ok("standup setup at:08:30 report:09:00 members:<@UANA|ana>", "UADMIN", [] {
        auto o = admin_at(before_prompt);
        o.channel = "CEARLY";
        return o;
    }());
    usual_standup(h);
    jobs(h, before_prompt, t0 - hour / 2 - hour); // 08:30: CEARLY's prompt
    jobs(h, t0 - hour / 2 - hour, prompt_at);     // 09:00 its report, 09:30 CGENERAL's prompt
    REQUIRE(h.db.find_run("T1", "CEARLY", today));
    CHECK(h.db.find_run("T1", "CEARLY", today)->reported_at != 0);
    // Ana's answer is for the standup still waiting for it, not the late one.
    auto r = dm(h, "UANA", "did x", prompt_at + 60);
    REQUIRE(r.ok);
    CHECK(entry_of(h, "UANA").answers == strings{"did x"});
    auto early = h.db.find_entry("T1", "CEARLY", today, "UANA");
    REQUIRE(early);
    CHECK(early->answers.empty());
}

TEST_CASE("skip and ooo keep answers already given", "[standup]") {
    harness h;
    prompted(h);
    dm(h, "UANA", "did x", prompt_at + 60);
    h.ok("standup skip", "UANA", at_time(prompt_at + 120));
    auto e = entry_of(h, "UANA");
    CHECK(e.state == "prompted");
    CHECK(e.answers == strings{"did x"});
    // Raj had not answered: his prompt is marked away.
    h.ok("standup ooo 2d", "URAJ", at_time(prompt_at + 120));
    auto raj = h.db.find_entry("T1", "CGENERAL", today, "URAJ");
    REQUIRE(raj);
    CHECK(raj->state == "away");
}

TEST_CASE("when only a late answer could be given, a DM that is a command runs it", "[standup]") {
    harness h;
    prompted(h);
    jobs(h, prompt_at, report_at); // the report is out; Ana has not answered
    auto r = dm(h, "UANA", "blocker list mine", report_at + 60);
    CHECK(has(all_text(r), "Open blockers you own or reported"));
    CHECK(entry_of(h, "UANA").answers.empty());
    // Anything else is still her late answer, and once begun it goes on.
    dm(h, "UANA", "shipped", report_at + 120);
    auto r2 = dm(h, "UANA", "B-1", report_at + 180);
    CHECK(entry_of(h, "UANA").answers == strings{"shipped", "B-1"});
    CHECK(one(r2, destination::dm).text == q3);
}

TEST_CASE("the digest names people by their Slack name when known, so it pings nobody",
          "[standup]") {
    harness h;
    prompted(h);
    user_row raj;
    raj.team_id = "T1";
    raj.user_id = "URAJ";
    raj.tz = "Europe/Berlin";
    raj.name = "Raj <K>";
    raj.updated_at = t0;
    h.db.set_user(raj);
    auto digest = digest_of(jobs(h, prompt_at, report_at));
    CHECK(has(digest.text, "*No answer yet:* <@UANA>, @Raj &lt;K&gt;"));
    CHECK_FALSE(has(digest.text, "<@URAJ>"));
}
