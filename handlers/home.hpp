#pragma once
/// App Home (SPEC §6): a person's own page in Slack, published with views.publish when they
/// open it and again when something of theirs changes.

#include "common.hpp"

#include <string>

namespace tpmbot {

/// The setting (per workspace) that records a person has opened their App Home, so changes
/// are published only to those who look at it.
std::string home_opened_key(std::string_view user_id);

/// The person's App Home as it stands: items assigned to them, decisions they owe, the
/// workspace's unowned and stale items, and their standup settings. Block Kit blocks in a
/// `destination::home` effect for `user`.
effect home_view(store& db, const std::string& team_id, const std::string& user_id, unix_time now,
                 const std::string& tz);

/// `app_home_opened` (source::home): records that the caller looks at their App Home and
/// publishes it.
void open_home(context& ctx);

/// Ends a command: publishes again the App Home of each person who has opened theirs and
/// whose items (as DRI or reporter) the command changed (`ctx.touched`, after
/// `refresh_cards`), or whom it named (`touch_home`).
void refresh_homes(context& ctx);

} // namespace tpmbot
