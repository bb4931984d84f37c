// `tpmbot check-config`: each check, passing and failing, on real files.

#include "check.hpp"
#include "config.hpp"
#include "sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <string>

using namespace tpmbot;

namespace {

std::string all(const check_report& r) {
    std::string out;
    for (const auto& l : r.lines) {
        out += l + "\n";
    }
    return out;
}

config parse(std::vector<std::string> args) {
    args.insert(args.begin(), "tpmbot");
    return parse_config(args, [](const char*) -> const char* { return nullptr; });
}

} // namespace

TEST_CASE("check-config is a command of its own, first on the line", "[config][check]") {
    CHECK(parse({"check-config"}).check);
    CHECK(parse({"check-config", "--db", "/tmp/x.db"}).db_path == "/tmp/x.db");
    CHECK_FALSE(parse({}).check);
    CHECK_THROWS_WITH(parse({"--db", "/tmp/x.db", "check-config"}),
                      Catch::Contains("unknown option check-config"));
}

TEST_CASE("check-config passes a usable setup and changes nothing", "[config][check]") {
    test::temp_dir dir;
    config cfg;
    cfg.db_path = dir.file("new/tpmbot.db").string();
    auto r = check_config(cfg);
    INFO(all(r));
    CHECK(r.ok);
    CHECK_THAT(all(r), Catch::Contains("does not exist yet; it will be created"));
    CHECK_THAT(all(r), Catch::Contains("ok: time zone data"));
    CHECK_THAT(all(r), Catch::Contains("no Slack tokens; tpmbot opens the console"));
    CHECK_FALSE(std::filesystem::exists(cfg.db_path)); // nothing created

    cfg.db_path = dir.file("made.db").string();
    { sqlite_store made(cfg.db_path); }
    cfg.slack_tokens = true;
    cfg.app_token = "xapp-1-A1-very-secret";
    cfg.bot_token = "xoxb-2-very-secret";
    r = check_config(cfg);
    INFO(all(r));
    CHECK(r.ok);
    CHECK_THAT(all(r), Catch::Contains(fmt::format("(schema version {})",
                                                   sqlite_store::latest_schema_version())));
    CHECK_THAT(all(r), Catch::Contains("ok: Slack tokens set"));
    CHECK_THAT(all(r), !Catch::Contains("very-secret"));
}

TEST_CASE("check-config names each problem and fails", "[config][check]") {
    test::temp_dir dir;
    config cfg;
    SECTION("a file that is not SQLite") {
        cfg.db_path = dir.file("notes.txt").string();
        std::ofstream(cfg.db_path) << "these are not the tables you are looking for\n";
        auto r = check_config(cfg);
        CHECK_FALSE(r.ok);
        CHECK_THAT(all(r), Catch::Contains("problem: database " + cfg.db_path +
                                           ": cannot be read as SQLite"));
    }
    SECTION("a database of a newer tpmbot") {
        cfg.db_path = dir.file("newer.db").string();
        {
            SQLite::Database db(cfg.db_path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
            db.exec("PRAGMA user_version = 99");
        }
        auto r = check_config(cfg);
        CHECK_FALSE(r.ok);
        CHECK_THAT(all(r), Catch::Contains("has schema version 99"));
    }
    SECTION("a time zone the zone data does not know") {
        cfg.db_path = dir.file("ok.db").string();
        cfg.tz = "Mars/Olympus_Mons";
        auto r = check_config(cfg);
        CHECK_FALSE(r.ok);
        CHECK_THAT(all(r), Catch::Contains("problem: time zone Mars/Olympus_Mons"));
    }
    SECTION("a CA file that cannot be read") {
        cfg.db_path = dir.file("ok.db").string();
        cfg.ca_file = dir.file("missing.pem").string();
        auto r = check_config(cfg);
        CHECK_FALSE(r.ok);
        CHECK_THAT(all(r), Catch::Contains("problem: TPMBOT_CA_FILE"));
    }
}

TEST_CASE("check-config on a PostgreSQL database that cannot be reached says so, without its "
          "password",
          "[config][check]") {
    test::temp_dir dir;
    config cfg;
    // A socket directory with no server in it: refused at once, and no port is involved.
    cfg.db_path = "postgresql://tpm:hunter2secret@/tpmbot?host=" + dir.path().string();
    auto r = check_config(cfg);
    INFO(all(r));
    CHECK_FALSE(r.ok);
    CHECK_THAT(all(r), Catch::Contains("problem: database postgresql://tpm@") &&
                           Catch::Contains("cannot connect"));
    CHECK(all(r).find("hunter2secret") == std::string::npos);
}

TEST_CASE("check-config names HTTP mode when it is set", "[config][check]") {
    test::temp_dir dir;
    config cfg;
    cfg.db_path = dir.file("t.db").string();
    cfg.slack_tokens = true;
    cfg.bot_token = "xoxb-2-very-secret";
    cfg.http_host = "0.0.0.0";
    cfg.http_port = "3000";
    cfg.signing_secret = "8f742231b10e8888abcd99yyyzzz85a5";
    auto r = check_config(cfg);
    INFO(all(r));
    CHECK(r.ok);
    CHECK_THAT(all(r), Catch::Contains("ok: HTTP mode on 0.0.0.0:3000"));
    CHECK(all(r).find("Slack tokens set (an xapp-") == std::string::npos); // no Socket Mode
    CHECK(all(r).find("8f742231") == std::string::npos);
    CHECK(all(r).find("very-secret") == std::string::npos);
}
