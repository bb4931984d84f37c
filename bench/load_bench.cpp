/// load_bench: the real tpmbot binary under slash-command load from the in-process fake Slack,
/// side by side with the floor (bench/floor_client.cpp: acks only, no parse, no store, no posts).
///
/// For each client under test it starts a fresh fake Slack (tests/support/fake_slack.hpp) on
/// 127.0.0.1, spawns the client as a child process (the bot on a fresh database in a temp dir),
/// and measures: process start to the first open Socket Mode connection; then, per phase,
/// `/tpm blocker load test N` slash envelopes spread round-robin over one or more channels, at
/// fixed rates (a steady_clock schedule) and once as fast as the fake takes them, with the ack
/// latency (p50/p90/p99/max), acks per second, lost and duplicated acks, the channel posts that
/// follow and their delay, the client's CPU (its CPU-time clock) and memory (VmRSS/VmHWM), the
/// bench process's own CPU (the fake's io thread apart from the sender). Between the fixed rates
/// and the saturation, a phase sends routine refreshes (disconnect `warning`, then
/// `refresh_requested`, then the fake closes the old connection) under a steady load and
/// measures the time without a usable connection. The bot's figures are then given as ratios
/// to the floor's, whose saturation rate is also the fake's own ceiling.
///
/// Every wait is bounded; each child is always stopped (SIGTERM, then SIGKILL) and the temp dir
/// removed unless kept. Children run in their own process group, so a Ctrl-C reaches only the
/// bench: it then ends the current phase early, stops the child and reports what it has.

#include "support/fake_slack.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
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
#ifndef FLOOR_BINARY
#define FLOOR_BINARY "floor_client"
#endif

constexpr const char* post_method = "chat.postMessage";

/// Set by SIGINT, SIGTERM or SIGHUP: phases end early, the children are stopped as usual.
volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_stop_signal(int) {
    interrupted = 1;
}

/// The routine-refresh phase: its load, and where each refresh falls in it.
constexpr int refresh_rate = 500;                 ///< commands per second during the phase
constexpr auto refresh_lead = 1s;                 ///< load before the first warning
constexpr auto refresh_spacing = 3s;              ///< from one warning to the next
constexpr auto warning_to_refresh = 1s;           ///< `warning`, then `refresh_requested`
constexpr auto refresh_to_close = 1000ms;         ///< then the fake closes the old connection
constexpr std::chrono::seconds start_timeout{10}; ///< for the first open connection

enum class floor_mode { on, off, only };

struct options {
    std::string bot = TPMBOT_BINARY;
    std::string floor = FLOOR_BINARY;
    floor_mode with_floor = floor_mode::on;
    std::vector<int> rates{500, 1000};
    int count = 5000;      ///< commands per fixed-rate phase
    int sat_count = 20000; ///< commands in the saturation phase
    int channels = 1;      ///< commands go round-robin to C0001..C<channels>
    int refreshes = 5;     ///< routine refreshes in the refresh phase (0 = no such phase)
    int drain_s = 60;      ///< after the last send: how long to wait for acks and posts
    int idle_s = 2;        ///< idle window after hello
    int poll_ms = 500;     ///< drain polling interval (each poll reads two counters)
    bool keep = false;
};

