#include "support/test_store.hpp"

#include "open_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <cstdint>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <libpq-fe.h>
#include <random>
#include <stdexcept>

namespace tpmbot::test {

namespace {

std::string read_url_file(const char* path) {
    std::ifstream f(path);
    std::string url;
    if (!f || !std::getline(f, url)) {
        throw std::runtime_error(fmt::format("TPMBOT_TEST_PG_FILE: cannot read {}", path));
    }
    while (!url.empty() && (url.back() == '\r' || url.back() == ' ')) {
        url.pop_back();
    }
    if (url.empty()) {
        throw std::runtime_error(fmt::format("TPMBOT_TEST_PG_FILE: {} is empty", path));
    }
    return url;
}

/// "t_" and 16 random hex digits: unique among the tests running at once on one server.
std::string random_schema() {
    std::random_device rd;
    std::uint64_t n = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
    return fmt::format("t_{:016x}", n);
}

} // namespace

std::string with_params(const std::string& url, const std::string& more) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + more;
}

std::string postgres_url() {
    static const std::string url = [] {
        if (const char* f = std::getenv("TPMBOT_TEST_PG_FILE"); f != nullptr && *f != '\0') {
            return read_url_file(f);
        }
        if (const char* u = std::getenv("TPMBOT_TEST_PG"); u != nullptr && *u != '\0') {
            return std::string(u);
        }
        return std::string();
    }();
    return url;
}

bool on_postgres() {
    return !postgres_url().empty();
}

std::string pg_exec(const std::string& url, const std::string& sql) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url.c_str()), &PQfinish);
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
        throw std::runtime_error(fmt::format("pg_exec: cannot connect: {}",
                                             conn ? PQerrorMessage(conn.get()) : "out of memory"));
    }
    PQsetNoticeProcessor(
        conn.get(), [](void*, const char*) {}, nullptr);
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), &PQclear);
    auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        throw std::runtime_error(fmt::format("pg_exec: {}: {}", sql, PQerrorMessage(conn.get())));
    }
    if (PQntuples(r.get()) == 0 || PQnfields(r.get()) == 0) {
        return {};
    }
    return PQgetvalue(r.get(), 0, 0);
}

test_db::test_db() {
    auto base = postgres_url();
    if (base.empty()) {
        where_ = dir_.file("tpmbot.db").string();
        return;
    }
    schema_ = random_schema();
    pg_exec(base, "CREATE SCHEMA " + schema_);
    // A libpq `options` parameter that makes the schema the search_path.
    where_ = with_params(base, "options=-csearch_path%3D" + schema_);
}

test_db::~test_db() {
    if (schema_.empty()) {
        return;
    }
    try {
        // Bounded: a store left open by a failed test must not hang the run.
        pg_exec(postgres_url(), "SET lock_timeout = '10s'; DROP SCHEMA " + schema_ + " CASCADE");
    } catch (const std::exception&) {
        // The whole cluster goes at the end of the run anyway.
    }
}

std::unique_ptr<durable_store> test_db::open() const {
    return open_store(where_);
}

void test_db::exec(const std::string& sql) const {
    if (postgres()) {
        pg_exec(where_, sql);
        return;
    }
    SQLite::Database db(where_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec(sql);
}

std::string test_db::query(const std::string& sql) const {
    if (postgres()) {
        return pg_exec(where_, sql);
    }
    SQLite::Database db(where_, SQLite::OPEN_READONLY);
    SQLite::Statement s(db, sql);
    if (!s.executeStep() || s.getColumn(0).isNull()) {
        return {};
    }
    return s.getColumn(0).getString();
}

} // namespace tpmbot::test
