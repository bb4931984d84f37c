#include "envelope.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace tpmbot;
using namespace tpmbot::slack;
namespace json = boost::json;

namespace {

/// tests/data/frames, found from this file's path (the build passes no data directory).
std::filesystem::path frames_dir() {
    return std::filesystem::path(__FILE__).parent_path().parent_path() / "data" / "frames";
}

/// The bytes of one saved frame.
std::string load(const std::string& name) {
    std::ifstream in(frames_dir() / name, std::ios::binary);
    REQUIRE(in.good());
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The saved frame `name` parsed; it must be well formed.
frame load_frame(const std::string& name) {
    const frame f = parse_frame(load(name));
    INFO(name << ": " << f.error);
    REQUIRE(f.kind != frame_kind::malformed);
    CHECK(f.error.empty());
    return f;
}

/// The event of a saved events_api frame.
event load_event(const std::string& name) {
    const frame f = load_frame(name);
    REQUIRE(f.kind == frame_kind::events_api);
    const auto e = parse_event(f.payload);
    REQUIRE(e);
    return *e;
}

/// Whether `s` is well-formed UTF-8 (no sequence cut short, no stray continuation byte).
bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
        if (n == 0 || i + n > s.size()) {
            return false;
        }
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
                return false;
            }
        }
        i += n;
    }
    return true;
}

/// Characters as UTF-16 code units (what the implementation limits, see envelope.cpp).
std::size_t utf16_length(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) {
        if ((c & 0xC0) != 0x80) {
            n += c >= 0xF0 ? 2 : 1;
        }
    }
    return n;
}

/// Code points.
std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) {
        n += (c & 0xC0) != 0x80;
    }
    return n;
}

std::string repeat(std::string_view s, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out += s;
    }
    return out;
}

/// A body parsed back as JSON (it must parse).
json::object parse_body(const std::string& body) {
    json::error_code ec;
    json::value v = json::parse(body, ec);
    INFO(body.substr(0, 300));
    REQUIRE(!ec);
    REQUIRE(v.is_object());
    return v.as_object();
}

std::string str(const json::value& v) {
    return std::string(v.as_string());
}

/// An app_mention event by U1 in C1.
event mention(std::string text) {
    event e;
    e.event_id = "Ev1";
    e.team_id = "T1";
    e.type = "app_mention";
    e.user = "U1";
    e.channel = "C1";
    e.ts = "1605853844.000800";
    e.text = std::move(text);
    return e;
}

