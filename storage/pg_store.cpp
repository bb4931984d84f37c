#include "pg_store.hpp"

#include "codec.hpp"
#include "common.hpp"
#include "pg_schema.hpp"
#include "pq.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fmt/format.h>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <variant>

namespace tpmbot {

namespace {

using codec::entry_columns;
using codec::item_columns;
using codec::message_columns;
using codec::outbox_columns;
using codec::person_columns;
using codec::poll_columns;
using codec::run_columns;
using codec::standup_columns;
using codec::user_columns;
using codec::vote_columns;

// Type OIDs of the parameters this store binds (pg_type.h, stable across releases).
constexpr Oid bool_oid = 16;
constexpr Oid int8_oid = 20;
constexpr Oid text_oid = 25;

/// An error PostgreSQL (or libpq) reported, with its SQLSTATE ("" when none came).
class pg_error : public std::runtime_error {
public:
    pg_error(const std::string& what, std::string sqlstate)
        : std::runtime_error(what), sqlstate_(std::move(sqlstate)) {}
    const std::string& sqlstate() const { return sqlstate_; }

private:
    std::string sqlstate_;
};

// SQLSTATE of errors the store raises itself, from PostgreSQL's own list.
constexpr const char* connection_failure = "08006";
constexpr const char* in_failed_transaction = "25P02";

std::string trim_end(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) {
        s.pop_back();
    }
    return s;
}

/// `s` with %XX sequences decoded; a malformed one is kept as it is.
std::string percent_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            int hi = hex_digit(s[i + 1]);
            int lo = hex_digit(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += s[i];
    }
    return out;
}

/// Connection text without its password, and the password as it was written and decoded,
/// to take out of any message that might repeat it.
struct redacted {
    std::string shown;
    std::vector<std::string> secrets;
};

void add_secret(redacted& r, std::string_view raw) {
    if (raw.empty()) {
        return;
    }
    r.secrets.emplace_back(raw);
    auto decoded = percent_decode(raw);
    if (decoded != raw && !decoded.empty()) {
        r.secrets.push_back(std::move(decoded));
    }
}

/// A URL as libpq reads it: postgresql://[user[:password]@][hosts][/dbname][?key=value&...].
/// The password goes from the user part and from a `password` parameter.
redacted redact_url(std::string_view url, std::size_t scheme_end) {
    redacted r;
    r.shown = std::string(url.substr(0, scheme_end));
    auto rest = url.substr(scheme_end);
    // libpq takes what comes before an '@' met before any '/' as the user part.
    auto at = rest.find_first_of("@/");
    if (at != std::string_view::npos && rest[at] == '@') {
        auto user = rest.substr(0, at);
        auto colon = user.find(':');
        if (colon != std::string_view::npos) {
            add_secret(r, user.substr(colon + 1));
            user = user.substr(0, colon);
        }
        r.shown += user;
        r.shown += '@';
        rest.remove_prefix(at + 1);
    }
    auto query = rest.find('?');
    r.shown += rest.substr(0, query);
    if (query == std::string_view::npos) {
        return r;
    }
    std::string kept;
    auto params = rest.substr(query + 1);
    while (!params.empty()) {
        auto amp = params.find('&');
        auto param = params.substr(0, amp);
        params = amp == std::string_view::npos ? std::string_view() : params.substr(amp + 1);
        auto eq = param.find('=');
        if (percent_decode(param.substr(0, eq)) == "password") {
            if (eq != std::string_view::npos) {
                add_secret(r, param.substr(eq + 1));
            }
            continue;
        }
        kept += kept.empty() ? "" : "&";
        kept += param;
    }
    if (!kept.empty()) {
        r.shown += '?';
        r.shown += kept;
    }
    return r;
}

/// libpq's key=value form: the `password` pair goes (its value may be quoted, with \ escapes).
redacted redact_pairs(std::string_view text) {
    redacted r;
    std::size_t i = 0;
    auto space = [&] {
        return i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n');
    };
    while (i < text.size()) {
        while (space()) {
            ++i;
        }
        if (i >= text.size()) {
            break;
        }
        auto start = i;
        while (i < text.size() && text[i] != '=' && !space()) {
            ++i;
        }
        auto key = text.substr(start, i - start);
        while (space()) {
            ++i;
        }
        std::string value;
        if (i < text.size() && text[i] == '=') {
            ++i;
            while (space()) {
                ++i;
            }
            bool quoted = i < text.size() && text[i] == '\'';
            i += quoted ? 1 : 0;
            while (i < text.size() && (quoted ? text[i] != '\'' : !space())) {
                if (text[i] == '\\' && i + 1 < text.size()) {
                    ++i;
                }
                value += text[i++];
            }
            i += quoted && i < text.size() ? 1 : 0;
        }
        if (key == "password") {
            add_secret(r, value);
            continue;
        }
        r.shown += r.shown.empty() ? "" : " ";
        r.shown += text.substr(start, i - start);
    }
    return r;
}

redacted redact_conninfo(std::string_view text) {
    for (std::string_view scheme : {"postgresql://", "postgres://"}) {
        if (text.starts_with(scheme)) {
            return redact_url(text, scheme.size());
        }
    }
    return redact_pairs(text);
}

/// `message` with every occurrence of each secret replaced by "***".
std::string scrub(std::string message, std::vector<std::string> secrets) {
    // Longest first, so a secret that contains another goes whole.
    std::sort(secrets.begin(), secrets.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& secret : secrets) {
        if (secret.empty()) {
            continue;
        }
        for (auto at = message.find(secret); at != std::string::npos;
             at = message.find(secret, at + 3)) {
            message.replace(at, secret.size(), "***");
        }
    }
    return message;
}

