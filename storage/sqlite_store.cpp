#include "sqlite_store.hpp"

#include "codec.hpp"
#include "schema.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <atomic>
#include <concepts>
#include <condition_variable>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <sqlite3.h>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <variant>

namespace tpmbot {

namespace {

using codec::destination_text;
using codec::encode_blocks;
using codec::encode_buttons;
using codec::encode_json_list;
using codec::encode_list;
using codec::entry_columns;
using codec::item_columns;
using codec::message_columns;
using codec::outbox_columns;
using codec::person_columns;
using codec::poll_columns;
using codec::run_columns;
using codec::sql_value;
using codec::standup_columns;
using codec::user_columns;
using codec::vote_columns;

// Binding: one overload per stored type, so every value goes through a placeholder.
void bind_one(SQLite::Statement& s, int i, std::string_view v) {
    s.bind(i, std::string(v));
}
void bind_one(SQLite::Statement& s, int i, const std::string& v) {
    s.bind(i, v);
}
void bind_one(SQLite::Statement& s, int i, std::int64_t v) {
    s.bind(i, v);
}
void bind_one(SQLite::Statement& s, int i, int v) {
    s.bind(i, v);
}
/// A flag as 0 or 1. Only a bool itself: a pointer or a number must not turn into one.
template <std::same_as<bool> B>
void bind_one(SQLite::Statement& s, int i, B v) {
    s.bind(i, v ? 1 : 0);
}
void bind_one(SQLite::Statement& s, int i, item_kind k) {
    s.bind(i, std::string(kind_prefix(k)));
}
void bind_one(SQLite::Statement& s, int i, const std::optional<std::string>& v) {
    if (v) {
        s.bind(i, *v);
    } else {
        s.bind(i);
    }
}

template <class... Args>
void bind_all(SQLite::Statement& s, const Args&... args) {
    int i = 0;
    (bind_one(s, ++i, args), ...);
}

std::string text(const SQLite::Statement& s, int i) {
    auto c = s.getColumn(i);
    return c.isNull() ? std::string() : c.getString();
}

std::int64_t integer(const SQLite::Statement& s, int i) {
    return s.getColumn(i).getInt64();
}

/// A cached statement with `args` bound to its placeholders in order, reset when it leaves
/// scope, so no read transaction stays open (in WAL an unfinished SELECT pins an old
/// snapshot) and the next use starts clean.
class statement_use {
public:
    template <class... Args>
    explicit statement_use(SQLite::Statement& s, const Args&... args) : s_(s) {
        s_.tryReset();
        s_.clearBindings();
        bind_all(s_, args...);
    }
    ~statement_use() { s_.tryReset(); }
    statement_use(const statement_use&) = delete;
    statement_use& operator=(const statement_use&) = delete;
    SQLite::Statement* operator->() { return &s_; }
    SQLite::Statement& operator*() { return s_; }

private:
    SQLite::Statement& s_;
};

/// The current row of a statement, as the codec's readers see it.
struct sqlite_row {
    const SQLite::Statement& s;
    std::string text(int i) const { return tpmbot::text(s, i); }
    std::int64_t integer(int i) const { return tpmbot::integer(s, i); }
    bool flag(int i) const { return integer(i) != 0; }
    bool null(int i) const { return s.getColumn(i).isNull(); }
};

/// Every row of a statement, each read with `read` (one of the codec's readers).
template <class Read>
auto collect(SQLite::Statement& s, Read read) {
    std::vector<decltype(read(sqlite_row{s}))> out;
    while (s.executeStep()) {
        out.push_back(read(sqlite_row{s}));
    }
    return out;
}

/// The first row read with `read`, nullopt when there is none.
template <class Read>
auto first(SQLite::Statement& s, Read read) -> std::optional<decltype(read(sqlite_row{s}))> {
    if (!s.executeStep()) {
        return std::nullopt;
    }
    return read(sqlite_row{s});
}

/// SQLite treats a negative LIMIT as none.
std::int64_t sql_limit(int limit) {
    return limit > 0 ? limit : -1;
}

bool is_memory(const std::string& path) {
    return path.empty() || path == ":memory:";
}

/// Process-wide settings, before SQLite is first used: no memory statistics, which take a
/// global mutex at every allocation (nothing here reads them). Too late once SQLite is
/// initialized (SQLITE_MISUSE), which only leaves them on.
void configure_sqlite_once() {
    static const bool done = [] {
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
        return true;
    }();
    (void)done;
}

SQLite::Database open_database(const std::string& path) {
    configure_sqlite_once();
    try {
        // NOMUTEX: a connection is used by one thread at a time (the store's owner, or the
        // checkpointer its own), so SQLite need not lock it at every call.
        SQLite::Database db(
            path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX, 5000);
        db.exec("PRAGMA foreign_keys = ON");
        if (!is_memory(path)) {
            // The first statement that reads the file: a non-database fails here.
            auto mode = db.execAndGet("PRAGMA journal_mode = WAL").getString();
            if (mode != "wal") {
                throw std::runtime_error("cannot switch to WAL, journal_mode is " + mode);
            }
        }
        // FULL, not NORMAL: in WAL, NORMAL may lose the last commits on power loss, and an
        // acked command must survive (SPEC §8 "nothing acked is lost").
        db.exec("PRAGMA synchronous = FULL");
        // After a burst the WAL is cut back to this size when it starts over, instead of
        // keeping its largest size on disk.
        db.exec("PRAGMA journal_size_limit = 67108864");
        // Each command of a group commit runs in a savepoint, whose journal (the pages it
        // changes, as they were) is a temporary file: kept in memory, it costs a copy
        // instead of a write to disk. It lives only until the savepoint ends.
        db.exec("PRAGMA temp_store = MEMORY");
        return db;
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("cannot open database {}: {}", path, e.what()));
    }
}

/// Rolls back whatever transaction is open, ignoring errors (SQLite may already have rolled
/// back on its own after SQLITE_FULL, SQLITE_IOERR, ...).
void rollback_quietly(SQLite::Database& db) {
    if (sqlite3_get_autocommit(db.getHandle()) == 0) {
        db.tryExec("ROLLBACK");
    }
}

/// A nested transaction found its enclosing one rolled back by SQLite itself, which it does
/// after a full disk or an I/O error.
struct rolled_back : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Checkpoints the WAL from a thread of its own, on a connection of its own, so a commit never
/// waits for the copy into the database file and its fsync (`start_checkpointer`).
class checkpointer {
public:
    checkpointer(const std::string& path, int pages, std::chrono::milliseconds interval)
        : db_(path, SQLite::OPEN_READWRITE | SQLite::OPEN_NOMUTEX, 5000), pages_(pages),
          interval_(interval), thread_([this] { loop(); }) {}

