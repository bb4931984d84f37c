#pragma once
/// The database one storage test runs against: a new SQLite file in a temp dir, or, when a
/// PostgreSQL server is configured for the tests, a new empty schema on it. The same test then
/// runs against either engine.
///
/// The server: TPMBOT_TEST_PG_FILE names a file holding its base URL (what `deploy/pg.sh
/// start` writes, for ctest's fixture), else TPMBOT_TEST_PG holds the URL. Neither set (or
/// both empty): SQLite.

#include "durable_store.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <string>

namespace tpmbot::test {

/// The configured server's base URL, "" when the tests use SQLite. Throws when
/// TPMBOT_TEST_PG_FILE names a file that cannot be read or is empty.
std::string postgres_url();

/// Whether the storage tests run against PostgreSQL.
bool on_postgres();

/// One test's database, empty at first, removed at scope end (the stores opened on it must
/// be gone by then).
class test_db {
public:
    test_db();
    ~test_db();
    test_db(const test_db&) = delete;
    test_db& operator=(const test_db&) = delete;

    bool postgres() const { return !schema_.empty(); }
    /// What `open_store` takes: the SQLite file's path, or a URL whose search_path is this
    /// test's schema.
    const std::string& where() const { return where_; }
    /// A new store (a new connection) on the database, migrated.
    std::unique_ptr<durable_store> open() const;
    /// Runs SQL text as is, beside the store: to write what the store never would.
    void exec(const std::string& sql) const;
    /// The first column of the first row of `sql`'s result, as text ("" for NULL or none).
    std::string query(const std::string& sql) const;
    /// The PostgreSQL schema's name ("" for SQLite).
    const std::string& schema() const { return schema_; }

private:
    temp_dir dir_;
    std::string schema_;
    std::string where_;
};

/// `url` (a PostgreSQL URL) with `more` ("key=value&...") appended as URL parameters.
std::string with_params(const std::string& url, const std::string& more);

/// Runs SQL text on a PostgreSQL database, outside any store; throws std::runtime_error on an
/// error. Returns the first column of the first row ("" when none).
std::string pg_exec(const std::string& url, const std::string& sql);

} // namespace tpmbot::test
