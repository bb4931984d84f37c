// Interactivity against the in-process fake Slack: buttons act on an item and its card is
// replaced in place (chat.update, with the channel and ts its post was given); a refusal is
// ephemeral and leaves the card alone. Every wait is bounded; nothing sleeps.

#include "scheduler.hpp"
#include "support/fake_slack.hpp"
#include "support/faulty_vfs.hpp"
#include "support/running_bot.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

using namespace tpmbot;
using test::fake_slack;
using test::param;
using test::running_bot;

namespace {

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

/// Records a blocker owned by U333 and waits until its card is posted; returns the card's ts.
std::string carded_blocker(running_bot& bot) {
    bot.slack.send(fake_slack::slash_envelope("env-new", "blocker cert expired <@U333>"));
    REQUIRE(bot.ack_for("env-new"));
    REQUIRE(bot.slack.wait_for([&] {
        auto items = bot.items();
        return items.size() == 1 && !items[0].thread_ts.empty();
    }));
    auto card = bot.slack.calls("chat.postMessage").at(0);
    CHECK(has(param(card, "blocks"), "blocker B-1 ack"));
    return bot.items()[0].thread_ts;
}

} // namespace

TEST_CASE("a card's button acts on the item and the card is replaced in place",
          "[slack][buttons]") {
    running_bot bot;
    bot.start_connected();
    auto card_ts = carded_blocker(bot);

    // Slack's block_actions payload, pressed by the DRI on the card's message.
    bot.slack.send(
        fake_slack::action_envelope("env-ack", "blocker B-1 ack", "U333", "C111", card_ts));
    REQUIRE(bot.ack_for("env-ack"));
    REQUIRE(bot.posts(1, "chat.update"));
    auto update = bot.slack.calls("chat.update").at(0);
    CHECK(param(update, "channel") == "C111");
    CHECK(param(update, "ts") == card_ts);
    CHECK(has(param(update, "text"), "Status: :large_yellow_circle: acked"));
    auto blocks = param(update, "blocks");
    CHECK_FALSE(has(blocks, "blocker B-1 ack")); // acked: no Ack button any more
    CHECK(has(blocks, "blocker B-1 resolve"));
    CHECK(has(blocks, "blocker B-1 snooze"));
    CHECK(bot.items()[0].status == "acked");
    // The thread hears of it too.
    REQUIRE(bot.slack.wait_for([&] {
        for (const auto& p : bot.slack.calls("chat.postMessage")) {
            if (has(param(p, "text"), "acked by <@U333>")) {
                return param(p, "thread_ts") == card_ts;
            }
        }
        return false;
    }));

    // Resolve: the card loses its buttons (an empty blocks array would keep none; the card's
    // text blocks stay and no actions block is left).
    bot.slack.send(
        fake_slack::action_envelope("env-res", "blocker B-1 resolve", "U333", "C111", card_ts));
    REQUIRE(bot.ack_for("env-res"));
    REQUIRE(bot.posts(2, "chat.update"));
    auto closed = bot.slack.calls("chat.update").at(1);
    CHECK(param(closed, "ts") == card_ts);
    CHECK(has(param(closed, "text"), "resolved"));
    CHECK_FALSE(has(param(closed, "blocks"), "\"actions\""));
}

TEST_CASE("a button pressed by someone without permission is refused ephemerally and the card "
          "is unchanged",
          "[slack][buttons]") {
    running_bot bot;
    bot.start_connected();
    auto card_ts = carded_blocker(bot);

    bot.slack.send(
        fake_slack::action_envelope("env-no", "blocker B-1 resolve", "U999", "C111", card_ts));
    REQUIRE(bot.ack_for("env-no"));
    REQUIRE(bot.posts(1, "chat.postEphemeral"));
    auto refusal = bot.slack.calls("chat.postEphemeral").at(0);
    CHECK(param(refusal, "user") == "U999");
    CHECK(param(refusal, "channel") == "C111");
    CHECK(has(param(refusal, "text"), "Only the DRI (<@U333>), the reporter (<@U111>) or an "
                                      "admin can mark B-1 resolved"));
    CHECK(bot.items()[0].status == "open");

    // A later change by the DRI is the next thing that touches the card: no update came
    // before it.
    bot.slack.send(
        fake_slack::action_envelope("env-ok", "blocker B-1 ack", "U333", "C111", card_ts));
    REQUIRE(bot.ack_for("env-ok"));
    REQUIRE(bot.posts(1, "chat.update"));
    CHECK(bot.slack.calls("chat.update").size() == 1);
    CHECK(has(param(bot.slack.calls("chat.update").at(0), "text"), "acked"));
}

