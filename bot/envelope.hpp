#pragma once
/// Slack's Socket Mode frames and Web API bodies as values: parsing what Slack sends
/// (simdjson) and building what we send (Boost.JSON), with no I/O and no Boost in this header.
/// Shapes: ../shared/reference/slack-protocol.md §2.2-§2.5, §3, §4, §5, §6.

#include "forms.hpp"
#include "model.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tpmbot::slack {

/// What a Socket Mode text frame is.
enum class frame_kind {
    hello,
    disconnect,
    events_api,
    slash_commands,
    interactive,
    other, ///< valid JSON with an unknown `type` (acked when it has an envelope_id, §2.1)
    /// Not one JSON object (bad JSON, an array, trailing bytes), no string `type`, or an
    /// events_api/slash_commands/interactive envelope without an envelope_id or a payload
    /// object (§2.4).
    malformed,
};

/// One parsed Socket Mode frame. Strings are copies: safe after the parser moves on.
struct frame {
    frame_kind kind = frame_kind::malformed;
    std::string type; ///< the `type` field as sent
    /// Empty for hello/disconnect. Kept on a frame that is valid JSON but malformed (e.g. no
    /// `type`), so the caller can still ack it rather than have Slack redeliver it (§2.7).
    std::string envelope_id;
    /// disconnect: warning, refresh_requested, too_many_websockets, link_disabled, ...; may be
    /// empty (the frame is still a disconnect).
    std::string reason;
    bool accepts_response_payload = false;
    int retry_attempt = 0;    ///< events_api redeliveries count up from 0
    std::string retry_reason; ///< "" on first delivery, e.g. "timeout"
    int num_connections = 0;  ///< hello
    std::string payload;      ///< the `payload` object as minified JSON text; empty if none
    std::string error;        ///< malformed: why
};

/// Parses one text frame (binary frames are dropped before this, §2.1). Never throws; a bad
/// frame comes back as `malformed` with `error`. Fields of unexpected JSON types are left at
/// their defaults, except a non-integral retry_attempt/num_connections, which is malformed.
frame parse_frame(std::string_view text);

/// The parts of an `events_api` payload (an `event_callback`) the bot uses.
struct event {
    std::string event_id;
    std::string team_id;
    unix_time event_time = 0;
    std::string type;    ///< event.type: app_mention, message, ...
    std::string subtype; ///< event.subtype (message_changed, bot_message, ...), empty if none
    std::string user;
    std::string bot_id;
    std::string channel;
    std::string channel_type; ///< "im" for DMs
    std::string text;
    std::string ts;
    std::string thread_ts;
    std::string tab; ///< app_home_opened: "home" or "messages"
    /// message_changed: the edited message (`event.message`): its author, new text, its ts.
    std::string changed_user;
    std::string changed_bot_id;
    std::string changed_text;
    std::string changed_ts;
    bool changed_edited = false; ///< the message has `edited` (a person's edit, not an unfurl)
};

/// Parses an events_api payload; nullopt when it is not an event_callback with an event_id
/// and an event object, or not JSON. Event fields that are not strings (user_change sends
/// `user` as an object) are left empty; of nested objects only a message_changed's `message`
/// is read.
std::optional<event> parse_event(std::string_view payload);

/// The command an event asks for, or nullopt when the bot must ignore it (acked anyway,
/// §4.5): any bot_id, any subtype, no user, or user == bot_user_id; a message outside a DM;
/// any other event type. app_mention -> source::mention, text without the first
/// `<@bot_user_id>` / `<@bot_user_id|label>` (usually leading; a ':' or ',' right after it
/// goes too, and the rest is trimmed); message with channel_type "im" -> source::dm, text
/// as is. Both keep message_ts = ts and thread_ts (empty at top level); the text stays
/// Slack-encoded (&amp; etc.), as in slash commands. `now`/`user_tz`/`is_admin` are left for
/// the caller to fill.
std::optional<command> command_of_event(const event& e, std::string_view bot_user_id);

