/// load_bench: the real tpmbot binary under slash-command load from the in-process fake Slack.
///
/// It starts the fake Slack (tests/support/fake_slack.hpp) on 127.0.0.1, spawns the bot as a
/// child process on a fresh database in a temp dir, and measures: process start to the first
/// open Socket Mode connection; then, per phase, `/tpm blocker load test N` slash envelopes at a
/// fixed rate (a steady_clock schedule) and once as fast as the fake takes them, with the ack
/// latency (p50/p90/p99/max), acks per second, lost and duplicated acks, the channel posts that
/// follow and their delay, and the bot's CPU (utime+stime) and memory (VmRSS/VmHWM).
/// Every wait is bounded; the child is always stopped (SIGTERM, then SIGKILL) and the temp dir
/// removed.

#include "support/fake_slack.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <optional>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;
using tpmbot::test::fake_slack;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

#ifndef TPMBOT_BINARY
#define TPMBOT_BINARY "tpmbot"
#endif

struct options {
    std::string bot = TPMBOT_BINARY;
    std::vector<int> rates{500, 1000};
    int count = 5000;      ///< commands per fixed-rate phase
    int sat_count = 20000; ///< commands in the saturation phase
    int drain_s = 60;      ///< after the last send: how long to wait for acks and posts
    int idle_s = 2;        ///< idle window after hello
    int poll_ms = 500;     ///< drain polling interval (each poll copies the fake's records)
    bool keep = false;
};

[[noreturn]] void usage(const std::string& why) {
    fmt::print(stderr,
               "{}\nusage: load_bench [--bot PATH] [--rates R,R...] [--count N] "
               "[--sat-count N] [--drain S] [--poll MS] [--keep]\n"
               "  --bot       the tpmbot binary (default: this build's)\n"
               "  --rates     fixed send rates in commands/s, 1..100000 (default 500,1000; "
               "0 = none)\n"
               "  --count     commands per fixed-rate phase, 1..100000 (default 5000)\n"
               "  --sat-count commands in the saturation phase, 0..200000 (default 20000; 0 = "
               "skip)\n"
               "  --drain     seconds to wait for acks and posts after a phase, 1..600 (default "
               "60)\n"
               "  --poll      drain polling interval in ms, 50..5000 (default 500)\n"
               "  --keep      keep the temp dir (database and bot log)\n",
               why);
    std::exit(2);
}

int parse_int(const std::string& s, int lo, int hi, const char* what) {
    try {
        std::size_t used = 0;
        long v = std::stol(s, &used);
        if (used == s.size() && v >= lo && v <= hi)
            return static_cast<int>(v);
    } catch (const std::exception&) {
    }
    usage(fmt::format("{}: '{}' is not a number in {}..{}", what, s, lo, hi));
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                usage(a + " needs a value");
            return argv[++i];
        };
        if (a == "--bot") {
            o.bot = value();
        } else if (a == "--rates") {
            o.rates.clear();
            std::stringstream in(value());
            std::string part;
            while (std::getline(in, part, ','))
                if (part != "0")
                    o.rates.push_back(parse_int(part, 1, 100000, "--rates"));
        } else if (a == "--count") {
            o.count = parse_int(value(), 1, 100000, "--count");
        } else if (a == "--sat-count") {
            o.sat_count = parse_int(value(), 0, 200000, "--sat-count");
        } else if (a == "--drain") {
            o.drain_s = parse_int(value(), 1, 600, "--drain");
        } else if (a == "--poll") {
            o.poll_ms = parse_int(value(), 50, 5000, "--poll");
        } else if (a == "--keep") {
            o.keep = true;
        } else if (a == "--help" || a == "-h") {
            usage("load_bench: slash-command load on the tpmbot binary against a fake Slack");
        } else {
            usage("unknown argument " + a);
        }
    }
    return o;
}

double seconds(clock_type::duration d) {
    return std::chrono::duration<double>(d).count();
}

