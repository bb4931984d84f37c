#pragma once
/// When daily jobs fire: local times of day in IANA zones turned into UTC instants, correct
/// across daylight-saving changes. A job fires once per local day (its "period"), so a
/// restart that asks again for the same period finds it already claimed.

#include "model.hpp"
#include "store.hpp"

#include <functional>
#include <optional>
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

/// Whether the date "YYYY-MM-DD" falls on one of `days` (false for a malformed date).
bool is_one_of(std::string_view day, weekdays days);

/// Minutes after local midnight of instant `t` in zone `tz` (user_error for an unknown zone).
int local_minute(unix_time t, std::string_view tz);

/// One firing of a daily job: its local date (the period that is claimed) and when it is due.
struct firing {
    std::string period; ///< the local date, "YYYY-MM-DD"
    unix_time due = 0;  ///< UTC
};

/// The firings of a job at local `minute` on `days` in `tz` that fall in (after, until], in
/// order. Each local day has at most one.
std::vector<firing> firings(int minute, weekdays days, std::string_view tz, unix_time after,
                            unix_time until);

/// The first firing after `after` (within eight days), nullopt when `days` is empty.
std::optional<firing> next_firing(int minute, weekdays days, std::string_view tz, unix_time after);

} // namespace tpmbot::schedule

namespace tpmbot {

/// A job that fires at a local time of day on some weekdays in a zone.
struct daily_job {
    std::string name; ///< unique, e.g. "standup-prompt:T1:C1:U1"; the claim key
    int minute = 0;   ///< local time of day, minutes after midnight
    schedule::weekdays days = schedule::every_day;
    std::string tz = "UTC";
    /// Firings missed while the bot was down are caught up if at most this old; older ones
    /// are skipped (a standup prompt hours late helps nobody).
    unix_time grace = 2 * 3600;
};

/// What `due_firings` decided.
struct due_result {
    std::vector<schedule::firing> run;     ///< due now, oldest first
    std::vector<schedule::firing> skipped; ///< missed by more than the grace window
};

/// The firings of `job` in (last_check, now]: those within the grace window run, older ones
/// are skipped. Each period appears once; running one twice is harmless only because
/// `run_due` claims it.
due_result due_firings(const daily_job& job, unix_time last_check, unix_time now);

/// Where scheduled work writes a log line.
using job_log_fn = std::function<void(const std::string& line)>;

/// Runs `job`'s firings due in (from, to]: each `body` in one transaction with the claim of
/// (job name, period), so a firing runs once, across restarts too. Firings past the grace
/// window are logged ("skipped <what> <job> <period>: due …, now …, past the … s grace")
/// instead. Returns how many ran.
int run_due(store& db, const daily_job& job, unix_time from, unix_time to, std::string_view what,
            const job_log_fn& log, const std::function<void(const schedule::firing&)>& body);

} // namespace tpmbot
