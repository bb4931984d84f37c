#include "envelope.hpp"

#include "common.hpp"
#include "mrkdwn.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <fmt/format.h>
#include <limits>
#include <set>
#include <simdjson.h>
#include <utility>
#include <vector>

namespace tpmbot::slack {

namespace {

namespace od = simdjson::ondemand;
namespace json = boost::json;
using simdjson::error_code;

// ---------------------------------------------------------------------------------------------
// Reading (simdjson On-Demand). Every view below points into the parser's buffers, so values
// are copied into std::string before the parse function returns.

/// One parser per thread: parse functions may be called from the socket reader and from
/// workers at once, and an On-Demand parser holds one document at a time.
od::parser& thread_parser() {
    thread_local od::parser parser;
    return parser;
}

/// Calls `f(key, value)` for each field of `obj`, in document order. A value `f` leaves
/// unread is skipped. Stops at the first error, from the JSON or from `f`.
template <class F>
error_code for_each_field(od::object& obj, F&& f) {
    for (auto field_result : obj) {
        od::field field;
        if (auto err = std::move(field_result).get(field)) {
            return err;
        }
        std::string_view key;
        if (auto err = field.unescaped_key().get(key)) {
            return err;
        }
        od::value value = field.value();
        if (auto err = f(key, value)) {
            return err;
        }
    }
    return simdjson::SUCCESS;
}

/// The JSON type of `v`, or an error for bytes that start no JSON value.
error_code type_of(od::value& v, od::json_type& t) {
    return v.type().get(t);
}

/// Copies a string value into `out`; other types (null, a number, an object where some
/// events put a `user` object) leave `out` unchanged.
error_code read_string(od::value& v, std::string& out) {
    od::json_type t;
    if (auto err = type_of(v, t)) {
        return err;
    }
    if (t != od::json_type::string) {
        return simdjson::SUCCESS;
    }
    std::string_view s;
    if (auto err = v.get_string().get(s)) {
        return err;
    }
    out.assign(s);
    return simdjson::SUCCESS;
}

/// Reads a boolean; other types leave `out` unchanged.
error_code read_bool(od::value& v, bool& out) {
    od::json_type t;
    if (auto err = type_of(v, t)) {
        return err;
    }
    if (t != od::json_type::boolean) {
        return simdjson::SUCCESS;
    }
    return v.get_bool().get(out);
}

/// Reads an integer; a non-integral number is an error, other types leave `out` unchanged.
error_code read_int(od::value& v, std::int64_t& out) {
    od::json_type t;
    if (auto err = type_of(v, t)) {
        return err;
    }
    if (t != od::json_type::number) {
        return simdjson::SUCCESS;
    }
    return v.get_int64().get(out);
}

/// Calls `f(key, value)` on each field when `v` is an object; other types are skipped.
template <class F>
error_code read_object(od::value& v, F&& f) {
    od::json_type t;
    if (auto err = type_of(v, t)) {
        return err;
    }
    if (t != od::json_type::object) {
        return simdjson::SUCCESS;
    }
    od::object obj;
    if (auto err = v.get_object().get(obj)) {
        return err;
    }
    return for_each_field(obj, std::forward<F>(f));
}

/// Reads one string field of an object value, e.g. `channel.id`.
error_code read_member_string(od::value& v, std::string_view name, std::string& out) {
    return read_object(v, [&](std::string_view key, od::value& field) {
        return key == name ? read_string(field, out) : simdjson::SUCCESS;
    });
}

/// A JSON document of `text` whose root is an object, read field by field with `f`.
/// Also fails on trailing content after the object (On-Demand reads lazily, so the check is
/// explicit). Returns simdjson's error, or INCORRECT_TYPE when the root is not an object.
template <class F>
error_code read_root_object(std::string_view text, F&& f) {
    simdjson::padded_string padded(text);
    od::document doc;
    if (auto err = thread_parser().iterate(padded).get(doc)) {
        return err;
    }
    od::object root;
    if (auto err = doc.get_object().get(root)) {
        return err;
    }
    if (auto err = for_each_field(root, std::forward<F>(f))) {
        return err;
    }
    // current_location() answers OUT_OF_BOUNDS exactly when every token has been read.
    if (!doc.current_location().error()) {
        return simdjson::TRAILING_CONTENT;
    }
    return simdjson::SUCCESS;
}

/// Copies an object value as minified JSON text (kept so the payload can be parsed again
/// later, e.g. by a worker after the ack).
error_code read_object_json(od::value& v, std::string& out) {
    od::object obj;
    if (auto err = v.get_object().get(obj)) {
        return err;
    }
    std::string_view raw;
    if (auto err = obj.raw_json().get(raw)) {
        return err;
    }
    std::string minified(raw.size(), '\0');
    std::size_t length = 0;
    if (auto err = simdjson::minify(raw.data(), raw.size(), minified.data(), length)) {
        return err;
    }
    minified.resize(length);
    out = std::move(minified);
    return simdjson::SUCCESS;
}

/// `kind` for a known envelope `type`, `other` for the rest.
frame_kind kind_of_type(std::string_view type) {
    if (type == "hello") {
        return frame_kind::hello;
    }
    if (type == "disconnect") {
        return frame_kind::disconnect;
    }
    if (type == "events_api") {
        return frame_kind::events_api;
    }
    if (type == "slash_commands") {
        return frame_kind::slash_commands;
    }
    if (type == "interactive") {
        return frame_kind::interactive;
    }
    return frame_kind::other;
}

/// A frame that is malformed for `why`, keeping nothing else.
frame malformed(std::string why) {
    frame f;
    f.kind = frame_kind::malformed;
    f.error = std::move(why);
    return f;
}

/// The error text of a simdjson failure on a whole frame or body.
std::string json_error_text(error_code err) {
    if (err == simdjson::INCORRECT_TYPE) {
        return "not a JSON object";
    }
    return std::string("invalid JSON: ") + simdjson::error_message(err);
}

// ---------------------------------------------------------------------------------------------
// Text helpers.

/// ASCII whitespace, plus U+00A0 which Slack clients may put after a mention.
std::size_t whitespace_at(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        return 1;
    }
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xA0) {
        return 2;
    }
    return 0;
}