TEST_CASE("Take ownership (refused to a bystander) and Snooze from a card", "[slack][buttons]") {
    running_bot bot;
    bot.start_connected();
    auto card_ts = carded_blocker(bot);

    bot.slack.send(fake_slack::action_envelope("env-own", "owner B-1 me", "U444", "C111", card_ts));
    REQUIRE(bot.ack_for("env-own"));
    // U444 is not the DRI, the reporter or an admin: reassigning B-1 from U333 is refused.
    REQUIRE(bot.posts(1, "chat.postEphemeral"));
    CHECK(bot.items()[0].dri == "U333");

    bot.slack.send(
        fake_slack::action_envelope("env-zz", "blocker B-1 snooze", "U333", "C111", card_ts));
    REQUIRE(bot.ack_for("env-zz"));
    REQUIRE(bot.posts(1, "chat.update"));
    auto update = bot.slack.calls("chat.update").at(0);
    CHECK(param(update, "ts") == card_ts);
    CHECK(has(param(update, "text"), ":zzz: snoozed until"));
    CHECK(bot.items()[0].snoozed_until > 0);
}

TEST_CASE("an item whose card Slack refused: its reporter is told, and it gets no chat.update",
          "[slack][buttons]") {
    running_bot bot;
    // Slack refuses the card for good (the bot cannot post in that channel).
    bot.slack.script("chat.postMessage", {200, R"({"ok":false,"error":"channel_not_found"})"});
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-b", "blocker cert expired"));
    REQUIRE(bot.ack_for("env-b"));
    bot.slack.send(fake_slack::slash_envelope("env-a", "blocker B-1 ack"));
    REQUIRE(bot.ack_for("env-a"));
    REQUIRE(bot.slack.wait_for([&] { return bot.outbox_empty(); }));
    CHECK(bot.items()[0].status == "acked");
    CHECK(bot.slack.calls("chat.update").empty());
    CHECK(bot.logged("card:B-1 was never posted; there is nothing to update") == 1);
    // The reporter (U111) hears where the blocker is and how to let the bot in, once.
    auto notes = [&] {
        std::vector<test::api_call> out;
        for (const auto& p : bot.slack.calls("chat.postMessage")) {
            if (has(param(p, "text"), "I could not post the card of *B-1* cert expired in "
                                      "<#C111> (Slack said channel_not_found)")) {
                out.push_back(p);
            }
        }
        return out;
    };
    REQUIRE(bot.slack.wait_for([&] { return !notes().empty(); }));
    REQUIRE(bot.slack.wait_for([&] { return bot.outbox_empty(); }));
    auto told = notes();
    REQUIRE(told.size() == 1);
    CHECK(param(told[0], "channel") == "D111");
    CHECK(has(param(told[0], "text"), "`/tpm blocker B-1` shows it"));
}

TEST_CASE("a decision poll: votes by button update the poll and the card in place",
          "[slack][poll]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope(
        "env-d", "decision \"Ship behind a flag?\" dri:<@U111> options:\"flag\"|\"wait\""));
    REQUIRE(bot.ack_for("env-d"));
    REQUIRE(bot.slack.wait_for([&] {
        auto items = bot.items();
        return items.size() == 1 && !items[0].thread_ts.empty();
    }));
    auto card_ts = bot.items()[0].thread_ts;

    bot.slack.send(fake_slack::slash_envelope("env-p", "decision D-1 poll"));
    REQUIRE(bot.ack_for("env-p"));
    REQUIRE(bot.posts(2));
    auto poll = bot.slack.calls("chat.postMessage").at(1);
    CHECK(param(poll, "thread_ts") == card_ts);
    CHECK(has(param(poll, "blocks"), "decision D-1 vote 2"));
    // `poll` also replaced the card (its poll line). The poll's own ts, as Slack gave it:
    REQUIRE(bot.posts(1, "chat.update"));
    std::string poll_ts;
    REQUIRE(bot.slack.wait_for([&] {
        auto where = bot.post_of("poll:D-1");
        if (where) {
            poll_ts = where->second;
        }
        return where.has_value();
    }));
    CHECK(poll_ts != card_ts);

    bot.slack.send(
        fake_slack::action_envelope("env-v", "decision D-1 vote 2", "U555", "C111", poll_ts));
    REQUIRE(bot.ack_for("env-v"));
    REQUIRE(bot.posts(3, "chat.update"));
    auto updates = bot.slack.calls("chat.update");
    bool poll_updated = false;
    bool card_updated = false;
    for (std::size_t i = 1; i < updates.size(); ++i) {
        const auto& u = updates[i];
        if (param(u, "ts") == poll_ts) {
            poll_updated = has(param(u, "text"), "2. wait — 1 vote: <@U555>");
        }
        if (param(u, "ts") == card_ts) {
            card_updated = has(param(u, "text"), "Poll: 1. flag 0 · 2. wait 1");
        }
    }
    CHECK(poll_updated);
    CHECK(card_updated);
    REQUIRE(bot.posts(1, "chat.postEphemeral"));
    auto told = bot.slack.calls("chat.postEphemeral").at(0);
    CHECK(param(told, "user") == "U555");
    CHECK(has(param(told, "text"), "You voted for 2. wait on D-1"));
}

