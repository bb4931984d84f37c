#pragma once
/// The escalation ladder (SPEC §5): aging blockers and overdue decisions go up three steps
/// (a DM to the DRI; a post in the item's thread and a line in the channel; a DM to the
/// escalation contact), each once per item until an ack or an update resets the clock; quiet
/// hours defer; a per-channel noise budget batches a burst. Also a reminder to a decision's DRI
/// the day before it is due, and the daily unowned queue for the admins.

#include "common.hpp"
#include "standup.hpp"

#include <array>
#include <string>
#include <vector>

namespace tpmbot {

/// A workspace's escalation settings (`/tpm config escalation`, `/tpm config quiet-hours`).
struct escalation_policy {
    /// Days without an update before steps 1, 2 and 3, for high, med and low severity.
    /// Overdue decisions use the med row, counted from the day after their decide-by date.
    std::array<std::array<int, 3>, 3> days = {{{1, 2, 3}, {2, 4, 6}, {5, 10, 15}}};
    std::string contact; ///< user id for step 3; empty: the admins
    int quiet_from = -1; ///< minutes after midnight; -1: no quiet hours
    int quiet_to = -1;
    std::string quiet_tz = "UTC"; ///< the zone channel posts keep quiet hours in
    /// Channel lines one channel gets at once before they are batched into one message.
    int noise_budget = 3;
};

escalation_policy load_policy(store& db, const std::string& team_id);
void save_policy(store& db, const std::string& team_id, const escalation_policy& p, unix_time now);
/// "high 1/2/3d · med 2/4/6d · low 5/10/15d; contact: …; quiet hours …".
std::string describe_policy(const escalation_policy& p);

/// Runs the ladder, the decision reminders and the unowned queue for (from, to] at `to`.
/// Each step, reminder and queue is claimed with its messages, so it happens once.
int run_escalation_jobs(store& db, unix_time from, unix_time to, const emit_fn& emit,
                        const job_log_fn& log);

/// The earliest time after `after` when `run_escalation_jobs` may have something new to do
/// (a step coming due, a reminder day, an unowned queue, the end of quiet hours); 0: never.
unix_time next_escalation_due(store& db, unix_time after);

/// Parses "high:1/2/3" style thresholds and "19:00-08:00" quiet hours (user_error otherwise).
std::array<int, 3> parse_steps(std::string_view text, std::string_view key);
std::pair<int, int> parse_quiet_hours(std::string_view text);

} // namespace tpmbot