std::string_view trim_left(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const std::size_t n = whitespace_at(s, i);
        if (n == 0) {
            break;
        }
        i += n;
    }
    return s.substr(i);
}

std::string_view trim_right(std::string_view s) {
    while (!s.empty()) {
        if (whitespace_at(s, s.size() - 1) == 1) {
            s.remove_suffix(1);
        } else if (s.size() >= 2 && whitespace_at(s, s.size() - 2) == 2) {
            s.remove_suffix(2);
        } else {
            break;
        }
    }
    return s;
}

std::string_view trim(std::string_view s) {
    return trim_right(trim_left(s));
}

/// Removes the first `<@BOT>` / `<@BOT|label>` from `text` (§4.2, §7.2), then a ':' or ','
/// right after it ("<@U1>: blocker x"), and trims; the text around a mid-sentence mention
/// is joined with one space.
std::string strip_mention(std::string_view text, std::string_view bot_user_id) {
    if (bot_user_id.empty()) {
        return std::string(trim(text));
    }
    const std::string needle = "<@" + std::string(bot_user_id);
    std::size_t begin = text.find(needle);
    std::size_t end = std::string_view::npos;
    while (begin != std::string_view::npos) {
        const std::size_t after = begin + needle.size();
        if (after < text.size() && text[after] == '>') {
            end = after + 1;
            break;
        }
        if (after < text.size() && text[after] == '|') {
            // A label runs to '>' on the same line and holds no other reference.
            const std::size_t close = text.find_first_of("><\n", after);
            if (close != std::string_view::npos && text[close] == '>') {
                end = close + 1;
                break;
            }
        }
        // "<@U1X>" is another user whose id starts with ours: keep looking.
        begin = text.find(needle, after);
    }
    if (begin == std::string_view::npos) {
        return std::string(trim(text));
    }
    const std::string_view before = trim(text.substr(0, begin));
    std::string_view rest = trim_left(text.substr(end));
    if (!rest.empty() && (rest.front() == ':' || rest.front() == ',')) {
        rest = trim_left(rest.substr(1));
    }
    rest = trim_right(rest);
    std::string out(before);
    if (!out.empty() && !rest.empty()) {
        out += ' ';
    }
    out += rest;
    return out;
}

/// The byte length of the longest prefix of `s` that is at most `max_units` characters
/// and ends on a UTF-8 sequence boundary. A character is counted in UTF-16 code units (an
/// astral character such as most emoji counts 2): Slack's limits are in "characters" and
/// this count is never below either the code point or the UTF-16 count, so the result fits
/// whichever Slack means. A stray continuation byte counts as one character.
std::size_t prefix_bytes(std::string_view s, std::size_t max_units) {
    std::size_t units = 0;
    int pending = 0; // continuation bytes still expected in the current sequence
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if ((c & 0xC0) == 0x80 && pending > 0) {
            --pending;
            continue;
        }
        // `i` starts a character: the prefix may end here.
        std::size_t width = 1;
        pending = 0;
        if (c >= 0xF0) {
            width = 2;
            pending = 3;
        } else if (c >= 0xE0) {
            pending = 2;
        } else if (c >= 0xC0) {
            pending = 1;
        }
        if (units + width > max_units) {
            return i;
        }
        units += width;
    }
    return s.size();
}

/// At most `max_units` characters of `s` (see prefix_bytes), never cut inside a character.
std::string_view cut(std::string_view s, std::size_t max_units) {
    return s.substr(0, prefix_bytes(s, max_units));
}

/// Like `cut`, ending with "…" when something was cut.
std::string cut_with_ellipsis(std::string_view s, std::size_t max_units) {
    if (prefix_bytes(s, max_units) == s.size()) {
        return std::string(s);
    }
    return std::string(trim_right(cut(s, max_units - 1))) + "\u2026";
}

// Limits from §7.3 and §7.4.
constexpr std::size_t max_text_chars = 40'000;
constexpr std::size_t max_section_chars = 3'000;
constexpr std::size_t max_blocks = 50;
constexpr std::size_t max_home_blocks = 100;
constexpr std::size_t max_header_chars = 150;
constexpr std::size_t max_context_chars = 3'000;
constexpr std::size_t max_actions_elements = 25;
constexpr std::size_t max_button_text_chars = 75;
/// The action_id of a person picker: this, then the command the chosen person completes.
constexpr std::string_view pick_prefix = "pick:";
constexpr std::size_t max_action_id_chars = 255;

/// Splits mrkdwn into section texts of at most max_section_chars, at most `max_sections`
/// of them: each piece ends at the last newline that fits, else the last space, else at a
/// character boundary. The newline or space split on is dropped (the pieces are separate
/// blocks); blank pieces are skipped. What does not fit in `max_sections` is left out.
std::vector<std::string_view> split_sections(std::string_view text, std::size_t max_sections) {
    std::vector<std::string_view> out;
    while (!text.empty() && out.size() < max_sections) {
        std::string_view piece = text;
        std::string_view rest;
        const std::size_t fits = prefix_bytes(text, max_section_chars);
        if (fits < text.size()) {
            // rfind from `fits` also finds a newline or space just past the limit.
            std::size_t at = text.rfind('\n', fits);
            if (at == std::string_view::npos || at == 0) {
                at = text.rfind(' ', fits);
            }
            if (at != std::string_view::npos && at > 0) {
                piece = text.substr(0, at);
                rest = text.substr(at + 1);
            } else {
                piece = text.substr(0, fits);
                rest = text.substr(fits);
            }
        }
        if (!trim(piece).empty()) {
            out.push_back(piece);
        }
        text = rest;
    }
    return out;
}

