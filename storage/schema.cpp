#include "schema.hpp"

#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <stdexcept>
#include <string_view>

namespace tpmbot::schema {

namespace {

/// One step of the schema's history. Never edit a released migration: append a new one.
struct migration {
    int version;
    std::string_view sql;
};

// Version 1 creates everything. Text columns are NOT NULL DEFAULT '' so an unset field
// reads back as the empty string the model uses; times are Unix seconds, 0 when unset.
constexpr std::string_view v1 = R"sql(
CREATE TABLE counters (
    team_id TEXT NOT NULL,
    kind    TEXT NOT NULL,
    next    INTEGER NOT NULL,
    PRIMARY KEY (team_id, kind)
);

CREATE TABLE items (
    team_id        TEXT NOT NULL,
    kind           TEXT NOT NULL,
    num            INTEGER NOT NULL,
    channel_id     TEXT NOT NULL DEFAULT '',
    reporter       TEXT NOT NULL DEFAULT '',
    dri            TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT '',
    title          TEXT NOT NULL DEFAULT '',
    severity       TEXT NOT NULL DEFAULT '',
    waiting_on     TEXT NOT NULL DEFAULT '',
    area           TEXT NOT NULL DEFAULT '',
    due            TEXT NOT NULL DEFAULT '',
    consulted      TEXT,
    options        TEXT,
    outcome        TEXT NOT NULL DEFAULT '',
    rationale      TEXT NOT NULL DEFAULT '',
    note           TEXT NOT NULL DEFAULT '',
    probability    TEXT NOT NULL DEFAULT '',
    impact         TEXT NOT NULL DEFAULT '',
    mitigation     TEXT NOT NULL DEFAULT '',
    from_who       TEXT NOT NULL DEFAULT '',
    for_item       TEXT NOT NULL DEFAULT '',
    supersedes     TEXT NOT NULL DEFAULT '',
    superseded_by  TEXT NOT NULL DEFAULT '',
    thread_channel TEXT NOT NULL DEFAULT '',
    thread_ts      TEXT NOT NULL DEFAULT '',
    permalink      TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL DEFAULT 0,
    closed_at      INTEGER NOT NULL DEFAULT 0,
    escalated_at   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, kind, num)
);
CREATE INDEX items_status ON items (team_id, kind, status);
CREATE INDEX items_dri ON items (team_id, dri);
CREATE INDEX items_channel ON items (team_id, channel_id);

CREATE TABLE item_history (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL,
    kind    TEXT NOT NULL,
    num     INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL DEFAULT '',
    action  TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX item_history_item ON item_history (team_id, kind, num, id);

CREATE TABLE areas (
    team_id    TEXT NOT NULL,
    name       TEXT NOT NULL COLLATE NOCASE,
    owner      TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, name)
);

CREATE TABLE admins (
    team_id  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    added_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE users (
    team_id    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    tz         TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id         TEXT NOT NULL,
    destination     TEXT NOT NULL,
    channel         TEXT NOT NULL DEFAULT '',
    user            TEXT NOT NULL DEFAULT '',
    thread_ts       TEXT NOT NULL DEFAULT '',
    item            TEXT NOT NULL DEFAULT '',
    is_card         INTEGER NOT NULL DEFAULT 0,
    text            TEXT NOT NULL DEFAULT '',
    buttons         TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    ts              TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    sent_at         INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_state ON outbox (state, id);

CREATE TABLE inbox (
    event_id     TEXT PRIMARY KEY,
    team_id      TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL DEFAULT '',
    received_at  INTEGER NOT NULL,
    processed_at INTEGER
);
CREATE INDEX inbox_unprocessed ON inbox (received_at) WHERE processed_at IS NULL;

CREATE TABLE job_claims (
    job        TEXT NOT NULL,
    period     TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (job, period)
);

CREATE TABLE settings (
    team_id    TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, key)
);
)sql";

/// Version 2: Slack's admin flag per user (users.info is_admin/is_owner), for SPEC §8.
constexpr const char* v2 = R"sql(
ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
)sql";

