#pragma once
/// Message shortcuts and their forms (SPEC §6): "Log as blocker" and "Log as decision" on any
/// message open a form pre-filled from it; submitting the form records the item, its card in
/// the message's thread. A form is described here and drawn by the transport (a Slack modal,
/// or console lines).

#include "common.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tpmbot {

/// The message a shortcut was used on.
struct message_ref {
    std::string channel;
    std::string ts;
    std::string thread_ts; ///< the thread it is in, empty at top level
    std::string text;      ///< as Slack sends it (references and entities encoded)
    std::string author;    ///< user id, empty for a bot's message
    std::string permalink; ///< empty when unknown
};

/// One input of a form.
struct form_field {
    enum class kind { text, multiline, user, select, date } type = kind::text;
    std::string id;    ///< the block id its value and its errors are keyed by
    std::string label; ///< plain text
    std::string initial;
    bool optional = false;
    std::size_t max_length = 0;                               ///< text: characters, 0 = none
    std::vector<std::pair<std::string, std::string>> options; ///< select: (value, label)
    std::string hint; ///< plain text under the input, empty for none
};

/// A form to fill in: the shortcut's answer.
struct form {
    std::string id;    ///< the callback id its submission comes back with
    std::string title; ///< at most 24 characters (Slack's limit)
    std::string submit;
    std::vector<form_field> fields;
    std::string context; ///< carried to the submission: where the message is
};

/// The shortcuts' callback ids, as in the app manifest.
inline constexpr std::string_view log_blocker_form = "log_blocker";
inline constexpr std::string_view log_decision_form = "log_decision";

/// The form a message shortcut opens, pre-filled from the message; nullopt for a callback id
/// that is not one of ours.
std::optional<form> shortcut_form(std::string_view callback_id, const message_ref& m);

/// The form's fields with their initial values, as a submission left unchanged carries them.
std::map<std::string, std::string> initial_fields(const form& f);

/// A submitted form (source::form): records the item. Fields that cannot be taken throw
/// form_error naming them; nothing is written then.
void submit_form(context& ctx);

} // namespace tpmbot