/// A mrkdwn section block.
json::object section_block(std::string_view text, json::storage_ptr sp) {
    return json::object({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", text}}}},
                        std::move(sp));
}

/// One actions block of buttons. Slack rejects a message whose action_ids repeat, so a
/// repeated (or empty) id gets "-2", "-3", ... appended.
json::object actions_block(const std::vector<button>& buttons, const json::storage_ptr& sp) {
    json::array elements(sp);
    std::set<std::string, std::less<>> used;
    for (const button& b : buttons) {
        if (elements.size() == max_actions_elements) {
            break;
        }
        const std::string_view base =
            b.action_id.empty() ? std::string_view("button") : std::string_view(b.action_id);
        std::string id(cut(base, max_action_id_chars));
        for (int n = 2; used.count(id) != 0; ++n) {
            const std::string suffix = "-" + std::to_string(n);
            id = std::string(cut(base, max_action_id_chars - suffix.size())) + suffix;
        }
        used.insert(id);
        // Button text must be 1 to 75 characters (§7.4).
        std::string label = cut_with_ellipsis(trim(b.text), max_button_text_chars);
        if (label.empty()) {
            label = cut_with_ellipsis(b.value.empty() ? std::string_view("OK")
                                                      : std::string_view(b.value),
                                      max_button_text_chars);
        }
        if (b.pick_user) {
            // A picker has no value: its action_id carries the command the choice completes.
            const std::string carried = std::string(pick_prefix) + b.value;
            elements.push_back(json::object(
                {
                    {"type", "users_select"},
                    {"placeholder", {{"type", "plain_text"}, {"text", label}, {"emoji", true}}},
                    {"action_id", cut(carried, max_action_id_chars)},
                },
                sp));
            continue;
        }
        elements.push_back(json::object(
            {
                {"type", "button"},
                {"text", {{"type", "plain_text"}, {"text", label}, {"emoji", true}}},
                {"action_id", id},
                {"value", b.value},
            },
            sp));
    }
    return json::object({{"type", "actions"}, {"elements", std::move(elements)}}, sp);
}

/// The blocks of an effect: its text as sections, then its buttons, at most `limit` (a
/// message's 50; a Home tab's 100), allocated from `sp`.
json::array blocks_of(const effect& e, std::size_t limit = max_blocks,
                      const json::storage_ptr& sp = {}) {
    json::array blocks(sp);
    const bool has_buttons = !e.buttons.empty();
    const std::size_t max_sections = limit - (has_buttons ? 1 : 0);
    if (!e.blocks.empty()) {
        // A laid-out post (the weekly status), each block within Slack's limits (§7.4).
        for (const block& b : e.blocks) {
            if (blocks.size() == max_sections) {
                break;
            }
            switch (b.type) {
            case block::kind::header:
                blocks.push_back(
                    json::object({{"type", "header"},
                                  {"text",
                                   {{"type", "plain_text"},
                                    {"text", cut_with_ellipsis(b.text, max_header_chars)},
                                    {"emoji", true}}}},
                                 sp));
                break;
            case block::kind::section:
                blocks.push_back(section_block(cut(b.text, max_section_chars), sp));
                break;
            case block::kind::context:
                blocks.push_back(json::object(
                    {{"type", "context"},
                     {"elements",
                      json::array(
                          {json::object(
                              {{"type", "mrkdwn"}, {"text", cut(b.text, max_context_chars)}}, sp)},
                          sp)}},
                    sp));
                break;
            case block::kind::divider:
                blocks.push_back(json::object({{"type", "divider"}}, sp));
                break;
            }
        }
    } else {
        for (std::string_view piece : split_sections(e.text, max_sections)) {
            blocks.push_back(section_block(piece, sp));
        }
    }
    if (has_buttons) {
        blocks.push_back(actions_block(e.buttons, sp));
    }
    return blocks;
}

/// The fields chat.postMessage and chat.postEphemeral share, after channel (and user).
void add_message_fields(json::object& body, const effect& e, std::string_view thread_ts) {
    body["text"] = cut(e.text, max_text_chars);
    if (!thread_ts.empty()) {
        body["thread_ts"] = thread_ts;
    }
    json::array blocks = blocks_of(e, max_blocks, body.storage());
    // Slack rejects an empty blocks array; without blocks `text` is the message.
    if (!blocks.empty()) {
        body["blocks"] = std::move(blocks);
    }
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Socket Mode frames.

frame parse_frame(std::string_view text) {
    try {
        frame f;
        bool has_payload = false;
        bool has_type = false;
        const error_code err = read_root_object(text, [&](std::string_view key, od::value& v) {
            if (key == "type") {
                od::json_type t;
                if (auto e = type_of(v, t)) {
                    return e;
                }
                has_type = t == od::json_type::string;
                return read_string(v, f.type);
            }
            if (key == "envelope_id") {
                return read_string(v, f.envelope_id);
            }
            if (key == "reason") {
                return read_string(v, f.reason);
            }
            if (key == "accepts_response_payload") {
                return read_bool(v, f.accepts_response_payload);
            }
            if (key == "retry_attempt" || key == "num_connections") {
                std::int64_t n = 0;
                if (auto e = read_int(v, n)) {
                    return e;
                }
                (key == "retry_attempt" ? f.retry_attempt : f.num_connections) = static_cast<int>(
                    std::clamp<std::int64_t>(n, 0, std::numeric_limits<int>::max()));
                return simdjson::SUCCESS;
            }
            if (key == "retry_reason") {
                return read_string(v, f.retry_reason);
            }
            if (key == "payload") {
                od::json_type t;
                if (auto e = type_of(v, t)) {
                    return e;
                }
                if (t != od::json_type::object) {
                    return simdjson::SUCCESS;
                }
                has_payload = true;
                return read_object_json(v, f.payload);
            }
            return simdjson::SUCCESS;
        });
        if (err) {
            return malformed(json_error_text(err));
        }
        if (!has_type) {
            // Still keep the envelope_id: an envelope Slack sent is redelivered until acked.
            frame bad = malformed("no string `type`");
            bad.envelope_id = std::move(f.envelope_id);
            return bad;
        }
        f.kind = kind_of_type(f.type);
        const bool is_envelope = f.kind == frame_kind::events_api ||
                                 f.kind == frame_kind::slash_commands ||
                                 f.kind == frame_kind::interactive;
        // §2.4: every data envelope carries an envelope_id to echo and a payload object.
        if (is_envelope && f.envelope_id.empty()) {
            f.kind = frame_kind::malformed;
            f.error = f.type + " without an envelope_id";
        } else if (is_envelope && !has_payload) {
            f.kind = frame_kind::malformed;
            f.error = f.type + " without a payload object";
        }
        return f;
    } catch (const std::exception& ex) {
        return malformed(std::string("cannot parse frame: ") + ex.what());
    } catch (...) {
        return malformed("cannot parse frame");
    }
}

// ---------------------------------------------------------------------------------------------
// Payloads.

std::optional<event> parse_event(std::string_view payload) {
    try {
        event e;
        std::string outer_type;
        bool has_event = false;
        const error_code err = read_root_object(payload, [&](std::string_view key, od::value& v) {
            if (key == "type") {
                return read_string(v, outer_type);
            }
            if (key == "event_id") {
                return read_string(v, e.event_id);
            }
            if (key == "team_id") {
                return read_string(v, e.team_id);
            }
            if (key == "event_time") {
                return read_int(v, e.event_time);
            }
            if (key != "event") {
                return simdjson::SUCCESS;
            }
            od::json_type t;
            if (auto er = type_of(v, t)) {
                return er;
            }
            has_event = t == od::json_type::object;
            return read_object(v, [&](std::string_view k, od::value& f) {
                if (k == "type") {
                    return read_string(f, e.type);
                }
                if (k == "subtype") {
                    return read_string(f, e.subtype);
                }
                if (k == "user") {
                    return read_string(f, e.user);
                }
                if (k == "bot_id") {
                    return read_string(f, e.bot_id);
                }
                if (k == "channel") {
                    return read_string(f, e.channel);
                }
                if (k == "channel_type") {
                    return read_string(f, e.channel_type);
                }
                if (k == "text") {
                    return read_string(f, e.text);
                }
                if (k == "ts") {
                    return read_string(f, e.ts);
                }
                if (k == "thread_ts") {
                    return read_string(f, e.thread_ts);
                }
                if (k == "tab") {
                    return read_string(f, e.tab);
                }
                if (k == "message") {
                    od::json_type mt;
                    if (auto er = type_of(f, mt); er || mt != od::json_type::object) {
                        return er;
                    }
                    return read_object(f, [&](std::string_view mk, od::value& m) {
                        if (mk == "user") {
                            return read_string(m, e.changed_user);
                        }
                        if (mk == "bot_id") {
                            return read_string(m, e.changed_bot_id);
                        }
                        if (mk == "text") {
                            return read_string(m, e.changed_text);
                        }
                        if (mk == "ts") {
                            return read_string(m, e.changed_ts);
                        }
                        if (mk == "edited") {
                            e.changed_edited = true;
                        }
                        return simdjson::SUCCESS;
                    });
                }
                return simdjson::SUCCESS;
            });
        });
        if (err || outer_type != "event_callback" || e.event_id.empty() || !has_event) {
            return std::nullopt;
        }
        return e;
    } catch (...) {
        return std::nullopt;
    }
}

std::optional<command> command_of_event(const event& e, std::string_view bot_user_id) {
    // §4.5: an edit arrives as subtype message_changed with the new message nested. Only a
    // person's edit of their own DM matters (it may change standup answers).
    if (e.type == "message" && e.subtype == "message_changed" && e.channel_type == "im") {
        // Slack also sends message_changed when it unfurls a link: no `edited` then.
        if (e.changed_user.empty() || !e.changed_bot_id.empty() || e.changed_ts.empty() ||
            e.changed_user == bot_user_id || !e.changed_edited) {
            return std::nullopt;
        }
        command c;
        c.from = source::dm;
        c.edited = true;
        c.team_id = e.team_id;
        c.user_id = e.changed_user;
        c.channel_id = e.channel;
        c.message_ts = e.changed_ts;
        c.text = e.changed_text;
        return c;
    }
    // §4.5: bot posts (ours included: DM nudges) carry bot_id; edits, deletions, joins and
    // bot_message carry a subtype; our own user id covers the rest. Acked, never processed.
    if (!e.bot_id.empty() || !e.subtype.empty() || e.user.empty() || e.user == bot_user_id) {
        return std::nullopt;
    }
    command c;
    c.team_id = e.team_id;
    c.user_id = e.user;
    c.channel_id = e.channel;
    c.message_ts = e.ts;
    c.thread_ts = e.thread_ts;
    // The Home tab, not the Messages tab (an event without `tab` predates the field: Home).
    if (e.type == "app_home_opened") {
        if (e.tab != "home" && !e.tab.empty()) {
            return std::nullopt;
        }
        c.from = source::home;
        return c;
    }
    if (e.type == "app_mention") {
        c.from = source::mention;
        c.text = strip_mention(e.text, bot_user_id);
        return c;
    }
    // §4.3: message.im arrives as type "message" with channel_type "im"; DMs never produce
    // app_mention, and messages in channels are not addressed to the bot.
    if (e.type == "message" && e.channel_type == "im") {
        c.from = source::dm;
        c.text = e.text;
        return c;
    }
    return std::nullopt;
}

std::optional<command> command_of_slash(std::string_view payload) {
    try {
        command c;
        c.from = source::slash;
        // §3.1: is_enterprise_install may be a bool or a string; it is not read, so either
        // shape passes.
        const error_code err = read_root_object(payload, [&](std::string_view key, od::value& v) {
            if (key == "team_id") {
                return read_string(v, c.team_id);
            }
            if (key == "user_id") {
                return read_string(v, c.user_id);
            }
            if (key == "channel_id") {
                return read_string(v, c.channel_id);
            }
            if (key == "command") {
                return read_string(v, c.command_name);
            }
            if (key == "text") {
                return read_string(v, c.text);
            }
            return simdjson::SUCCESS;
        });
        if (err || c.team_id.empty() || c.user_id.empty() || c.command_name.empty()) {
            return std::nullopt;
        }
        return c;
    } catch (...) {
        return std::nullopt;
    }
}

std::optional<command> command_of_action(std::string_view payload) {
    try {
        std::string type;
        std::string team_id;
        std::string user_team_id;
        std::string user_id;
        std::string channel_id;
        std::string container_channel_id;
        std::string message_ts;
        std::optional<std::string> value;
        const error_code err = read_root_object(payload, [&](std::string_view key, od::value& v) {
            if (key == "type") {
                return read_string(v, type);
            }
            if (key == "team") {
                // null on org-wide installs; user.team_id then says where the click was.
                return read_member_string(v, "id", team_id);
            }
            if (key == "user") {
                return read_object(v, [&](std::string_view k, od::value& f) {
                    if (k == "id") {
                        return read_string(f, user_id);
                    }
                    if (k == "team_id") {
                        return read_string(f, user_team_id);
                    }
                    return simdjson::SUCCESS;
                });
            }
            if (key == "channel") {
                return read_member_string(v, "id", channel_id);
            }
            if (key == "container") {
                return read_object(v, [&](std::string_view k, od::value& f) {
                    if (k == "channel_id") {
                        return read_string(f, container_channel_id);
                    }
                    if (k == "message_ts") {
                        return read_string(f, message_ts);
                    }
                    return simdjson::SUCCESS;
                });
            }
            if (key != "actions") {
                return simdjson::SUCCESS;
            }
            od::json_type t;
            if (auto er = type_of(v, t)) {
                return er;
            }
            if (t != od::json_type::array) {
                return simdjson::SUCCESS;
            }
            od::array actions;
            if (auto er = v.get_array().get(actions)) {
                return er;
            }
            for (auto element : actions) {
                od::value action;
                if (auto er = std::move(element).get(action)) {
                    return er;
                }
                std::string action_value;
                std::string action_id;
                std::string selected_user;
                if (auto er = read_object(action, [&](std::string_view k, od::value& f) {
                        if (k == "value") {
                            return read_string(f, action_value);
                        }
                        if (k == "action_id") {
                            return read_string(f, action_id);
                        }
                        return k == "selected_user" ? read_string(f, selected_user)
                                                    : simdjson::SUCCESS;
                    })) {
                    return er;
                }
                // A person picked in one of our pickers completes the command it carries.
                if (!value && action_id.starts_with(pick_prefix) && !selected_user.empty()) {
                    value = fmt::format("{} <@{}>", action_id.substr(pick_prefix.size()),
                                        selected_user);
                }
                // The first button with a value is the one pressed (other selects have none).
                if (!value && !action_value.empty()) {
                    value = std::move(action_value);
                }
            }
            return simdjson::SUCCESS;
        });
        if (err || type != "block_actions" || !value || user_id.empty()) {
            return std::nullopt;
        }
        command c;
        c.from = source::action;
        c.team_id = team_id.empty() ? user_team_id : team_id;
        c.user_id = user_id;
        c.channel_id = channel_id.empty() ? container_channel_id : channel_id;
        c.message_ts = message_ts;
        c.command_name = "/tpm";
        c.text = std::move(*value);
        if (c.team_id.empty()) {
            return std::nullopt;
        }
        return c;
    } catch (...) {
        return std::nullopt;
    }
}

// ---------------------------------------------------------------------------------------------
// What we send.

std::string ack(std::string_view envelope_id) {
    // §2.5: the java form, without an empty payload.
    return json::serialize(json::object{{"envelope_id", envelope_id}});
}

std::string ack_with_text(std::string_view envelope_id, std::string_view text) {
    // §3.2: no response_type means ephemeral; §7.3: 40,000 characters also bound this text.
    return json::serialize(json::object{
        {"envelope_id", envelope_id},
        {"payload", json::object{{"text", cut(text, max_text_chars)}}},
    });
}

std::string form_escape(std::string_view v) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : v) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    return out;
}

