#include "pg_schema.hpp"

#include "pq.hpp"

#include <cstdint>
#include <fmt/format.h>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace tpmbot::pg_schema {

namespace {

/// One step of the schema's history. Never edit a released migration: append a new one,
/// with the same number as the SQLite migration that makes the same change.
struct migration {
    int version;
    std::string_view sql;
};

// PostgreSQL support starts at the SQLite schema's version 6: a new database gets that
// schema whole. Compared with SQLite:
//  - every text column is COLLATE "C", so text compares and sorts by bytes as SQLite's
//    BINARY collation does, whatever the database's locale;
//  - areas' names compare as SQLite's NOCASE does (ASCII letters only): lower() under "C"
//    folds exactly those, and a unique index on it replaces the NOCASE key;
//  - inbox and standup_entries carry `seq`, the insertion order SQLite's rowid gives (the
//    oldest first among equal times; an upsert keeps it);
//  - flags are BOOLEAN, times and ids BIGINT, ids of appended rows identities (never reused,
//    like SQLite's AUTOINCREMENT).
// Text columns are NOT NULL DEFAULT '' so an unset field reads back as the empty string the
// model uses; times are Unix seconds, 0 when unset.
constexpr std::string_view v6 = R"sql(
CREATE TABLE counters (
    team_id TEXT COLLATE "C" NOT NULL,
    kind    TEXT COLLATE "C" NOT NULL,
    next    BIGINT NOT NULL,
    PRIMARY KEY (team_id, kind)
);

CREATE TABLE items (
    team_id        TEXT COLLATE "C" NOT NULL,
    kind           TEXT COLLATE "C" NOT NULL,
    num            BIGINT NOT NULL,
    channel_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
    reporter       TEXT COLLATE "C" NOT NULL DEFAULT '',
    dri            TEXT COLLATE "C" NOT NULL DEFAULT '',
    status         TEXT COLLATE "C" NOT NULL DEFAULT '',
    title          TEXT COLLATE "C" NOT NULL DEFAULT '',
    severity       TEXT COLLATE "C" NOT NULL DEFAULT '',
    waiting_on     TEXT COLLATE "C" NOT NULL DEFAULT '',
    area           TEXT COLLATE "C" NOT NULL DEFAULT '',
    due            TEXT COLLATE "C" NOT NULL DEFAULT '',
    consulted      TEXT COLLATE "C",
    options        TEXT COLLATE "C",
    outcome        TEXT COLLATE "C" NOT NULL DEFAULT '',
    rationale      TEXT COLLATE "C" NOT NULL DEFAULT '',
    note           TEXT COLLATE "C" NOT NULL DEFAULT '',
    probability    TEXT COLLATE "C" NOT NULL DEFAULT '',
    impact         TEXT COLLATE "C" NOT NULL DEFAULT '',
    mitigation     TEXT COLLATE "C" NOT NULL DEFAULT '',
    from_who       TEXT COLLATE "C" NOT NULL DEFAULT '',
    for_item       TEXT COLLATE "C" NOT NULL DEFAULT '',
    supersedes     TEXT COLLATE "C" NOT NULL DEFAULT '',
    superseded_by  TEXT COLLATE "C" NOT NULL DEFAULT '',
    thread_channel TEXT COLLATE "C" NOT NULL DEFAULT '',
    thread_ts      TEXT COLLATE "C" NOT NULL DEFAULT '',
    permalink      TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL DEFAULT 0,
    closed_at      BIGINT NOT NULL DEFAULT 0,
    escalated_at   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, kind, num)
);
CREATE INDEX items_status ON items (team_id, kind, status);
CREATE INDEX items_dri ON items (team_id, dri);
CREATE INDEX items_channel_status ON items (team_id, channel_id, kind, status, created_at);
CREATE INDEX items_channel_created ON items (team_id, channel_id, kind, created_at);
CREATE INDEX items_channel_closed ON items (team_id, channel_id, kind, closed_at, created_at,
                                           status);

CREATE TABLE item_history (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id TEXT COLLATE "C" NOT NULL,
    kind    TEXT COLLATE "C" NOT NULL,
    num     BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    actor   TEXT COLLATE "C" NOT NULL DEFAULT '',
    action  TEXT COLLATE "C" NOT NULL DEFAULT '',
    detail  TEXT COLLATE "C" NOT NULL DEFAULT ''
);
CREATE INDEX item_history_item ON item_history (team_id, kind, num, id);

