// The escalation ladder (SPEC §5), the decision reminder and the daily unowned queue, run by
// `run_escalation_jobs` on a clock the tests move by hand (no sleeps).
//
// Expected instants are written out from t0 (Wed 2026-11-25 09:00 UTC) and the zones' published
// offsets in late November 2026 (Europe/Berlin CET +1, America/Los_Angeles PST -8), never
// computed with the schedule code under test.

#include "escalation.hpp"
#include "support/harness.hpp"
#include "support/job_clock.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <string>
#include <vector>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

constexpr unix_time minute = 60;
constexpr std::string_view policy_key = "escalation.policy";

/// 00:00 UTC on Thu 2026-11-26, the first midnight after t0.
constexpr unix_time thu_midnight_utc = t0 + 15 * hour;

/// What the jobs emitted: when (the `to` of the run), for which team, what.
using test::fired;

bool starts(const std::string& text, std::string_view prefix) {
    return text.rfind(prefix, 0) == 0;
}

/// Step 1: a DM to the DRI (or the reporter).
bool is_step1(const effect& e) {
    return e.to == destination::dm && starts(e.text, ":hourglass:");
}
/// Step 2, in the item's thread.
bool is_step2_thread(const effect& e) {
    return e.to == destination::thread && starts(e.text, ":rotating_light:");
}
/// Step 2, in the channel (one line, or one batched message).
bool is_step2_channel(const effect& e) {
    return e.to == destination::channel && starts(e.text, ":rotating_light:");
}
/// Step 3: a DM to the escalation contact or the admins.
bool is_step3(const effect& e) {
    return e.to == destination::dm && starts(e.text, ":rotating_light: Escalation:");
}
bool is_decision_reminder(const effect& e) {
    return e.to == destination::dm && starts(e.text, ":spiral_calendar_pad: Reminder:");
}
bool is_unowned_queue(const effect& e) {
    return e.to == destination::dm && starts(e.text, ":busts_in_silhouette:");
}

/// Whether `e` is about item `id` (its thread, or its id in bold in the text).
bool about(const effect& e, const std::string& id) {
    return e.item == id || has(e.text, "*" + id + "*");
}

/// Runs the escalation jobs on a moved clock and keeps everything they emit and log.
struct job_runner : test::job_clock {
    job_runner(store& s, unix_time start)
        : job_clock(
              s, start,
              [this](unix_time from, unix_time to, const emit_fn& emit, const job_log_fn& log) {
                  return run_escalation_jobs(db, from, to, emit, log);
              },
              [this](unix_time after) { return next_escalation_due(db, after); }) {}

    /// Runs (now, now + stride] again and again up to `until`, as a ticking bot does.
    void step_until(unix_time until, unix_time stride = minute) { stride_until(until, stride); }

    /// When effects matching `kind` about item `id` went out, in order.
    template <class Kind>
    std::vector<unix_time> times(Kind kind, const std::string& id) const {
        std::vector<unix_time> r;
        for (const auto& f : out) {
            if (kind(f.e) && about(f.e, id)) {
                r.push_back(f.at);
            }
        }
        return r;
    }
    template <class Kind>
    std::vector<fired> of(Kind kind) const {
        return where([&](const fired& f) { return kind(f.e); });
    }
    bool logged(const std::string& text) const {
        return std::any_of(logs.begin(), logs.end(),
                           [&](const std::string& l) { return has(l, text); });
    }
    int logged_count(const std::string& text) const {
        return static_cast<int>(std::count_if(logs.begin(), logs.end(),
                                              [&](const std::string& l) { return has(l, text); }));
    }
};

using times = std::vector<unix_time>;

/// An admin's command options at `now` (in Berlin, the harness zone, unless told).
opts admin_at(unix_time now, std::string tz = {}) {
    opts o;
    o.admin = true;
    o.now = now;
    o.tz = std::move(tz);
    return o;
}

/// A button press by `user` at `now`: its value runs as that user's command.
handled press(harness& h, const button& b, const std::string& user, unix_time now) {
    opts o;
    o.from = source::action;
    o.now = now;
    auto r = h.run(b.value, user, o);
    INFO("pressed: " << b.value << " as " << user);
    INFO("reply: " << all_text(r));
    REQUIRE(r.ok);
    return r;
}

std::optional<std::string> policy_setting(harness& h) {
    return h.db.setting("T1", policy_key);
}

} // namespace

// --- the ladder of a blocker ---