[[noreturn]] void usage(const std::string& why) {
    fmt::print(
        stderr,
        "{}\nusage: load_bench [--bot PATH] [--floor on|off|only] [--floor-client PATH] "
        "[--rates R,R...] [--count N] [--sat-count N] [--channels N] [--refreshes K] "
        "[--drain S] [--poll MS] [--keep]\n"
        "  --bot          the tpmbot binary (default: this build's)\n"
        "  --floor        also run every phase against the floor client (on, the default), not "
        "(off), or only against it (only)\n"
        "  --floor-client the floor client binary (default: this build's)\n"
        "  --rates        fixed send rates in commands/s, 1..100000 (default 500,1000; 0 = "
        "none)\n"
        "  --count        commands per fixed-rate phase, 1..100000 (default 5000)\n"
        "  --sat-count    commands in the saturation phase, 0..200000 (default 20000; 0 = "
        "skip)\n"
        "  --channels     channels the commands go to round-robin, 1..1000 (default 1)\n"
        "  --refreshes    routine refreshes under 500/s, 0..50 (default 5; 0 = skip the "
        "phase)\n"
        "  --drain        seconds to wait for acks and posts after a phase, 1..600 (default "
        "60)\n"
        "  --poll         drain polling interval in ms, 50..5000 (default 500)\n"
        "  --keep         keep the temp dir (database and logs)\n",
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
        } else if (a == "--floor") {
            auto v = value();
            if (v == "on")
                o.with_floor = floor_mode::on;
            else if (v == "off")
                o.with_floor = floor_mode::off;
            else if (v == "only")
                o.with_floor = floor_mode::only;
            else
                usage("--floor: '" + v + "' is not on, off or only");
        } else if (a == "--floor-client") {
            o.floor = value();
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
        } else if (a == "--channels") {
            o.channels = parse_int(value(), 1, 1000, "--channels");
        } else if (a == "--refreshes") {
            o.refreshes = parse_int(value(), 0, 50, "--refreshes");
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

double millis(clock_type::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

/// utime+stime in seconds of a /proc `stat` file; nullopt when it cannot be read.
std::optional<double> cpu_seconds_of(const std::string& stat_path) {
    std::ifstream in(stat_path);
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

double seconds_of(const timespec& ts) {
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// CPU seconds of a whole process (all its threads, the ended ones included): its CPU-time
/// clock, to the nanosecond; /proc/<pid>/stat (in clock ticks, 10 ms) if that cannot be read.
/// -1 when neither can.
double process_cpu(pid_t pid) {
    clockid_t id;
    timespec ts{};
    if (clock_getcpuclockid(pid, &id) == 0 && clock_gettime(id, &ts) == 0)
        return seconds_of(ts);
    return cpu_seconds_of(fmt::format("/proc/{}/stat", pid)).value_or(-1);
}

/// CPU seconds of the calling thread.
double thread_cpu() {
    timespec ts{};
    return clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 ? seconds_of(ts) : -1;
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
    double client_cpu = 0;
    double own_cpu = 0;    ///< this process: the fake's io thread and the sender
    double sender_cpu = 0; ///< this process's main thread: the sender and the polls
    long rss_kb = 0;
    long hwm_kb = 0;
};

sample take_sample(pid_t client) {
    sample s;
    s.at = clock_type::now();
    s.client_cpu = process_cpu(client);
    s.own_cpu = process_cpu(getpid());
    s.sender_cpu = thread_cpu(); // samples are taken on the main thread, the sender
    auto [rss, hwm] = memory_kb(client);
    s.rss_kb = rss;
    s.hwm_kb = hwm;
    return s;
}

/// A child process; stopped with SIGTERM, then SIGKILL, whatever happens.
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

    child() = default;
    child(const child&) = delete;
    child& operator=(const child&) = delete;
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
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ec;
        if (keep)
            fmt::print(stderr, "kept {}\n", path.string());
        else
            fs::remove_all(path, ec);
    }
};

/// Spawns `bin` with the Slack env (and TPMBOT_DB when `db` is given), stdout and stderr to
/// `log`.
pid_t spawn_client(const std::string& bin, const std::string& api_url,
                   const std::optional<fs::path>& db, const fs::path& log) {
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
    if (db) {
        env_strings.push_back("TPMBOT_DB=" + db->string());
        // /healthz and /metrics on a free port, as they are served in production.
        env_strings.push_back("TPMBOT_ADMIN_ADDR=127.0.0.1:0");
    }
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
    // A process group of its own: the terminal's signals reach the bench only, which stops it.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, bin.c_str(), &fa, &attr, argv, envp.data());
    posix_spawnattr_destroy(&attr);
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

/// One routine refresh of the refresh phase, as scheduled and as the fake recorded it.
struct refresh_event {
    clock_type::time_point warning_at{}; ///< `warning` sent (the bench's call)
    clock_type::time_point refresh_at{}; ///< `refresh_requested` sent, close after a delay
    int old_connection = 0;              ///< the connection refreshed; 0 = none was usable
    int new_connection = 0;              ///< the first opened after the warning; 0 = none
    double replacement_ms = -1;          ///< warning to the new connection's hello
    double after_refresh_ms = -1;        ///< refresh_requested to that hello (< 0: before it)
    double old_closed_ms = -1;           ///< warning to the old connection's end
    bool old_closed_by_client = false;   ///< it ended before the fake closed it
    double overlap_ms = 0;               ///< new hello to old end (> 0: both were open)
};

struct refresh_result {
    std::vector<refresh_event> events;
    double window_s = 0;        ///< first send to the end of the drain
    double without_s = 0;       ///< time in the window with no open connection past hello
    int gaps = 0;               ///< stretches of that time
    double longest_gap_ms = 0;  ///< the longest of them
    int connections_opened = 0; ///< during the phase
    int connection_opens = 0;   ///< apps.connections.open calls during the phase
    int undelivered = 0;        ///< frames the fake could not deliver during the phase
};

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
    bool posts_expected = true;
    int posts = 0;         ///< chat.postMessage calls matched to this phase's commands
    int wrong_channel = 0; ///< of those, posted to another channel than the command's
    int out_of_order = 0;  ///< posted after a later command of the same channel
    int posted_twice = 0;  ///< commands whose message was posted more than once
    double post_p50 = -1, post_p99 = -1, post_max = -1; ///< send to post, ms
    double post_rate = 0;
    double wall_s = 0; ///< first send to the end of the drain
    double busy_s = 0; ///< first send to the last ack (or post, when posts are expected)
    clock_type::time_point started{}, ended{}; ///< the first send, the end of the drain
    // CPU from just before the first send to the end of the drain, as cores over busy_s
    // (what is used after the last ack or post counts too: it is work the phase caused).
    double client_cores = 0;  ///< the client process
    double client_us_per = 0; ///< its CPU microseconds per command acked
    double own_cores = 0;     ///< this process (fake + sender)
    double fake_cores = 0;    ///< this process without its main thread: the fake's io thread
    double fake_us_per = 0;   ///< the fake's io thread: CPU microseconds per command acked
    long rss_kb = 0, hwm_kb = 0;
    double poll_ms = 0;    ///< the longest poll of the fake's counters while draining
    double collect_ms = 0; ///< the longest copy of newly recorded acks and posts
    int collects = 0;      ///< how many such copies
    bool complete = false; ///< every ack and every post arrived within the drain
    long backlog = 0;      ///< commands of earlier phases not acked when this one began
    std::optional<refresh_result> refresh;
};

/// Something the sending loop does at a given offset from the phase's first send.
struct scheduled_action {
    clock_type::duration at;
    std::function<void()> run;
};

class runner {
public:
    runner(fake_slack& slack, child& client, const options& o, bool posts_expected)
        : slack_(slack), client_(client), o_(o), posts_expected_(posts_expected) {}

    /// Sends `count` commands at `rate`/s (0 = as fast as send() returns), running `actions`
    /// at their times, and waits for their acks and posts, up to the drain.
    phase_result run(const std::string& name, int rate, int count,
                     std::vector<scheduled_action> actions = {}) {
        phase_result r;
        r.name = name;
        r.posts_expected = posts_expected_;
        long first = next_;
        std::vector<std::string> frames(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i) {
            long n = next_ + i;
            frames[static_cast<std::size_t>(i)] = fake_slack::slash_envelope(
                fmt::format("{}-{}", name, n), fmt::format("blocker load test {}", n), "U111",
                channel_of(n));
        }
        sent_.resize(static_cast<std::size_t>(next_ + count));
        std::size_t ack_base = slack_.ack_count();
        // Commands of earlier phases still unacked (acks of this run only: one fake per client).
        r.backlog = std::max(0L, next_ - 1 - static_cast<long>(ack_base));
        std::size_t post_base = slack_.call_count(post_method);
        auto before = take_sample(client_.pid);

        auto start = clock_type::now();
        auto period = rate > 0 ? std::chrono::duration_cast<clock_type::duration>(
                                     std::chrono::duration<double>(1.0 / rate))
                               : clock_type::duration::zero();
        std::size_t next_action = 0;
        for (int i = 0; i < count; ++i) {
            if (rate > 0) {
                auto due = start + period * i;
                while (next_action < actions.size() && start + actions[next_action].at <= due) {
                    std::this_thread::sleep_until(start + actions[next_action].at);
                    actions[next_action++].run();
                }
                std::this_thread::sleep_until(due);
            }
            sent_[static_cast<std::size_t>(next_ + i)] = clock_type::now();
            slack_.send(frames[static_cast<std::size_t>(i)]);
            if ((i % 256 == 255 && client_.exited()) || interrupted)
                break;
        }
        auto last_send = clock_type::now();
        // Actions past the last send (none with the refresh phase's schedule) still run.
        for (; next_action < actions.size() && !client_.exited() && !interrupted; ++next_action) {
            std::this_thread::sleep_until(start + actions[next_action].at);
            actions[next_action].run();
        }
        next_ += count;
        r.sent = count;
        r.send_s = seconds(last_send - start);
        r.offered = r.send_s > 0 ? count / r.send_s : 0;

        // Drain: poll two counters (no copies) until they say every ack and every post could
        // be in; only then copy what is new and check it, so each record is copied about once.
        auto deadline = last_send + std::chrono::seconds(o_.drain_s);
        std::vector<tpmbot::test::ack_record> acks;
        std::vector<tpmbot::test::api_call> posts;
        auto collect = [&] {
            auto t = clock_type::now();
            auto more_acks = slack_.acks(ack_base + acks.size());
            auto more_posts = posts_expected_ ? slack_.calls(post_method, post_base + posts.size())
                                              : std::vector<tpmbot::test::api_call>{};
            r.collect_ms = std::max(r.collect_ms, millis(clock_type::now() - t));
            ++r.collects;
            std::move(more_acks.begin(), more_acks.end(), std::back_inserter(acks));
            std::move(more_posts.begin(), more_posts.end(), std::back_inserter(posts));
        };
        std::unordered_map<std::string, int> seen;
        std::size_t seen_upto = 0;
        int got_posts = 0;
        std::size_t posts_upto = 0;
        auto complete = [&] {
            for (; seen_upto < acks.size(); ++seen_upto)
                if (acks[seen_upto].envelope_id.rfind(name + "-", 0) == 0)
                    ++seen[acks[seen_upto].envelope_id];
            for (; posts_upto < posts.size(); ++posts_upto) {
                long n = load_number(posts[posts_upto].body);
                got_posts += n >= first && n < next_ ? 1 : 0;
            }
            return static_cast<int>(seen.size()) >= count &&
                   (!posts_expected_ || got_posts >= count);
        };
        for (;;) {
            auto t = clock_type::now();
            auto new_acks = slack_.ack_count() - ack_base;
            auto new_posts = posts_expected_ ? slack_.call_count(post_method) - post_base : 0;
            r.poll_ms = std::max(r.poll_ms, millis(clock_type::now() - t));
            bool may_be_done = new_acks >= static_cast<std::size_t>(count) &&
                               (!posts_expected_ || new_posts >= static_cast<std::size_t>(count));
            if (may_be_done) {
                collect();
                if (complete())
                    break;
            }
            if (clock_type::now() >= deadline || client_.exited() || interrupted)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(o_.poll_ms));
        }
        auto end = clock_type::now();
        auto after = take_sample(client_.pid);
        collect();
        complete();

        // Acks of this phase.
        std::unordered_map<std::string, int> counted;
        std::vector<double> lat;
        clock_type::time_point last_ack = start;
        for (const auto& a : acks) {
            if (a.envelope_id.rfind(name + "-", 0) != 0)
                continue;
            if (++counted[a.envelope_id] > 1)
                continue;
            lat.push_back(a.latency_ms);
            long n = std::stol(a.envelope_id.substr(name.size() + 1));
            auto t = sent_[static_cast<std::size_t>(n)] +
                     std::chrono::duration_cast<clock_type::duration>(
                         std::chrono::duration<double, std::milli>(a.latency_ms));
            last_ack = std::max(last_ack, t);
        }
        r.acked = static_cast<int>(counted.size());
        r.lost = count - r.acked;
        for (const auto& [id, k] : counted)
            r.duplicated += k > 1 ? 1 : 0;
        r.p50 = percentile(lat, 0.50);
        r.p90 = percentile(lat, 0.90);
        r.p99 = percentile(lat, 0.99);
        r.max = lat.empty() ? -1 : *std::max_element(lat.begin(), lat.end());
        double ack_span = seconds(last_ack - start);
        r.ack_rate = ack_span > 0 ? r.acked / ack_span : 0;

        // Posts of this phase, matched by the N in "load test N"; the channel is checked, and
        // so is the order within each channel (the bot keeps it).
        std::vector<double> post_lat;
        std::map<std::string, long> last_in_channel;
        clock_type::time_point last_post = start;
        std::vector<int> posts_of(static_cast<std::size_t>(next_ - first), 0);
        for (const auto& p : posts) {
            long n = load_number(p.body);
            if (n < first || n >= next_)
                continue;
            ++posts_of[static_cast<std::size_t>(n - first)];
            post_lat.push_back(millis(p.at - sent_[static_cast<std::size_t>(n)]));
            last_post = std::max(last_post, p.at);
            auto ch = p.params.find("channel");
            std::string channel = ch == p.params.end() ? std::string{} : ch->second;
            r.wrong_channel += channel != channel_of(n) ? 1 : 0;
            auto& last = last_in_channel[channel];
            r.out_of_order += n < last ? 1 : 0;
            last = std::max(last, n);
        }
        r.posts = static_cast<int>(post_lat.size());
        r.posted_twice = static_cast<int>(
            std::count_if(posts_of.begin(), posts_of.end(), [](int k) { return k > 1; }));
        r.post_p50 = percentile(post_lat, 0.50);
        r.post_p99 = percentile(post_lat, 0.99);
        r.post_max = post_lat.empty() ? -1 : *std::max_element(post_lat.begin(), post_lat.end());
        double post_span = seconds(last_post - start);
        r.post_rate = post_span > 0 ? r.posts / post_span : 0;
        r.complete = r.acked == count && (!posts_expected_ || r.posts >= count);

        r.wall_s = seconds(end - start);
        r.busy_s = seconds(std::max(last_ack, posts_expected_ ? last_post : start) - start);
        r.started = start;
        r.ended = end;
        // CPU from the sample before the first send to the one after the drain, over the busy
        // span (the wall time when nothing came back).
        double span = r.busy_s > 0 ? r.busy_s : seconds(after.at - before.at);
        double client_cpu = after.client_cpu - before.client_cpu;
        double own_cpu = after.own_cpu - before.own_cpu;
        double fake_cpu = own_cpu - (after.sender_cpu - before.sender_cpu);
        if (span > 0) {
            r.client_cores = client_cpu / span;
            r.own_cores = own_cpu / span;
            r.fake_cores = fake_cpu / span;
        }
        int done = std::max(r.acked, 1);
        r.client_us_per = client_cpu * 1e6 / done;
        r.fake_us_per = fake_cpu * 1e6 / done;
        r.rss_kb = after.rss_kb;
        r.hwm_kb = after.hwm_kb;
        return r;
    }

    /// `k` routine refreshes under a steady 500/s: at each, `warning` to the connection in use,
    /// `refresh_requested` a second later, and the fake closes it a second after that.
    phase_result run_refreshes(int k) {
        auto events = std::make_shared<std::vector<refresh_event>>(static_cast<std::size_t>(k));
        auto targeted = std::make_shared<std::vector<int>>();
        std::vector<scheduled_action> actions;
        for (int j = 0; j < k; ++j) {
            auto at = std::chrono::duration_cast<clock_type::duration>(refresh_lead +
                                                                       refresh_spacing * j);
            actions.push_back({at, [this, events, targeted, j] {
                                   auto& e = (*events)[static_cast<std::size_t>(j)];
                                   e.warning_at = clock_type::now();
                                   e.old_connection = usable_connection(*targeted);
                                   if (e.old_connection == 0)
                                       return;
                                   targeted->push_back(e.old_connection);
                                   slack_.disconnect("warning", e.old_connection);
                               }});
            actions.push_back({at + warning_to_refresh, [this, events, j] {
                                   auto& e = (*events)[static_cast<std::size_t>(j)];
                                   e.refresh_at = clock_type::now();
                                   if (e.old_connection != 0)
                                       slack_.disconnect("refresh_requested", e.old_connection,
                                                         refresh_to_close);
                               }});
        }
        auto length = refresh_lead + refresh_spacing * k;
        int count =
            static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(length).count() *
                             refresh_rate / 1000);

        int opened_before = static_cast<int>(slack_.connection_log().size());
        std::size_t opens_before = slack_.call_count("apps.connections.open");
        int undelivered_before = slack_.frames_undelivered();
        auto r = run("ref", refresh_rate, count, std::move(actions));
        auto start = r.started;
        auto end = r.ended;

        refresh_result rr;
        auto log = slack_.connection_log();
        rr.connections_opened = static_cast<int>(log.size()) - opened_before;
        rr.connection_opens =
            static_cast<int>(slack_.call_count("apps.connections.open") - opens_before);
        rr.undelivered = slack_.frames_undelivered() - undelivered_before;
        rr.window_s = seconds(end - start);

        // The time with no open connection that had had its hello: the window minus the union
        // of [hello, end) over every connection, where a connection ends when either side
        // closes it (once the fake has queued its close, nothing sent after it goes out).
        std::vector<std::pair<clock_type::time_point, clock_type::time_point>> usable;
        for (const auto& c : log) {
            if (!c.hello_at)
                continue;
            auto from = std::max(*c.hello_at, start);
            auto to = std::min(usable_until(c, end), end);
            if (from < to)
                usable.emplace_back(from, to);
        }
        std::sort(usable.begin(), usable.end());
        auto covered_to = start;
        auto gap = [&](clock_type::time_point from, clock_type::time_point to) {
            if (to <= from)
                return;
            rr.without_s += seconds(to - from);
            ++rr.gaps;
            rr.longest_gap_ms = std::max(rr.longest_gap_ms, millis(to - from));
        };
        for (const auto& [from, to] : usable) {
            gap(covered_to, from);
            covered_to = std::max(covered_to, to);
        }
        gap(covered_to, end);

        for (auto& e : *events) {
            if (e.old_connection == 0)
                continue;
            const auto& old = log[static_cast<std::size_t>(e.old_connection - 1)];
            if (old.closed_at || old.closing_at) {
                e.old_closed_ms = millis(usable_until(old, end) - e.warning_at);
                e.old_closed_by_client =
                    !old.closing_at || (old.closed_at && *old.closed_at < *old.closing_at);
            }
            for (const auto& c : log) {
                if (c.opened_at < e.warning_at || !c.hello_at)
                    continue;
                e.new_connection = c.index;
                e.replacement_ms = millis(*c.hello_at - e.warning_at);
                e.after_refresh_ms = millis(*c.hello_at - e.refresh_at);
                e.overlap_ms = millis(usable_until(old, end) - *c.hello_at);
                break;
            }
        }
        rr.events = *events;
        r.refresh = std::move(rr);
        return r;
    }

private:
    /// Until when a connection could carry envelopes: until the client closed it or the fake
    /// began to, whichever came first; `otherwise` while neither has.
    static clock_type::time_point usable_until(const tpmbot::test::connection_record& c,
                                               clock_type::time_point otherwise) {
        auto t = c.closed_at.value_or(otherwise);
        return c.closing_at ? std::min(t, *c.closing_at) : t;
    }

    std::string channel_of(long n) const {
        return fmt::format("C{:04d}", (n - 1) % o_.channels + 1);
    }

    /// The newest open connection past its hello that no refresh has addressed yet; 0 if none.
    int usable_connection(const std::vector<int>& targeted) const {
        auto log = slack_.connection_log();
        for (auto it = log.rbegin(); it != log.rend(); ++it)
            if (it->hello_at && !it->closed_at && !it->closing_at &&
                std::find(targeted.begin(), targeted.end(), it->index) == targeted.end())
                return it->index;
        return 0;
    }

    fake_slack& slack_;
    child& client_;
    const options& o_;
    bool posts_expected_;
    long next_ = 1;
    std::vector<clock_type::time_point> sent_; ///< send time by command number
};

std::string ms(double v) {
    return v < 0 ? "–" : fmt::format("{:.1f}", v);
}

/// What one client under test did through all phases.
struct client_result {
    std::string label; ///< "bot" or "floor"
    std::string binary;
    bool started = false;
    double start_ms = 0;
    double idle_cores = 0;
    long idle_rss_kb = 0, idle_hwm_kb = 0;
    std::vector<phase_result> phases;
    int opened = 0, open_at_end = 0;
    long final_rss_kb = 0, final_hwm_kb = 0;
    bool died = false;
    std::string ended;
    std::string log_tail; ///< when it failed
};

std::string tail_of(const fs::path& log) {
    std::ifstream in(log);
    std::string all(std::istreambuf_iterator<char>(in), {});
    return all.substr(all.size() > 4096 ? all.size() - 4096 : 0);
}

/// Runs every phase against one client (the bot when `db` is given, else the floor), on a
/// fake of its own.
client_result run_client(const std::string& label, const std::string& bin,
                         const std::optional<fs::path>& db, const fs::path& log, const options& o) {
    client_result out;
    out.label = label;
    out.binary = bin;
    fake_slack slack;
    child proc;

    auto t0 = clock_type::now();
    proc.pid = spawn_client(bin, slack.api_url(), db, log);
    bool up = slack.wait_for(
        [&] { return slack.connections_open() >= 1 || proc.exited() || interrupted; },
        start_timeout);
    auto t_hello = clock_type::now();
    if (interrupted && slack.connections_open() < 1) {
        out.ended = "interrupted before its first connection; " + proc.stop();
        return out;
    }
    if (!up || slack.connections_open() < 1) {
        out.died = true;
        out.ended = proc.stop();
        out.log_tail = tail_of(log);
        fmt::print(stderr, "load_bench: the {} opened no connection within {} s ({})\n", label,
                   start_timeout.count(), out.ended);
        return out;
    }
    out.started = true;
    out.start_ms = millis(t_hello - t0);
    auto at_hello = take_sample(proc.pid);
    for (auto until = clock_type::now() + std::chrono::seconds(o.idle_s);
         clock_type::now() < until && !interrupted;)
        std::this_thread::sleep_for(50ms);
    auto idle = take_sample(proc.pid);
    out.idle_cores = (idle.client_cpu - at_hello.client_cpu) / seconds(idle.at - at_hello.at);
    out.idle_rss_kb = idle.rss_kb;
    out.idle_hwm_kb = idle.hwm_kb;

    runner r(slack, proc, o, db.has_value());
    for (int rate : o.rates) {
        if (proc.exited() || interrupted)
            break;
        fmt::print(stderr, "{}: {} commands at {}/s\n", label, o.count, rate);
        out.phases.push_back(r.run(fmt::format("r{}", rate), rate, o.count));
    }
    // The refreshes before the saturation: a phase that ends with a backlog (saturation
    // often does, within the drain) would leave it to the next one.
    if (o.refreshes > 0 && !proc.exited() && !interrupted) {
        fmt::print(stderr, "{}: {} routine refreshes under {}/s\n", label, o.refreshes,
                   refresh_rate);
        out.phases.push_back(r.run_refreshes(o.refreshes));
    }
    if (o.sat_count > 0 && !proc.exited() && !interrupted) {
        fmt::print(stderr, "{}: {} commands as fast as the fake takes them\n", label, o.sat_count);
        out.phases.push_back(r.run("sat", 0, o.sat_count));
    }
    out.opened = slack.connections_opened();
    out.open_at_end = slack.connections_open();
    out.died = proc.exited();
    auto final_sample = take_sample(proc.pid);
    out.final_rss_kb = final_sample.rss_kb;
    out.final_hwm_kb = final_sample.hwm_kb;
    out.ended = proc.stop();
    if (out.died)
        out.log_tail = tail_of(log);
    return out;
}

std::string phase_label(const std::string& name) {
    if (name == "sat")
        return "saturation";
    if (name == "ref")
        return fmt::format("refresh ({}/s)", refresh_rate);
    return name.substr(1) + "/s";
}

void print_client(const client_result& c, const options& o) {
    fmt::print("### {}\n\n", c.label);
    fmt::print("- binary: `{}`\n", c.binary);
    if (!c.started) {
        if (c.died)
            fmt::print("- it opened no connection within {} s: {}\n\n", start_timeout.count(),
                       c.ended);
        else
            fmt::print("- {}\n\n", c.ended);
        return;
    }
    fmt::print("- start to first open connection (hello): {:.1f} ms\n", c.start_ms);
    fmt::print("- idle after hello ({} s): {:.4f} cores, VmRSS {} kB, VmHWM {} kB\n", o.idle_s,
               c.idle_cores, c.idle_rss_kb, c.idle_hwm_kb);
    fmt::print("- connections opened {}, open at the end {}\n", c.opened, c.open_at_end);
    if (!c.died)
        fmt::print("- after all phases: VmRSS {} kB, VmHWM {} kB\n", c.final_rss_kb,
                   c.final_hwm_kb);
    fmt::print("- the {} {}\n\n", c.label, c.died ? "EXITED during the run: " + c.ended : c.ended);

    fmt::print("| phase | sent | offered/s | acked | lost | dup | ack p50 ms | p90 | p99 | max | "
               "acks/s | posts | post p50 ms | post p99 | post max | posts/s | wall s | busy s | "
               "{0} cores | {0} CPU µs/cmd | fake+sender cores | fake io cores | fake io CPU "
               "µs/cmd | VmRSS MB | VmHWM MB |\n",
               c.label);
    fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
               "---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& p : c.phases) {
        bool posts = p.posts_expected;
        fmt::print("| {} | {} | {:.0f} | {} | {} | {} | {} | {} | {} | {} | {:.0f} | {} | {} | {} "
                   "| {} | {} | {:.1f} | {:.1f} | {:.2f} | {:.1f} | {:.2f} | {:.2f} | {:.1f} | "
                   "{:.1f} | {:.1f} |\n",
                   phase_label(p.name), p.sent, p.offered, p.acked, p.lost, p.duplicated, ms(p.p50),
                   ms(p.p90), ms(p.p99), ms(p.max), p.ack_rate,
                   posts ? std::to_string(p.posts) : "–", posts ? ms(p.post_p50) : "–",
                   posts ? ms(p.post_p99) : "–", posts ? ms(p.post_max) : "–",
                   posts ? fmt::format("{:.0f}", p.post_rate) : "–", p.wall_s, p.busy_s,
                   p.client_cores, p.client_us_per, p.own_cores, p.fake_cores, p.fake_us_per,
                   p.rss_kb / 1024.0, p.hwm_kb / 1024.0);
    }
    fmt::print("\n");
    for (const auto& p : c.phases) {
        fmt::print("- {}: longest poll of the fake's counters {:.3f} ms; copies of the new "
                   "records: {}, the longest {:.1f} ms",
                   phase_label(p.name), p.poll_ms, p.collects, p.collect_ms);
        if (p.posts_expected)
            fmt::print("; posts in another channel than their command's {}, behind a later "
                       "command of their channel {}, commands posted more than once {}",
                       p.wrong_channel, p.out_of_order, p.posted_twice);
        if (p.backlog > 0)
            fmt::print("; it began with {} commands of earlier phases unacked", p.backlog);
        fmt::print("\n");
    }
    bool all = std::all_of(c.phases.begin(), c.phases.end(),
                           [](const phase_result& p) { return p.complete; });
    if (!all)
        fmt::print("\nSome phase did not get every ack{} within the drain of {} s.\n",
                   c.phases.empty() || c.phases.front().posts_expected ? " and post" : "",
                   o.drain_s);

    for (const auto& p : c.phases) {
        if (!p.refresh)
            continue;
        const auto& rr = *p.refresh;
        fmt::print(
            "\nRoutine refreshes ({} under {}/s; `warning`, `refresh_requested` {} ms "
            "later, the fake closes the old connection {} ms after that):\n\n",
            rr.events.size(), refresh_rate,
            std::chrono::duration_cast<std::chrono::milliseconds>(warning_to_refresh).count(),
            refresh_to_close.count());
        fmt::print("- lost acks {}, duplicated acks {}, frames the fake could not deliver {}\n",
                   p.lost, p.duplicated, rr.undelivered);
        fmt::print("- without a connection past hello: {:.3f} s of {:.1f} s ({} gaps, the "
                   "longest {:.1f} ms)\n",
                   rr.without_s, rr.window_s, rr.gaps, rr.longest_gap_ms);
        fmt::print("- connections opened {}, apps.connections.open calls {}\n\n",
                   rr.connections_opened, rr.connection_opens);
        fmt::print("| # | old conn | new conn | warning to new hello ms | refresh_requested to "
                   "new hello ms | warning to old closed ms | old closed by | overlap ms |\n");
        fmt::print("|---:|---:|---:|---:|---:|---:|---|---:|\n");
        int k = 0;
        for (const auto& e : rr.events) {
            ++k;
            if (e.old_connection == 0) {
                fmt::print("| {} | – | – | – | – | – | no usable connection to refresh | – |\n", k);
                continue;
            }
            fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} |\n", k, e.old_connection,
                       e.new_connection == 0 ? "–" : std::to_string(e.new_connection),
                       ms(e.replacement_ms),
                       e.new_connection == 0 ? "–" : fmt::format("{:.1f}", e.after_refresh_ms),
                       ms(e.old_closed_ms),
                       e.old_closed_ms < 0 ? "still open"
                                           : (e.old_closed_by_client ? "client" : "fake"),
                       e.new_connection == 0 ? "–" : fmt::format("{:.1f}", e.overlap_ms));
        }
    }
    fmt::print("\n");
}