    ~checkpointer() {
        {
            std::lock_guard lock(m_);
            stop_ = true;
        }
        cv_.notify_one();
        thread_.join();
    }

    checkpointer(const checkpointer&) = delete;
    checkpointer& operator=(const checkpointer&) = delete;

    /// After a commit that left `wal_pages` pages in the WAL (SQLite's WAL hook).
    void committed(int wal_pages) {
        if (wal_pages < pages_) {
            return;
        }
        {
            std::lock_guard lock(m_);
            due_ = true;
        }
        cv_.notify_one();
    }

    std::int64_t runs() const { return runs_.load(); }

private:
    void loop() {
        try {
            // A connection is in WAL mode only once it has read the file; the checkpoint
            // needs it to be. FULL also syncs the database file after each copy.
            db_.exec("PRAGMA synchronous = FULL");
            db_.execAndGet("PRAGMA journal_mode").getString();
        } catch (const std::exception&) {
            // Tried again by each checkpoint, which then fails and leaves the WAL as it is.
        }
        std::unique_lock lock(m_);
        while (!stop_) {
            cv_.wait_for(lock, interval_, [this] { return stop_ || due_; });
            if (stop_) {
                break;
            }
            due_ = false;
            lock.unlock();
            // PASSIVE copies what no reader still needs and never blocks the writer; the
            // writer starts the WAL over once everything in it has been copied. A failure
            // (busy, a full disk) leaves the WAL as it is, to be tried again at the next turn.
            int log_pages = 0;
            int copied = 0;
            if (sqlite3_wal_checkpoint_v2(db_.getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                          &log_pages, &copied) == SQLITE_OK) {
                ++runs_;
            }
            lock.lock();
        }
    }

    SQLite::Database db_;
    int pages_;
    std::chrono::milliseconds interval_;
    std::mutex m_;
    std::condition_variable cv_;
    bool stop_ = false;
    bool due_ = false;
    std::atomic<std::int64_t> runs_{0};
    std::thread thread_; ///< last: started once everything it uses is ready
};

} // namespace

/// SQL written as a string literal in the source. The constructor runs at compile time and
/// reads the text's last character, which a compile-time evaluation may do only in a constant:
/// so only a literal (never a buffer, even a static one) makes one, and its address lives as
/// long as the program.
struct sql_literal {
    template <std::size_t N>
    consteval sql_literal(const char (&literal)[N]) // NOLINT: implicit by design
        : text(literal), size(N - 1) {
        if (literal[N - 1] != '\0') {
            throw "sql_literal: not a string literal";
        }
    }
    const char* text;
    std::size_t size;
};

struct sqlite_store::impl {
    std::string path;
    SQLite::Database db;
    /// Prepared statements by SQL text. Declared after `db`, so destroyed before it.
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements;
    /// Open `transact` calls; 0 outside any.
    int depth = 0;

    /// Set by `start_checkpointer`; declared after `db` so it stops before `db` closes.
    std::unique_ptr<checkpointer> wal_checkpointer;

    ~impl() {
        if (wal_checkpointer) {
            sqlite3_wal_hook(db.getHandle(), nullptr, nullptr);
        }
    }

    explicit impl(const std::string& p) : path(p), db(open_database(p)) {
        try {
            schema::migrate(db, path);
        } catch (const SQLite::Exception& e) {
            throw std::runtime_error(fmt::format("cannot migrate database {}: {}", path, e.what()));
        }
    }

    /// The same statements by the address of their SQL when it is a string literal, which
    /// lives as long as the program: found without building a std::string of the text and
    /// hashing it, a dozen times per command.
    std::unordered_map<const char*, SQLite::Statement*> by_literal;
    /// Statements whose SQL is a literal format with a column list in place of its `{}`, by
    /// the addresses of both.
    std::map<std::pair<const char*, const char*>, SQLite::Statement*> by_format;

    SQLite::Statement& statement(const std::string& sql) {
        auto& slot = statements[sql];
        if (!slot) {
            slot = std::make_unique<SQLite::Statement>(db, sql);
        }
        return *slot;
    }

    /// The cached prepared statement for `sql`, with `args` bound to its placeholders. SQL
    /// built at run time (a std::string) is found by its text.
    template <class Sql, class... Args>
    requires std::same_as<Sql, std::string> statement_use prepare(const Sql& sql,
                                                                  const Args&... args) {
        return statement_use(statement(sql), args...);
    }