std::optional<std::map<std::string, std::string>> parse_form(std::string_view body) {
    auto decode = [&](std::string_view s) -> std::optional<std::string> {
        std::string out;
        out.reserve(s.size());
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] == '+') {
                out += ' ';
            } else if (s[i] == '%') {
                if (i + 2 >= s.size()) {
                    return std::nullopt;
                }
                int hi = hex_digit(s[i + 1]);
                int lo = hex_digit(s[i + 2]);
                if (hi < 0 || lo < 0) {
                    return std::nullopt;
                }
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
            } else {
                out += s[i];
            }
        }
        return out;
    };
    std::map<std::string, std::string> fields;
    while (!body.empty()) {
        auto amp = body.find('&');
        auto pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        auto eq = pair.find('=');
        auto name = decode(pair.substr(0, eq));
        auto value =
            decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!name || !value) {
            return std::nullopt;
        }
        fields[*name] = std::move(*value);
    }
    return fields;
}

std::string form_as_json(const std::map<std::string, std::string>& fields) {
    json::object o;
    for (const auto& [k, v] : fields) {
        // Serialized JSON must be valid UTF-8: a form can carry any bytes.
        o[mrkdwn::valid_utf8(k)] = mrkdwn::valid_utf8(v);
    }
    return json::serialize(o);
}