/// A DM from U1.
event dm(std::string text) {
    event e;
    e.event_id = "Ev2";
    e.team_id = "T1";
    e.type = "message";
    e.channel_type = "im";
    e.user = "U1";
    e.channel = "D1";
    e.ts = "1355517523.000005";
    e.text = std::move(text);
    return e;
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Frames from Slack's fixtures.

TEST_CASE("hello frames in both SDK forms", "[envelope]") {
    const frame java = load_frame("hello_java.json");
    CHECK(java.kind == frame_kind::hello);
    CHECK(java.type == "hello");
    CHECK(java.num_connections == 1);
    CHECK(java.envelope_id.empty());
    CHECK(java.payload.empty());

    const frame python = load_frame("hello_python.json");
    CHECK(python.kind == frame_kind::hello);
    CHECK(python.num_connections == 2);

    // §2.2: every field but `type` is optional (node's test server sends only this).
    const frame bare = parse_frame(R"({"type":"hello"})");
    CHECK(bare.kind == frame_kind::hello);
    CHECK(bare.num_connections == 0);
}

TEST_CASE("disconnect frames carry their reason", "[envelope]") {
    for (const std::string reason :
         {"warning", "refresh_requested", "too_many_websockets", "link_disabled"}) {
        INFO(reason);
        const frame f = load_frame("disconnect_" + reason + ".json");
        CHECK(f.kind == frame_kind::disconnect);
        CHECK(f.type == "disconnect");
        CHECK(f.reason == reason);
        CHECK(f.envelope_id.empty());
    }
    CHECK(load_frame("disconnect_too_many_websockets.json").num_connections == 2);
}

TEST_CASE("a slash_commands envelope keeps its payload as minified JSON", "[envelope]") {
    const std::string text = load("slash_commands.json");
    const frame f = load_frame("slash_commands.json");
    CHECK(f.kind == frame_kind::slash_commands);
    CHECK(f.envelope_id == "xxx-11-222-yyy-zzz");
    CHECK(f.accepts_response_payload);
    CHECK(f.retry_attempt == 0);
    CHECK(f.retry_reason.empty());

    // Minified: no whitespace outside strings, and the same JSON value as the original.
    CHECK(f.payload.find('\n') == std::string::npos);
    CHECK(f.payload.find(": ") == std::string::npos);
    CHECK(f.payload.rfind(R"({"token":"fixed-value","team_id":"T111",)", 0) == 0);
    CHECK(json::parse(f.payload) == json::parse(text).at("payload"));
}

TEST_CASE("an events_api app_mention", "[envelope]") {
    const std::string text = load("events_api_app_mention.json");
    const frame f = load_frame("events_api_app_mention.json");
    CHECK(f.kind == frame_kind::events_api);
    CHECK(f.envelope_id == "xxx-11-222-yyy-zzz");
    CHECK_FALSE(f.accepts_response_payload);
    CHECK(f.retry_attempt == 0);
    CHECK(f.retry_reason.empty());
    CHECK(json::parse(f.payload) == json::parse(text).at("payload"));

    const auto e = parse_event(f.payload);
    REQUIRE(e);
    CHECK(e->event_id == "Ev01ERKCFKK9");
    CHECK(e->team_id == "T111");
    CHECK(e->event_time == 1605853844);
    CHECK(e->type == "app_mention");
    CHECK(e->subtype.empty());
    CHECK(e->user == "U111");
    CHECK(e->bot_id.empty());
    CHECK(e->channel == "C111");
    CHECK(e->channel_type.empty());
    CHECK(e->text == "<@U222> hey");
    CHECK(e->ts == "1605853844.000800");
    CHECK(e->thread_ts.empty());

    // The fixture's authorizations say the bot user is U222.
    const auto c = command_of_event(*e, "U222");
    REQUIRE(c);
    CHECK(c->from == source::mention);
    CHECK(c->team_id == "T111");
    CHECK(c->user_id == "U111");
    CHECK(c->channel_id == "C111");
    CHECK(c->command_name.empty());
    CHECK(c->text == "hey");
    CHECK(c->message_ts == "1605853844.000800");
    CHECK(c->thread_ts.empty());
}

TEST_CASE("app_home_opened on the Home tab opens the App Home, the Messages tab does not",
          "[envelope][home]") {
    const event e = load_event("events_api_app_home_opened.json");
    CHECK(e.type == "app_home_opened");
    CHECK(e.tab == "home");
    CHECK(e.event_id == "Ev0HOME0001");
    const auto c = command_of_event(e, "UBOT");
    REQUIRE(c);
    CHECK(c->from == source::home);
    CHECK(c->team_id == "T123ABC456");
    CHECK(c->user_id == "U123ABC456");
    CHECK(c->channel_id == "D123ABC456");
    CHECK(c->text.empty());

    const event messages = load_event("events_api_app_home_messages_tab.json");
    CHECK(messages.tab == "messages");
    CHECK_FALSE(command_of_event(messages, "UBOT"));

    // Before Slack added `tab`, the event meant the Home tab.
    event untabbed = e;
    untabbed.tab.clear();
    REQUIRE(command_of_event(untabbed, "UBOT"));
    CHECK(command_of_event(untabbed, "UBOT")->from == source::home);
}

TEST_CASE("views.publish carries the Home view: the user and a home view of the blocks",
          "[envelope][home]") {
    effect e;
    e.to = destination::home;
    e.user = "U123ABC456";
    e.text = "fallback, not sent";
    e.blocks.push_back({block::kind::header, "Your work in tpmbot"});
    for (int i = 0; i < 120; ++i) {
        e.blocks.push_back({block::kind::section, "line " + std::to_string(i)});
    }
    auto body = json::parse(publish_home_body(e)).as_object();
    CHECK(body.at("user_id") == "U123ABC456");
    const auto& view = body.at("view").as_object();
    CHECK(view.at("type") == "home");
    CHECK_FALSE(view.contains("title")); // a Home view has no title, submit or close
    const auto& blocks = view.at("blocks").as_array();
    CHECK(blocks.size() == 100); // Slack's limit for a Home tab
    CHECK(blocks[0].at("type") == "header");
    CHECK(blocks[1].at("text").at("text") == "line 0");
}

TEST_CASE("a retried events_api delivery says so and keeps the event_id", "[envelope]") {
    const frame f = load_frame("events_api_retry.json");
    CHECK(f.kind == frame_kind::events_api);
    CHECK(f.envelope_id == "xxx-11-222-yyy-retry");
    CHECK(f.retry_attempt == 2);
    CHECK(f.retry_reason == "timeout");
    // §4.6: dedupe on event_id, which a redelivery keeps.
    const auto e = parse_event(f.payload);
    REQUIRE(e);
    CHECK(e->event_id == load_event("events_api_app_mention.json").event_id);
}

TEST_CASE("a message.im event becomes a DM command", "[envelope]") {
    const event e = load_event("events_api_message_im.json");
    CHECK(e.event_id == "Ev0PV52K21");
    CHECK(e.team_id == "T061EG9R6");
    CHECK(e.event_time == 1355517523);
    CHECK(e.type == "message");
    CHECK(e.channel_type == "im");
    CHECK(e.channel == "D024BE91L");

    const auto c = command_of_event(e, "UBOT");
    REQUIRE(c);
    CHECK(c->from == source::dm);
    CHECK(c->team_id == "T061EG9R6");
    CHECK(c->user_id == "U2147483697");
    CHECK(c->channel_id == "D024BE91L");
    CHECK(c->text == "Hello hello can you hear me?");
    CHECK(c->message_ts == "1355517523.000005");
    CHECK(c->thread_ts.empty());
    CHECK(c->command_name.empty());
}

TEST_CASE("a threaded DM reply keeps its thread", "[envelope]") {
    const event e = load_event("events_api_dm_thread_reply.json");
    CHECK(e.thread_ts == "1726133698.626339");
    const auto c = command_of_event(e, "UBOT");
    REQUIRE(c);
    CHECK(c->from == source::dm);
    CHECK(c->user_id == "W222"); // Enterprise Grid ids start with W (§7.2)
    CHECK(c->channel_id == "D111");
    CHECK(c->message_ts == "1726133700.887259");
    CHECK(c->thread_ts == "1726133698.626339");
    CHECK(c->text == "When Slack was released?");
}

TEST_CASE("bot messages in a DM are ignored, a person's edit is an edit command", "[envelope]") {
    const event bot = load_event("events_api_bot_message.json");
    CHECK(bot.subtype == "bot_message");
    CHECK(bot.bot_id == "BB12033");
    CHECK(bot.user.empty());
    CHECK_FALSE(command_of_event(bot, "UBOT"));

    const event changed = load_event("events_api_message_changed.json");
    CHECK(changed.subtype == "message_changed");
    CHECK(changed.channel_type == "im");
    // The nested message's fields do not leak into the event.
    CHECK(changed.user.empty());
    CHECK(changed.text.empty());
    CHECK(changed.ts == "1358878755.000001");
    // The edit of a DM (it may change standup answers) names the edited message's ts.
    CHECK(changed.changed_user == "U111");
    CHECK(changed.changed_ts == "1358878749.000002");
    auto edit = command_of_event(changed, "UBOT");
    REQUIRE(edit);
    CHECK(edit->from == source::dm);
    CHECK(edit->edited);
    CHECK(edit->user_id == "U111");
    CHECK(edit->channel_id == "D111");
    CHECK(edit->message_ts == "1358878749.000002");
    CHECK(edit->text == "blocker deploy is stuck");

    // The bot's own edits, and edits of bot messages, are not commands.
    CHECK_FALSE(command_of_event(changed, "U111"));
    auto by_bot = changed;
    by_bot.changed_bot_id = "B1";
    CHECK_FALSE(command_of_event(by_bot, "UBOT"));
    // An edit in a channel is not addressed to the bot.
    auto in_channel = changed;
    in_channel.channel_type = "channel";
    CHECK_FALSE(command_of_event(in_channel, "UBOT"));
    // Slack unfurling a link in the DM also sends message_changed, without `edited`.
    auto unfurl = changed;
    unfurl.changed_edited = false;
    CHECK_FALSE(command_of_event(unfurl, "UBOT"));
    CHECK(changed.changed_edited);
    // message_deleted and other subtypes stay ignored.
    auto deleted = changed;
    deleted.subtype = "message_deleted";
    CHECK_FALSE(command_of_event(deleted, "UBOT"));
}

TEST_CASE("a block_actions envelope becomes the button's command", "[envelope]") {
    const frame f = load_frame("interactive_block_actions.json");
    CHECK(f.kind == frame_kind::interactive);
    CHECK(json::parse(f.payload) ==
          json::parse(load("interactive_block_actions.json")).at("payload"));
    CHECK(f.payload.find("\"text\":\"This content can't be displayed.\"") != std::string::npos);
    CHECK(f.envelope_id == "xxx-11-222-yyy-zzz");
    CHECK_FALSE(f.accepts_response_payload);

    const auto c = command_of_action(f.payload);
    REQUIRE(c);
    CHECK(c->from == source::action);
    CHECK(c->team_id == "T111");
    CHECK(c->user_id == "U111");
    CHECK(c->channel_id == "C111");
    CHECK(c->message_ts == "1605853634.000400");
    CHECK(c->command_name == "/tpm");
    CHECK(c->text == "underlying");
    // Not an event nor a slash command.
    CHECK_FALSE(parse_event(f.payload));
    CHECK_FALSE(command_of_slash(f.payload));
}

TEST_CASE("an unknown envelope type is `other` and keeps its envelope_id", "[envelope]") {
    const frame f = load_frame("unknown_type.json");
    CHECK(f.kind == frame_kind::other);
    CHECK(f.type == "future_thing");
    CHECK(f.envelope_id == "5e7d9c1a-future-type");
    CHECK(f.payload == R"({"type":"something_new","id":"X1"})");

    const frame bare = parse_frame(R"({"type":"brand_new"})");
    CHECK(bare.kind == frame_kind::other);
    CHECK(bare.envelope_id.empty());
}

// ---------------------------------------------------------------------------------------------
// Malformed frames.

TEST_CASE("malformed frames are reported, never thrown", "[envelope]") {
    for (const std::string name :
         {"malformed_not_json.txt", "malformed_array.json", "malformed_garbage.bin",
          "malformed_events_api_no_envelope_id.json"}) {
        INFO(name);
        const std::string text = load(name);
        frame f;
        CHECK_NOTHROW(f = parse_frame(text));
        CHECK(f.kind == frame_kind::malformed);
        CHECK_FALSE(f.error.empty());
    }
    CHECK(parse_frame(load("malformed_array.json")).error == "not a JSON object");
    const frame no_id = parse_frame(load("malformed_events_api_no_envelope_id.json"));
    CHECK(no_id.error == "events_api without an envelope_id");
    CHECK(no_id.type == "events_api");
}

TEST_CASE("frames that are not what they claim are malformed", "[envelope]") {
    const std::vector<std::string> bad = {
        "",
        "   \n",
        "null",
        "42",
        R"("hello")",
        "{",
        R"({"type":"hello")",
        R"({"type":"hello"} trailing)",
        R"({"type":"hello"}{"type":"hello"})",
        R"({"type":"hello",})",
        R"({"type":42})",
        R"({"type":"hel\qlo"})",
        R"({"type":"events_api","envelope_id":"e1"})",
        R"({"type":"events_api","envelope_id":"e1","payload":"text"})",
        R"({"type":"slash_commands","payload":{"command":"/tpm"}})",
        R"({"type":"interactive","envelope_id":"","payload":{}})",
        R"({"type":"events_api","envelope_id":"e1","retry_attempt":1.5,"payload":{}})",
        std::string("{\"type\":\"hello\",\"x\":\"\xff\"}"),
        std::string("{\"type\":\"hello\"}\0", 17),
    };
    for (const std::string& text : bad) {
        INFO(text);
        frame f;
        CHECK_NOTHROW(f = parse_frame(text));
        CHECK(f.kind == frame_kind::malformed);
        CHECK_FALSE(f.error.empty());
    }
}

TEST_CASE("a frame without a type keeps its envelope_id so it can be acked", "[envelope]") {
    const frame f = parse_frame(R"({"envelope_id":"e9","payload":{}})");
    CHECK(f.kind == frame_kind::malformed);
    CHECK(f.envelope_id == "e9");
    CHECK(f.error == "no string `type`");
}

TEST_CASE("every cut-short or damaged fixture parses without throwing", "[envelope]") {
    for (const std::string name : {"events_api_app_mention.json", "interactive_block_actions.json",
                                   "slash_commands.json", "hello_python.json"}) {
        INFO(name);
        const std::string text = load(name);
        // A strict prefix never holds the whole object.
        const std::size_t end = text.rfind('}');
        for (std::size_t n = 0; n < end; ++n) {
            INFO(n);
            frame f;
            REQUIRE_NOTHROW(f = parse_frame(text.substr(0, n)));
            REQUIRE(f.kind == frame_kind::malformed);
            REQUIRE_FALSE(f.error.empty());
        }
        // Each byte replaced in turn by a structural or invalid byte: never a throw, and the
        // payload of any frame that still parses is itself parseable without a throw.
        for (const char replacement : {'{', '"', '\\', ']', '\xC3'}) {
            for (std::size_t i = 0; i < text.size(); ++i) {
                std::string damaged = text;
                damaged[i] = replacement;
                frame f;
                REQUIRE_NOTHROW(f = parse_frame(damaged));
                REQUIRE_NOTHROW(parse_event(f.payload));
                REQUIRE_NOTHROW(command_of_slash(f.payload));
                REQUIRE_NOTHROW(command_of_action(f.payload));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Events: what is ignored, and mention stripping.

TEST_CASE("command_of_event ignores what is not addressed to the bot", "[envelope]") {
    SECTION("the bot's own messages, by user id") {
        event own = dm("nudge: B-1 is waiting on you");
        own.user = "UBOT";
        CHECK_FALSE(command_of_event(own, "UBOT"));
        event own_mention = mention("<@UBOT> hello me");
        own_mention.user = "UBOT";
        CHECK_FALSE(command_of_event(own_mention, "UBOT"));
    }
    SECTION("any message with a bot_id") {
        event e = dm("hi");
        e.bot_id = "B111";
        CHECK_FALSE(command_of_event(e, "UBOT"));
        event m = mention("<@UBOT> hi");
        m.bot_id = "B222";
        CHECK_FALSE(command_of_event(m, "UBOT"));
    }
    SECTION("any subtype") {
        for (const std::string subtype :
             {"message_changed", "bot_message", "message_deleted", "channel_join"}) {
            event e = dm("hi");
            e.subtype = subtype;
            CHECK_FALSE(command_of_event(e, "UBOT"));
        }
    }
    SECTION("no user") {
        event e = dm("hi");
        e.user.clear();
        CHECK_FALSE(command_of_event(e, "UBOT"));
    }
    SECTION("messages outside a DM") {
        for (const std::string channel_type : {"channel", "group", "mpim", ""}) {
            event e = dm("blocker x");
            e.channel = "C1";
            e.channel_type = channel_type;
            CHECK_FALSE(command_of_event(e, "UBOT"));
        }
    }
    SECTION("other event types") {
        for (const std::string type :
             {"reaction_added", "member_joined_channel", "app_uninstalled", "message.im", ""}) {
            event e = dm("hi");
            e.type = type;
            CHECK_FALSE(command_of_event(e, "UBOT"));
        }
    }
    SECTION("a plain DM and a mention are not ignored") {
        CHECK(command_of_event(dm("hi"), "UBOT"));
        CHECK(command_of_event(mention("<@UBOT> hi"), "UBOT"));
    }
}

TEST_CASE("the bot's mention is removed from a mention's text", "[envelope]") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"<@UBOT> x", "x"},
        {"<@UBOT|tpmbot> x", "x"},
        {"<@UBOT>: x", "x"},
        {"<@UBOT>, x", "x"},
        {"<@UBOT> : blocker x", "blocker x"},
        {"hey <@UBOT> x", "hey x"},
        {"hey <@UBOT>", "hey"},
        {"<@UBOT>", ""},
        {"<@UBOT|tpmbot>", ""},
        {"  <@UBOT>  ", ""},
        {"<@UBOT>:", ""},
        {"  <@UBOT>   blocker  a  b  ", "blocker  a  b"},
        {"<@UBOT> blocker x\nsecond line", "blocker x\nsecond line"},
        {"<@UBOT>\xC2\xA0owner payments", "owner payments"},
        {"<@UBOT> owner api <@UBOT>", "owner api <@UBOT>"},
        {"<@U1> <@UBOT> x", "<@U1> x"},
        {"<@UBOTX> hi <@UBOT> x", "<@UBOTX> hi x"},
        {"<@UBOTX> hi", "<@UBOTX> hi"},
        {"no mention here", "no mention here"},
        {"<@UBOT|bad\n> x", "<@UBOT|bad\n> x"},
    };
    for (const auto& [text, expected] : cases) {
        INFO(text);
        const auto c = command_of_event(mention(text), "UBOT");
        REQUIRE(c);
        CHECK(c->from == source::mention);
        CHECK(c->text == expected);
    }
    // A DM's text is kept as it is, mention and all.
    const auto d = command_of_event(dm("<@UBOT> x "), "UBOT");
    REQUIRE(d);
    CHECK(d->text == "<@UBOT> x ");
}

TEST_CASE("a mention in a thread carries the thread", "[envelope]") {
    event e = mention("<@W23456789> blocker db");
    e.thread_ts = "1605853800.000100";
    const auto c = command_of_event(e, "W23456789");
    REQUIRE(c);
    CHECK(c->text == "blocker db");
    CHECK(c->thread_ts == "1605853800.000100");
    CHECK(c->message_ts == "1605853844.000800");
    CHECK(c->channel_id == "C1");
    CHECK(c->team_id == "T1");
}

TEST_CASE("parse_event needs an event_callback with an event_id and an event", "[envelope]") {
    CHECK(parse_event(R"({"type":"event_callback","event_id":"Ev1","event":{"type":"x"}})"));
    CHECK_FALSE(parse_event(R"({"type":"url_verification","event_id":"Ev1","event":{}})"));
    CHECK_FALSE(parse_event(R"({"type":"event_callback","event":{"type":"x"}})"));
    CHECK_FALSE(parse_event(R"({"type":"event_callback","event_id":"Ev1"})"));
    CHECK_FALSE(parse_event(R"({"type":"event_callback","event_id":"Ev1","event":"x"})"));
    CHECK_FALSE(parse_event(R"({"type":"event_callback","event_id":"Ev1","event":{})"));
    CHECK_FALSE(parse_event(""));
    CHECK_FALSE(parse_event("[]"));
    CHECK_FALSE(parse_event("\xff\xfe"));
    // Values of unexpected types are left empty (user_change sends `user` as an object).
    const auto e = parse_event(
        R"({"type":"event_callback","event_id":"Ev1","event":{"type":"user_change","user":{"id":"U1"},"text":null}})");
    REQUIRE(e);
    CHECK(e->type == "user_change");
    CHECK(e->user.empty());
    CHECK(e->text.empty());
}

// ---------------------------------------------------------------------------------------------
// Slash commands and actions.

TEST_CASE("a slash command payload maps to a command", "[envelope]") {
    const auto c = command_of_slash(load_frame("slash_commands.json").payload);
    REQUIRE(c);
    CHECK(c->from == source::slash);
    CHECK(c->team_id == "T111");
    CHECK(c->user_id == "U111");
    CHECK(c->channel_id == "C111");
    CHECK(c->command_name == "/hi-socket-mode");
    CHECK(c->text.empty());
    CHECK(c->message_ts.empty());

    const auto with_text = command_of_slash(
        R"({"team_id":"T1","user_id":"W1","channel_id":"D1","command":"/blocker","text":"deploy stuck on <@U2|dana> &amp; CI"})");
    REQUIRE(with_text);
    CHECK(with_text->text == "deploy stuck on <@U2|dana> &amp; CI");
    CHECK(with_text->channel_id == "D1");
}

TEST_CASE("is_enterprise_install may be a bool or a string", "[envelope]") {
    for (const std::string flag : {"true", "false", R"("true")", R"("false")", "null"}) {
        INFO(flag);
        const auto c = command_of_slash(
            R"({"team_id":"T1","enterprise_id":"E1","is_enterprise_install":)" + flag +
            R"(,"user_id":"U1","channel_id":"C1","command":"/tpm","text":"help"})");
        REQUIRE(c);
        CHECK(c->text == "help");
    }
}

TEST_CASE("a slash payload without who, where from or which command is refused", "[envelope]") {
    CHECK_FALSE(command_of_slash(R"({"team_id":"T1","channel_id":"C1","command":"/tpm"})"));
    CHECK_FALSE(command_of_slash(R"({"user_id":"U1","channel_id":"C1","command":"/tpm"})"));
    CHECK_FALSE(command_of_slash(R"({"team_id":"T1","user_id":"U1","channel_id":"C1"})"));
    CHECK_FALSE(command_of_slash(R"({"team_id":"T1","user_id":"","command":"/tpm"})"));
    CHECK_FALSE(command_of_slash(R"({"team_id":"T1","user_id":7,"command":"/tpm"})"));
    CHECK_FALSE(command_of_slash("not json"));
    CHECK_FALSE(command_of_slash(R"(["/tpm"])"));
    CHECK_FALSE(command_of_slash(""));
    // The channel is not required (the handler decides what it needs).
    CHECK(command_of_slash(R"({"team_id":"T1","user_id":"U1","command":"/tpm"})"));
}

TEST_CASE("block_actions: where the team and channel come from", "[envelope]") {
    SECTION("team null (org-wide install): the user's team; no channel: the container's") {
        const auto c = command_of_action(
            R"({"type":"block_actions","team":null,"user":{"id":"U9","team_id":"T9"},
                "container":{"type":"message","message_ts":"1.2","channel_id":"D9"},
                "actions":[{"action_id":"ack","value":"ack B-1","type":"button"}]})");
        REQUIRE(c);
        CHECK(c->team_id == "T9");
        CHECK(c->user_id == "U9");
        CHECK(c->channel_id == "D9");
        CHECK(c->message_ts == "1.2");
        CHECK(c->text == "ack B-1");
        CHECK(c->command_name == "/tpm");
    }
    SECTION("the first action with a value is run") {
        const auto c = command_of_action(
            R"({"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"channel":{"id":"C1"},
                "actions":[{"type":"static_select","selected_option":{"value":"x"}},
                           {"type":"button","value":"resolve B-2"},
                           {"type":"button","value":"later"}]})");
        REQUIRE(c);
        CHECK(c->text == "resolve B-2");
        CHECK(c->channel_id == "C1");
        CHECK(c->message_ts.empty());
    }
}