/// The parameters of one statement, all sent in binary form: text as its bytes (so a value
/// is never cut at a NUL, and PostgreSQL checks its encoding), integers as 8 big-endian bytes,
/// booleans as one byte. Every value goes through a placeholder.
class params {
public:
    void add(std::string_view v) { push(text_oid, std::string(v)); }
    void add(const std::string& v) { push(text_oid, v); }
    void add(const char* v) { add(std::string_view(v)); }
    void add(item_kind k) { add(kind_prefix(k)); }
    void add(bool v) { push(bool_oid, std::string(1, v ? '\1' : '\0')); }
    void add(int v) { add(static_cast<std::int64_t>(v)); }
    void add(std::int64_t v) {
        std::string b(8, '\0');
        auto u = static_cast<std::uint64_t>(v);
        for (int i = 7; i >= 0; --i) {
            b[static_cast<std::size_t>(i)] = static_cast<char>(u & 0xff);
            u >>= 8;
        }
        push(int8_oid, std::move(b));
    }
    void add(const std::optional<std::string>& v) {
        if (v) {
            add(*v);
        } else {
            push(text_oid, std::nullopt);
        }
    }
    /// NULL as an integer when empty (a LIMIT of none).
    void add(const std::optional<std::int64_t>& v) {
        if (v) {
            add(*v);
        } else {
            push(int8_oid, std::nullopt);
        }
    }
    void add(const codec::sql_value& v) {
        std::visit([this](const auto& x) { add(x); }, v);
    }

    int count() const { return static_cast<int>(types_.size()); }
    const Oid* types() const { return types_.data(); }
    /// Pointers into this object: valid while it lives unchanged.
    std::vector<const char*> values() const {
        std::vector<const char*> out;
        for (const auto& d : data_) {
            out.push_back(d ? d->data() : nullptr);
        }
        return out;
    }
    std::vector<int> lengths() const {
        std::vector<int> out;
        for (const auto& d : data_) {
            out.push_back(d ? static_cast<int>(d->size()) : 0);
        }
        return out;
    }
    std::vector<int> formats() const { return std::vector<int>(data_.size(), 1); }

private:
    void push(Oid type, std::optional<std::string> bytes) {
        types_.push_back(type);
        data_.push_back(std::move(bytes));
    }

    std::vector<Oid> types_;
    std::vector<std::optional<std::string>> data_;
};

/// One row of a result, in text form, as the codec's readers see it.
struct pg_row {
    const PGresult* r;
    int row;

    bool null(int c) const { return PQgetisnull(r, row, c) != 0; }
    std::string text(int c) const {
        if (null(c)) {
            return {};
        }
        return std::string(PQgetvalue(r, row, c), static_cast<std::size_t>(PQgetlength(r, row, c)));
    }
    std::int64_t integer(int c) const {
        if (null(c)) {
            return 0;
        }
        const char* v = PQgetvalue(r, row, c);
        const char* end = v + PQgetlength(r, row, c);
        std::int64_t out = 0;
        auto [p, ec] = std::from_chars(v, end, out);
        if (ec != std::errc() || p != end) {
            throw std::runtime_error(
                fmt::format("column {} ('{}') is not an integer", PQfname(r, c), text(c)));
        }
        return out;
    }
    bool flag(int c) const { return !null(c) && PQgetvalue(r, row, c)[0] == 't'; }
};

/// A statement's result, freed at scope end.
class result {
public:
    explicit result(PGresult* r) : r_(r, PQclear) {}
    PGresult* get() const { return r_.get(); }
    int rows() const { return PQntuples(r_.get()); }
    pg_row row(int i) const { return {r_.get(), i}; }
    /// Rows an INSERT, UPDATE or DELETE changed.
    std::int64_t changed() const {
        std::string_view n = PQcmdTuples(r_.get());
        std::int64_t out = 0;
        std::from_chars(n.data(), n.data() + n.size(), out);
        return out;
    }

private:
    std::unique_ptr<PGresult, decltype(PQclear)> r_;
};

/// Every row, each read with `read`.
template <class Read>
auto collect(const result& r, Read read) {
    std::vector<decltype(read(pg_row{nullptr, 0}))> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(read(r.row(i)));
    }
    return out;
}

/// The first row read with `read`, nullopt when there is none.
template <class Read>
auto first(const result& r, Read read) -> std::optional<decltype(read(pg_row{nullptr, 0}))> {
    if (r.rows() == 0) {
        return std::nullopt;
    }
    return read(r.row(0));
}

/// NULL (no limit) for 0 or less.
std::optional<std::int64_t> pg_limit(int limit) {
    return limit > 0 ? std::optional<std::int64_t>(limit) : std::nullopt;
}

/// "$1, $2, ..., $n".
std::string placeholders(int n) {
    std::string out;
    for (int i = 1; i <= n; ++i) {
        out += i == 1 ? "$" : ", $";
        out += std::to_string(i);
    }
    return out;
}

} // namespace

struct pg_store::impl {
    std::string shown;                ///< the URL without its password
    std::vector<std::string> secrets; ///< its password, to keep out of messages
    std::unique_ptr<PGconn, decltype(PQfinish)> conn{nullptr, PQfinish};
    /// Prepared statement names by SQL text, on this connection.
    std::unordered_map<std::string, std::string> statements;
    /// Open `transact` calls; 0 outside any.
    int depth = 0;
    /// The advisory lock every writing transaction of this schema takes first.
    std::int64_t write_lock = 0;