CREATE TABLE areas (
    team_id    TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    owner      TEXT COLLATE "C" NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, name)
);
CREATE UNIQUE INDEX areas_name_nocase ON areas (team_id, lower(name));

CREATE TABLE admins (
    team_id  TEXT COLLATE "C" NOT NULL,
    user_id  TEXT COLLATE "C" NOT NULL,
    added_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE users (
    team_id    TEXT COLLATE "C" NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL,
    tz         TEXT COLLATE "C" NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL DEFAULT 0,
    is_admin   BOOLEAN NOT NULL DEFAULT false,
    deleted    BOOLEAN NOT NULL DEFAULT false,
    name       TEXT COLLATE "C" NOT NULL DEFAULT '',
    is_bot     BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id         TEXT COLLATE "C" NOT NULL,
    destination     TEXT COLLATE "C" NOT NULL,
    channel         TEXT COLLATE "C" NOT NULL DEFAULT '',
    "user"          TEXT COLLATE "C" NOT NULL DEFAULT '',
    thread_ts       TEXT COLLATE "C" NOT NULL DEFAULT '',
    item            TEXT COLLATE "C" NOT NULL DEFAULT '',
    is_card         BOOLEAN NOT NULL DEFAULT false,
    text            TEXT COLLATE "C" NOT NULL DEFAULT '',
    buttons         TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    state           TEXT COLLATE "C" NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    ts              TEXT COLLATE "C" NOT NULL DEFAULT '',
    error           TEXT COLLATE "C" NOT NULL DEFAULT '',
    sent_at         BIGINT NOT NULL DEFAULT 0,
    last_attempt_at BIGINT NOT NULL DEFAULT 0,
    blocks          TEXT COLLATE "C" NOT NULL DEFAULT '',
    unsure          BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX outbox_state ON outbox (state, id);

CREATE TABLE inbox (
    event_id     TEXT COLLATE "C" PRIMARY KEY,
    team_id      TEXT COLLATE "C" NOT NULL DEFAULT '',
    payload      TEXT COLLATE "C" NOT NULL DEFAULT '',
    received_at  BIGINT NOT NULL,
    processed_at BIGINT,
    seq          BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX inbox_unprocessed ON inbox (received_at, seq) WHERE processed_at IS NULL;

CREATE TABLE job_claims (
    job        TEXT COLLATE "C" NOT NULL,
    period     TEXT COLLATE "C" NOT NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (job, period)
);

CREATE TABLE settings (
    team_id    TEXT COLLATE "C" NOT NULL,
    key        TEXT COLLATE "C" NOT NULL,
    value      TEXT COLLATE "C" NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, key)
);

CREATE TABLE standups (
    team_id       TEXT COLLATE "C" NOT NULL,
    channel_id    TEXT COLLATE "C" NOT NULL,
    minute        INTEGER NOT NULL DEFAULT 0,
    report_minute INTEGER NOT NULL DEFAULT 0,
    days          INTEGER NOT NULL DEFAULT 0,
    tz            TEXT COLLATE "C" NOT NULL DEFAULT '',
    members       TEXT COLLATE "C" NOT NULL DEFAULT '',
    whole_channel BOOLEAN NOT NULL DEFAULT false,
    paused        BOOLEAN NOT NULL DEFAULT false,
    created_by    TEXT COLLATE "C" NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL DEFAULT 0,
    updated_at    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, channel_id)
);

CREATE TABLE standup_people (
    team_id    TEXT COLLATE "C" NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL,
    tz         TEXT COLLATE "C" NOT NULL DEFAULT '',
    ooo_until  TEXT COLLATE "C" NOT NULL DEFAULT '',
    skip_day   TEXT COLLATE "C" NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE standup_runs (
    team_id        TEXT COLLATE "C" NOT NULL,
    channel_id     TEXT COLLATE "C" NOT NULL,
    period         TEXT COLLATE "C" NOT NULL,
    report_due     BIGINT NOT NULL DEFAULT 0,
    reported_at    BIGINT NOT NULL DEFAULT 0,
    digest_channel TEXT COLLATE "C" NOT NULL DEFAULT '',
    digest_ts      TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (team_id, channel_id, period)
);
CREATE INDEX standup_runs_unreported ON standup_runs (report_due) WHERE reported_at = 0;

CREATE TABLE standup_entries (
    team_id      TEXT COLLATE "C" NOT NULL,
    channel_id   TEXT COLLATE "C" NOT NULL,
    period       TEXT COLLATE "C" NOT NULL,
    user_id      TEXT COLLATE "C" NOT NULL,
    state        TEXT COLLATE "C" NOT NULL DEFAULT '',
    note         TEXT COLLATE "C" NOT NULL DEFAULT '',
    answers      TEXT COLLATE "C" NOT NULL DEFAULT '',
    prompted_at  BIGINT NOT NULL DEFAULT 0,
    reminder_due BIGINT NOT NULL DEFAULT 0,
    reminded_at  BIGINT NOT NULL DEFAULT 0,
    answered_at  BIGINT NOT NULL DEFAULT 0,
    late         BOOLEAN NOT NULL DEFAULT false,
    seq          BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (team_id, channel_id, period, user_id)
);
CREATE INDEX standup_entries_open ON standup_entries (team_id, user_id, state);
CREATE INDEX standup_entries_reminder ON standup_entries (state, reminded_at, reminder_due);
CREATE INDEX standup_entries_latest ON standup_entries (team_id, user_id, prompted_at, seq);

CREATE TABLE standup_messages (
    team_id        TEXT COLLATE "C" NOT NULL,
    user_id        TEXT COLLATE "C" NOT NULL,
    ts             TEXT COLLATE "C" NOT NULL,
    channel_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
    period         TEXT COLLATE "C" NOT NULL DEFAULT '',
    first_question INTEGER NOT NULL DEFAULT 0,
    count          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, user_id, ts)
);

CREATE TABLE channel_members (
    team_id    TEXT COLLATE "C" NOT NULL,
    channel_id TEXT COLLATE "C" NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (team_id, channel_id, user_id)
);

-- One row per channel whose members were read, so "never read" differs from "no members".
CREATE TABLE channel_members_read (
    team_id    TEXT COLLATE "C" NOT NULL,
    channel_id TEXT COLLATE "C" NOT NULL,
    read_at    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, channel_id)
);
)sql";

