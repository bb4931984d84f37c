#pragma once
/// What every noun handler shares: the per-command context (store, caller, effects),
/// argument helpers, permission checks and limits.

#include "args.hpp"
#include "model.hpp"
#include "store.hpp"

#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tpmbot {

class router;

/// Documented limits on user text, in characters (SPEC §8: oversized text is refused).
inline constexpr std::size_t max_title_chars = 500;
inline constexpr std::size_t max_note_chars = 1000;
inline constexpr std::size_t max_options = 10;
inline constexpr std::size_t max_option_chars = 200;
/// Lists show at most this many lines, then "and N more".
inline constexpr std::size_t max_list_lines = 40;
/// The longest snooze, in days.
inline constexpr long max_snooze_days = 30;

/// One command of the help, kept beside its handler.
struct help_entry {
    std::string usage;     ///< man-page syntax: "/tpm blocker <id> resolve [note]"
    std::string summary;   ///< one short sentence
    std::string example;   ///< one concrete example
    bool everyday = false; ///< shown by plain `help`
    std::string verb;      ///< the verb it documents, for "did you mean" ("" for create)
};

/// A DM to `user` from the bot, with its buttons (scheduled work emits these directly; a
/// handler uses `context::dm`).
effect dm_effect(const std::string& user, std::string text, std::vector<button> buttons = {});

/// The state of one command being handled: the store, the caller and the effects so far.
class context {
public:
    context(store& s, const command& c) : db(s), cmd(c) {}

    store& db;
    const command& cmd;
    std::vector<effect> out;
    const router* routes = nullptr; ///< for "did you mean" in handlers
    /// Items this command changed (those it logged), in order, each once, as they were last
    /// logged: their cards are brought up to date when it ends (`refresh_cards`). For an item
    /// whose card this command posts, that copy is all its people's App Homes need.
    std::vector<item> touched;

    /// Only the caller sees it (in the mention's thread when it came from one).
    void reply(std::string text);
    /// The item's card: in the mention's thread for a mention (which becomes the item's
    /// thread), else a channel post whose ts becomes the item's thread.
    void card(const item& it, std::string text, std::vector<button> buttons);
    /// A reply in the item's thread.
    void thread(const item& it, std::string text);
    /// A top-level line in a channel.
    void channel_line(const std::string& channel, std::string text);
    /// A direct message.
    void dm(const std::string& user, std::string text);
    /// Appends to the item's history as the caller, and counts the item as changed.
    void log(const item& it, std::string action, std::string detail = {});
    /// Counts the item as changed (its card is brought up to date) without a history line.
    void touch(const item& it);
    /// People whose App Home this command changed besides the DRIs and reporters of the
    /// items it changed (a previous DRI, someone whose standup settings changed).
    std::vector<std::string> homes;
    void touch_home(const std::string& user_id);
};

/// The statuses of an open item, for `item_query::statuses`.
extern const std::vector<std::string> open_statuses;
/// Seconds without an update after which an open blocker is stale: its severity's first
/// escalation threshold (SPEC §5: high 1d, med 2d, low 5d).
unix_time stale_after(const item& it);

/// The name an item's card is posted under, so it can be replaced later: "card:B-12".
std::string card_name(const item& it);
/// The item's card as it stands at `now`: its text, status (a snooze while it lasts), poll
/// and the buttons that still apply (a flagged blocker's Undo too), replacing the posted card
/// in place (`destination::update`).
effect card_update(store& db, const item& it, unix_time now);
/// Ends a command: the card of every item it changed is replaced by the item as it now is,
/// unless the command posted that card itself; a decision it closed closes its poll. Leaves
/// `touched` holding those items as stored (as logged, for a card it posted), for
/// `refresh_homes`.
void refresh_cards(context& ctx);

/// The thread a mention was said in (a top-level mention starts one at its own ts); empty
/// for other sources.
std::string mention_thread(const command& cmd);
/// `s` without leading and trailing spaces, tabs and line breaks.
std::string trim(std::string_view s);
/// The non-blank lines of `text`, each trimmed.
std::vector<std::string> nonblank_lines(std::string_view text);
/// The Undo of a blocker flagged from a mention, on its card; `id` is its id, or "{id}" before
/// it has one.
button undo_button(std::string_view id);
/// The line a flagged blocker's card ends with, beside its Undo.
inline constexpr std::string_view undo_hint = "\n_Not a blocker? Press Undo._";
/// The value of a hex digit (either case), -1 for any other character.
int hex_digit(char c);
/// A string as a JSON string literal, quotes included: '"', '\\' and bytes below 0x20 escaped,
/// every other byte (UTF-8 or not) kept, so any byte string round-trips.
std::string json_quote(std::string_view s);
/// The channel named in `rest` (the first #channel, removed from it), else the caller's.
std::string take_channel(const command& cmd, std::vector<args::token>& rest);
/// Case-folded ASCII copy.
std::string lower(std::string_view s);
/// Number of Unicode code points in UTF-8 text.
std::size_t char_count(std::string_view utf8);
/// Throws user_error when `text` is longer than `limit` characters.
void check_length(std::string_view what, std::string_view text, std::size_t limit);
/// Edit distance, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);

/// A user reference token (<@U1>, or the word `me` for the caller) -> user id; empty if
/// the token is not one.
std::string user_of(const args::token& t, const command& cmd);
/// Parses a single user reference value (`<@U1>`, `<@U1|dana>`, `me`); throws user_error
/// mentioning `key` and `example` when it is not one.
std::string require_user(std::string_view value, const command& cmd, std::string_view key,
                         std::string_view example);