    explicit impl(const std::string& url) {
        auto r = redact_conninfo(url);
        shown = std::move(r.shown);
        secrets = std::move(r.secrets);
        // Keywords before dbname are defaults the URL may override; those after it are not.
        // A bounded connect; UTF-8 text, as the model holds.
        const char* keys[] = {"connect_timeout", "application_name", "dbname", "client_encoding",
                              nullptr};
        const char* values[] = {"10", "tpmbot", url.c_str(), "UTF8", nullptr};
        conn.reset(PQconnectdbParams(keys, values, 1));
        if (!conn) {
            throw std::runtime_error(
                fmt::format("cannot connect to PostgreSQL database {}: out of memory", shown));
        }
        if (PQstatus(conn.get()) != CONNECTION_OK) {
            throw pg_error(scrub(fmt::format("cannot connect to PostgreSQL database {}: {}", shown,
                                             trim_end(PQerrorMessage(conn.get()))),
                                 secrets),
                           connection_failure);
        }
        setup_session();
        try {
            pg_schema::migrate(conn.get(), shown);
        } catch (const std::exception& e) {
            throw std::runtime_error(scrub(e.what(), secrets));
        }
    }

    /// What every session needs, after connecting and after reconnecting.
    void setup_session() {
        // Notices (such as "table already exists, skipping") would go to stderr.
        PQsetNoticeProcessor(
            conn.get(), [](void*, const char*) {}, nullptr);
        // A lock wait fails after 5 s, as SQLite's busy timeout makes a busy database fail:
        // the caller can retry later instead of hanging behind a stuck writer.
        exec("SET lock_timeout = '5s'", {});
        auto r = exec("SELECT current_schema()", {});
        write_lock = pg_schema::lock_key("tpmbot:write", r.row(0).text(0));
    }

    /// Throws the error of `r` (or of the connection when `r` is null) as a pg_error naming
    /// the database.
    [[noreturn]] void fail(const PGresult* r) {
        std::string state;
        std::string why;
        if (r != nullptr) {
            const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
            const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
            state = s != nullptr ? s : "";
            if (primary != nullptr) {
                why = primary;
                if (detail != nullptr) {
                    why += fmt::format(" ({})", detail);
                }
            } else {
                why = trim_end(PQresultErrorMessage(r));
            }
        }
        if (why.empty()) {
            why = trim_end(PQerrorMessage(conn.get()));
        }
        if (state.empty() && PQstatus(conn.get()) != CONNECTION_OK) {
            state = connection_failure;
        }
        throw pg_error(scrub(fmt::format("PostgreSQL database {}: {}", shown, why), secrets),
                       state);
    }

    void check(const result& r) {
        auto status = r.get() != nullptr ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
            fail(r.get());
        }
    }

    /// Outside a transaction, a lost connection (a server restart, a failover) is opened again
    /// before the next statement; the statement that found it lost has failed.
    void ensure_connected() {
        if (depth > 0 || PQstatus(conn.get()) == CONNECTION_OK) {
            return;
        }
        PQreset(conn.get());
        if (PQstatus(conn.get()) != CONNECTION_OK) {
            fail(nullptr);
        }
        statements.clear();
        setup_session();
    }

    /// Runs `sql` (prepared once per connection, then reused) with `p`.
    result exec(const std::string& sql, const params& p) {
        ensure_connected();
        auto found = statements.find(sql);
        if (found == statements.end()) {
            auto name = fmt::format("tpmbot_{}", statements.size() + 1);
            result prepared(PQprepare(conn.get(), name.c_str(), sql.c_str(), p.count(), p.types()));
            check(prepared);
            found = statements.emplace(sql, std::move(name)).first;
        }
        auto values = p.values();
        auto lengths = p.lengths();
        auto formats = p.formats();
        result r(PQexecPrepared(conn.get(), found->second.c_str(), p.count(), values.data(),
                                lengths.data(), formats.data(), 0));
        check(r);
        return r;
    }

    template <class... Args>
    result run(const std::string& sql, const Args&... args) {
        params p;
        (p.add(args), ...);
        return exec(sql, p);
    }

    /// Runs a query the codec built, with its values.
    result run(const codec::built_sql& built) {
        params p;
        for (const auto& v : built.values) {
            p.add(v);
        }
        return exec(built.sql, p);
    }

    PGTransactionStatusType status() const { return PQtransactionStatus(conn.get()); }

    /// A statement of the open transaction failed: PostgreSQL ignores everything but a
    /// rollback from then on.
    bool failed() const { return status() == PQTRANS_INERROR; }

    /// Rolls back whatever transaction is open, ignoring errors (the connection may be gone).
    void rollback_quietly() {
        if (status() == PQTRANS_INTRANS || status() == PQTRANS_INERROR) {
            PQclear(PQexec(conn.get(), "ROLLBACK"));
        }
    }

    /// Undoes a nested transaction's writes and ends its savepoint, ignoring errors.
    void rollback_to(const std::string& savepoint) {
        if (status() == PQTRANS_INTRANS || status() == PQTRANS_INERROR) {
            PQclear(PQexec(conn.get(), ("ROLLBACK TO SAVEPOINT " + savepoint).c_str()));
            PQclear(PQexec(conn.get(), ("RELEASE SAVEPOINT " + savepoint).c_str()));
        }
    }

    [[noreturn]] void fail_spoiled(std::string_view what) {
        throw pg_error(fmt::format("PostgreSQL database {}: {}", shown, what),
                       in_failed_transaction);
    }
};

pg_store::pg_store(const std::string& url) : impl_(std::make_unique<impl>(url)) {}

pg_store::~pg_store() = default;

std::string pg_store::redact(std::string_view url) {
    return redact_conninfo(url).shown;
}

int pg_store::latest_schema_version() {
    return pg_schema::latest_version();
}