/// Version 3: deactivated users, and standups (SPEC §4). Lists are JSON arrays of strings
/// ('' reads as the empty list).
constexpr std::string_view v3 = R"sql(
ALTER TABLE users ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;

CREATE TABLE standups (
    team_id       TEXT NOT NULL,
    channel_id    TEXT NOT NULL,
    minute        INTEGER NOT NULL DEFAULT 0,
    report_minute INTEGER NOT NULL DEFAULT 0,
    days          INTEGER NOT NULL DEFAULT 0,
    tz            TEXT NOT NULL DEFAULT '',
    members       TEXT NOT NULL DEFAULT '',
    whole_channel INTEGER NOT NULL DEFAULT 0,
    paused        INTEGER NOT NULL DEFAULT 0,
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, channel_id)
);

CREATE TABLE standup_people (
    team_id    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    tz         TEXT NOT NULL DEFAULT '',
    ooo_until  TEXT NOT NULL DEFAULT '',
    skip_day   TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE standup_runs (
    team_id        TEXT NOT NULL,
    channel_id     TEXT NOT NULL,
    period         TEXT NOT NULL,
    report_due     INTEGER NOT NULL DEFAULT 0,
    reported_at    INTEGER NOT NULL DEFAULT 0,
    digest_channel TEXT NOT NULL DEFAULT '',
    digest_ts      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (team_id, channel_id, period)
);

CREATE TABLE standup_entries (
    team_id      TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    period       TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT '',
    note         TEXT NOT NULL DEFAULT '',
    answers      TEXT NOT NULL DEFAULT '',
    prompted_at  INTEGER NOT NULL DEFAULT 0,
    reminder_due INTEGER NOT NULL DEFAULT 0,
    reminded_at  INTEGER NOT NULL DEFAULT 0,
    answered_at  INTEGER NOT NULL DEFAULT 0,
    late         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, channel_id, period, user_id)
);
CREATE INDEX standup_entries_open ON standup_entries (team_id, user_id, state);
CREATE INDEX standup_entries_reminder ON standup_entries (state, reminded_at, reminder_due);
CREATE INDEX standup_entries_latest ON standup_entries (team_id, user_id, prompted_at);

CREATE TABLE standup_messages (
    team_id        TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    ts             TEXT NOT NULL,
    channel_id     TEXT NOT NULL DEFAULT '',
    period         TEXT NOT NULL DEFAULT '',
    first_question INTEGER NOT NULL DEFAULT 0,
    count          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, user_id, ts)
);

CREATE TABLE channel_members (
    team_id    TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    PRIMARY KEY (team_id, channel_id, user_id)
);

-- One row per channel whose members were read, so "never read" differs from "no members".
CREATE TABLE channel_members_read (
    team_id    TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    read_at    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, channel_id)
);
)sql";

/// Version 4: a person's name and bot flag from users.info (a digest names people without
/// pinging them; bots are not standup members), and the unreported runs the scheduler sweeps.
constexpr std::string_view v4 = R"sql(
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN is_bot INTEGER NOT NULL DEFAULT 0;
CREATE INDEX standup_runs_unreported ON standup_runs (report_due) WHERE reported_at = 0;
)sql";

/// Version 5: the weekly status. An outbox post may carry Block Kit blocks (a JSON array of
/// {"type", "text"} objects, '' when none). The status of one channel reads, per kind, its
/// open items by status, what was created or closed in a week and what was open at an
/// instant; these indexes make each of those a seek on (team, channel, kind) and then a
/// status or a time, so its cost follows the open items and the week's, not the history
/// (storage's list_items shapes its SQL so SQLite takes them; a test holds the plans).
/// status ends items_channel_closed so a count of what closed in a week with a given status
/// reads the index alone. items_channel is a prefix of each of them, so it goes.
constexpr std::string_view v5 = R"sql(
ALTER TABLE outbox ADD COLUMN blocks TEXT NOT NULL DEFAULT '';
CREATE INDEX items_channel_status ON items (team_id, channel_id, kind, status, created_at);
CREATE INDEX items_channel_created ON items (team_id, channel_id, kind, created_at);
CREATE INDEX items_channel_closed ON items (team_id, channel_id, kind, closed_at, created_at,
                                           status);
