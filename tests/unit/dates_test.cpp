#include "dates.hpp"
#include "model.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>

using namespace tpmbot;

namespace {

// Fixed instants (UTC), never the real clock.
constexpr unix_time wed_2026_11_25_2330 = 1795649400; // Wed 23:30 UTC
constexpr unix_time wed_2026_11_25_1200 = 1795608000; // Wed noon UTC
constexpr unix_time fri_2026_11_27_1200 = 1795780800;
constexpr unix_time sun_2026_11_29_1200 = 1795953600;
constexpr unix_time mon_2026_11_30_1200 = 1796040000;
constexpr unix_time thu_2026_12_31_1200 = 1798718400;
constexpr unix_time mon_2028_02_28_1200 = 1835352000;
constexpr unix_time thu_2026_01_01_0400 = 1767240000;
// 2026-03-08 04:30 UTC = Sat 2026-03-07 23:30 EST, 3.5 hours before US clocks spring forward.
constexpr unix_time before_us_dst = 1772944200;
// 2026-03-29 00:30 UTC = Sun 01:30 CET, 30 minutes before EU clocks spring forward.
constexpr unix_time before_eu_dst = 1774744200;

std::optional<std::string> p(std::string_view text, unix_time now, std::string_view tz = "UTC") {
    return dates::parse(text, now, tz);
}

std::string error_of(std::string_view text, unix_time now = wed_2026_11_25_1200) {
    try {
        (void)dates::parse(text, now, "UTC");
    } catch (const user_error& e) {
        return e.what();
    }
    return {};
}

} // namespace

TEST_CASE("today is resolved in the caller's zone", "[dates]") {
    // 2026-11-25 23:30 UTC: still the 25th in UTC and the Americas, the 26th in Asia.
    CHECK(dates::today(wed_2026_11_25_2330, "UTC") == "2026-11-25");
    CHECK(dates::today(wed_2026_11_25_2330, "Asia/Kolkata") == "2026-11-26");
    CHECK(dates::today(wed_2026_11_25_2330, "Asia/Tokyo") == "2026-11-26");
    CHECK(dates::today(wed_2026_11_25_2330, "America/Los_Angeles") == "2026-11-25");
    CHECK(dates::today(wed_2026_11_25_2330, "Pacific/Kiritimati") == "2026-11-26");
    // New Year's morning in UTC is still New Year's Eve in New York.
    CHECK(dates::today(thu_2026_01_01_0400, "UTC") == "2026-01-01");
    CHECK(dates::today(thu_2026_01_01_0400, "America/New_York") == "2025-12-31");
    CHECK(dates::today(0, "UTC") == "1970-01-01");
}

TEST_CASE("today, tomorrow and yesterday across midnight in different zones", "[dates]") {
    CHECK(p("today", wed_2026_11_25_2330, "Asia/Kolkata") == "2026-11-26");
    CHECK(p("tomorrow", wed_2026_11_25_2330, "Asia/Kolkata") == "2026-11-27");
    CHECK(p("yesterday", wed_2026_11_25_2330, "Asia/Kolkata") == "2026-11-25");
    CHECK(p("today", wed_2026_11_25_2330, "America/Los_Angeles") == "2026-11-25");
    CHECK(p("tomorrow", wed_2026_11_25_2330, "America/Los_Angeles") == "2026-11-26");
    CHECK(p("tomorrow", thu_2026_12_31_1200) == "2027-01-01");
    CHECK(p("yesterday", thu_2026_01_01_0400) == "2025-12-31");
}

TEST_CASE("parse is case-insensitive and ignores surrounding space", "[dates]") {
    CHECK(p("TODAY", wed_2026_11_25_1200) == "2026-11-25");
    CHECK(p("  Tomorrow ", wed_2026_11_25_1200) == "2026-11-26");
    CHECK(p("FRI", wed_2026_11_25_1200) == "2026-11-27");
    CHECK(p("Next  Week", wed_2026_11_25_1200) == "2026-11-30");
    CHECK(p("+3D", wed_2026_11_25_1200) == "2026-11-28");
}

