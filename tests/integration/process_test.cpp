// End to end: the real tpmbot binary as a process against the in-process fake Slack.

#include "sqlite_store.hpp"
#include "support/bot_process.hpp"
#include "support/fake_slack.hpp"
#include "support/http_fetch.hpp"
#include "support/prometheus.hpp"
#include "support/temp_dir.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <csignal>
#include <sstream>
#include <sys/wait.h>

using namespace tpmbot;
using namespace std::chrono_literals;
using test::bot_process;
using test::fake_slack;
using test::read_file;

namespace {

int count_acks(const fake_slack& slack, const std::string& envelope_id) {
    int n = 0;
    for (const auto& a : slack.acks()) {
        n += a.envelope_id == envelope_id ? 1 : 0;
    }
    return n;
}

} // namespace

TEST_CASE("an event acked just before a crash is processed once after the restart", "[process]") {
    test::temp_dir dir;
    auto db = dir.file("bot.db").string();
    auto log = dir.file("bot.log").string();
    fake_slack slack;
    auto mention =
        fake_slack::mention_envelope("env-1", "EvCrash", "<@UBOT> waiting on the vendor's API keys",
                                     "U111", "C111", "1700000000.000100");
    {
        // The failpoint kills the process with SIGKILL right after the ack is written.
        bot_process bot(slack, db, log, {"TPMBOT_FAILPOINT=kill-after-event-ack"});
        REQUIRE(slack.wait_for([&] { return slack.connections_opened() == 1; }));
        slack.send(mention);
        REQUIRE(slack.wait_for([&] { return count_acks(slack, "env-1") == 1; }));
        REQUIRE(slack.wait_for([&] { return bot.exited(); }));
        REQUIRE(WIFSIGNALED(bot.status()));
        CHECK(WTERMSIG(bot.status()) == SIGKILL);
    }
    {
        sqlite_store look(db);
        CHECK(look.inbox_unprocessed(10).size() == 1);
        item_query q;
        q.team_id = "T111";
        CHECK(look.list_items(q).empty());
        CHECK(slack.calls("chat.postMessage").empty());
    }

    bot_process bot(slack, db, log);
    REQUIRE(slack.wait_for([&] { return slack.calls("chat.postMessage").size() == 1; }));
    // Slack redelivers the event it saw acked late; it must not be processed again.
    REQUIRE(slack.wait_for([&] { return slack.connections_open() == 1; }));
    slack.send(fake_slack::mention_envelope("env-2", "EvCrash",
                                            "<@UBOT> waiting on the vendor's API keys", "U111",
                                            "C111", "1700000000.000100", "", 1));
    REQUIRE(slack.wait_for([&] { return count_acks(slack, "env-2") == 1; }));
    // A later command goes through after it, so a duplicate would have been posted by now.
    slack.send(fake_slack::slash_envelope("env-3", "blocker list all"));
    REQUIRE(slack.wait_for([&] { return count_acks(slack, "env-3") == 1; }));
    CHECK(slack.calls("chat.postMessage").size() == 1);
    {
        sqlite_store look(db);
        CHECK(look.inbox_unprocessed(10).empty());
        item_query q;
        q.team_id = "T111";
        auto items = look.list_items(q);
        REQUIRE(items.size() == 1);
        CHECK(items[0].title == "waiting on the vendor's API keys");
        CHECK(items[0].thread_ts == "1700000000.000100");
    }

    bot.signal(SIGTERM);
    REQUIRE(slack.wait_for([&] { return bot.exited(); }));
    CHECK(WIFEXITED(bot.status()));
    CHECK(WEXITSTATUS(bot.status()) == 0);
    CHECK_THAT(read_file(log), Catch::Contains("left from an earlier run"));
}

TEST_CASE("the binary stops with a clear message when Slack refuses its token", "[process]") {
    test::temp_dir dir;
    auto log = dir.file("bot.log").string();
    fake_slack::options o;
    o.bot_token = "xoxb-the-right-one";
    fake_slack slack(o);
    bot_process bot(slack, dir.file("bot.db").string(), log);
    REQUIRE(slack.wait_for([&] { return bot.exited(); }));
    REQUIRE(WIFEXITED(bot.status()));
    CHECK(WEXITSTATUS(bot.status()) == 1);
    auto out = read_file(log);
    CHECK_THAT(out, Catch::Contains("Slack refused SLACK_BOT_TOKEN (not_authed)"));
    CHECK_THAT(out, !Catch::Contains("xoxb-test"));
    CHECK(slack.calls("apps.connections.open").empty());
}

