/// status_bench: what the weekly status of one channel costs as the history grows.
///
/// For each size N it fills a fresh SQLite file with N historical items (~50 channels, three
/// years, one in a hundred still open) plus one target channel with ~200 open items and two
/// weeks of activity, then times the status queries of that channel through the store API,
/// first on the version 5 indexes, then with those indexes dropped (what version 4 had).
/// Everything is bounded: sizes, runs and the work per run are fixed by the arguments.

#include "sqlite_store.hpp"
#include "status.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <functional>
#include <sqlite3.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace tpmbot;

namespace {

constexpr std::int64_t max_items = 5'000'000;
constexpr int max_runs = 200;
constexpr int channels = 50;
constexpr unix_time day = 86400;
constexpr unix_time week = 7 * day;
constexpr unix_time now = 1710000000; // 2024-03-09, fixed so every run sees the same data
constexpr unix_time history = 3 * 365 * day;
const std::string team = "T0001";
const std::string target = "C00"; // one of the 50 history channels, plus its own activity

struct options {
    std::vector<std::int64_t> sizes;
    int runs = 15;
    fs::path dir;
    bool keep = false;
    bool plans = false;
    bool compare = true;
};

[[noreturn]] void usage(const std::string& why) {
    fmt::print(stderr,
               "{}\nusage: status_bench [--runs N] [--dir PATH] [--keep] [--plans] "
               "[--no-compare] [SIZE...]\n"
               "  SIZE   historical items, 1000..{} (suffix k or M: 10k, 1M); default 10k 100k "
               "1M\n"
               "  --runs timed runs of the status queries per size (1..{}; default 15)\n"
               "  --dir  where the database files go (default: a new directory under the "
               "system temp dir)\n"
               "  --keep leave the database files behind\n"
               "  --plans print SQLite's plan of each status query\n"
               "  --no-compare skip timing the queries without the version 5 indexes\n",
               why, max_items, max_runs);
    std::exit(2);
}

std::int64_t parse_size(std::string_view s) {
    std::int64_t mult = 1;
    if (!s.empty() && (s.back() == 'k' || s.back() == 'K')) {
        mult = 1000;
        s.remove_suffix(1);
    } else if (!s.empty() && (s.back() == 'm' || s.back() == 'M')) {
        mult = 1'000'000;
        s.remove_suffix(1);
    }
    if (s.empty() || s.size() > 9 ||
        !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        usage(fmt::format("not a size: '{}'", s));
    }
    auto n = std::stoll(std::string(s)) * mult;
    if (n < 1000 || n > max_items) {
        usage(fmt::format("size {} is out of range", n));
    }
    return n;
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) {
                usage(fmt::format("{} needs a value", a));
            }
            return argv[++i];
        };
        if (a == "--runs") {
            auto v = value();
            o.runs = std::atoi(std::string(v).c_str());
            if (o.runs < 1 || o.runs > max_runs) {
                usage(fmt::format("--runs {} is out of range", v));
            }
        } else if (a == "--dir") {
            o.dir = std::string(value());
        } else if (a == "--keep") {
            o.keep = true;
        } else if (a == "--plans") {
            o.plans = true;
        } else if (a == "--no-compare") {
            o.compare = false;
        } else if (a == "-h" || a == "--help") {
            usage("");
        } else if (a.starts_with("-")) {
            usage(fmt::format("unknown option {}", a));
        } else {
            o.sizes.push_back(parse_size(a));
        }
    }
    if (o.sizes.empty()) {
        o.sizes = {10'000, 100'000, 1'000'000};
    }
    return o;
}

/// splitmix64: the same pseudo-random stream on every run.
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct numbers {
    std::int64_t next[4] = {0, 0, 0, 0};
    std::int64_t operator()(item_kind k) { return ++next[static_cast<int>(k)]; }
};

std::string_view closed_status(item_kind k, std::uint64_t r) {
    switch (k) {
    case item_kind::blocker:
        return r % 10 == 0 ? "withdrawn" : "resolved";
    case item_kind::decision:
        return r % 10 == 0 ? "superseded" : "decided";
    case item_kind::risk:
        return r % 2 == 0 ? "mitigated" : "closed";
    case item_kind::dep:
        return "delivered";
    }
    return "closed";
}

std::string_view open_status(item_kind k, std::uint64_t r) {
    switch (k) {
    case item_kind::blocker:
        return r % 3 == 0 ? "acked" : "open";
    case item_kind::decision:
        return "proposed";
    default:
        return "open";
    }
}