bool pg_store::unwritable(const std::exception& e) {
    const auto* pg = dynamic_cast<const pg_error*>(&e);
    if (pg == nullptr) {
        return false;
    }
    std::string_view s = pg->sqlstate();
    return s.starts_with("08")     // connection exception
           || s.starts_with("53")  // insufficient resources: disk full, out of memory
           || s.starts_with("57P") // the server is shutting down or starting
           || s == "55P03"         // lock_not_available: a lock wait timed out
           || s == "25006"         // read_only_sql_transaction: a standby, or read-only
           || s == "40001"         // serialization_failure
           || s == "40P01";        // deadlock_detected
}

int pg_store::schema_version() {
    auto r = impl_->run("SELECT version FROM tpmbot_schema");
    return r.rows() == 0 ? 0 : static_cast<int>(r.row(0).integer(0));
}

void pg_store::transact(const std::function<void()>& body) {
    auto& d = *impl_;
    struct depth_guard {
        int& d;
        ~depth_guard() { --d; }
    };
    if (d.depth == 0) {
        d.run("BEGIN");
        ++d.depth;
        depth_guard guard{d.depth};
        try {
            d.run("SELECT pg_advisory_xact_lock($1)", d.write_lock);
            body();
            // COMMIT of a failed transaction rolls it back without an error: say so instead.
            if (d.failed()) {
                d.fail_spoiled("a statement of the transaction failed, so it was rolled back");
            }
            auto r = d.run("COMMIT");
            if (std::string_view(PQcmdStatus(r.get())) != "COMMIT") {
                d.fail_spoiled("the transaction was rolled back at its commit");
            }
        } catch (...) {
            d.rollback_quietly();
            throw;
        }
        return;
    }
    // Nested: a savepoint inside the outer transaction, so a failing inner body that the
    // outer one catches leaves none of its writes behind, and the outer transaction (which a
    // failed statement would otherwise spoil) goes on.
    if (d.failed()) {
        d.fail_spoiled("a statement of the transaction failed earlier; it can only roll back");
    }
    auto name = "tpmbot_nested_" + std::to_string(d.depth);
    d.run("SAVEPOINT " + name);
    ++d.depth;
    depth_guard guard{d.depth};
    try {
        body();
    } catch (...) {
        d.rollback_to(name);
        throw;
    }
    if (d.failed()) {
        // The body caught a failed statement's error and went on; PostgreSQL has dropped
        // everything it did since.
        d.rollback_to(name);
        d.fail_spoiled("a statement of a nested transaction failed, so its writes were "
                       "rolled back");
    }
    d.run("RELEASE SAVEPOINT " + name);
}

void pg_store::transact_relaxed(const std::function<void()>& body) {
    if (impl_->depth > 0) {
        transact(body);
        return;
    }
    transact([&] {
        // Only this transaction's commit returns before its WAL is flushed.
        impl_->run("SET LOCAL synchronous_commit = off");
        body();
    });
}

std::int64_t pg_store::next_number(std::string_view team_id, item_kind kind) {
    auto r = impl_->run("INSERT INTO counters (team_id, kind, next) VALUES ($1, $2, 1) "
                        "ON CONFLICT (team_id, kind) DO UPDATE SET next = counters.next + 1 "
                        "RETURNING next",
                        team_id, kind);
    if (r.rows() != 1) {
        throw std::runtime_error("next_number: the counter upsert returned no row");
    }
    return r.row(0).integer(0);
}

void pg_store::insert_item(const item& it) {
    impl_->run(fmt::format("INSERT INTO items ({}) VALUES ({})", item_columns, placeholders(32)),
               it.team_id, it.kind, it.num, it.channel_id, it.reporter, it.dri, it.status, it.title,
               it.severity, it.waiting_on, it.area, it.due, codec::encode_list(it.consulted),
               codec::encode_list(it.options), it.outcome, it.rationale, it.note, it.probability,
               it.impact, it.mitigation, it.from_who, it.for_item, it.supersedes, it.superseded_by,
               it.thread_channel, it.thread_ts, it.permalink, it.created_at, it.updated_at,
               it.closed_at, it.escalated_at, it.snoozed_until);
}

std::optional<item> pg_store::find_item(std::string_view team_id, item_id id) {
    auto r = impl_->run(fmt::format("SELECT {} FROM items WHERE team_id = $1 AND kind = $2 AND "
                                    "num = $3",
                                    item_columns),
                        team_id, id.kind, id.num);
    return first(r, codec::read_item<pg_row>);
}

void pg_store::update_item(const item& it) {
    // thread_channel/thread_ts keep their stored value when the update carries none: the
    // sender may have recorded the card's thread since the caller read the item.
    auto r = impl_->run(
        "UPDATE items SET channel_id = $1, reporter = $2, dri = $3, status = $4, title = $5, "
        "severity = $6, waiting_on = $7, area = $8, due = $9, consulted = $10, options = $11, "
        "outcome = $12, rationale = $13, note = $14, probability = $15, impact = $16, "
        "mitigation = $17, from_who = $18, for_item = $19, supersedes = $20, "
        "superseded_by = $21, "
        "thread_channel = CASE WHEN $22 = '' THEN thread_channel ELSE $22 END, "
        "thread_ts = CASE WHEN $23 = '' THEN thread_ts ELSE $23 END, "
        "permalink = $24, updated_at = $25, closed_at = $26, escalated_at = $27, "
        "snoozed_until = $28 WHERE team_id = $29 AND kind = $30 AND num = $31",
        it.channel_id, it.reporter, it.dri, it.status, it.title, it.severity, it.waiting_on,
        it.area, it.due, codec::encode_list(it.consulted), codec::encode_list(it.options),
        it.outcome, it.rationale, it.note, it.probability, it.impact, it.mitigation, it.from_who,
        it.for_item, it.supersedes, it.superseded_by, it.thread_channel, it.thread_ts, it.permalink,
        it.updated_at, it.closed_at, it.escalated_at, it.snoozed_until, it.team_id, it.kind,
        it.num);
    if (r.changed() == 0) {
        throw std::runtime_error(
            fmt::format("update_item: no item {} in team {}", it.id_str(), it.team_id));
    }
}

