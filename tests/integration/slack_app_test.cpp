// The bot against the in-process fake Slack over loopback: Socket Mode in, Web API out, the
// real store on a temp file. Every wait is bounded; nothing sleeps.

#include "dispatcher.hpp"
#include "router.hpp"
#include "slack_app.hpp"
#include "sqlite_store.hpp"
#include "support/fake_slack.hpp"
#include "support/faulty_vfs.hpp"
#include "support/running_bot.hpp"
#include "support/temp_dir.hpp"

#include <atomic>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <ctime>
#include <fmt/format.h>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sqlite3.h>
#include <thread>

using namespace tpmbot;
using namespace std::chrono_literals;
using test::fake_slack;
using test::scripted_reply;

namespace {

using test::running_bot;

/// A channel message left pending in the outbox of the database at `path`, as a process that
/// ended without sending it leaves it; returns its id.
std::int64_t left_pending(const std::string& path, const std::string& text, unix_time created_at) {
    sqlite_store db(path);
    effect e;
    e.to = destination::channel;
    e.channel = "C111";
    e.text = text;
    std::int64_t id = 0;
    db.transact([&] { id = db.enqueue("T111", e, created_at); });
    return id;
}

/// The message metadata the outbox posts row `id` (created at `created_at`) with.
std::string outbox_metadata(std::int64_t id, unix_time created_at) {
    return fmt::format(
        R"({{"event_type":"tpmbot_outbox","event_payload":{{"outbox_id":{},"created_at":{}}}}})",
        id, created_at);
}

} // namespace

TEST_CASE("the bot signs in, opens a connection with the app token and waits for hello",
          "[slack]") {
    running_bot bot;
    bot.start_connected();
    auto auth = bot.slack.calls("auth.test");
    REQUIRE(auth.size() == 1);
    CHECK(auth[0].authorization == "Bearer xoxb-test");
    auto open = bot.slack.calls("apps.connections.open");
    REQUIRE(open.size() == 1);
    CHECK(open[0].authorization == "Bearer xapp-1-test");
}

TEST_CASE("a slash command is committed before its ack, which carries the reply", "[slack]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-1", "blocker list"));
    REQUIRE(bot.ack_for("env-1"));
    auto acks = bot.slack.acks();
    REQUIRE(acks.size() == 1);
    CHECK(acks[0].payload.find("Open blockers") != std::string::npos);

    bot.slack.send(fake_slack::slash_envelope("env-2", "blocker waiting on the staging cert "
                                                       "<@U222> sev:high"));
    REQUIRE(bot.ack_for("env-2"));
    // Ack after commit: by the time the ack arrived the item is in the database.
    auto items = bot.items();
    REQUIRE(items.size() == 1);
    CHECK(items[0].title == "waiting on the staging cert <@U222>");
    CHECK(items[0].dri == "U222");
    CHECK(bot.acks_of("env-2") == 1);
    // The card goes to the channel, the DM to the DRI, through the Web API.
    REQUIRE(bot.posts(2));
    auto posts = bot.slack.calls("chat.postMessage");
    CHECK(param(posts[0], "channel") == "C111");
    CHECK(posts[0].authorization == "Bearer xoxb-test");
    CHECK(posts[0].content_type.find("application/json") == 0);
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.calls("conversations.open").size() == 1; }));
    // The card's ts became the item's thread.
    REQUIRE(bot.slack.wait_for([&] { return !bot.items()[0].thread_ts.empty(); }));
}

TEST_CASE("an error answers in the ack and changes nothing", "[slack]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-e", "blocker fix it sev:urgent"));
    REQUIRE(bot.ack_for("env-e"));
    CHECK(bot.slack.acks()[0].payload.find("is not a severity") != std::string::npos);
    CHECK(bot.items().empty());
}

TEST_CASE("a mention is acked, stored, and answered in its thread", "[slack]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::mention_envelope("env-m", "Ev1",
                                                "<@UBOT> blocker: waiting on legal <@U333>", "U111",
                                                "C111", "1700000000.000100"));
    REQUIRE(bot.ack_for("env-m"));
    REQUIRE(bot.posts(1));
    auto post = bot.slack.calls("chat.postMessage")[0];
    CHECK(param(post, "thread_ts") == "1700000000.000100");
    CHECK(post.body.find("waiting on legal") != std::string::npos);
    auto items = bot.items();
    REQUIRE(items.size() == 1);
    CHECK(items[0].thread_ts == "1700000000.000100");
    CHECK(items[0].dri == "U333");
}