/// utime+stime in seconds of /proc/<pid>/stat; nullopt when it cannot be read.
std::optional<double> cpu_seconds(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string line;
    if (!std::getline(in, line))
        return std::nullopt;
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    auto close = line.rfind(')');
    if (close == std::string::npos)
        return std::nullopt;
    std::istringstream rest(line.substr(close + 2));
    std::vector<std::string> f;
    std::string w;
    while (rest >> w)
        f.push_back(w);
    // f[0] is field 3 (state); utime is field 14, stime field 15.
    if (f.size() < 13)
        return std::nullopt;
    double ticks = std::stod(f[11]) + std::stod(f[12]);
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// VmRSS and VmHWM in kB from /proc/<pid>/status.
std::pair<long, long> memory_kb(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string line;
    long rss = -1, hwm = -1;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            rss = std::stol(line.substr(6));
        else if (line.rfind("VmHWM:", 0) == 0)
            hwm = std::stol(line.substr(6));
    }
    return {rss, hwm};
}

struct sample {
    clock_type::time_point at;
    double bot_cpu = 0;
    double own_cpu = 0; ///< this process: the fake's io thread and the sender
    long rss_kb = 0;
    long hwm_kb = 0;
};

sample take_sample(pid_t bot) {
    sample s;
    s.at = clock_type::now();
    s.bot_cpu = cpu_seconds(bot).value_or(-1);
    s.own_cpu = cpu_seconds(getpid()).value_or(-1);
    auto [rss, hwm] = memory_kb(bot);
    s.rss_kb = rss;
    s.hwm_kb = hwm;
    return s;
}

/// The child process; stopped with SIGTERM, then SIGKILL, whatever happens.
struct child {
    pid_t pid = -1;
    int status = 0;
    bool reaped = false;

    bool exited() {
        if (pid <= 0 || reaped)
            return true;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            reaped = true;
        return reaped;
    }

    /// SIGTERM, up to 5 s for it to exit, then SIGKILL. Returns how it ended.
    std::string stop() {
        if (pid <= 0)
            return "not started";
        if (exited())
            return describe("had already exited");
        kill(pid, SIGTERM);
        auto deadline = clock_type::now() + 5s;
        while (clock_type::now() < deadline) {
            if (exited())
                return describe("stopped on SIGTERM");
            std::this_thread::sleep_for(10ms);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        reaped = true;
        return describe("killed (no exit within 5 s of SIGTERM)");
    }

    std::string describe(const std::string& how) const {
        if (WIFEXITED(status))
            return fmt::format("{}, exit code {}", how, WEXITSTATUS(status));
        if (WIFSIGNALED(status))
            return fmt::format("{}, signal {}", how, WTERMSIG(status));
        return how;
    }

    ~child() { stop(); }
};

/// A temp dir removed at the end unless kept.
struct temp_dir {
    fs::path path;
    bool keep = false;
    temp_dir() {
        std::string tmpl = (fs::temp_directory_path() / "load_bench.XXXXXX").string();
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        if (keep)
            fmt::print(stderr, "kept {}\n", path.string());
        else
            fs::remove_all(path, ec);
    }
};

/// Spawns the bot with the Slack env on `db`, stdout and stderr to `log`.
pid_t spawn_bot(const std::string& bin, const std::string& api_url, const fs::path& db,
                const fs::path& log) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
        std::string v = *e;
        for (const char* drop : {"SLACK_", "TPMBOT_"})
            if (v.rfind(drop, 0) == 0)
                v.clear();
        if (!v.empty())
            env_strings.push_back(v);
    }
    env_strings.push_back("SLACK_APP_TOKEN=xapp-1-test");
    env_strings.push_back("SLACK_BOT_TOKEN=xoxb-test");
    env_strings.push_back("SLACK_API_URL=" + api_url);
    env_strings.push_back("TPMBOT_DB=" + db.string());
    std::vector<char*> envp;
    for (auto& s : env_strings)
        envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string arg0 = bin;
    char* argv[] = {arg0.data(), nullptr};

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        throw std::runtime_error(fmt::format("cannot start {}: {}", bin, std::strerror(rc)));
    return pid;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty())
        return -1;
    std::sort(v.begin(), v.end());
    auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(idx, v.size() - 1)];
}