item make(numbers& nums, item_kind k, std::string channel, unix_time created, std::uint64_t r) {
    item it;
    it.team_id = team;
    it.kind = k;
    it.num = nums(k);
    it.channel_id = std::move(channel);
    it.reporter = fmt::format("U{:04}", r % 400);
    it.dri = (r >> 8) % 4 == 0 ? "" : fmt::format("U{:04}", (r >> 12) % 400);
    it.title = fmt::format("{} {} raised in {}: something needs doing", kind_name(k), it.num,
                           it.channel_id);
    if (k == item_kind::blocker) {
        it.severity = (r >> 16) % 3 == 0 ? "high" : "med";
    }
    it.created_at = created;
    it.updated_at = created;
    return it;
}

item_kind kind_of(std::uint64_t r) {
    auto k = r % 20; // 50% blockers, 20% decisions, 15% risks, 15% deps
    return k < 10   ? item_kind::blocker
           : k < 14 ? item_kind::decision
           : k < 17 ? item_kind::risk
                    : item_kind::dep;
}

struct fill_result {
    std::int64_t items = 0;
    std::int64_t open = 0;
    double seconds = 0;
    std::uintmax_t bytes = 0;
};

/// N items of history, then the target channel's open items and last two weeks. One
/// transaction, prepared statements (the store caches them).
fill_result fill(const std::string& path, std::int64_t n) {
    fill_result res;
    auto t0 = std::chrono::steady_clock::now();
    {
        sqlite_store s(path);
        numbers nums;
        // Background open items: one in a hundred (10,000 at 1M), none in the target channel.
        s.transact([&] {
            for (std::int64_t i = 0; i < n; ++i) {
                auto r = mix(static_cast<std::uint64_t>(i));
                auto created =
                    now - history + static_cast<unix_time>((static_cast<double>(i) / n) * history);
                auto channel = fmt::format("C{:02}", (r >> 20) % channels);
                auto it = make(nums, kind_of(r), channel, created, r);
                bool open = i % 100 == 50 && channel != target;
                if (open) {
                    it.status = open_status(it.kind, r >> 24);
                    ++res.open;
                } else {
                    // Closed an hour to a month later, but before now.
                    auto took = 3600 + static_cast<unix_time>((r >> 28) % (30 * day));
                    it.closed_at = std::min(created + took, now - 1);
                    it.updated_at = it.closed_at;
                    it.status = closed_status(it.kind, r >> 24);
                }
                s.insert_item(it);
                ++res.items;
            }

            // The target channel: ~200 open items from the last six months...
            std::uint64_t seq = 1'000'000'000;
            auto target_item = [&](item_kind k, unix_time created, unix_time closed) {
                auto r = mix(++seq);
                auto it = make(nums, k, target, created, r);
                if (closed == 0) {
                    it.status = open_status(k, r >> 24);
                    ++res.open;
                } else {
                    it.closed_at = closed;
                    it.updated_at = closed;
                    it.status = k == item_kind::blocker    ? "resolved"
                                : k == item_kind::decision ? "decided"
                                : k == item_kind::risk     ? "mitigated"
                                                           : "delivered";
                }
                s.insert_item(it);
                ++res.items;
            };
            const std::pair<item_kind, int> open_mix[] = {{item_kind::blocker, 100},
                                                          {item_kind::decision, 40},
                                                          {item_kind::risk, 30},
                                                          {item_kind::dep, 30}};
            for (auto [k, count] : open_mix) {
                for (int j = 0; j < count; ++j) {
                    target_item(k, now - 180 * day + j * (170 * day / count), 0);
                }
            }
            // ...and this week's and last week's activity.
            for (unix_time start : {now - 2 * week, now - week}) {
                for (int j = 0; j < 20; ++j) { // blockers raised, 12 resolved in the week
                    auto created = start + j * (week / 21);
                    target_item(item_kind::blocker, created, j < 12 ? created + 2 * day : 0);
                }
                for (int j = 0; j < 10; ++j) { // older blockers resolved in the week
                    target_item(item_kind::blocker, start - (2 + j) * week, start + j * day / 2);
                }
                for (int j = 0; j < 6; ++j) { // decisions raised and decided in the week
                    auto created = start + j * day;
                    target_item(item_kind::decision, created, created + day / 2);
                }
                for (int j = 0; j < 3; ++j) {
                    target_item(item_kind::risk, start + j * day, 0);
                    target_item(item_kind::dep, start + j * day, start + j * day + day);
                }
            }
        });
    } // closing the last connection checkpoints the WAL into the file
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    res.bytes = fs::file_size(path);
    if (fs::exists(path + "-wal")) {
        res.bytes += fs::file_size(path + "-wal");
    }
    return res;
}

