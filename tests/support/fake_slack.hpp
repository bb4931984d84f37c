#pragma once
/// A fake Slack on 127.0.0.1:0 that speaks the real protocol: the Web API over HTTP
/// (apps.connections.open, chat.*, conversations.open/members, users.info, auth.test,
/// views.publish, response_url POSTs) and Socket Mode over WebSocket (hello, envelopes, disconnect,
/// pings). It runs on its own thread; tests script it and read what it recorded. Every wait is
/// bounded. Frame shapes follow ../shared/reference/slack-protocol.md §2.2-§5 (Slack's SDK
/// fixtures).
///
/// URLs: Web API `http://127.0.0.1:PORT/api/<method>` (POST; GET with a query works too);
/// apps.connections.open answers `ws://127.0.0.1:PORT/link/?ticket=N&app_id=A111` (https/wss
/// with TLS); a ticket opens one WebSocket only (else HTTP 403). Any other POST path stands for
/// a response_url and is answered `200 ok`. Bot methods check `Authorization: Bearer <bot_token>`
/// (`not_authed`), apps.connections.open the app token (`invalid_auth`); users.info refuses a
/// JSON body (`invalid_arguments`); chat.update refuses a U…/W… channel (`channel_not_found`).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tpmbot::test {

/// One Web API request the fake received.
struct api_call {
    std::string method;        ///< "chat.postMessage"; "response_url" for response_url POSTs
    std::string authorization; ///< the Authorization header as sent
    std::string content_type;
    std::string body; ///< raw request body
    /// Query and form fields, or a JSON body's top-level fields: strings as they are, other
    /// values as JSON text (so `blocks` reads the same in both encodings).
    std::map<std::string, std::string> params;
    std::chrono::steady_clock::time_point at;
};

/// A call's field, "" when absent.
inline std::string param(const api_call& c, const std::string& name) {
    auto it = c.params.find(name);
    return it == c.params.end() ? std::string() : it->second;
}

/// One ack the fake received on a Socket Mode connection.
struct ack_record {
    std::string envelope_id;
    std::string payload; ///< the ack's `payload` as JSON text, empty when absent
    std::string raw;     ///< the whole frame
    int connection = 0;  ///< which connection (1 = first opened)
    /// From the `send` of that envelope_id (on any connection) to its ack; -1 if never sent.
    double latency_ms = 0;
};

/// One Socket Mode connection as the fake saw it (steady clock). Kept after it closes.
struct connection_record {
    int index = 0;                                   ///< 1-based, in opening order
    std::chrono::steady_clock::time_point opened_at; ///< the WebSocket upgrade was accepted
    /// When hello was queued (written at once: the queue is empty then); none without send_hello.
    std::optional<std::chrono::steady_clock::time_point> hello_at;
    /// When the fake itself began closing it: the close after a disconnect's `close_after`, or
    /// drop(). None when only the client closed it.
    std::optional<std::chrono::steady_clock::time_point> closing_at;
    /// When its read side ended (closed by either end, or dropped); none while open.
    std::optional<std::chrono::steady_clock::time_point> closed_at;
    int acks = 0; ///< acks recorded on it
    /// The code of the close frame the client sent (1000: a normal close); none when the
    /// connection ended without one from the client.
    std::optional<int> close_code;
};

/// A scripted answer to the next call of a Web API method, whatever the request holds.
struct scripted_reply {
    int status = 200;
    /// e.g. {"ok":false,"error":"ratelimited"}. Left empty: with status 200 the normal answer
    /// (so a slow success is just `delay`), with 429 Slack's ratelimited body, else no body.
    std::string body;
    int retry_after = 0;                ///< Retry-After header in seconds when > 0
    std::chrono::milliseconds delay{0}; ///< answer this late
    /// Carry the call out first (a post is posted), then give this answer instead of Slack's:
    /// an answer lost on the way back.
    bool perform = false;
};

class fake_slack {
public:
    struct options {
        std::string app_token = "xapp-1-test"; ///< apps.connections.open requires this Bearer
        std::string bot_token = "xoxb-test";   ///< other methods require this Bearer
        std::string bot_user_id = "UBOT";      ///< auth.test user_id
        std::string team_id = "T111";
        bool send_hello = true; ///< send hello as soon as a socket connects
        std::string cert_file;  ///< with key_file: serve HTTPS and WSS
        std::string key_file;
    };

    fake_slack();
    explicit fake_slack(options o);
    ~fake_slack();
    fake_slack(const fake_slack&) = delete;
    fake_slack& operator=(const fake_slack&) = delete;

    /// "http://127.0.0.1:PORT/api/" (https:// with TLS).
    std::string api_url() const;
    std::uint16_t port() const;

    // Socket Mode scripting. `connection` is 1-based in opening order; 0 = the newest open one.
    // These return at once (the work is posted to the fake's thread, in call order); a command
    // for a connection that is gone, closed or silent does nothing.
    /// Sends a text frame (any text: malformed frames too); remembers the time for ack latency
    /// when it is JSON with an envelope_id.
    void send(const std::string& frame, int connection = 0);
    void send_binary(const std::string& data, int connection = 0);
    /// Sends {"type":"disconnect","reason":...}; Slack then closes the socket itself after
    /// `close_after` (never when negative).
    void disconnect(const std::string& reason, int connection = 0,
                    std::chrono::milliseconds close_after = std::chrono::milliseconds(-1));
    /// Closes the TCP connection without a close frame.
    void drop(int connection = 0);
    /// Stops reading from the connection (so pings go unanswered and acks are not recorded),
    /// keeping the TCP connection open; nothing more is written to it either (a half-open link).
    /// It counts as open until the client closes its end.
    void go_silent(int connection = 0);