    /// The same for SQL written as a literal, found by its address.
    template <class... Args>
    statement_use prepare(sql_literal sql, const Args&... args) {
        auto& known = by_literal[sql.text];
        if (!known) {
            known = &statement(std::string(sql.text, sql.size));
        }
        return statement_use(*known, args...);
    }

    /// The same for a literal `format` (checked at compile time) whose `{}` is `columns` (one
    /// of the column-list constants, which live as long as the program): formatted once, on
    /// first use.
    template <class... Args>
    statement_use prepare_cols(const char* columns, fmt::format_string<const char*> format,
                               const Args&... args) {
        fmt::string_view text = format;
        auto& known = by_format[{text.data(), columns}];
        if (!known) {
            known = &statement(fmt::format(fmt::runtime(text), columns));
        }
        return statement_use(*known, args...);
    }

    /// Runs a statement that returns no rows; returns how many rows it changed.
    template <class Sql, class... Args>
    requires std::same_as<Sql, std::string>
    int exec(const Sql& sql, const Args&... args) { return prepare(sql, args...)->exec(); }

    template <class... Args>
    int exec(sql_literal sql, const Args&... args) {
        return prepare(sql, args...)->exec();
    }

    template <class... Args>
    int exec_cols(const char* columns, fmt::format_string<const char*> format,
                  const Args&... args) {
        return prepare_cols(columns, format, args...)->exec();
    }
};

bool sqlite_store::unwritable(const std::exception& e) {
    if (dynamic_cast<const rolled_back*>(&e) != nullptr) {
        return true;
    }
    const auto* sql = dynamic_cast<const SQLite::Exception*>(&e);
    if (sql == nullptr) {
        return false;
    }
    switch (sql->getErrorCode()) {
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
        return true;
    default:
        return false;
    }
}

sqlite_store::sqlite_store(const std::string& path) : impl_(std::make_unique<impl>(path)) {}

sqlite_store::~sqlite_store() = default;

void sqlite_store::start_checkpointer(int pages, std::chrono::milliseconds interval) {
    auto& d = *impl_;
    if (is_memory(d.path) || d.wal_checkpointer) {
        return;
    }
    d.wal_checkpointer = std::make_unique<checkpointer>(d.path, std::max(pages, 1), interval);
    // Replaces SQLite's automatic checkpoint, which is itself a WAL hook.
    sqlite3_wal_hook(
        d.db.getHandle(),
        [](void* cp, sqlite3*, const char*, int wal_pages) {
            static_cast<checkpointer*>(cp)->committed(wal_pages);
            return SQLITE_OK;
        },
        d.wal_checkpointer.get());
}

std::int64_t sqlite_store::checkpoints() const {
    return impl_->wal_checkpointer ? impl_->wal_checkpointer->runs() : 0;
}

int sqlite_store::schema_version() {
    return schema::current_version(impl_->db);
}

int sqlite_store::latest_schema_version() {
    return schema::latest_version();
}

void sqlite_store::transact(const std::function<void()>& body) {
    auto& d = *impl_;
    auto& db = d.db;
    auto& depth = d.depth;
    struct depth_guard {
        int& d;
        ~depth_guard() { --d; }
    };
    // The control statements are prepared once, like every other (d.exec): a command's
    // transaction is on the path to its ack.
    if (depth == 0) {
        // IMMEDIATE takes the write lock up front: a busy database waits here (busy timeout)
        // instead of failing half-way through the body when it first writes.
        d.exec("BEGIN IMMEDIATE");
        ++depth;
        depth_guard guard{depth};
        try {
            body();
            d.exec("COMMIT");
        } catch (...) {
            rollback_quietly(db);
            throw;
        }
        return;
    }
    // Nested: a savepoint inside the outer transaction, so a failing inner body that the
    // outer one catches leaves none of its writes behind.
    auto outer_gone = [&] {
        // SQLite rolls the whole transaction back by itself after some errors (SQLITE_FULL,
        // SQLITE_IOERR, ...). Going on would run what follows in autocommit mode, each
        // statement committed alone: the caller must give the whole transaction up instead.
        if (sqlite3_get_autocommit(db.getHandle()) != 0) {
            throw rolled_back("the transaction was rolled back by SQLite after an error");
        }
    };
    outer_gone();
    auto name = "tpmbot_nested_" + std::to_string(depth);
    d.exec("SAVEPOINT " + name);
    ++depth;
    depth_guard guard{depth};
    try {
        body();
    } catch (...) {
        if (sqlite3_get_autocommit(db.getHandle()) == 0) {
            db.tryExec("ROLLBACK TO " + name);
            db.tryExec("RELEASE " + name);
        }
        throw;
    }
    outer_gone();
    d.exec("RELEASE " + name);
}

void sqlite_store::transact_relaxed(const std::function<void()>& body) {
    auto& d = *impl_;
    if (d.depth > 0) {
        transact(body);
        return;
    }
    d.exec("PRAGMA synchronous = NORMAL");
    struct restore {
        impl& d;
        ~restore() {
            try {
                d.exec("PRAGMA synchronous = FULL");
            } catch (...) {
                // Outside a transaction this cannot fail but for lack of memory; the next
                // transact would then also wait for the disk less than it should, which the
                // retry at the next call puts right.
            }
        }
    } guard{d};
    transact(body);
}