TEST_CASE("a redelivered event is processed once", "[slack]") {
    running_bot bot;
    bot.start_connected();
    auto text = "<@UBOT> waiting on design review";
    bot.slack.send(fake_slack::mention_envelope("env-a", "EvSame", text));
    REQUIRE(bot.ack_for("env-a"));
    bot.slack.send(fake_slack::mention_envelope("env-b", "EvSame", text, "U111", "C111",
                                                "1605853844.000800", "", 1));
    REQUIRE(bot.ack_for("env-b"));
    REQUIRE(bot.posts(1));
    CHECK(bot.items().size() == 1);
    CHECK(bot.acks_of("env-a") == 1);
    CHECK(bot.acks_of("env-b") == 1);
}

TEST_CASE("the bot's own and other bots' messages are acked and ignored", "[slack]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::dm_envelope("env-own", "EvOwn", "blocker list", "UBOT"));
    bot.slack.send(
        fake_slack::dm_envelope("env-bot", "EvBot", "blocker list", "U999", "D111", "1.2", "B999"));
    bot.slack.send(fake_slack::dm_envelope("env-sub", "EvSub", "blocker list", "U111", "D111",
                                           "1.3", "", "message_changed"));
    REQUIRE(bot.ack_for("env-own"));
    REQUIRE(bot.ack_for("env-bot"));
    REQUIRE(bot.ack_for("env-sub"));
    // A real DM afterwards is answered, so the ignored ones would have been answered by now.
    bot.slack.send(fake_slack::dm_envelope("env-dm", "EvDm", "blocker list mine"));
    REQUIRE(bot.ack_for("env-dm"));
    REQUIRE(bot.posts(1));
    auto posts = bot.slack.calls("chat.postMessage");
    CHECK(posts.size() == 1);
    CHECK(param(posts[0], "channel") == "D111");
}

TEST_CASE("a button press runs its command as the presser", "[slack]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-1", "blocker vendor sandbox down"));
    REQUIRE(bot.ack_for("env-1"));
    bot.slack.send(fake_slack::action_envelope("env-2", "owner B-1 me", "U555"));
    REQUIRE(bot.ack_for("env-2"));
    REQUIRE(bot.slack.wait_for([&] {
        auto items = bot.items();
        return !items.empty() && items[0].dri == "U555";
    }));
}

TEST_CASE("malformed, binary and unknown frames do not hurt the connection", "[slack]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send("{not json");
    bot.slack.send("[1,2,3]");
    bot.slack.send_binary(std::string("\x00\x01\x02", 3));
    bot.slack.send(R"({"envelope_id":"env-u","type":"something_new","payload":{}})");
    REQUIRE(bot.ack_for("env-u"));
    bot.slack.send(fake_slack::slash_envelope("env-after", "help"));
    REQUIRE(bot.ack_for("env-after"));
    CHECK(bot.slack.connections_opened() == 1);
    CHECK(bot.logged("malformed"));
}

TEST_CASE("an oversized frame ends its connection, another is opened, nothing else is lost",
          "[slack][fault]") {
    running_bot bot;
    bot.settings.max_frame_bytes = 64 * 1024;
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-1", "blocker before the big frame"));
    REQUIRE(bot.ack_for("env-1"));
    // An envelope far larger than Slack ever sends, then an ordinary one after it.
    bot.slack.send(fake_slack::slash_envelope("env-big", "blocker " + std::string(100000, 'x')));
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.connections_opened() == 2; }));
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.connections_open() == 1; }));
    // Beast sends a close frame with 1009 ("message too big"), but the rest of the frame is
    // still unread when the socket closes, so the peer may see a reset before it: the code
    // is not checked here.
    CHECK(bot.logged("connection 1 ended"));
    bot.slack.send(fake_slack::slash_envelope("env-2", "blocker after it"));
    REQUIRE(bot.ack_for("env-2"));
    CHECK(bot.items().size() == 2);
    for (const auto& a : bot.slack.acks()) {
        CHECK(a.envelope_id != "env-big");
    }
}

TEST_CASE("a refresh under traffic opens the replacement first and loses nothing", "[slack]") {
    running_bot bot;
    bot.settings.old_connection_grace = 2s;
    bot.start_connected();
    auto id = [](int i) {
        return "env-" + std::to_string(i);
    };
    auto command = [](int i) {
        return "blocker traffic " + std::to_string(i);
    };
    for (int i = 0; i < 20; ++i) {
        bot.slack.send(fake_slack::slash_envelope(id(i), command(i)), 1);
    }
    bot.slack.disconnect("warning", 1);
    for (int i = 20; i < 40; ++i) {
        bot.slack.send(fake_slack::slash_envelope(id(i), command(i)), 1);
    }
    REQUIRE(bot.slack.wait_for([&] { return bot.logged("connected to Slack (connection 2)"); }));
    // Both are open: the old one still gets envelopes and acks them on the same connection.
    CHECK(bot.slack.connections_open() == 2);
    for (int i = 40; i < 60; ++i) {
        bot.slack.send(fake_slack::slash_envelope(id(i), command(i)), i % 2 == 0 ? 1 : 2);
    }
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.acks().size() >= 60; }));
    std::map<std::string, int> seen;
    for (const auto& a : bot.slack.acks()) {
        ++seen[a.envelope_id];
        int i = std::stoi(a.envelope_id.substr(4));
        CHECK(a.connection == (i < 40 || i % 2 == 0 ? 1 : 2));
    }
    CHECK(seen.size() == 60);
    for (const auto& [envelope, n] : seen) {
        CHECK(n == 1);
    }
    CHECK(bot.items().size() == 60);
    // The old one is closed after the grace period; one connection remains.
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.connections_open() == 1; }));
    CHECK(bot.slack.connections_opened() == 2);
}

