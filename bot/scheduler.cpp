#include "scheduler.hpp"

#include <chrono>

namespace tpmbot {

unix_time system_clock_source::now() const {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

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

bool run_once(sqlite_store& db, const std::string& job, const std::string& period, unix_time now,
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

} // namespace tpmbot