TEST_CASE("a high blocker escalates at exactly 1, 2 and 3 days, each step once", "[escalation]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    h.ok("blocker cert expired dri:<@UDANA> sev:high");

    job_runner jobs(h.db, t0);
    SECTION("nothing one second before a step, the step at the second it is due") {
        jobs.run(t0, t0 + day - 1);
        CHECK(jobs.out.empty());
        jobs.run(t0 + day - 1, t0 + day);
        REQUIRE(jobs.out.size() == 1);
        CHECK(is_step1(jobs.out[0].e));
        jobs.run(t0 + day, t0 + 2 * day - 1);
        CHECK(jobs.out.size() == 1);
        jobs.run(t0 + 2 * day - 1, t0 + 2 * day);
        CHECK(jobs.out.size() == 3); // the thread post and the channel line
        jobs.run(t0 + 2 * day, t0 + 3 * day - 1);
        CHECK(jobs.out.size() == 3);
        jobs.run(t0 + 3 * day - 1, t0 + 3 * day);
        CHECK(jobs.out.size() == 4);
        CHECK(jobs.of(is_step3).size() == 1);
    }
    SECTION("minute by minute for four days") {
        jobs.step_until(t0 + 4 * day);
        CHECK(jobs.times(is_step1, "B-1") == times{t0 + day});
        CHECK(jobs.times(is_step2_thread, "B-1") == times{t0 + 2 * day});
        CHECK(jobs.times(is_step2_channel, "B-1") == times{t0 + 2 * day});
        CHECK(jobs.times(is_step3, "B-1") == times{t0 + 3 * day});
        CHECK(jobs.out.size() == 4);
        for (const auto& f : jobs.out) {
            CHECK(f.team == "T1");
        }

        auto s1 = jobs.of(is_step1).at(0).e;
        CHECK(s1.user == "UDANA");
        CHECK(has(s1.text, "*B-1* cert expired in <#CGENERAL> has had no update for 1d"));
        CHECK(has(s1.text, "`/tpm blocker B-1 update <text>`"));
        REQUIRE(s1.buttons.size() == 1);
        CHECK(s1.buttons[0].text == "Ack");
        CHECK(s1.buttons[0].value == "blocker B-1 ack");

        auto thread = jobs.of(is_step2_thread).at(0).e;
        CHECK(thread.item == "B-1");
        CHECK(thread.channel == "CGENERAL");
        CHECK(has(thread.text, "B-1 no update for 2d. DRI <@UDANA>"));

        auto line = jobs.of(is_step2_channel).at(0).e;
        CHECK(line.channel == "CGENERAL");
        CHECK(line.item.empty());
        CHECK_FALSE(line.is_card);
        CHECK(line.text ==
              ":rotating_light: Needs attention: *B-1* cert expired — no update for 2d · DRI "
              "<@UDANA>");

        auto s3 = jobs.of(is_step3).at(0).e;
        CHECK(s3.user == "UBOSS");
        CHECK(has(s3.text, "*B-1* cert expired in <#CGENERAL> has had no update for 3d"));
        CHECK(has(s3.text, "its DRI (<@UDANA>) has been told twice"));

        // The same window again, in one run or step by step, sends nothing.
        auto before = jobs.out.size();
        CHECK(jobs.run(t0, t0 + 4 * day) == 0);
        jobs.now = t0;
        jobs.step_until(t0 + 4 * day, hour);
        CHECK(jobs.out.size() == before);
    }
    SECTION("a run after downtime sends every step that came due, once") {
        jobs.run(t0, t0 + 5 * day);
        CHECK(jobs.of(is_step1).size() == 1);
        CHECK(jobs.of(is_step2_thread).size() == 1);
        CHECK(jobs.of(is_step2_channel).size() == 1);
        CHECK(jobs.of(is_step3).size() == 1);
        CHECK(jobs.out.size() == 4);
        CHECK(jobs.run(t0, t0 + 5 * day) == 0);
        jobs.run(t0 + 5 * day, t0 + 6 * day);
        CHECK(jobs.out.size() == 4);
    }
}

TEST_CASE("med blockers step at 2/4/6 days and low at 5/10/15", "[escalation]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    h.ok("blocker flaky CI dri:<@UDANA>");            // B-1, med by default
    h.ok("blocker mockups late dri:<@ULEE> sev:med"); // B-2
    h.ok("blocker typo in docs dri:<@URAJ> sev:low"); // B-3
    REQUIRE(h.get("B-1").severity == "med");

    job_runner jobs(h.db, t0);
    jobs.step_until(t0 + 16 * day, 15 * minute);
    for (const std::string id : {"B-1", "B-2"}) {
        INFO("item " << id);
        CHECK(jobs.times(is_step1, id) == times{t0 + 2 * day});
        CHECK(jobs.times(is_step2_thread, id) == times{t0 + 4 * day});
        CHECK(jobs.times(is_step2_channel, id) == times{t0 + 4 * day});
        CHECK(jobs.times(is_step3, id) == times{t0 + 6 * day});
    }
    CHECK(jobs.times(is_step1, "B-3") == times{t0 + 5 * day});
    CHECK(jobs.times(is_step2_thread, "B-3") == times{t0 + 10 * day});
    CHECK(jobs.times(is_step2_channel, "B-3") == times{t0 + 10 * day});
    CHECK(jobs.times(is_step3, "B-3") == times{t0 + 15 * day});
    CHECK(jobs.of(is_step1).at(2).e.user == "URAJ");
    CHECK(jobs.out.size() == 3 * 4);
}

TEST_CASE("an ack and an update restart the clock, the steps come again from there, once",
          "[escalation]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    h.ok("blocker cert expired dri:<@UDANA> sev:high");

    job_runner jobs(h.db, t0);
    jobs.step_until(t0 + day + 6 * hour);
    REQUIRE(jobs.times(is_step1, "B-1") == times{t0 + day});

    // The DRI presses Ack on the step-1 DM.
    auto ack_at = t0 + day + 6 * hour;
    press(h, jobs.of(is_step1).at(0).e.buttons.at(0), "UDANA", ack_at);
    CHECK(h.get("B-1").status == "acked");
    CHECK(h.get("B-1").updated_at == ack_at);

    jobs.step_until(ack_at + 3 * day + 2 * hour);
    CHECK(jobs.times(is_step1, "B-1") == times{t0 + day, ack_at + day});
    // Already acked: the reminder asks for an update and offers no Ack that would be refused.
    auto again = jobs.of(is_step1).at(1).e;
    CHECK(again.user == "UDANA");
    CHECK(again.buttons.empty());
    CHECK(has(again.text, "Add an update: `/tpm blocker B-1 update <text>`."));
    CHECK_FALSE(has(again.text, "Ack it"));
    // Not at t0 + 2 days, where step 2 would have been without the ack.
    CHECK(jobs.times(is_step2_thread, "B-1") == times{ack_at + 2 * day});
    CHECK(jobs.times(is_step2_channel, "B-1") == times{ack_at + 2 * day});
    CHECK(jobs.times(is_step3, "B-1") == times{ack_at + 3 * day});

    // Someone adds an update: the clock starts again.
    auto update_at = ack_at + 3 * day + 2 * hour;
    h.ok("blocker B-1 update vendor says next week", "ULEE", at_time(update_at));
    CHECK(h.get("B-1").updated_at == update_at);
    jobs.step_until(update_at + 4 * day);
    CHECK(jobs.times(is_step1, "B-1") == times{t0 + day, ack_at + day, update_at + day});
    CHECK(jobs.times(is_step2_thread, "B-1") == times{ack_at + 2 * day, update_at + 2 * day});
    CHECK(jobs.times(is_step2_channel, "B-1") == times{ack_at + 2 * day, update_at + 2 * day});
    CHECK(jobs.times(is_step3, "B-1") == times{ack_at + 3 * day, update_at + 3 * day});
    CHECK(jobs.out.size() == 1 + 4 + 4);

    // Every window again: nothing new.
    CHECK(jobs.run(t0, update_at + 4 * day) == 0);
    CHECK(jobs.out.size() == 9);
}

