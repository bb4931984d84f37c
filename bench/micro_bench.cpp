/// micro_bench: what each piece of a slash command's hot path costs, one piece at a time.
///
/// With Google Benchmark it times: parsing a Socket Mode frame (a slash command and an
/// app_mention, as Slack sends them); turning the slash payload into a command; tokenizing
/// command text; building an ack with a reply and a chat.postMessage body; inserting items
/// into a SQLite file (one and 100 per transaction) and, for comparison, the least durable
/// commit (one row, no index); the whole command as the bot runs it
/// (dispatcher::handle: router, handler, outbox, commit; and from frame to ack) on the disk and
/// on /dev/shm, to tell CPU from fsync; and the weekly status of one channel on a 10k-item
/// store. Every setup runs outside the timed loop. Database files go to new directories under
/// the system temp dir and /dev/shm, removed at the end.

#include "args.hpp"
#include "dispatcher.hpp"
#include "envelope.hpp"
#include "router.hpp"
#include "sqlite_store.hpp"
#include "status.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <benchmark/benchmark.h>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace tpmbot;

namespace {

// ---------------------------------------------------------------------------------------------
// Inputs, shaped like what Slack sends (tests/data/frames), with a realistic command in them.

/// A `/tpm blocker ...` slash command: user and channel ids arrive escaped (the app manifest
/// asks for it), '&' as &amp;, the JSON with "\/" as Slack writes it.
constexpr std::string_view slash_frame =
    R"({"envelope_id":"3f5c1a2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b","payload":{"token":"xQ7pLr2mVb9Tn4KsYd1Wc8Fh",)"
    R"("team_id":"T04ACME01","team_domain":"acme-eng","channel_id":"C05PAYLAUNCH",)"
    R"("channel_name":"payments-launch","user_id":"U03RAJ0042","user_name":"raj",)"
    R"("command":"\/tpm","text":"blocker API keys for the payment sandbox expire before the )"
    R"(release &amp; staging deploys fail <@U02DANA777|dana> sev:high area:\"payments api\" )"
    R"(waiting:<@U07LEE1234|lee>","api_app_id":"A06TPMBOT9","is_enterprise_install":"false",)"
    R"("response_url":"https:\/\/hooks.slack.com\/commands\/T04ACME01\/6295111234567\/)"
    R"(Zr8kQ2vXy4mNb6pT1sW3uE5h","trigger_id":"6295111234567.4130012345678.)"
    R"(9c1e5b7a3d2f4e6a8b0c1d2e3f4a5b6c"},"type":"slash_commands",)"
    R"("accepts_response_payload":true})";

/// An events_api app_mention with its blocks and authorizations, as Slack sends them.
constexpr std::string_view mention_frame =
    R"({"envelope_id":"7a9b2c4d-1e3f-4a5b-8c6d-0e1f2a3b4c5d","payload":{"token":"xQ7pLr2mVb9Tn4KsYd1Wc8Fh",)"
    R"("team_id":"T04ACME01","context_team_id":"T04ACME01","context_enterprise_id":null,)"
    R"("api_app_id":"A06TPMBOT9","event":{"client_msg_id":"5b0e8f3a-2c4d-4e6f-a1b3-9d7c5e3f1a2b",)"
    R"("type":"app_mention","text":"<@U06TPMBOT1> blocker: API keys for the payment sandbox )"
    R"(expire before the release <@U02DANA777> sev:high","user":"U03RAJ0042",)"
    R"("ts":"1795597260.001900","team":"T04ACME01","blocks":[{"type":"rich_text",)"
    R"("block_id":"q2V9","elements":[{"type":"rich_text_section","elements":[{"type":"user",)"
    R"("user_id":"U06TPMBOT1"},{"type":"text","text":" blocker: API keys for the payment )"
    R"(sandbox expire before the release "},{"type":"user","user_id":"U02DANA777"},)"
    R"({"type":"text","text":" sev:high"}]}]}],"channel":"C05PAYLAUNCH",)"
    R"("event_ts":"1795597260.001900"},"type":"event_callback","event_id":"Ev06QWERTY12",)"
    R"("event_time":1795597260,"authorizations":[{"enterprise_id":null,"team_id":"T04ACME01",)"
    R"("user_id":"U06TPMBOT1","is_bot":true,"is_enterprise_install":false}],)"
    R"("is_ext_shared_channel":false,"event_context":"4-eyJldCI6ImFwcF9tZW50aW9uIiwidGlkIjoi"},)"
    R"("type":"events_api","accepts_response_payload":false,"retry_attempt":0,)"
    R"("retry_reason":""})";