TEST_CASE("replacements of one post waiting behind a slow one collapse into the newest",
          "[slack][poll]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope(
        "env-d", "decision \"Ship behind a flag?\" dri:<@U111> options:\"flag\"|\"wait\""));
    REQUIRE(bot.ack_for("env-d"));
    bot.slack.send(fake_slack::slash_envelope("env-p", "decision D-1 poll"));
    REQUIRE(bot.ack_for("env-p"));
    REQUIRE(bot.posts(1, "chat.update")); // the card's poll line
    REQUIRE(bot.slack.wait_for([&] { return bot.outbox_empty(); }));
    // The next update answers slowly; meanwhile five votes queue ten replacements.
    bot.slack.script("chat.update", {200, "", 0, std::chrono::milliseconds(1000)});
    for (int i = 1; i <= 5; ++i) {
        auto id = "env-v" + std::to_string(i);
        bot.slack.send(
            fake_slack::slash_envelope(id, "decision D-1 vote 1", "U50" + std::to_string(i)));
        REQUIRE(bot.ack_for(id));
    }
    REQUIRE(bot.slack.wait_for([&] { return bot.outbox_empty(); }));
    auto updates = bot.slack.calls("chat.update");
    // The card's update of `poll`, then: the first vote's poll update (slow), and behind it
    // only the newest of each post: at most four calls, not eleven.
    CHECK(updates.size() <= 4);
    bool final_poll = false;
    for (const auto& u : updates) {
        final_poll = final_poll || has(param(u, "text"), "1. flag — 5 votes");
    }
    CHECK(final_poll);
}

TEST_CASE("a poll closes at the end of the decide-by day: the poll shows the result and the DRI "
          "is told by DM",
          "[slack][poll]") {
    /// Wed 2030-01-09 12:00 UTC, and Sat 2030-01-12 00:00 UTC (after Thursday the 10th
    /// ends in any zone).
    constexpr unix_time before = 1894190400;
    constexpr unix_time after = 1894406400;
    auto clock = std::make_shared<manual_clock>(before);
    running_bot bot;
    bot.settings.clock = clock;
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope(
        "env-d",
        "decision \"Ship behind a flag?\" by:2030-01-10 dri:<@U333> options:\"flag\"|\"wait\""));
    REQUIRE(bot.ack_for("env-d"));
    bot.slack.send(fake_slack::slash_envelope("env-p", "decision D-1 poll", "U333"));
    REQUIRE(bot.ack_for("env-p"));
    bot.slack.send(fake_slack::slash_envelope("env-v", "decision D-1 vote 1", "U444"));
    REQUIRE(bot.ack_for("env-v"));
    REQUIRE(bot.slack.wait_for([&] { return bot.post_of("poll:D-1").has_value(); }));
    auto poll_ts = bot.post_of("poll:D-1")->second;

    clock->set(after);
    bot.app->poke_scheduler();
    auto closed = [&] {
        for (const auto& u : bot.slack.calls("chat.update")) {
            if (param(u, "ts") == poll_ts &&
                has(param(u, "text"), ":lock: Closed: 1. flag leads with 1 of 1 vote.")) {
                return true;
            }
        }
        return false;
    };
    INFO(bot.log_text());
    REQUIRE(bot.slack.wait_for(closed));
    REQUIRE(bot.slack.wait_for([&] {
        for (const auto& p : bot.slack.calls("chat.postMessage")) {
            if (has(param(p, "text"), "The poll on *D-1* Ship behind a flag? in <#C111> closed: "
                                      "1. flag leads with 1 of 1 vote.")) {
                return param(p, "channel")[0] == 'D';
            }
        }
        return false;
    }));
    CHECK(bot.poll_of(1)->closed_at > 0);
}