TEST_CASE("a snoozed blocker does not escalate until the snooze ends, then climbs from there",
          "[escalation][snooze]") {
    harness h;
    h.ok("blocker cert expired dri:<@UDANA> sev:high");
    // Snoozed for two days at t0 + 12h: step 1 (due at one day) waits for the snooze's end,
    // and the clock counts from then, as after an update.
    h.ok("blocker B-1 snooze 2d", "UDANA", at_time(t0 + 12 * hour));
    job_runner jobs(h.db, t0);
    jobs.step_until(t0 + 12 * hour + 2 * day + day);
    CHECK(jobs.times(is_step1, "B-1") == times{t0 + 12 * hour + 3 * day});
    SECTION("snooze off: the clock is the last change again") {
        harness h2;
        h2.ok("blocker cert expired dri:<@UDANA> sev:high");
        h2.ok("blocker B-1 snooze 2d", "UDANA", at_time(t0 + hour));
        h2.ok("blocker B-1 snooze off", "UDANA", at_time(t0 + 2 * hour));
        job_runner jobs2(h2.db, t0);
        jobs2.step_until(t0 + day + hour);
        CHECK(jobs2.times(is_step1, "B-1") == times{t0 + day});
    }
}

TEST_CASE("a resolved blocker stops escalating", "[escalation]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    h.ok("blocker cert expired dri:<@UDANA> sev:high");
    h.ok("blocker other thing dri:<@ULEE> sev:high");

    job_runner jobs(h.db, t0);
    jobs.step_until(t0 + day + hour, 10 * minute);
    REQUIRE(jobs.times(is_step1, "B-1") == times{t0 + day});
    h.ok("blocker B-1 resolve cert renewed", "UDANA", at_time(t0 + day + hour));
    REQUIRE(h.get("B-1").status == "resolved");

    jobs.step_until(t0 + 10 * day, 10 * minute);
    CHECK(jobs.times(is_step1, "B-1") == times{t0 + day});
    CHECK(jobs.times(is_step2_thread, "B-1").empty());
    CHECK(jobs.times(is_step2_channel, "B-1").empty());
    CHECK(jobs.times(is_step3, "B-1").empty());
    // The other one carries on.
    CHECK(jobs.times(is_step3, "B-2") == times{t0 + 3 * day});
}

TEST_CASE("with no DRI, step 1 goes to the reporter", "[escalation]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    h.ok("blocker nobody owns the cert sev:high", "UREP");
    REQUIRE(h.get("B-1").dri.empty());

    job_runner jobs(h.db, t0);
    jobs.step_until(t0 + 3 * day, 10 * minute);
    auto s1 = jobs.of(is_step1);
    REQUIRE(s1.size() == 1);
    CHECK(s1[0].at == t0 + day);
    CHECK(s1[0].e.user == "UREP");
    CHECK(s1[0].e.buttons.at(0).value == "blocker B-1 ack");
    auto thread = jobs.of(is_step2_thread);
    REQUIRE(thread.size() == 1);
    CHECK(has(thread[0].e.text, "DRI nobody"));
    auto s3 = jobs.of(is_step3);
    REQUIRE(s3.size() == 1);
    CHECK(s3[0].e.user == "UBOSS");
}

// --- who hears of step 3 ---

TEST_CASE("step 3 goes to the escalation contact, else to the admins, else to a log line",
          "[escalation]") {
    harness h;
    h.ok("blocker cert expired dri:<@UDANA> sev:high");

    SECTION("the contact set with config escalation, and only them") {
        h.ok("config admins <@UBOSS>,<@UANA>", "UME", as_admin());
        auto r = h.ok("config escalation contact:<@UCONTACT|carol>", "UBOSS");
        CHECK(has(one(r, destination::ephemeral).text, "Step 3 goes to <@UCONTACT>."));
        job_runner jobs(h.db, t0);
        jobs.step_until(t0 + 3 * day, hour);
        auto s3 = jobs.of(is_step3);
        REQUIRE(s3.size() == 1);
        CHECK(s3[0].at == t0 + 3 * day);
        CHECK(s3[0].e.user == "UCONTACT");
    }
    SECTION("the admins added with config admins, each once, when there is no contact") {
        h.ok("config escalation contact:<@UCONTACT>", "UME", as_admin());
        h.ok("config escalation contact:admins", "UME", as_admin());
        h.ok("config admins <@UBOSS>,<@UANA>", "UME", as_admin());
        job_runner jobs(h.db, t0);
        jobs.step_until(t0 + 4 * day, hour);
        auto s3 = jobs.of(is_step3);
        REQUIRE(s3.size() == 2);
        std::vector<std::string> to;
        for (const auto& f : s3) {
            CHECK(f.at == t0 + 3 * day);
            to.push_back(f.e.user);
        }
        std::sort(to.begin(), to.end());
        CHECK(to == std::vector<std::string>{"UANA", "UBOSS"});
    }
    SECTION("nobody to tell: a log line, and the step waits for someone to tell") {
        job_runner jobs(h.db, t0);
        jobs.step_until(t0 + 3 * day + hour, 10 * minute);
        CHECK(jobs.of(is_step3).empty());
        // Said once, not at every tick.
        CHECK(jobs.logged_count("B-1 has reached step 3 but there is no escalation contact and "
                                "no admin to tell; set one with /tpm config escalation "
                                "contact:@who") == 1);
        // Steps 1 and 2 went out as usual.
        CHECK(jobs.of(is_step1).size() == 1);
        CHECK(jobs.of(is_step2_thread).size() == 1);

        h.ok("config admins <@UBOSS>", "UME", admin_at(t0 + 3 * day + hour));
        jobs.step_until(t0 + 4 * day, 10 * minute);
        auto s3 = jobs.of(is_step3);
        REQUIRE(s3.size() == 1);
        CHECK(s3[0].at == t0 + 3 * day + hour + 10 * minute);
        CHECK(s3[0].e.user == "UBOSS");
    }
}

