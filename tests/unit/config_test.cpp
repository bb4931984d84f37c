#include "config.hpp"
#include "support/fake_env.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>

using namespace tpmbot;

using test::fake_env;

namespace {

config parse(std::vector<std::string> args, const fake_env& env) {
    args.insert(args.begin(), "tpmbot");
    return parse_config(args, env.fn());
}

} // namespace

TEST_CASE("the database path comes from --db, then TPMBOT_DB, then XDG or HOME", "[config]") {
    fake_env env;
    env.vars["HOME"] = "/home/ana";
    CHECK(parse({}, env).db_path == "/home/ana/.local/share/tpmbot/tpmbot.db");
    env.vars["XDG_DATA_HOME"] = "/data";
    CHECK(parse({}, env).db_path == "/data/tpmbot/tpmbot.db");
    env.vars["TPMBOT_DB"] = "/var/lib/tpmbot/t.db";
    CHECK(parse({}, env).db_path == "/var/lib/tpmbot/t.db");
    CHECK(parse({"--db", "/tmp/x.db"}, env).db_path == "/tmp/x.db");
    fake_env bare;
    CHECK(parse({}, bare).db_path == "tpmbot.db");
}

TEST_CASE("a PostgreSQL URL is taken as the database", "[config]") {
    fake_env env;
    env.vars["TPMBOT_DB"] = "postgresql://db.internal/tpmbot";
    CHECK(parse({}, env).db_path == "postgresql://db.internal/tpmbot");
    CHECK(parse({"--db", "postgres://u@h/d"}, env).db_path == "postgres://u@h/d");
}

TEST_CASE("admins and Slack tokens come from the environment", "[config]") {
    fake_env env;
    env.vars["TPMBOT_ADMINS"] = "U1, U2,,W3";
    auto c = parse({}, env);
    CHECK(c.admins == std::vector<std::string>{"U1", "U2", "W3"});
    CHECK_FALSE(c.slack_tokens);
    CHECK(c.api_url == "https://slack.com/api/");
    env.vars["SLACK_APP_TOKEN"] = "xapp-1-A1-secret\n";
    env.vars["SLACK_BOT_TOKEN"] = "xoxb-2-secret";
    env.vars["SLACK_API_URL"] = "http://127.0.0.1:9/api/";
    env.vars["TPMBOT_CA_FILE"] = "/tmp/ca.pem";
    env.vars["TPMBOT_LIBPQ"] = "/opt/pg/lib/libpq.so.5";
    c = parse({}, env);
    CHECK(c.slack_tokens);
    CHECK(c.app_token == "xapp-1-A1-secret");
    CHECK(c.bot_token == "xoxb-2-secret");
    CHECK(c.api_url == "http://127.0.0.1:9/api/");
    CHECK(c.ca_file == "/tmp/ca.pem");
    CHECK(c.libpq == "/opt/pg/lib/libpq.so.5");
}

TEST_CASE("tokens can come from files, and never appear in errors", "[config]") {
    test::temp_dir dir;
    auto app = dir.file("app");
    auto bot = dir.file("bot");
    std::ofstream(app) << "xapp-1-from-file\n";
    std::ofstream(bot) << "xoxb-from-file  \n";
    fake_env env;
    env.vars["SLACK_APP_TOKEN_FILE"] = app.string();
    env.vars["SLACK_BOT_TOKEN_FILE"] = bot.string();
    auto c = parse({}, env);
    CHECK(c.app_token == "xapp-1-from-file");
    CHECK(c.bot_token == "xoxb-from-file");

    env.vars["SLACK_BOT_TOKEN_FILE"] = dir.file("missing").string();
    CHECK_THROWS_WITH(parse({}, env), Catch::Contains("SLACK_BOT_TOKEN_FILE: cannot read"));

    fake_env swapped;
    swapped.vars["SLACK_APP_TOKEN"] = "xoxb-secret-in-the-wrong-place";
    swapped.vars["SLACK_BOT_TOKEN"] = "xoxb-2";
    CHECK_THROWS_WITH(parse({}, swapped),
                      Catch::Contains("must be the app-level token") && !Catch::Contains("secret"));
    swapped.vars["SLACK_APP_TOKEN"] = "xapp-1";
    swapped.vars["SLACK_BOT_TOKEN"] = "xoxp-user-secret";
    CHECK_THROWS_WITH(parse({}, swapped),
                      Catch::Contains("must be the bot token") && !Catch::Contains("secret"));

    fake_env half;
    half.vars["SLACK_APP_TOKEN"] = "xapp-1";
    CHECK_THROWS_WITH(parse({}, half), Catch::Contains("SLACK_APP_TOKEN is set but "
                                                       "SLACK_BOT_TOKEN is not"));
    fake_env bad_url;
    bad_url.vars["SLACK_API_URL"] = "slack.com/api";
    CHECK_THROWS_WITH(parse({}, bad_url), Catch::Contains("SLACK_API_URL must start with"));
    bad_url.vars["SLACK_API_URL"] = "http://slack.example.com/api/";
    CHECK_THROWS_WITH(parse({}, bad_url), Catch::Contains("http:// only for a server on this"));
    bad_url.vars["SLACK_API_URL"] = "http://localhost:8080/api/";
    CHECK(parse({}, bad_url).api_url == "http://localhost:8080/api/");
}

TEST_CASE("console flags are parsed and checked", "[config]") {
    fake_env env;
    auto c = parse({"--user", "dana", "--channel", "design", "--team", "T9", "--tz", "Asia/Kolkata",
                    "--clock", "2026-11-25T09:00:00Z", "--script", "s.txt"},
                   env);
    CHECK(c.user == "dana");
    CHECK(c.channel == "design");
    CHECK(c.team == "T9");
    CHECK(c.tz == "Asia/Kolkata");
    REQUIRE(c.clock);
    CHECK(*c.clock == 1795597200);
    CHECK(c.script == "s.txt");
}

TEST_CASE("bad flags are clear errors", "[config]") {
    fake_env env;
    CHECK_THROWS_WITH(parse({"--bogus"}, env), Catch::Contains("unknown option --bogus"));
    CHECK_THROWS_WITH(parse({"--db"}, env), Catch::Contains("--db needs a value"));
    CHECK_THROWS_WITH(parse({"--tz", "Mars/Base"}, env), Catch::Contains("Mars/Base"));
    CHECK_THROWS_WITH(parse({"--clock", "yesterday"}, env), Catch::Contains("not a UTC time"));
    env.vars["TPMBOT_TZ"] = "Nowhere/Town";
    CHECK_THROWS_WITH(parse({}, env), Catch::Contains("Nowhere/Town"));
}

TEST_CASE("UTC times parse in the documented forms", "[config]") {
    CHECK(parse_utc("2026-11-25T09:00:00Z") == 1795597200);
    CHECK(parse_utc("2026-11-25T09:00") == 1795597200);
    CHECK(parse_utc("2026-11-25") == 1795564800);
    CHECK_FALSE(parse_utc("2026-11-25T09:00:00Zjunk"));
    CHECK_FALSE(parse_utc("next week"));
}
