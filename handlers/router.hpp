#pragma once
/// The command table: nouns, their handlers and help, "did you mean", and the entry point
/// that turns a command into effects.

#include "common.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace tpmbot {

/// Handles one noun; `rest` is what follows the noun.
using noun_fn = std::function<void(context&, std::vector<args::token>& rest)>;

/// A noun of the command surface with its handler and help.
struct noun_def {
    std::string name;  ///< "blocker"
    std::string title; ///< one line for `help`: "Blockers: what stops work"
    noun_fn fn;
    std::vector<help_entry> help; ///< one entry per command form
};

/// The table of nouns. Built once at start, read-only afterwards.
class router {
public:
    /// Registers a noun; a duplicate name is a programming error (throws logic_error).
    void add(noun_def def);

    /// Runs the command against the store and returns its effects. Throws user_error for
    /// anything the caller must fix; the caller owns the transaction (and rolls back).
    std::vector<effect> run(store& db, const command& cmd) const;

    /// Help text: "" for the everyday commands, a noun for its commands, "all" for all.
    /// Throws user_error with "did you mean" for an unknown topic.
    std::string help(std::string_view topic) const;

    /// The two closest commands to a mistyped noun or verb, formatted for an error.
    std::string did_you_mean(std::string_view word, std::string_view noun = {}) const;

    /// The registered nouns in order.
    const std::vector<noun_def>& nouns() const { return nouns_; }

private:
    /// Runs the command's handler into `ctx`.
    void dispatch(context& ctx) const;
    const noun_def* find(std::string_view name) const;
    std::vector<noun_def> nouns_;
};

/// A router with every noun registered (blocker, owner, decision, risk, dep, export, config).
router make_router();

// Registration, one per noun file.
void register_blocker(router& r);
void register_owner(router& r);
void register_decision(router& r);
void register_risk(router& r);
void register_dep(router& r);
void register_export(router& r);
void register_config(router& r);
void register_standup(router& r);
void register_status(router& r);

/// Flags a blocker from a mention that does not start with a command word (with an undo).
void flag_blocker(context& ctx, std::vector<args::token>& text);
/// Creates a blocker from the tokens after `blocker` (shared by slash and mention).
void create_blocker(context& ctx, std::vector<args::token>& rest, bool flagged);

} // namespace tpmbot