/// The N of "load test N" in a request body; -1 if absent.
long load_number(const std::string& body) {
    static const std::string mark = "load test ";
    auto at = body.find(mark);
    if (at == std::string::npos)
        return -1;
    at += mark.size();
    long n = 0;
    bool any = false;
    while (at < body.size() && body[at] >= '0' && body[at] <= '9') {
        n = n * 10 + (body[at++] - '0');
        any = true;
    }
    return any ? n : -1;
}

struct phase_result {
    std::string name;
    int sent = 0;
    double send_s = 0;                             ///< first to last send
    double offered = 0;                            ///< sent / send_s
    int acked = 0;                                 ///< distinct envelopes acked
    int lost = 0;                                  ///< sent, never acked within the drain
    int duplicated = 0;                            ///< envelopes acked more than once
    double p50 = -1, p90 = -1, p99 = -1, max = -1; ///< ack latency, ms
    double ack_rate = 0;                           ///< acks / (last ack - first send)
    int posts = 0; ///< chat.postMessage calls matched to this phase's commands
    double post_p50 = -1, post_p99 = -1, post_max = -1; ///< send to post, ms
    double post_rate = 0;
    double wall_s = 0;    ///< first send to the end of the drain
    double bot_cores = 0; ///< bot CPU seconds / wall seconds
    double own_cores = 0; ///< this process (fake + sender)
    long rss_kb = 0, hwm_kb = 0;
    double copy_ms = 0;    ///< the longest copy of the fake's records while draining
    bool complete = false; ///< every ack and every post arrived within the drain
};

class runner {
public:
    runner(fake_slack& slack, child& bot, const options& o) : slack_(slack), bot_(bot), o_(o) {}

    /// Sends `count` commands at `rate`/s (0 = as fast as send() returns) and waits for their
    /// acks and posts, up to the drain.
    phase_result run(const std::string& name, int rate, int count) {
        phase_result r;
        r.name = name;
        auto before = take_sample(bot_.pid);
        long first = next_;
        std::vector<std::string> ids(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i)
            ids[static_cast<std::size_t>(i)] = fmt::format("{}-{}", name, next_ + i);
        std::vector<std::string> frames(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i)
            frames[static_cast<std::size_t>(i)] = fake_slack::slash_envelope(
                ids[static_cast<std::size_t>(i)], fmt::format("blocker load test {}", next_ + i),
                "U111", "C111");
        sent_.resize(static_cast<std::size_t>(next_ + count));

        auto start = clock_type::now();
        auto period = rate > 0 ? std::chrono::duration_cast<clock_type::duration>(
                                     std::chrono::duration<double>(1.0 / rate))
                               : clock_type::duration::zero();
        for (int i = 0; i < count; ++i) {
            if (rate > 0)
                std::this_thread::sleep_until(start + period * i);
            sent_[static_cast<std::size_t>(next_ + i)] = clock_type::now();
            slack_.send(frames[static_cast<std::size_t>(i)]);
        }
        auto last_send = clock_type::now();
        next_ += count;
        r.sent = count;
        r.send_s = seconds(last_send - start);
        r.offered = r.send_s > 0 ? count / r.send_s : 0;

        // Drain: poll (the accessors copy everything, so not too often) until every ack and
        // every post of this phase is in, or the drain runs out.
        auto deadline = last_send + std::chrono::seconds(o_.drain_s);
        std::vector<tpmbot::test::ack_record> acks;
        std::vector<tpmbot::test::api_call> posts;
        for (;;) {
            auto copy_start = clock_type::now();
            acks = slack_.acks();
            posts = slack_.calls("chat.postMessage");
            r.copy_ms = std::max(
                r.copy_ms,
                std::chrono::duration<double, std::milli>(clock_type::now() - copy_start).count());
            int got_acks = 0, got_posts = 0;
            for (const auto& a : acks)
                got_acks += a.envelope_id.rfind(name + "-", 0) == 0 ? 1 : 0;
            for (const auto& p : posts) {
                long n = load_number(p.body);
                got_posts += n >= first && n < next_ ? 1 : 0;
            }
            if ((got_acks >= count && got_posts >= count) || clock_type::now() >= deadline ||
                bot_.exited())
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(o_.poll_ms));
        }
        auto end = clock_type::now();
        auto after = take_sample(bot_.pid);