/// The text of a blocker with a DRI, severity, area and waiting-on, as Slack encodes it.
constexpr std::string_view blocker_text =
    R"(blocker API keys for the payment sandbox expire before the release &amp; staging )"
    R"(deploys fail <@U02DANA777|dana> sev:high area:"payments api" waiting:<@U07LEE1234|lee>)";

/// A decision with a date, a DRI, people consulted and quoted options.
constexpr std::string_view decision_text =
    R"(decision "Which queue carries the webhook retries?" by:2026-12-01 )"
    R"(dri:<@U02DANA777|dana> consult:<@U07LEE1234|lee>, <@U01KIM5678|kim> )"
    R"(options:"SQS"|"Kafka"|"Postgres outbox")";

constexpr unix_time t0 = 1795597200; // 2026-11-26, fixed so every run sees the same data
constexpr unix_time day = 86400;
constexpr unix_time week = 7 * day;

// ---------------------------------------------------------------------------------------------
// Scratch files.

enum class place { disk, shm };

std::optional<fs::path> g_dirs[2];
std::int64_t g_files = 0;

/// The directory of this run on `p` (created on first use); empty when `p` does not exist.
fs::path scratch_dir(place p) {
    auto& d = g_dirs[static_cast<int>(p)];
    if (!d) {
        fs::path base = p == place::disk ? fs::temp_directory_path() : fs::path("/dev/shm");
        if (!fs::is_directory(base)) {
            return {};
        }
        d = base / fmt::format("tpmbot-micro-bench-{}", ::getpid());
        fs::create_directories(*d);
    }
    return *d;
}

void remove_scratch() {
    for (auto& d : g_dirs) {
        if (d) {
            std::error_code ec;
            fs::remove_all(*d, ec);
            d.reset();
        }
    }
}

