#include "schedule.hpp"

#include <catch2/catch.hpp>
#include <date/date.h>
#include <sstream>

using namespace tpmbot;
using namespace tpmbot::schedule;

namespace {

/// "2026-03-08T10:00Z" as Unix seconds.
unix_time utc(const std::string& text) {
    std::istringstream in(text);
    date::sys_seconds tp;
    in >> date::parse("%Y-%m-%dT%H:%MZ", tp);
    REQUIRE_FALSE(in.fail());
    return tp.time_since_epoch().count();
}

int hhmm(const char* t) {
    return parse_time_of_day(t);
}

} // namespace

TEST_CASE("times of day parse in 24-hour HH:MM and nothing else", "[schedule]") {
    CHECK(parse_time_of_day("09:00") == 540);
    CHECK(parse_time_of_day("9:05") == 545);
    CHECK(parse_time_of_day("23:59") == 1439);
    CHECK(parse_time_of_day("00:00") == 0);
    CHECK(format_time_of_day(545) == "09:05");
    for (const char* bad :
         {"24:00", "25:00", "12:60", "9am", "0900", "9:5", "", ":30", "-1:00", "12:30:00"}) {
        INFO(bad);
        CHECK_THROWS_WITH(parse_time_of_day(bad),
                          Catch::Contains("is not a time of day") && Catch::Contains("e.g. 09:30"));
    }
}

TEST_CASE("days parse as ranges, lists and names", "[schedule]") {
    CHECK(parse_weekdays("mon-fri") == monday_to_friday);
    CHECK(parse_weekdays("Weekdays") == monday_to_friday);
    CHECK(parse_weekdays("daily") == every_day);
    CHECK(parse_weekdays("mon,wed,fri") == 0b10101);
    CHECK(parse_weekdays("fri-mon") == 0b1110001); // wraps over the weekend
    CHECK(parse_weekdays("sun") == 0b1000000);
    CHECK(format_weekdays(monday_to_friday) == "mon-fri");
    CHECK(format_weekdays(every_day) == "daily");
    CHECK(format_weekdays(0b10101) == "mon,wed,fri");
    for (const char* bad : {"", "monday-friday", "mon-", "mon,,fri", "funday", "mon-xyz"}) {
        INFO(bad);
        CHECK_THROWS_WITH(parse_weekdays(bad), Catch::Contains("is not a set of days"));
    }
}

TEST_CASE("a 09:00 job stays at 09:00 local time across both DST changes", "[schedule][dst]") {
    struct row {
        const char* tz;
        const char* day;
        const char* expected;
    };
    const row rows[] = {
        // Los Angeles: PST (-8) until 2026-03-08, PDT (-7) until 2026-11-01.
        {"America/Los_Angeles", "2026-03-07", "2026-03-07T17:00Z"},
        {"America/Los_Angeles", "2026-03-08", "2026-03-08T16:00Z"},
        {"America/Los_Angeles", "2026-10-31", "2026-10-31T16:00Z"},
        {"America/Los_Angeles", "2026-11-01", "2026-11-01T17:00Z"},
        // Berlin: CET (+1) until 2026-03-29, CEST (+2) until 2026-10-25.
        {"Europe/Berlin", "2026-03-28", "2026-03-28T08:00Z"},
        {"Europe/Berlin", "2026-03-29", "2026-03-29T07:00Z"},
        {"Europe/Berlin", "2026-10-24", "2026-10-24T07:00Z"},
        {"Europe/Berlin", "2026-10-25", "2026-10-25T08:00Z"},
        // Kolkata: +5:30 all year.
        {"Asia/Kolkata", "2026-03-08", "2026-03-08T03:30Z"},
        {"Asia/Kolkata", "2026-10-25", "2026-10-25T03:30Z"},
        // Sydney: AEDT (+11) until 2026-04-05, AEST (+10) until 2026-10-04.
        {"Australia/Sydney", "2026-04-04", "2026-04-03T22:00Z"},
        {"Australia/Sydney", "2026-04-05", "2026-04-04T23:00Z"},
        {"Australia/Sydney", "2026-10-03", "2026-10-02T23:00Z"},
        {"Australia/Sydney", "2026-10-04", "2026-10-03T22:00Z"},
    };
    for (const auto& r : rows) {
        INFO(r.tz << " " << r.day);
        CHECK(at_local(r.day, hhmm("09:00"), r.tz) == utc(r.expected));
    }
}