/// "<@U1>" for a user id, "nobody" when empty.
std::string who(std::string_view user_id);
/// How a report names a person: "@name" (plain text) when Slack told the bot their name, so a
/// post listing many people does not notify them all; else a mention "<@U1>".
std::string quiet_name(store& db, const std::string& team_id, const std::string& user_id);
/// The value of `key:` in the tokens, removing it; nullopt when absent.
std::optional<args::token> take_key(std::vector<args::token>& ts, std::string_view key);
/// Throws user_error for a key:value token whose key is close to (but not) a known key,
/// so a typo like `sevv:high` is not silently taken as text.
void check_keys(const std::vector<args::token>& ts, std::span<const std::string_view> known,
                std::string_view example);
/// Resolves a date value typed by the caller; throws user_error with `example` when it is
/// not a date.
std::string require_date(std::string_view text, const command& cmd, std::string_view example);

/// `require_date`, refusing a day before today in the caller's zone.
std::string require_future_date(std::string_view text, const command& cmd,
                                std::string_view example);
/// Removes `key:<date>` from the tokens and returns its text (`key:next week` included);
/// nullopt when absent.
std::optional<std::string> take_date(std::vector<args::token>& ts, std::string_view key);
/// The one person after an `owner` verb; throws user_error otherwise.
std::string owner_arg(const item& it, std::span<const args::token> args, const command& cmd);
/// Where a reply in an item's thread goes (`destination::thread`): the item's recorded
/// thread as (channel, ts), or the effect's own channel and thread when it has none yet
/// (an empty ts then means a top-level post). Transports call it at delivery time, when
/// the card's ts is known.
std::pair<std::string, std::string> thread_target(store& db, std::string_view team_id,
                                                  const effect& e);
/// Loads an item by id in the caller's workspace; throws user_error when there is none.
item load_item(context& ctx, item_id id);
/// Whether the caller may resolve or reassign: the DRI, the reporter or an admin.
bool may_modify(const item& it, const command& cmd);
/// Throws user_error unless `may_modify`; `what` is the action ("resolve B-12").
void require_modify(const item& it, const command& cmd, std::string_view what);

/// The buttons of an item's card in its state: Ack (an open blocker), Resolve (a blocker),
/// Take ownership and Snooze while it is open; none once it is closed.
std::vector<button> item_buttons(const item& it);
/// Snoozes an item's escalation (`snooze [<N>d|until:<date>|off]`, one day when nothing
/// follows): the DRI, the reporter or an admin.
void snooze_item(context& ctx, item& it, std::span<const args::token> rest);
/// A one-line summary of an item for lists: "*B-12* text — DRI @u · sev high · 3d".
std::string list_line(const item& it, unix_time now);
/// The human status word with its emoji.
std::string status_badge(const item& it);

// Shared item operations (items.cpp).

/// The card text of an item: id, title, DRI and the fields of its kind.
std::string card_text(const item& it);
/// Shows an item with its history, only to the caller.
void show_item(context& ctx, const item& it);
/// Records a progress note (`update <text>`): history, thread, and the aging clock reset.
void add_update(context& ctx, item& it, std::span<const args::token> rest);
/// Sets or changes the DRI (permission rules of SPEC §8), tells the thread and the new DRI.
void set_owner(context& ctx, item& it, const std::string& user);
/// Applies `area:<name>` to a new item: records the area and, with no DRI, the area's owner.
void apply_area(context& ctx, item& it, const std::optional<args::token>& area_token);
/// Allocates the number, stores the item with its history line, posts the card and DMs the
/// DRI when it is someone else. The item's channel is the caller's unless it has one (a form
/// names the message's); its thread, when it has one, takes the card. `it` gets its number; "{id}"
/// in an extra button's value becomes the new id.
void create_item(context& ctx, item& it, std::vector<button> extra_buttons = {},
                 std::string card_suffix = {});
/// The whole of a key:value's value as mrkdwn (a quoted value is escaped text).
std::string value_text(const args::token& t);
/// Moves an item to status `to` (from one of `from`) with an optional note from `rest`, for
/// the DRI, the reporter or an admin: history, a thread reply and, when `closing`, the
/// closed time and a line in the home channel (SPEC §3: closure should be seen).
void change_status(context& ctx, item& it, std::string_view to,
                   std::initializer_list<std::string_view> from, std::string_view emoji,
                   std::span<const args::token> rest, bool closing);
/// Reopens a closed item (DRI, reporter or admin) into `to`.
void reopen_item(context& ctx, item& it, std::string_view to);
/// A verb of an item noun: its names and what it does with the words after it.
struct item_verb {
    std::vector<std::string_view> names;
    std::function<void(context&, item&, std::vector<args::token>&)> fn;
};

/// A noun over one kind of item: how it creates, lists, and what its verbs do.
struct item_noun {
    item_kind kind = item_kind::blocker;
    std::string missing; ///< the answer when nothing follows the noun
    std::function<void(context&, std::vector<args::token>&)> create;
    std::function<void(context&, std::span<const args::token>)> list;
    std::vector<item_verb> verbs; ///< besides `update` and `owner`, which every item has
};

/// Routes `<noun> list ...`, `<noun> <id>` (show), `<noun> <id> <verb> ...` and
/// `<noun> <text>` (create), with "did you mean" for an unknown verb or a typo of `list`.
void route_item_noun(context& ctx, std::vector<args::token>& rest, const item_noun& noun);

/// Replies with a titled list, one `list_line` per item plus `suffix`, cut at
/// max_list_lines with a pointer to `/tpm export <export_what> csv`.
void reply_list(context& ctx, const std::string& title, const std::vector<item>& items,
                std::string_view export_what,
                const std::function<std::string(const item&)>& suffix = {});

/// Throws user_error for a verb the item's status does not allow.
void require_status(const item& it, std::initializer_list<std::string_view> allowed,
                    std::string_view verb);

} // namespace tpmbot