/// The command of a slash_commands payload (§3.1); nullopt when team_id, user_id or
/// command is missing or empty, or the payload is not JSON.
std::optional<command> command_of_slash(std::string_view payload);

/// The command of an interactive payload (§5): a block_actions button press runs the value of
/// the first action that has one as "/tpm <value>" of the presser (user.id; team.id, else
/// user.team_id) in the message's channel (channel.id, else container.channel_id), with
/// message_ts = container.message_ts. nullopt for other kinds, no valued action, no user or
/// no team.
std::optional<command> command_of_action(std::string_view payload);

/// A plain ack: {"envelope_id":"..."}.
std::string ack(std::string_view envelope_id);
/// An ack carrying a slash command's reply, visible only to the caller:
/// {"envelope_id":"...","payload":{"text":"..."}} (response_type ephemeral is the default,
/// §3.2). The text is cut at 40,000 characters (§7.3).
std::string ack_with_text(std::string_view envelope_id, std::string_view text);

// HTTP mode (§8): the same payloads arrive as requests, and the answer is the HTTP body.

/// Percent-encodes a form value (application/x-www-form-urlencoded): every byte but letters,
/// digits and -_.~ as %XX.
std::string form_escape(std::string_view v);
/// The fields of an application/x-www-form-urlencoded body ('+' is a space, %XX a byte; a
/// repeated name keeps its last value); nullopt when a %-escape is not two hex digits.
std::optional<std::map<std::string, std::string>> parse_form(std::string_view body);
/// A form's fields as one JSON object of strings: a slash command's form (§3.1) becomes the
/// payload `command_of_slash` reads.
std::string form_as_json(const std::map<std::string, std::string>& fields);
/// A slash command's reply as an HTTP body: {"text":"..."} (ephemeral, cut at 40,000
/// characters), what an ack's payload carries in Socket Mode (§3.2).
std::string reply_body(std::string_view text);
/// The challenge of a url_verification request (§8.2); nullopt for any other body.
std::optional<std::string> url_verification_challenge(std::string_view body);
/// The answer to it: {"challenge":"..."}.
std::string challenge_body(std::string_view challenge);

/// The JSON body of chat.postMessage for an effect, in this order: channel, text (the
/// notification and screen-reader fallback, cut at 40,000 characters), thread_ts when
/// non-empty, blocks, "unfurl_links":false. Blocks (§7.4): the text as mrkdwn sections of at
/// most 3,000 characters each, split at the last newline that fits, else the last space, else
/// between characters (the newline or space split on is dropped; blank pieces are skipped),
/// then one actions block with the effect's first 25 buttons (text cut at 75 characters with
/// "…", action_ids made unique with "-2", "-3", ...; values kept whole). At most 50 blocks:
/// text that would need more sections is only in the `text` fallback, which itself holds at
/// most the first 40,000 characters, so keep longer reports in several messages. No blocks
/// key when there is neither text nor a button. Characters are counted as UTF-16 code units
/// (an emoji counts 2), so the limits hold whether Slack counts code points or UTF-16 units;
/// cuts fall on UTF-8 boundaries.
///
/// With `outbox_id` > 0 the message also carries message metadata naming the outbox row it
/// delivers: "metadata":{"event_type":"tpmbot_outbox","event_payload":{"outbox_id":ID,
/// "created_at":T}}, by which the sender finds it in the conversation after an attempt whose
/// answer never came (`api_reply::messages`).
std::string post_message_body(const effect& e, std::string_view channel, std::string_view thread_ts,
                              std::int64_t outbox_id = 0, std::int64_t created_at = 0);

/// The `event_type` of the metadata on every message the outbox posts.
inline constexpr std::string_view outbox_event_type = "tpmbot_outbox";
/// The JSON body of views.publish for a `destination::home` effect: user_id = e.user and a
/// home view of the effect's blocks (at most 100, Slack's limit for a Home tab).
std::string publish_home_body(const effect& e);

/// The JSON body of chat.update replacing the message (channel, ts) with the effect's text
/// and blocks (buttons included). It always carries `blocks`, so buttons that no longer
/// apply go.
std::string update_body(const effect& e, std::string_view channel, std::string_view ts);