TEST_CASE("interactive payloads that run nothing are ignored", "[envelope]") {
    const std::vector<std::string> ignored = {
        // no action with a value (a select)
        R"({"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},
            "actions":[{"type":"static_select","selected_option":{"value":"x"}}]})",
        // no actions at all
        R"({"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"actions":[]})",
        R"({"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"}})",
        // other interactive kinds
        R"({"type":"view_submission","team":{"id":"T1"},"user":{"id":"U1"},
            "actions":[{"value":"x"}]})",
        R"({"type":"shortcut","team":{"id":"T1"},"user":{"id":"U1"},"callback_id":"c"})",
        // nobody pressed it, or no team known
        R"({"type":"block_actions","team":{"id":"T1"},"actions":[{"value":"x"}]})",
        R"({"type":"block_actions","user":{"id":"U1"},"actions":[{"value":"x"}]})",
        // not JSON, or cut short
        "garbage",
        R"({"type":"block_actions","team":{"id":"T1"},"user":{"id":"U1"},"actions":[{"value":"x"})",
    };
    for (const std::string& payload : ignored) {
        INFO(payload);
        CHECK_FALSE(command_of_action(payload));
    }
}

// ---------------------------------------------------------------------------------------------
// Acks.

TEST_CASE("acks are exact JSON", "[envelope]") {
    CHECK(ack("xxx-11-222-yyy-zzz") == R"({"envelope_id":"xxx-11-222-yyy-zzz"})");
    // §2.5, the python SDK's test, verbatim.
    CHECK(ack_with_text("1d3c79ab-0ffb-41f3-a080-d19e85f53649", "Thanks!") ==
          R"({"envelope_id":"1d3c79ab-0ffb-41f3-a080-d19e85f53649","payload":{"text":"Thanks!"}})");
}