/// A fresh database path on `p`; its files (with -wal and -shm) are removed with it.
class db_file {
public:
    explicit db_file(place p) {
        auto d = scratch_dir(p);
        if (!d.empty()) {
            path_ = (d / fmt::format("bench-{}.db", ++g_files)).string();
        }
    }
    ~db_file() {
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::error_code ec;
            if (!path_.empty()) {
                fs::remove(path_ + suffix, ec);
            }
        }
    }
    db_file(const db_file&) = delete;
    db_file& operator=(const db_file&) = delete;

    bool ok() const { return !path_.empty(); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// Bytes this thread has passed to write(2)/pwrite(2) so far (/proc/thread-self/io `wchar`),
/// which for a store is what its commits write into the WAL; -1 when unknown.
std::int64_t thread_bytes_written() {
    std::ifstream in("/proc/thread-self/io");
    std::string key;
    std::int64_t value = 0;
    while (in >> key >> value) {
        if (key == "wchar:") {
            return value;
        }
    }
    return -1;
}

/// Sets the counter `written` to the bytes written per iteration since `before`.
void report_written(benchmark::State& st, std::int64_t before) {
    auto after = thread_bytes_written();
    if (before >= 0 && after >= before) {
        st.counters["written"] = benchmark::Counter(static_cast<double>(after - before),
                                                    benchmark::Counter::kAvgIterations,
                                                    benchmark::Counter::OneK::kIs1024);
    }
}

const router& routes() {
    static const router r = make_router();
    return r;
}

/// The slash command the frame carries, with what the bot adds before handling it.
command slash_command() {
    auto f = slack::parse_frame(slash_frame);
    auto cmd = slack::command_of_slash(f.payload);
    if (f.kind != slack::frame_kind::slash_commands || !cmd) {
        throw std::runtime_error("the slash frame did not parse");
    }
    cmd->now = t0;
    cmd->user_tz = "Europe/Berlin";
    return *cmd;
}

/// What the handlers really produce, from an in-memory store: the card of a new blocker and
/// the ephemeral answer of `blocker list` over eight of them.
struct sample_output {
    effect card;
    std::string list_reply;
};

const sample_output& samples() {
    static const sample_output out = [] {
        sqlite_store db(":memory:");
        dispatcher d(db, routes(), {}, [](const std::string&) {});
        auto cmd = slash_command();
        sample_output s;
        for (int i = 0; i < 8; ++i) {
            auto h = d.handle(cmd);
            if (!h.ok || h.effects.empty() || !h.effects.front().is_card) {
                throw std::runtime_error("creating a blocker did not give a card");
            }
            s.card = h.effects.front();
            cmd.now += 3600;
        }
        cmd.text = "blocker list";
        handle_options opts;
        opts.reply_in_ack = true;
        auto h = d.handle(cmd, opts);
        if (!h.ok || h.reply.empty()) {
            throw std::runtime_error("blocker list gave no reply");
        }
        s.list_reply = h.reply;
        return s;
    }();
    return out;
}

// ---------------------------------------------------------------------------------------------
// 1-4: parsing and building, no store.

void BM_parse_frame(benchmark::State& st, std::string_view text) {
    auto check = slack::parse_frame(text);
    if (check.kind == slack::frame_kind::malformed) {
        st.SkipWithError(check.error.c_str());
        return;
    }
    for (auto _ : st) {
        auto f = slack::parse_frame(text);
        benchmark::DoNotOptimize(f);
    }
    st.SetItemsProcessed(st.iterations());
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK_CAPTURE(BM_parse_frame, slash_commands, slash_frame);
BENCHMARK_CAPTURE(BM_parse_frame, app_mention, mention_frame);

void BM_command_of_slash(benchmark::State& st) {
    auto payload = slack::parse_frame(slash_frame).payload;
    for (auto _ : st) {
        auto cmd = slack::command_of_slash(payload);
        benchmark::DoNotOptimize(cmd);
    }
    st.SetItemsProcessed(st.iterations());
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(payload.size()));
}
BENCHMARK(BM_command_of_slash);

void BM_tokenize(benchmark::State& st, std::string_view text) {
    std::size_t tokens = args::tokenize(text).size();
    for (auto _ : st) {
        auto ts = args::tokenize(text);
        benchmark::DoNotOptimize(ts);
    }
    st.SetItemsProcessed(st.iterations());
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(text.size()));
    st.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK_CAPTURE(BM_tokenize, blocker, blocker_text);
BENCHMARK_CAPTURE(BM_tokenize, decision, decision_text);

void BM_ack_with_text(benchmark::State& st) {
    const auto& reply = samples().list_reply;
    std::size_t bytes = 0;
    for (auto _ : st) {
        auto a = slack::ack_with_text("3f5c1a2e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", reply);
        bytes = a.size();
        benchmark::DoNotOptimize(a);
    }
    st.SetItemsProcessed(st.iterations());
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(bytes));
    st.counters["reply_chars"] = static_cast<double>(reply.size());
}
BENCHMARK(BM_ack_with_text);

void BM_post_message_body(benchmark::State& st, const effect& e) {
    std::size_t bytes = 0;
    for (auto _ : st) {
        auto body = slack::post_message_body(e, e.channel, "");
        bytes = body.size();
        benchmark::DoNotOptimize(body);
    }
    st.SetItemsProcessed(st.iterations());
    st.SetBytesProcessed(st.iterations() * static_cast<std::int64_t>(bytes));
}

void BM_post_message_body_card(benchmark::State& st) {
    BM_post_message_body(st, samples().card);
}
BENCHMARK(BM_post_message_body_card);

// ---------------------------------------------------------------------------------------------
// 5: the store alone.

