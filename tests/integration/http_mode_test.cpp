// HTTP mode: Slack's requests to the bot's address, signed with the app's signing secret,
// answered as their Socket Mode twins are acked (reference §8). Bodies are made from the same
// fixtures as the Socket Mode envelopes.
#include "envelope.hpp"
#include "signature.hpp"
#include "sqlite_store.hpp"
#include "support/fake_slack.hpp"
#include "support/faulty_vfs.hpp"
#include "support/http_fetch.hpp"
#include "support/running_bot.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <fmt/format.h>
#include <set>
#include <sqlite3.h>

using namespace tpmbot;
using namespace std::chrono_literals;
using test::fake_slack;
using test::fetched;
using test::running_bot;
namespace json = boost::json;

namespace {

/// Slack's published signing secret (reference §8.1).
const std::string secret = "8f742231b10e8888abcd99yyyzzz85a5";

long now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// The payload object of a Socket Mode envelope.
json::object payload_of(const std::string& envelope) {
    return json::parse(envelope).as_object().at("payload").as_object();
}

/// A slash command's form body, as HTTP mode sends it (§3.1).
std::string slash_form(const std::string& text, const std::string& user = "U111") {
    std::string body;
    for (const auto& [k, v] : payload_of(fake_slack::slash_envelope("x", text, user))) {
        if (v.is_string()) {
            body += (body.empty() ? "" : "&") + std::string(k) + "=" +
                    slack::form_escape(v.as_string().c_str());
        }
    }
    return body;
}

/// A bot in HTTP mode only (no app token, no Socket Mode) on a free loopback port.
struct http_bot : running_bot {
    http_bot() {
        settings.app_token.clear();
        settings.http_host = "127.0.0.1";
        settings.http_port = "0";
        settings.signing_secret = secret;
        settings.admin_host = "127.0.0.1";
        settings.admin_port = "0";
    }
    unsigned short port() {
        REQUIRE(slack.wait_for([&] { return app && app->http_port() != 0; }));
        return app->http_port();
    }
    fetched post(const std::string& target, const std::string& body, const std::string& type,
                 long ts = now_s(), std::string signature = {}) {
        test::fetch_options o;
        o.method = "POST";
        o.body = body;
        o.content_type = type;
        auto stamp = std::to_string(ts);
        if (signature.empty()) {
            signature = slack::sign(secret, stamp, body);
        }
        o.headers = {{"X-Slack-Request-Timestamp", stamp}, {"X-Slack-Signature", signature}};
        return test::http_fetch(port(), target, o);
    }
    fetched command(const std::string& text, const std::string& user = "U111") {
        return post("/slack/commands", slash_form(text, user), "application/x-www-form-urlencoded");
    }
    fetched event(const std::string& envelope) {
        return post("/slack/events", json::serialize(payload_of(envelope)), "application/json");
    }
};

} // namespace

TEST_CASE("HTTP mode answers Slack's url_verification with its challenge", "[http]") {
    http_bot bot;
    bot.start();
    auto r = bot.post("/slack/events",
                      R"({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": )"
                      R"("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", )"
                      R"("type": "url_verification"})",
                      "application/json");
    CHECK(r.status == 200);
    CHECK(r.content_type == "application/json");
    CHECK(json::parse(r.body).as_object().at("challenge").as_string() ==
          "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    // No Socket Mode without an app token.
    CHECK(bot.slack.calls("apps.connections.open").empty());
    CHECK(bot.slack.connections_opened() == 0);
}

TEST_CASE("HTTP mode: a slash command is committed before its answer, which carries the reply",
          "[http]") {
    http_bot bot;
    bot.start();
    auto r = bot.command("blocker waiting on the staging cert <@U222> sev:high");
    INFO(r.body << bot.log_text());
    REQUIRE(r.status == 200);
    CHECK(r.body.empty()); // the card says it in the channel: nothing only for the caller
    auto items = bot.items();
    REQUIRE(items.size() == 1);
    CHECK(items[0].title == "waiting on the staging cert <@U222>");
    CHECK(items[0].dri == "U222");
    // The card and the DM go out through the Web API, as in Socket Mode.
    REQUIRE(bot.posts(2));
    r = bot.command("blocker list");
    CHECK(r.status == 200);
    CHECK(r.content_type == "application/json");
    auto reply = json::parse(r.body).as_object();
    CHECK(reply.at("text").as_string().find("staging cert") != json::string::npos);
    CHECK_FALSE(reply.contains("response_type")); // ephemeral
    // A user error is answered, and nothing changes.
    r = bot.command("resolve B-99");
    CHECK(r.status == 200);
    CHECK(r.body.find("B-99") != std::string::npos);
    CHECK(bot.items().size() == 1);
}

