#pragma once
/// The real tpmbot binary as a child process against a fake Slack, for tests that need the
/// process itself: its exit, its signals, a SIGKILL at any point.

#include "support/fake_slack.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace tpmbot::test {

/// The tpmbot binary running as a child process, its output in a file.
class bot_process {
public:
    bot_process(const fake_slack& slack, const std::string& db, const std::string& log,
                std::vector<std::string> extra_env = {}, std::vector<std::string> args = {}) {
        std::vector<std::string> env = {
            "SLACK_API_URL=" + slack.api_url(),
            "SLACK_APP_TOKEN=xapp-1-test",
            "SLACK_BOT_TOKEN=xoxb-test",
            "TPMBOT_DB=" + db,
            "HOME=/nonexistent",
            "PATH=/usr/bin:/bin",
        };
        env.insert(env.end(), extra_env.begin(), extra_env.end());
        // The admin address on a free port, unless the test chose one: tests run in parallel.
        if (std::none_of(extra_env.begin(), extra_env.end(), [](const std::string& e) {
                return e.starts_with("TPMBOT_ADMIN_ADDR=");
            })) {
            env.emplace_back("TPMBOT_ADMIN_ADDR=127.0.0.1:0");
        }
        std::vector<char*> envp;
        for (auto& e : env) {
            envp.push_back(e.data());
        }
        envp.push_back(nullptr);
        std::string binary = TPMBOT_BINARY;
        std::vector<char*> argv = {binary.data()};
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);

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
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int status_ = 0;
    bool reaped_ = false;
};

/// The whole of a text file ("" when it cannot be read).
inline std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace tpmbot::test