// --- configuration ---

TEST_CASE("config escalation high:2/4/8 moves the high steps", "[escalation][config]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    auto r = h.ok("config escalation high:2/4/8", "UBOSS");
    auto reply = one(r, destination::ephemeral).text;
    CHECK(starts(reply, "Saved."));
    CHECK(has(reply, "high 2/4/8d · med 2/4/6d · low 5/10/15d."));
    CHECK(load_policy(h.db, "T1").days[0] == std::array<int, 3>{2, 4, 8});
    // Anyone can look.
    CHECK(has(one(h.ok("config escalation", "UX"), destination::ephemeral).text, "high 2/4/8d"));

    h.ok("blocker cert expired dri:<@UDANA> sev:high");
    job_runner jobs(h.db, t0);
    jobs.step_until(t0 + 9 * day, 15 * minute);
    CHECK(jobs.times(is_step1, "B-1") == times{t0 + 2 * day});
    CHECK(jobs.times(is_step2_thread, "B-1") == times{t0 + 4 * day});
    CHECK(jobs.times(is_step2_channel, "B-1") == times{t0 + 4 * day});
    CHECK(jobs.times(is_step3, "B-1") == times{t0 + 8 * day});
}

TEST_CASE("bad escalation settings are refused with a clear message and nothing is saved",
          "[escalation][config]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    h.ok("config escalation high:2/4/8 budget:4", "UBOSS");
    auto saved = policy_setting(h);
    REQUIRE(saved);

    struct bad {
        std::string text;
        std::string user;
        std::string says;
    };
    const std::vector<bad> cases = {
        {"config escalation high:3/2/1", "UBOSS",
         "`high:3/2/1` is not three growing numbers of days. Use e.g. `high:1/2/3`."},
        {"config escalation high:1/2", "UBOSS",
         "`high:1/2` is not three growing numbers of days. Use e.g. `high:1/2/3`."},
        {"config escalation high:a/b/c", "UBOSS",
         "`high:a/b/c` is not three growing numbers of days. Use e.g. `high:1/2/3`."},
        {"config escalation med:0/1/2", "UBOSS",
         "`med:0/1/2` is not three growing numbers of days. Use e.g. `med:1/2/3`."},
        {"config escalation low:1/2/3/4", "UBOSS",
         "`low:1/2/3/4` has more than three steps. Use e.g. `low:1/2/3`."},
        {"config escalation budget:0", "UBOSS",
         "`budget:` is how many channel lines go out at once before they are batched: a number "
         "from 1 to 99, e.g. `budget:3`."},
        {"config escalation budget:many", "UBOSS", "`budget:` is how many channel lines"},
        {"config escalation contact:nobody", "UBOSS",
         "`contact:` needs a person: pick them with @ so Slack links the name (or write `me`)"},
        // A good part next to a bad one saves neither.
        {"config escalation high:1/2/3 budget:0", "UBOSS", "`budget:` is how many"},
        {"config escalation high:1/2/3", "UX",
         "Only an admin can change the escalation ladder. `/tpm config admins` lists them."},
        {"config quiet-hours 19:00-08:00", "UX", "Only an admin can set quiet hours."},
        {"config quiet-hours 19:00", "UBOSS", "Quiet hours are a range of times"},
        {"config quiet-hours 19:00-19:00", "UBOSS",
         "Quiet hours need a start and an end that differ"},
    };
    for (const auto& c : cases) {
        INFO(c.text << " as " << c.user);
        auto msg = h.refused(c.text, c.user);
        CHECK(has(msg, c.says));
        CHECK(policy_setting(h) == saved);
    }
    auto p = load_policy(h.db, "T1");
    CHECK(p.days[0] == std::array<int, 3>{2, 4, 8});
    CHECK(p.noise_budget == 4);
    CHECK(p.contact.empty());
    CHECK(p.quiet_from == -1);
}

// --- quiet hours ---

TEST_CASE("quiet hours defer a DM until they end in the recipient's zone, then it goes once",
          "[escalation][quiet]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    h.ok("config quiet-hours 19:00-08:00", "UBOSS"); // channel posts: Berlin (the caller's zone)
    CHECK(load_policy(h.db, "T1").quiet_tz == "Europe/Berlin");
    h.db.set_user_info("T1", "ULA", "America/Los_Angeles", false, t0);

    SECTION("a DM due at 01:00 in Los Angeles goes at 08:00 there") {
        h.ok("blocker cert expired dri:<@ULA> sev:high");
        job_runner jobs(h.db, t0);
        // Step 1 is due Thu 01:00 PST (09:00 UTC), inside ULA's quiet hours; they end at 08:00
        // PST, 16:00 UTC.
        jobs.step_until(t0 + day + 6 * hour);
        CHECK(jobs.of(is_step1).empty());
        jobs.step_until(t0 + day + 12 * hour);
        auto s1 = jobs.of(is_step1);
        REQUIRE(s1.size() == 1);
        CHECK(s1[0].at == t0 + day + 7 * hour);
        CHECK(s1[0].e.user == "ULA");
        // Step 2 (Fri 10:00 in Berlin) is not quiet; step 3 to UBOSS (zone unknown: UTC) at
        // Sat 09:00 UTC is not quiet either.
        jobs.step_until(t0 + 4 * day, 15 * minute);
        CHECK(jobs.times(is_step1, "B-1") == times{t0 + day + 7 * hour});
        CHECK(jobs.times(is_step2_channel, "B-1") == times{t0 + 2 * day});
        CHECK(jobs.times(is_step3, "B-1") == times{t0 + 3 * day});
    }
    SECTION("channel posts keep quiet hours in the policy's zone") {
        // Created Wed 19:00 UTC: step 2 is due Fri 19:00 UTC, 20:00 in Berlin, and waits for
        // Sat 08:00 in Berlin (07:00 UTC). Step 1 to UDANA (UTC) is due Thu 19:00 UTC, inside
        // quiet hours in UTC, and goes at Fri 08:00 UTC.
        auto created = t0 + 10 * hour;
        h.ok("blocker cert expired dri:<@UDANA> sev:high", "UME", at_time(created));
        job_runner jobs(h.db, created);
        jobs.step_until(created + 3 * day);
        CHECK(jobs.times(is_step1, "B-1") == times{t0 + 2 * day - hour});
        CHECK(jobs.times(is_step2_thread, "B-1") == times{t0 + 2 * day + 22 * hour});
        CHECK(jobs.times(is_step2_channel, "B-1") == times{t0 + 2 * day + 22 * hour});
    }
    SECTION("quiet-hours off lets them through") {
        h.ok("config quiet-hours off", "UBOSS");
        CHECK(load_policy(h.db, "T1").quiet_from == -1);
        h.ok("blocker cert expired dri:<@ULA> sev:high");
        job_runner jobs(h.db, t0);
        jobs.step_until(t0 + day + hour);
        CHECK(jobs.times(is_step1, "B-1") == times{t0 + day});
    }
}