/// The JSON body of chat.postEphemeral: channel = e.channel, user = e.user, then text,
/// thread_ts (e.thread_ts, when non-empty) and blocks as above; no unfurl field.
std::string post_ephemeral_body(const effect& e);

/// What a Web API call answered.
struct api_reply {
    bool ok = false;
    std::string error;   ///< e.g. "ratelimited", "channel_not_found"; "invalid_json" if unparseable
    std::string ts;      ///< chat.postMessage / chat.update: `ts`; chat.postEphemeral: `message_ts`
    std::string channel; ///< chat.postMessage: `channel`; conversations.open: `channel.id`
    std::string url;     ///< apps.connections.open
    std::string user_id; ///< auth.test
    std::string team_id; ///< auth.test
    std::string bot_id;  ///< auth.test
    std::string tz;      ///< users.info: user.tz (empty when null)
    bool is_admin = false; ///< users.info: user.is_admin || user.is_owner
    bool deleted = false;  ///< users.info: user.deleted
    bool is_bot = false;   ///< users.info: user.is_bot (bots and app users)
    /// users.info: the name people see: profile.display_name, else real_name, else name.
    std::string display_name;
    std::vector<std::string> members; ///< conversations.members: `members`
    std::string next_cursor;          ///< response_metadata.next_cursor, empty on the last page
    /// conversations.history / conversations.replies (with include_all_metadata): each
    /// message's ts and, when it carries the outbox's metadata, the row it delivered.
    struct message {
        std::string ts;
        std::int64_t outbox_id = 0;  ///< 0 unless metadata.event_type is the outbox's
        std::int64_t created_at = 0; ///< the row's created_at from the same metadata
    };
    std::vector<message> messages;
    bool has_more = false; ///< conversations.history: older messages are on further pages
};

/// Parses a Web API JSON response body (§6.2). Never throws: a body that is not one JSON
/// object gives ok=false, error="invalid_json"; an `ok` that is not a boolean is false.
api_reply parse_api_reply(std::string_view body);

// --- Shortcuts and forms -------------------------------------------------------------------

/// The `type` of an interactive payload: "block_actions", "message_action",
/// "view_submission", ...; empty when it cannot be read.
std::string interactive_type(std::string_view payload);

/// A message's link as Slack's clients write it: https://<domain>.slack.com/archives/<channel>/
/// p<ts without its dot>, with ?thread_ts=…&cid=… for a reply in a thread; empty without a
/// domain (an org-wide install sends no team).
std::string permalink(std::string_view domain, std::string_view channel, std::string_view ts,
                      std::string_view thread_ts = {});

/// A message shortcut used on a message (`message_action`).
struct shortcut {
    std::string callback_id;
    std::string trigger_id; ///< views.open takes it within 3 seconds
    std::string team_id;
    std::string team_domain;
    std::string user_id; ///< who used it
    message_ref message; ///< the message, its permalink built from the team's domain
};

/// Parses a `message_action` payload; nullopt when it is not one or lacks the user, the team,
/// the channel or the message's ts.
std::optional<shortcut> parse_message_action(std::string_view payload);

/// The command of a `view_submission`: source::form, the view's callback id and
/// private_metadata, and each input's value by its block id (text, selected option's value,
/// user or date; empty when left blank). nullopt when it is not one or lacks the user, the
/// team or the callback id.
std::optional<command> command_of_submission(std::string_view payload);

/// The JSON body of views.open showing `f` as a modal: one input block per field (block_id =
/// the field's id), the form's context as private_metadata, title and submit within 24
/// characters.
std::string open_view_body(const form& f, std::string_view trigger_id);

/// {"response_action":"errors","errors":{field: message}}: the answer that keeps a submitted
/// modal open with those messages beside its fields (HTTP mode's body).
std::string form_errors_body(const std::map<std::string, std::string>& errors);
/// The same in a Socket Mode ack's payload.
std::string ack_with_form_errors(std::string_view envelope_id,
                                 const std::map<std::string, std::string>& errors);

} // namespace tpmbot::slack