TEST_CASE("App Home: opening the Home tab publishes it, a change to one's items publishes it "
          "again",
          "[slack][home]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::slash_envelope("env-b", "blocker cert expired <@U333>"));
    REQUIRE(bot.ack_for("env-b"));

    // The Messages tab is not the Home tab: nothing is published.
    bot.slack.send(fake_slack::home_opened_envelope("env-m", "Ev-m", "U333", "messages"));
    REQUIRE(bot.ack_for("env-m"));
    bot.slack.send(fake_slack::home_opened_envelope("env-h", "Ev-h", "U333"));
    REQUIRE(bot.ack_for("env-h"));
    REQUIRE(bot.posts(1, "views.publish"));
    auto first = bot.slack.calls("views.publish").at(0);
    CHECK(param(first, "user_id") == "U333");
    auto view = param(first, "view");
    CHECK(has(view, R"("type":"home")"));
    CHECK(has(view, "Assigned to you"));
    CHECK(has(view, "*B-1* cert expired"));
    CHECK(has(view, "sev med · open"));

    // U333 acks B-1: the card and the Home follow.
    bot.slack.send(fake_slack::slash_envelope("env-a", "blocker B-1 ack", "U333"));
    REQUIRE(bot.ack_for("env-a"));
    REQUIRE(bot.posts(2, "views.publish"));
    CHECK(has(param(bot.slack.calls("views.publish").at(1), "view"), "sev med · acked"));
    CHECK(bot.slack.calls("views.publish").size() == 2); // the Messages tab published nothing
}

TEST_CASE("App Home: views of one Home waiting behind a slow publish collapse into the newest",
          "[slack][home]") {
    running_bot bot;
    // The first publish takes a while to answer; meanwhile five changes queue five views.
    bot.slack.script("views.publish", {200, "", 0, std::chrono::milliseconds(1000)});
    bot.start_connected();
    bot.slack.send(fake_slack::home_opened_envelope("env-h", "Ev-h", "U333"));
    REQUIRE(bot.ack_for("env-h"));
    REQUIRE(bot.slack.wait_for([&] { return !bot.slack.calls("views.publish").empty(); }));
    for (int i = 1; i <= 5; ++i) {
        auto id = "env-" + std::to_string(i);
        bot.slack.send(
            fake_slack::slash_envelope(id, "blocker thing " + std::to_string(i) + " dri:<@U333>"));
        REQUIRE(bot.ack_for(id));
    }
    REQUIRE(bot.slack.wait_for([&] { return bot.outbox_empty(); }));
    auto publishes = bot.slack.calls("views.publish");
    REQUIRE(publishes.size() == 2);
    CHECK(has(param(publishes[1], "view"), "*Assigned to you* (5)"));
}

namespace {

/// The private_metadata of the modal a views.open call showed.
std::string metadata_of(const test::api_call& open) {
    auto view = boost::json::parse(param(open, "view")).as_object();
    return std::string(view.at("private_metadata").as_string());
}

} // namespace

TEST_CASE("Log as blocker: the shortcut opens a pre-filled form, submitting it records the "
          "blocker in the message's thread",
          "[slack][forms]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::shortcut_envelope("env-s", "log_blocker",
                                                 "waiting on legal &amp; <@U234> for the DPA"));
    REQUIRE(bot.ack_for("env-s"));
    REQUIRE(bot.posts(1, "views.open"));
    auto open = bot.slack.calls("views.open").at(0);
    CHECK(param(open, "trigger_id") == "trigger-env-s");
    auto view = boost::json::parse(param(open, "view")).as_object();
    CHECK(view.at("callback_id") == "log_blocker");
    CHECK(view.at("blocks").at(0).at("element").at("initial_value") ==
          "waiting on legal & <@U234> for the DPA");
    CHECK(view.at("blocks").at(1).at("element").at("initial_user") == "U111");
    auto context = metadata_of(open);
    CHECK(has(context, "https://test-test.slack.com/archives/C111/p1583636382000300"));
    CHECK(bot.slack.acks().at(0).payload.empty()); // the shortcut's ack is a plain one

    // Submitted with a DRI and a severity picked, "Waiting on" left blank.
    bot.slack.send(
        fake_slack::submission_envelope("env-f", "log_blocker", context,
                                        {{"title", "waiting on legal & <@U234> for the DPA"},
                                         {"dri", "U333"},
                                         {"severity", "high"},
                                         {"waiting", ""}}));
    REQUIRE(bot.ack_for("env-f"));
    auto ack_payload = bot.ack_payload("env-f");
    CHECK(ack_payload.empty()); // taken: Slack closes the form
    auto items = bot.items();
    REQUIRE(items.size() == 1);
    CHECK(items[0].title == "waiting on legal &amp; <@U234> for the DPA");
    CHECK(items[0].dri == "U333");
    CHECK(items[0].severity == "high");
    CHECK(items[0].channel_id == "C111");
    CHECK(items[0].permalink == "https://test-test.slack.com/archives/C111/p1583636382000300");
    CHECK(items[0].thread_ts == "1583636382.000300");
    REQUIRE(bot.slack.wait_for([&] {
        for (const auto& p : bot.slack.calls("chat.postMessage")) {
            if (has(param(p, "text"), "*B-1* waiting on legal") &&
                param(p, "thread_ts") == "1583636382.000300") {
                return true;
            }
        }
        return false;
    }));
}