TEST_CASE("step 3 to several admins waits for each one's own quiet hours to end",
          "[escalation][quiet]") {
    harness h;
    // UAAA and UZZZ are in Los Angeles, UBOSS's zone is unknown (UTC): whichever comes first,
    // each is told when it is not quiet where they are.
    h.ok("config admins <@UAAA>,<@UBOSS>,<@UZZZ>", "UME", as_admin());
    h.db.set_user_info("T1", "UAAA", "America/Los_Angeles", false, t0);
    h.db.set_user_info("T1", "UZZZ", "America/Los_Angeles", false, t0);
    h.ok("config quiet-hours 19:00-08:00", "UBOSS");
    h.ok("blocker cert expired dri:<@UDANA> sev:high");

    job_runner jobs(h.db, t0);
    // Step 3 is due Sat 09:00 UTC, 01:00 PST; quiet hours end in Los Angeles at 16:00 UTC.
    jobs.step_until(t0 + 4 * day, 10 * minute);
    auto s3 = jobs.of(is_step3);
    std::map<std::string, times> at;
    for (const auto& f : s3) {
        at[f.e.user].push_back(f.at);
    }
    CHECK(at["UBOSS"] == times{t0 + 3 * day});
    CHECK(at["UAAA"] == times{t0 + 3 * day + 7 * hour});
    CHECK(at["UZZZ"] == times{t0 + 3 * day + 7 * hour});
    CHECK(s3.size() == 3);
    CHECK(jobs.run(t0, t0 + 4 * day) == 0);
}

TEST_CASE("jumping from one due time to the next runs everything on time", "[escalation][quiet]") {
    harness h;
    h.ok("config admins <@UADMIN>", "UME", as_admin());
    h.db.set_user_info("T1", "UADMIN", "America/Los_Angeles", false, t0);
    h.db.set_user_info("T1", "ULA", "America/Los_Angeles", false, t0);
    h.ok("config quiet-hours 19:00-08:00", "UADMIN");                   // channel posts: Berlin
    h.ok("blocker cert expired dri:<@ULA> sev:high");                   // B-1
    h.ok("blocker nobody has this");                                    // B-2, med, reported by UME
    h.ok("decision \"Ship behind a flag?\" by:2026-11-27 dri:<@ULEE>"); // D-1, ULEE in UTC

    job_runner jobs(h.db, t0);
    jobs.jump_until(t0 + 7 * day);

    // B-1: step 1 to ULA Thu 01:00 PST waits for 08:00 PST (16:00 UTC); step 2 Fri 10:00 in
    // Berlin; step 3 to UADMIN Sat 01:00 PST waits for 08:00 PST.
    CHECK(jobs.times(is_step1, "B-1") == times{t0 + day + 7 * hour});
    CHECK(jobs.times(is_step2_channel, "B-1") == times{t0 + 2 * day});
    CHECK(jobs.times(is_step3, "B-1") == times{t0 + 3 * day + 7 * hour});
    // B-2: step 1 to UME (UTC) Fri 09:00 UTC; step 2 Sun 10:00 in Berlin; step 3 to UADMIN
    // Tue 01:00 PST waits for 08:00 PST.
    CHECK(jobs.times(is_step1, "B-2") == times{t0 + 2 * day});
    CHECK(jobs.times(is_step2_channel, "B-2") == times{t0 + 4 * day});
    CHECK(jobs.times(is_step3, "B-2") == times{t0 + 6 * day + 7 * hour});
    // D-1: the reminder is due Thu 00:00 UTC, quiet for ULEE until 08:00 UTC.
    CHECK(jobs.times(is_decision_reminder, "D-1") == times{thu_midnight_utc + 8 * hour});
    // D-1 is overdue from Sat 00:00 UTC: step 1 Mon 00:00 UTC, quiet until 08:00 UTC.
    CHECK(jobs.times(is_step1, "D-1") == times{thu_midnight_utc + 4 * day + 8 * hour});
    // The unowned queue (B-2 has no DRI): 09:00 PST on working days.
    times queues;
    for (const auto& f : jobs.of(is_unowned_queue)) {
        queues.push_back(f.at);
    }
    CHECK(queues == times{t0 + 8 * hour, t0 + day + 8 * hour, t0 + 2 * day + 8 * hour,
                          t0 + 5 * day + 8 * hour, t0 + 6 * day + 8 * hour});
}

// --- the noise budget ---