TEST_CASE("weekday names are the next such day strictly after today", "[dates]") {
    // From Friday 2026-11-27.
    CHECK(p("sat", fri_2026_11_27_1200) == "2026-11-28");
    CHECK(p("sun", fri_2026_11_27_1200) == "2026-11-29");
    CHECK(p("mon", fri_2026_11_27_1200) == "2026-11-30");
    CHECK(p("monday", fri_2026_11_27_1200) == "2026-11-30");
    CHECK(p("tue", fri_2026_11_27_1200) == "2026-12-01");
    CHECK(p("tues", fri_2026_11_27_1200) == "2026-12-01");
    CHECK(p("wednesday", fri_2026_11_27_1200) == "2026-12-02");
    CHECK(p("thu", fri_2026_11_27_1200) == "2026-12-03");
    CHECK(p("thurs", fri_2026_11_27_1200) == "2026-12-03");
    CHECK(p("fri", fri_2026_11_27_1200) == "2026-12-04"); // today is Friday: a week ahead
    CHECK(p("friday", fri_2026_11_27_1200) == "2026-12-04");
    // Across a year end.
    CHECK(p("fri", thu_2026_12_31_1200) == "2027-01-01");
    CHECK(p("thu", thu_2026_12_31_1200) == "2027-01-07");
    // "Today" depends on the zone: Thursday in Kolkata, still Wednesday in UTC.
    CHECK(p("thu", wed_2026_11_25_2330, "UTC") == "2026-11-26");
    CHECK(p("thu", wed_2026_11_25_2330, "Asia/Kolkata") == "2026-12-03");
}

TEST_CASE("next week is the Monday after the current week", "[dates]") {
    CHECK(p("next week", wed_2026_11_25_1200) == "2026-11-30");
    CHECK(p("next week", sun_2026_11_29_1200) == "2026-11-30"); // Sunday ends the week
    CHECK(p("next week", mon_2026_11_30_1200) == "2026-12-07"); // Monday starts one
    CHECK(p("next week", thu_2026_12_31_1200) == "2027-01-04");
}

TEST_CASE("next <weekday> is that day in the next week", "[dates]") {
    CHECK(p("next fri", wed_2026_11_25_1200) == "2026-12-04");
    CHECK(p("next friday", sun_2026_11_29_1200) == "2026-12-04");
    CHECK(p("next mon", sun_2026_11_29_1200) == "2026-11-30");
    CHECK(p("next mon", mon_2026_11_30_1200) == "2026-12-07");
    CHECK(p("next sun", wed_2026_11_25_1200) == "2026-12-06");
    CHECK(p("next tue", fri_2026_11_27_1200) == "2026-12-01");
    CHECK(p("next fri", fri_2026_11_27_1200) == "2026-12-04");
}

TEST_CASE("+Nd and +Nw count from today", "[dates]") {
    CHECK(p("+0d", wed_2026_11_25_1200) == "2026-11-25");
    CHECK(p("+1d", wed_2026_11_25_1200) == "2026-11-26");
    CHECK(p("+3d", wed_2026_11_25_1200) == "2026-11-28");
    CHECK(p("+10d", wed_2026_11_25_1200) == "2026-12-05");
    CHECK(p("+2w", wed_2026_11_25_1200) == "2026-12-09");
    CHECK(p("+1w", thu_2026_12_31_1200) == "2027-01-07");
    CHECK(p("+3days", wed_2026_11_25_1200) == "2026-11-28");
    CHECK(p("+3d", wed_2026_11_25_2330, "Asia/Kolkata") == "2026-11-29");
    CHECK(p("+3660d", wed_2026_11_25_1200).has_value());
}

