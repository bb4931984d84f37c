#pragma once
/// Runs every command the same way, whatever the transport: one transaction holding the
/// handler's writes and its effects in the outbox, committed before anything is answered.

#include "router.hpp"
#include "sqlite_store.hpp"

#include <functional>
#include <string>
#include <vector>

namespace tpmbot {

/// The outcome of one command.
struct handled {
    bool ok = true;              ///< false when the command was refused or failed
    std::vector<effect> effects; ///< what was committed to the outbox
};

/// Command in, committed effects out.
class dispatcher {
public:
    /// Where log lines go (one line each, no trailing newline).
    using log_fn = std::function<void(const std::string&)>;

    /// `env_admins` are the user ids of TPMBOT_ADMINS.
    dispatcher(sqlite_store& db, const router& routes, std::vector<std::string> env_admins,
               log_fn log);

    /// Runs `cmd` in one transaction: handler, effects into the outbox, commit. A user error
    /// rolls everything back and commits only its ephemeral answer; an unexpected error does
    /// the same with a generic answer and a log line. Nothing half-written is ever committed.
    handled handle(command cmd);

    /// Whether `user_id` is an admin of `team_id` (TPMBOT_ADMINS or `/tpm config admins`).
    bool is_admin(const std::string& team_id, const std::string& user_id);

private:
    handled refuse(const command& cmd, std::string text);

    sqlite_store& db_;
    const router& routes_;
    std::vector<std::string> env_admins_;
    log_fn log_;
};

} // namespace tpmbot