TEST_CASE("more than the noise budget at once in one channel becomes one channel message",
          "[escalation][noise]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    for (int i = 1; i <= 5; ++i) {
        h.ok(fmt::format("blocker general thing {} dri:<@UDANA> sev:high", i)); // B-1..B-5
    }
    h.ok("blocker design one dri:<@ULEE> sev:high", "UME", in_channel("CDESIGN")); // B-6
    h.ok("blocker design two dri:<@ULEE> sev:high", "UME", in_channel("CDESIGN")); // B-7

    job_runner jobs(h.db, t0);
    jobs.step_until(t0 + 2 * day + hour, 10 * minute);

    auto threads = jobs.of(is_step2_thread);
    REQUIRE(threads.size() == 7);
    std::vector<std::string> items;
    for (const auto& f : threads) {
        CHECK(f.at == t0 + 2 * day);
        items.push_back(f.e.item);
    }
    std::sort(items.begin(), items.end());
    CHECK(items == std::vector<std::string>{"B-1", "B-2", "B-3", "B-4", "B-5", "B-6", "B-7"});

    auto lines = jobs.of(is_step2_channel);
    std::vector<fired> general, design;
    for (const auto& f : lines) {
        CHECK(f.at == t0 + 2 * day);
        (f.e.channel == "CGENERAL" ? general : design).push_back(f);
    }
    // CGENERAL: five at once, over the budget of 3: one message listing all five.
    REQUIRE(general.size() == 1);
    const auto& batch = general[0].e.text;
    CHECK(starts(batch, ":rotating_light: 5 items here need attention:"));
    for (int i = 1; i <= 5; ++i) {
        CHECK(
            has(batch, fmt::format("\n• *B-{}* general thing {} — no update for 2d · DRI <@UDANA>",
                                   i, i)));
    }
    CHECK_FALSE(has(batch, "B-6"));
    // CDESIGN: two, within the budget: a line each.
    REQUIRE(design.size() == 2);
    for (const auto& f : design) {
        CHECK(f.e.channel == "CDESIGN");
        CHECK(starts(f.e.text, ":rotating_light: Needs attention: *B-"));
    }
    CHECK(has(design[0].e.text + design[1].e.text, "*B-6* design one"));
    CHECK(has(design[0].e.text + design[1].e.text, "*B-7* design two"));

    // Once only.
    CHECK(jobs.run(t0, t0 + 2 * day + hour) == 0);
    CHECK(jobs.of(is_step2_channel).size() == 3);
}

TEST_CASE("the noise budget counts what fires together, and can be changed",
          "[escalation][noise]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    SECTION("three at once is within the default budget") {
        for (int i = 1; i <= 3; ++i) {
            h.ok(fmt::format("blocker thing {} dri:<@UDANA> sev:high", i));
        }
        job_runner jobs(h.db, t0);
        jobs.step_until(t0 + 2 * day + hour, hour);
        CHECK(jobs.of(is_step2_channel).size() == 3);
    }
    SECTION("five reaching step 2 an hour apart are not batched") {
        for (int i = 1; i <= 5; ++i) {
            h.ok(fmt::format("blocker thing {} dri:<@UDANA> sev:high", i), "UME",
                 at_time(t0 + i * hour));
        }
        job_runner jobs(h.db, t0);
        jobs.step_until(t0 + 2 * day + 6 * hour, 10 * minute);
        auto lines = jobs.of(is_step2_channel);
        REQUIRE(lines.size() == 5);
        for (int i = 1; i <= 5; ++i) {
            CHECK(lines[i - 1].at == t0 + 2 * day + i * hour);
            CHECK(starts(lines[i - 1].e.text, ":rotating_light: Needs attention:"));
        }
    }
    SECTION("budget:1 batches two") {
        h.ok("config escalation budget:1", "UBOSS");
        h.ok("blocker one dri:<@UDANA> sev:high");
        h.ok("blocker two dri:<@UDANA> sev:high");
        job_runner jobs(h.db, t0);
        jobs.step_until(t0 + 2 * day + hour, hour);
        auto lines = jobs.of(is_step2_channel);
        REQUIRE(lines.size() == 1);
        CHECK(starts(lines[0].e.text, ":rotating_light: 2 items here need attention:"));
        CHECK(jobs.of(is_step2_thread).size() == 2);
    }
}

// --- decisions ---

TEST_CASE("an overdue decision follows the med row from the start of the day after its date",
          "[escalation][decision]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    // Due Fri 2026-11-27. ULEE's zone is unknown (UTC): overdue from Sat 00:00 UTC, so the
    // steps are at Mon 11-30, Wed 12-02 and Fri 12-04, 00:00 UTC.
    h.ok("decision \"Ship behind a flag?\" by:2026-11-27 dri:<@ULEE>");
    // ULA is in Los Angeles: overdue from Sat 00:00 PST (08:00 UTC).
    h.db.set_user_info("T1", "ULA", "America/Los_Angeles", false, t0);
    h.ok("decision \"Postgres or MySQL?\" by:2026-11-27 dri:<@ULA>");
    // Decided in time: never escalates.
    h.ok("decision \"Rename the repo?\" by:2026-11-27 dri:<@URAJ>");
    h.ok("decision D-3 decide yes", "URAJ", at_time(t0 + hour));
    // No date: never overdue.
    h.ok("decision \"Someday?\" dri:<@URAJ>");

    const unix_time sat_utc = thu_midnight_utc + 2 * day; // Sat 2026-11-28 00:00 UTC
    const unix_time sat_la = sat_utc + 8 * hour;          // Sat 2026-11-28 00:00 PST

    job_runner jobs(h.db, t0);
    jobs.step_until(sat_utc + 8 * day, 15 * minute);

    CHECK(jobs.times(is_step1, "D-1") == times{sat_utc + 2 * day});
    CHECK(jobs.times(is_step2_thread, "D-1") == times{sat_utc + 4 * day});
    CHECK(jobs.times(is_step2_channel, "D-1") == times{sat_utc + 4 * day});
    CHECK(jobs.times(is_step3, "D-1") == times{sat_utc + 6 * day});

    CHECK(jobs.times(is_step1, "D-2") == times{sat_la + 2 * day});
    CHECK(jobs.times(is_step2_thread, "D-2") == times{sat_la + 4 * day});
    CHECK(jobs.times(is_step3, "D-2") == times{sat_la + 6 * day});

    for (const std::string id : {"D-3", "D-4"}) {
        INFO(id);
        CHECK(jobs.times(is_step1, id).empty());
        CHECK(jobs.times(is_step2_thread, id).empty());
        CHECK(jobs.times(is_step3, id).empty());
    }

    auto s1 = jobs.where([](const fired& f) { return is_step1(f.e) && about(f.e, "D-1"); });
    REQUIRE(s1.size() == 1);
    CHECK(s1[0].e.user == "ULEE");
    CHECK(has(s1[0].e.text, "*D-1* Ship behind a flag? in <#CGENERAL> was due Fri 2026-11-27"));
    CHECK(has(s1[0].e.text, "Decide it"));
    CHECK(s1[0].e.buttons.empty());
    auto thread =
        jobs.where([](const fired& f) { return is_step2_thread(f.e) && f.e.item == "D-1"; });
    REQUIRE(thread.size() == 1);
    CHECK(has(thread[0].e.text, "D-1 was due Fri 2026-11-27. DRI <@ULEE>"));
    auto s3 = jobs.where([](const fired& f) { return is_step3(f.e) && about(f.e, "D-1"); });
    REQUIRE(s3.size() == 1);
    CHECK(s3[0].e.user == "UBOSS");

    CHECK(jobs.run(t0, sat_utc + 8 * day) == 0);
}