        // Acks of this phase.
        std::unordered_map<std::string, int> seen;
        std::vector<double> lat;
        clock_type::time_point last_ack = start;
        for (const auto& a : acks) {
            if (a.envelope_id.rfind(name + "-", 0) != 0)
                continue;
            if (++seen[a.envelope_id] > 1)
                continue;
            lat.push_back(a.latency_ms);
            long n = std::stol(a.envelope_id.substr(name.size() + 1));
            auto t = sent_[static_cast<std::size_t>(n)] +
                     std::chrono::duration_cast<clock_type::duration>(
                         std::chrono::duration<double, std::milli>(a.latency_ms));
            last_ack = std::max(last_ack, t);
        }
        r.acked = static_cast<int>(seen.size());
        r.lost = count - r.acked;
        for (const auto& [id, k] : seen)
            r.duplicated += k > 1 ? 1 : 0;
        r.p50 = percentile(lat, 0.50);
        r.p90 = percentile(lat, 0.90);
        r.p99 = percentile(lat, 0.99);
        r.max = lat.empty() ? -1 : *std::max_element(lat.begin(), lat.end());
        double ack_span = seconds(last_ack - start);
        r.ack_rate = ack_span > 0 ? r.acked / ack_span : 0;

        // Posts of this phase, matched by the N in "load test N".
        std::vector<double> post_lat;
        clock_type::time_point last_post = start;
        for (const auto& p : posts) {
            long n = load_number(p.body);
            if (n < first || n >= next_)
                continue;
            post_lat.push_back(
                std::chrono::duration<double, std::milli>(p.at - sent_[static_cast<std::size_t>(n)])
                    .count());
            last_post = std::max(last_post, p.at);
        }
        r.posts = static_cast<int>(post_lat.size());
        r.post_p50 = percentile(post_lat, 0.50);
        r.post_p99 = percentile(post_lat, 0.99);
        r.post_max = post_lat.empty() ? -1 : *std::max_element(post_lat.begin(), post_lat.end());
        double post_span = seconds(last_post - start);
        r.post_rate = post_span > 0 ? r.posts / post_span : 0;
        r.complete = r.acked == count && r.posts >= count;

        r.wall_s = seconds(end - start);
        // The window for CPU: from the sample before the first send to the one after the drain.
        double window = seconds(after.at - before.at);
        r.bot_cores = window > 0 ? (after.bot_cpu - before.bot_cpu) / window : 0;
        r.own_cores = window > 0 ? (after.own_cpu - before.own_cpu) / window : 0;
        r.rss_kb = after.rss_kb;
        r.hwm_kb = after.hwm_kb;
        return r;
    }

private:
    fake_slack& slack_;
    child& bot_;
    const options& o_;
    long next_ = 1;
    std::vector<clock_type::time_point> sent_; ///< send time by command number
};

std::string ms(double v) {
    return v < 0 ? "–" : fmt::format("{:.1f}", v);
}

