// The scheduled side of standups: prompts in each member's zone, the one reminder and the
// digest, run by `run_standup_jobs` and `run_due_jobs` on a clock the tests move by hand.
//
// Expected instants are written out from the zones' published 2026 rules (offsets and change
// dates), never computed with the schedule code under test.

#include "dates.hpp"
#include "scheduler.hpp"
#include "sqlite_store.hpp"
#include "standup.hpp"
#include "support/harness.hpp"
#include "support/job_clock.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <date/date.h>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

constexpr unix_time minute = 60;

/// Midnight UTC at the start of "YYYY-MM-DD" (calendar arithmetic only, no zones).
unix_time midnight_utc(const std::string& day) {
    std::istringstream in(day);
    date::sys_days d;
    in >> date::parse("%F", d);
    REQUIRE_FALSE(in.fail());
    return std::chrono::duration_cast<std::chrono::seconds>(d.time_since_epoch()).count();
}

/// "YYYY-MM-DD" `n` days after `day`.
std::string day_plus(const std::string& day, int n) {
    std::istringstream in(day);
    date::sys_days d;
    in >> date::parse("%F", d);
    REQUIRE_FALSE(in.fail());
    return date::format("%F", d + date::days{n});
}

/// `hh:mm` UTC on `day`.
unix_time utc(const std::string& day, int hh, int mm = 0) {
    return midnight_utc(day) + (hh * 60 + mm) * minute;
}

/// `hh:mm` local on `day` in a place `offset` minutes east of UTC.
unix_time local(const std::string& day, int hh, int mm, int offset) {
    return midnight_utc(day) + (hh * 60 + mm - offset) * minute;
}

/// The UTC offset (minutes east) in force at 09:00 local on `day` of 2026, from the published
/// rules; every change of these zones happens before 09:00 local, on the dates written here.
int offset_at_nine(const std::string& tz, const std::string& day) {
    if (tz == "America/Los_Angeles") { // PDT -7 from Sun 2026-03-08, PST -8 from Sun 2026-11-01
        return day >= "2026-03-08" && day < "2026-11-01" ? -7 * 60 : -8 * 60;
    }
    if (tz == "Europe/Berlin") { // CEST +2 from Sun 2026-03-29, CET +1 from Sun 2026-10-25
        return day >= "2026-03-29" && day < "2026-10-25" ? 2 * 60 : 60;
    }
    if (tz == "Australia/Sydney") { // AEST +10 from Sun 2026-04-05, AEDT +11 from Sun 2026-10-04
        return day >= "2026-04-05" && day < "2026-10-04" ? 10 * 60 : 11 * 60;
    }
    if (tz == "Asia/Kolkata") { // IST +5:30 all year
        return 5 * 60 + 30;
    }
    FAIL("no rule written out for " << tz);
    return 0;
}

/// Mon 2026-11-23 (CET, +1): the week most tests run in.
const std::string monday = "2026-11-23";
const std::string tuesday = "2026-11-24";
const std::string wednesday = "2026-11-25";

/// A Berlin local time in late November (CET, UTC+1).
unix_time berlin(const std::string& day, int hh, int mm = 0) {
    return local(day, hh, mm, 60);
}

/// What scheduled work emitted: when (the `to` of the run), for which team, what.
using test::fired;

bool is_prompt(const effect& e) {
    return e.to == destination::dm && e.text.rfind(":wave: *Standup for", 0) == 0;
}
bool is_reminder(const effect& e) {
    return e.to == destination::dm && e.text.rfind(":alarm_clock:", 0) == 0;
}
bool is_digest(const effect& e) {
    return e.to == destination::channel && e.is_card && e.item.rfind("standup:", 0) == 0;
}

/// Runs standup jobs on a moved clock and keeps everything they emit and log.
struct job_runner : test::job_clock {
    job_runner(store& s, unix_time start)
        : job_clock(
              s, start,
              [this](unix_time from, unix_time to, const emit_fn& emit, const job_log_fn& log) {
                  return run_standup_jobs(db, from, to, timing, emit, log);
              },
              [this](unix_time after) { return next_standup_due(db, after); }) {}

    standup_timing timing;

    /// Steps from `now` to `until` through every due time, as a running bot does.
    void step_until(unix_time until) { jump_until(until); }
    /// Runs (now, now + 1 min] again and again up to `until`.
    void minute_by_minute(unix_time until) { stride_until(until, minute); }

    /// When `user`'s prompt DMs went out, in order.
    std::vector<unix_time> prompts(const std::string& user) const {
        std::vector<unix_time> r;
        for (const auto& f : out) {
            if (is_prompt(f.e) && f.e.user == user) {
                r.push_back(f.at);
            }
        }
        return r;
    }
    std::vector<fired> prompt_dms(const std::string& user) const {
        return where([&](const fired& f) { return is_prompt(f.e) && f.e.user == user; });
    }
    std::vector<fired> reminders(const std::string& user) const {
        return where([&](const fired& f) { return is_reminder(f.e) && f.e.user == user; });
    }
    std::vector<fired> all_reminders() const {
        return where([](const fired& f) { return is_reminder(f.e); });
    }
    std::vector<fired> digests() const {
        return where([](const fired& f) { return is_digest(f.e); });
    }
    /// Whether a log line contains `text`.
    bool logged(const std::string& text) const {
        return std::any_of(logs.begin(), logs.end(),
                           [&](const std::string& l) { return has(l, text); });
    }
};

/// The periods of digests, in order.
std::vector<std::string> digest_periods(const std::vector<fired>& ds) {
    std::vector<std::string> r;
    for (const auto& d : ds) {
        r.push_back(d.e.item.substr(std::string("standup:CGENERAL:").size()));
    }
    return r;
}

/// An admin's command options in zone `tz` at `now`.
opts admin_at(unix_time now, std::string tz = "Europe/Berlin") {
    opts o;
    o.admin = true;
    o.now = now;
    o.tz = std::move(tz);
    return o;
}

/// A member's command options at `now`.
opts member_at(unix_time now, std::string tz = "Europe/Berlin") {
    opts o;
    o.now = now;
    o.tz = std::move(tz);
    return o;
}

/// Sets up the harness channel's standup with `args` as an admin in `tz` at `now`.
void setup(harness& h, const std::string& args, unix_time now, std::string tz = "Europe/Berlin") {
    h.ok("standup setup " + args, "UME", admin_at(now, std::move(tz)));
}

/// `user` DMs `text` to the bot at `now` (a standup answer while a prompt waits).
handled answer(harness& h, const std::string& user, const std::string& text, unix_time now) {
    opts o;
    o.from = source::dm;
    o.channel = "D" + user;
    o.message_ts = std::to_string(now) + ".000100";
    o.now = now;
    return h.run(text, user, o);
}

