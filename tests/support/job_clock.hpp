#pragma once
/// Scheduled work on a clock the test moves: runs a job function over (from, to] windows and
/// keeps everything it emits and logs. Nothing sleeps; every loop is bounded.

#include "standup.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

namespace tpmbot::test {

/// One effect scheduled work emitted: when (the `to` of its run), for which team, what.
struct fired {
    unix_time at = 0;
    std::string team;
    effect e;
};

class job_clock {
public:
    /// Runs the jobs due in (from, to].
    using run_fn = std::function<int(unix_time from, unix_time to, const emit_fn& emit,
                                     const job_log_fn& log)>;
    /// The next due time after a time, 0 for none.
    using next_fn = std::function<unix_time(unix_time after)>;

    store& db;
    unix_time now;
    std::vector<fired> out;
    std::vector<std::string> logs;

    /// One run over (from, to]; does not move `now`.
    int run(unix_time from, unix_time to) {
        return run_(
            from, to,
            [&](const std::string& team, const effect& e) {
                out.push_back({to, team, e});
            },
            [&](const std::string& line) { logs.push_back(line); });
    }

    /// Jumps from due time to due time up to `until`, as the console's :advance and a bot
    /// that sleeps until the next due time do: t = next(now); run (now, t]; now = t.
    void jump_until(unix_time until) {
        for (int steps = 0; steps < 100000; ++steps) {
            auto t = next_(now);
            if (t == 0 || t > until) {
                break;
            }
            REQUIRE(t > now);
            run(now, t);
            now = t;
        }
        if (until > now) {
            run(now, until);
            now = until;
        }
    }

    /// Runs (now, now + stride] again and again up to `until`, as a ticking bot does.
    void stride_until(unix_time until, unix_time stride) {
        while (now < until) {
            auto t = std::min(now + stride, until);
            run(now, t);
            now = t;
        }
    }

    template <class Pred>
    std::vector<fired> where(Pred p) const {
        std::vector<fired> r;
        std::copy_if(out.begin(), out.end(), std::back_inserter(r), p);
        return r;
    }

protected:
    job_clock(store& s, unix_time start, run_fn run, next_fn next)
        : db(s), now(start), run_(std::move(run)), next_(std::move(next)) {}

private:
    run_fn run_;
    next_fn next_;
};

} // namespace tpmbot::test