TEST_CASE("link_disabled closes the connection and retries only after a long pause", "[slack]") {
    running_bot bot;
    bot.settings.link_disabled_backoff = 600ms;
    bot.start_connected();
    bot.slack.disconnect("link_disabled", 1);
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.connections_open() == 0; }));
    auto closed_at = std::chrono::steady_clock::now();
    REQUIRE(bot.slack.wait_for([&] { return bot.logged("connected to Slack (connection 2)"); }));
    auto opens = bot.slack.calls("apps.connections.open");
    REQUIRE(opens.size() == 2);
    CHECK(opens[1].at - closed_at >= 500ms);
    CHECK(bot.logged("Socket Mode is disabled for this app"));
}

TEST_CASE("a dropped connection is replaced at once", "[slack]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.drop(1);
    REQUIRE(bot.slack.wait_for([&] { return bot.logged("connected to Slack (connection 2)"); }));
    bot.slack.send(fake_slack::slash_envelope("env-x", "help"));
    REQUIRE(bot.ack_for("env-x"));
}

TEST_CASE("a half-open connection is detected and replaced", "[slack]") {
    running_bot bot;
    bot.start_connected();
    // idle_timeout is 2 s here: a quiet but healthy connection gets our ping after 1 s.
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.pings_received() >= 1; }));
    CHECK(bot.slack.connections_opened() == 1);
    // A connection that stops answering is given up within idle_timeout and replaced.
    bot.slack.go_silent(1);
    auto silent_at = std::chrono::steady_clock::now();
    REQUIRE(
        bot.slack.wait_for([&] { return bot.logged("connected to Slack (connection 2)"); }, 8s));
    CHECK(std::chrono::steady_clock::now() - silent_at < 5s);
}

TEST_CASE("a 429 delays a post and never drops it", "[slack]") {
    running_bot bot;
    bot.slack.script("chat.postMessage", {429, R"({"ok":false,"error":"ratelimited"})", 1});
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-1", "blocker one"));
    REQUIRE(bot.ack_for("env-1"));
    REQUIRE(bot.posts(2, "chat.postMessage"));
    auto posts = bot.slack.calls("chat.postMessage");
    auto waited = posts[1].at - posts[0].at;
    CHECK(waited >= 900ms); // Retry-After: 1
    REQUIRE(bot.slack.wait_for([&] { return !bot.items()[0].thread_ts.empty(); }));
}

TEST_CASE("transient failures are retried, a permanent one is recorded, not retried", "[slack]") {
    running_bot bot;
    bot.slack.script("chat.postMessage", {500, "oops", 0});
    bot.slack.script("chat.postMessage", {200, R"({"ok":false,"error":"internal_error"})", 0});
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-1", "blocker one"));
    REQUIRE(bot.posts(3));
    REQUIRE(bot.slack.wait_for([&] { return !bot.items()[0].thread_ts.empty(); }));

    bot.slack.script("chat.postMessage", {200, R"({"ok":false,"error":"channel_not_found"})", 0});
    bot.slack.send(fake_slack::slash_envelope("env-2", "blocker two"));
    REQUIRE(bot.slack.wait_for([&] { return bot.logged("channel_not_found"); }));
    // The refused card is not tried again; its reporter is told instead (a DM, the 5th post).
    REQUIRE(bot.posts(5));
    sqlite_store look(bot.path);
    REQUIRE(bot.slack.wait_for([&] { return look.pending(10).empty(); }));
    CHECK(look.outbox(2)->state == "failed");
    auto posts = bot.slack.calls("chat.postMessage");
    CHECK(posts.size() == 5);
    CHECK(param(posts.back(), "channel") == "D111");
    CHECK(param(posts.back(), "text").find("I could not post the card of *B-2*") !=
          std::string::npos);
}