std::vector<item> pg_store::list_items(const item_query& q) {
    return collect(impl_->run(codec::item_sql(q, false, codec::dialect::postgres)),
                   codec::read_item<pg_row>);
}

std::int64_t pg_store::count_items(const item_query& q) {
    auto r = impl_->run(codec::item_sql(q, true, codec::dialect::postgres));
    if (r.rows() != 1) {
        throw std::runtime_error("count_items: the count returned no row");
    }
    return r.row(0).integer(0);
}

void pg_store::append_history(const history_entry& h) {
    impl_->run("INSERT INTO item_history (team_id, kind, num, at, actor, action, detail) "
               "VALUES ($1, $2, $3, $4, $5, $6, $7)",
               h.team_id, h.kind, h.num, h.at, h.actor, h.action, h.detail);
}

std::vector<history_entry> pg_store::history(std::string_view team_id, item_id id) {
    auto r = impl_->run(fmt::format("SELECT {} FROM item_history WHERE team_id = $1 AND "
                                    "kind = $2 AND num = $3 ORDER BY id",
                                    codec::history_columns),
                        team_id, id.kind, id.num);
    return collect(r, codec::read_history<pg_row>);
}

void pg_store::set_area(const area& a) {
    // Names compare by lower() under "C", which folds ASCII letters only, as SQLite's NOCASE:
    // "Payments API" replaces "payments api" (and the stored spelling becomes the latest one).
    impl_->run("INSERT INTO areas (team_id, name, owner, updated_at) VALUES ($1, $2, $3, $4) "
               "ON CONFLICT (team_id, lower(name)) DO UPDATE SET name = excluded.name, "
               "owner = excluded.owner, updated_at = excluded.updated_at",
               a.team_id, a.name, a.owner, a.updated_at);
}

std::optional<area> pg_store::find_area(std::string_view team_id, std::string_view name) {
    auto r = impl_->run(fmt::format("SELECT {} FROM areas WHERE team_id = $1 AND "
                                    "lower(name) = lower($2 COLLATE \"C\")",
                                    codec::area_columns),
                        team_id, name);
    return first(r, codec::read_area<pg_row>);
}

std::vector<area> pg_store::list_areas(std::string_view team_id) {
    auto r = impl_->run(fmt::format("SELECT {} FROM areas WHERE team_id = $1 ORDER BY lower(name)",
                                    codec::area_columns),
                        team_id);
    return collect(r, codec::read_area<pg_row>);
}

void pg_store::add_admin(std::string_view team_id, std::string_view user_id, unix_time at) {
    // Adding an admin twice keeps the first added_at.
    impl_->run("INSERT INTO admins (team_id, user_id, added_at) VALUES ($1, $2, $3) "
               "ON CONFLICT (team_id, user_id) DO NOTHING",
               team_id, user_id, at);
}

void pg_store::remove_admin(std::string_view team_id, std::string_view user_id) {
    impl_->run("DELETE FROM admins WHERE team_id = $1 AND user_id = $2", team_id, user_id);
}

std::vector<std::string> pg_store::list_admins(std::string_view team_id) {
    auto r = impl_->run("SELECT user_id FROM admins WHERE team_id = $1 ORDER BY user_id", team_id);
    return collect(r, codec::read_text<pg_row>);
}

std::vector<std::string> pg_store::teams() {
    // counters has one row per (team, kind) that ever numbered an item: a few rows per team.
    auto r = impl_->run("SELECT DISTINCT team_id FROM counters ORDER BY team_id");
    return collect(r, codec::read_text<pg_row>);
}

void pg_store::set_user(const user_row& u) {
    impl_->run(
        "INSERT INTO users (team_id, user_id, tz, is_admin, deleted, updated_at, name, is_bot) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (team_id, user_id) DO UPDATE SET "
        "tz = excluded.tz, is_admin = excluded.is_admin, deleted = excluded.deleted, "
        "updated_at = excluded.updated_at, name = excluded.name, is_bot = excluded.is_bot",
        u.team_id, u.user_id, u.tz, u.is_admin, u.deleted, u.updated_at, u.name, u.is_bot);
}

std::optional<user_row> pg_store::find_user(std::string_view team_id, std::string_view user_id) {
    auto r = impl_->run(
        fmt::format("SELECT {} FROM users WHERE team_id = $1 AND user_id = $2", user_columns),
        team_id, user_id);
    return first(r, codec::read_user<pg_row>);
}

bool pg_store::claim(std::string_view job, std::string_view period, unix_time at) {
    auto r = impl_->run("INSERT INTO job_claims (job, period, claimed_at) VALUES ($1, $2, $3) "
                        "ON CONFLICT (job, period) DO NOTHING",
                        job, period, at);
    return r.changed() == 1;
}

bool pg_store::claimed(std::string_view job, std::string_view period) {
    return impl_->run("SELECT 1 FROM job_claims WHERE job = $1 AND period = $2", job, period)
               .rows() > 0;
}

std::optional<std::string> pg_store::setting(std::string_view team_id, std::string_view key) {
    auto r = impl_->run("SELECT value FROM settings WHERE team_id = $1 AND key = $2", team_id, key);
    return first(r, codec::read_text<pg_row>);
}

void pg_store::set_setting(std::string_view team_id, std::string_view key, std::string_view value,
                           unix_time at) {
    impl_->run("INSERT INTO settings (team_id, key, value, updated_at) VALUES ($1, $2, $3, $4) "
               "ON CONFLICT (team_id, key) DO UPDATE SET value = excluded.value, "
               "updated_at = excluded.updated_at",
               team_id, key, value, at);
}