TEST_CASE("HTTP mode: an event is stored, answered, processed once even when Slack retries",
          "[http]") {
    http_bot bot;
    bot.start();
    auto mention = fake_slack::mention_envelope("x", "EvHttp1", "<@UBOT> blocker: waiting on legal",
                                                "U111", "C111", "1700000000.000100");
    auto r = bot.event(mention);
    CHECK(r.status == 200);
    REQUIRE(bot.posts(1));
    CHECK(param(bot.slack.calls("chat.postMessage")[0], "thread_ts") == "1700000000.000100");
    // Slack's retry (X-Slack-Retry-Num) of the same event_id: answered, not processed again.
    r = bot.event(mention);
    CHECK(r.status == 200);
    bot.command("blocker list"); // after the retry: a duplicate would have been posted by now
    REQUIRE(bot.slack.wait_for([&] { return sqlite_store(bot.path).pending(10).empty(); }));
    CHECK(bot.items().size() == 1);
    CHECK(bot.slack.calls("chat.postMessage").size() == 1);
}

TEST_CASE("HTTP mode: a button press arrives as a form's payload field", "[http]") {
    http_bot bot;
    bot.start();
    REQUIRE(bot.command("blocker waiting on the vendor").status == 200);
    auto payload = payload_of(fake_slack::action_envelope("x", "owner B-1 me", "U555"));
    auto r =
        bot.post("/slack/interactivity", "payload=" + slack::form_escape(json::serialize(payload)),
                 "application/x-www-form-urlencoded");
    CHECK(r.status == 200);
    CHECK(r.body.empty());
    REQUIRE(bot.slack.wait_for([&] { return bot.items()[0].dri == "U555"; }));
}

TEST_CASE("HTTP mode: a shortcut opens its form, a submission is answered with its errors, or "
          "taken",
          "[http][forms]") {
    http_bot bot;
    bot.start();
    auto post_payload = [&](const std::string& envelope) {
        return bot.post("/slack/interactivity",
                        "payload=" + slack::form_escape(json::serialize(payload_of(envelope))),
                        "application/x-www-form-urlencoded");
    };
    auto shortcut = post_payload(fake_slack::shortcut_envelope("x", "log_blocker", "cert expired"));
    CHECK(shortcut.status == 200);
    CHECK(shortcut.body.empty());
    REQUIRE(bot.slack.wait_for([&] { return !bot.slack.calls("views.open").empty(); }));
    auto view = json::parse(param(bot.slack.calls("views.open").at(0), "view")).as_object();
    std::string context(view.at("private_metadata").as_string());

    auto refused = post_payload(fake_slack::submission_envelope(
        "x", "log_blocker", context, {{"title", "x"}, {"severity", "urgent"}}));
    CHECK(refused.status == 200);
    auto answer = json::parse(refused.body).as_object();
    CHECK(answer.at("response_action") == "errors");
    CHECK(answer.at("errors").at("severity") == "Pick high, med or low.");
    CHECK(bot.items().empty());

    auto taken = post_payload(fake_slack::submission_envelope(
        "x", "log_blocker", context, {{"title", "cert expired"}, {"severity", "low"}}));
    CHECK(taken.status == 200);
    CHECK(taken.body.empty()); // an empty 200 closes the form
    REQUIRE(bot.items().size() == 1);
    CHECK(bot.items()[0].severity == "low");
}

TEST_CASE("HTTP mode refuses a bad signature, a replay, another version and no headers, "
          "nothing changes",
          "[http]") {
    http_bot bot;
    bot.start();
    auto body = slash_form("blocker should never be recorded");
    auto type = "application/x-www-form-urlencoded";
    // Slack's published request (reference §8.1), signed correctly but long ago: a replay.
    auto vector_body =
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
        "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
        "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
        "803a0bc887a14d10d2c447fce8b6703c";
    auto r = bot.post("/slack/commands", vector_body, type, 1531420618,
                      "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503");
    CHECK(r.status == 401);
    // Our own request replayed six minutes later.
    r = bot.post("/slack/commands", body, type, now_s() - 360);
    CHECK(r.status == 401);
    // Signed with another secret; signed over another body; a v1 signature; no headers.
    r = bot.post("/slack/commands", body, type, now_s(),
                 slack::sign("another-secret", std::to_string(now_s()), body));
    CHECK(r.status == 401);
    r = bot.post("/slack/commands", body, type, now_s(),
                 slack::sign(secret, std::to_string(now_s()), body + "&text=other"));
    CHECK(r.status == 401);
    auto v1 = slack::sign(secret, std::to_string(now_s()), body);
    v1[1] = '1';
    r = bot.post("/slack/commands", body, type, now_s(), v1);
    CHECK(r.status == 401);
    test::fetch_options bare;
    bare.method = "POST";
    bare.body = body;
    CHECK(test::http_fetch(bot.port(), "/slack/commands", bare).status == 401);
    CHECK(bot.logged("refused a request to /slack/commands: X-Slack-Request-Timestamp more "
                     "than 5 minutes from now") == 2);
    CHECK(bot.logged("refused a request to /slack/commands") == 6);
    CHECK(bot.items().empty());
    // The metrics count them; the secret is in no log line.
    auto metrics = test::http_fetch(bot.app->admin_port(), "/metrics").body;
    CHECK(metrics.find("tpmbot_http_requests_total{path=\"/slack/commands\",status=\"401\"} 6") !=
          std::string::npos);
    CHECK(bot.log_text().find(secret) == std::string::npos);
}