/// One status query: its name and how it runs (returns the rows or the count it got).
struct status_query {
    std::string name;
    item_query q;
    bool count;
};

item_query base(item_kind k) {
    item_query q;
    q.team_id = team;
    q.channel_id = target;
    q.kind = k;
    return q;
}

std::vector<status_query> status_queries() {
    std::vector<status_query> out;
    const std::vector<std::string> blocker_open = {"open", "acked"};
    auto q = base(item_kind::blocker);
    q.statuses = blocker_open;
    out.push_back({"open blockers (list)", q, false});
    for (auto [label, start] : {std::pair{"this", now - week}, std::pair{"last", now - 2 * week}}) {
        q = base(item_kind::blocker);
        q.created_from = start;
        q.created_until = start + week;
        out.push_back({fmt::format("blockers opened {} week (count)", label), q, true});
        q = base(item_kind::blocker);
        q.closed_from = start;
        q.closed_until = start + week;
        q.statuses = {"resolved"};
        out.push_back({fmt::format("blockers resolved {} week (count)", label), q, true});
    }
    q = base(item_kind::blocker);
    q.open_at = now - week;
    out.push_back({"blockers open at this week's start (list)", q, false});
    q.open_at = now - 2 * week;
    out.push_back({"blockers open at last week's start (count)", q, true});
    q = base(item_kind::decision);
    q.closed_from = now - week;
    q.closed_until = now;
    q.statuses = {"decided"};
    out.push_back({"decided this week (list)", q, false});
    q = base(item_kind::decision);
    q.statuses = {"proposed"};
    out.push_back({"pending decisions (list)", q, false});
    q = base(item_kind::dep);
    q.statuses = {"open"};
    out.push_back({"open deps (list)", q, false});
    q = base(item_kind::risk);
    q.statuses = {"open"};
    out.push_back({"open risks (list)", q, false});
    for (auto k : {item_kind::blocker, item_kind::decision, item_kind::risk, item_kind::dep}) {
        q = base(k);
        q.statuses = k == item_kind::blocker    ? blocker_open
                     : k == item_kind::decision ? std::vector<std::string>{"proposed"}
                                                : std::vector<std::string>{"open"};
        q.unowned_only = true;
        out.push_back({fmt::format("unowned open {} (count)", kind_name(k)), q, true});
    }
    return out;
}

std::int64_t run_one(sqlite_store& s, const status_query& sq) {
    if (sq.count) {
        return s.count_items(sq.q);
    }
    return static_cast<std::int64_t>(s.list_items(sq.q).size());
}

struct timing {
    double best_ms = 0;
    double median_ms = 0;
    std::int64_t rows = 0;                ///< rows listed plus counts, one run
    std::vector<double> per_query_median; ///< ms
    double build_median_ms = 0; ///< the whole weekly status, built and rendered (build_status)
    std::size_t build_blocks = 0;
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    auto n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// The whole status set, once to warm up, then `runs` times.
timing time_status(const std::string& path, int runs, bool plans) {
    sqlite_store s(path);
    auto queries = status_queries();
    timing t;
    if (plans) {
        for (const auto& sq : queries) {
            fmt::print("  {}:\n", sq.name);
            auto plan = s.explain(sq.q, sq.count);
            std::size_t start = 0;
            while (start < plan.size()) {
                auto end = plan.find('\n', start);
                if (end == std::string::npos) {
                    end = plan.size();
                }
                fmt::print("    {}\n", plan.substr(start, end - start));
                start = end + 1;
            }
        }
    }
    for (const auto& sq : queries) {
        t.rows += run_one(s, sq);
    }
    std::vector<double> totals;
    std::vector<std::vector<double>> each(queries.size());
    for (int r = 0; r < runs; ++r) {
        double total = 0;
        for (std::size_t i = 0; i < queries.size(); ++i) {
            auto t0 = std::chrono::steady_clock::now();
            auto got = run_one(s, queries[i]);
            auto ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
            if (got < 0) {
                throw std::runtime_error("negative count");
            }
            each[i].push_back(ms);
            total += ms;
        }
        totals.push_back(total);
    }
    t.best_ms = *std::min_element(totals.begin(), totals.end());
    t.median_ms = median(totals);
    for (const auto& v : each) {
        t.per_query_median.push_back(median(v));
    }
    // The weekly status as the bot builds it: its queries plus the rendering into blocks.
    std::vector<double> builds;
    for (int r = 0; r < runs; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        auto st = build_status(s, team, target, now, "UTC");
        builds.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        t.build_blocks = st.blocks.size();
    }
    t.build_median_ms = median(builds);
    return t;
}

/// Takes the file back to the item indexes of schema version 4 (the version stays 5, so the
/// store does not put them back).
void drop_v5_indexes(const std::string& path) {
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.exec("DROP INDEX items_channel_status; DROP INDEX items_channel_created; "
             "DROP INDEX items_channel_closed; "
             "CREATE INDEX items_channel ON items (team_id, channel_id);");
}

/// The machine's load averages, since other work on it skews the figures.
void print_load(std::string_view when) {
    std::ifstream in("/proc/loadavg");
    std::string one, five, fifteen;
    if (in >> one >> five >> fifteen) {
        fmt::print("load average {}: {} {} {}\n", when, one, five, fifteen);
    }
}

} // namespace