/// The rest of the line of `text` after `label`; "" when there is none.
std::string line_after(const std::string& text, const std::string& label) {
    auto at = text.find(label);
    if (at == std::string::npos) {
        return {};
    }
    at += label.size();
    return text.substr(at, text.find('\n', at) - at);
}

/// Outbox rows of standup kinds, counted.
struct outbox_counts {
    std::map<std::string, int> prompts;   ///< by user
    std::map<std::string, int> reminders; ///< by user
    std::map<std::string, int> digests;   ///< by period
};

outbox_counts count_outbox(sqlite_store& db) {
    outbox_counts c;
    for (const auto& r : db.pending(1000)) {
        if (is_prompt(r.e)) {
            ++c.prompts[r.e.user];
        } else if (is_reminder(r.e)) {
            ++c.reminders[r.e.user];
        } else if (is_digest(r.e)) {
            ++c.digests[r.e.item.substr(std::string("standup:CGENERAL:").size())];
        }
    }
    return c;
}

/// Runs one command on a store of its own (no harness), the way the dispatcher would.
void command_on(sqlite_store& db, const std::string& text, const std::string& user, unix_time now,
                bool admin) {
    auto routes = make_router();
    dispatcher d(db, routes, {}, [](const std::string&) {});
    command c;
    c.team_id = "T1";
    c.user_id = user;
    c.channel_id = "CGENERAL";
    c.command_name = "/tpm";
    c.text = text;
    c.now = now;
    c.user_tz = "Europe/Berlin";
    c.is_admin = admin;
    auto h = d.handle(c);
    INFO("command: " << text);
    REQUIRE(h.ok);
}

} // namespace

// --- 1. zones and daylight saving ---

TEST_CASE("a 09:00 prompt goes out at 09:00 local in each member's zone around both DST changes",
          "[standup-jobs][dst]") {
    struct member {
        std::string user;
        std::string tz;
    };
    // UA and UB get Slack's zone; UC and UD set theirs with `standup tz` (UC's Slack zone is
    // another one, which the override beats).
    const std::vector<member> members = {{"UA", "America/Los_Angeles"},
                                         {"UB", "Europe/Berlin"},
                                         {"UC", "Asia/Kolkata"},
                                         {"UD", "Australia/Sydney"}};
    struct change {
        const char* tz;
        const char* day;
    };
    const std::vector<change> changes = {
        {"America/Los_Angeles", "2026-03-08"}, {"America/Los_Angeles", "2026-11-01"},
        {"Europe/Berlin", "2026-03-29"},       {"Europe/Berlin", "2026-10-25"},
        {"Australia/Sydney", "2026-04-05"},    {"Australia/Sydney", "2026-10-04"},
    };
    for (const auto& c : changes) {
        INFO("around the change in " << c.tz << " on " << c.day);
        harness h;
        auto start = midnight_utc(day_plus(c.day, -3));
        auto end = midnight_utc(day_plus(c.day, 4));
        setup(h, "at:09:00 report:11:00 days:daily members:<@UA>,<@UB>,<@UC>,<@UD>", start - hour,
              "UTC");
        h.db.set_user_info("T1", "UA", "America/Los_Angeles", false, start - hour);
        h.db.set_user_info("T1", "UB", "Europe/Berlin", false, start - hour);
        h.db.set_user_info("T1", "UC", "Europe/Berlin", false, start - hour);
        h.ok("standup tz Asia/Kolkata", "UC", member_at(start - hour));
        h.ok("standup tz Australia/Sydney", "UD", member_at(start - hour));

        job_runner jobs(h.db, start);
        jobs.step_until(end);

        for (const auto& m : members) {
            INFO("member " << m.user << " in " << m.tz);
            std::vector<unix_time> expected;
            for (int i = -4; i <= 4; ++i) {
                auto d = day_plus(c.day, i);
                auto at = local(d, 9, 0, offset_at_nine(m.tz, d));
                if (at > start && at <= end) {
                    expected.push_back(at);
                }
            }
            CHECK(expected.size() == 7); // one a day, every day of the week around the change
            CHECK(jobs.prompts(m.user) == expected);
        }
    }
}

TEST_CASE("the written-out offsets agree with the change days (a sanity check of the table)",
          "[standup-jobs][dst]") {
    // Spot checks against the rules as published (zdump): 09:00 local in UTC.
    CHECK(local("2026-03-07", 9, 0, offset_at_nine("America/Los_Angeles", "2026-03-07")) ==
          utc("2026-03-07", 17));
    CHECK(local("2026-03-08", 9, 0, offset_at_nine("America/Los_Angeles", "2026-03-08")) ==
          utc("2026-03-08", 16));
    CHECK(local("2026-11-01", 9, 0, offset_at_nine("America/Los_Angeles", "2026-11-01")) ==
          utc("2026-11-01", 17));
    CHECK(local("2026-03-29", 9, 0, offset_at_nine("Europe/Berlin", "2026-03-29")) ==
          utc("2026-03-29", 7));
    CHECK(local("2026-10-25", 9, 0, offset_at_nine("Europe/Berlin", "2026-10-25")) ==
          utc("2026-10-25", 8));
    CHECK(local("2026-04-04", 9, 0, offset_at_nine("Australia/Sydney", "2026-04-04")) ==
          utc("2026-04-03", 22));
    CHECK(local("2026-04-05", 9, 0, offset_at_nine("Australia/Sydney", "2026-04-05")) ==
          utc("2026-04-04", 23));
    CHECK(local("2026-10-04", 9, 0, offset_at_nine("Australia/Sydney", "2026-10-04")) ==
          utc("2026-10-03", 22));
    CHECK(local("2026-07-01", 9, 0, offset_at_nine("Asia/Kolkata", "2026-07-01")) ==
          utc("2026-07-01", 3, 30));
}

TEST_CASE("a Kolkata member is asked at 03:30 UTC every day of the year", "[standup-jobs][dst]") {
    harness h;
    auto start = midnight_utc("2026-01-01");
    setup(h, "at:09:00 report:11:00 days:daily members:<@UC>", start - hour, "Asia/Kolkata");
    h.db.set_user_info("T1", "UC", "Asia/Kolkata", false, start - hour);
    job_runner jobs(h.db, start);
    jobs.step_until(midnight_utc("2027-01-01"));
    auto got = jobs.prompts("UC");
    REQUIRE(got.size() == 365);
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("day " << i);
        CHECK(got[i] == start + static_cast<unix_time>(i) * day + 3 * hour + 30 * minute);
    }
}

