#pragma once
/// Value types shared by every layer: what comes in (command), what is tracked (item),
/// and what should happen (effect). No I/O, no Boost, no SQLite.

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tpmbot {

/// Seconds since the Unix epoch, UTC. Every stored time uses it.
using unix_time = std::int64_t;

/// An error the user must fix; its message is shown to them, ephemerally.
class user_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Every form's first field: an error that is about no one field is shown there.
inline constexpr std::string_view form_general_field = "title";

/// A submitted form that cannot be taken as it is: a message for each field to fix, shown
/// beside those fields in the form (Slack's `response_action: errors`), which stays open.
class form_error : public user_error {
public:
    explicit form_error(std::map<std::string, std::string> f)
        : user_error(f.empty() ? std::string("the form has errors") : f.begin()->second),
          fields(std::move(f)) {}
    std::map<std::string, std::string> fields; ///< field id -> what is wrong
};

/// How a command reached the bot; decides where some replies go.
enum class source { slash, mention, action, dm, home, form };

/// One request from a person, whatever the transport.
struct command {
    source from = source::slash;
    std::string team_id;
    std::string user_id;
    std::string channel_id;
    std::string command_name;    ///< "/tpm", "/blocker", ... (slash only)
    std::string text;            ///< what follows the command or the bot's mention
    std::string message_ts;      ///< ts of the mention message (mention only)
    std::string thread_ts;       ///< thread the mention was said in, empty at top level
    std::string permalink;       ///< link to the message that raised it, when known
    unix_time now = 0;           ///< the time of the request; handlers never read a clock
    std::string user_tz = "UTC"; ///< the caller's IANA zone, for light dates
    bool is_admin = false;       ///< decided by the caller of the handlers
    bool edited = false;         ///< dm: the person edited their message `message_ts`
    /// form: which form was submitted (its callback id), its fields by id, and what the form
    /// carried from where it was opened (`private_metadata`).
    std::string form_id;
    std::map<std::string, std::string> fields;
    std::string form_context;
};

/// The kinds of tracked item, each with its id prefix.
enum class item_kind { blocker, decision, risk, dep };

/// "B", "D", "R", "DEP".
std::string_view kind_prefix(item_kind k);
/// "blocker", "decision", "risk", "dep".
std::string_view kind_name(item_kind k);
/// A parsed item id such as B-12.
struct item_id {
    item_kind kind = item_kind::blocker;
    std::int64_t num = 0;
    std::string str() const;
};
/// Parses "B-12", "d-7", "DEP-4"; nullopt when the text is not an id.
std::optional<item_id> parse_item_id(std::string_view text);

/// A blocker, decision, risk or dependency. Fields that do not apply to a kind stay empty.
struct item {
    std::string team_id;
    item_kind kind = item_kind::blocker;
    std::int64_t num = 0;
    std::string channel_id; ///< home channel
    std::string reporter;   ///< user id of who raised it
    std::string dri;        ///< user id of the owner, empty when unowned
    std::string status;     ///< kind-specific, see SPEC §2
    std::string title;      ///< what is blocked / the question / the risk / what is needed
    std::string severity;   ///< blocker: high|med|low
    std::string waiting_on; ///< blocker: a reference or text
    std::string area;       ///< area of ownership named at creation
    std::string due;        ///< decide-by / needed-by, YYYY-MM-DD, empty if none
    std::vector<std::string> consulted; ///< decision: user references
    std::vector<std::string> options;   ///< decision: the options put to the DRI
    std::string outcome;                ///< decision outcome
    std::string rationale;              ///< decision rationale
    std::string note;                   ///< resolution note, rejection reason, closing note
    std::string probability;            ///< risk: h|m|l
    std::string impact;                 ///< risk: h|m|l
    std::string mitigation;             ///< risk
    std::string from_who;               ///< dep: a reference (person, group) or text
    std::string for_item;               ///< dep: the id it unblocks
    std::string supersedes;             ///< decision id this one replaces
    std::string superseded_by;          ///< decision id that replaced this one
    std::string thread_channel;         ///< where follow-ups go
    std::string thread_ts;              ///< empty until the card is posted
    std::string permalink;              ///< the message it was raised in
    unix_time created_at = 0;
    unix_time updated_at = 0;    ///< last change of any kind (ack and update reset aging)
    unix_time closed_at = 0;     ///< resolved / decided / rejected / closed, 0 while open
    unix_time escalated_at = 0;  ///< last manual escalation request
    unix_time snoozed_until = 0; ///< no escalation before this (0: not snoozed)

    item_id id() const { return {kind, num}; }
    std::string id_str() const { return id().str(); }
};

/// One line of an item's append-only history.
struct history_entry {
    std::string team_id;
    item_kind kind = item_kind::blocker;
    std::int64_t num = 0;
    unix_time at = 0;
    std::string actor;  ///< user id
    std::string action; ///< "created", "acked", "resolved", ...
    std::string detail; ///< human-readable detail
};

/// An area of ownership ("payments api") and its owner.
struct area {
    std::string team_id;
    std::string name;
    std::string owner;
    unix_time updated_at = 0;
};

/// A button on a posted message; pressing it runs `value` as a command of the presser. With
/// `pick_user` it is a person picker instead (`text` its placeholder): choosing someone runs
/// `value` followed by their mention ("owner B-12" -> "owner B-12 <@U1>").
struct button {
    std::string text;
    std::string action_id;
    std::string value;
    bool pick_user = false;
};

/// One Block Kit block of a structured post (the weekly status); `effect::text` stays the
/// plain fallback for notifications and screen readers.
struct block {
    enum class kind { header, section, context, divider } type = kind::section;
    std::string text; ///< header: plain text; section and context: mrkdwn; divider: empty
};

/// Where a reply goes (SPEC §3).
enum class destination {
    ephemeral, ///< only `user` sees it, in `channel` (and `thread_ts` when set)
    channel,   ///< a post in `channel` (in `thread_ts` when set)
    thread,    ///< a reply in the thread of item `item`
    dm,        ///< a direct message to `user`
    update,    ///< replaces the earlier post named `name` (chat.update), in place
    home,      ///< `user`'s App Home, replaced whole (views.publish)
};

/// What should happen; the transports turn effects into Slack calls or console lines.
struct effect {
    destination to = destination::ephemeral;
    std::string channel;   ///< channel id (ephemeral, channel)
    std::string user;      ///< the one who sees an ephemeral, or the DM recipient
    std::string thread_ts; ///< an explicit thread (a mention's thread)
    std::string item;      ///< thread: whose thread; channel: the card of this item
    bool is_card = false;  ///< channel: this post is `item`'s card; its ts becomes the thread
    /// A post that may be replaced later (`destination::update`) names itself ("card:B-12");
    /// its channel and ts are recorded under that name when it is delivered. For an update:
    /// the post it replaces, in `channel`, the conversation the post was made in.
    std::string name;
    std::string text; ///< Slack mrkdwn, user text already escaped
    std::vector<button> buttons;
    /// When not empty, the post's Block Kit layout (with `buttons` as a last actions block);
    /// `text` is then its fallback. Empty: the blocks are made from `text`.
    std::vector<block> blocks;
};

} // namespace tpmbot
