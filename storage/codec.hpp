#pragma once
/// How the stores turn model values into column values and back, shared by every engine so a
/// row means the same in each: lists, JSON lists, Block Kit blocks, buttons and enums as text;
/// the column lists of the tables; readers of whole rows over any engine's row type; the
/// thread a delivered card starts; and the SQL of item queries.

#include "durable_store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tpmbot::codec {

/// Lists (consulted, options): elements joined by the ASCII unit separator, NULL for an empty
/// list, so that {} and {""} both round-trip.
std::optional<std::string> encode_list(const std::vector<std::string>& v);
/// Reads what `encode_list` writes; `null` is the empty list.
std::vector<std::string> decode_list(bool null, std::string_view s);

/// Standup lists (members, answers): a JSON array of strings. Any byte string round-trips.
std::string encode_json_list(const std::vector<std::string>& v);
/// Reads what `encode_json_list` writes (and any JSON array of strings); "" is the empty list.
/// Throws std::runtime_error naming `what` (the column) on anything else.
std::vector<std::string> decode_json_list(std::string_view s, std::string_view what);

/// '' when there are no blocks, else a JSON array of {"type", "text"} objects.
std::string encode_blocks(const std::vector<block>& blocks);
/// Reads what `encode_blocks` writes; keys in any order, "text" may be absent (empty),
/// "type" may not. Throws std::runtime_error naming the column on anything else.
std::vector<block> decode_blocks(std::string_view s);

/// Button records joined by the record separator, fields by the unit separator.
std::string encode_buttons(const std::vector<button>& buttons);
std::vector<button> decode_buttons(std::string_view s);

std::string_view destination_text(destination d);
/// Throws std::runtime_error on an unknown destination.
destination parse_destination(std::string_view s);
/// "B", "D", "R", "DEP" back to the kind; throws std::runtime_error on anything else.
item_kind parse_kind(std::string_view s);

/// A standup run, as its digest card's outbox item key "standup:<channel>:<period>" names it.
struct run_key {
    std::string_view channel_id;
    std::string_view period;
};

/// The thread a delivered card starts (`mark_sent`): an item's card starts the item's thread,
/// a standup digest its run's (which takes late answers).
struct card_thread {
    std::string_view channel; ///< where the card went: the delivery's channel, else the row's
    std::variant<item_id, run_key> of;
};

/// The thread `row`, delivered to `channel` ("" for the row's own), starts; nullopt when it
/// is no card, or the card of nothing its key names. The views are into `row` and `channel`.
std::optional<card_thread> card_thread_of(const outbox_row& row, std::string_view channel);

// The columns each reader below expects, in its order.
inline constexpr const char* item_columns =
    "team_id, kind, num, channel_id, reporter, dri, status, title, severity, waiting_on, area, "
    "due, consulted, options, outcome, rationale, note, probability, impact, mitigation, "
    "from_who, for_item, supersedes, superseded_by, thread_channel, thread_ts, permalink, "
    "created_at, updated_at, closed_at, escalated_at, snoozed_until";
/// "user" is quoted: a reserved word in PostgreSQL, where it would read the session's user.
inline constexpr const char* outbox_columns =
    "id, team_id, destination, channel, \"user\", thread_ts, item, is_card, text, buttons, "
    "created_at, state, attempts, ts, error, blocks, unsure, last_attempt_at, name";
inline constexpr const char* history_columns = "team_id, kind, num, at, actor, action, detail";
inline constexpr const char* area_columns = "team_id, name, owner, updated_at";
inline constexpr const char* user_columns =
    "team_id, user_id, tz, updated_at, is_admin, deleted, name, is_bot";
inline constexpr const char* standup_columns =
    "team_id, channel_id, minute, report_minute, days, tz, members, whole_channel, paused, "
    "created_by, created_at, updated_at";
inline constexpr const char* person_columns =
    "team_id, user_id, tz, ooo_until, skip_day, updated_at";
inline constexpr const char* run_columns =
    "team_id, channel_id, period, report_due, reported_at, digest_channel, digest_ts";
inline constexpr const char* entry_columns =
    "team_id, channel_id, period, user_id, state, note, answers, prompted_at, reminder_due, "
    "reminded_at, answered_at, late";
inline constexpr const char* poll_columns =
    "team_id, num, opened_by, opened_at, closes_at, closed_at";
inline constexpr const char* vote_columns = "user_id, choice, voted_at";
inline constexpr const char* message_columns =
    "team_id, user_id, ts, channel_id, period, first_question, count";
inline constexpr const char* inbox_columns = "event_id, team_id, payload, received_at";

// Readers of one row. `Row` is an engine's view of the current row, with
//   std::string text(int) const       ("" for NULL)
//   std::int64_t integer(int) const   (0 for NULL)
//   bool flag(int) const              (a stored boolean)
//   bool null(int) const

template <class Row>
item read_item(const Row& r) {
    item it;
    it.team_id = r.text(0);
    it.kind = parse_kind(r.text(1));
    it.num = r.integer(2);
    it.channel_id = r.text(3);
    it.reporter = r.text(4);
    it.dri = r.text(5);
    it.status = r.text(6);
    it.title = r.text(7);
    it.severity = r.text(8);
    it.waiting_on = r.text(9);
    it.area = r.text(10);
    it.due = r.text(11);
    it.consulted = decode_list(r.null(12), r.text(12));
    it.options = decode_list(r.null(13), r.text(13));
    it.outcome = r.text(14);
    it.rationale = r.text(15);
    it.note = r.text(16);
    it.probability = r.text(17);
    it.impact = r.text(18);
    it.mitigation = r.text(19);
    it.from_who = r.text(20);
    it.for_item = r.text(21);
    it.supersedes = r.text(22);
    it.superseded_by = r.text(23);
    it.thread_channel = r.text(24);
    it.thread_ts = r.text(25);
    it.permalink = r.text(26);
    it.created_at = r.integer(27);
    it.updated_at = r.integer(28);
    it.closed_at = r.integer(29);
    it.escalated_at = r.integer(30);
    it.snoozed_until = r.integer(31);
    return it;
}

