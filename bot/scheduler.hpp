#pragma once
/// The durable scheduler's core: a clock that tests can move, which firings of a daily job
/// are due now (catching up after downtime within a grace window), and running a firing
/// exactly once by claiming its (job, period) row in the same transaction as its effects.

#include "schedule.hpp"
#include "sqlite_store.hpp"

#include <functional>
#include <string>
#include <vector>

namespace tpmbot {

/// Where the time comes from; tests and the console move a manual one instead of sleeping.
class clock_source {
public:
    virtual ~clock_source() = default;
    /// Seconds since the Unix epoch, UTC.
    virtual unix_time now() const = 0;
};

/// The system's clock.
class system_clock_source final : public clock_source {
public:
    unix_time now() const override;
};

/// A clock that moves only when told to.
class manual_clock final : public clock_source {
public:
    explicit manual_clock(unix_time start) : now_(start) {}
    unix_time now() const override { return now_; }
    void set(unix_time t) { now_ = t; }
    void advance(unix_time seconds) { now_ += seconds; }

private:
    unix_time now_;
};

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
/// are skipped. Each period appears once, so running them twice is harmless only because
/// `run_once` claims it.
due_result due_firings(const daily_job& job, unix_time last_check, unix_time now);

/// Runs `effects` for (job, period) exactly once across restarts and replicas: the claim row
/// and whatever `effects` writes (e.g. outbox rows) commit together, or not at all. Returns
/// false, doing nothing, when the period was already claimed.
bool run_once(sqlite_store& db, const std::string& job, const std::string& period, unix_time now,
              const std::function<void()>& effects);

} // namespace tpmbot
