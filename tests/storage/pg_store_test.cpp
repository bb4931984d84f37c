// What only the PostgreSQL store does: its connection, its migrations, its error messages and
// what PostgreSQL does differently. Tagged [pg]: ctest runs them against the server its
// fixture starts (deploy/pg.sh). Those that need a server pass with a warning when none is
// configured.

#include "open_store.hpp"
#include "pg_store.hpp"
#include "sqlite_store.hpp"
#include "support/temp_dir.hpp"
#include "support/test_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <latch>
#include <string>
#include <thread>
#include <vector>

using namespace tpmbot;
using Catch::Matchers::Contains;

namespace {

/// Whether a server is configured; warns (the test then passes without checking) when not.
bool have_server() {
    if (test::on_postgres()) {
        return true;
    }
    WARN("no PostgreSQL server for the tests (TPMBOT_TEST_PG or TPMBOT_TEST_PG_FILE): skipped");
    return false;
}

item make_item(std::int64_t num) {
    item it;
    it.team_id = "T1";
    it.kind = item_kind::blocker;
    it.num = num;
    it.channel_id = "C1";
    it.status = "open";
    it.title = "thing " + std::to_string(num);
    it.created_at = num;
    it.updated_at = num;
    return it;
}

/// The message of what `f` throws ("" when it does not throw).
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return {};
}

using strings = std::vector<std::string>;

} // namespace

TEST_CASE("PostgreSQL: the schema version is SQLite's latest, and migrating again changes "
          "nothing",
          "[storage][pg]") {
    CHECK(pg_store::latest_schema_version() == sqlite_store::latest_schema_version());
    if (!have_server()) {
        return;
    }
    test::test_db db;
    auto tables = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()";
    {
        auto s = db.open();
        CHECK(s->schema_version() == sqlite_store::latest_schema_version());
        s->set_setting("", "k", "kept", 1);
        s->insert_item(make_item(1));
    }
    auto before = db.query(tables);
    CHECK(std::stoi(before) >= 17);
    for (int i = 0; i < 2; ++i) {
        auto s = db.open();
        CHECK(s->schema_version() == sqlite_store::latest_schema_version());
        CHECK(s->setting("", "k") == std::optional<std::string>("kept"));
        CHECK(s->find_item("T1", {item_kind::blocker, 1}));
    }
    CHECK(db.query(tables) == before);
    CHECK(db.query("SELECT count(*) FROM tpmbot_schema") == "1");
    CHECK(db.query("SELECT version FROM tpmbot_schema") ==
          std::to_string(sqlite_store::latest_schema_version()));
}

