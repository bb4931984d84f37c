#pragma once
/// Runs every command the same way, whatever the transport: one transaction holding the
/// handler's writes and its effects in the outbox, committed before anything is answered.

#include "durable_store.hpp"
#include "log.hpp"
#include "router.hpp"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace tpmbot {

/// The outcome of one command.
struct handled {
    bool ok = true;              ///< false when the command was refused or failed
    std::vector<effect> effects; ///< what the handler produced (all but `reply` are in the outbox)
    std::string reply;           ///< with `reply_in_ack`: the caller's ephemeral answer
    bool skipped = false;        ///< `still_wanted` said no: nothing ran
    /// A form that was refused: what to show beside which field (the form stays open).
    std::map<std::string, std::string> form_errors;
};

/// How a transport wants a command handled.
struct handle_options {
    /// Slack shows a slash command's ack payload to the caller (reference §3.2): ephemeral
    /// answers to the caller go there instead of into the outbox.
    bool reply_in_ack = false;
    /// Runs inside the command's transaction (e.g. marking its inbox row processed), so the
    /// command's effects and that mark commit together or not at all.
    std::function<void()> in_transaction;
    /// Checked first inside the command's transaction; when it says no, nothing runs and
    /// nothing is written (`handled::skipped`). Replicas check there that an event is still
    /// unprocessed: their transactions take turns, so only one of them runs it.
    std::function<bool()> still_wanted;
};

/// Command in, committed effects out.
class dispatcher {
public:
    /// Where log lines go (one line each, no trailing newline).
    using log_fn = logger;

    /// `env_admins` are the user ids of TPMBOT_ADMINS.
    dispatcher(durable_store& db, const router& routes, std::vector<std::string> env_admins,
               log_fn log);

    /// Runs `cmd` in one transaction: handler, effects into the outbox, commit. A user error
    /// rolls everything back and commits only its ephemeral answer; an unexpected error does
    /// the same with a generic answer and a log line. Nothing half-written is ever committed.
    handled handle(command cmd, const handle_options& opts = {});

    /// Whether `user_id` is an admin of `team_id` (TPMBOT_ADMINS or `/tpm config admins`).
    bool is_admin(const std::string& team_id, const std::string& user_id);

private:
    handled refuse(const command& cmd, std::string text, const handle_options& opts);

    durable_store& db_;
    const router& routes_;
    std::vector<std::string> env_admins_;
    log_fn log_;
};

} // namespace tpmbot