std::string reply_body(std::string_view text) {
    return json::serialize(json::object{{"text", cut(text, max_text_chars)}});
}

std::optional<std::string> url_verification_challenge(std::string_view body) {
    json::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        return std::nullopt;
    }
    const auto& o = v.get_object();
    auto type = o.if_contains("type");
    auto challenge = o.if_contains("challenge");
    if (type == nullptr || !type->is_string() || type->get_string() != "url_verification" ||
        challenge == nullptr || !challenge->is_string()) {
        return std::nullopt;
    }
    return std::string(challenge->get_string());
}

std::string challenge_body(std::string_view challenge) {
    return json::serialize(json::object{{"challenge", challenge}});
}

std::string post_message_body(const effect& e, std::string_view channel, std::string_view thread_ts,
                              std::int64_t outbox_id, std::int64_t created_at) {
    // Every value of the body comes from one arena, freed at once: a card's body is some
    // forty small values, each otherwise a malloc and a free on the sender's hot path.
    unsigned char first_block[4096];
    json::monotonic_resource arena(first_block, sizeof first_block);
    json::object body(&arena);
    body["channel"] = channel;
    add_message_fields(body, e, thread_ts);
    // §6.2: links to text content do not unfurl by default, but say so: a card full of
    // links must not grow previews.
    body["unfurl_links"] = false;
    if (outbox_id > 0) {
        body["metadata"] = json::object(
            {
                {"event_type", outbox_event_type},
                {"event_payload", {{"outbox_id", outbox_id}, {"created_at", created_at}}},
            },
            body.storage());
    }
    return json::serialize(body);
}