TEST_CASE("HTTP mode refuses an oversized body, a malformed form, other paths and methods",
          "[http]") {
    http_bot bot;
    bot.settings.max_request_bytes = 4096;
    bot.start();
    auto big = slash_form("blocker " + std::string(5000, 'x'));
    auto r = bot.post("/slack/commands", big, "application/x-www-form-urlencoded");
    CHECK(r.status == 413);
    r = bot.post("/slack/commands", "text=%zz&user_id=U1", "application/x-www-form-urlencoded");
    CHECK(r.status == 400);
    r = bot.post("/slack/other", "x=1", "application/x-www-form-urlencoded");
    CHECK(r.status == 404);
    CHECK(test::http_fetch(bot.port(), "/slack/events").status == 405);
    // An events body that is no event is answered (Slack would only resend it) and ignored.
    r = bot.post("/slack/events", R"({"type":"event_callback"})", "application/json");
    CHECK(r.status == 200);
    CHECK(bot.logged("an events request without a readable event was answered and ignored") == 1);
    CHECK(bot.items().empty());
}

TEST_CASE("HTTP mode on a full disk: a command is told, an event gets 503 for Slack to retry",
          "[http][fault]") {
    test::faulty_vfs disk; // before the bot opens its database
    disk.error = SQLITE_FULL;
    http_bot bot;
    bot.start();
    bot.port(); // serving
    auto post_payload = [&](const std::string& envelope) {
        return bot.post("/slack/interactivity",
                        "payload=" + slack::form_escape(json::serialize(payload_of(envelope))),
                        "application/x-www-form-urlencoded");
    };
    post_payload(fake_slack::shortcut_envelope("x", "log_blocker", "cert expired"));
    REQUIRE(bot.slack.wait_for([&] { return !bot.slack.calls("views.open").empty(); }));
    auto view = json::parse(param(bot.slack.calls("views.open").at(0), "view")).as_object();
    std::string context(view.at("private_metadata").as_string());
    disk.full = true;
    auto r = bot.command("blocker while the disk is full");
    CHECK(r.status == 200);
    CHECK(r.body.find("could not save this: its database cannot be written") != std::string::npos);
    // A form keeps open, the same words beside its first field.
    auto form = post_payload(fake_slack::submission_envelope(
        "x", "log_blocker", context, {{"title", "cert expired"}, {"severity", "low"}}));
    CHECK(form.status == 200);
    auto answer = json::parse(form.body).as_object();
    CHECK(answer.at("response_action") == "errors");
    CHECK(std::string(answer.at("errors").at("title").as_string())
              .find("could not save this: its database cannot be written") != std::string::npos);
    auto mention = fake_slack::mention_envelope("x", "EvFullHttp", "<@UBOT> event while full",
                                                "U111", "C111", "1700000000.000300");
    CHECK(bot.event(mention).status == 503);
    disk.full = false;
    CHECK(bot.event(mention).status == 200); // Slack's retry
    REQUIRE(bot.slack.wait_for([&] { return bot.items().size() == 1; }));
    CHECK(bot.items()[0].title == "event while full");
}

TEST_CASE("HTTP mode: /healthz is up once the bot serves, without any Socket Mode connection",
          "[http][admin]") {
    http_bot bot;
    bot.start();
    bot.port();
    REQUIRE(bot.slack.wait_for(
        [&] { return test::http_fetch(bot.app->admin_port(), "/healthz").status == 200; }));
    auto h = json::parse(test::http_fetch(bot.app->admin_port(), "/healthz").body).as_object();
    CHECK(h.at("connections").as_int64() == 0);
    CHECK(h.at("http_mode").as_string() == "serving");
}