/// One blocker as a command creates it, without the command.
item sample_item(std::int64_t num) {
    item it;
    it.team_id = "T04ACME01";
    it.kind = item_kind::blocker;
    it.num = num;
    it.channel_id = "C05PAYLAUNCH";
    it.reporter = "U03RAJ0042";
    it.dri = "U02DANA777";
    it.status = "open";
    it.title = "API keys for the payment sandbox expire before the release &amp; staging "
               "deploys fail <@U02DANA777|dana>";
    it.severity = "high";
    it.waiting_on = "<@U07LEE1234>";
    it.area = "payments api";
    it.created_at = it.updated_at = t0 + num;
    return it;
}

void BM_insert_item(benchmark::State& st, place where, int per_tx) {
    try {
        db_file f(where);
        if (!f.ok()) {
            st.SkipWithError("the directory does not exist");
            return;
        }
        sqlite_store db(f.path());
        db.start_checkpointer(); // as the bot runs with Slack: checkpoints off this thread
        std::int64_t num = 0;
        auto it = sample_item(0);
        auto written = thread_bytes_written();
        for (auto _ : st) {
            db.transact([&] {
                for (int i = 0; i < per_tx; ++i) {
                    it.num = ++num;
                    it.created_at = it.updated_at = t0 + num;
                    db.insert_item(it);
                }
            });
        }
        report_written(st, written);
        st.SetItemsProcessed(st.iterations() * per_tx);
        st.counters["per_item"] = benchmark::Counter(
            per_tx, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    } catch (const std::exception& e) {
        st.SkipWithError(e.what());
    }
}
BENCHMARK_CAPTURE(BM_insert_item, disk_1_per_tx, place::disk, 1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_insert_item, disk_100_per_tx, place::disk, 100)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_insert_item, shm_1_per_tx, place::shm, 1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_insert_item, shm_100_per_tx, place::shm, 100)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

/// The least a durable commit costs on this machine, whatever the schema: one 8-byte row into
/// a table with no index, one transaction each, in WAL mode with `synchronous = FULL` (as the
/// store opens its file), straight through SQLiteCpp. Each commit still writes a page and its
/// WAL header and, on the disk, waits for `fdatasync`.
void BM_minimal_commit(benchmark::State& st, place where) {
    try {
        db_file f(where);
        if (!f.ok()) {
            st.SkipWithError("the directory does not exist");
            return;
        }
        SQLite::Database db(f.path(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = FULL");
        db.exec("CREATE TABLE t (x INTEGER)");
        SQLite::Statement insert(db, "INSERT INTO t (x) VALUES (?)");
        std::int64_t x = 0;
        auto written = thread_bytes_written();
        for (auto _ : st) {
            db.exec("BEGIN");
            insert.bind(1, ++x);
            insert.exec();
            insert.reset();
            db.exec("COMMIT");
        }
        report_written(st, written);
        st.SetItemsProcessed(st.iterations());
    } catch (const std::exception& e) {
        st.SkipWithError(e.what());
    }
}
BENCHMARK_CAPTURE(BM_minimal_commit, disk, place::disk)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_minimal_commit, shm, place::shm)->UseRealTime()->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------
// 6: the whole command, as the bot runs it.

/// dispatcher::handle of the `/tpm blocker ...` command: admin check, router, blocker handler
/// (number, insert, history), card and DM into the outbox, commit. One command per
/// transaction, a new blocker each time.
void BM_handle_command(benchmark::State& st, place where) {
    try {
        db_file f(where);
        if (!f.ok()) {
            st.SkipWithError("the directory does not exist");
            return;
        }
        sqlite_store db(f.path());
        db.start_checkpointer();
        std::string logged;
        dispatcher d(db, routes(), {}, [&](const std::string& l) { logged = l; });
        auto cmd = slash_command();
        handle_options opts;
        opts.reply_in_ack = true;
        auto first = d.handle(cmd, opts); // the first also loads the time zone
        if (!first.ok) {
            st.SkipWithError(("the command was refused: " + first.reply + " " + logged).c_str());
            return;
        }
        auto written = thread_bytes_written();
        for (auto _ : st) {
            ++cmd.now;
            auto h = d.handle(cmd, opts);
            benchmark::DoNotOptimize(h);
        }
        report_written(st, written);
        st.SetItemsProcessed(st.iterations());
        st.counters["effects"] = static_cast<double>(first.effects.size());
    } catch (const std::exception& e) {
        st.SkipWithError(e.what());
    }
}
BENCHMARK_CAPTURE(BM_handle_command, disk, place::disk)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_handle_command, shm, place::shm)->UseRealTime()->Unit(benchmark::kMicrosecond);