std::string publish_home_body(const effect& e) {
    json::array blocks = blocks_of(e, max_home_blocks);
    return json::serialize(json::object{
        {"user_id", e.user},
        {"view", json::object{{"type", "home"}, {"blocks", std::move(blocks)}}},
    });
}

std::string update_body(const effect& e, std::string_view channel, std::string_view ts) {
    json::object body;
    body["channel"] = channel;
    body["ts"] = ts;
    add_message_fields(body, e, {});
    if (!body.contains("blocks")) {
        body["blocks"] = json::array{}; // §6.2: without it the old blocks (buttons) stay
    }
    return json::serialize(body);
}

std::string post_ephemeral_body(const effect& e) {
    json::object body;
    body["channel"] = e.channel;
    body["user"] = e.user;
    add_message_fields(body, e, e.thread_ts);
    return json::serialize(body);
}

namespace {

/// Calls `f(element)` on each element when `v` is an array; other types are skipped.
template <class F>
error_code read_array(od::value& v, F&& f) {
    od::json_type t;
    if (auto e = type_of(v, t); e || t != od::json_type::array) {
        return e;
    }
    od::array list;
    if (auto e = v.get_array().get(list)) {
        return e;
    }
    for (auto element : list) {
        od::value m;
        if (auto e = std::move(element).get(m)) {
            return e;
        }
        if (auto e = f(m)) {
            return e;
        }
    }
    return simdjson::SUCCESS;
}

/// conversations.history's `messages`: each one's ts and the outbox row its metadata names.
error_code read_messages(od::value& v, std::vector<api_reply::message>& out) {
    return read_array(v, [&](od::value& m) -> error_code {
        api_reply::message msg;
        std::string event_type;
        std::int64_t outbox_id = 0;
        if (auto e = read_object(m, [&](std::string_view key, od::value& f) {
                if (key == "ts") {
                    return read_string(f, msg.ts);
                }
                if (key != "metadata") {
                    return simdjson::SUCCESS;
                }
                return read_object(f, [&](std::string_view k, od::value& g) {
                    if (k == "event_type") {
                        return read_string(g, event_type);
                    }
                    if (k != "event_payload") {
                        return simdjson::SUCCESS;
                    }
                    return read_object(g, [&](std::string_view p, od::value& h) {
                        if (p == "outbox_id") {
                            return read_int(h, outbox_id);
                        }
                        if (p == "created_at") {
                            return read_int(h, msg.created_at);
                        }
                        return simdjson::SUCCESS;
                    });
                });
            })) {
            return e;
        }
        if (event_type == outbox_event_type) {
            msg.outbox_id = outbox_id;
        }
        out.push_back(std::move(msg));
        return simdjson::SUCCESS;
    });
}

} // namespace