TEST_CASE("moving an overdue decision's date on stops its ladder until the new date passes",
          "[escalation][decision]") {
    harness h;
    h.ok("config admins <@UBOSS>", "UME", as_admin());
    h.ok("decision \"Ship behind a flag?\" by:2026-11-27 dri:<@ULEE>");
    const unix_time sat_utc = thu_midnight_utc + 2 * day; // Sat 2026-11-28 00:00 UTC
    job_runner jobs(h.db, t0);
    jobs.step_until(sat_utc + 2 * day + hour, 15 * minute);
    REQUIRE(jobs.times(is_step1, "D-1") == times{sat_utc + 2 * day});
    // Mon 11-30 01:00 UTC: the DRI moves the date to Fri 12-04.
    h.ok("decision D-1 extend 2026-12-04", "ULEE", at_time(sat_utc + 2 * day + hour));
    REQUIRE(h.get("D-1").due == "2026-12-04");
    jobs.step_until(sat_utc + 7 * day, 15 * minute);
    CHECK(jobs.times(is_step1, "D-1") == times{sat_utc + 2 * day});
    CHECK(jobs.times(is_step2_thread, "D-1").empty());
    // Overdue again from Sat 12-05 00:00 UTC: step 1 comes again two days later.
    jobs.step_until(sat_utc + 10 * day, 15 * minute);
    CHECK(jobs.times(is_step1, "D-1") == times{sat_utc + 2 * day, sat_utc + 9 * day});
    CHECK(jobs.times(is_step2_thread, "D-1").empty());
}

TEST_CASE("a decision's DRI is reminded the day before it is due, once", "[escalation][decision]") {
    harness h;
    // Due Fri 2026-11-27: ULEE (UTC) is reminded from Thu 00:00 UTC, ULA from Thu 00:00 PST.
    h.ok("decision \"Ship behind a flag?\" by:2026-11-27 dri:<@ULEE>");
    h.db.set_user_info("T1", "ULA", "America/Los_Angeles", false, t0);
    h.ok("decision \"Postgres or MySQL?\" by:2026-11-27 dri:<@ULA>");
    h.ok("decision \"Nobody's call?\" by:2026-11-27");
    h.ok("decision \"Decided already?\" by:2026-11-27 dri:<@URAJ>");
    h.ok("decision D-4 decide yes", "URAJ", at_time(t0 + hour));

    job_runner jobs(h.db, t0);
    jobs.step_until(thu_midnight_utc + 2 * day, 10 * minute);
    auto reminders = jobs.of(is_decision_reminder);
    REQUIRE(reminders.size() == 2);
    CHECK(reminders[0].at == thu_midnight_utc);
    CHECK(reminders[0].e.user == "ULEE");
    CHECK(has(reminders[0].e.text,
              "*D-1* Ship behind a flag? in <#CGENERAL> is due tomorrow (Fri 2026-11-27)"));
    CHECK(has(reminders[0].e.text, "`/tpm decision D-1 decide \"<outcome>\"`"));
    CHECK(reminders[1].at == thu_midnight_utc + 8 * hour);
    CHECK(reminders[1].e.user == "ULA");
    CHECK(about(reminders[1].e, "D-2"));

    CHECK(jobs.run(t0, thu_midnight_utc + 2 * day) == 0);
    CHECK(jobs.of(is_decision_reminder).size() == 2);
}

// --- the unowned queue ---