TEST_CASE("a form that cannot be taken stays open with its errors, and nothing is recorded",
          "[slack][forms]") {
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::shortcut_envelope("env-s", "log_decision", "Flag or wait?"));
    REQUIRE(bot.ack_for("env-s"));
    REQUIRE(bot.posts(1, "views.open"));
    auto context = metadata_of(bot.slack.calls("views.open").at(0));

    bot.slack.send(fake_slack::submission_envelope(
        "env-bad", "log_decision", context,
        {{"title", ""}, {"due", "2020-01-01"}, {"options", "flag\nwait"}}));
    REQUIRE(bot.ack_for("env-bad"));
    auto ack_payload = bot.ack_payload("env-bad");
    auto answer = boost::json::parse(ack_payload).as_object();
    CHECK(answer.at("response_action") == "errors");
    CHECK(answer.at("errors").at("title") == "Say what needs deciding.");
    CHECK(answer.at("errors").at("due") == "Pick today or a later day.");
    CHECK(bot.items().empty());

    // Fixed and sent again: taken.
    bot.slack.send(fake_slack::submission_envelope(
        "env-ok", "log_decision", context,
        {{"title", "Flag or wait?"}, {"due", ""}, {"options", "flag\nwait"}}));
    REQUIRE(bot.ack_for("env-ok"));
    REQUIRE(bot.items().size() == 1);
    CHECK(bot.items()[0].options == std::vector<std::string>{"flag", "wait"});
}

TEST_CASE("a form submitted while the database cannot be written stays open and says so",
          "[slack][forms][fault]") {
    test::faulty_vfs disk; // before the bot opens its database
    running_bot bot;
    bot.start_connected();
    bot.slack.send(fake_slack::shortcut_envelope("env-s", "log_blocker", "cert expired"));
    REQUIRE(bot.ack_for("env-s"));
    REQUIRE(bot.posts(1, "views.open"));
    auto context = metadata_of(bot.slack.calls("views.open").at(0));

    disk.full = true;
    bot.slack.send(
        fake_slack::submission_envelope("env-f", "log_blocker", context, {{"title", "cert"}}));
    REQUIRE(bot.ack_for("env-f"));
    auto ack_payload = bot.ack_payload("env-f");
    auto answer = boost::json::parse(ack_payload).as_object();
    CHECK(answer.at("response_action") == "errors");
    CHECK(has(std::string(answer.at("errors").at("title").as_string()),
              "could not save this: its database cannot be written"));
    disk.full = false;
    CHECK(bot.items().empty());

    // Submitted again once there is room: taken.
    bot.slack.send(
        fake_slack::submission_envelope("env-g", "log_blocker", context, {{"title", "cert"}}));
    REQUIRE(bot.ack_for("env-g"));
    CHECK(bot.items().size() == 1);
}

TEST_CASE("a form Slack will not open (the trigger expired) is explained to the person",
          "[slack][forms]") {
    running_bot bot;
    bot.slack.script("views.open", {200, R"({"ok":false,"error":"expired_trigger_id"})"});
    bot.start_connected();
    bot.slack.send(fake_slack::shortcut_envelope("env-s", "log_blocker", "cert expired"));
    REQUIRE(bot.ack_for("env-s"));
    REQUIRE(bot.posts(1, "chat.postEphemeral"));
    auto told = bot.slack.calls("chat.postEphemeral").at(0);
    CHECK(param(told, "user") == "U111");
    CHECK(param(told, "channel") == "C111");
    CHECK(has(param(told, "text"), "I could not open the form (expired_trigger_id)"));
    CHECK(has(param(told, "text"), "`/tpm blocker <text>`"));
    CHECK(bot.logged("could not open the form") == 1);
    CHECK(bot.items().empty());
}