template <class Row>
outbox_row read_outbox(const Row& r) {
    outbox_row o;
    o.id = r.integer(0);
    o.team_id = r.text(1);
    o.e.to = parse_destination(r.text(2));
    o.e.channel = r.text(3);
    o.e.user = r.text(4);
    o.e.thread_ts = r.text(5);
    o.e.item = r.text(6);
    o.e.is_card = r.flag(7);
    o.e.text = r.text(8);
    o.e.buttons = decode_buttons(r.text(9));
    o.created_at = r.integer(10);
    o.state = r.text(11);
    o.attempts = static_cast<int>(r.integer(12));
    o.ts = r.text(13);
    o.error = r.text(14);
    o.e.blocks = decode_blocks(r.text(15));
    o.unsure = r.flag(16);
    o.last_attempt_at = r.integer(17);
    o.e.name = r.text(18);
    return o;
}

template <class Row>
history_entry read_history(const Row& r) {
    history_entry h;
    h.team_id = r.text(0);
    h.kind = parse_kind(r.text(1));
    h.num = r.integer(2);
    h.at = r.integer(3);
    h.actor = r.text(4);
    h.action = r.text(5);
    h.detail = r.text(6);
    return h;
}

template <class Row>
area read_area(const Row& r) {
    return {r.text(0), r.text(1), r.text(2), r.integer(3)};
}

template <class Row>
user_row read_user(const Row& r) {
    user_row u;
    u.team_id = r.text(0);
    u.user_id = r.text(1);
    u.tz = r.text(2);
    u.updated_at = r.integer(3);
    u.is_admin = r.flag(4);
    u.deleted = r.flag(5);
    u.name = r.text(6);
    u.is_bot = r.flag(7);
    return u;
}

template <class Row>
standup read_standup(const Row& r) {
    standup s;
    s.team_id = r.text(0);
    s.channel_id = r.text(1);
    s.minute = static_cast<int>(r.integer(2));
    s.report_minute = static_cast<int>(r.integer(3));
    s.days = static_cast<unsigned>(r.integer(4));
    s.tz = r.text(5);
    s.members = decode_json_list(r.text(6), "standups.members");
    s.whole_channel = r.flag(7);
    s.paused = r.flag(8);
    s.created_by = r.text(9);
    s.created_at = r.integer(10);
    s.updated_at = r.integer(11);
    return s;
}

template <class Row>
standup_person read_person(const Row& r) {
    return {r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.integer(5)};
}

template <class Row>
standup_run read_run(const Row& r) {
    return {r.text(0), r.text(1), r.text(2), r.integer(3), r.integer(4), r.text(5), r.text(6)};
}

template <class Row>
standup_entry read_entry(const Row& r) {
    standup_entry e;
    e.team_id = r.text(0);
    e.channel_id = r.text(1);
    e.period = r.text(2);
    e.user_id = r.text(3);
    e.state = r.text(4);
    e.note = r.text(5);
    e.answers = decode_json_list(r.text(6), "standup_entries.answers");
    e.prompted_at = r.integer(7);
    e.reminder_due = r.integer(8);
    e.reminded_at = r.integer(9);
    e.answered_at = r.integer(10);
    e.late = r.flag(11);
    return e;
}

template <class Row>
poll read_poll(const Row& r) {
    poll p;
    p.team_id = r.text(0);
    p.num = r.integer(1);
    p.opened_by = r.text(2);
    p.opened_at = r.integer(3);
    p.closes_at = r.integer(4);
    p.closed_at = r.integer(5);
    return p;
}

template <class Row>
poll_vote read_vote(const Row& r) {
    poll_vote v;
    v.user_id = r.text(0);
    v.choice = static_cast<int>(r.integer(1));
    v.voted_at = r.integer(2);
    return v;
}

template <class Row>
standup_message read_message(const Row& r) {
    return {r.text(0),
            r.text(1),
            r.text(2),
            r.text(3),
            r.text(4),
            static_cast<int>(r.integer(5)),
            static_cast<int>(r.integer(6))};
}

template <class Row>
inbox_row read_inbox(const Row& r) {
    return {r.text(0), r.text(1), r.text(2), r.integer(3)};
}

/// The first column as text (a list of ids, a setting's value).
template <class Row>
std::string read_text(const Row& r) {
    return r.text(0);
}

/// The SQL flavour a query is built for.
enum class dialect { sqlite, postgres };

/// A value bound to a placeholder of a built query.
using sql_value = std::variant<std::string, std::int64_t>;

/// SQL text with only fixed fragments and placeholders (`?` for SQLite, `$1`, `$2`, ... for
/// PostgreSQL), and the values for its placeholders in order.
struct built_sql {
    std::string sql;
    std::vector<sql_value> values;
};

/// The SQL of `list_items(q)` (`count` false) or `count_items(q)` (`count` true), in the
/// columns of `item_columns`. Only fixed fragments are pasted; every value is a placeholder.
built_sql item_sql(const item_query& q, bool count, dialect d);

} // namespace tpmbot::codec