TEST_CASE("a post whose answer was lost is found in the channel and not posted again",
          "[slack][outbox]") {
    running_bot bot;
    // Slack posts it, but the answer never comes back as Slack's (a proxy's 502).
    scripted_reply lost{502, "bad gateway", 0};
    lost.perform = true;
    bot.slack.script("chat.postMessage", lost);
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-1", "blocker one"));
    REQUIRE(bot.ack_for("env-1"));
    sqlite_store look(bot.path);
    REQUIRE(bot.slack.wait_for([&] { return look.pending(10).empty(); }));

    auto posts = bot.slack.calls("chat.postMessage");
    REQUIRE(posts.size() == 1);
    // Posted with the outbox row it delivers, which is how it was found.
    auto metadata = boost::json::parse(param(posts[0], "metadata")).as_object();
    CHECK(metadata.at("event_type") == "tpmbot_outbox");
    CHECK(metadata.at("event_payload").at("outbox_id") == 1);
    auto searched = bot.slack.calls("conversations.history");
    REQUIRE(searched.size() == 1);
    CHECK(param(searched[0], "channel") == "C111");
    CHECK(param(searched[0], "include_all_metadata") == "true");
    CHECK(bot.logged("message 1 was already in C111"));
    // The card's ts is the one Slack gave the post: the item's thread is that message.
    auto row = look.outbox(1);
    REQUIRE(row);
    CHECK(row->state == "sent");
    CHECK_FALSE(row->unsure);
    CHECK(row->ts != "");
    CHECK(bot.items()[0].thread_ts == row->ts);
}

TEST_CASE("after a crash, pending messages are looked for, one search per conversation",
          "[slack][outbox]") {
    test::temp_dir dir;
    auto path = dir.file("bot.db").string();
    // What a killed process leaves: pending rows and no record of a clean stop.
    auto there = left_pending(path, "posted, then the process was killed before its mark", 1000);
    auto lost = left_pending(path, "killed before it reached Slack", 1001);
    auto after = left_pending(path, "queued behind them", 1002);
    running_bot bot({}, path);
    auto ts = bot.slack.add_message("C111", "posted, then the process was killed before its mark",
                                    outbox_metadata(there, 1000));
    // Another deployment's row with the same id but another creation time is not ours.
    bot.slack.add_message("C111", "someone else's", outbox_metadata(lost, 7));
    bot.start_connected();
    sqlite_store look(path);
    REQUIRE(bot.slack.wait_for([&] { return look.pending(10).empty(); }));
    auto posts = bot.slack.calls("chat.postMessage");
    REQUIRE(posts.size() == 2);
    CHECK(param(posts[0], "text") == "killed before it reached Slack");
    CHECK(param(posts[1], "text") == "queued behind them");
    auto searches = bot.slack.calls("conversations.history");
    REQUIRE(searches.size() == 1);
    CHECK(param(searches[0], "oldest") == "940.000000"); // a minute before the oldest row
    CHECK(look.outbox(there)->ts == ts);
    CHECK(look.outbox(lost)->state == "sent");
    CHECK(look.outbox(after)->state == "sent");
    CHECK(bot.logged("the last run did not stop cleanly; 3 message(s)"));

    // A message made by this process is not searched for.
    bot.slack.send(fake_slack::slash_envelope("env-1", "blocker one"));
    REQUIRE(bot.posts(3));
    CHECK(bot.slack.calls("conversations.history").size() == 1);
}

TEST_CASE("a message not yet looked for when the bot stops is looked for at the next start",
          "[slack][outbox]") {
    test::temp_dir dir;
    auto path = dir.file("bot.db").string();
    auto id = left_pending(path, "posted before a crash", 1000); // and no clean stop
    {
        running_bot bot({}, path);
        bot.slack.script("conversations.history", {429, "", 30}); // the search must wait
        bot.start_connected();
        REQUIRE(
            bot.slack.wait_for([&] { return bot.slack.call_count("conversations.history") == 1; }));
    } // a clean stop, with the message still not looked for
    running_bot again({}, path);
    auto ts = again.slack.add_message("C111", "posted before a crash", outbox_metadata(id, 1000));
    again.start_connected();
    REQUIRE(again.slack.wait_for([&] { return sqlite_store(path).pending(10).empty(); }));
    CHECK(again.slack.calls("chat.postMessage").empty());
    CHECK(sqlite_store(path).outbox(id)->ts == ts);
}