TEST_CASE("relative dates that are too far or have no known unit are errors", "[dates]") {
    CHECK_THROWS_AS(p("+3661d", wed_2026_11_25_1200), user_error);
    CHECK_THROWS_AS(p("+99999d", wed_2026_11_25_1200), user_error);
    CHECK_THROWS_AS(p("+100000d", wed_2026_11_25_1200), user_error);
    CHECK_THROWS_AS(p("+99999999999999999999999d", wed_2026_11_25_1200), user_error);
    CHECK_THROWS_AS(p("+600w", wed_2026_11_25_1200), user_error);
    CHECK(error_of("+100000d").find("+100000d is too far ahead") == 0);
    CHECK(error_of("+3m") ==
          "+3m is not a light date: use d for days or w for weeks, e.g. +3d or +2w.");
    // A bare "+1" is agreement, not a date.
    CHECK(p("+1", wed_2026_11_25_1200) == std::nullopt);
}

TEST_CASE("ISO dates are validated, leap years included", "[dates]") {
    CHECK(p("2026-12-04", wed_2026_11_25_1200) == "2026-12-04");
    CHECK(p("2028-02-29", wed_2026_11_25_1200) == "2028-02-29");
    CHECK(p("2000-02-29", wed_2026_11_25_1200) == "2000-02-29");
    CHECK(p("2020-01-31", wed_2026_11_25_1200) == "2020-01-31"); // past dates are dates
    CHECK(error_of("2026-02-30") ==
          "2026-02-30 is not a date (February 2026 has 28 days). Use YYYY-MM-DD, e.g. "
          "2026-02-28.");
    CHECK(error_of("2027-02-29") ==
          "2027-02-29 is not a date (February 2027 has 28 days). Use YYYY-MM-DD, e.g. "
          "2027-02-28.");
    CHECK(error_of("2100-02-29").find("February 2100 has 28 days") != std::string::npos);
    CHECK(error_of("2028-02-30").find("February 2028 has 29 days") != std::string::npos);
    CHECK(error_of("2026-04-31") ==
          "2026-04-31 is not a date (April 2026 has 30 days). Use YYYY-MM-DD, e.g. 2026-04-30.");
    CHECK(error_of("2026-13-01") ==
          "2026-13-01 is not a date (there is no month 13). Use YYYY-MM-DD, e.g. 2026-12-01.");
    CHECK(error_of("2026-00-10").find("there is no month 0") != std::string::npos);
    CHECK(error_of("2026-01-00").find("days start at 1") != std::string::npos);
    // Other spellings of dates are refused with the expected form.
    CHECK(error_of("2026-1-5") ==
          "2026-1-5 looks like a date, but dates are written YYYY-MM-DD, e.g. 2026-12-04.");
    CHECK_THROWS_AS(p("12/04/2026", wed_2026_11_25_1200), user_error);
    CHECK_THROWS_AS(p("2026/12/04", wed_2026_11_25_1200), user_error);
}

TEST_CASE("leap day arithmetic", "[dates]") {
    CHECK(p("tomorrow", mon_2028_02_28_1200) == "2028-02-29");
    CHECK(p("+2d", mon_2028_02_28_1200) == "2028-03-01");
    CHECK(p("tue", mon_2028_02_28_1200) == "2028-02-29");
    CHECK(dates::days_between("2028-02-28", "2028-03-01") == 2);
    CHECK(dates::days_between("2027-02-28", "2027-03-01") == 1);
}

TEST_CASE("text that does not look like a date is nullopt", "[dates]") {
    for (const char* text : {"banana", "", "   ", "next", "next banana", "12:30", "fri day",
                             "tomorrowish", "1.5", "1/2", "B-12", "high", "2026", "-2d"}) {
        INFO("text: " << text);
        CHECK(p(text, wed_2026_11_25_1200) == std::nullopt);
    }
}

