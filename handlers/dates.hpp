#pragma once
/// Light dates ("today", "fri", "+3d", "2026-12-04", "next week") resolved in the caller's
/// IANA time zone.

#include "model.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace tpmbot::dates {

/// A calendar date as "YYYY-MM-DD".
using iso_date = std::string;

/// Today's date in `tz` at `now`. Throws user_error when `tz` is not a known IANA zone.
iso_date today(unix_time now, std::string_view tz);

/// Resolves a light date typed by a user, relative to `now` in the zone `tz`:
/// `today`, `tomorrow`, `yesterday`; weekday names and 3-letter forms (`fri`, `friday`: the
/// next such day strictly after today); `+3d`, `+2w` (also `+3days`, `+2weeks`; at most
/// 3660 days ahead); `next week` (the Monday after this week, weeks run Monday..Sunday);
/// `next fri` (that weekday on or after next Monday); `YYYY-MM-DD`. Case-insensitive.
/// Returns nullopt when the text does not look like a date at all (`banana`, a bare `+1`);
/// throws user_error when it looks like one but is not valid (`2026-02-30`, `2026-1-5`,
/// `12/04/2026`, `+3m`; `+0d` is fine, `+99999d` is not) or when `tz` is unknown.
std::optional<iso_date> parse(std::string_view text, unix_time now, std::string_view tz);

/// Whole days from date `a` to date `b` (b - a); both "YYYY-MM-DD" (user_error otherwise).
long days_between(std::string_view a, std::string_view b);

/// "Wed 2026-12-02" for display; text that is not a valid date is returned unchanged.
std::string pretty(std::string_view iso);

/// "3d", "5h", "12m" for an age in seconds (whole units, rounded down, at least "0m").
std::string age(unix_time seconds);

/// Validates an IANA zone name (exact, case-sensitive); throws user_error naming the zone
/// when unknown, suggesting the right spelling when only the case is wrong.
void check_zone(std::string_view tz);

} // namespace tpmbot::dates