TEST_CASE("after a clean stop, pending messages are posted without a search", "[slack][outbox]") {
    test::temp_dir dir;
    auto path = dir.file("bot.db").string();
    {
        running_bot bot({}, path);
        bot.start_connected();
        bot.slack.send(fake_slack::slash_envelope("env-1", "blocker one"));
        REQUIRE(bot.posts(1));
        REQUIRE(bot.slack.wait_for([&] { return sqlite_store(path).pending(10).empty(); }));
    } // stopped: its sender records the clean stop
    // The lease is released: "<owner> <when> 1".
    auto released = sqlite_store(path).setting("", "outbox.sender");
    REQUIRE(released);
    CHECK(released->ends_with(" 1"));
    left_pending(path, "queued while it was stopped", 2000);
    running_bot again({}, path);
    again.start_connected();
    REQUIRE(again.posts(1));
    CHECK(again.slack.calls("conversations.history").empty());
    auto held = sqlite_store(path).setting("", "outbox.sender"); // held until it stops
    REQUIRE(held);
    CHECK(held->ends_with(" 0"));
    CHECK(*held != *released);
}

TEST_CASE("a conversation that cannot be searched gets the message again, said in the log",
          "[slack][outbox]") {
    test::temp_dir dir;
    auto path = dir.file("bot.db").string();
    left_pending(path, "maybe posted", 1000);
    running_bot bot({}, path);
    bot.slack.script("conversations.history", {200, R"({"ok":false,"error":"missing_scope"})", 0});
    bot.start_connected();
    REQUIRE(bot.posts(1));
    REQUIRE(bot.slack.wait_for([&] { return sqlite_store(path).pending(10).empty(); }));
    CHECK(bot.logged("cannot search C111 for messages that may have been posted already "
                     "(missing_scope); posting them again"));
}

TEST_CASE("a search that Slack rate-limits waits and is tried again, never posting blind",
          "[slack][outbox]") {
    test::temp_dir dir;
    auto path = dir.file("bot.db").string();
    auto id = left_pending(path, "maybe posted", 1000);
    running_bot bot({}, path);
    auto ts = bot.slack.add_message("C111", "maybe posted", outbox_metadata(id, 1000));
    bot.slack.script("conversations.history", {429, "", 1});
    bot.start_connected();
    REQUIRE(bot.slack.wait_for([&] { return sqlite_store(path).pending(10).empty(); }));
    CHECK(bot.slack.calls("conversations.history").size() == 2);
    CHECK(bot.slack.calls("chat.postMessage").empty());
    CHECK(sqlite_store(path).outbox(id)->ts == ts);
}

TEST_CASE("a full disk: nothing is acked as done, the log says why, and all resumes after",
          "[slack][fault]") {
    test::faulty_vfs disk; // before the bot opens its database
    disk.error = GENERATE(SQLITE_FULL, SQLITE_IOERR_WRITE, SQLITE_READONLY);
    INFO("a write answers " << sqlite3_errstr(disk.error));
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-1", "blocker before the disk filled"));
    REQUIRE(bot.ack_for("env-1"));
    REQUIRE(bot.posts(1));

    disk.full = true;
    bot.slack.send(fake_slack::slash_envelope("env-2", "blocker while the disk is full"));
    REQUIRE(bot.ack_for("env-2"));
    bot.slack.send(fake_slack::mention_envelope("env-3", "EvFull", "<@UBOT> event while full",
                                                "U111", "C111", "1700000000.000300"));
    REQUIRE(bot.slack.wait_for([&] { return bot.logged("could not store event EvFull"); }));
    auto acks = bot.slack.acks();
    std::string answer;
    for (const auto& a : acks) {
        if (a.envelope_id == "env-2") {
            answer = a.payload;
        }
        CHECK(a.envelope_id != "env-3"); // not acked: Slack sends it again
    }
    CHECK_THAT(answer, Catch::Contains("could not save this: its database cannot be written"));
    CHECK(bot.logged("(the database cannot be written)"));
    CHECK(disk.refused > 0);

    disk.full = false;
    // Slack's retry of the event, then a new command: both go through.
    bot.slack.send(fake_slack::mention_envelope("env-4", "EvFull", "<@UBOT> event while full",
                                                "U111", "C111", "1700000000.000300", "", 1));
    REQUIRE(bot.ack_for("env-4"));
    bot.slack.send(fake_slack::slash_envelope("env-5", "blocker after space returned"));
    REQUIRE(bot.ack_for("env-5"));
    REQUIRE(bot.slack.wait_for([&] { return bot.items().size() == 3; }));
    std::set<std::string> titles;
    for (const auto& it : bot.items()) {
        titles.insert(it.title);
    }
    CHECK(titles == std::set<std::string>{"before the disk filled", "event while full",
                                          "after space returned"});
    sqlite_store look(bot.path);
    REQUIRE(bot.slack.wait_for([&] { return look.pending(10).empty(); }));
    CHECK(bot.slack.calls("chat.postMessage").size() == 3);
}

TEST_CASE("an invalid app token stops the bot with a clear message", "[slack]") {
    fake_slack::options o;
    o.app_token = "xapp-other";
    running_bot bot(o);
    bot.start();
    REQUIRE(bot.slack.wait_for([&] { return bot.exit_code.load() == 1; }));
    CHECK(bot.logged("Slack refused SLACK_APP_TOKEN (invalid_auth)"));
    CHECK(bot.slack.calls("apps.connections.open").size() == 1);
}