/// Version 7: interactivity, as SQLite's version 7 (see storage/schema.cpp).
constexpr std::string_view v7 = R"sql(
ALTER TABLE items ADD COLUMN snoozed_until BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN name TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE TABLE posts (
    team_id   TEXT COLLATE "C" NOT NULL,
    name      TEXT COLLATE "C" NOT NULL,
    channel   TEXT COLLATE "C" NOT NULL,
    ts        TEXT COLLATE "C" NOT NULL,
    posted_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, name)
);
INSERT INTO posts (team_id, name, channel, ts, posted_at)
    SELECT team_id, 'card:' || item, channel, ts, sent_at FROM outbox
    WHERE destination = 'channel' AND state = 'sent' AND ts != '' AND item != ''
      AND item NOT LIKE 'standup:%' ORDER BY id
    ON CONFLICT DO NOTHING;
CREATE TABLE polls (
    team_id   TEXT COLLATE "C" NOT NULL,
    num       BIGINT NOT NULL,
    opened_by TEXT COLLATE "C" NOT NULL DEFAULT '',
    opened_at BIGINT NOT NULL DEFAULT 0,
    closes_at BIGINT NOT NULL DEFAULT 0,
    closed_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, num)
);
CREATE INDEX polls_open ON polls (closes_at) WHERE closed_at = 0;
CREATE TABLE poll_votes (
    team_id  TEXT COLLATE "C" NOT NULL,
    num      BIGINT NOT NULL,
    user_id  TEXT COLLATE "C" NOT NULL,
    choice   INTEGER NOT NULL,
    voted_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, num, user_id)
);
)sql";

/// In order; versions count up without gaps from the first.
constexpr migration migrations[] = {
    {6, v6},
    {7, v7},
};

using result_ptr = std::unique_ptr<PGresult, decltype(PQclear)>;