TEST_CASE("ack texts are escaped", "[envelope]") {
    CHECK(ack_with_text("e1", "say \"hi\"\nnext\tline \\ end") ==
          R"({"envelope_id":"e1","payload":{"text":"say \"hi\"\nnext\tline \\ end"}})");
    CHECK(ack_with_text("e1", "caf\xC3\xA9 \xF0\x9F\x8C\x8A <@U1>") ==
          "{\"envelope_id\":\"e1\",\"payload\":{\"text\":\"caf\xC3\xA9 \xF0\x9F\x8C\x8A <@U1>\"}}");
    CHECK(ack_with_text("e1", std::string("a\x01z", 3)) ==
          R"({"envelope_id":"e1","payload":{"text":"a\u0001z"}})");
    CHECK(ack("id\"with\\odd") == R"({"envelope_id":"id\"with\\odd"})");
    // What went in comes back out.
    const std::string text = "line 1\nline 2 \"quoted\" \xE2\x82\xAC";
    CHECK(str(parse_body(ack_with_text("e2", text)).at("payload").at("text")) == text);
}

// ---------------------------------------------------------------------------------------------
// Message bodies.

TEST_CASE("a chat.postMessage body has its exact shape", "[envelope]") {
    effect e;
    e.to = destination::channel;
    e.text = "*B-1* deploy is blocked";
    CHECK(post_message_body(e, "C1", "") ==
          R"({"channel":"C1","text":"*B-1* deploy is blocked","blocks":[{"type":"section",)"
          R"("text":{"type":"mrkdwn","text":"*B-1* deploy is blocked"}}],"unfurl_links":false})");

    e.buttons = {{"Ack", "ack", "ack B-1"}};
    CHECK(
        post_message_body(e, "C1", "1605853800.000100") ==
        R"({"channel":"C1","text":"*B-1* deploy is blocked","thread_ts":"1605853800.000100",)"
        R"("blocks":[{"type":"section","text":{"type":"mrkdwn","text":"*B-1* deploy is blocked"}},)"
        R"({"type":"actions","elements":[{"type":"button","text":{"type":"plain_text",)"
        R"("text":"Ack","emoji":true},"action_id":"ack","value":"ack B-1"}]}],)"
        R"("unfurl_links":false})");
}