TEST_CASE("an invalid bot token stops the bot before connecting", "[slack]") {
    fake_slack::options o;
    o.bot_token = "xoxb-other";
    running_bot bot(o);
    bot.start();
    REQUIRE(bot.slack.wait_for([&] { return bot.exit_code.load() == 1; }));
    CHECK(bot.logged("Slack refused SLACK_BOT_TOKEN"));
    CHECK(bot.slack.calls("apps.connections.open").empty());
}

TEST_CASE("a failing apps.connections.open is retried with backoff", "[slack]") {
    running_bot bot;
    bot.slack.script("apps.connections.open", {200, R"({"ok":false,"error":"internal_error"})", 0});
    bot.slack.script("apps.connections.open", {429, R"({"ok":false,"error":"ratelimited"})", 1});
    bot.start();
    REQUIRE(bot.slack.wait_for([&] { return bot.logged("connected to Slack"); }, 6s));
    auto opens = bot.slack.calls("apps.connections.open");
    REQUIRE(opens.size() == 3);
    CHECK(opens[2].at - opens[1].at >= 900ms); // honoured Retry-After: 1
}

TEST_CASE("too_many_websockets closes that socket and keeps one connection", "[slack]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.disconnect("too_many_websockets", 1);
    REQUIRE(bot.slack.wait_for([&] { return bot.logged("connected to Slack (connection 2)"); }));
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.connections_open() == 1; }));
}

TEST_CASE("an event persisted but not processed is processed at the next start", "[slack]") {
    test::temp_dir dir;
    auto path = dir.file("bot.db").string();
    {
        sqlite_store db(path);
        inbox_row row;
        row.event_id = "EvLeft";
        row.team_id = "T111";
        row.payload =
            R"({"team_id":"T111","type":"event_callback","event_id":"EvLeft","event_time":1,)"
            R"("event":{"type":"app_mention","user":"U111","text":"<@UBOT> left over",)"
            R"("ts":"1.1","channel":"C111","event_ts":"1.1"}})";
        row.received_at = 1;
        db.transact([&] { db.inbox_put(row); });
    }
    running_bot bot({}, path);
    bot.start_connected();
    REQUIRE(bot.posts(1));
    CHECK(bot.items().size() == 1);
    sqlite_store look(path);
    CHECK(look.inbox_unprocessed(10).empty());
}

TEST_CASE("users.info gives the caller's zone and Slack admin flag, asked once", "[slack]") {
    running_bot bot;
    bot.slack.script("users.info",
                     {200,
                      R"({"ok":true,"user":{"id":"U111","tz":"Asia/Kolkata","is_admin":false,)"
                      R"("is_owner":true,"deleted":false}})",
                      0});
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-1", "config admins <@U222>"));
    REQUIRE(bot.ack_for("env-1"));
    // A workspace owner is a tpmbot admin (SPEC §8), so the admin-only command went through.
    CHECK(bot.slack.acks()[0].payload.find("are now tpmbot admins") != std::string::npos);
    auto lookups = bot.slack.calls("users.info");
    REQUIRE(lookups.size() == 1);
    CHECK(lookups[0].content_type.find("application/x-www-form-urlencoded") == 0);
    CHECK(param(lookups[0], "user") == "U111");
    sqlite_store look(bot.path);
    auto u = look.find_user("T111", "U111");
    REQUIRE(u);
    CHECK(u->tz == "Asia/Kolkata");
    CHECK(u->is_admin);
    // Known now: the next command does not ask again.
    bot.slack.send(fake_slack::slash_envelope("env-2", "help"));
    REQUIRE(bot.ack_for("env-2"));
    CHECK(bot.slack.calls("users.info").size() == 1);
    // Someone else is looked up, and is no admin.
    bot.slack.send(fake_slack::slash_envelope("env-3", "config admins <@U333>", "U444"));
    REQUIRE(bot.ack_for("env-3"));
    CHECK(bot.slack.acks()[2].payload.find("Only an admin") != std::string::npos);
}