std::int64_t sqlite_store::next_number(std::string_view team_id, item_kind kind) {
    auto s = impl_->prepare("INSERT INTO counters (team_id, kind, next) VALUES (?, ?, 1) "
                            "ON CONFLICT (team_id, kind) DO UPDATE SET next = next + 1 "
                            "RETURNING next",
                            team_id, kind);
    if (!s->executeStep()) {
        throw std::runtime_error("next_number: the counter upsert returned no row");
    }
    auto n = integer(*s, 0);
    while (s->executeStep()) {
    }
    return n;
}

void sqlite_store::insert_item(const item& it) {
    impl_->exec_cols(item_columns,
                     "INSERT INTO items ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                     "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                     "?, ?, ?, ?, ?, ?)",
                     it.team_id, it.kind, it.num, it.channel_id, it.reporter, it.dri, it.status,
                     it.title, it.severity, it.waiting_on, it.area, it.due,
                     encode_list(it.consulted), encode_list(it.options), it.outcome, it.rationale,
                     it.note, it.probability, it.impact, it.mitigation, it.from_who, it.for_item,
                     it.supersedes, it.superseded_by, it.thread_channel, it.thread_ts, it.permalink,
                     it.created_at, it.updated_at, it.closed_at, it.escalated_at, it.snoozed_until);
}

std::optional<item> sqlite_store::find_item(std::string_view team_id, item_id id) {
    auto s = impl_->prepare_cols(item_columns,
                                 "SELECT {} FROM items WHERE team_id = ? AND kind = ? AND num = ?",
                                 team_id, id.kind, id.num);
    return first(*s, codec::read_item<sqlite_row>);
}

void sqlite_store::update_item(const item& it) {
    // thread_channel/thread_ts keep their stored value when the update carries none: the
    // sender may have recorded the card's thread since the caller read the item.
    auto changed = impl_->exec(
        "UPDATE items SET channel_id = ?, reporter = ?, dri = ?, status = ?, title = ?, "
        "severity = ?, waiting_on = ?, area = ?, due = ?, consulted = ?, options = ?, "
        "outcome = ?, rationale = ?, note = ?, probability = ?, impact = ?, mitigation = ?, "
        "from_who = ?, for_item = ?, supersedes = ?, superseded_by = ?, "
        "thread_channel = CASE WHEN ? = '' THEN thread_channel ELSE ? END, "
        "thread_ts = CASE WHEN ? = '' THEN thread_ts ELSE ? END, "
        "permalink = ?, updated_at = ?, closed_at = ?, escalated_at = ?, snoozed_until = ? "
        "WHERE team_id = ? AND kind = ? AND num = ?",
        it.channel_id, it.reporter, it.dri, it.status, it.title, it.severity, it.waiting_on,
        it.area, it.due, encode_list(it.consulted), encode_list(it.options), it.outcome,
        it.rationale, it.note, it.probability, it.impact, it.mitigation, it.from_who, it.for_item,
        it.supersedes, it.superseded_by, it.thread_channel, it.thread_channel, it.thread_ts,
        it.thread_ts, it.permalink, it.updated_at, it.closed_at, it.escalated_at, it.snoozed_until,
        it.team_id, it.kind, it.num);
    if (changed == 0) {
        throw std::runtime_error(
            fmt::format("update_item: no item {} in team {}", it.id_str(), it.team_id));
    }
}

namespace {

void bind_values(SQLite::Statement& s, const std::vector<sql_value>& values) {
    int i = 0;
    for (const auto& v : values) {
        std::visit([&](const auto& x) { bind_one(s, ++i, x); }, v);
    }
}

} // namespace

std::vector<item> sqlite_store::list_items(const item_query& q) {
    // Only fixed SQL fragments are pasted; every value is a placeholder bound below.
    auto built = codec::item_sql(q, false, codec::dialect::sqlite);
    auto s = impl_->prepare(built.sql);
    bind_values(*s, built.values);
    return collect(*s, codec::read_item<sqlite_row>);
}

std::int64_t sqlite_store::count_items(const item_query& q) {
    auto built = codec::item_sql(q, true, codec::dialect::sqlite);
    auto s = impl_->prepare(built.sql);
    bind_values(*s, built.values);
    if (!s->executeStep()) {
        throw std::runtime_error("count_items: the count returned no row");
    }
    return integer(*s, 0);
}

std::int64_t sqlite_store::steps(const item_query& q, bool count) {
    // SQLiteCpp does not hand out its sqlite3_stmt, and the counter lives there.
    auto built = codec::item_sql(q, count, codec::dialect::sqlite);
    auto* db = impl_->db.getHandle();
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, built.sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
        throw std::runtime_error(fmt::format("steps: {}", sqlite3_errmsg(db)));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
    int i = 0;
    for (const auto& v : built.values) {
        ++i;
        if (const auto* str = std::get_if<std::string>(&v)) {
            sqlite3_bind_text(raw, i, str->data(), static_cast<int>(str->size()), SQLITE_TRANSIENT);
        } else {
            sqlite3_bind_int64(raw, i, std::get<std::int64_t>(v));
        }
    }
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) {
        throw std::runtime_error(fmt::format("steps: {}", sqlite3_errmsg(db)));
    }
    return sqlite3_stmt_status(raw, SQLITE_STMTSTATUS_VM_STEP, 0);
}