TEST_CASE("DST changes do not shift calendar dates", "[dates]") {
    // Late Saturday evening in New York, hours before the clocks spring forward.
    CHECK(dates::today(before_us_dst, "America/New_York") == "2026-03-07");
    CHECK(p("tomorrow", before_us_dst, "America/New_York") == "2026-03-08");
    CHECK(p("+1d", before_us_dst, "America/New_York") == "2026-03-08");
    CHECK(p("+1w", before_us_dst, "America/New_York") == "2026-03-14");
    CHECK(p("sun", before_us_dst, "America/New_York") == "2026-03-08");
    CHECK(p("next week", before_us_dst, "America/New_York") == "2026-03-09");
    // Early Sunday in Berlin, half an hour before the clocks spring forward.
    CHECK(dates::today(before_eu_dst, "Europe/Berlin") == "2026-03-29");
    CHECK(p("tomorrow", before_eu_dst, "Europe/Berlin") == "2026-03-30");
    CHECK(p("next week", before_eu_dst, "Europe/Berlin") == "2026-03-30");
}

TEST_CASE("unknown time zones are user errors naming the zone", "[dates]") {
    CHECK_NOTHROW(dates::check_zone("Europe/Berlin"));
    CHECK_NOTHROW(dates::check_zone("America/Los_Angeles"));
    CHECK_NOTHROW(dates::check_zone("UTC"));
    CHECK_THROWS_AS(dates::check_zone("Mars/Base"), user_error);
    CHECK_THROWS_AS(dates::check_zone(""), user_error);
    try {
        dates::check_zone("Mars/Base");
        FAIL("no error");
    } catch (const user_error& e) {
        CHECK(std::string(e.what()) == "Unknown time zone \"Mars/Base\". Use an IANA name such "
                                       "as Europe/Berlin or America/Los_Angeles.");
    }
    try {
        dates::check_zone("europe/berlin");
        FAIL("no error");
    } catch (const user_error& e) {
        CHECK(std::string(e.what()).find("Did you mean Europe/Berlin?") != std::string::npos);
    }
    CHECK_THROWS_AS(dates::today(wed_2026_11_25_1200, "Mars/Base"), user_error);
    CHECK_THROWS_AS(dates::parse("today", wed_2026_11_25_1200, "Mars/Base"), user_error);
    CHECK_THROWS_AS(dates::parse("2026-12-04", wed_2026_11_25_1200, "Nowhere"), user_error);
}

TEST_CASE("days_between counts whole days from a to b", "[dates]") {
    CHECK(dates::days_between("2026-11-25", "2026-12-04") == 9);
    CHECK(dates::days_between("2026-12-04", "2026-11-25") == -9);
    CHECK(dates::days_between("2026-11-25", "2026-11-25") == 0);
    CHECK(dates::days_between("2026-12-31", "2027-01-01") == 1);
    CHECK(dates::days_between("2026-01-01", "2027-01-01") == 365);
    CHECK(dates::days_between("2028-01-01", "2029-01-01") == 366);
    CHECK_THROWS_AS(dates::days_between("2026-02-30", "2026-03-01"), user_error);
    CHECK_THROWS_AS(dates::days_between("soon", "2026-03-01"), user_error);
}

TEST_CASE("pretty shows the weekday", "[dates]") {
    CHECK(dates::pretty("2026-12-02") == "Wed 2026-12-02");
    CHECK(dates::pretty("2026-11-29") == "Sun 2026-11-29");
    CHECK(dates::pretty("2028-02-29") == "Tue 2028-02-29");
    CHECK(dates::pretty("2027-01-04") == "Mon 2027-01-04");
    CHECK(dates::pretty("not a date") == "not a date"); // display never throws
}

TEST_CASE("age in whole minutes, hours, then days", "[dates]") {
    CHECK(dates::age(0) == "0m");
    CHECK(dates::age(-30) == "0m");
    CHECK(dates::age(59) == "0m");
    CHECK(dates::age(60) == "1m");
    CHECK(dates::age(3599) == "59m");
    CHECK(dates::age(3600) == "1h");
    CHECK(dates::age(5 * 3600 + 59 * 60) == "5h");
    CHECK(dates::age(86399) == "23h");
    CHECK(dates::age(86400) == "1d");
    CHECK(dates::age(2 * 86400 + 86399) == "2d");
    CHECK(dates::age(400 * 86400) == "400d");
}
