// The Slack app manifest in deploy/ describes what the bot does today: every slash command it
// declares is one the router knows (and the other way round), mentions arrive escaped, and
// the events and scopes cover every Web API method and event the bot uses.

#include "forms.hpp"
#include "router.hpp"
#include "support/harness.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

using namespace tpmbot;

namespace {

boost::json::object manifest() {
    std::ifstream in(TPMBOT_MANIFEST);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    return boost::json::parse(text.str()).as_object();
}

std::set<std::string> strings_at(const boost::json::value& v) {
    std::set<std::string> out;
    for (const auto& s : v.as_array()) {
        out.insert(std::string(s.as_string()));
    }
    return out;
}

} // namespace

TEST_CASE("the manifest declares exactly the slash commands the bot answers", "[manifest]") {
    auto m = manifest();
    const auto& features = m.at("features").as_object();
    std::set<std::string> commands;
    for (const auto& c : features.at("slash_commands").as_array()) {
        const auto& o = c.as_object();
        auto name = std::string(o.at("command").as_string());
        commands.insert(name);
        INFO(name);
        // Mentions and channels must arrive as <@U…> / <#C…> ids (reference §3.1).
        CHECK(o.at("should_escape").as_bool());
        // Each one is routed: its help works.
        test::harness h;
        auto r = h.run("help", "UME", test::via(name));
        CHECK(r.ok);
    }
    CHECK(commands ==
          std::set<std::string>{"/tpm", "/blocker", "/decision", "/owner", "/standup", "/status"});
    // A command the manifest does not declare is refused, not guessed.
    test::harness h;
    CHECK_FALSE(h.run("help", "UME", test::via("/weekly")).ok);
}

TEST_CASE("the manifest declares exactly the message shortcuts the bot opens forms for",
          "[manifest]") {
    auto m = manifest();
    std::set<std::string> ids;
    for (const auto& sc : m.at("features").as_object().at("shortcuts").as_array()) {
        const auto& o = sc.as_object();
        CHECK(o.at("type") == "message");
        CHECK(o.at("name").as_string().size() <= 24); // Slack's limit for a shortcut's name
        CHECK_FALSE(o.at("description").as_string().empty());
        std::string id(o.at("callback_id").as_string());
        tpmbot::message_ref msg;
        msg.channel = "C1";
        msg.ts = "1.2";
        INFO(id);
        CHECK(tpmbot::shortcut_form(id, msg).has_value());
        ids.insert(id);
    }
    CHECK(ids == std::set<std::string>{"log_blocker", "log_decision"});
}

TEST_CASE("the manifest subscribes to the events and grants the scopes the bot uses",
          "[manifest]") {
    auto m = manifest();
    const auto& settings = m.at("settings").as_object();
    CHECK(settings.at("socket_mode_enabled").as_bool());
    CHECK(settings.at("interactivity").as_object().at("is_enabled").as_bool());
    auto events = strings_at(settings.at("event_subscriptions").as_object().at("bot_events"));
    CHECK(events == std::set<std::string>{"app_home_opened", "app_mention", "message.im"});
    // app_home_opened publishes a Home tab, which must be enabled (reference §6.2 not_enabled).
    const auto& home = m.at("features").as_object().at("app_home").as_object();
    CHECK(home.at("home_tab_enabled").as_bool());
    CHECK(home.at("messages_tab_enabled").as_bool()); // DMs: standup answers
    auto scopes = strings_at(m.at("oauth_config").as_object().at("scopes").as_object().at("bot"));
    for (const char* needed : {
             "commands",          // slash commands
             "chat:write",        // chat.postMessage, chat.postEphemeral
             "chat:write.public", // cards in channels the bot was not invited to
             "app_mentions:read", // app_mention
             "im:history",        // message.im: DM answers and their edits
             "im:write",          // conversations.open for DMs
             "users:read",        // users.info: zone, admin flag, deactivated
             "channels:read",     // conversations.members of a public standup channel
             "groups:read",       // ... of a private one
             "channels:history",  // conversations.history: is a post whose answer was lost
             "groups:history",    // already there? (public and private channels)
         }) {
        INFO(needed);
        CHECK(scopes.count(needed) == 1);
    }
    CHECK(scopes.size() == 11);
}