std::string ratio(double bot, double floor) {
    if (bot < 0 || floor <= 0)
        return "–";
    return fmt::format("{:.2f}", bot / floor);
}

void print_ratios(const client_result& bot, const client_result& floor) {
    fmt::print("### bot / floor\n\n");
    fmt::print("| phase | ack p50 | ack p99 | acks/s | cores | CPU per command | bot acks/s | "
               "floor acks/s | bot cores | floor cores | bot CPU µs/cmd | floor CPU µs/cmd |\n");
    fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& b : bot.phases) {
        auto f = std::find_if(floor.phases.begin(), floor.phases.end(),
                              [&](const phase_result& p) { return p.name == b.name; });
        if (f == floor.phases.end())
            continue;
        fmt::print("| {} | {} | {} | {} | {} | {} | {:.0f} | {:.0f} | {:.2f} | {:.2f} | {:.1f} | "
                   "{:.1f} |\n",
                   phase_label(b.name), ratio(b.p50, f->p50), ratio(b.p99, f->p99),
                   ratio(b.ack_rate, f->ack_rate), ratio(b.client_cores, f->client_cores),
                   ratio(b.client_us_per, f->client_us_per), b.ack_rate, f->ack_rate,
                   b.client_cores, f->client_cores, b.client_us_per, f->client_us_per);
    }
    fmt::print("\n");
}