DROP INDEX items_channel;
)sql";

/// Version 6: exactly-once delivery. `unsure` marks a row whose last attempt got no answer
/// saying whether Slack posted it (a broken connection, a 5xx); the sender looks for it in the
/// conversation (by the metadata it posts with) before its next attempt.
constexpr std::string_view v6 = R"sql(
ALTER TABLE outbox ADD COLUMN unsure INTEGER NOT NULL DEFAULT 0;
)sql";

/// Version 7: interactivity.
///  - `posts`: where a post that may be replaced later landed, by the name it was given
///    ("card:B-12", "poll:D-7"); `outbox.name` carries that name until delivery. Cards
///    delivered before this version are taken from the outbox where it still has them: the
///    channel posts naming an item (a card in the channel, or in a mention's thread), the
///    first of each.
///  - `items.snoozed_until`: no escalation before it.
///  - `polls` and `poll_votes`: a decision's poll, one vote per person (changeable).
constexpr std::string_view v7 = R"sql(
ALTER TABLE items ADD COLUMN snoozed_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN name TEXT NOT NULL DEFAULT '';
CREATE TABLE posts (
    team_id   TEXT NOT NULL,
    name      TEXT NOT NULL,
    channel   TEXT NOT NULL,
    ts        TEXT NOT NULL,
    posted_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, name)
);
INSERT OR IGNORE INTO posts (team_id, name, channel, ts, posted_at)
    SELECT team_id, 'card:' || item, channel, ts, sent_at FROM outbox
    WHERE destination = 'channel' AND state = 'sent' AND ts != '' AND item != ''
      AND item NOT LIKE 'standup:%' ORDER BY id;
CREATE TABLE polls (
    team_id   TEXT NOT NULL,
    num       INTEGER NOT NULL,
    opened_by TEXT NOT NULL DEFAULT '',
    opened_at INTEGER NOT NULL DEFAULT 0,
    closes_at INTEGER NOT NULL DEFAULT 0,
    closed_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, num)
);
CREATE INDEX polls_open ON polls (closes_at) WHERE closed_at = 0;
CREATE TABLE poll_votes (
    team_id  TEXT NOT NULL,
    num      INTEGER NOT NULL,
    user_id  TEXT NOT NULL,
    choice   INTEGER NOT NULL,
    voted_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, num, user_id)
);
)sql";

/// In order; `version` counts up from 1 without gaps.
constexpr migration migrations[] = {
    {1, v1}, {2, v2}, {3, v3}, {4, v4}, {5, v5}, {6, v6}, {7, v7},
};

void rollback_quietly(SQLite::Database& db) {
    // SQLite may already have rolled back on its own (SQLITE_FULL, SQLITE_IOERR, ...).
    if (sqlite3_get_autocommit(db.getHandle()) == 0) {
        db.tryExec("ROLLBACK");
    }
}

} // namespace

int latest_version() {
    return migrations[std::size(migrations) - 1].version;
}

int current_version(SQLite::Database& db) {
    return db.execAndGet("PRAGMA user_version").getInt();
}

void migrate(SQLite::Database& db, const std::string& path) {
    auto refuse_newer = [&](int found) {
        if (found > latest_version()) {
            throw std::runtime_error(fmt::format(
                "database {} has schema version {}, this tpmbot knows up to {}; upgrade tpmbot",
                path, found, latest_version()));
        }
    };
    int version = current_version(db);
    refuse_newer(version);
    for (const auto& m : migrations) {
        if (m.version <= version) {
            continue;
        }
        // IMMEDIATE takes the write lock first, so two processes starting together cannot
        // both apply the same migration: the second waits, then sees the new version.
        db.exec("BEGIN IMMEDIATE");
        try {
            version = current_version(db);
            refuse_newer(version);
            if (m.version > version) {
                db.exec(std::string(m.sql));
                db.exec(fmt::format("PRAGMA user_version = {}", m.version));
                version = m.version;
            }
            db.exec("COMMIT");
        } catch (...) {
            rollback_quietly(db);
            throw;
        }
    }
}

} // namespace tpmbot::schema
