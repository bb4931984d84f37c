#include "scheduler.hpp"

#include "escalation.hpp"
#include "poll.hpp"
#include "status.hpp"

#include <algorithm>
#include <chrono>
#include <string>

namespace tpmbot {

unix_time system_clock_source::now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool run_once(store& db, const std::string& job, const std::string& period, unix_time now,
              const std::function<void()>& effects) {
    bool claimed = false;
    db.transact([&] {
        claimed = db.claim(job, period, now);
        if (claimed) {
            effects();
        }
    });
    return claimed;
}

namespace {
constexpr std::string_view last_tick_key = "scheduler.last_tick";
}

int run_due_jobs(durable_store& db, unix_time now, const standup_timing& timing,
                 const job_log_fn& log) {
    auto stored = db.setting("", last_tick_key);
    unix_time from = now;
    if (stored) {
        try {
            from = std::min<unix_time>(std::stoll(*stored), now);
        } catch (const std::exception&) {
            log("scheduler: the stored last tick '" + *stored + "' is not a time; starting now");
        }
    }
    int ran = 0;
    if (from < now) {
        auto emit = [&](const std::string& team, const effect& e) {
            db.enqueue(team, e, now);
        };
        ran = run_standup_jobs(db, from, now, timing, emit, log);
        ran += run_status_jobs(db, from, now, timing.report_grace, emit, log);
        ran += run_escalation_jobs(db, from, now, emit, log);
        ran += run_poll_jobs(db, from, now, emit, log);
    }
    if (!stored || *stored != std::to_string(now)) {
        db.transact([&] { db.set_setting("", last_tick_key, std::to_string(now), now); });
    }
    return ran;
}

unix_time next_due(durable_store& db, unix_time after) {
    unix_time best = 0;
    for (auto t : {next_standup_due(db, after), next_status_due(db, after),
                   next_escalation_due(db, after), next_poll_due(db, after)}) {
        if (t != 0 && (best == 0 || t < best)) {
            best = t;
        }
    }
    return best;
}

} // namespace tpmbot
