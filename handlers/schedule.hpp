#pragma once
/// When daily jobs fire: local times of day in IANA zones turned into UTC instants, correct
/// across daylight-saving changes. A job fires once per local day (its "period"), so a
/// restart that asks again for the same period finds it already claimed.

#include "model.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace tpmbot::schedule {

/// Days of the week as a bit set, bit 0 = Monday … bit 6 = Sunday.
using weekdays = unsigned;
inline constexpr weekdays monday_to_friday = 0x1f;
inline constexpr weekdays every_day = 0x7f;

/// Parses "HH:MM" (24-hour) into minutes after midnight; throws user_error with a corrected
/// example when it is not a time of day ("25:00", "9am", "12:60").
int parse_time_of_day(std::string_view text);

/// "09:05" for 545.
std::string format_time_of_day(int minutes);

/// Parses days: "mon-fri", "mon,wed,fri", "weekdays", "daily", "sat-sun", "fri-mon"
/// (wrapping); throws user_error with a corrected example otherwise.
weekdays parse_weekdays(std::string_view text);

/// "mon-fri", "mon,wed,fri", "daily".
std::string format_weekdays(weekdays days);

/// The UTC instant of local time `minute` (after midnight) on local date `day` ("YYYY-MM-DD")
/// in zone `tz`. A local time that does not exist that day (clocks spring forward over it)
/// becomes the first valid instant after the gap, e.g. 02:30 → 03:00; a local time that
/// happens twice (clocks fall back) is its first occurrence. Throws user_error for an unknown
/// zone or an invalid date.
unix_time at_local(std::string_view day, int minute, std::string_view tz);

/// One firing of a daily job: its local date (the period that is claimed) and when it is due.
struct firing {
    std::string period; ///< the local date, "YYYY-MM-DD"
    unix_time due = 0;  ///< UTC
};

/// The firings of a job at local `minute` on `days` in `tz` that fall in (after, until], in
/// order. Each local day has at most one.
std::vector<firing> firings(int minute, weekdays days, std::string_view tz, unix_time after,
                            unix_time until);

} // namespace tpmbot::schedule