TEST_CASE("a standup in the skipped or repeated hour fires once on the days the clocks change",
          "[standup-jobs][dst]") {
    struct firing {
        std::string day;
        unix_time at;
    };
    struct change {
        std::string tz;
        std::string at;               ///< the standup's time
        std::vector<firing> expected; ///< the day before, the day of the change, the day after
    };
    const std::vector<change> changes = {
        // Berlin springs forward on 2026-03-29: 02:00 CET → 03:00 CEST at 01:00 UTC. 02:30
        // does not exist that day and fires at 03:00 CEST (01:00 UTC).
        {"Europe/Berlin",
         "02:30",
         {{"2026-03-28", utc("2026-03-28", 1, 30)},
          {"2026-03-29", utc("2026-03-29", 1, 0)},
          {"2026-03-30", utc("2026-03-30", 0, 30)}}},
        // Berlin falls back on 2026-10-25: 03:00 CEST → 02:00 CET at 01:00 UTC. 02:30 happens
        // twice (00:30 and 01:30 UTC) and fires at the first.
        {"Europe/Berlin",
         "02:30",
         {{"2026-10-24", utc("2026-10-24", 0, 30)},
          {"2026-10-25", utc("2026-10-25", 0, 30)},
          {"2026-10-26", utc("2026-10-26", 1, 30)}}},
        // Los Angeles springs forward on 2026-03-08: 02:00 PST → 03:00 PDT at 10:00 UTC.
        {"America/Los_Angeles",
         "02:30",
         {{"2026-03-07", utc("2026-03-07", 10, 30)},
          {"2026-03-08", utc("2026-03-08", 10, 0)},
          {"2026-03-09", utc("2026-03-09", 9, 30)}}},
        // Los Angeles falls back on 2026-11-01: 02:00 PDT → 01:00 PST at 09:00 UTC; 01:30
        // happens at 08:30 and 09:30 UTC.
        {"America/Los_Angeles",
         "01:30",
         {{"2026-10-31", utc("2026-10-31", 8, 30)},
          {"2026-11-01", utc("2026-11-01", 8, 30)},
          {"2026-11-02", utc("2026-11-02", 9, 30)}}},
        // Sydney springs forward on 2026-10-04: 02:00 AEST → 03:00 AEDT at 16:00 UTC the day
        // before.
        {"Australia/Sydney",
         "02:30",
         {{"2026-10-03", utc("2026-10-02", 16, 30)},
          {"2026-10-04", utc("2026-10-03", 16, 0)},
          {"2026-10-05", utc("2026-10-04", 15, 30)}}},
        // Sydney falls back on 2026-04-05: 03:00 AEDT → 02:00 AEST at 16:00 UTC the day
        // before; 02:30 happens at 15:30 and 16:30 UTC.
        {"Australia/Sydney",
         "02:30",
         {{"2026-04-04", utc("2026-04-03", 15, 30)},
          {"2026-04-05", utc("2026-04-04", 15, 30)},
          {"2026-04-06", utc("2026-04-05", 16, 30)}}},
    };
    for (const auto& c : changes) {
        INFO("at " << c.at << " in " << c.tz << ", clocks change on " << c.expected[1].day);
        // Six hours either side of the first and last firing: exactly these three are in.
        auto start = c.expected.front().at - 6 * hour;
        auto end = c.expected.back().at + 6 * hour;
        auto change_day = c.expected[1].at;
        for (bool by_minute : {false, true}) {
            INFO((by_minute ? "minute by minute across the change" : "from due time to due time"));
            harness h;
            // UB has no zone of their own: they are asked in the standup's.
            setup(h, "at:" + c.at + " report:11:00 days:daily members:<@UB>", start - hour, c.tz);
            job_runner jobs(h.db, start);
            if (by_minute) {
                jobs.step_until(change_day - 3 * hour);
                jobs.minute_by_minute(change_day + 3 * hour);
            }
            jobs.step_until(end);
            auto dms = jobs.prompt_dms("UB");
            REQUIRE(dms.size() == c.expected.size());
            for (std::size_t i = 0; i < dms.size(); ++i) {
                INFO("firing for " << c.expected[i].day);
                CHECK(dms[i].at == c.expected[i].at);
                CHECK(has(dms[i].e.text, dates::pretty(c.expected[i].day)));
            }
        }
    }
}

TEST_CASE("a member in a zone without daylight saving is asked every standup day while the "
          "standup's zone changes clocks",
          "[standup-jobs][dst]") {
    // A Berlin standup (09:00, report 11:00, mon-fri) with UR in Reykjavik (UTC+0 all year).
    // UR's 09:00 is 09:00 UTC every day; the report is 10:00 UTC in winter (CET) and 09:00
    // UTC in summer (CEST), so UR's prompt comes before the report in winter and not before
    // it in summer. Either way UR is asked at 09:00 their time on every standup day.
    struct window {
        std::string from; ///< a Thursday; the window runs to the Tuesday after, 12:00 UTC
        std::vector<std::string> days;
        std::vector<int> berlin_offsets; ///< CET 60 / CEST 120 on those days
    };
    const std::vector<window> windows = {
        {"2026-03-26",
         {"2026-03-26", "2026-03-27", "2026-03-30", "2026-03-31"},
         {60, 60, 120, 120}},
        {"2026-10-22",
         {"2026-10-22", "2026-10-23", "2026-10-26", "2026-10-27"},
         {120, 120, 60, 60}},
    };
    for (const auto& w : windows) {
        INFO("from " << w.from);
        harness h;
        auto start = midnight_utc(w.from);
        setup(h, "at:09:00 report:11:00 members:<@UB>,<@UR>", start - day);
        h.db.set_user_info("T1", "UB", "Europe/Berlin", false, start - day);
        h.db.set_user_info("T1", "UR", "Atlantic/Reykjavik", false, start - day);
        job_runner jobs(h.db, start - day); // running since the day before
        jobs.step_until(midnight_utc(day_plus(w.from, 5)) + 12 * hour);

        std::vector<unix_time> ub, ur;
        for (std::size_t i = 0; i < w.days.size(); ++i) {
            ub.push_back(local(w.days[i], 9, 0, w.berlin_offsets[i]));
            ur.push_back(utc(w.days[i], 9));
        }
        auto in_window = [&](std::vector<unix_time> v) {
            v.erase(std::remove_if(v.begin(), v.end(), [&](unix_time t) { return t <= start; }),
                    v.end());
            return v;
        };
        CHECK(in_window(jobs.prompts("UB")) == ub);
        CHECK(in_window(jobs.prompts("UR")) == ur);
    }
}

