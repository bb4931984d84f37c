/// fsync_probe: what a durable commit waits for on this disk, without SQLite or the bot.
///
/// It does what SQLite's WAL does for each commit of a command: writes `--pages` pages of 4 KiB
/// at the next place of a preallocated 4 MiB file (reused in a ring, as the WAL is after each
/// checkpoint) and calls fdatasync. One commit is started every 1/`--rate` s, as a fixed-rate
/// load sends commands, and the time from the write to fdatasync's return is measured. It
/// prints the percentiles, so the bot's ack latency at the same rate can be compared with the
/// floor the disk sets: an ack is written after its commit's fdatasync returns.
///
/// usage: fsync_probe [--dir D] [--rate R] [--count N] [--pages P]
///   --dir    where the file goes (default $TMPDIR, else /tmp); it is removed at the end
///   --rate   commits per second, 1..100000 (default 1000)
///   --count  commits, 1..1000000 (default 5000)
///   --pages  4 KiB pages per commit, 1..256 (default 15: a blocker's transaction)

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

bool parse_int(const char* s, long lo, long hi, long& out) {
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    out = v;
    return true;
}

int usage(const char* why) {
    std::fprintf(stderr,
                 "fsync_probe: %s\nusage: fsync_probe [--dir D] [--rate R] [--count N] "
                 "[--pages P]\n",
                 why);
    return 2;
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) {
        return 0;
    }
    auto i = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return sorted[std::min(i, sorted.size() - 1)];
}

} // namespace

int main(int argc, char** argv) {
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
    long rate = 1000;
    long count = 5000;
    long pages = 15;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (i + 1 >= argc) {
            return usage("every option takes a value");
        }
        const char* v = argv[++i];
        if (a == "--dir") {
            dir = v;
        } else if (a == "--rate") {
            if (!parse_int(v, 1, 100000, rate)) {
                return usage("--rate: 1..100000");
            }
        } else if (a == "--count") {
            if (!parse_int(v, 1, 1000000, count)) {
                return usage("--count: 1..1000000");
            }
        } else if (a == "--pages") {
            if (!parse_int(v, 1, 256, pages)) {
                return usage("--pages: 1..256");
            }
        } else {
            return usage("unknown option");
        }
    }

    std::string path = dir + "/fsync_probe.XXXXXX";
    std::vector<char> name(path.begin(), path.end());
    name.push_back('\0');
    int fd = ::mkstemp(name.data());
    if (fd < 0) {
        std::fprintf(stderr, "fsync_probe: cannot create a file in %s: %s\n", dir.c_str(),
                     std::strerror(errno));
        return 1;
    }
    constexpr long page = 4096;
    constexpr long file_bytes = 4L << 20;
    std::vector<char> buf(static_cast<std::size_t>(pages * page), 'w');
    // Preallocate and sync once, so the probe measures overwrites of a file of fixed size.
    for (long off = 0; off < file_bytes; off += page) {
        if (::pwrite(fd, buf.data(), page, off) != page) {
            std::fprintf(stderr, "fsync_probe: write: %s\n", std::strerror(errno));
            return 1;
        }
    }
    ::fsync(fd);

    std::vector<double> ms;
    ms.reserve(static_cast<std::size_t>(count));
    auto period = std::chrono::nanoseconds(1000000000L / rate);
    auto next = clock_type::now();
    long off = 0;
    for (long i = 0; i < count; ++i) {
        std::this_thread::sleep_until(next);
        next += period;
        if (off + pages * page > file_bytes) {
            off = 0;
        }
        auto t0 = clock_type::now();
        if (::pwrite(fd, buf.data(), buf.size(), off) != static_cast<ssize_t>(buf.size()) ||
            ::fdatasync(fd) != 0) {
            std::fprintf(stderr, "fsync_probe: write or fdatasync: %s\n", std::strerror(errno));
            return 1;
        }
        auto t1 = clock_type::now();
        off += pages * page;
        ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        if (clock_type::now() > next) {
            next = clock_type::now(); // behind: no burst to catch up
        }
    }
    ::close(fd);
    ::unlink(name.data());

    std::sort(ms.begin(), ms.end());
    auto over = std::count_if(ms.begin(), ms.end(), [](double v) { return v > 2.0; });
    std::printf("| dir | rate/s | commits | pages | p50 ms | p90 | p99 | max | over 2 ms |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    std::printf("| %s | %ld | %ld | %ld | %.2f | %.2f | %.2f | %.2f | %.2f%% |\n", dir.c_str(),
                rate, count, pages, percentile(ms, 0.5), percentile(ms, 0.9), percentile(ms, 0.99),
                ms.back(), 100.0 * static_cast<double>(over) / static_cast<double>(ms.size()));
    return 0;
}
