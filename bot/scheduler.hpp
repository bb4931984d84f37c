#pragma once
/// The durable scheduler's core: a clock that tests can move, which firings of a daily job
/// are due now (catching up after downtime within a grace window), and running a firing
/// exactly once by claiming its (job, period) row in the same transaction as its effects.

#include "durable_store.hpp"
#include "schedule.hpp"
#include "standup.hpp"

#include <atomic>
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
/// A clock that moves only when told to (from any thread).
class manual_clock final : public clock_source {
public:
    explicit manual_clock(unix_time start) : now_(start) {}
    unix_time now() const override { return now_.load(); }
    void set(unix_time t) { now_.store(t); }
    void advance(unix_time seconds) { now_ += seconds; }

private:
    std::atomic<unix_time> now_;
};

/// Runs `effects` for (job, period) exactly once across restarts and replicas: the claim row
/// and whatever `effects` writes (e.g. outbox rows) commit together, or not at all. Returns
/// false, doing nothing, when the period was already claimed.
bool run_once(store& db, const std::string& job, const std::string& period, unix_time now,
              const std::function<void()>& effects);

/// Runs every scheduled job due since the last tick (kept in the database, so firings missed
/// while the bot was down are caught up within their grace) up to `now`, writing their posts
/// to the outbox in each firing's transaction, then records `now` as the last tick. The first
/// tick of a new database only records the time. Returns how many firings ran.
int run_due_jobs(durable_store& db, unix_time now, const standup_timing& timing,
                 const job_log_fn& log);

/// The earliest time after `after` at which `run_due_jobs` has something to do; 0 for never.
unix_time next_due(durable_store& db, unix_time after);

} // namespace tpmbot