std::string sqlite_store::explain(const item_query& q, bool count) {
    auto built = codec::item_sql(q, count, codec::dialect::sqlite);
    SQLite::Statement s(impl_->db, "EXPLAIN QUERY PLAN " + built.sql);
    bind_values(s, built.values);
    // Rows are (id, parent, notused, detail); a step is indented under its parent.
    std::unordered_map<int, int> depth;
    std::string out;
    while (s.executeStep()) {
        int id = s.getColumn(0).getInt();
        int parent = s.getColumn(1).getInt();
        auto found = depth.find(parent);
        int d = found == depth.end() ? 0 : found->second + 1;
        depth[id] = d;
        if (!out.empty()) {
            out += '\n';
        }
        out += std::string(static_cast<std::size_t>(d) * 2, ' ');
        out += s.getColumn(3).getString();
    }
    return out;
}

void sqlite_store::append_history(const history_entry& h) {
    impl_->exec("INSERT INTO item_history (team_id, kind, num, at, actor, action, "
                "detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                h.team_id, h.kind, h.num, h.at, h.actor, h.action, h.detail);
}

std::vector<history_entry> sqlite_store::history(std::string_view team_id, item_id id) {
    auto s = impl_->prepare_cols(codec::history_columns,
                                 "SELECT {} FROM item_history WHERE team_id = ? AND "
                                 "kind = ? AND num = ? ORDER BY id",
                                 team_id, id.kind, id.num);
    return collect(*s, codec::read_history<sqlite_row>);
}

void sqlite_store::set_area(const area& a) {
    // The name column is COLLATE NOCASE, so "Payments API" replaces "payments api" (and the
    // stored spelling becomes the latest one).
    impl_->exec("INSERT INTO areas (team_id, name, owner, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (team_id, name) DO UPDATE SET "
                "name = excluded.name, owner = excluded.owner, "
                "updated_at = excluded.updated_at",
                a.team_id, a.name, a.owner, a.updated_at);
}

std::optional<area> sqlite_store::find_area(std::string_view team_id, std::string_view name) {
    auto s = impl_->prepare_cols(
        codec::area_columns, "SELECT {} FROM areas WHERE team_id = ? AND name = ?", team_id, name);
    return first(*s, codec::read_area<sqlite_row>);
}

std::vector<area> sqlite_store::list_areas(std::string_view team_id) {
    auto s = impl_->prepare_cols(codec::area_columns,
                                 "SELECT {} FROM areas WHERE team_id = ? ORDER BY name", team_id);
    return collect(*s, codec::read_area<sqlite_row>);
}

void sqlite_store::add_admin(std::string_view team_id, std::string_view user_id, unix_time at) {
    // Adding an admin twice keeps the first added_at.
    impl_->exec("INSERT INTO admins (team_id, user_id, added_at) VALUES (?, ?, ?) "
                "ON CONFLICT (team_id, user_id) DO NOTHING",
                team_id, user_id, at);
}

void sqlite_store::remove_admin(std::string_view team_id, std::string_view user_id) {
    impl_->exec("DELETE FROM admins WHERE team_id = ? AND user_id = ?", team_id, user_id);
}

std::vector<std::string> sqlite_store::teams() {
    // counters has one row per (team, kind) that ever numbered an item: a few rows per team.
    auto s = impl_->prepare("SELECT DISTINCT team_id FROM counters ORDER BY team_id");
    return collect(*s, codec::read_text<sqlite_row>);
}

std::vector<std::string> sqlite_store::list_admins(std::string_view team_id) {
    auto s =
        impl_->prepare("SELECT user_id FROM admins WHERE team_id = ? ORDER BY user_id", team_id);
    return collect(*s, codec::read_text<sqlite_row>);
}

std::int64_t sqlite_store::enqueue(std::string_view team_id, const effect& e, unix_time now) {
    impl_->exec("INSERT INTO outbox (team_id, destination, channel, user, thread_ts, item, "
                "is_card, text, buttons, created_at, state, blocks, name) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                team_id, destination_text(e.to), e.channel, e.user, e.thread_ts, e.item, e.is_card,
                e.text, encode_buttons(e.buttons), now, encode_blocks(e.blocks), e.name);
    return impl_->db.getLastInsertRowid();
}

std::vector<outbox_row> sqlite_store::pending(int limit, std::int64_t after_id) {
    auto s = impl_->prepare_cols(
        outbox_columns,
        "SELECT {} FROM outbox WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?", after_id,
        sql_limit(limit));
    return collect(*s, codec::read_outbox<sqlite_row>);
}

std::optional<outbox_row> sqlite_store::outbox(std::int64_t id) {
    auto s = impl_->prepare_cols(outbox_columns, "SELECT {} FROM outbox WHERE id = ?", id);
    return first(*s, codec::read_outbox<sqlite_row>);
}

void sqlite_store::mark_sent(const outbox_row& row, std::string_view channel, std::string_view ts,
                             unix_time at) {
    transact([&] {
        impl_->exec("UPDATE outbox SET state = 'sent', ts = ?, sent_at = ?, "
                    "last_attempt_at = ?, unsure = 0 WHERE id = ?",
                    ts, at, at, row.id);
        if (!row.e.name.empty() && row.e.to != destination::update && !ts.empty()) {
            impl_->exec("INSERT INTO posts (team_id, name, channel, ts, posted_at) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (team_id, name) DO UPDATE "
                        "SET channel = excluded.channel, ts = excluded.ts, "
                        "posted_at = excluded.posted_at",
                        row.team_id, row.e.name, channel.empty() ? row.e.channel : channel, ts, at);
        }
        auto thread = codec::card_thread_of(row, channel);
        if (!thread) {
            return;
        }
        if (const auto* run = std::get_if<codec::run_key>(&thread->of)) {
            impl_->exec("UPDATE standup_runs SET digest_channel = ?, digest_ts = ? "
                        "WHERE team_id = ? AND channel_id = ? AND period = ? AND "
                        "digest_ts = ''",
                        thread->channel, ts, row.team_id, run->channel_id, run->period);
            return;
        }
        // Only the first card post starts the thread; a re-posted card keeps the original.
        const auto& target = std::get<item_id>(thread->of);
        impl_->exec("UPDATE items SET thread_channel = ?, thread_ts = ? "
                    "WHERE team_id = ? AND kind = ? AND num = ? AND thread_ts = ''",
                    thread->channel, ts, row.team_id, target.kind, target.num);
    });
}

std::optional<std::pair<std::string, std::string>> sqlite_store::post_of(std::string_view team_id,
                                                                         std::string_view name) {
    auto s = impl_->prepare("SELECT channel, ts FROM posts WHERE team_id = ? AND name = ?", team_id,
                            name);
    if (!s->executeStep()) {
        return std::nullopt;
    }
    return std::pair{s->getColumn(0).getString(), s->getColumn(1).getString()};
}

int sqlite_store::mark_pending_unsure() {
    return impl_->exec("UPDATE outbox SET unsure = 1 WHERE state = 'pending' AND unsure = 0");
}

void sqlite_store::mark_failed(std::int64_t id, std::string_view error, bool permanent,
                               unix_time at, bool maybe_delivered) {
    // A row already sent stays sent: a late failure report must not cause a second delivery.
    impl_->exec("UPDATE outbox SET attempts = attempts + 1, error = ?, "
                "last_attempt_at = ?, unsure = ?, "
                "state = CASE WHEN ? THEN 'failed' ELSE 'pending' END "
                "WHERE id = ? AND state = 'pending'",
                error, at, maybe_delivered, permanent, id);
}

bool sqlite_store::inbox_put(const inbox_row& r) {
    return impl_->exec("INSERT INTO inbox (event_id, team_id, payload, received_at) "
                       "VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                       r.event_id, r.team_id, r.payload, r.received_at) == 1;
}

std::vector<inbox_row> sqlite_store::inbox_unprocessed(int limit) {
    auto s = impl_->prepare_cols(codec::inbox_columns,
                                 "SELECT {} FROM inbox "
                                 "WHERE processed_at IS NULL ORDER BY received_at, rowid "
                                 "LIMIT ?",
                                 sql_limit(limit));
    return collect(*s, codec::read_inbox<sqlite_row>);
}

bool sqlite_store::inbox_processed(std::string_view event_id) {
    return impl_
        ->prepare("SELECT 1 FROM inbox WHERE event_id = ? AND processed_at IS NOT NULL", event_id)
        ->executeStep();
}

void sqlite_store::inbox_done(std::string_view event_id, unix_time at) {
    impl_->exec("UPDATE inbox SET processed_at = ? WHERE event_id = ?", at, event_id);
}

bool sqlite_store::claimed(std::string_view job, std::string_view period) {
    return impl_->prepare("SELECT 1 FROM job_claims WHERE job = ? AND period = ?", job, period)
        ->executeStep();
}

bool sqlite_store::claim(std::string_view job, std::string_view period, unix_time at) {
    return impl_->exec("INSERT INTO job_claims (job, period, claimed_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (job, period) DO NOTHING",
                       job, period, at) == 1;
}

void sqlite_store::set_user(const user_row& u) {
    impl_->exec(
        "INSERT INTO users (team_id, user_id, tz, is_admin, deleted, updated_at, name, is_bot) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (team_id, user_id) DO UPDATE SET "
        "tz = excluded.tz, is_admin = excluded.is_admin, deleted = excluded.deleted, "
        "updated_at = excluded.updated_at, name = excluded.name, is_bot = excluded.is_bot",
        u.team_id, u.user_id, u.tz, u.is_admin, u.deleted, u.updated_at, u.name, u.is_bot);
}

std::optional<user_row> sqlite_store::find_user(std::string_view team_id,
                                                std::string_view user_id) {
    auto s = impl_->prepare_cols(
        user_columns, "SELECT {} FROM users WHERE team_id = ? AND user_id = ?", team_id, user_id);
    return first(*s, codec::read_user<sqlite_row>);
}

std::optional<std::string> sqlite_store::setting(std::string_view team_id, std::string_view key) {
    auto s =
        impl_->prepare("SELECT value FROM settings WHERE team_id = ? AND key = ?", team_id, key);
    return first(*s, codec::read_text<sqlite_row>);
}

void sqlite_store::set_setting(std::string_view team_id, std::string_view key,
                               std::string_view value, unix_time at) {
    impl_->exec("INSERT INTO settings (team_id, key, value, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (team_id, key) DO UPDATE SET "
                "value = excluded.value, updated_at = excluded.updated_at",
                team_id, key, value, at);
}

void sqlite_store::put_standup(const standup& st) {
    impl_->exec_cols(
        standup_columns,
        "INSERT INTO standups ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (team_id, channel_id) DO UPDATE SET minute = excluded.minute, "
        "report_minute = excluded.report_minute, days = excluded.days, tz = excluded.tz, "
        "members = excluded.members, whole_channel = excluded.whole_channel, "
        "paused = excluded.paused, created_by = excluded.created_by, "
        "created_at = excluded.created_at, updated_at = excluded.updated_at",
        st.team_id, st.channel_id, st.minute, st.report_minute, static_cast<std::int64_t>(st.days),
        st.tz, encode_json_list(st.members), st.whole_channel, st.paused, st.created_by,
        st.created_at, st.updated_at);
}

std::optional<standup> sqlite_store::find_standup(std::string_view team_id,
                                                  std::string_view channel_id) {
    auto s = impl_->prepare_cols(standup_columns,
                                 "SELECT {} FROM standups WHERE team_id = ? AND channel_id = ?",
                                 team_id, channel_id);
    return first(*s, codec::read_standup<sqlite_row>);
}

std::vector<standup> sqlite_store::list_standups(std::string_view team_id) {
    if (team_id.empty()) {
        auto s = impl_->prepare_cols(standup_columns,
                                     "SELECT {} FROM standups ORDER BY team_id, channel_id");
        return collect(*s, codec::read_standup<sqlite_row>);
    }
    auto s = impl_->prepare_cols(
        standup_columns, "SELECT {} FROM standups WHERE team_id = ? ORDER BY channel_id", team_id);
    return collect(*s, codec::read_standup<sqlite_row>);
}

void sqlite_store::put_standup_person(const standup_person& p) {
    impl_->exec_cols(person_columns,
                     "INSERT INTO standup_people ({}) VALUES (?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (team_id, user_id) DO UPDATE SET tz = excluded.tz, "
                     "ooo_until = excluded.ooo_until, skip_day = excluded.skip_day, "
                     "updated_at = excluded.updated_at",
                     p.team_id, p.user_id, p.tz, p.ooo_until, p.skip_day, p.updated_at);
}

std::optional<standup_person> sqlite_store::find_standup_person(std::string_view team_id,
                                                                std::string_view user_id) {
    auto s = impl_->prepare_cols(person_columns,
                                 "SELECT {} FROM standup_people WHERE team_id = ? AND user_id = ?",
                                 team_id, user_id);
    return first(*s, codec::read_person<sqlite_row>);
}

void sqlite_store::put_run(const standup_run& r) {
    impl_->exec_cols(run_columns,
                     "INSERT INTO standup_runs ({}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (team_id, channel_id, period) DO UPDATE SET "
                     "report_due = excluded.report_due, reported_at = excluded.reported_at, "
                     "digest_channel = excluded.digest_channel, digest_ts = excluded.digest_ts",
                     r.team_id, r.channel_id, r.period, r.report_due, r.reported_at,
                     r.digest_channel, r.digest_ts);
}

std::optional<standup_run> sqlite_store::find_run(std::string_view team_id,
                                                  std::string_view channel_id,
                                                  std::string_view period) {
    auto s = impl_->prepare_cols(run_columns,
                                 "SELECT {} FROM standup_runs WHERE team_id = ? AND "
                                 "channel_id = ? AND period = ?",
                                 team_id, channel_id, period);
    return first(*s, codec::read_run<sqlite_row>);
}

std::vector<standup_run> sqlite_store::unreported_runs(unix_time until) {
    auto s = impl_->prepare_cols(run_columns,
                                 "SELECT {} FROM standup_runs WHERE reported_at = 0 AND "
                                 "report_due <= ? ORDER BY report_due, team_id, "
                                 "channel_id",
                                 until);
    return collect(*s, codec::read_run<sqlite_row>);
}

void sqlite_store::put_entry(const standup_entry& e) {
    impl_->exec_cols(entry_columns,
                     "INSERT INTO standup_entries ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (team_id, channel_id, period, user_id) DO UPDATE SET "
                     "state = excluded.state, note = excluded.note, answers = excluded.answers, "
                     "prompted_at = excluded.prompted_at, reminder_due = excluded.reminder_due, "
                     "reminded_at = excluded.reminded_at, answered_at = excluded.answered_at, "
                     "late = excluded.late",
                     e.team_id, e.channel_id, e.period, e.user_id, e.state, e.note,
                     encode_json_list(e.answers), e.prompted_at, e.reminder_due, e.reminded_at,
                     e.answered_at, e.late);
}

std::optional<standup_entry> sqlite_store::find_entry(std::string_view team_id,
                                                      std::string_view channel_id,
                                                      std::string_view period,
                                                      std::string_view user_id) {
    auto s = impl_->prepare_cols(entry_columns,
                                 "SELECT {} FROM standup_entries WHERE team_id = ? AND "
                                 "channel_id = ? AND period = ? AND user_id = ?",
                                 team_id, channel_id, period, user_id);
    return first(*s, codec::read_entry<sqlite_row>);
}

std::vector<standup_entry> sqlite_store::run_entries(std::string_view team_id,
                                                     std::string_view channel_id,
                                                     std::string_view period) {
    auto s = impl_->prepare_cols(entry_columns,
                                 "SELECT {} FROM standup_entries WHERE team_id = ? AND "
                                 "channel_id = ? AND period = ? "
                                 "ORDER BY prompted_at, user_id",
                                 team_id, channel_id, period);
    return collect(*s, codec::read_entry<sqlite_row>);
}

std::vector<standup_entry> sqlite_store::open_entries(std::string_view team_id,
                                                      std::string_view user_id) {
    auto s = impl_->prepare_cols(entry_columns,
                                 "SELECT {} FROM standup_entries WHERE team_id = ? AND "
                                 "user_id = ? AND state = 'prompted' "
                                 "ORDER BY prompted_at, channel_id, period",
                                 team_id, user_id);
    return collect(*s, codec::read_entry<sqlite_row>);
}

std::optional<standup_entry> sqlite_store::latest_entry(std::string_view team_id,
                                                        std::string_view user_id) {
    // Equal prompt times: the entry created last (an upsert keeps the row's rowid).
    auto s = impl_->prepare_cols(entry_columns,
                                 "SELECT {} FROM standup_entries WHERE team_id = ? AND "
                                 "user_id = ? ORDER BY prompted_at DESC, rowid DESC "
                                 "LIMIT 1",
                                 team_id, user_id);
    return first(*s, codec::read_entry<sqlite_row>);
}

std::vector<standup_entry> sqlite_store::reminders_due(unix_time until) {
    auto s = impl_->prepare_cols(
        entry_columns,
        "SELECT {} FROM standup_entries WHERE state = 'prompted' AND reminded_at = 0 AND "
        "reminder_due > 0 AND reminder_due <= ? "
        "ORDER BY reminder_due, team_id, channel_id, period, user_id",
        until);
    return collect(*s, codec::read_entry<sqlite_row>);
}

unix_time sqlite_store::next_reminder(unix_time after) {
    auto s = impl_->prepare("SELECT MIN(reminder_due) FROM standup_entries WHERE "
                            "state = 'prompted' AND reminded_at = 0 AND reminder_due > ?",
                            after);
    if (!s->executeStep() || s->getColumn(0).isNull()) {
        return 0;
    }
    return integer(*s, 0);
}

void sqlite_store::put_standup_message(const standup_message& m) {
    impl_->exec_cols(
        message_columns,
        "INSERT INTO standup_messages ({}) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (team_id, user_id, ts) DO UPDATE SET channel_id = excluded.channel_id, "
        "period = excluded.period, first_question = excluded.first_question, "
        "count = excluded.count",
        m.team_id, m.user_id, m.ts, m.channel_id, m.period, m.first_question, m.count);
}

std::optional<standup_message> sqlite_store::find_standup_message(std::string_view team_id,
                                                                  std::string_view user_id,
                                                                  std::string_view ts) {
    auto s = impl_->prepare_cols(
        message_columns,
        "SELECT {} FROM standup_messages WHERE team_id = ? AND user_id = ? AND ts = ?", team_id,
        user_id, ts);
    return first(*s, codec::read_message<sqlite_row>);
}

std::optional<std::vector<std::string>> sqlite_store::channel_members(std::string_view team_id,
                                                                      std::string_view channel_id) {
    if (!impl_
             ->prepare("SELECT 1 FROM channel_members_read WHERE team_id = ? AND channel_id = ?",
                       team_id, channel_id)
             ->executeStep()) {
        return std::nullopt;
    }
    auto s = impl_->prepare("SELECT user_id FROM channel_members WHERE team_id = ? AND "
                            "channel_id = ? ORDER BY user_id",
                            team_id, channel_id);
    return collect(*s, codec::read_text<sqlite_row>);
}

void sqlite_store::set_channel_members(std::string_view team_id, std::string_view channel_id,
                                       const std::vector<std::string>& members, unix_time at) {
    transact([&] {
        impl_->exec("DELETE FROM channel_members WHERE team_id = ? AND channel_id = ?", team_id,
                    channel_id);
        for (const auto& user : members) {
            impl_->exec("INSERT INTO channel_members (team_id, channel_id, user_id) "
                        "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                        team_id, channel_id, user);
        }
        impl_->exec("INSERT INTO channel_members_read (team_id, channel_id, read_at) "
                    "VALUES (?, ?, ?) ON CONFLICT (team_id, channel_id) DO UPDATE "
                    "SET read_at = excluded.read_at",
                    team_id, channel_id, at);
    });
}

void sqlite_store::put_poll(const poll& p) {
    impl_->exec_cols(poll_columns,
                     "INSERT INTO polls ({}) VALUES (?, ?, ?, ?, ?, ?) "
                     "ON CONFLICT (team_id, num) DO UPDATE SET opened_by = "
                     "excluded.opened_by, opened_at = excluded.opened_at, closes_at = "
                     "excluded.closes_at, closed_at = excluded.closed_at",
                     p.team_id, p.num, p.opened_by, p.opened_at, p.closes_at, p.closed_at);
}

std::optional<poll> sqlite_store::find_poll(std::string_view team_id, std::int64_t num) {
    auto s = impl_->prepare_cols(poll_columns, "SELECT {} FROM polls WHERE team_id = ? AND num = ?",
                                 team_id, num);
    return first(*s, codec::read_poll<sqlite_row>);
}

void sqlite_store::set_vote(std::string_view team_id, std::int64_t num, const poll_vote& v) {
    impl_->exec("INSERT INTO poll_votes (team_id, num, user_id, choice, voted_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (team_id, num, user_id) DO UPDATE "
                "SET choice = excluded.choice, voted_at = excluded.voted_at",
                team_id, num, v.user_id, v.choice, v.voted_at);
}

std::vector<poll_vote> sqlite_store::poll_votes(std::string_view team_id, std::int64_t num) {
    auto s = impl_->prepare_cols(vote_columns,
                                 "SELECT {} FROM poll_votes WHERE team_id = ? AND num = ? "
                                 "ORDER BY voted_at, user_id",
                                 team_id, num);
    return collect(*s, codec::read_vote<sqlite_row>);
}

std::vector<poll> sqlite_store::polls_due(unix_time until) {
    auto s = impl_->prepare_cols(poll_columns,
                                 "SELECT {} FROM polls WHERE closed_at = 0 AND "
                                 "closes_at > 0 AND closes_at <= ? ORDER BY closes_at, "
                                 "team_id, num",
                                 until);
    return collect(*s, codec::read_poll<sqlite_row>);
}

} // namespace tpmbot