/// Runs `sql` with `params` (text format, types inferred from the statement) and checks it
/// succeeded; throws std::runtime_error naming `name` otherwise.
result_ptr run(PGconn* conn, const std::string& name, std::string_view sql,
               std::initializer_list<std::string> params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) {
        values.push_back(p.c_str());
    }
    std::string text(sql);
    result_ptr r(params.size() == 0
                     ? PQexec(conn, text.c_str())
                     : PQexecParams(conn, text.c_str(), static_cast<int>(values.size()), nullptr,
                                    values.data(), nullptr, nullptr, 0),
                 PQclear);
    auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        std::string why = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn);
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
            why.pop_back();
        }
        throw std::runtime_error(fmt::format("cannot migrate database {}: {}", name, why));
    }
    return r;
}

/// Rolls back whatever transaction is open, ignoring errors.
void rollback_quietly(PGconn* conn) {
    auto status = PQtransactionStatus(conn);
    if (status == PQTRANS_INTRANS || status == PQTRANS_INERROR) {
        PQclear(PQexec(conn, "ROLLBACK"));
    }
}

} // namespace

int latest_version() {
    return migrations[std::size(migrations) - 1].version;
}

// FNV-1a: stable across builds and machines, so every process computes the same key.
std::int64_t lock_key(std::string_view purpose, std::string_view schema) {
    std::uint64_t h = 14695981039346656037ULL;
    auto mix = [&](std::string_view s) {
        for (char c : s) {
            h ^= static_cast<unsigned char>(c);
            h *= 1099511628211ULL;
        }
    };
    mix(purpose);
    mix(":");
    mix(schema);
    return static_cast<std::int64_t>(h);
}

void migrate(PGconn* conn, const std::string& name) {
    auto schema = run(conn, name, "SELECT current_schema()");
    if (PQgetisnull(schema.get(), 0, 0) != 0) {
        throw std::runtime_error(fmt::format("cannot migrate database {}: its search_path names "
                                             "no existing schema to create the tables in",
                                             name));
    }
    std::string in_schema = PQgetvalue(schema.get(), 0, 0);
    run(conn, name, "BEGIN");
    try {
        // A later migration may take a while: waiting for another process's is no failure.
        run(conn, name, "SET LOCAL lock_timeout = '120s'");
        run(conn, name, "SELECT pg_advisory_xact_lock($1::bigint)",
            {std::to_string(lock_key("tpmbot:migrate", in_schema))});
        bool exists = false;
        {
            auto r = run(conn, name, "SELECT to_regclass('tpmbot_schema') IS NOT NULL");
            exists = std::string_view(PQgetvalue(r.get(), 0, 0)) == "t";
        }
        int version = 0;
        bool has_row = false;
        if (exists) {
            auto r = run(conn, name, "SELECT version FROM tpmbot_schema");
            if (PQntuples(r.get()) > 1) {
                throw std::runtime_error(fmt::format(
                    "cannot migrate database {}: tpmbot_schema holds more than one row", name));
            }
            has_row = PQntuples(r.get()) == 1;
            version = has_row ? std::stoi(PQgetvalue(r.get(), 0, 0)) : 0;
        }
        if (version > latest_version()) {
            throw std::runtime_error(fmt::format(
                "database {} has schema version {}, this tpmbot knows up to {}; upgrade tpmbot",
                name, version, latest_version()));
        }
        if (version > 0 && version < migrations[0].version) {
            throw std::runtime_error(
                fmt::format("cannot migrate database {}: schema version {} predates this "
                            "tpmbot's PostgreSQL support (version {})",
                            name, version, migrations[0].version));
        }
        if (version < latest_version()) {
            if (!exists) {
                run(conn, name, "CREATE TABLE tpmbot_schema (version INTEGER NOT NULL)");
            }
            for (const auto& m : migrations) {
                if (m.version > version) {
                    run(conn, name, m.sql);
                    version = m.version;
                }
            }
            run(conn, name,
                has_row ? "UPDATE tpmbot_schema SET version = $1::integer"
                        : "INSERT INTO tpmbot_schema (version) VALUES ($1::integer)",
                {std::to_string(version)});
        }
        run(conn, name, "COMMIT");
    } catch (...) {
        rollback_quietly(conn);
        throw;
    }
}

} // namespace tpmbot::pg_schema