// --- 2. days ---

TEST_CASE("no prompts on days outside days:, and a digest only on standup days", "[standup-jobs]") {
    harness h;
    auto start = midnight_utc("2026-11-21");           // Saturday
    auto end = midnight_utc("2026-11-30") + 12 * hour; // Monday, 13:00 Berlin

    SECTION("mon-fri") {
        // UD is in Sydney (AEDT, +11): their Monday 09:00 is Sunday 22:00 UTC, and their
        // Saturday 09:00 is Friday 22:00 UTC, which must not fire.
        setup(h, "at:09:00 report:11:00 days:mon-fri members:<@UA>,<@UD>", start - hour);
        h.db.set_user_info("T1", "UA", "Europe/Berlin", false, start - hour);
        h.db.set_user_info("T1", "UD", "Australia/Sydney", false, start - hour);
        job_runner jobs(h.db, start);
        jobs.step_until(end);

        const std::vector<std::string> weekdays = {"2026-11-23", "2026-11-24", "2026-11-25",
                                                   "2026-11-26", "2026-11-27", "2026-11-30"};
        std::vector<unix_time> berlin_prompts, sydney_prompts, reports;
        for (const auto& d : weekdays) {
            berlin_prompts.push_back(berlin(d, 9));
            sydney_prompts.push_back(local(d, 9, 0, 11 * 60));
            reports.push_back(berlin(d, 11));
        }
        CHECK(jobs.prompts("UA") == berlin_prompts);
        CHECK(jobs.prompts("UD") == sydney_prompts);
        auto ds = jobs.digests();
        CHECK(digest_periods(ds) == weekdays);
        std::vector<unix_time> digest_times;
        for (const auto& d : ds) {
            digest_times.push_back(d.at);
        }
        CHECK(digest_times == reports);
        // Nothing at all goes out on a Saturday or Sunday in Berlin.
        for (const auto& f : jobs.out) {
            auto weekend = (f.at >= berlin("2026-11-21", 0) && f.at < berlin("2026-11-23", 0)) ||
                           (f.at >= berlin("2026-11-28", 0) && f.at < berlin("2026-11-30", 0));
            if (weekend) {
                // Only Sydney's Monday prompt (Sunday 22:00 UTC = 23:00 Berlin) and reminders
                // of prompts already sent may fall on a Berlin weekend.
                INFO("at " << f.at << ": " << f.e.text);
                CHECK((f.e.user == "UD" && (is_prompt(f.e) || is_reminder(f.e))));
            }
        }
    }

    SECTION("mon,wed,fri") {
        setup(h, "at:09:00 report:11:00 days:mon,wed,fri members:<@UA>", start - hour);
        job_runner jobs(h.db, start);
        jobs.step_until(end);
        const std::vector<std::string> days = {"2026-11-23", "2026-11-25", "2026-11-27",
                                               "2026-11-30"};
        std::vector<unix_time> prompts;
        for (const auto& d : days) {
            prompts.push_back(berlin(d, 9));
        }
        CHECK(jobs.prompts("UA") == prompts);
        CHECK(digest_periods(jobs.digests()) == days);
    }
}

// --- 3. catching up after downtime ---

TEST_CASE("after downtime a prompt within its grace is still sent", "[standup-jobs]") {
    harness h;
    setup(h, "at:09:00 report:11:00 members:<@UA>,<@UB>", berlin("2026-11-22", 12));
    std::vector<std::string> logs;
    auto log = [&](const std::string& l) {
        logs.push_back(l);
    };
    standup_timing timing;
    // Last tick Monday 08:00, next one Monday 10:30: the 09:00 prompt is 90 minutes late.
    CHECK(run_due_jobs(h.db, berlin(monday, 8), timing, log) == 0);
    CHECK(run_due_jobs(h.db, berlin(monday, 10, 30), timing, log) == 2);
    auto c = count_outbox(h.db);
    CHECK(c.prompts == std::map<std::string, int>{{"UA", 1}, {"UB", 1}});
    CHECK(c.digests.empty());
    for (const auto& l : logs) {
        CHECK_FALSE(has(l, "skipped"));
    }
    // The report follows at 11:00 as usual.
    CHECK(run_due_jobs(h.db, berlin(monday, 11), timing, log) >= 1);
    CHECK(count_outbox(h.db).digests == std::map<std::string, int>{{monday, 1}});
}

TEST_CASE("a prompt 3 hours late is skipped and logged, while the report still runs",
          "[standup-jobs]") {
    harness h;
    // UC is in Kolkata and was asked (03:30 UTC) before the bot went down at 08:00 Berlin.
    setup(h, "at:09:00 report:11:00 members:<@UA>,<@UB>,<@UC>", berlin("2026-11-22", 12));
    h.db.set_user_info("T1", "UC", "Asia/Kolkata", false, berlin("2026-11-22", 12));
    job_runner jobs(h.db, midnight_utc(monday));
    jobs.step_until(berlin(monday, 8));
    REQUIRE(jobs.prompts("UC") == std::vector<unix_time>{utc(monday, 3, 30)});

    // Down from 08:00 to 12:00 Berlin: the 09:00 prompts are 3 hours late.
    jobs.run(berlin(monday, 8), berlin(monday, 12));
    CHECK(jobs.prompts("UA").empty());
    CHECK(jobs.prompts("UB").empty());
    CHECK(jobs.logged("skipped standup prompt standup-prompt:T1:CGENERAL:UA 2026-11-23"));
    CHECK(jobs.logged("skipped standup prompt standup-prompt:T1:CGENERAL:UB 2026-11-23"));
    CHECK(jobs.logged("past the 7200 s grace"));
    CHECK_FALSE(jobs.logged("skipped standup report"));
    // The 11:00 report is one hour late, well within its 24 h grace.
    auto ds = jobs.digests();
    REQUIRE(ds.size() == 1);
    CHECK(ds[0].at == berlin(monday, 12));
    CHECK(ds[0].e.channel == "CGENERAL");
    CHECK(ds[0].e.item == "standup:CGENERAL:2026-11-23");
    CHECK(line_after(ds[0].e.text, "*No answer yet:* ") ==
          "<@UC> (late answers go in this thread)");
    auto run = h.db.find_run("T1", "CGENERAL", monday);
    REQUIRE(run);
    CHECK(run->reported_at == berlin(monday, 12));
}

