#pragma once
/// `tpmbot check-config`: what an operator wants to know before starting the bot, without
/// starting it: the tokens' shapes, the database, the time zone data.

#include "config.hpp"

#include <string>
#include <vector>

namespace tpmbot {

struct check_report {
    bool ok = true;
    std::vector<std::string> lines; ///< "ok: ..." or "problem: ...", one per check
};

/// Checks `cfg` (already parsed, so the tokens' shapes are valid when set): the database can
/// be opened and written and its schema is one this tpmbot knows, or it can be created; the
/// zone data knows UTC, a few common zones and TPMBOT_TZ; a CA file, when given, is readable.
/// Never prints a token. Changes nothing: a database that does not exist yet is not created.
check_report check_config(const config& cfg);

} // namespace tpmbot
