// End to end: the real tpmbot binary as a process against the in-process fake Slack.

#include "sqlite_store.hpp"
#include "support/fake_slack.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using namespace tpmbot;
using namespace std::chrono_literals;
using test::fake_slack;

namespace {

/// The tpmbot binary running as a child process, its output in a file.
class bot_process {
public:
    bot_process(const fake_slack& slack, const std::string& db, const std::string& log,
                std::vector<std::string> extra_env = {}) {
        std::vector<std::string> env = {
            "SLACK_API_URL=" + slack.api_url(),
            "SLACK_APP_TOKEN=xapp-1-test",
            "SLACK_BOT_TOKEN=xoxb-test",
            "TPMBOT_DB=" + db,
            "HOME=/nonexistent",
            "PATH=/usr/bin:/bin",
        };
        env.insert(env.end(), extra_env.begin(), extra_env.end());
        std::vector<char*> envp;
        for (auto& e : env) {
            envp.push_back(e.data());
        }
        envp.push_back(nullptr);
        std::string binary = TPMBOT_BINARY;
        std::vector<char*> argv = {binary.data(), nullptr};

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                         O_WRONLY | O_CREAT | O_APPEND, 0644);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        REQUIRE(rc == 0);
    }

    ~bot_process() {
        if (!reaped_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status_, 0);
        }
    }

    /// Whether the process has exited (reaps it); never blocks.
    bool exited() {
        if (!reaped_ && ::waitpid(pid_, &status_, WNOHANG) == pid_) {
            reaped_ = true;
        }
        return reaped_;
    }

    void signal(int sig) const { ::kill(pid_, sig); }
    int status() const { return status_; }

private:
    pid_t pid_ = -1;
    int status_ = 0;
    bool reaped_ = false;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

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