TEST_CASE("down from Monday 08:00 to Wednesday 10:00: only Wednesday's prompt and reports "
          "within 24 h run",
          "[standup-jobs]") {
    harness h;
    setup(h, "at:09:00 report:11:00 members:<@UA>,<@UB>", berlin("2026-11-22", 12));
    std::vector<std::string> logs;
    auto log = [&](const std::string& l) {
        logs.push_back(l);
    };
    auto logged = [&](const std::string& text) {
        return std::any_of(logs.begin(), logs.end(),
                           [&](const std::string& l) { return has(l, text); });
    };
    standup_timing timing;
    CHECK(run_due_jobs(h.db, berlin(monday, 8), timing, log) == 0);
    run_due_jobs(h.db, berlin(wednesday, 10), timing, log);

    auto c = count_outbox(h.db);
    CHECK(c.prompts == std::map<std::string, int>{{"UA", 1}, {"UB", 1}});
    for (const auto& r : h.db.pending(1000)) {
        if (is_prompt(r.e)) {
            CHECK(has(r.e.text, "Wed 2026-11-25"));
            CHECK(r.created_at == berlin(wednesday, 10));
        }
    }
    for (const char* user : {"UA", "UB"}) {
        for (const auto& d : {monday, tuesday}) {
            INFO(user << " " << d);
            CHECK(logged(
                fmt::format("skipped standup prompt standup-prompt:T1:CGENERAL:{} {}", user, d)));
        }
        CHECK_FALSE(logged(fmt::format("standup-prompt:T1:CGENERAL:{} {}", user, wednesday)));
    }
    // Monday's report is 47 hours late: skipped. Tuesday's is 23 hours late: it runs (nobody
    // was asked that day, so nothing is posted). Wednesday's is not due yet.
    CHECK(logged("skipped standup report standup-report:T1:CGENERAL 2026-11-23"));
    CHECK_FALSE(logged("skipped standup report standup-report:T1:CGENERAL 2026-11-24"));
    auto mon = h.db.find_run("T1", "CGENERAL", monday);
    CHECK((!mon || mon->reported_at == 0));
    auto tue = h.db.find_run("T1", "CGENERAL", tuesday);
    REQUIRE(tue);
    CHECK(tue->reported_at == berlin(wednesday, 10));
    auto wed = h.db.find_run("T1", "CGENERAL", wednesday);
    REQUIRE(wed); // the prompts belong to it
    CHECK(wed->reported_at == 0);
    CHECK(c.digests.empty());
}

// --- 4. exactly once ---

TEST_CASE("running the same or an overlapping window again sends nothing more", "[standup-jobs]") {
    harness h;
    setup(h, "at:09:00 report:11:00 members:<@UA>,<@UB>", berlin("2026-11-22", 12));
    job_runner jobs(h.db, 0);

    CHECK(jobs.run(berlin(monday, 8), berlin(monday, 9, 30)) == 2);
    CHECK(jobs.out.size() == 2);
    // The same window again.
    CHECK(jobs.run(berlin(monday, 8), berlin(monday, 9, 30)) == 0);
    CHECK(jobs.out.size() == 2);
    // Overlapping windows: the reminders (midpoint of 09:30 and 11:00 = 10:15), then the
    // report, are new; the prompts are not.
    CHECK(jobs.run(berlin(monday, 9), berlin(monday, 10, 30)) == 2);
    CHECK(jobs.run(berlin(monday, 10), berlin(monday, 11, 30)) == 1);
    // Overlapping again, and a window inside one already run.
    CHECK(jobs.run(berlin(monday, 8, 30), berlin(monday, 12)) == 0);
    CHECK(jobs.run(berlin(monday, 9, 15), berlin(monday, 10, 45)) == 0);

    CHECK(jobs.prompt_dms("UA").size() == 1);
    CHECK(jobs.prompt_dms("UB").size() == 1);
    CHECK(jobs.reminders("UA").size() == 1);
    CHECK(jobs.reminders("UB").size() == 1);
    CHECK(jobs.digests().size() == 1);
    CHECK(jobs.out.size() == 5);
}

TEST_CASE("firings already run stay run across a restart of the store", "[standup-jobs]") {
    temp_dir dir;
    auto path = dir.file("tpmbot.db").string();
    std::vector<std::string> logs;
    auto log = [&](const std::string& l) {
        logs.push_back(l);
    };
    standup_timing timing;
    const std::map<std::string, int> one_each = {{"UA", 1}, {"UB", 1}};

    std::optional<sqlite_store> db;
    db.emplace(path);
    command_on(*db, "standup setup at:09:00 report:11:00 members:<@UA>,<@UB>", "UME",
               berlin("2026-11-22", 12), true);
    CHECK(run_due_jobs(*db, berlin(monday, 8), timing, log) == 0); // the first tick
    CHECK(run_due_jobs(*db, berlin(monday, 9, 30), timing, log) == 2);
    CHECK(count_outbox(*db).prompts == one_each);

    db.reset(); // a restart
    db.emplace(path);
    CHECK(run_due_jobs(*db, berlin(monday, 9, 30), timing, log) == 0);
    CHECK(count_outbox(*db).prompts == one_each);
    // Reminders at 10:15 (midpoint of 09:30 and 11:00).
    run_due_jobs(*db, berlin(monday, 10, 15), timing, log);
    CHECK(count_outbox(*db).reminders == one_each);

    db.reset();
    db.emplace(path);
    CHECK(run_due_jobs(*db, berlin(monday, 10, 15), timing, log) == 0);
    run_due_jobs(*db, berlin(monday, 11), timing, log);
    auto c = count_outbox(*db);
    CHECK(c.digests == std::map<std::string, int>{{monday, 1}});

    db.reset();
    db.emplace(path);
    CHECK(run_due_jobs(*db, berlin(monday, 11), timing, log) == 0);
    CHECK(run_due_jobs(*db, berlin(monday, 14), timing, log) == 0);
    c = count_outbox(*db);
    CHECK(c.prompts == one_each);
    CHECK(c.reminders == one_each);
    CHECK(c.digests == std::map<std::string, int>{{monday, 1}});

    // A new period fires as usual after all that; Monday's counts stay.
    CHECK(run_due_jobs(*db, berlin(tuesday, 9, 30), timing, log) == 2);
    c = count_outbox(*db);
    CHECK(c.prompts == std::map<std::string, int>{{"UA", 2}, {"UB", 2}});
    CHECK(c.digests == std::map<std::string, int>{{monday, 1}});
}