void print_ceiling(const client_result& floor) {
    auto sat = std::find_if(floor.phases.begin(), floor.phases.end(),
                            [](const phase_result& p) { return p.name == "sat"; });
    if (sat == floor.phases.end())
        return;
    fmt::print("The fake's own ceiling (its saturation rate with the thinnest client, the "
               "floor): {:.0f} acks/s ({} commands offered at {:.0f}/s, all acked in {:.3f} s). "
               "Over that time the bench process used {:.2f} cores: the fake's io thread {:.2f} "
               "({:.1f} µs per command), the sender {:.2f}; the floor client {:.2f}.\n\n",
               sat->ack_rate, sat->sent, sat->offered, sat->busy_s, sat->own_cores, sat->fake_cores,
               sat->fake_us_per, sat->own_cores - sat->fake_cores, sat->client_cores);
}

int run(const options& o) {
    bool want_bot = o.with_floor != floor_mode::only;
    bool want_floor = o.with_floor != floor_mode::off;
    if (want_bot && !fs::exists(o.bot)) {
        fmt::print(stderr, "load_bench: no bot binary at {}\n", o.bot);
        return 1;
    }
    if (want_floor && !fs::exists(o.floor)) {
        fmt::print(stderr, "load_bench: no floor client at {}\n", o.floor);
        return 1;
    }
    temp_dir dir;
    dir.keep = o.keep;

    // The floor first (it is short), then the bot; each on a fake of its own.
    std::optional<client_result> floor, bot;
    if (want_floor)
        floor = run_client("floor", o.floor, std::nullopt, dir.path / "floor.log", o);
    if (want_bot && !interrupted)
        bot = run_client("bot", o.bot, dir.path / "bot.db", dir.path / "bot.log", o);

    fmt::print("## load_bench\n\n");
    std::string rates;
    for (int r : o.rates) {
        if (!rates.empty())
            rates += ',';
        rates += std::to_string(r);
    }
    fmt::print("- options: --rates {} --count {} --sat-count {} --channels {} --refreshes {} "
               "--floor {} --drain {} --poll {}\n\n",
               rates.empty() ? "0" : rates, o.count, o.sat_count, o.channels, o.refreshes,
               want_bot ? (want_floor ? "on" : "off") : "only", o.drain_s, o.poll_ms);
    if (bot)
        print_client(*bot, o);
    if (floor) {
        print_client(*floor, o);
        print_ceiling(*floor);
    }
    if (bot && floor)
        print_ratios(*bot, *floor);

    int rc = 0;
    for (const auto* c : {bot ? &*bot : nullptr, floor ? &*floor : nullptr}) {
        if (c && c->died) {
            fmt::print(stderr, "{} log (last 4 KB):\n{}\n", c->label, c->log_tail);
            rc = 1;
        }
    }
    if (interrupted) {
        fmt::print(stderr, "load_bench: interrupted; the figures above are partial\n");
        rc = 130;
    }
    return rc;
}

} // namespace

int main(int argc, char** argv) {
    auto o = parse(argc, argv);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        sigaction(sig, &sa, nullptr);
    try {
        return run(o);
    } catch (const std::exception& e) {
        fmt::print(stderr, "load_bench: {}\n", e.what());
        return 1;
    }
}
