#include "schedule.hpp"

#include "common.hpp"
#include "dates.hpp"

#include <array>
#include <charconv>
#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <sstream>

namespace tpmbot::schedule {

namespace {

constexpr std::array<std::string_view, 7> day_names = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};

int day_index(std::string_view name) {
    for (std::size_t i = 0; i < day_names.size(); ++i) {
        if (name == day_names[i]) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

const date::time_zone* zone(std::string_view tz) {
    dates::check_zone(tz); // user_error naming the zone when unknown
    return date::locate_zone(std::string(tz));
}

date::year_month_day parse_day(std::string_view day) {
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    if (day.size() != 10 || day[4] != '-' || day[7] != '-' ||
        std::from_chars(day.data(), day.data() + 4, y).ptr != day.data() + 4 ||
        std::from_chars(day.data() + 5, day.data() + 7, m).ptr != day.data() + 7 ||
        std::from_chars(day.data() + 8, day.data() + 10, d).ptr != day.data() + 10) {
        throw user_error(fmt::format("{} is not a date; use YYYY-MM-DD.", day));
    }
    date::year_month_day ymd{date::year{y}, date::month{m}, date::day{d}};
    if (!ymd.ok()) {
        throw user_error(fmt::format("{} is not a date.", day));
    }
    return ymd;
}

} // namespace

int parse_time_of_day(std::string_view text) {
    auto colon = text.find(':');
    int h = -1;
    int m = -1;
    if (colon != std::string_view::npos && colon >= 1 && colon <= 2 &&
        text.size() - colon - 1 == 2) {
        auto hr = std::from_chars(text.data(), text.data() + colon, h);
        auto mr = std::from_chars(text.data() + colon + 1, text.data() + text.size(), m);
        if (hr.ptr != text.data() + colon || mr.ptr != text.data() + text.size()) {
            h = m = -1;
        }
    }
    if (h < 0 || h > 23 || m < 0 || m > 59) {
        throw user_error(fmt::format("`{}` is not a time of day. Use 24-hour HH:MM, e.g. 09:30 "
                                     "or 16:00.",
                                     text));
    }
    return h * 60 + m;
}

std::string format_time_of_day(int minutes) {
    return fmt::format("{:02}:{:02}", minutes / 60, minutes % 60);
}

weekdays parse_weekdays(std::string_view text) {
    auto t = lower(text);
    if (t == "daily" || t == "every-day" || t == "all") {
        return every_day;
    }
    if (t == "weekdays") {
        return monday_to_friday;
    }
    if (t == "weekends") {
        return 0x60;
    }
    weekdays days = 0;
    std::size_t start = 0;
    bool ok = !t.empty();
    while (ok && start <= t.size()) {
        auto comma = t.find(',', start);
        auto part = std::string_view(t).substr(start, comma == std::string::npos ? std::string::npos
                                                                                 : comma - start);
        auto dash = part.find('-');
        if (dash == std::string_view::npos) {
            int d = day_index(part);
            ok = d >= 0;
            if (ok) {
                days |= 1u << d;
            }
        } else {
            int from = day_index(part.substr(0, dash));
            int to = day_index(part.substr(dash + 1));
            ok = from >= 0 && to >= 0;
            for (int d = from; ok; d = (d + 1) % 7) {
                days |= 1u << d;
                if (d == to) {
                    break;
                }
            }
        }
        if (comma == std::string::npos) {
            break;
        }
        start = comma + 1;
    }
    if (!ok || days == 0) {
        throw user_error(fmt::format("`{}` is not a set of days. Use e.g. `days:mon-fri`, "
                                     "`days:mon,wed,fri` or `days:daily`.",
                                     text));
    }
    return days;
}

std::string format_weekdays(weekdays days) {
    if ((days & every_day) == every_day) {
        return "daily";
    }
    if ((days & every_day) == monday_to_friday) {
        return "mon-fri";
    }
    std::string out;
    for (std::size_t i = 0; i < day_names.size(); ++i) {
        if ((days & (1u << i)) != 0) {
            out += (out.empty() ? "" : ",") + std::string(day_names[i]);
        }
    }
    return out;
}

unix_time at_local(std::string_view day, int minute, std::string_view tz) {
    const auto* z = zone(tz);
    auto local = date::local_days{parse_day(day)} + std::chrono::minutes{minute};
    auto info = z->get_info(local);
    date::sys_seconds sys;
    switch (info.result) {
    case date::local_info::unique:
        sys = date::sys_seconds{local.time_since_epoch()} - info.first.offset;
        break;
    case date::local_info::nonexistent:
        // The clocks jumped over this time: fire at the jump, the first valid minute after.
        sys = info.second.begin;
        break;
    case date::local_info::ambiguous:
        // The clocks fall back over this time: it happens twice; the first one counts.
        sys = date::sys_seconds{local.time_since_epoch()} - info.first.offset;
        break;
    }
    return sys.time_since_epoch().count();
}

std::vector<firing> firings(int minute, weekdays days, std::string_view tz, unix_time after,
                            unix_time until) {
    std::vector<firing> out;
    if (until <= after) {
        return out;
    }
    const auto* z = zone(tz);
    auto local_day = [&](unix_time t) {
        auto lt = z->to_local(date::sys_seconds{std::chrono::seconds{t}});
        return date::floor<date::days>(lt);
    };
    // A day either side: a local day's firing can fall outside its own UTC day.
    for (auto d = local_day(after) - date::days{1}; d <= local_day(until) + date::days{1};
         d += date::days{1}) {
        unsigned iso = date::weekday{d}.iso_encoding(); // 1 = Monday … 7 = Sunday
        if ((days & (1u << (iso - 1))) == 0) {
            continue;
        }
        auto period = date::format("%F", d);
        auto due = at_local(period, minute, tz);
        if (due > after && due <= until) {
            out.push_back({period, due});
        }
    }
    return out;
}

bool is_one_of(std::string_view day, weekdays days) {
    date::sys_days d;
    std::istringstream in{std::string(day)};
    in >> date::parse("%F", d);
    if (in.fail()) {
        return false;
    }
    unsigned iso = date::weekday{d}.iso_encoding(); // 1 = Monday … 7 = Sunday
    return (days & (1u << (iso - 1))) != 0;
}

int local_minute(unix_time t, std::string_view tz) {
    auto local = zone(tz)->to_local(date::sys_seconds{std::chrono::seconds{t}});
    auto since_midnight = local - date::floor<date::days>(local);
    return static_cast<int>(
        std::chrono::duration_cast<std::chrono::minutes>(since_midnight).count());
}

std::optional<firing> next_firing(int minute, weekdays days, std::string_view tz, unix_time after) {
    auto fs = firings(minute, days, tz, after, after + 8 * 86400);
    if (fs.empty()) {
        return std::nullopt;
    }
    return fs.front();
}

} // namespace tpmbot::schedule

namespace tpmbot {

due_result due_firings(const daily_job& job, unix_time last_check, unix_time now) {
    due_result out;
    for (auto& f : schedule::firings(job.minute, job.days, job.tz, last_check, now)) {
        if (now - f.due <= job.grace) {
            out.run.push_back(std::move(f));
        } else {
            out.skipped.push_back(std::move(f));
        }
    }
    return out;
}

int run_due(store& db, const daily_job& job, unix_time from, unix_time to, std::string_view what,
            const job_log_fn& log, const std::function<void(const schedule::firing&)>& body) {
    auto due = due_firings(job, from, to);
    for (const auto& f : due.skipped) {
        log(fmt::format("skipped {} {} {}: due {}, now {}, past the {} s grace", what, job.name,
                        f.period, f.due, to, job.grace));
    }
    int ran = 0;
    for (const auto& f : due.run) {
        db.transact([&] {
            if (db.claim(job.name, f.period, to)) {
                body(f);
                ++ran;
            }
        });
    }
    return ran;
}

} // namespace tpmbot