void pg_store::put_standup(const standup& st) {
    impl_->run(
        fmt::format("INSERT INTO standups ({}) VALUES ({}) "
                    "ON CONFLICT (team_id, channel_id) DO UPDATE SET minute = excluded.minute, "
                    "report_minute = excluded.report_minute, days = excluded.days, "
                    "tz = excluded.tz, members = excluded.members, "
                    "whole_channel = excluded.whole_channel, paused = excluded.paused, "
                    "created_by = excluded.created_by, created_at = excluded.created_at, "
                    "updated_at = excluded.updated_at",
                    standup_columns, placeholders(12)),
        st.team_id, st.channel_id, st.minute, st.report_minute, static_cast<std::int64_t>(st.days),
        st.tz, codec::encode_json_list(st.members), st.whole_channel, st.paused, st.created_by,
        st.created_at, st.updated_at);
}

std::optional<standup> pg_store::find_standup(std::string_view team_id,
                                              std::string_view channel_id) {
    auto r = impl_->run(fmt::format("SELECT {} FROM standups WHERE team_id = $1 AND "
                                    "channel_id = $2",
                                    standup_columns),
                        team_id, channel_id);
    return first(r, codec::read_standup<pg_row>);
}

std::vector<standup> pg_store::list_standups(std::string_view team_id) {
    if (team_id.empty()) {
        return collect(impl_->run(fmt::format("SELECT {} FROM standups ORDER BY team_id, "
                                              "channel_id",
                                              standup_columns)),
                       codec::read_standup<pg_row>);
    }
    return collect(impl_->run(fmt::format("SELECT {} FROM standups WHERE team_id = $1 "
                                          "ORDER BY channel_id",
                                          standup_columns),
                              team_id),
                   codec::read_standup<pg_row>);
}

void pg_store::put_standup_person(const standup_person& p) {
    impl_->run(fmt::format("INSERT INTO standup_people ({}) VALUES ({}) "
                           "ON CONFLICT (team_id, user_id) DO UPDATE SET tz = excluded.tz, "
                           "ooo_until = excluded.ooo_until, skip_day = excluded.skip_day, "
                           "updated_at = excluded.updated_at",
                           person_columns, placeholders(6)),
               p.team_id, p.user_id, p.tz, p.ooo_until, p.skip_day, p.updated_at);
}

std::optional<standup_person> pg_store::find_standup_person(std::string_view team_id,
                                                            std::string_view user_id) {
    auto r = impl_->run(fmt::format("SELECT {} FROM standup_people WHERE team_id = $1 AND "
                                    "user_id = $2",
                                    person_columns),
                        team_id, user_id);
    return first(r, codec::read_person<pg_row>);
}

void pg_store::put_run(const standup_run& r) {
    impl_->run(fmt::format("INSERT INTO standup_runs ({}) VALUES ({}) "
                           "ON CONFLICT (team_id, channel_id, period) DO UPDATE SET "
                           "report_due = excluded.report_due, reported_at = excluded.reported_at, "
                           "digest_channel = excluded.digest_channel, "
                           "digest_ts = excluded.digest_ts",
                           run_columns, placeholders(7)),
               r.team_id, r.channel_id, r.period, r.report_due, r.reported_at, r.digest_channel,
               r.digest_ts);
}

std::optional<standup_run> pg_store::find_run(std::string_view team_id, std::string_view channel_id,
                                              std::string_view period) {
    auto r = impl_->run(fmt::format("SELECT {} FROM standup_runs WHERE team_id = $1 AND "
                                    "channel_id = $2 AND period = $3",
                                    run_columns),
                        team_id, channel_id, period);
    return first(r, codec::read_run<pg_row>);
}

std::vector<standup_run> pg_store::unreported_runs(unix_time until) {
    auto r = impl_->run(fmt::format("SELECT {} FROM standup_runs WHERE reported_at = 0 AND "
                                    "report_due <= $1 ORDER BY report_due, team_id, channel_id",
                                    run_columns),
                        until);
    return collect(r, codec::read_run<pg_row>);
}

void pg_store::put_entry(const standup_entry& e) {
    impl_->run(
        fmt::format("INSERT INTO standup_entries ({}) VALUES ({}) "
                    "ON CONFLICT (team_id, channel_id, period, user_id) DO UPDATE SET "
                    "state = excluded.state, note = excluded.note, answers = excluded.answers, "
                    "prompted_at = excluded.prompted_at, reminder_due = excluded.reminder_due, "
                    "reminded_at = excluded.reminded_at, answered_at = excluded.answered_at, "
                    "late = excluded.late",
                    entry_columns, placeholders(12)),
        e.team_id, e.channel_id, e.period, e.user_id, e.state, e.note,
        codec::encode_json_list(e.answers), e.prompted_at, e.reminder_due, e.reminded_at,
        e.answered_at, e.late);
}

std::optional<standup_entry> pg_store::find_entry(std::string_view team_id,
                                                  std::string_view channel_id,
                                                  std::string_view period,
                                                  std::string_view user_id) {
    auto r = impl_->run(fmt::format("SELECT {} FROM standup_entries WHERE team_id = $1 AND "
                                    "channel_id = $2 AND period = $3 AND user_id = $4",
                                    entry_columns),
                        team_id, channel_id, period, user_id);
    return first(r, codec::read_entry<pg_row>);
}

std::vector<standup_entry> pg_store::run_entries(std::string_view team_id,
                                                 std::string_view channel_id,
                                                 std::string_view period) {
    auto r = impl_->run(fmt::format("SELECT {} FROM standup_entries WHERE team_id = $1 AND "
                                    "channel_id = $2 AND period = $3 "
                                    "ORDER BY prompted_at, user_id",
                                    entry_columns),
                        team_id, channel_id, period);
    return collect(r, codec::read_entry<pg_row>);
}

