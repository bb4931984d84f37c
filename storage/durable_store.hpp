#pragma once
/// What the transports need of a store beyond the handlers' `store`: the durable outbox and
/// inbox, the users cache and a relaxed commit. Every storage engine implements it (SQLite,
/// PostgreSQL); `open_store` picks one from the configured location.

#include "store.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tpmbot {

/// One outgoing message waiting in (or delivered from) the outbox.
struct outbox_row {
    std::int64_t id = 0;
    std::string team_id;
    effect e;
    unix_time created_at = 0;
    std::string state; ///< "pending", "sent", "failed"
    int attempts = 0;
    std::string ts;    ///< Slack's ts of the delivered message
    std::string error; ///< last error, if any
    /// Slack may have posted it already: an attempt got no answer that says whether it was
    /// posted (a broken connection, a timeout, a 5xx). The sender looks for it in the
    /// conversation before posting it again.
    bool unsure = false;
    unix_time last_attempt_at = 0; ///< when the last attempt failed or succeeded
};

/// One event received from Slack, persisted before it is acked.
struct inbox_row {
    std::string event_id;
    std::string team_id;
    std::string payload; ///< the event JSON as received
    unix_time received_at = 0;
};

/// The handlers' `store` plus the transport tables. Implementations throw std::exception on
/// failure, like `store`.
class durable_store : public store {
public:
    /// The schema version the database is at after migration; the same number names the
    /// same tables and columns in every engine.
    virtual int schema_version() = 0;

    /// `transact` whose commit does not wait for the disk: it survives the process crashing
    /// or being killed, but the database's machine losing power may undo it. Only for records
    /// whose loss costs repeated work, never lost work (the outbox's delivery marks). Nested
    /// in another transaction it is that transaction's part.
    virtual void transact_relaxed(const std::function<void()>& body) = 0;

    // outbox: every post is a row before it is sent
    /// Appends an effect to the outbox; returns its id. Call inside `transact`.
    virtual std::int64_t enqueue(std::string_view team_id, const effect& e, unix_time now) = 0;
    /// Pending rows with an id above `after_id`, oldest first (pages through a long queue).
    virtual std::vector<outbox_row> pending(int limit, std::int64_t after_id = 0) = 0;
    virtual std::optional<outbox_row> outbox(std::int64_t id) = 0;
    /// Records delivery; when the row is an item's card, the item's thread becomes
    /// (channel, ts), and when it has a name, the post of that name is (channel, ts). One
    /// transaction. Reads the row first: throws when there is none.
    void mark_sent(std::int64_t id, std::string_view channel, std::string_view ts, unix_time at) {
        auto row = outbox(id);
        if (!row) {
            throw std::runtime_error("mark_sent: no outbox row " + std::to_string(id));
        }
        mark_sent(*row, channel, ts, at);
    }
    /// The same for a row the caller has already read (its id, team, channel, item and card
    /// flag are used), without reading it again.
    virtual void mark_sent(const outbox_row& row, std::string_view channel, std::string_view ts,
                           unix_time at) = 0;
    /// Where the post named `name` landed, as (channel, ts); nullopt when none was delivered.
    virtual std::optional<std::pair<std::string, std::string>> post_of(std::string_view team_id,
                                                                       std::string_view name) = 0;
    /// Marks every pending row unsure (after a process ended without a clean stop, any of
    /// them may have been posted); returns how many. Call inside `transact`.
    virtual int mark_pending_unsure() = 0;
    /// Records a failed attempt; a permanent failure leaves the row "failed", a transient one
    /// leaves it "pending" with the attempt counted. The row stays `unsure` when
    /// `maybe_delivered` (no answer came), and is no longer unsure otherwise.
    virtual void mark_failed(std::int64_t id, std::string_view error, bool permanent, unix_time at,
                             bool maybe_delivered = false) = 0;

    // inbox: events persisted before they are acked, de-duplicated by event_id
    /// False when the event id is already there (a redelivery).
    virtual bool inbox_put(const inbox_row& r) = 0;
    /// Not yet processed, oldest first.
    virtual std::vector<inbox_row> inbox_unprocessed(int limit) = 0;
    virtual void inbox_done(std::string_view event_id, unix_time at) = 0;
    /// Whether the event is in the inbox and marked processed.
    virtual bool inbox_processed(std::string_view event_id) = 0;

    // users
    /// Records everything Slack's users.info says of a person.
    virtual void set_user(const user_row& u) = 0;
    /// Records what Slack's users.info says of a person: zone, admin flag and whether the
    /// account is deactivated (no name, not a bot).
    void set_user_info(std::string_view team_id, std::string_view user_id, std::string_view tz,
                       bool is_admin, unix_time at, bool deleted = false) {
        user_row u;
        u.team_id = team_id;
        u.user_id = user_id;
        u.tz = tz;
        u.is_admin = is_admin;
        u.updated_at = at;
        u.deleted = deleted;
        set_user(u);
    }
};

} // namespace tpmbot
