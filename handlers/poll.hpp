#pragma once
/// Decision polls (SPEC §6): a decision's options put to a vote in its thread, one vote per
/// person and changeable, the tally on the poll and on the decision's card, closed at the end
/// of the decide-by day (the DRI is told the result) or when the decision closes.

#include "common.hpp"
#include "standup.hpp"

#include <optional>
#include <span>
#include <string>

namespace tpmbot {

/// `/tpm decision D-7 poll`: posts the poll in the decision's thread (the DRI, the reporter
/// or an admin; a pending decision with at least two options). A closed poll opens again
/// with its votes.
void open_poll(context& ctx, item& it);
/// `/tpm decision D-7 vote <n|option>`: the caller's vote, replacing an earlier one.
void cast_vote(context& ctx, item& it, std::span<const args::token> rest);
/// After `extend`: an open poll closes at the end of the new decide-by day.
void poll_extended(context& ctx, const item& it);
/// When a decision closes (decided, rejected, superseded), its open poll closes with it.
void settle_poll(context& ctx, const item& it);

/// One line for the decision's card: "Poll: 1. flag 2 · 2. wait 1 (open until …)"; empty
/// when the decision has no poll.
std::string poll_summary(store& db, const item& it);

/// Closes polls whose closing time is in (from, to], each once: the poll shows its result and
/// the decision's DRI (else its reporter) is told by DM.
int run_poll_jobs(store& db, unix_time from, unix_time to, const emit_fn& emit,
                  const job_log_fn& log);
/// The earliest closing time of an open poll after `after`; 0 when none.
unix_time next_poll_due(store& db, unix_time after);

} // namespace tpmbot