TEST_CASE("thread_ts is sent only when set", "[envelope]") {
    effect e;
    e.text = "hi";
    e.thread_ts = "9.9"; // post_message_body takes the thread as an argument, not from here
    const auto top = parse_body(post_message_body(e, "C1", ""));
    CHECK_FALSE(top.contains("thread_ts"));
    const auto reply = parse_body(post_message_body(e, "C1", "1.5"));
    CHECK(str(reply.at("thread_ts")) == "1.5");
    CHECK(str(reply.at("channel")) == "C1");
    CHECK(reply.at("unfurl_links") == false);
}

TEST_CASE("text and escapes survive the round trip", "[envelope]") {
    effect e;
    e.text = "a \"quote\"\n\\back\tslash &lt;b&gt; \xF0\x9F\x8C\x8A";
    const auto body = parse_body(post_message_body(e, "C1", ""));
    CHECK(str(body.at("text")) == e.text);
    CHECK(str(body.at("blocks").at(0).at("text").at("text")) == e.text);
}

TEST_CASE("long text is split into sections of at most 3000 characters", "[envelope]") {
    SECTION("on newlines when possible") {
        const std::string line = repeat("x", 1999);
        effect e;
        e.text = line + "\n" + line + "\n" + line;
        const auto blocks = parse_body(post_message_body(e, "C1", "")).at("blocks").as_array();
        REQUIRE(blocks.size() == 3);
        for (const auto& b : blocks) {
            CHECK(str(b.at("type")) == "section");
            CHECK(str(b.at("text").at("text")) == line);
        }
    }
    SECTION("a newline right after the limit is used") {
        const std::string first = repeat("a", 3000);
        effect e;
        e.text = first + "\nsecond";
        const auto blocks = parse_body(post_message_body(e, "C1", "")).at("blocks").as_array();
        REQUIRE(blocks.size() == 2);
        CHECK(str(blocks[0].at("text").at("text")) == first);
        CHECK(str(blocks[1].at("text").at("text")) == "second");
    }
    SECTION("on spaces when a line is too long") {
        effect e;
        e.text = repeat("word ", 1000); // 5000 characters
        const auto blocks = parse_body(post_message_body(e, "C1", "")).at("blocks").as_array();
        REQUIRE(blocks.size() == 2);
        for (const auto& b : blocks) {
            const std::string t = str(b.at("text").at("text"));
            CHECK(t.size() <= 3000);
            CHECK(t.rfind("word", 0) == 0);
            CHECK(t[t.find_last_not_of(' ')] == 'd');
        }
    }
    SECTION("anywhere on a character boundary when there is no space") {
        effect e;
        e.text = repeat("a", 7000);
        const auto blocks = parse_body(post_message_body(e, "C1", "")).at("blocks").as_array();
        REQUIRE(blocks.size() == 3);
        CHECK(blocks[0].at("text").at("text").as_string().size() == 3000);
        CHECK(blocks[1].at("text").at("text").as_string().size() == 3000);
        CHECK(blocks[2].at("text").at("text").as_string().size() == 1000);
    }
    SECTION("never inside a UTF-8 sequence") {
        for (const std::string ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x8C\x8A"}) {
            for (std::size_t lead = 0; lead < 4; ++lead) {
                effect e;
                e.text = repeat("a", lead) + repeat(ch, 4000);
                const auto blocks =
                    parse_body(post_message_body(e, "C1", "")).at("blocks").as_array();
                std::string joined;
                for (const auto& b : blocks) {
                    const std::string t = str(b.at("text").at("text"));
                    CHECK(valid_utf8(t));
                    CHECK(utf16_length(t) <= 3000);
                    joined += t;
                }
                CHECK(joined == e.text);
            }
        }
    }
    SECTION("astral characters count twice") {
        effect e;
        e.text = repeat("\xF0\x9F\x8C\x8A", 1500);
        CHECK(parse_body(post_message_body(e, "C1", "")).at("blocks").as_array().size() == 1);
        e.text += "\xF0\x9F\x8C\x8A";
        CHECK(parse_body(post_message_body(e, "C1", "")).at("blocks").as_array().size() == 2);
    }
    SECTION("blank pieces make no section") {
        effect e;
        e.text = repeat("a", 3000) + "\n\n\n" + "b";
        const auto blocks = parse_body(post_message_body(e, "C1", "")).at("blocks").as_array();
        REQUIRE(blocks.size() == 2);
        CHECK(str(blocks[1].at("text").at("text")).find('b') != std::string::npos);
    }
}