api_reply parse_api_reply(std::string_view body) {
    try {
        api_reply r;
        std::string message_ts;
        const error_code err = read_root_object(body, [&](std::string_view key, od::value& v) {
            if (key == "ok") {
                return read_bool(v, r.ok);
            }
            if (key == "error") {
                return read_string(v, r.error);
            }
            if (key == "ts") {
                return read_string(v, r.ts);
            }
            if (key == "message_ts") {
                return read_string(v, message_ts);
            }
            if (key == "channel") {
                // chat.postMessage answers a string; conversations.open a channel object.
                od::json_type t;
                if (auto e = type_of(v, t)) {
                    return e;
                }
                return t == od::json_type::object ? read_member_string(v, "id", r.channel)
                                                  : read_string(v, r.channel);
            }
            if (key == "url") {
                return read_string(v, r.url);
            }
            if (key == "user_id") {
                return read_string(v, r.user_id);
            }
            if (key == "team_id") {
                return read_string(v, r.team_id);
            }
            if (key == "bot_id") {
                return read_string(v, r.bot_id);
            }
            if (key == "response_metadata") {
                od::json_type t;
                if (auto e = type_of(v, t); e || t != od::json_type::object) {
                    return e;
                }
                return read_member_string(v, "next_cursor", r.next_cursor);
            }
            if (key == "has_more") {
                return read_bool(v, r.has_more);
            }
            if (key == "messages") {
                return read_messages(v, r.messages);
            }
            if (key == "members") {
                return read_array(v, [&](od::value& m) {
                    std::string id;
                    if (auto e = read_string(m, id)) {
                        return e;
                    }
                    if (!id.empty()) {
                        r.members.push_back(std::move(id));
                    }
                    return error_code(simdjson::SUCCESS);
                });
            }
            if (key != "user") {
                return simdjson::SUCCESS;
            }
            // users.info; auth.test's `user` is the bot's name, a string, and is skipped.
            bool is_admin = false;
            bool is_owner = false;
            std::string name;
            std::string real_name;
            std::string display_name;
            if (auto e = read_object(v, [&](std::string_view k, od::value& f) {
                    if (k == "tz") {
                        return read_string(f, r.tz); // null for Slackbot (§6.2): stays empty
                    }
                    if (k == "is_admin") {
                        return read_bool(f, is_admin);
                    }
                    if (k == "is_owner") {
                        return read_bool(f, is_owner);
                    }
                    if (k == "deleted") {
                        return read_bool(f, r.deleted);
                    }
                    if (k == "is_bot") {
                        return read_bool(f, r.is_bot);
                    }
                    if (k == "name") {
                        return read_string(f, name);
                    }
                    if (k == "real_name") {
                        return read_string(f, real_name);
                    }
                    if (k == "profile") {
                        od::json_type t;
                        if (auto er = type_of(f, t); er || t != od::json_type::object) {
                            return er;
                        }
                        return read_member_string(f, "display_name", display_name);
                    }
                    return simdjson::SUCCESS;
                })) {
                return e;
            }
            r.is_admin = is_admin || is_owner;
            r.display_name = !display_name.empty() ? display_name
                             : !real_name.empty()  ? real_name
                                                   : name;
            return simdjson::SUCCESS;
        });
        if (err) {
            api_reply bad;
            bad.error = "invalid_json";
            return bad;
        }
        if (r.ts.empty()) {
            r.ts = std::move(message_ts);
        }
        return r;
    } catch (...) {
        api_reply bad;
        bad.error = "invalid_json";
        return bad;
    }
}

// ---------------------------------------------------------------------------------------------
// Shortcuts and forms (reference §5; Slack's interaction payloads).

std::string interactive_type(std::string_view payload) {
    std::string type;
    try {
        const error_code err = read_root_object(payload, [&](std::string_view key, od::value& v) {
            return key == "type" ? read_string(v, type) : simdjson::SUCCESS;
        });
        if (err) {
            return {};
        }
    } catch (...) {
        return {};
    }
    return type;
}

std::string permalink(std::string_view domain, std::string_view channel, std::string_view ts,
                      std::string_view thread_ts) {
    if (domain.empty() || channel.empty() || ts.empty()) {
        return {};
    }
    std::string digits;
    for (char c : ts) {
        if (c != '.') {
            digits += c;
        }
    }
    auto link = fmt::format("https://{}.slack.com/archives/{}/p{}", domain, channel, digits);
    if (!thread_ts.empty() && thread_ts != ts) {
        link += fmt::format("?thread_ts={}&cid={}", thread_ts, channel);
    }
    return link;
}

std::optional<shortcut> parse_message_action(std::string_view payload) {
    try {
        shortcut sc;
        std::string type;
        std::string user_team_id;
        const error_code err = read_root_object(payload, [&](std::string_view key, od::value& v) {
            if (key == "type") {
                return read_string(v, type);
            }
            if (key == "callback_id") {
                return read_string(v, sc.callback_id);
            }
            if (key == "trigger_id") {
                return read_string(v, sc.trigger_id);
            }
            if (key == "team") { // null for an org-wide install
                return read_object(v, [&](std::string_view k, od::value& f) {
                    if (k == "id") {
                        return read_string(f, sc.team_id);
                    }
                    return k == "domain" ? read_string(f, sc.team_domain) : simdjson::SUCCESS;
                });
            }
            if (key == "user") {
                return read_object(v, [&](std::string_view k, od::value& f) {
                    if (k == "id") {
                        return read_string(f, sc.user_id);
                    }
                    return k == "team_id" ? read_string(f, user_team_id) : simdjson::SUCCESS;
                });
            }
            if (key == "channel") {
                return read_member_string(v, "id", sc.message.channel);
            }
            if (key == "message") {
                return read_object(v, [&](std::string_view k, od::value& f) {
                    if (k == "ts") {
                        return read_string(f, sc.message.ts);
                    }
                    if (k == "thread_ts") {
                        return read_string(f, sc.message.thread_ts);
                    }
                    if (k == "text") {
                        return read_string(f, sc.message.text);
                    }
                    return k == "user" ? read_string(f, sc.message.author) : simdjson::SUCCESS;
                });
            }
            return simdjson::SUCCESS;
        });
        if (sc.team_id.empty()) {
            sc.team_id = user_team_id;
        }
        if (err || type != "message_action" || sc.user_id.empty() || sc.team_id.empty() ||
            sc.message.channel.empty() || sc.message.ts.empty()) {
            return std::nullopt;
        }
        sc.message.permalink =
            permalink(sc.team_domain, sc.message.channel, sc.message.ts, sc.message.thread_ts);
        return sc;
    } catch (...) {
        return std::nullopt;
    }
}