std::vector<standup_entry> pg_store::open_entries(std::string_view team_id,
                                                  std::string_view user_id) {
    auto r = impl_->run(fmt::format("SELECT {} FROM standup_entries WHERE team_id = $1 AND "
                                    "user_id = $2 AND state = 'prompted' "
                                    "ORDER BY prompted_at, channel_id, period",
                                    entry_columns),
                        team_id, user_id);
    return collect(r, codec::read_entry<pg_row>);
}

std::optional<standup_entry> pg_store::latest_entry(std::string_view team_id,
                                                    std::string_view user_id) {
    // Equal prompt times: the entry created last (seq is set once, at the insert).
    auto r = impl_->run(fmt::format("SELECT {} FROM standup_entries WHERE team_id = $1 AND "
                                    "user_id = $2 ORDER BY prompted_at DESC, seq DESC LIMIT 1",
                                    entry_columns),
                        team_id, user_id);
    return first(r, codec::read_entry<pg_row>);
}

std::vector<standup_entry> pg_store::reminders_due(unix_time until) {
    auto r = impl_->run(fmt::format("SELECT {} FROM standup_entries WHERE state = 'prompted' AND "
                                    "reminded_at = 0 AND reminder_due > 0 AND reminder_due <= $1 "
                                    "ORDER BY reminder_due, team_id, channel_id, period, user_id",
                                    entry_columns),
                        until);
    return collect(r, codec::read_entry<pg_row>);
}

unix_time pg_store::next_reminder(unix_time after) {
    auto r = impl_->run("SELECT MIN(reminder_due) FROM standup_entries WHERE "
                        "state = 'prompted' AND reminded_at = 0 AND reminder_due > $1",
                        after);
    return r.rows() == 0 ? 0 : r.row(0).integer(0);
}

void pg_store::put_standup_message(const standup_message& m) {
    impl_->run(fmt::format("INSERT INTO standup_messages ({}) VALUES ({}) "
                           "ON CONFLICT (team_id, user_id, ts) DO UPDATE SET "
                           "channel_id = excluded.channel_id, period = excluded.period, "
                           "first_question = excluded.first_question, count = excluded.count",
                           message_columns, placeholders(7)),
               m.team_id, m.user_id, m.ts, m.channel_id, m.period, m.first_question, m.count);
}

std::optional<standup_message> pg_store::find_standup_message(std::string_view team_id,
                                                              std::string_view user_id,
                                                              std::string_view ts) {
    auto r = impl_->run(fmt::format("SELECT {} FROM standup_messages WHERE team_id = $1 AND "
                                    "user_id = $2 AND ts = $3",
                                    message_columns),
                        team_id, user_id, ts);
    return first(r, codec::read_message<pg_row>);
}

std::optional<std::vector<std::string>> pg_store::channel_members(std::string_view team_id,
                                                                  std::string_view channel_id) {
    if (impl_
            ->run("SELECT 1 FROM channel_members_read WHERE team_id = $1 AND channel_id = $2",
                  team_id, channel_id)
            .rows() == 0) {
        return std::nullopt;
    }
    auto r = impl_->run("SELECT user_id FROM channel_members WHERE team_id = $1 AND "
                        "channel_id = $2 ORDER BY user_id",
                        team_id, channel_id);
    return collect(r, codec::read_text<pg_row>);
}