TEST_CASE("the first tick of a new database only records the time", "[standup-jobs]") {
    temp_dir dir;
    sqlite_store db(dir.file("tpmbot.db").string());
    command_on(db, "standup setup at:09:00 report:11:00 members:<@UA>,<@UB>", "UME",
               berlin("2026-11-22", 12), true);
    std::vector<std::string> logs;
    auto log = [&](const std::string& l) {
        logs.push_back(l);
    };
    standup_timing timing;

    // 09:00 has passed (within the prompt's grace) before the bot's first tick ever.
    CHECK_FALSE(db.setting("", "scheduler.last_tick"));
    CHECK(run_due_jobs(db, berlin(monday, 9, 30), timing, log) == 0);
    CHECK(db.setting("", "scheduler.last_tick") == std::to_string(berlin(monday, 9, 30)));
    CHECK(count_outbox(db).prompts.empty());
    // Later ticks do not go back to it either.
    run_due_jobs(db, berlin(monday, 10), timing, log);
    CHECK(count_outbox(db).prompts.empty());
    CHECK(db.setting("", "scheduler.last_tick") == std::to_string(berlin(monday, 10)));
    // The next day's prompts go out.
    run_due_jobs(db, berlin(tuesday, 9), timing, log);
    CHECK(count_outbox(db).prompts == std::map<std::string, int>{{"UA", 1}, {"UB", 1}});
}

// --- 5. the reminder ---

TEST_CASE("one reminder per unanswered member, at the midpoint (at most 3 h after the "
          "prompt), none for those who answered",
          "[standup-jobs]") {
    harness h;
    // UD is in Kolkata: asked at 09:00 IST (03:30 UTC), the report is at 10:00 UTC (11:00
    // Berlin); the midpoint (06:45 UTC) is more than 3 h away, so 06:30 UTC.
    setup(h, "at:09:00 report:11:00 members:<@UA>,<@UB>,<@UC>,<@UD>", berlin("2026-11-22", 12));
    h.db.set_user_info("T1", "UD", "Asia/Kolkata", false, berlin("2026-11-22", 12));
    job_runner jobs(h.db, midnight_utc(monday));
    jobs.step_until(berlin(monday, 9, 30));
    REQUIRE(jobs.prompts("UA") == std::vector<unix_time>{berlin(monday, 9)});

    // UA answers everything at 09:30; UC only the first question.
    auto a = answer(h, "UA", "did x\nwill do y\nnone", berlin(monday, 9, 30));
    REQUIRE(a.ok);
    CHECK(has(all_text(a), "Thanks, that's everything"));
    auto entry = h.db.find_entry("T1", "CGENERAL", monday, "UA");
    REQUIRE(entry);
    CHECK(entry->state == "answered");
    REQUIRE(answer(h, "UC", "did x", berlin(monday, 9, 35)).ok);

    // Up to just before Tuesday's first prompt (UD's, 03:30 UTC).
    jobs.step_until(utc(tuesday, 3));

    CHECK(jobs.reminders("UA").empty());
    auto ub = jobs.reminders("UB");
    REQUIRE(ub.size() == 1);
    CHECK(ub[0].at == berlin(monday, 10)); // midpoint of 09:00 and 11:00
    CHECK(has(ub[0].e.text, "reports at 11:00 your time"));
    CHECK(has(ub[0].e.text, "*1/3*"));
    auto uc = jobs.reminders("UC");
    REQUIRE(uc.size() == 1);
    CHECK(uc[0].at == berlin(monday, 10));
    CHECK(has(uc[0].e.text, "*2/3*")); // the question they are at
    auto ud = jobs.reminders("UD");
    REQUIRE(ud.size() == 1);
    CHECK(ud[0].at == utc(monday, 6, 30));
    CHECK(has(ud[0].e.text, "reports at 15:30 your time")); // 10:00 UTC in IST
    CHECK(jobs.all_reminders().size() == 3);

    auto ds = jobs.digests();
    REQUIRE(ds.size() == 1);
    CHECK(has(ds[0].e.text, "did x"));
    auto silent = line_after(ds[0].e.text, "*No answer yet:* ");
    CHECK(has(silent, "<@UB>"));
    CHECK(has(silent, "<@UD>"));
    CHECK_FALSE(has(silent, "<@UA>"));
    CHECK_FALSE(has(silent, "<@UC>")); // began answering: in the answers, marked unfinished
    CHECK(has(ds[0].e.text, "_(did not finish)_"));
}

TEST_CASE("no reminder when the report is less than 30 minutes after the prompt",
          "[standup-jobs]") {
    harness h;
    job_runner jobs(h.db, berlin(monday, 0));
    SECTION("29 minutes: none") {
        setup(h, "at:09:00 report:09:29 members:<@UA>", berlin("2026-11-22", 12));
        jobs.step_until(berlin(monday, 12));
        CHECK(jobs.prompts("UA").size() == 1);
        CHECK(jobs.all_reminders().empty());
        CHECK(jobs.digests().size() == 1);
        auto e = h.db.find_entry("T1", "CGENERAL", monday, "UA");
        REQUIRE(e);
        CHECK(e->reminder_due == 0);
    }
    SECTION("30 minutes: one, at 09:15") {
        setup(h, "at:09:00 report:09:30 members:<@UA>", berlin("2026-11-22", 12));
        jobs.step_until(berlin(monday, 12));
        auto r = jobs.reminders("UA");
        REQUIRE(r.size() == 1);
        CHECK(r[0].at == berlin(monday, 9, 15));
    }
}

TEST_CASE("a standup paused after its prompts sends no reminder, but the answers given that "
          "day are still reported",
          "[standup-jobs]") {
    harness h;
    setup(h, "at:09:00 report:11:00 members:<@UA>,<@UB>", berlin("2026-11-22", 12));
    job_runner jobs(h.db, berlin(monday, 0));
    jobs.step_until(berlin(monday, 9, 30));
    REQUIRE(jobs.out.size() == 2);
    h.ok("standup pause", "UME", admin_at(berlin(monday, 9, 30)));
    REQUIRE(answer(h, "UA", "did x\nwill do y\nnone", berlin(monday, 9, 40)).ok);
    jobs.step_until(berlin(tuesday, 12));
    CHECK(jobs.all_reminders().empty());
    // Monday's report goes out at its time: what UA said is not lost by the pause.
    auto digests = jobs.digests();
    REQUIRE(digests.size() == 1);
    CHECK(digests[0].at == berlin(monday, 11));
    CHECK(has(digests[0].e.text, "did x"));
    // And nothing on Tuesday: paused.
    CHECK(jobs.out.size() == 3);
    CHECK(next_standup_due(h.db, jobs.now) == 0);
}

// --- 6. paused standups ---