int run(const options& o) {
    if (!fs::exists(o.bot)) {
        fmt::print(stderr, "load_bench: no bot binary at {}\n", o.bot);
        return 1;
    }
    temp_dir dir;
    dir.keep = o.keep;
    fake_slack slack;
    child bot;
    auto log = dir.path / "bot.log";

    auto t0 = clock_type::now();
    bot.pid = spawn_bot(o.bot, slack.api_url(), dir.path / "bot.db", log);
    bool up = slack.wait_for([&] { return slack.connections_open() >= 1 || bot.exited(); }, 10s);
    auto t_hello = clock_type::now();
    if (!up || slack.connections_open() < 1) {
        fmt::print(stderr, "load_bench: the bot opened no connection within 10 s ({})\n",
                   bot.stop());
        std::ifstream in(log);
        fmt::print(stderr, "{}", std::string(std::istreambuf_iterator<char>(in), {}));
        return 1;
    }
    double start_ms = std::chrono::duration<double, std::milli>(t_hello - t0).count();
    auto at_hello = take_sample(bot.pid);
    std::this_thread::sleep_for(std::chrono::seconds(o.idle_s));
    auto idle = take_sample(bot.pid);
    double idle_cores = (idle.bot_cpu - at_hello.bot_cpu) / seconds(idle.at - at_hello.at);

    runner r(slack, bot, o);
    std::vector<phase_result> results;
    for (int rate : o.rates) {
        fmt::print(stderr, "phase: {} commands at {}/s\n", o.count, rate);
        results.push_back(r.run(fmt::format("r{}", rate), rate, o.count));
        if (bot.exited())
            break;
    }
    if (o.sat_count > 0 && !bot.exited()) {
        fmt::print(stderr, "phase: {} commands as fast as the fake takes them\n", o.sat_count);
        results.push_back(r.run("sat", 0, o.sat_count));
    }
    int opened = slack.connections_opened();
    int open_now = slack.connections_open();
    bool died = bot.exited();
    auto final_sample = take_sample(bot.pid);
    std::string ended = bot.stop();

    fmt::print("## load_bench\n\n");
    fmt::print("- bot: `{}`\n", o.bot);
    fmt::print("- start to first open connection (hello): {:.1f} ms\n", start_ms);
    fmt::print("- idle after hello ({} s): {:.4f} cores, VmRSS {} kB, VmHWM {} kB\n", o.idle_s,
               idle_cores, idle.rss_kb, idle.hwm_kb);
    fmt::print("- connections opened {}, open at the end {}{}\n", opened, open_now,
               opened > 1 ? " (the bot reconnected during the run)" : "");
    if (!died)
        fmt::print("- after all phases: VmRSS {} kB, VmHWM {} kB\n", final_sample.rss_kb,
                   final_sample.hwm_kb);
    fmt::print("- the bot {}\n\n", died ? "EXITED during the run: " + ended : ended);

    fmt::print("| phase | sent | offered/s | acked | lost | dup | ack p50 ms | p90 | p99 | max | "
               "acks/s | posts | post p50 ms | post p99 | post max | posts/s | wall s | bot "
               "cores | fake+sender cores | VmRSS MB | VmHWM MB |\n");
    fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
               "---:|---:|---:|---:|---:|\n");
    for (const auto& p : results) {
        fmt::print(
            "| {} | {} | {:.0f} | {} | {} | {} | {} | {} | {} | {} | {:.0f} | {} | {} | {} | "
            "{} | {:.0f} | {:.1f} | {:.2f} | {:.2f} | {:.1f} | {:.1f} |\n",
            p.name == "sat" ? "saturation" : p.name.substr(1) + "/s", p.sent, p.offered, p.acked,
            p.lost, p.duplicated, ms(p.p50), ms(p.p90), ms(p.p99), ms(p.max), p.ack_rate, p.posts,
            ms(p.post_p50), ms(p.post_p99), ms(p.post_max), p.post_rate, p.wall_s, p.bot_cores,
            p.own_cores, p.rss_kb / 1024.0, p.hwm_kb / 1024.0);
    }
    fmt::print("\n");
    for (const auto& p : results)
        fmt::print("- {}: the longest copy of the fake's records while draining took {:.1f} ms "
                   "(it holds the fake's lock)\n",
                   p.name, p.copy_ms);
    bool all = std::all_of(results.begin(), results.end(),
                           [](const phase_result& p) { return p.complete; });
    if (!all)
        fmt::print("\nSome phase did not get every ack and post within the drain of {} s.\n",
                   o.drain_s);
    if (died) {
        std::ifstream in(log);
        std::string all_log(std::istreambuf_iterator<char>(in), {});
        fmt::print(stderr, "bot log (last 4 KB):\n{}\n",
                   all_log.substr(all_log.size() > 4096 ? all_log.size() - 4096 : 0));
        return 1;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    auto o = parse(argc, argv);
    try {
        return run(o);
    } catch (const std::exception& e) {
        fmt::print(stderr, "load_bench: {}\n", e.what());
        return 1;
    }
}