/// From the frame's text to the ack's text: parse_frame, command_of_slash, dispatcher::handle,
/// ack (what the Slack transport does between reading a frame and writing its ack, without
/// the socket and the users.info lookup).
void BM_frame_to_ack(benchmark::State& st, place where) {
    try {
        db_file f(where);
        if (!f.ok()) {
            st.SkipWithError("the directory does not exist");
            return;
        }
        sqlite_store db(f.path());
        db.start_checkpointer();
        dispatcher d(db, routes(), {}, [](const std::string&) {});
        handle_options opts;
        opts.reply_in_ack = true;
        auto first = d.handle(slash_command(), opts);
        if (!first.ok) {
            st.SkipWithError(("the command was refused: " + first.reply).c_str());
            return;
        }
        unix_time now = t0;
        std::size_t ack_bytes = 0;
        auto written = thread_bytes_written();
        for (auto _ : st) {
            auto fr = slack::parse_frame(slash_frame);
            auto cmd = slack::command_of_slash(fr.payload);
            cmd->now = ++now;
            cmd->user_tz = "Europe/Berlin";
            auto reply = d.handle(std::move(*cmd), opts).reply;
            auto a = reply.empty() ? slack::ack(fr.envelope_id)
                                   : slack::ack_with_text(fr.envelope_id, reply);
            ack_bytes = a.size();
            benchmark::DoNotOptimize(a);
        }
        report_written(st, written);
        st.counters["ack_bytes"] = static_cast<double>(ack_bytes);
        st.SetItemsProcessed(st.iterations());
    } catch (const std::exception& e) {
        st.SkipWithError(e.what());
    }
}
BENCHMARK_CAPTURE(BM_frame_to_ack, disk, place::disk)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_frame_to_ack, shm, place::shm)->UseRealTime()->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------
// 7: the weekly status of one channel among 10k items.

const std::string status_team = "T04ACME01";
const std::string status_channel = "C07"; // one of the history channels, plus its own activity

/// A store on the disk with 10,000 items of history over 40 channels and two years (one in a
/// hundred still open), plus the target channel's 120 open items and two weeks of activity.
struct status_store {
    db_file file{place::disk};
    std::unique_ptr<sqlite_store> db;
    std::int64_t items = 0;
};
std::unique_ptr<status_store> g_status;

std::uint64_t next_random(std::uint64_t& s) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