TEST_CASE("a paused standup asks and reports nothing, after resume the next day's prompt goes "
          "out",
          "[standup-jobs]") {
    harness h;
    setup(h, "at:09:00 report:11:00 members:<@UA>,<@UB>", berlin("2026-11-22", 12));
    h.ok("standup pause", "UME", admin_at(berlin("2026-11-22", 13)));
    job_runner jobs(h.db, berlin("2026-11-22", 14));
    // Hourly ticks through Monday and Tuesday morning.
    for (auto t = jobs.now + hour; t <= berlin(tuesday, 12); t += hour) {
        CHECK(next_standup_due(h.db, jobs.now) == 0);
        CHECK(jobs.run(jobs.now, t) == 0);
        jobs.now = t;
    }
    CHECK(jobs.out.empty());
    CHECK_FALSE(h.db.find_run("T1", "CGENERAL", monday));

    auto resumed = h.ok("standup resume", "UME", admin_at(berlin(tuesday, 12)));
    CHECK(has(all_text(resumed), "Resumed"));
    CHECK(next_standup_due(h.db, jobs.now) == berlin(wednesday, 9));
    jobs.step_until(berlin(wednesday, 12));
    CHECK(jobs.prompts("UA") == std::vector<unix_time>{berlin(wednesday, 9)});
    CHECK(jobs.prompts("UB") == std::vector<unix_time>{berlin(wednesday, 9)});
    CHECK(digest_periods(jobs.digests()) == std::vector<std::string>{wednesday});
}

// --- 7. away, skip, out of office ---

TEST_CASE("members away, skipping or out of office are not asked and show as away in the digest",
          "[standup-jobs]") {
    harness h;
    auto sunday = berlin("2026-11-22", 12);
    setup(h, "at:09:00 report:11:00 members:<@UA>,<@UB>,<@UC>,<@UD>", sunday);
    // UA is out for three days counting Sunday (until Tuesday); UB skips the next standup
    // (Monday's). UC and UD are around, but UD skips after being asked on Monday.
    h.ok("standup ooo 3d", "UA", member_at(sunday));
    CHECK(h.db.find_standup_person("T1", "UA")->ooo_until == tuesday);
    h.ok("standup skip", "UB", member_at(sunday));
    CHECK(h.db.find_standup_person("T1", "UB")->skip_day == monday);

    job_runner jobs(h.db, berlin(monday, 0));
    jobs.step_until(berlin(monday, 9, 30));
    CHECK(jobs.prompts("UA").empty());
    CHECK(jobs.prompts("UB").empty());
    CHECK(jobs.prompts("UC") == std::vector<unix_time>{berlin(monday, 9)});
    CHECK(jobs.prompts("UD") == std::vector<unix_time>{berlin(monday, 9)});
    // UD skips after the prompt, in a DM (a `standup` command is not an answer).
    opts dm;
    dm.from = source::dm;
    dm.channel = "DUD";
    dm.message_ts = "1.000100";
    dm.now = berlin(monday, 9, 30);
    REQUIRE(h.run("standup skip", "UD", dm).ok);

    jobs.step_until(berlin(monday, 12));
    CHECK(jobs.reminders("UC").size() == 1);
    CHECK(jobs.all_reminders().size() == 1);
    auto ds = jobs.digests();
    REQUIRE(ds.size() == 1);
    const auto& text = ds[0].e.text;
    INFO(text);
    auto away = line_after(text, "*Away:* ");
    CHECK(has(away, "<@UA> (out of office until Tue 2026-11-24)"));
    CHECK(has(away, "<@UB> (skipped)"));
    CHECK(has(away, "<@UD> (skipped)"));
    CHECK(line_after(text, "*No answer yet:* ") == "<@UC> (late answers go in this thread)");
    CHECK_FALSE(has(text, "*Not asked:*"));

    // Tuesday: UA still out; UB, UC, UD asked.
    jobs.step_until(berlin(tuesday, 12));
    CHECK(jobs.prompts("UA").empty());
    CHECK(jobs.prompts("UB") == std::vector<unix_time>{berlin(tuesday, 9)});
    CHECK(jobs.prompts("UD").size() == 1 + 1);
    ds = jobs.digests();
    REQUIRE(ds.size() == 2);
    CHECK(line_after(ds[1].e.text, "*Away:* ") == "<@UA> (out of office until Tue 2026-11-24)");
    CHECK_FALSE(has(line_after(ds[1].e.text, "*No answer yet:* "), "<@UA>"));

    // Wednesday: everyone.
    jobs.step_until(berlin(wednesday, 9, 30));
    CHECK(jobs.prompts("UA") == std::vector<unix_time>{berlin(wednesday, 9)});
}

// --- 8. next_standup_due ---

TEST_CASE("next_standup_due is the earliest prompt, reminder or report, and 0 for none",
          "[standup-jobs]") {
    harness h;
    auto start = midnight_utc(monday);
    CHECK(next_standup_due(h.db, start) == 0); // no standups at all

    setup(h, "at:09:00 report:11:00 members:<@UA>,<@UB>", berlin("2026-11-22", 12));
    h.db.set_user_info("T1", "UB", "Asia/Kolkata", false, berlin("2026-11-22", 12));
    // UB's prompt (09:00 IST = 03:30 UTC), their reminder (3 h later: the midpoint to the
    // 10:00 UTC report would be later), UA's prompt (09:00 CET = 08:00 UTC), UA's reminder
    // (09:00 UTC), the report.
    const std::vector<unix_time> expected = {utc(monday, 3, 30), utc(monday, 6, 30), utc(monday, 8),
                                             utc(monday, 9), utc(monday, 10)};
    job_runner jobs(h.db, start);
    std::vector<unix_time> seen;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        auto t = next_standup_due(h.db, jobs.now);
        seen.push_back(t);
        jobs.run(jobs.now, t);
        jobs.now = t;
    }
    CHECK(seen == expected);
    CHECK(jobs.prompts("UB") == std::vector<unix_time>{utc(monday, 3, 30)});
    CHECK(jobs.reminders("UB").size() == 1);
    CHECK(jobs.digests().size() == 1);
    // Strictly after: at a due instant, the next one.
    CHECK(next_standup_due(h.db, utc(monday, 3, 30) - 1) == utc(monday, 3, 30));
    // Then Tuesday's first prompt (UB's).
    CHECK(next_standup_due(h.db, jobs.now) == utc(tuesday, 3, 30));

    // All paused: nothing.
    h.ok("standup pause", "UME", admin_at(jobs.now));
    CHECK(next_standup_due(h.db, jobs.now) == 0);
    // Another channel's standup, running, counts again.
    auto other = admin_at(jobs.now);
    other.channel = "COTHER";
    h.ok("standup setup at:10:00 report:11:00 members:<@UE>", "UME", other);
    CHECK(next_standup_due(h.db, jobs.now) == berlin(tuesday, 10));
}