TEST_CASE("the unowned queue reaches each admin at 09:00 in their zone with Take buttons and "
          "Assign pickers",
          "[escalation][unowned]") {
    harness h;
    h.ok("config admins <@UADMIN>,<@UBERLIN>", "UME", as_admin());
    h.db.set_user_info("T1", "UADMIN", "America/Los_Angeles", false, t0);
    h.db.set_user_info("T1", "UBERLIN", "Europe/Berlin", false, t0);

    h.ok("blocker nobody has this");         // B-1: no DRI
    h.ok("blocker ooo owner dri:<@UOOO>");   // B-2: DRI away
    h.ok("standup ooo 3d", "UOOO");          // until Fri 11-27
    h.ok("blocker gone owner dri:<@UGONE>"); // B-3: DRI deleted
    h.db.set_user_info("T1", "UGONE", "UTC", false, t0, true);
    h.ok("blocker outsider dri:<@UOUT>", "UME", in_channel("CDESIGN")); // B-4: not a member
    h.ok("blocker insider dri:<@UIN>", "UME", in_channel("CDESIGN"));   // B-5: fine
    h.db.set_channel_members("T1", "CDESIGN", {"UIN", "UME"}, t0);
    h.ok("blocker looked after dri:<@UDANA>"); // B-6: fine
    h.ok("decision \"Who decides?\"");         // D-1: no DRI

    job_runner jobs(h.db, t0);
    // Wed 09:00 in Los Angeles is 17:00 UTC; Wed 09:00 in Berlin (08:00 UTC) was before t0.
    jobs.step_until(t0 + 8 * hour + 30 * minute);
    auto queues = jobs.of(is_unowned_queue);
    REQUIRE(queues.size() == 1);
    CHECK(queues[0].at == t0 + 8 * hour);
    const auto& q = queues[0].e;
    CHECK(q.user == "UADMIN");
    CHECK(starts(q.text, ":busts_in_silhouette: *Unowned* — 5 items nobody is looking after:"));
    CHECK(has(q.text, "\n• *B-1* nobody has this in <#CGENERAL> — no DRI"));
    CHECK(has(q.text, "\n• *B-2* ooo owner in <#CGENERAL> — DRI <@UOOO> is out of office until "
                      "Fri 2026-11-27"));
    CHECK(has(q.text, "\n• *B-3* gone owner in <#CGENERAL> — DRI <@UGONE> left the workspace"));
    CHECK(has(q.text, "\n• *B-4* outsider in <#CDESIGN> — DRI <@UOUT> is not in <#CDESIGN>"));
    CHECK(has(q.text, "\n• *D-1* Who decides? in <#CGENERAL> — no DRI"));
    CHECK_FALSE(has(q.text, "B-5"));
    CHECK_FALSE(has(q.text, "B-6"));
    CHECK(has(q.text, "Take one, or pick who owns it, below; or `/tpm owner <ID> @user`."));
    REQUIRE(q.buttons.size() == 10);
    for (const std::string id : {"B-1", "B-2", "B-3", "B-4", "D-1"}) {
        auto b = button_named(q, "Take " + id);
        CHECK(b.value == "owner " + id + " me");
        CHECK(b.action_id == "assign");
        CHECK_FALSE(b.pick_user);
        auto pick = button_named(q, "Assign " + id + "…");
        CHECK(pick.pick_user);
        CHECK(pick.value == "owner " + id); // the person picked completes it
    }

    // The admin takes two of them.
    auto take_at = t0 + 8 * hour + 30 * minute;
    press(h, button_named(q, "Take B-1"), "UADMIN", take_at);
    CHECK(h.get("B-1").dri == "UADMIN");
    press(h, button_named(q, "Take B-2"), "UADMIN", take_at);
    CHECK(h.get("B-2").dri == "UADMIN");

    // Thu 09:00 in Berlin (08:00 UTC) and in Los Angeles (17:00 UTC): without the two taken.
    jobs.step_until(t0 + day + 8 * hour + 30 * minute);
    queues = jobs.of(is_unowned_queue);
    REQUIRE(queues.size() == 3);
    CHECK(queues[1].at == t0 + 23 * hour);
    CHECK(queues[1].e.user == "UBERLIN");
    CHECK(queues[2].at == t0 + day + 8 * hour);
    CHECK(queues[2].e.user == "UADMIN");
    for (std::size_t i = 1; i < 3; ++i) {
        const auto& text = queues[i].e.text;
        CHECK(has(text, "3 items nobody is looking after"));
        CHECK_FALSE(has(text, "*B-1*"));
        CHECK_FALSE(has(text, "*B-2*"));
        CHECK(has(text, "*B-3*"));
        CHECK(has(text, "*B-4*"));
        CHECK(has(text, "*D-1*"));
    }
}

TEST_CASE("an admin's queue lists a DRI out of office only until they are back",
          "[escalation][unowned]") {
    harness h;
    h.ok("config admins <@UADMIN>", "UME", as_admin());
    h.ok("blocker ooo owner dri:<@UOOO>");
    h.ok("standup ooo 3d", "UOOO"); // Wed-Fri
    job_runner jobs(h.db, t0);
    // UADMIN's zone is unknown: 09:00 UTC. Thu, Fri, then Mon 11-30.
    jobs.step_until(t0 + 5 * day + hour, 10 * minute);
    auto queues = jobs.of(is_unowned_queue);
    REQUIRE(queues.size() == 2);
    CHECK(queues[0].at == t0 + day);
    CHECK(queues[1].at == t0 + 2 * day);
    CHECK(jobs.logged("unowned-queue:T1:UADMIN 2026-11-30: nothing unowned"));
}

TEST_CASE("the unowned queue goes once a working day, and not at all when nothing is unowned",
          "[escalation][unowned]") {
    harness h;
    h.ok("config admins <@UADMIN>", "UME", as_admin());
    h.db.set_user_info("T1", "UADMIN", "America/Los_Angeles", false, t0);

    SECTION("something unowned: one DM each weekday at 09:00 PST, none at the weekend") {
        h.ok("blocker nobody has this sev:low");
        job_runner jobs(h.db, t0);
        // Wed 11-25 to Wed 12-02 (exclusive of its 09:00).
        jobs.step_until(t0 + 7 * day);
        auto queues = jobs.of(is_unowned_queue);
        const times expected = {t0 + 8 * hour, t0 + day + 8 * hour, t0 + 2 * day + 8 * hour,
                                t0 + 5 * day + 8 * hour, t0 + 6 * day + 8 * hour};
        times got;
        for (const auto& f : queues) {
            got.push_back(f.at);
            CHECK(f.e.user == "UADMIN");
        }
        CHECK(got == expected);
        // The same week again: nothing.
        jobs.now = t0;
        jobs.step_until(t0 + 7 * day, hour);
        CHECK(jobs.of(is_unowned_queue).size() == 5);
    }
    SECTION("nothing unowned: no DM, a log line each working day") {
        h.ok("blocker looked after dri:<@UDANA> sev:low");
        job_runner jobs(h.db, t0);
        jobs.step_until(t0 + 2 * day);
        CHECK(jobs.of(is_unowned_queue).empty());
        CHECK(jobs.logged_count("unowned-queue:T1:UADMIN 2026-11-25: nothing unowned") == 1);
        CHECK(jobs.logged_count("unowned-queue:T1:UADMIN 2026-11-26: nothing unowned") == 1);
        CHECK(jobs.logged_count("nothing unowned") == 2);
    }
}