TEST_CASE("PostgreSQL: several connections opening a new schema at once migrate it once",
          "[storage][pg]") {
    if (!have_server()) {
        return;
    }
    test::test_db db;
    constexpr int n = 6;
    std::latch go(n);
    std::vector<std::string> errors(n);
    std::vector<int> versions(n, 0);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
        threads.emplace_back([&, i] {
            go.arrive_and_wait(); // all connect and migrate together
            try {
                pg_store s(db.where());
                versions[static_cast<std::size_t>(i)] = s.schema_version();
            } catch (const std::exception& e) {
                errors[static_cast<std::size_t>(i)] = e.what();
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    for (int i = 0; i < n; ++i) {
        INFO("connection " << i);
        CHECK(errors[static_cast<std::size_t>(i)].empty());
        CHECK(versions[static_cast<std::size_t>(i)] == sqlite_store::latest_schema_version());
    }
    CHECK(db.query("SELECT count(*) FROM tpmbot_schema") == "1");
    auto s = db.open();
    s->insert_item(make_item(1));
    CHECK(s->list_items(item_query{"T1", {}, {}, {}, {}, {}}).size() == 1);
}

TEST_CASE("PostgreSQL: a version 6 schema is migrated to 7, its delivered cards found by name",
          "[storage][pg]") {
    if (!have_server()) {
        return;
    }
    test::test_db db;
    effect card;
    card.to = destination::channel;
    card.channel = "C1";
    card.item = "B-1";
    card.is_card = true;
    card.text = "the card";
    effect in_thread = card; // a mention's card, in the mention's thread
    in_thread.item = "B-2";
    in_thread.is_card = false;
    in_thread.thread_ts = "99.000001";
    effect line = card; // a channel line names no item
    line.item.clear();
    line.is_card = false;
    {
        auto s = db.open();
        s->transact([&] {
            s->insert_item(make_item(1));
            s->enqueue("T1", card, 100);
            s->enqueue("T1", in_thread, 100);
            s->enqueue("T1", line, 100);
        });
        for (const auto& row : s->pending(0)) {
            s->mark_sent(row, "C1", "100.00000" + std::to_string(row.id), 101);
        }
    }
    // Back to exactly what version 6 created.
    db.exec("DROP TABLE posts; DROP TABLE polls; DROP TABLE poll_votes; "
            "ALTER TABLE items DROP COLUMN snoozed_until; ALTER TABLE outbox DROP COLUMN name; "
            "UPDATE tpmbot_schema SET version = 6");
    auto s = db.open();
    CHECK(s->schema_version() == 7);
    CHECK(s->post_of("T1", "card:B-1")->second == "100.000001");
    CHECK(s->post_of("T1", "card:B-2")->second == "100.000002");
    CHECK(db.query("SELECT count(*) FROM posts") == "2");
    CHECK(s->find_item("T1", {item_kind::blocker, 1})->snoozed_until == 0);
}

TEST_CASE("PostgreSQL: a database with a newer schema version is refused", "[storage][pg]") {
    if (!have_server()) {
        return;
    }
    test::test_db db;
    { auto s = db.open(); }
    auto newer = sqlite_store::latest_schema_version() + 1;
    db.exec("UPDATE tpmbot_schema SET version = " + std::to_string(newer));
    auto expected = "database " + pg_store::redact(db.where()) + " has schema version " +
                    std::to_string(newer) + ", this tpmbot knows up to " +
                    std::to_string(sqlite_store::latest_schema_version()) + "; upgrade tpmbot";
    REQUIRE_THROWS_AS(db.open(), std::runtime_error);
    REQUIRE_THROWS_WITH(db.open(), expected);
    CHECK(db.query("SELECT version FROM tpmbot_schema") == std::to_string(newer));
}

TEST_CASE("PostgreSQL: the schema has the SQLite schema's tables, columns and indexes",
          "[storage][pg]") {
    if (!have_server()) {
        return;
    }
    test::test_db db;
    { auto s = db.open(); }
    test::temp_dir dir;
    auto path = dir.file("tpmbot.db").string();
    { sqlite_store made(path); }
    SQLite::Database lite(path, SQLite::OPEN_READONLY);
    auto sqlite_list = [&](const std::string& sql) {
        SQLite::Statement q(lite, sql);
        strings out;
        while (q.executeStep()) {
            out.push_back(q.getColumn(0).getString());
        }
        return out;
    };
    auto pg_list = [&](const std::string& select) {
        strings out;
        auto joined = db.query("SELECT string_agg(x, ',' ORDER BY x) FROM (" + select + ") AS l");
        std::size_t start = 0;
        while (!joined.empty()) {
            auto comma = joined.find(',', start);
            out.push_back(joined.substr(start, comma - start));
            if (comma == std::string::npos) {
                break;
            }
            start = comma + 1;
        }
        return out;
    };

    auto tables = sqlite_list("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                              "name NOT LIKE 'sqlite_%' ORDER BY name");
    CHECK(pg_list("SELECT table_name::text AS x FROM information_schema.tables WHERE "
                  "table_schema = current_schema() AND table_name <> 'tpmbot_schema'") == tables);
    for (const auto& table : tables) {
        INFO("table " << table);
        auto columns = sqlite_list("SELECT name FROM pragma_table_info('" + table +
                                   "') "
                                   "ORDER BY name");
        // SQLite's rowid orders the inbox and the standup entries; PostgreSQL has `seq`.
        if (table == "inbox" || table == "standup_entries") {
            columns.push_back("seq");
            std::sort(columns.begin(), columns.end());
        }
        CHECK(pg_list("SELECT column_name::text AS x FROM information_schema.columns WHERE "
                      "table_schema = current_schema() AND table_name = '" +
                      table + "'") == columns);
    }
    // Named indexes (not those of the primary keys); the NOCASE key of areas is an index.
    auto indexes = sqlite_list("SELECT name FROM sqlite_master WHERE type = 'index' AND "
                               "sql IS NOT NULL ORDER BY name");
    indexes.push_back("areas_name_nocase");
    std::sort(indexes.begin(), indexes.end());
    CHECK(pg_list("SELECT indexname::text AS x FROM pg_indexes WHERE "
                  "schemaname = current_schema() AND indexname NOT LIKE '%\\_pkey'") == indexes);
    // Every text column sorts by bytes, as SQLite's BINARY collation, whatever the locale.
    CHECK(db.query("SELECT count(*) FROM information_schema.columns WHERE "
                   "table_schema = current_schema() AND data_type = 'text' AND "
                   "collation_name IS DISTINCT FROM 'C'") == "0");
}

TEST_CASE("PostgreSQL: the password never appears in an error message", "[storage][pg]") {
    const std::string secret = "S3cret-pw";

    SECTION("redacted URLs and key=value text") {
        CHECK(
            pg_store::redact("postgresql://bob:S3cret-pw@db.example:5432/tpmbot?sslmode=require") ==
            "postgresql://bob@db.example:5432/tpmbot?sslmode=require");
        CHECK(pg_store::redact("postgres://bob:S3cret%2Dpw@/tpmbot?host=/run/pg") ==
              "postgres://bob@/tpmbot?host=/run/pg");
        CHECK(pg_store::redact("postgresql:///tpmbot?password=S3cret-pw&host=/run/pg") ==
              "postgresql:///tpmbot?host=/run/pg");
        CHECK(pg_store::redact("postgresql:///tpmbot?host=/run/pg&password=S3cret-pw") ==
              "postgresql:///tpmbot?host=/run/pg");
        CHECK(pg_store::redact("postgresql:///tpmbot?pass%77ord=S3cret-pw") ==
              "postgresql:///tpmbot");
        CHECK(pg_store::redact("postgresql://bob@host/db") == "postgresql://bob@host/db");
        CHECK(pg_store::redact("host=/run/pg password='S3cret \\' pw' dbname=tpmbot") ==
              "host=/run/pg dbname=tpmbot");
        CHECK(pg_store::redact("host=/run/pg password = S3cret-pw") == "host=/run/pg");
    }
    SECTION("no server at the address") {
        for (const auto& url :
             {"postgresql://bob:" + secret + "@/tpmbot?host=/nonexistent/dir&port=5",
              "postgresql:///tpmbot?host=/nonexistent/dir&port=5&password=" + secret,
              "postgres://bob:" + secret + "%zz@/tpmbot?host=/nonexistent/dir&port=5",
              "host=/nonexistent/dir port=5 dbname=tpmbot password='" + secret + "'"}) {
            INFO(url);
            // open_store takes key=value text for a file name: pg_store reads it.
            auto message = error_of([&] { pg_store s(url); });
            CHECK_THAT(message, Contains("PostgreSQL database"));
            CHECK_THAT(message, !Contains(secret) && !Contains("S3cret"));
            if (url.starts_with("postgres")) {
                CHECK_THAT(message, Contains(pg_store::redact(url)));
            } else {
                CHECK_THAT(message, Contains("host=/nonexistent/dir port=5 dbname=tpmbot"));
            }
        }
    }
    SECTION("the server refuses the database") {
        if (!have_server()) {
            return;
        }
        // The test server's URL is postgresql:///tpmbot_test?host=...: name a missing database,
        // with a user and password.
        auto base = test::postgres_url();
        auto query = base.substr(base.find('?'));
        auto url = "postgresql://tpmbot:" + secret + "@/no_such_db" + query;
        auto message = error_of([&] { open_store(url); });
        CHECK_THAT(message, Contains("cannot connect to PostgreSQL database postgresql://tpmbot@/"
                                     "no_such_db?") &&
                                Contains("\"no_such_db\" does not exist"));
        CHECK_THAT(message, !Contains(secret));
    }
    SECTION("a statement's error on an open store") {
        if (!have_server()) {
            return;
        }
        test::test_db db;
        // Trust authentication ignores the password: the connection opens.
        auto url = test::with_params(db.where(), "password=" + secret);
        auto s = open_store(url);
        s->insert_item(make_item(1));
        auto message = error_of([&] { s->insert_item(make_item(1)); });
        CHECK_THAT(message, Contains("PostgreSQL database " + pg_store::redact(url)) &&
                                Contains("duplicate key"));
        CHECK_THAT(message, !Contains(secret));
    }
}

TEST_CASE("PostgreSQL: a malformed URL is refused with a clear message", "[storage][pg]") {
    CHECK_THAT(error_of([] { open_store("postgresql://localhost:notaport/tpmbot"); }),
               Contains("cannot connect to PostgreSQL database "
                        "postgresql://localhost:notaport/tpmbot: ") &&
                   Contains("\"notaport\""));
    CHECK_THAT(error_of([] { open_store("postgres:///tpmbot?no_such_option=1"); }),
               Contains("cannot connect to PostgreSQL database "
                        "postgres:///tpmbot?no_such_option=1: ") &&
                   Contains("no_such_option"));
    CHECK_THAT(error_of([] { open_store("postgresql://[::1/tpmbot"); }),
               Contains("cannot connect to PostgreSQL database postgresql://[::1/tpmbot: "));
}

TEST_CASE("open_store picks the engine from the location's form", "[storage][pg]") {
    CHECK(is_postgres_url("postgresql://host/db"));
    CHECK(is_postgres_url("postgres://host/db"));
    CHECK_FALSE(is_postgres_url("/var/lib/tpmbot/postgres.db"));
    CHECK_FALSE(is_postgres_url("postgres.db"));
    test::temp_dir dir;
    auto lite = open_store(dir.file("tpmbot.db").string());
    CHECK(dynamic_cast<sqlite_store*>(lite.get()) != nullptr);
    // A file whose name merely starts like a scheme is still a file.
    auto odd = open_store(dir.file("postgres.db").string());
    CHECK(dynamic_cast<sqlite_store*>(odd.get()) != nullptr);
    CHECK_THAT(error_of([] { open_store("postgres://tpmbot@/db?host=/nonexistent/dir&port=5"); }),
               Contains("cannot connect to PostgreSQL database"));
    if (!have_server()) {
        return;
    }
    test::test_db db;
    auto pg = open_store(db.where());
    CHECK(dynamic_cast<pg_store*>(pg.get()) != nullptr);
}

TEST_CASE("PostgreSQL: a nested transaction's failure rolls back to its savepoint only",
          "[storage][pg]") {
    if (!have_server()) {
        return;
    }
    test::test_db db;
    auto s = db.open();
    auto other = db.open(); // what other processes see
    s->transact([&] {
        s->add_admin("T1", "U_BEFORE", 1);
        CHECK_THROWS_WITH(s->transact([&] {
            s->add_admin("T1", "U_INNER", 1);
            s->add_admin("T1", "U_INNER", 1); // twice is fine: ON CONFLICT
            s->insert_item(make_item(1));
            s->insert_item(make_item(1)); // a duplicate key: PostgreSQL fails the statement
        }),
                          Contains("duplicate key"));
        // Rolled back to the savepoint: the transaction goes on, without the inner writes.
        CHECK(s->list_admins("T1") == strings{"U_BEFORE"});
        CHECK_FALSE(s->find_item("T1", {item_kind::blocker, 1}));
        s->add_admin("T1", "U_AFTER", 2);
        CHECK(other->list_admins("T1").empty()); // nothing committed yet
    });
    CHECK(other->list_admins("T1") == strings{"U_AFTER", "U_BEFORE"});
    CHECK_FALSE(other->find_item("T1", {item_kind::blocker, 1}));
}

TEST_CASE("PostgreSQL: a failed statement whose error the body swallowed rolls the "
          "transaction back, and says so",
          "[storage][pg]") {
    // SQLite would commit the rest; PostgreSQL has dropped the transaction's work at the
    // failure. The store reports it instead of pretending to commit.
    if (!have_server()) {
        return;
    }
    test::test_db db;
    auto s = db.open();
    s->insert_item(make_item(1));
    auto swallow_duplicate = [&] {
        try {
            s->insert_item(make_item(1));
        } catch (const std::exception&) {
        }
    };
    CHECK_THROWS_WITH(s->transact([&] {
        s->add_admin("T1", "U1", 1);
        swallow_duplicate();
    }),
                      Contains("rolled back"));
    CHECK(s->list_admins("T1").empty());

    // In a nested transaction: that one fails (rolled back to its savepoint), the outer one
    // can go on.
    s->transact([&] {
        s->add_admin("T1", "U2", 1);
        CHECK_THROWS_WITH(s->transact([&] {
            s->add_admin("T1", "U3", 1);
            swallow_duplicate();
        }),
                          Contains("rolled back"));
        s->add_admin("T1", "U4", 1);
    });
    CHECK(s->list_admins("T1") == strings{"U2", "U4"});
}

TEST_CASE("PostgreSQL refuses text that is not UTF-8, and the transaction rolls back",
          "[storage][pg]") {
    // SQLite keeps any bytes (sqlite_store_test.cpp); a PostgreSQL text column holds UTF-8
    // only, without NUL.
    if (!have_server()) {
        return;
    }
    test::test_db db;
    auto s = db.open();
    standup_entry e;
    e.team_id = "T1";
    e.channel_id = "C1";
    e.period = "P1";
    e.user_id = "U1";
    e.state = "answered";
    e.answers = {std::string("\xff\xfe not utf-8")};
    auto message = error_of([&] {
        s->transact([&] {
            s->add_admin("T1", "U1", 1);
            s->put_entry(e);
        });
    });
    CHECK_THAT(message, Contains("PostgreSQL database " + pg_store::redact(db.where())) &&
                            Contains("invalid byte sequence for encoding \"UTF8\""));
    CHECK(s->list_admins("T1").empty());
    CHECK_FALSE(s->find_entry("T1", "C1", "P1", "U1"));

    auto it = make_item(1);
    it.title = std::string("nul \0 inside", 12);
    CHECK_THAT(error_of([&] { s->insert_item(it); }), Contains("0x00"));
    // Valid UTF-8, any of it, is fine.
    it.title = "ünïcödé 🚀 \x7f";
    s->insert_item(it);
    CHECK(s->find_item("T1", it.id())->title == it.title);
}

TEST_CASE("PostgreSQL: after the server drops the connection, the next call reconnects",
          "[storage][pg]") {
    if (!have_server()) {
        return;
    }
    test::test_db db;
    // The schema's name tags this test's connection among those of the other tests.
    auto url = test::with_params(db.where(), "application_name=" + db.schema());
    auto s = open_store(url);
    s->add_admin("T1", "U1", 1);
    auto base = test::postgres_url();
    auto mine = "FROM pg_stat_activity WHERE application_name = '" + db.schema() + "'";
    CHECK(test::pg_exec(base, "SELECT count(pg_terminate_backend(pid)) " + mine) == "1");
    // Bounded wait for the server process to be gone.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (test::pg_exec(base, "SELECT count(*) " + mine) != "0" &&
           std::chrono::steady_clock::now() < until) {
        std::this_thread::yield();
    }
    REQUIRE(test::pg_exec(base, "SELECT count(*) " + mine) == "0");
    // The call that finds the connection lost fails, as one that may be retried.
    try {
        s->list_admins("T1");
    } catch (const std::exception& e) {
        CHECK(pg_store::unwritable(e));
        CHECK_THAT(e.what(), Contains(pg_store::redact(url)));
    }
    CHECK(s->list_admins("T1") == strings{"U1"});
    s->transact([&] { s->add_admin("T1", "U2", 2); });
    CHECK(s->list_admins("T1") == strings{"U1", "U2"});
}

TEST_CASE("PostgreSQL: writing transactions take turns, readers do not wait, and a wait is "
          "bounded",
          "[storage][pg]") {
    if (!have_server()) {
        return;
    }
    test::test_db db;
    auto a = db.open();
    auto b = db.open();
    a->transact([&] {
        a->add_admin("T1", "U1", 1);
        // Reading outside a transaction does not wait for the writer, and sees the last commit.
        CHECK(b->list_admins("T1").empty());
        // A second writer waits for the first (as SQLite's BEGIN IMMEDIATE does), here in
        // vain: the first waits for it. The wait ends after the lock timeout, with an error
        // that says to try again later.
        auto started = std::chrono::steady_clock::now();
        try {
            b->transact([&] { b->add_admin("T1", "U2", 2); });
            FAIL("the second writer did not wait");
        } catch (const std::exception& e) {
            CHECK(pg_store::unwritable(e));
            CHECK_THAT(e.what(), Contains("lock"));
        }
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
    });
    CHECK(b->list_admins("T1") == strings{"U1"});
    b->transact([&] { b->add_admin("T1", "U2", 2); });
    CHECK(a->list_admins("T1") == strings{"U1", "U2"});
    CHECK_FALSE(pg_store::unwritable(std::runtime_error("plain")));
}