status_store& status_fixture() {
    if (g_status) {
        return *g_status;
    }
    auto s = std::make_unique<status_store>();
    if (!s->file.ok()) {
        throw std::runtime_error("no temp dir");
    }
    s->db = std::make_unique<sqlite_store>(s->file.path());
    auto& db = *s->db;
    std::int64_t nums[4] = {0, 0, 0, 0};
    std::uint64_t seed = 0x2545f4914f6cdd1dULL;
    auto add = [&](item_kind k, std::string channel, unix_time created, unix_time closed) {
        auto r = next_random(seed);
        item it;
        it.team_id = status_team;
        it.kind = k;
        it.num = ++nums[static_cast<int>(k)];
        it.channel_id = std::move(channel);
        it.reporter = fmt::format("U{:03}", r % 300);
        it.dri = (r >> 10) % 5 == 0 ? "" : fmt::format("U{:03}", (r >> 20) % 300);
        it.title = fmt::format("{} {}: the vendor SDK upgrade needs a security review",
                               kind_name(k), it.num);
        it.created_at = created;
        it.updated_at = closed != 0 ? closed : created;
        it.closed_at = closed;
        switch (k) {
        case item_kind::blocker:
            it.severity = (r >> 30) % 3 == 0 ? "high" : "med";
            it.status = closed != 0 ? "resolved" : ((r >> 33) % 2 == 0 ? "acked" : "open");
            break;
        case item_kind::decision:
            it.status = closed != 0 ? "decided" : "proposed";
            break;
        case item_kind::risk:
            it.status = closed != 0 ? "mitigated" : "open";
            it.probability = std::string(1, 'm');
            it.impact = std::string(1, (r >> 36) % 2 == 0 ? 'h' : 'm');
            break;
        case item_kind::dep:
            it.status = closed != 0 ? "delivered" : "open";
            it.due = "2026-12-04";
            break;
        }
        db.insert_item(it);
        ++s->items;
    };
    db.transact([&] {
        constexpr int history = 10'000;
        constexpr unix_time span = 2 * 365 * day;
        for (int i = 0; i < history; ++i) {
            auto r = next_random(seed);
            auto pick = r % 20; // half blockers, then decisions, risks, deps
            auto k = pick < 10   ? item_kind::blocker
                     : pick < 14 ? item_kind::decision
                     : pick < 17 ? item_kind::risk
                                 : item_kind::dep;
            auto created = t0 - span + static_cast<unix_time>(i) * span / history;
            auto took = 3600 + static_cast<unix_time>((r >> 8) % (30 * day));
            unix_time closed = i % 100 == 0 ? 0 : std::min(created + took, t0);
            add(k, fmt::format("C{:02}", (r >> 40) % 40), created, closed);
        }
        for (int j = 0; j < 120; ++j) {
            auto k = j < 60    ? item_kind::blocker
                     : j < 85  ? item_kind::decision
                     : j < 100 ? item_kind::risk
                               : item_kind::dep;
            add(k, status_channel, t0 - 120 * day + j * day, 0);
        }
        for (unix_time start : {t0 - 2 * week, t0 - week}) {
            for (int j = 0; j < 15; ++j) {
                auto created = start + j * (week / 16);
                add(item_kind::blocker, status_channel, created, j < 9 ? created + day : 0);
            }
            for (int j = 0; j < 5; ++j) {
                add(item_kind::decision, status_channel, start + j * day,
                    start + j * day + day / 3);
            }
            add(item_kind::risk, status_channel, start + day, 0);
            add(item_kind::dep, status_channel, start + 2 * day, start + 4 * day);
        }
    });
    g_status = std::move(s);
    return *g_status;
}

void BM_build_status(benchmark::State& st) {
    try {
        auto& s = status_fixture();
        std::size_t blocks =
            build_status(*s.db, status_team, status_channel, t0, "UTC").blocks.size();
        for (auto _ : st) {
            auto w = build_status(*s.db, status_team, status_channel, t0, "UTC");
            benchmark::DoNotOptimize(w);
        }
        st.SetItemsProcessed(st.iterations());
        st.counters["store_items"] = static_cast<double>(s.items);
        st.counters["blocks"] = static_cast<double>(blocks);
    } catch (const std::exception& e) {
        st.SkipWithError(e.what());
    }
}
BENCHMARK(BM_build_status)->Unit(benchmark::kMicrosecond);

/// The weekly status as a chat.postMessage body: the largest message the bot sends.
void BM_post_message_body_status(benchmark::State& st) {
    try {
        auto& s = status_fixture();
        auto w = build_status(*s.db, status_team, status_channel, t0, "UTC");
        effect e;
        e.to = destination::channel;
        e.channel = status_channel;
        e.text = w.text;
        e.blocks = w.blocks;
        BM_post_message_body(st, e);
    } catch (const std::exception& e) {
        st.SkipWithError(e.what());
    }
}
BENCHMARK(BM_post_message_body_status)->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    int rc = 0;
    try {
        benchmark::RunSpecifiedBenchmarks();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "micro_bench: %s\n", e.what());
        rc = 1;
    }
    g_status.reset();
    remove_scratch();
    benchmark::Shutdown();
    return rc;
}