TEST_CASE("a local time skipped by spring-forward fires at the first valid minute",
          "[schedule][dst]") {
    // 02:30 does not exist on these days; the clocks jump from 02:00 to 03:00.
    CHECK(at_local("2026-03-08", hhmm("02:30"), "America/Los_Angeles") ==
          utc("2026-03-08T10:00Z")); // 03:00 PDT
    CHECK(at_local("2026-03-29", hhmm("02:30"), "Europe/Berlin") ==
          utc("2026-03-29T01:00Z")); // 03:00 CEST
    CHECK(at_local("2026-10-04", hhmm("02:30"), "Australia/Sydney") ==
          utc("2026-10-03T16:00Z")); // 03:00 AEDT
}

TEST_CASE("a local time repeated by fall-back fires once, at its first occurrence",
          "[schedule][dst]") {
    CHECK(at_local("2026-11-01", hhmm("01:30"), "America/Los_Angeles") ==
          utc("2026-11-01T08:30Z")); // 01:30 PDT, not PST
    CHECK(at_local("2026-10-25", hhmm("02:30"), "Europe/Berlin") ==
          utc("2026-10-25T00:30Z")); // 02:30 CEST, not CET
    CHECK(at_local("2026-04-05", hhmm("02:30"), "Australia/Sydney") ==
          utc("2026-04-04T15:30Z")); // 02:30 AEDT, not AEST
    // And the job's firings over the whole fall-back night: exactly one.
    auto f = firings(hhmm("01:30"), every_day, "America/Los_Angeles", utc("2026-11-01T00:00Z"),
                     utc("2026-11-02T00:00Z"));
    REQUIRE(f.size() == 1);
    CHECK(f[0].period == "2026-11-01");
    CHECK(f[0].due == utc("2026-11-01T08:30Z"));
}

TEST_CASE("firings of a week follow the configured days, one per local day", "[schedule]") {
    // Mon 2026-11-23 00:00 UTC to Mon 2026-11-30 00:00 UTC, 09:00 Berlin (CET, +1).
    auto f = firings(hhmm("09:00"), monday_to_friday, "Europe/Berlin", utc("2026-11-23T00:00Z"),
                     utc("2026-11-30T00:00Z"));
    REQUIRE(f.size() == 5);
    CHECK(f.front().period == "2026-11-23");
    CHECK(f.front().due == utc("2026-11-23T08:00Z"));
    CHECK(f.back().period == "2026-11-27");
    // The window is (after, until]: a firing exactly at `after` is not repeated.
    auto again = firings(hhmm("09:00"), monday_to_friday, "Europe/Berlin", utc("2026-11-23T08:00Z"),
                         utc("2026-11-24T08:00Z"));
    REQUIRE(again.size() == 1);
    CHECK(again[0].period == "2026-11-24");
    CHECK(firings(hhmm("09:00"), monday_to_friday, "Europe/Berlin", utc("2026-11-28T00:00Z"),
                  utc("2026-11-29T23:00Z"))
              .empty()); // a weekend
}

TEST_CASE("a local day can fire on another UTC day", "[schedule]") {
    // Sydney's Monday 09:00 is Sunday 22:00 UTC in November (AEDT, +11).
    auto f = firings(hhmm("09:00"), 0b1, "Australia/Sydney", utc("2026-11-29T00:00Z"),
                     utc("2026-11-30T00:00Z"));
    REQUIRE(f.size() == 1);
    CHECK(f[0].period == "2026-11-30");
    CHECK(f[0].due == utc("2026-11-29T22:00Z"));
}

TEST_CASE("unknown zones and dates are user errors", "[schedule]") {
    CHECK_THROWS_AS(at_local("2026-11-25", 540, "Mars/Base"), user_error);
    CHECK_THROWS_WITH(at_local("2026-11-25", 540, "Mars/Base"), Catch::Contains("Mars/Base"));
    CHECK_THROWS_AS(at_local("2026-02-30", 540, "UTC"), user_error);
    CHECK_THROWS_AS(firings(540, every_day, "Mars/Base", 0, 86400), user_error);
}
