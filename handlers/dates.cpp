#include "dates.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <date/date.h>
#include <date/tz.h>
#include <exception>
#include <fmt/format.h>
#include <string>

namespace tpmbot::dates {

namespace {

/// The furthest a relative date (+Nd, +Nw) may reach: about ten years.
constexpr long max_relative_days = 3660;

constexpr std::array<std::string_view, 12> month_names = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

constexpr std::array<std::string_view, 7> weekday_short = {"Sun", "Mon", "Tue", "Wed",
                                                           "Thu", "Fri", "Sat"};

const date::time_zone* find_zone(std::string_view tz) {
    try {
        return date::locate_zone(std::string(tz));
    } catch (const std::exception&) {
        return nullptr;
    }
}

/// A zone name that matches `tz` ignoring case ("europe/berlin"), empty when none.
std::string zone_ignoring_case(std::string_view tz) {
    auto lower = [](std::string_view s) {
        std::string out(s);
        for (char& c : out) {
            if (c >= 'A' && c <= 'Z') {
                c = static_cast<char>(c - 'A' + 'a');
            }
        }
        return out;
    };
    const std::string wanted = lower(tz);
    try {
        const auto& db = date::get_tzdb();
        for (const auto& z : db.zones) {
            if (lower(z.name()) == wanted) {
                return std::string(z.name());
            }
        }
    } catch (const std::exception&) {
    }
    return {};
}

const date::time_zone& zone_or_throw(std::string_view tz) {
    if (const auto* z = find_zone(tz)) {
        return *z;
    }
    std::string hint;
    if (const std::string near = zone_ignoring_case(tz); !near.empty()) {
        hint = fmt::format(" Did you mean {}?", near);
    }
    throw user_error(fmt::format("Unknown time zone \"{}\".{} Use an IANA name such as "
                                 "Europe/Berlin or America/Los_Angeles.",
                                 tz, hint));
}

date::sys_days today_days(unix_time now, std::string_view tz) {
    const date::time_zone& zone = zone_or_throw(tz);
    const auto local = zone.to_local(date::sys_seconds{std::chrono::seconds{now}});
    return date::sys_days{date::floor<date::days>(local).time_since_epoch()};
}

std::string format_iso(date::sys_days d) {
    const date::year_month_day ymd{d};
    return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/// Lower-cased, trimmed, inner runs of whitespace collapsed to one space.
std::string normalise(std::string_view text) {
    std::string out;
    bool pending_space = false;
    for (char c : text) {
        if (is_space(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) {
            out += ' ';
            pending_space = false;
        }
        out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return out;
}

bool all_digits(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

int to_int(std::string_view digits) {
    int v = 0;
    for (char c : digits) {
        v = v * 10 + (c - '0');
    }
    return v;
}

/// Weekday index, Sunday = 0 .. Saturday = 6, for "fri", "friday", "thurs", ...; -1 if none.
int weekday_index(std::string_view w) {
    struct name {
        std::string_view text;
        int index;
    };
    static constexpr std::array<name, 18> names = {{
        {"sun", 0},
        {"sunday", 0},
        {"mon", 1},
        {"monday", 1},
        {"tue", 2},
        {"tues", 2},
        {"tuesday", 2},
        {"wed", 3},
        {"weds", 3},
        {"wednesday", 3},
        {"thu", 4},
        {"thur", 4},
        {"thurs", 4},
        {"thursday", 4},
        {"fri", 5},
        {"friday", 5},
        {"sat", 6},
        {"saturday", 6},
    }};
    for (const auto& n : names) {
        if (n.text == w) {
            return n.index;
        }
    }
    return -1;
}

/// Days from `from` to the next `target` weekday strictly after it (1..7).
long days_until_after(date::sys_days from, int target) {
    const int wd = static_cast<int>(date::weekday{from}.c_encoding());
    const int ahead = (target - wd + 7) % 7;
    return ahead == 0 ? 7 : ahead;
}

/// The Monday that starts the week after the week (Monday..Sunday) of `d`.
date::sys_days next_monday(date::sys_days d) {
    const int iso = static_cast<int>(date::weekday{d}.iso_encoding()); // Mon 1 .. Sun 7
    return d + date::days{8 - iso};
}

/// A strictly shaped YYYY-MM-DD, validated; throws user_error for one that is not a date.
date::sys_days parse_iso_or_throw(std::string_view s) {
    const bool shaped = s.size() == 10 && s[4] == '-' && s[7] == '-' &&
                        all_digits(s.substr(0, 4)) && all_digits(s.substr(5, 2)) &&
                        all_digits(s.substr(8, 2));
    if (!shaped) {
        throw user_error(fmt::format("{} is not a date. Use YYYY-MM-DD, e.g. 2026-12-04.", s));
    }
    const int y = to_int(s.substr(0, 4));
    const int m = to_int(s.substr(5, 2));
    const int d = to_int(s.substr(8, 2));
    if (y == 0) {
        throw user_error(fmt::format(
            "{} is not a date (there is no year 0). Use YYYY-MM-DD, e.g. 2026-12-04.", s));
    }
    if (m < 1 || m > 12) {
        const int fixed_m = m < 1 ? 1 : 12;
        const date::year_month_day_last last{date::year{y} / date::month{unsigned(fixed_m)} /
                                             date::last};
        const int fixed_d = std::min(d < 1 ? 1 : d, int(unsigned(last.day())));
        throw user_error(fmt::format(
            "{} is not a date (there is no month {}). Use YYYY-MM-DD, e.g. {:04}-{:02}-{:02}.", s,
            m, y, fixed_m, fixed_d));
    }
    const date::year_month_day_last last{date::year{y} / date::month{unsigned(m)} / date::last};
    const int days_in_month = int(unsigned(last.day()));
    if (d < 1) {
        throw user_error(fmt::format(
            "{} is not a date (days start at 1). Use YYYY-MM-DD, e.g. {:04}-{:02}-01.", s, y, m));
    }
    if (d > days_in_month) {
        throw user_error(fmt::format(
            "{} is not a date ({} {} has {} days). Use YYYY-MM-DD, e.g. {:04}-{:02}-{:02}.", s,
            month_names[std::size_t(m - 1)], y, days_in_month, y, m, days_in_month));
    }
    return date::sys_days{date::year{y} / date::month{unsigned(m)} / date::day{unsigned(d)}};
}

/// A relative date "+3d", "+2w" ("+3days", "+2weeks" too). nullopt when `s` does not start
/// with '+' and a digit, or is a bare "+1"; throws user_error for an unknown unit or a date
/// too far ahead.
std::optional<long> parse_relative_days(std::string_view s) {
    if (s.size() < 2 || s[0] != '+' || s[1] < '0' || s[1] > '9') {
        return std::nullopt;
    }
    std::size_t i = 1;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        ++i;
    }
    const std::string_view digits = s.substr(1, i - 1);
    const std::string_view unit = s.substr(i);
    if (unit.empty()) {
        return std::nullopt; // "+1" is agreement, not a date
    }
    long per = 0;
    if (unit == "d" || unit == "day" || unit == "days") {
        per = 1;
    } else if (unit == "w" || unit == "wk" || unit == "wks" || unit == "week" || unit == "weeks") {
        per = 7;
    } else {
        throw user_error(fmt::format(
            "{} is not a light date: use d for days or w for weeks, e.g. +3d or +2w.", s));
    }
    // Leading zeros are harmless; more than 7 significant digits is surely too far.
    std::string_view significant = digits;
    while (significant.size() > 1 && significant.front() == '0') {
        significant.remove_prefix(1);
    }
    const long n = significant.size() > 7 ? max_relative_days + 1 : long(to_int(significant));
    if (n * per > max_relative_days) {
        throw user_error(fmt::format("{} is too far ahead (at most {} days, about ten years). "
                                     "Use e.g. +3d, +2w or a date such as 2026-12-04.",
                                     s, max_relative_days));
    }
    return n * per;
}

/// True for text shaped like a date in another notation: 2026-1-5, 2026/12/04, 12/04/2026.
bool looks_like_other_date(std::string_view s) {
    std::array<std::string_view, 3> parts{};
    std::size_t count = 0;
    std::size_t from = 0;
    char sep = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == '-' || s[i] == '/' || s[i] == '.') {
            if (i < s.size()) {
                if (sep != 0 && s[i] != sep) {
                    return false;
                }
                sep = s[i];
            }
            if (count == parts.size()) {
                return false;
            }
            parts[count++] = s.substr(from, i - from);
            from = i + 1;
        }
    }
    if (count != 3) {
        return false;
    }
    for (auto p : parts) {
        if (!all_digits(p) || p.size() > 4) {
            return false;
        }
    }
    const bool year_first = parts[0].size() == 4 && parts[1].size() <= 2 && parts[2].size() <= 2;
    const bool year_last = parts[2].size() == 4 && parts[0].size() <= 2 && parts[1].size() <= 2;
    return year_first || year_last;
}

} // namespace

iso_date today(unix_time now, std::string_view tz) {
    return format_iso(today_days(now, tz));
}

std::optional<iso_date> parse(std::string_view text, unix_time now, std::string_view tz) {
    const date::sys_days base = today_days(now, tz); // validates tz first
    const std::string s = normalise(text);
    if (s.empty()) {
        return std::nullopt;
    }
    if (s == "today") {
        return format_iso(base);
    }
    if (s == "tomorrow") {
        return format_iso(base + date::days{1});
    }
    if (s == "yesterday") {
        return format_iso(base - date::days{1});
    }
    if (const int wd = weekday_index(s); wd >= 0) {
        return format_iso(base + date::days{days_until_after(base, wd)});
    }
    if (s.starts_with("next ")) {
        const std::string_view what = std::string_view(s).substr(5);
        const date::sys_days monday = next_monday(base);
        if (what == "week") {
            return format_iso(monday);
        }
        if (const int wd = weekday_index(what); wd >= 0) {
            const int iso = wd == 0 ? 7 : wd; // Mon 1 .. Sun 7
            return format_iso(monday + date::days{iso - 1});
        }
        return std::nullopt;
    }
    if (const auto rel = parse_relative_days(s)) {
        return format_iso(base + date::days{*rel});
    }
    if (s.size() == 10 && all_digits(s.substr(0, 4)) && s[4] == '-' && s[7] == '-' &&
        all_digits(s.substr(5, 2)) && all_digits(s.substr(8, 2))) {
        return format_iso(parse_iso_or_throw(s));
    }
    if (looks_like_other_date(s)) {
        throw user_error(
            fmt::format("{} looks like a date, but dates are written YYYY-MM-DD, e.g. 2026-12-04.",
                        std::string_view(text)));
    }
    return std::nullopt;
}

long days_between(std::string_view a, std::string_view b) {
    return static_cast<long>((parse_iso_or_throw(b) - parse_iso_or_throw(a)).count());
}

std::string pretty(std::string_view iso) {
    try {
        const date::sys_days d = parse_iso_or_throw(iso);
        const unsigned wd = date::weekday{d}.c_encoding();
        return fmt::format("{} {}", weekday_short[wd], iso);
    } catch (const user_error&) {
        return std::string(iso); // display never fails; show what was stored
    }
}

std::string age(unix_time seconds) {
    if (seconds < 3600) {
        return fmt::format("{}m", seconds < 0 ? 0 : seconds / 60);
    }
    if (seconds < 86400) {
        return fmt::format("{}h", seconds / 3600);
    }
    return fmt::format("{}d", seconds / 86400);
}

void check_zone(std::string_view tz) {
    (void)zone_or_throw(tz);
}

} // namespace tpmbot::dates