TEST_CASE("a caller last looked up days ago is looked up again once, after the acks", "[slack]") {
    test::temp_dir dir;
    auto path = dir.file("bot.db").string();
    {
        sqlite_store db(path);
        auto three_days_ago = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count() -
                              3 * 24 * 3600;
        db.transact(
            [&] { db.set_user_info("T111", "U111", "Europe/Paris", false, three_days_ago); });
    }
    running_bot bot({}, path);
    bot.slack.script("users.info", {200, "", 0, 300ms}); // the refresh answers late
    bot.start_connected();
    constexpr int n = 20;
    for (int i = 1; i <= n; ++i) {
        bot.slack.send(fake_slack::slash_envelope("env-" + std::to_string(i), "help"));
    }
    // The acks do not wait for the refresh...
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.acks().size() == n; }));
    for (const auto& a : bot.slack.acks()) {
        CHECK(a.latency_ms < 250);
    }
    // ...which happens once, however many commands came meanwhile.
    REQUIRE(bot.slack.wait_for([&] {
        sqlite_store look(bot.path);
        auto u = look.find_user("T111", "U111");
        return u && u->tz == "Europe/Berlin"; // the fake's answer for anyone unscripted
    }));
    bot.slack.send(fake_slack::slash_envelope("env-last", "help"));
    REQUIRE(bot.ack_for("env-last"));
    CHECK(bot.slack.calls("users.info").size() == 1);
}

TEST_CASE("messages left in the outbox are delivered at the next start, once", "[slack]") {
    test::temp_dir dir;
    auto path = dir.file("bot.db").string();
    left_pending(path, "written before a crash, not yet sent", 1);
    {
        running_bot bot({}, path);
        bot.start_connected();
        REQUIRE(bot.posts(1));
        CHECK(bot.slack.calls("chat.postMessage")[0].body.find("written before a crash") !=
              std::string::npos);
        REQUIRE(bot.slack.wait_for([&] { return sqlite_store(path).pending(10).empty(); }));
    }
    running_bot again({}, path);
    again.start_connected();
    again.slack.send(fake_slack::slash_envelope("env-1", "help"));
    REQUIRE(again.ack_for("env-1"));
    CHECK(again.slack.calls("chat.postMessage").empty());
}

TEST_CASE("an event's work does not hold up the ack of the next frame", "[slack]") {
    running_bot bot;
    bot.start_connected();
    // The slash command's caller is known already, so the only lookup below is the one for
    // the mention's author, which answers late.
    bot.slack.send(fake_slack::slash_envelope("env-0", "help", "U888"));
    REQUIRE(bot.ack_for("env-0"));
    bot.slack.script("users.info", {200, "", 0, 1500ms});
    bot.slack.send(
        fake_slack::mention_envelope("env-m", "EvSlow", "<@UBOT> waiting on review", "U777"));
    bot.slack.send(fake_slack::slash_envelope("env-s", "help", "U888"));
    REQUIRE(bot.ack_for("env-s"));
    REQUIRE(bot.ack_for("env-m"));
    for (const auto& a : bot.slack.acks()) {
        INFO(a.envelope_id << " acked after " << a.latency_ms << " ms");
        CHECK(a.latency_ms < 1200); // neither waited for the slow lookup
    }
    REQUIRE(bot.posts(1)); // the mention's card, once its lookup answered
}

TEST_CASE("an unreadable envelope is still acked", "[slack]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send(R"({"envelope_id":"env-bad","type":"events_api","payload":"notanobject"})");
    REQUIRE(bot.ack_for("env-bad"));
    CHECK(bot.slack.wait_for([&] { return bot.logged("malformed") > 0; }));
}

TEST_CASE("a rate-limited channel's backlog does not hold up other channels", "[slack]") {
    test::temp_dir dir;
    auto path = dir.file("bot.db").string();
    {
        sqlite_store db(path);
        db.transact([&] {
            effect e;
            e.to = destination::channel;
            for (int i = 0; i < 250; ++i) { // more than one page of the queue
                e.channel = "CBUSY";
                e.text = "backlog " + std::to_string(i);
                db.enqueue("T111", e, 1);
            }
            e.channel = "CQUIET";
            e.text = "for another channel";
            db.enqueue("T111", e, 1);
        });
    }
    running_bot bot({}, path);
    bot.slack.script("chat.postMessage", {429, "", 2});
    bot.start_connected();
    REQUIRE(bot.posts(2));
    auto posts = bot.slack.calls("chat.postMessage");
    CHECK(param(posts[0], "channel") == "CBUSY");  // answered 429: CBUSY waits 2 s
    CHECK(param(posts[1], "channel") == "CQUIET"); // found past the first page, sent at once
    CHECK(posts[1].at - posts[0].at < 1500ms);
}

TEST_CASE("stopping lets a delivery in flight finish and be recorded", "[slack]") {
    running_bot bot;
    bot.slack.script("chat.postMessage", {200, "", 0, 400ms}); // a slow but successful post
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-1", "blocker one"));
    REQUIRE(bot.posts(1)); // the request has reached Slack; its answer is 400 ms away
    bot.app->stop();
    bot.thread.join();
    CHECK(bot.exit_code == 0);
    sqlite_store look(bot.path);
    CHECK(look.pending(10).empty()); // recorded as sent: the next start will not repeat it
    CHECK_FALSE(look.outbox(1)->ts.empty());
}