void pg_store::set_channel_members(std::string_view team_id, std::string_view channel_id,
                                   const std::vector<std::string>& members, unix_time at) {
    transact([&] {
        impl_->run("DELETE FROM channel_members WHERE team_id = $1 AND channel_id = $2", team_id,
                   channel_id);
        for (const auto& user : members) {
            impl_->run("INSERT INTO channel_members (team_id, channel_id, user_id) "
                       "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                       team_id, channel_id, user);
        }
        impl_->run("INSERT INTO channel_members_read (team_id, channel_id, read_at) "
                   "VALUES ($1, $2, $3) ON CONFLICT (team_id, channel_id) DO UPDATE "
                   "SET read_at = excluded.read_at",
                   team_id, channel_id, at);
    });
}

void pg_store::put_poll(const poll& p) {
    impl_->run(fmt::format("INSERT INTO polls ({}) VALUES ($1, $2, $3, $4, $5, $6) "
                           "ON CONFLICT (team_id, num) DO UPDATE SET opened_by = "
                           "excluded.opened_by, opened_at = excluded.opened_at, closes_at = "
                           "excluded.closes_at, closed_at = excluded.closed_at",
                           poll_columns),
               p.team_id, p.num, p.opened_by, p.opened_at, p.closes_at, p.closed_at);
}

std::optional<poll> pg_store::find_poll(std::string_view team_id, std::int64_t num) {
    auto r = impl_->run(
        fmt::format("SELECT {} FROM polls WHERE team_id = $1 AND num = $2", poll_columns), team_id,
        num);
    return first(r, codec::read_poll<pg_row>);
}

void pg_store::set_vote(std::string_view team_id, std::int64_t num, const poll_vote& v) {
    impl_->run("INSERT INTO poll_votes (team_id, num, user_id, choice, voted_at) "
               "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team_id, num, user_id) DO UPDATE "
               "SET choice = excluded.choice, voted_at = excluded.voted_at",
               team_id, num, v.user_id, v.choice, v.voted_at);
}

std::vector<poll_vote> pg_store::poll_votes(std::string_view team_id, std::int64_t num) {
    auto r = impl_->run(fmt::format("SELECT {} FROM poll_votes WHERE team_id = $1 AND num = $2 "
                                    "ORDER BY voted_at, user_id",
                                    vote_columns),
                        team_id, num);
    return collect(r, codec::read_vote<pg_row>);
}

std::vector<poll> pg_store::polls_due(unix_time until) {
    auto r = impl_->run(fmt::format("SELECT {} FROM polls WHERE closed_at = 0 AND closes_at > 0 "
                                    "AND closes_at <= $1 ORDER BY closes_at, team_id, num",
                                    poll_columns),
                        until);
    return collect(r, codec::read_poll<pg_row>);
}

std::int64_t pg_store::enqueue(std::string_view team_id, const effect& e, unix_time now) {
    auto r = impl_->run(
        "INSERT INTO outbox (team_id, destination, channel, \"user\", thread_ts, item, is_card, "
        "text, buttons, created_at, state, blocks, name) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', $11, $12) RETURNING id",
        team_id, codec::destination_text(e.to), e.channel, e.user, e.thread_ts, e.item, e.is_card,
        e.text, codec::encode_buttons(e.buttons), now, codec::encode_blocks(e.blocks), e.name);
    return r.row(0).integer(0);
}

std::vector<outbox_row> pg_store::pending(int limit, std::int64_t after_id) {
    auto r = impl_->run(fmt::format("SELECT {} FROM outbox WHERE state = 'pending' AND id > $1 "
                                    "ORDER BY id LIMIT $2",
                                    outbox_columns),
                        after_id, pg_limit(limit));
    return collect(r, codec::read_outbox<pg_row>);
}

std::optional<outbox_row> pg_store::outbox(std::int64_t id) {
    auto r = impl_->run(fmt::format("SELECT {} FROM outbox WHERE id = $1", outbox_columns), id);
    return first(r, codec::read_outbox<pg_row>);
}

void pg_store::mark_sent(const outbox_row& row, std::string_view channel, std::string_view ts,
                         unix_time at) {
    transact([&] {
        impl_->run("UPDATE outbox SET state = 'sent', ts = $1, sent_at = $2, "
                   "last_attempt_at = $2, unsure = false WHERE id = $3",
                   ts, at, row.id);
        if (!row.e.name.empty() && row.e.to != destination::update && !ts.empty()) {
            impl_->run("INSERT INTO posts (team_id, name, channel, ts, posted_at) "
                       "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (team_id, name) DO UPDATE "
                       "SET channel = excluded.channel, ts = excluded.ts, "
                       "posted_at = excluded.posted_at",
                       row.team_id, row.e.name, channel.empty() ? row.e.channel : channel, ts, at);
        }
        auto thread = codec::card_thread_of(row, channel);
        if (!thread) {
            return;
        }
        if (const auto* run = std::get_if<codec::run_key>(&thread->of)) {
            impl_->run("UPDATE standup_runs SET digest_channel = $1, digest_ts = $2 "
                       "WHERE team_id = $3 AND channel_id = $4 AND period = $5 AND "
                       "digest_ts = ''",
                       thread->channel, ts, row.team_id, run->channel_id, run->period);
            return;
        }
        // Only the first card post starts the thread; a re-posted card keeps the original.
        const auto& target = std::get<item_id>(thread->of);
        impl_->run("UPDATE items SET thread_channel = $1, thread_ts = $2 "
                   "WHERE team_id = $3 AND kind = $4 AND num = $5 AND thread_ts = ''",
                   thread->channel, ts, row.team_id, target.kind, target.num);
    });
}

std::optional<std::pair<std::string, std::string>> pg_store::post_of(std::string_view team_id,
                                                                     std::string_view name) {
    auto r =
        impl_->run("SELECT channel, ts FROM posts WHERE team_id = $1 AND name = $2", team_id, name);
    if (r.rows() == 0) {
        return std::nullopt;
    }
    return std::pair{r.row(0).text(0), r.row(0).text(1)};
}

int pg_store::mark_pending_unsure() {
    auto r = impl_->run("UPDATE outbox SET unsure = true WHERE state = 'pending' AND NOT unsure");
    return static_cast<int>(r.changed());
}

void pg_store::mark_failed(std::int64_t id, std::string_view error, bool permanent, unix_time at,
                           bool maybe_delivered) {
    // A row already sent stays sent: a late failure report must not cause a second delivery.
    impl_->run("UPDATE outbox SET attempts = attempts + 1, error = $1, last_attempt_at = $2, "
               "unsure = $3, state = CASE WHEN $4 THEN 'failed' ELSE 'pending' END "
               "WHERE id = $5 AND state = 'pending'",
               error, at, maybe_delivered, permanent, id);
}

bool pg_store::inbox_put(const inbox_row& r) {
    return impl_
               ->run("INSERT INTO inbox (event_id, team_id, payload, received_at) "
                     "VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING",
                     r.event_id, r.team_id, r.payload, r.received_at)
               .changed() == 1;
}

std::vector<inbox_row> pg_store::inbox_unprocessed(int limit) {
    auto r = impl_->run(fmt::format("SELECT {} FROM inbox WHERE processed_at IS NULL "
                                    "ORDER BY received_at, seq LIMIT $1",
                                    codec::inbox_columns),
                        pg_limit(limit));
    return collect(r, codec::read_inbox<pg_row>);
}

void pg_store::inbox_done(std::string_view event_id, unix_time at) {
    impl_->run("UPDATE inbox SET processed_at = $1 WHERE event_id = $2", at, event_id);
}

bool pg_store::inbox_processed(std::string_view event_id) {
    return impl_
               ->run("SELECT 1 FROM inbox WHERE event_id = $1 AND processed_at IS NOT NULL",
                     event_id)
               .rows() > 0;
}

} // namespace tpmbot