    // Web API scripting
    /// Queues answers for the next calls of `method` (in order), then normal answers resume.
    void script(const std::string& method, scripted_reply reply);

    /// What users.info says of `user` (others: Europe/Berlin, not deleted).
    void set_person(const std::string& user, const std::string& tz, bool deleted = false);
    /// What conversations.members answers for `channel` (others: channel_not_found).
    void set_members(const std::string& channel, std::vector<std::string> users);
    /// The metadata (JSON text, "" for none) of every message in the channels' history, in
    /// posting order: what is in Slack, whatever the answers to the posts said.
    std::vector<std::string> posted_metadata() const;
    /// Puts a message into `channel`'s history as if the bot had posted it (`metadata`: the
    /// JSON text it was posted with, or empty); returns its ts.
    std::string add_message(const std::string& channel, const std::string& text,
                            const std::string& metadata = "");

    // What happened
    std::vector<api_call> calls() const;
    std::vector<api_call> calls(const std::string& method) const;
    std::vector<ack_record> acks() const;
    /// The recorded acks from the `from`th (0-based) on: a poller copies only what is new.
    std::vector<ack_record> acks(std::size_t from) const;
    /// The calls of `method` from its `from`th (0-based) on.
    std::vector<api_call> calls(const std::string& method, std::size_t from) const;
    /// Counts without copies, for polling: acks recorded (repeats included), and calls of
    /// `method`.
    std::size_t ack_count() const;
    std::size_t call_count(const std::string& method) const;
    /// Every connection accepted so far, in opening order.
    std::vector<connection_record> connection_log() const;
    /// Frames (text or binary, the fake's own included) that never went out: no open
    /// connection to address, or the connection ended before they were written.
    int frames_undelivered() const;
    int connections_opened() const; ///< websocket upgrades accepted
    int connections_open() const;   ///< currently open
    /// Pings the fake received from the client (our watchdog's pings).
    int pings_received() const;

    /// Waits until `pred()` holds, up to `timeout`; false at the timeout. Checked now, after
    /// every recorded change, and at least every 10 ms (a predicate may look at the bot's own
    /// log or database). `pred` may call the accessors above (no lock is held).
    bool wait_for(const std::function<bool()>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

    // Envelopes shaped like Slack's own fixtures (reference §2.4, §4.3), values substituted.
    // Their response_url is the fixture's hooks.slack.com one; to receive it here, point it at
    // http://127.0.0.1:PORT/<anything>.
    static std::string slash_envelope(const std::string& envelope_id, const std::string& text,
                                      const std::string& user = "U111",
                                      const std::string& channel = "C111",
                                      const std::string& command = "/tpm");
    static std::string mention_envelope(const std::string& envelope_id, const std::string& event_id,
                                        const std::string& text, const std::string& user = "U111",
                                        const std::string& channel = "C111",
                                        const std::string& ts = "1605853844.000800",
                                        const std::string& thread_ts = "", int retry_attempt = 0);
    /// A message shortcut (`callback_id`) used by `user` on message `ts` saying `text`; its
    /// trigger_id is "trigger-" + envelope_id.
    static std::string shortcut_envelope(const std::string& envelope_id,
                                         const std::string& callback_id, const std::string& text,
                                         const std::string& user = "U111",
                                         const std::string& channel = "C111",
                                         const std::string& ts = "1583636382.000300",
                                         const std::string& thread_ts = "");
    /// A modal submitted by `user`: its callback id, private_metadata and each input's value
    /// by block id (block "dri" as a user picker, "severity" a select, "due" a date picker,
    /// others text inputs; an empty text is null, as Slack sends a blank input).
    static std::string submission_envelope(const std::string& envelope_id,
                                           const std::string& callback_id,
                                           const std::string& private_metadata,
                                           const std::map<std::string, std::string>& values,
                                           const std::string& user = "U111");
    /// app_home_opened by `user` on tab `tab` ("home" or "messages").
    static std::string home_opened_envelope(const std::string& envelope_id,
                                            const std::string& event_id,
                                            const std::string& user = "U111",
                                            const std::string& tab = "home");
    static std::string dm_envelope(const std::string& envelope_id, const std::string& event_id,
                                   const std::string& text, const std::string& user = "U111",
                                   const std::string& channel = "D111",
                                   const std::string& ts = "1605853844.000900",
                                   const std::string& bot_id = "", const std::string& subtype = "");
    /// A person's edit of their DM `edited_ts` (message_changed, reference §4.5).
    static std::string dm_edit_envelope(const std::string& envelope_id, const std::string& event_id,
                                        const std::string& text, const std::string& user,
                                        const std::string& channel, const std::string& edited_ts,
                                        const std::string& event_ts = "1605853900.000100");
    static std::string action_envelope(const std::string& envelope_id, const std::string& value,
                                       const std::string& user = "U111",
                                       const std::string& channel = "C111",
                                       const std::string& message_ts = "1605853634.000400");

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace tpmbot::test