TEST_CASE("a burst of commands is committed together, and each ack answers its own command",
          "[slack][group-commit]") {
    running_bot bot;
    // The first command's caller is new: the bot asks users.info, which answers late, so the
    // burst behind it is all waiting in the socket when the bot reads again.
    bot.slack.script("users.info", {200, "", 0, 500ms});
    bot.start_connected();
    auto before = bot.app->stats();
    bot.slack.send(fake_slack::slash_envelope("env-0", "blocker the first one"));
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.calls("users.info").size() == 1; }));
    constexpr int burst = 50;
    for (int i = 1; i <= burst; ++i) {
        auto text = i == 25 ? std::string("resolve B-999") : "blocker burst " + std::to_string(i);
        bot.slack.send(fake_slack::slash_envelope("env-" + std::to_string(i), text));
    }
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.acks().size() == burst + 1; }, 10s));
    for (const auto& a : bot.slack.acks()) {
        INFO(a.envelope_id << ": " << a.payload);
        CHECK(bot.acks_of(a.envelope_id) == 1);
        // The refused command got its own answer; it took nobody else's work with it.
        bool refused = a.envelope_id == "env-25";
        CHECK((a.payload.find("There is no B-999") != std::string::npos) == refused);
    }
    auto items = bot.items();
    REQUIRE(items.size() == burst); // the first one and 49 of the burst
    std::set<std::int64_t> numbers;
    for (const auto& it : items) {
        numbers.insert(it.num);
    }
    CHECK(numbers.size() == burst);
    CHECK(*numbers.rbegin() == burst);
    auto after = bot.app->stats();
    CHECK(after.frames_committed - before.frames_committed == burst + 1);
    // Read while they waited in the socket: a few transactions, not one per command.
    CHECK(after.group_commits - before.group_commits <= 4);
    REQUIRE(bot.posts(burst, "chat.postMessage"));
}

TEST_CASE("posts to different channels go out side by side, one at a time within a channel",
          "[slack][outbox]") {
    running_bot bot;
    // The first post (in C1) is answered a second late.
    bot.slack.script("chat.postMessage", {200, "", 0, 1000ms});
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-1", "blocker c1 first", "U111", "C1"));
    REQUIRE(bot.posts(1));
    bot.slack.send(fake_slack::slash_envelope("env-2", "blocker c1 second", "U111", "C1"));
    bot.slack.send(fake_slack::slash_envelope("env-3", "blocker c2 only", "U111", "C2"));
    bot.slack.send(fake_slack::slash_envelope("env-4", "blocker c1 third", "U111", "C1"));
    REQUIRE(bot.posts(4));
    auto posts = bot.slack.calls("chat.postMessage");
    std::vector<test::api_call> c1;
    std::optional<test::api_call> c2;
    for (const auto& p : posts) {
        (param(p, "channel") == "C1" ? c1.push_back(p) : void(c2 = p));
    }
    REQUIRE(c1.size() == 3);
    REQUIRE(c2);
    // C2 did not wait for C1's slow answer...
    CHECK(c2->at - c1[0].at < 800ms);
    // ...but C1's next message did, and C1's messages arrived in the order written.
    CHECK(c1[1].at - c1[0].at >= 1000ms);
    CHECK(param(c1[0], "text").find("c1 first") != std::string::npos);
    CHECK(param(c1[1], "text").find("c1 second") != std::string::npos);
    CHECK(param(c1[2], "text").find("c1 third") != std::string::npos);
}

TEST_CASE("events beyond the queue's bound wait in the store and are each processed once",
          "[slack][events]") {
    running_bot bot;
    bot.settings.max_queued_events = 3;
    // The first event's author is new, and users.info answers late: meanwhile the rest
    // arrive, are stored and acked, and overflow the queue.
    bot.slack.script("users.info", {200, "", 0, 300ms});
    bot.start_connected();
    constexpr int n = 30;
    for (int i = 1; i <= n; ++i) {
        auto id = std::to_string(i);
        bot.slack.send(fake_slack::mention_envelope("env-" + id, "Ev" + id,
                                                    "<@UBOT> waiting on review " + id));
    }
    REQUIRE(bot.slack.wait_for([&] { return bot.slack.acks().size() == n; }, 10s));
    REQUIRE(bot.slack.wait_for([&] { return bot.items().size() == n; }, 20s));
    CHECK(bot.logged("events arrive faster than they are processed") >= 1);
    std::set<std::string> titles;
    for (const auto& it : bot.items()) {
        titles.insert(it.title);
    }
    CHECK(titles.size() == n); // each event became one item
    REQUIRE(bot.posts(n));
    sqlite_store look(bot.path);
    CHECK(look.inbox_unprocessed(100).empty());
}
