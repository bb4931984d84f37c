#pragma once
/// The weekly status (SPEC §5): what is blocked and for how long, who owns what, what was
/// decided and what still needs deciding, per channel, every number with its change since the
/// week before, and a RAG the TPM sets with evidence, checked against the data. Built from the
/// store alone; the `status` noun previews, posts, schedules it and sets the RAG.

#include "common.hpp"
#include "standup.hpp"

#include <string>
#include <vector>

namespace tpmbot {

/// Slack's limits for one message (reference §6.2): blocks, characters of a section's text,
/// of a header, and of the whole fallback text.
inline constexpr std::size_t max_status_blocks = 50;
inline constexpr std::size_t max_section_chars = 3000;
inline constexpr std::size_t max_header_chars = 150;
inline constexpr std::size_t max_message_chars = 40000;
/// Items listed per section before "and N more".
inline constexpr std::size_t status_list_lines = 8;

/// A channel's RAG as the TPM set it.
struct rag_state {
    std::string color; ///< "green", "amber", "red"; empty when never set
    std::string evidence;
    std::string set_by;
    unix_time set_at = 0;
};

/// The rendered weekly status of one channel.
struct weekly_status {
    std::vector<block> blocks;
    std::string text;                  ///< the plain fallback
    std::vector<std::string> warnings; ///< where the data contradicts the RAG
};

/// Builds the weekly status of `channel` at `now`; `tz` is the zone its dates are shown in.
/// "This week" is the seven days up to `now`; "last week" the seven before.
weekly_status build_status(store& db, const std::string& team_id, const std::string& channel_id,
                           unix_time now, const std::string& tz);

/// The RAG of a channel (empty color when never set).
rag_state load_rag(store& db, const std::string& team_id, const std::string& channel_id);

/// Posts every scheduled weekly status due in (from, to], each once (claimed with its post).
int run_status_jobs(store& db, unix_time from, unix_time to, unix_time grace, const emit_fn& emit,
                    const job_log_fn& log);

/// The earliest scheduled weekly status after `after`; 0 when none is scheduled.
unix_time next_status_due(store& db, unix_time after);

} // namespace tpmbot