TEST_CASE("a Friday prompt for a Monday report is reminded the same day, never on the weekend",
          "[standup-jobs]") {
    harness h;
    // UL is in Los Angeles (PST, -8): asked Friday 09:00 PST (17:00 UTC), after Berlin's 11:00
    // report, so their answers are for Monday's report (10:00 UTC, Monday 02:00 PST).
    setup(h, "at:09:00 report:11:00 members:<@UL>", berlin("2026-11-22", 12));
    h.db.set_user_info("T1", "UL", "America/Los_Angeles", false, berlin("2026-11-22", 12));
    const std::string friday = "2026-11-27";
    job_runner jobs(h.db, utc(friday, 12));
    jobs.step_until(utc("2026-11-30", 12));
    REQUIRE(jobs.prompts("UL").size() == 1); // Monday 09:00 PST is 17:00 UTC, later
    CHECK(jobs.prompts("UL")[0] == utc(friday, 17));
    auto reminders = jobs.reminders("UL");
    REQUIRE_FALSE(reminders.empty());
    CHECK(reminders[0].at == utc(friday, 20)); // 3 h after the prompt: Friday 12:00 PST
    CHECK(has(reminders[0].e.text, "Mon 2026-11-30"));
    for (const auto& r : reminders) {
        auto day = dates::today(r.at, "America/Los_Angeles");
        CHECK(day != "2026-11-28");
        CHECK(day != "2026-11-29");
    }
}

TEST_CASE("a prompt caught up after its own report time is not sent", "[standup-jobs]") {
    harness h;
    // Prompt 09:00, report 09:45 (Berlin); the bot was down from 08:00 to 10:00, within the
    // prompt's 2 h grace but after the report: asking now would be for a report already due.
    setup(h, "at:09:00 report:09:45 members:<@UA>", berlin("2026-11-22", 12));
    job_runner jobs(h.db, berlin(monday, 8));
    jobs.run(berlin(monday, 8), berlin(monday, 10));
    CHECK(jobs.prompts("UA").empty());
    CHECK(std::any_of(jobs.logs.begin(), jobs.logs.end(),
                      [](const std::string& l) { return has(l, "its report time has passed"); }));
}

TEST_CASE("a zone this machine does not know falls back to the standup's, and stops no one",
          "[standup-jobs]") {
    harness h;
    setup(h, "at:09:00 report:11:00 members:<@UA>,<@UB>", berlin("2026-11-22", 12));
    // Slack may name a zone newer than the local tz database.
    h.db.set_user_info("T1", "UA", "America/Nowhere_New", false, berlin("2026-11-22", 12));
    job_runner jobs(h.db, berlin(monday, 0));
    jobs.step_until(berlin(monday, 12));
    CHECK(jobs.prompts("UA") == std::vector<unix_time>{berlin(monday, 9)});
    CHECK(jobs.prompts("UB") == std::vector<unix_time>{berlin(monday, 9)});
    CHECK(jobs.digests().size() == 1);
}

TEST_CASE("a report time changed after the prompts still reports that day once, at the time "
          "announced",
          "[standup-jobs]") {
    harness h;
    setup(h, "at:09:00 report:11:00 members:<@UA>", berlin("2026-11-22", 12));
    job_runner jobs(h.db, berlin(monday, 0));
    jobs.step_until(berlin(monday, 9, 30));
    REQUIRE(answer(h, "UA", "did x\nwill do y\nnone", berlin(monday, 9, 40)).ok);
    // The admin moves the report to 12:00 (and drops Mondays) after Monday's prompts.
    h.ok("standup setup report:12:00 days:tue-fri", "UME", admin_at(berlin(monday, 9, 45)));
    jobs.step_until(berlin(tuesday, 8));
    auto digests = jobs.digests();
    REQUIRE(digests.size() == 1);
    CHECK(digests[0].at == berlin(monday, 11)); // the time the members were told
    CHECK(has(digests[0].e.text, "did x"));
    // Tuesday follows the new settings.
    jobs.step_until(berlin(tuesday, 13));
    REQUIRE(jobs.digests().size() == 2);
    CHECK(jobs.digests()[1].at == berlin(tuesday, 12));
}

TEST_CASE("standup now after the day's report asks for the next one without shifting later "
          "days",
          "[standup-jobs]") {
    harness h;
    setup(h, "at:09:00 report:11:00 members:<@UA>", berlin("2026-11-22", 12));
    job_runner jobs(h.db, berlin(monday, 0));
    jobs.step_until(berlin(monday, 15));
    // Monday 15:00: asked now, for Tuesday's report.
    auto now = h.ok("standup now", "UME", admin_at(berlin(monday, 15)));
    CHECK(has(one(now, destination::ephemeral).text, "Tue 2026-11-24"));
    REQUIRE(answer(h, "UA", "did x\nwill do y\nnone", berlin(monday, 15, 5)).ok);
    // Tuesday 09:00 does not ask again; Tuesday's report has the answers.
    jobs.step_until(berlin(tuesday, 11, 30));
    CHECK(jobs.prompts("UA") == std::vector<unix_time>{berlin(monday, 9)});
    REQUIRE(jobs.digests().size() == 2);
    CHECK(has(jobs.digests()[1].e.text, "did x"));
    // Wednesday is asked as usual, for Wednesday's report.
    jobs.step_until(berlin(wednesday, 9, 30));
    CHECK(jobs.prompts("UA").back() == berlin(wednesday, 9));
    CHECK(h.db.find_entry("T1", "CGENERAL", wednesday, "UA"));
}

TEST_CASE("bots in a members:channel standup are not asked", "[standup-jobs]") {
    harness h;
    setup(h, "at:09:00 report:11:00 members:channel", berlin("2026-11-22", 12));
    h.db.set_channel_members("T1", "CGENERAL", {"UA", "UJIRA"}, berlin("2026-11-22", 12));
    user_row jira;
    jira.team_id = "T1";
    jira.user_id = "UJIRA";
    jira.is_bot = true;
    jira.updated_at = berlin("2026-11-22", 12);
    h.db.set_user(jira);
    job_runner jobs(h.db, berlin(monday, 0));
    jobs.step_until(berlin(monday, 12));
    CHECK(jobs.prompts("UA").size() == 1);
    CHECK(jobs.prompts("UJIRA").empty());
    REQUIRE(jobs.digests().size() == 1);
    CHECK_FALSE(has(jobs.digests()[0].e.text, "UJIRA"));
}