TEST_CASE("the binary serves /healthz and /metrics and logs JSON lines without tokens",
          "[process][admin]") {
    test::temp_dir dir;
    auto db = dir.file("bot.db").string();
    auto log = dir.file("bot.log").string();
    fake_slack slack;
    bot_process bot(
        slack, db, log,
        {"TPMBOT_ADMIN_ADDR=127.0.0.1:0", "TPMBOT_LOG_FORMAT=json", "TPMBOT_LOG_LEVEL=debug"});
    REQUIRE(slack.wait_for([&] { return slack.connections_open() == 1; }));
    // The bound port is in the log.
    unsigned short port = 0;
    const std::string said = "serving /healthz and /metrics on 127.0.0.1:";
    REQUIRE(slack.wait_for([&] {
        auto text = read_file(log);
        auto at = text.find(said);
        if (at == std::string::npos) {
            return false;
        }
        port = static_cast<unsigned short>(std::stoi(text.substr(at + said.size())));
        return true;
    }));
    REQUIRE(slack.wait_for([&] { return test::http_fetch(port, "/healthz").status == 200; }));
    slack.send(fake_slack::slash_envelope("env-1", "blocker waiting on the staging cert"));
    REQUIRE(slack.wait_for([&] { return count_acks(slack, "env-1") == 1; }));
    REQUIRE(slack.wait_for([&] { return slack.calls("chat.postMessage").size() == 1; }));
    auto metrics = test::http_fetch(port, "/metrics");
    REQUIRE(metrics.status == 200);
    auto p = test::parse_prometheus(metrics.body);
    INFO(metrics.body);
    REQUIRE(p.error.empty());
    CHECK(p.value("tpmbot_envelopes_total", {{"type", "slash_commands"}}) == 1);
    CHECK(p.value("tpmbot_acks_total") == 1);
    CHECK(p.value("tpmbot_frames_committed_total") == 1);

    bot.signal(SIGTERM);
    REQUIRE(slack.wait_for([&] { return bot.exited(); }));
    CHECK(WIFEXITED(bot.status()));
    CHECK(WEXITSTATUS(bot.status()) == 0);
    // Every line is one JSON object with a time, a level and a message; no token anywhere.
    auto text = read_file(log);
    CHECK(text.find("xoxb-test") == std::string::npos);
    CHECK(text.find("xapp-1-test") == std::string::npos);
    std::istringstream lines(text);
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
        INFO(line);
        auto v = boost::json::parse(line).as_object();
        CHECK(v.at("time").as_string().size() == 24);
        CHECK(v.contains("level"));
        CHECK(!v.at("msg").as_string().empty());
        ++n;
    }
    CHECK(n >= 4); // connecting, signed in, serving, connected, stopping, stopped
}

TEST_CASE("without libpq a PostgreSQL bot stops saying what to install, as check-config does",
          "[process]") {
    // libpq is loaded only for a PostgreSQL database; TPMBOT_LIBPQ names one that is not there.
    test::temp_dir dir;
    auto log = dir.file("bot.log").string();
    auto check_log = dir.file("check.log").string();
    fake_slack slack;
    const std::string db = "postgres://tpmbot@/tpmbot?host=/nonexistent";
    const std::vector<std::string> missing = {"TPMBOT_LIBPQ=/nonexistent/libpq.so.5"};
    const std::string why = "PostgreSQL support needs libpq (/nonexistent/libpq.so.5; Debian's "
                            "libpq5), which cannot be loaded";
    {
        bot_process bot(slack, db, log, missing);
        REQUIRE(slack.wait_for([&] { return bot.exited(); }));
        REQUIRE(WIFEXITED(bot.status()));
        CHECK(WEXITSTATUS(bot.status()) == 1);
        CHECK_THAT(read_file(log), Catch::Contains(why));
    }
    {
        bot_process check(slack, db, check_log, missing, {"check-config"});
        REQUIRE(slack.wait_for([&] { return check.exited(); }));
        REQUIRE(WIFEXITED(check.status())); // not an abort
        CHECK(WEXITSTATUS(check.status()) == 1);
        CHECK_THAT(read_file(check_log), Catch::Contains("problem: database " + db + ": " + why));
    }
    CHECK(slack.calls("apps.connections.open").empty());
}

TEST_CASE("the binary refuses a malformed admin address or log setting before starting",
          "[process][admin]") {
    test::temp_dir dir;
    auto log = dir.file("bot.log").string();
    fake_slack slack;
    for (const char* setting :
         {"TPMBOT_ADMIN_ADDR=9187", "TPMBOT_LOG_FORMAT=yaml", "TPMBOT_LOG_LEVEL=verbose"}) {
        INFO(setting);
        bot_process bot(slack, dir.file("bot.db").string(), log, {setting});
        REQUIRE(slack.wait_for([&] { return bot.exited(); }));
        CHECK(WIFEXITED(bot.status()));
        CHECK(WEXITSTATUS(bot.status()) == 2);
        CHECK_THAT(read_file(log), Catch::Contains(std::string(setting).substr(0, 12)));
    }
    CHECK(slack.calls("auth.test").empty());
}