int main(int argc, char** argv) {
    auto o = parse(argc, argv);
    bool made_dir = false;
    if (o.dir.empty()) {
        o.dir = fs::temp_directory_path() / fmt::format("tpmbot-status-bench-{}", ::getpid());
        made_dir = true;
    }
    fs::create_directories(o.dir);
    fmt::print("status_bench: SQLite {}, {} timed runs per size, files in {}\n",
               sqlite3_libversion(), o.runs, o.dir.string());
    print_load("at start");

    struct row {
        std::int64_t n;
        fill_result f;
        timing v5;
        timing v4;
    };
    std::vector<row> rows;
    auto names = status_queries();
    try {
        for (auto n : o.sizes) {
            auto path = (o.dir / fmt::format("status-{}.db", n)).string();
            for (const char* suffix : {"", "-wal", "-shm"}) {
                fs::remove(path + suffix);
            }
            fmt::print("\nN = {}: filling...\n", n);
            std::fflush(stdout);
            row r{n, fill(path, n), {}, {}};
            fmt::print("  {} items ({} open) in {:.1f} s, {:.1f} MB\n", r.f.items, r.f.open,
                       r.f.seconds, r.f.bytes / 1e6);
            r.v5 = time_status(path, o.runs, o.plans);
            if (o.compare) {
                drop_v5_indexes(path);
                if (o.plans) {
                    fmt::print("  without the version 5 indexes:\n");
                }
                r.v4 = time_status(path, o.runs, o.plans);
                if (r.v4.rows != r.v5.rows) {
                    throw std::runtime_error("the two index sets gave different results");
                }
            }
            fmt::print("  {:<44} {:>10} {:>12}\n", "status query (median ms)", "v5 indexes",
                       o.compare ? "v4 indexes" : "");
            for (std::size_t i = 0; i < names.size(); ++i) {
                fmt::print("  {:<44} {:>10.3f} {:>12}\n", names[i].name, r.v5.per_query_median[i],
                           o.compare ? fmt::format("{:.3f}", r.v4.per_query_median[i]) : "");
            }
            rows.push_back(r);
            if (!o.keep) {
                for (const char* suffix : {"", "-wal", "-shm"}) {
                    fs::remove(path + suffix);
                }
            }
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "status_bench: {}\n", e.what());
        return 1;
    }

    fmt::print("\n| N (history) | items | open | fill (s) | DB size (MB) | status best (ms) | "
               "status median (ms) | rows | median without v5 indexes (ms) | "
               "build_status median (ms) | blocks |\n");
    fmt::print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& r : rows) {
        fmt::print("| {} | {} | {} | {:.1f} | {:.1f} | {:.2f} | {:.2f} | {} | {} | {:.2f} | {} |\n",
                   r.n, r.f.items, r.f.open, r.f.seconds, r.f.bytes / 1e6, r.v5.best_ms,
                   r.v5.median_ms, r.v5.rows,
                   o.compare ? fmt::format("{:.2f}", r.v4.median_ms) : "-", r.v5.build_median_ms,
                   r.v5.build_blocks);
    }
    print_load("at end");
    if (made_dir && !o.keep) {
        std::error_code ec;
        fs::remove_all(o.dir, ec);
    }
    return 0;
}