namespace {

/// One input's submitted value from `view.state.values[block][action]`: a text's value, a
/// select's option value, a user picker's user, a date picker's date; null stays empty.
error_code read_state_value(od::value& v, std::string& out) {
    return read_object(v, [&](std::string_view k, od::value& f) {
        if (k == "value" || k == "selected_user" || k == "selected_date" ||
            k == "selected_conversation" || k == "selected_channel") {
            return read_string(f, out);
        }
        if (k == "selected_option") {
            return read_member_string(f, "value", out);
        }
        return simdjson::SUCCESS;
    });
}

} // namespace

std::optional<command> command_of_submission(std::string_view payload) {
    try {
        command c;
        c.from = source::form;
        std::string type;
        std::string user_team_id;
        std::string view_team_id;
        const error_code err = read_root_object(payload, [&](std::string_view key, od::value& v) {
            if (key == "type") {
                return read_string(v, type);
            }
            if (key == "team") {
                return read_member_string(v, "id", c.team_id);
            }
            if (key == "user") {
                return read_object(v, [&](std::string_view k, od::value& f) {
                    if (k == "id") {
                        return read_string(f, c.user_id);
                    }
                    return k == "team_id" ? read_string(f, user_team_id) : simdjson::SUCCESS;
                });
            }
            if (key != "view") {
                return simdjson::SUCCESS;
            }
            return read_object(v, [&](std::string_view k, od::value& f) {
                if (k == "callback_id") {
                    return read_string(f, c.form_id);
                }
                if (k == "private_metadata") {
                    return read_string(f, c.form_context);
                }
                if (k == "team_id") {
                    return read_string(f, view_team_id);
                }
                if (k != "state") {
                    return simdjson::SUCCESS;
                }
                return read_object(f, [&](std::string_view sk, od::value& values) {
                    if (sk != "values") {
                        return simdjson::SUCCESS;
                    }
                    return read_object(values, [&](std::string_view block_id, od::value& b) {
                        std::string id(block_id);
                        // One input per block here: its element's value, whatever its action id.
                        return read_object(b, [&](std::string_view, od::value& element) {
                            return read_state_value(element, c.fields[id]);
                        });
                    });
                });
            });
        });
        if (c.team_id.empty()) {
            c.team_id = !view_team_id.empty() ? view_team_id : user_team_id;
        }
        if (err || type != "view_submission" || c.user_id.empty() || c.team_id.empty() ||
            c.form_id.empty()) {
            return std::nullopt;
        }
        c.command_name = "form:" + c.form_id;
        return c;
    } catch (...) {
        return std::nullopt;
    }
}

namespace {

json::object plain_text(std::string_view text) {
    return json::object{{"type", "plain_text"}, {"text", text}};
}

json::object input_block(const form_field& f) {
    json::object element;
    switch (f.type) {
    case form_field::kind::text:
    case form_field::kind::multiline:
        element = {{"type", "plain_text_input"}, {"action_id", "value"}};
        if (f.type == form_field::kind::multiline) {
            element["multiline"] = true;
        }
        if (!f.initial.empty()) {
            element["initial_value"] = f.initial;
        }
        if (f.max_length > 0) {
            element["max_length"] = std::min<std::size_t>(f.max_length, 3000);
        }
        break;
    case form_field::kind::user:
        element = {{"type", "users_select"}, {"action_id", "value"}};
        if (!f.initial.empty()) {
            element["initial_user"] = f.initial;
        }
        break;
    case form_field::kind::select: {
        element = {{"type", "static_select"}, {"action_id", "value"}};
        json::array options;
        for (const auto& [value, label] : f.options) {
            json::object o{{"text", plain_text(label)}, {"value", value}};
            if (value == f.initial) {
                element["initial_option"] = o;
            }
            options.push_back(std::move(o));
        }
        element["options"] = std::move(options);
        break;
    }
    case form_field::kind::date:
        element = {{"type", "datepicker"}, {"action_id", "value"}};
        if (!f.initial.empty()) {
            element["initial_date"] = f.initial;
        }
        break;
    }
    json::object block{{"type", "input"},
                       {"block_id", f.id},
                       {"label", plain_text(f.label)},
                       {"optional", f.optional},
                       {"element", std::move(element)}};
    if (!f.hint.empty()) {
        block["hint"] = plain_text(f.hint);
    }
    return block;
}

} // namespace

std::string open_view_body(const form& f, std::string_view trigger_id) {
    json::array blocks;
    for (const auto& field : f.fields) {
        blocks.push_back(input_block(field));
    }
    return json::serialize(json::object{
        {"trigger_id", trigger_id},
        {"view",
         json::object{
             {"type", "modal"},
             {"callback_id", f.id},
             {"private_metadata", f.context},
             {"title", plain_text(cut_with_ellipsis(f.title, 24))},
             {"submit", plain_text(cut_with_ellipsis(f.submit, 24))},
             {"close", plain_text("Cancel")},
             {"blocks", std::move(blocks)},
         }},
    });
}

namespace {

/// `response_action: errors` with each field's message.
json::object form_errors_object(const std::map<std::string, std::string>& errors) {
    json::object e;
    for (const auto& [field, message] : errors) {
        e[field] = message;
    }
    return json::object{{"response_action", "errors"}, {"errors", std::move(e)}};
}

} // namespace

std::string form_errors_body(const std::map<std::string, std::string>& errors) {
    return json::serialize(form_errors_object(errors));
}

std::string ack_with_form_errors(std::string_view envelope_id,
                                 const std::map<std::string, std::string>& errors) {
    return json::serialize(
        json::object{{"envelope_id", envelope_id}, {"payload", form_errors_object(errors)}});
}

} // namespace tpmbot::slack
