#pragma once
/// Standups (SPEC §4): the `standup` noun, the DM conversation that collects answers, and
/// the scheduled work (prompts in each member's zone, one reminder, the digest) that the
/// transports run from their clock. Pure: everything goes through `store` and effects.

#include "common.hpp"
#include "schedule.hpp"

#include <functional>
#include <string>
#include <vector>

namespace tpmbot {

/// The questions every standup asks, in order.
const std::vector<std::string>& standup_questions();
/// The index of "Anything blocking you?".
inline constexpr std::size_t blocker_question = 2;

/// How late a missed firing may still run after downtime; older ones are skipped and logged.
struct standup_timing {
    unix_time prompt_grace = 2 * 3600;  ///< a prompt hours late helps nobody
    unix_time report_grace = 24 * 3600; ///< a late digest still tells the truth
};

/// Where scheduled work sends an effect: the team it belongs to and the effect. Called
/// inside the firing's transaction, so the effect commits with the firing's claim.
using emit_fn = std::function<void(const std::string& team_id, const effect& e)>;

/// Runs every standup firing due in (from, to] at time `to`: prompts (or marking members
/// away or gone), reminders and digests. Each firing runs in its own transaction, claimed by
/// its (job, period) row, so running the same window twice, or after a restart, does
/// nothing more. Returns how many firings ran.
int run_standup_jobs(store& db, unix_time from, unix_time to, const standup_timing& timing,
                     const emit_fn& emit, const job_log_fn& log);

/// The earliest time after `after` at which `run_standup_jobs` has something to do (a prompt,
/// a reminder or a report); 0 when nothing is scheduled.
unix_time next_standup_due(store& db, unix_time after);

/// The standup's members as known now: its list, or the channel's members as last read from
/// Slack (empty until read).
std::vector<std::string> standup_members(store& db, const standup& s);

/// A person's zone: their `standup tz`, else Slack's (users.info), else `fallback`; a zone
/// this machine's tz database does not know is passed over.
std::string person_zone(store& db, const std::string& team_id, const std::string& user_id,
                        const std::string& fallback);

/// The zone a member is asked in: `person_zone` falling back to the standup's.
std::string member_zone(store& db, const standup& s, const std::string& user_id);

/// The zone dates typed by the caller are read in: their `standup tz`, else the command's.
std::string caller_zone(store& db, const command& cmd);

/// One line per standup the person is in: when they are asked (in their zone, and where the
/// zone comes from), the days, the report, and whether they are away or skipping; empty when
/// they are in none.
std::string standup_settings_of(store& db, const std::string& team_id, const std::string& user_id,
                                unix_time now);

/// The prompt a DM from the caller would answer.
struct waiting_prompt {
    standup_entry entry;
    /// Its report is out and no answer was begun: a DM starting with a command word is that
    /// command rather than a late answer.
    bool late = false;
};
/// The prompt waiting for the caller's answers; nullopt when none is (a DM is a command).
std::optional<waiting_prompt> standup_waiting(store& db, const command& cmd);

/// Records the caller's DM as answers to the prompt `standup_waiting` found.
void standup_dm(context& ctx, const waiting_prompt& w);

/// An edited DM: replaces the standup answers it carried while the report is not out yet.
void standup_edit(context& ctx);

/// The claim name of a standup's report firings: "standup-report:<team>:<channel>".
std::string report_job(std::string_view team_id, std::string_view channel_id);

/// The `item` key of a digest post, whose thread takes late answers:
/// "standup:<channel>:<period>".
std::string digest_key(std::string_view channel_id, std::string_view period);

} // namespace tpmbot