TEST_CASE("a message holds at most 50 blocks", "[envelope]") {
    effect e;
    e.text = repeat(repeat("z", 2999) + "\n", 60);
    SECTION("sections only") {
        const auto body = parse_body(post_message_body(e, "C1", ""));
        const auto& blocks = body.at("blocks").as_array();
        CHECK(blocks.size() == 50);
        for (const auto& b : blocks) {
            CHECK(str(b.at("type")) == "section");
        }
    }
    SECTION("with buttons, the actions block is kept last") {
        e.buttons = {{"Ack", "ack", "ack B-1"}};
        const auto body = parse_body(post_message_body(e, "C1", ""));
        const auto& blocks = body.at("blocks").as_array();
        REQUIRE(blocks.size() == 50);
        CHECK(str(blocks[48].at("type")) == "section");
        CHECK(str(blocks[49].at("type")) == "actions");
    }
}

TEST_CASE("the text fallback is cut at 40,000 characters on a UTF-8 boundary", "[envelope]") {
    effect e;
    e.text = repeat("a", 39'999) + "\xC3\xA9" + "b";
    std::string text = str(parse_body(post_message_body(e, "C1", "")).at("text"));
    CHECK(text == repeat("a", 39'999) + "\xC3\xA9");
    CHECK(code_points(text) == 40'000);

    e.text = repeat("a", 39'999) + "\xE2\x82\xAC\xE2\x82\xAC";
    text = str(parse_body(post_message_body(e, "C1", "")).at("text"));
    CHECK(text == repeat("a", 39'999) + "\xE2\x82\xAC");

    // An astral character counts 2, so it does not fit in the last place.
    e.text = repeat("a", 39'999) + "\xF0\x9F\x8C\x8A";
    text = str(parse_body(post_message_body(e, "C1", "")).at("text"));
    CHECK(text == repeat("a", 39'999));

    for (std::size_t lead = 0; lead < 4; ++lead) {
        e.text = repeat("a", lead) + repeat("\xF0\x9F\x8C\x8A", 25'000);
        text = str(parse_body(post_message_body(e, "C1", "")).at("text"));
        CHECK(valid_utf8(text));
        CHECK(utf16_length(text) <= 40'000);
        CHECK(utf16_length(text) >= 39'999);
    }

    e.text = repeat("a", 40'000);
    CHECK(str(parse_body(post_message_body(e, "C1", "")).at("text")) == e.text);
}

TEST_CASE("button texts are cut at 75 characters", "[envelope]") {
    effect e;
    e.text = "pick";
    e.buttons = {
        {repeat("b", 75), "exact", "x"},
        {repeat("b", 100), "long", "x"},
        {repeat("\xC3\xA9", 80), "accents", "x"},
        {repeat("\xF0\x9F\x8C\x8A", 40), "emoji", "x"},
        {"", "empty", "resolve B-1"},
    };
    const auto body = parse_body(post_message_body(e, "C1", ""));
    const auto& elements = body.at("blocks").at(1).at("elements").as_array();
    REQUIRE(elements.size() == 5);
    CHECK(str(elements[0].at("text").at("text")) == repeat("b", 75));
    for (const auto& el : elements) {
        const std::string t = str(el.at("text").at("text"));
        INFO(t);
        CHECK(str(el.at("text").at("type")) == "plain_text");
        CHECK(el.at("text").at("emoji") == true);
        CHECK(valid_utf8(t));
        CHECK_FALSE(t.empty());
        CHECK(utf16_length(t) <= 75);
    }
    CHECK(str(elements[1].at("text").at("text")) == repeat("b", 74) + "\xE2\x80\xA6");
    CHECK(str(elements[4].at("text").at("text")) == "resolve B-1");
    CHECK(str(elements[4].at("value")) == "resolve B-1");
}

TEST_CASE("action_ids are unique within a message", "[envelope]") {
    effect e;
    e.text = "B-1 and B-2";
    e.buttons = {
        {"Ack B-1", "ack", "ack B-1"},
        {"Ack B-2", "ack", "ack B-2"},
        {"Ack B-3", "ack", "ack B-3"},
        {"Other", "ack-2", "x"},
        {"No id", "", "y"},
        {"No id", "", "z"},
    };
    const auto body = parse_body(post_message_body(e, "C1", ""));
    const auto& elements = body.at("blocks").at(1).at("elements").as_array();
    REQUIRE(elements.size() == 6);
    std::vector<std::string> ids;
    for (const auto& el : elements) {
        ids.push_back(str(el.at("action_id")));
    }
    CHECK(ids ==
          std::vector<std::string>{"ack", "ack-2", "ack-3", "ack-2-2", "button", "button-2"});
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
    // Values are what the buttons run, kept as they are.
    CHECK(str(elements[1].at("value")) == "ack B-2");
}

TEST_CASE("an actions block holds at most 25 buttons", "[envelope]") {
    effect e;
    e.text = "many";
    for (int i = 0; i < 30; ++i) {
        e.buttons.push_back({"b" + std::to_string(i), "b" + std::to_string(i), "v"});
    }
    const auto body = parse_body(post_message_body(e, "C1", ""));
    CHECK(body.at("blocks").at(1).at("elements").as_array().size() == 25);
}

TEST_CASE("empty text makes no section", "[envelope]") {
    effect e;
    const auto bare = parse_body(post_message_body(e, "C1", ""));
    CHECK_FALSE(bare.contains("blocks"));
    CHECK(str(bare.at("text")).empty());

    e.buttons = {{"Go", "go", "go"}};
    const auto only_buttons = parse_body(post_message_body(e, "C1", ""));
    REQUIRE(only_buttons.at("blocks").as_array().size() == 1);
    CHECK(str(only_buttons.at("blocks").at(0).at("type")) == "actions");
}

TEST_CASE("a chat.postEphemeral body", "[envelope]") {
    effect e;
    e.to = destination::ephemeral;
    e.channel = "C1";
    e.user = "U1";
    e.text = "only you";
    CHECK(post_ephemeral_body(e) ==
          R"({"channel":"C1","user":"U1","text":"only you","blocks":[{"type":"section",)"
          R"("text":{"type":"mrkdwn","text":"only you"}}]})");

    e.thread_ts = "1.5";
    e.buttons = {{"Yes", "yes", "yes"}, {"Yes again", "yes", "yes 2"}};
    const auto body = parse_body(post_ephemeral_body(e));
    CHECK(str(body.at("channel")) == "C1");
    CHECK(str(body.at("user")) == "U1");
    CHECK(str(body.at("thread_ts")) == "1.5");
    CHECK_FALSE(body.contains("unfurl_links"));
    CHECK(str(body.at("blocks").at(1).at("elements").at(1).at("action_id")) == "yes-2");
}

// ---------------------------------------------------------------------------------------------
// Web API replies (§6.2 examples, verbatim).

TEST_CASE("parse_api_reply: chat.postMessage", "[envelope]") {
    const api_reply r = parse_api_reply(R"({
 "channel": "C1H9RESGL",
 "message": {
  "attachments": [
   {
    "fallback": "This is an attachment's fallback",
    "id": 1,
    "text": "This is an attachment"
   }
  ],
  "bot_id": "B19LU7CSY",
  "subtype": "bot_message",
  "text": "Here's a message for you",
  "ts": "1503435956.000247",
  "type": "message",
  "username": "ecto1"
 },
 "ok": true,
 "ts": "1503435956.000247"
})");
    CHECK(r.ok);
    CHECK(r.error.empty());
    CHECK(r.channel == "C1H9RESGL");
    CHECK(r.ts == "1503435956.000247");
    CHECK(r.bot_id.empty()); // the message's bot_id is not auth.test's
}

TEST_CASE("parse_api_reply: chat.postEphemeral and chat.update", "[envelope]") {
    const api_reply eph = parse_api_reply(R"({"message_ts": "1502210682.580145", "ok": true})");
    CHECK(eph.ok);
    CHECK(eph.ts == "1502210682.580145");

    const api_reply upd = parse_api_reply(R"({
 "channel": "C024BE91L",
 "message": {
  "text": "Updated text you carefully authored",
  "user": "U34567890"
 },
 "ok": true,
 "text": "Updated text you carefully authored",
 "ts": "1401383885.000061"
})");
    CHECK(upd.ok);
    CHECK(upd.channel == "C024BE91L");
    CHECK(upd.ts == "1401383885.000061");
    CHECK(upd.user_id.empty());
}

TEST_CASE("parse_api_reply: conversations.open and apps.connections.open", "[envelope]") {
    const api_reply open = parse_api_reply(R"({
 "channel": {
  "id": "D069C7QFK"
 },
 "ok": true
})");
    CHECK(open.ok);
    CHECK(open.channel == "D069C7QFK");

    const api_reply conn = parse_api_reply(R"({
    "ok": true,
    "url": "wss://wss-somethiing.slack.com/link/?ticket=12348&app_id=5678"
})");
    CHECK(conn.ok);
    CHECK(conn.url == "wss://wss-somethiing.slack.com/link/?ticket=12348&app_id=5678");
}

TEST_CASE("parse_api_reply: auth.test", "[envelope]") {
    const api_reply r = parse_api_reply(R"({
"ok": true,
"url": "https://subarachnoid.slack.com/",
"team": "Subarachnoid Workspace",
"user": "bot",
"team_id": "T0G9PQBBK",
"user_id": "W23456789",
"bot_id": "BZYBOTHED"
})");
    CHECK(r.ok);
    CHECK(r.url == "https://subarachnoid.slack.com/");
    CHECK(r.team_id == "T0G9PQBBK");
    CHECK(r.user_id == "W23456789");
    CHECK(r.bot_id == "BZYBOTHED");
    CHECK(r.tz.empty());
    CHECK_FALSE(r.is_admin);
}

TEST_CASE("parse_api_reply: users.info", "[envelope]") {
    // The reference's example is truncated after tz_offset; closed here.
    const api_reply r = parse_api_reply(R"({
"ok": true,
"user": {
"id": "W012A3CDE",
"team_id": "T012AB3C4",
"name": "spengler",
"deleted": false,
"color": "9f69e7",
"real_name": "Egon Spengler",
"tz": "America/Los_Angeles",
"tz_label": "Pacific Daylight Time",
"tz_offset": -25200
}
})");
    CHECK(r.ok);
    CHECK(r.tz == "America/Los_Angeles");
    CHECK_FALSE(r.deleted);
    CHECK_FALSE(r.is_admin);
    CHECK(r.team_id.empty()); // user.team_id is not auth.test's team_id

    const api_reply slackbot = parse_api_reply(
        R"({"ok":true,"user":{"id":"USLACKBOT","tz":null,"tz_label":"Pacific Daylight Time","tz_offset":-25200}})");
    CHECK(slackbot.ok);
    CHECK(slackbot.tz.empty());

    CHECK(parse_api_reply(R"({"ok":true,"user":{"is_admin":true,"is_owner":false}})").is_admin);
    CHECK(parse_api_reply(R"({"ok":true,"user":{"is_admin":false,"is_owner":true}})").is_admin);
    CHECK_FALSE(
        parse_api_reply(R"({"ok":true,"user":{"is_admin":false,"is_owner":false}})").is_admin);
    CHECK(parse_api_reply(R"({"ok":true,"user":{"deleted":true}})").deleted);
}

TEST_CASE("parse_api_reply: errors", "[envelope]") {
    // §6.1: the 429 body, verbatim.
    const api_reply limited = parse_api_reply(R"({"ok":false,"error":"ratelimited"})");
    CHECK_FALSE(limited.ok);
    CHECK(limited.error == "ratelimited");

    const api_reply invalid = parse_api_reply(
        R"({"ok": false, "error": "invalid_arguments", "response_metadata": {"messages": ["invalid `user_id`"]}})");
    CHECK_FALSE(invalid.ok);
    CHECK(invalid.error == "invalid_arguments");

    const api_reply warned = parse_api_reply(R"({ "ok": true, "warning": "superfluous_charset" })");
    CHECK(warned.ok);
    CHECK(warned.error.empty());
}

TEST_CASE("parse_api_reply: garbage is invalid_json and never throws", "[envelope]") {
    for (const std::string body :
         {"", "<html><body>502 Bad Gateway</body></html>", "[]", "null", "true", R"({"ok":true)",
          R"({"ok":true} {"ok":true})", R"({"ok":true,"ts":"1.2",})", "\xff\xfe\x00garbage"}) {
        INFO(body);
        api_reply r;
        CHECK_NOTHROW(r = parse_api_reply(body));
        CHECK_FALSE(r.ok);
        CHECK(r.error == "invalid_json");
        CHECK(r.ts.empty());
    }
    // Valid JSON without a boolean ok is not ok.
    CHECK_FALSE(parse_api_reply(R"({"ok":"true"})").ok);
    CHECK_FALSE(parse_api_reply("{}").ok);
}

TEST_CASE("HTTP mode: a form body decodes, and becomes a slash command", "[envelope][http]") {
    // Slack's own HTTP-mode body (reference §3.1).
    auto form = slack::parse_form(
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
        "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
        "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
        "803a0bc887a14d10d2c447fce8b6703c");
    REQUIRE(form);
    CHECK(form->at("command") == "/webhook-collect");
    CHECK(form->at("text").empty());
    CHECK(form->at("response_url") ==
          "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN");
    auto cmd = slack::command_of_slash(slack::form_as_json(*form));
    REQUIRE(cmd);
    CHECK(cmd->team_id == "T1DC2JH3J");
    CHECK(cmd->user_id == "U2CERLKJA");
    CHECK(cmd->channel_id == "G8PSS9T3V");

    form = slack::parse_form("text=a+b%20c%26d%3D%F0%9F%9A%80&&x&text=last&empty=");
    REQUIRE(form);
    CHECK(form->at("text") == "last"); // the last of a repeated name
    CHECK(form->at("x").empty());
    CHECK(form->at("empty").empty());
    form = slack::parse_form("text=a+b%20c%26d%3D%F0%9F%9A%80");
    CHECK(form->at("text") == "a b c&d=\xF0\x9F\x9A\x80");
    for (const char* bad : {"text=%", "text=%4", "text=%zz", "%g1=x"}) {
        INFO(bad);
        CHECK_FALSE(slack::parse_form(bad));
    }
    // Bytes that are not UTF-8 still make valid JSON.
    auto json_text = slack::form_as_json(*slack::parse_form("text=%FF%FE&user_id=U1"));
    CHECK(boost::json::parse(json_text).as_object().at("text").as_string() ==
          "\xEF\xBF\xBD\xEF\xBF\xBD");
    CHECK(slack::parse_form("")->empty());
}

TEST_CASE("HTTP mode: url_verification and the reply body", "[envelope][http]") {
    auto c = slack::url_verification_challenge(
        R"({"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"})");
    REQUIRE(c);
    CHECK(*c == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    CHECK(slack::challenge_body(*c) ==
          R"({"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})");
    CHECK_FALSE(slack::url_verification_challenge(R"({"type":"event_callback","challenge":"x"})"));
    CHECK_FALSE(slack::url_verification_challenge(R"({"type":"url_verification"})"));
    CHECK_FALSE(slack::url_verification_challenge(R"({"type":"url_verification","challenge":1})"));
    CHECK_FALSE(slack::url_verification_challenge("not json"));
    CHECK_FALSE(slack::url_verification_challenge("[]"));
    CHECK(slack::reply_body("a \"b\"") == R"({"text":"a \"b\""})");
    auto long_reply = boost::json::parse(slack::reply_body(std::string(50000, 'x')));
    CHECK(long_reply.as_object().at("text").as_string().size() == 40000);
}
