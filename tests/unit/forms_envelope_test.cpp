// Shortcuts and forms on the wire: message_action and view_submission payloads from Slack's
// SDK fixtures, the views.open body and the errors answer.
#include "envelope.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

using namespace tpmbot;
using namespace tpmbot::slack;
namespace json = boost::json;

namespace {

/// The payload of the saved interactive frame `name` (tests/data/frames, from this file's
/// path).
std::string payload_of(const std::string& name) {
    auto dir = std::filesystem::path(__FILE__).parent_path().parent_path() / "data" / "frames";
    std::ifstream in(dir / name, std::ios::binary);
    REQUIRE(in.good());
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const frame f = parse_frame(text);
    REQUIRE(f.kind == frame_kind::interactive);
    return f.payload;
}

} // namespace

TEST_CASE("a message shortcut from Slack's fixture: who, where, which message, its link",
          "[envelope][forms]") {
    auto payload = payload_of("interactive_message_action.json");
    CHECK(interactive_type(payload) == "message_action");
    auto sc = parse_message_action(payload);
    REQUIRE(sc);
    CHECK(sc->callback_id == "test-message-action");
    CHECK(sc->trigger_id == "123.123.xxx");
    CHECK(sc->team_id == "T123");
    CHECK(sc->team_domain == "test-test");
    CHECK(sc->user_id == "U123");
    CHECK(sc->message.channel == "C123");
    CHECK(sc->message.ts == "1583636382.000300");
    CHECK(sc->message.thread_ts.empty());
    CHECK(sc->message.text == "<@U234> test");
    CHECK(sc->message.author == "U123");
    CHECK(sc->message.permalink == "https://test-test.slack.com/archives/C123/p1583636382000300");
    // A button press or a submission is not a shortcut.
    CHECK_FALSE(parse_message_action(payload_of("interactive_view_submission.json")));
}

TEST_CASE("a message shortcut without a team, a channel or a message is refused, a reply in "
          "a thread links to its thread",
          "[envelope][forms]") {
    auto base = json::parse(payload_of("interactive_message_action.json")).as_object();
    SECTION("in a thread") {
        auto p = base;
        p["message"].as_object()["thread_ts"] = "1583636000.000100";
        auto sc = parse_message_action(json::serialize(p));
        REQUIRE(sc);
        CHECK(sc->message.thread_ts == "1583636000.000100");
        CHECK(sc->message.permalink ==
              "https://test-test.slack.com/archives/C123/p1583636382000300?thread_ts="
              "1583636000.000100&cid=C123");
    }
    SECTION("an org-wide install: team null, the user's team; no domain, no link") {
        auto p = base;
        p["team"] = nullptr;
        p["user"].as_object()["team_id"] = "T999";
        auto sc = parse_message_action(json::serialize(p));
        REQUIRE(sc);
        CHECK(sc->team_id == "T999");
        CHECK(sc->message.permalink.empty());
    }
    for (const char* key : {"channel", "message", "user"}) {
        auto p = base;
        p.erase(key);
        INFO(key);
        CHECK_FALSE(parse_message_action(json::serialize(p)));
    }
    CHECK_FALSE(parse_message_action("not json"));
    CHECK(interactive_type("not json").empty());
}

TEST_CASE("a view submission from Slack's fixture: the form, who, and each input's value",
          "[envelope][forms]") {
    auto payload = payload_of("interactive_view_submission.json");
    CHECK(interactive_type(payload) == "view_submission");
    auto c = command_of_submission(payload);
    REQUIRE(c);
    CHECK(c->from == source::form);
    CHECK(c->team_id == "T111");
    CHECK(c->user_id == "W111");
    CHECK(c->form_id == "view-id");
    CHECK(c->form_context == "This is for you!");
    CHECK(c->fields == std::map<std::string, std::string>{{"hspI", "test"}});
    CHECK_FALSE(command_of_submission(payload_of("interactive_message_action.json")));
}

TEST_CASE("a view submission's selects, user and date pickers, and inputs left blank",
          "[envelope][forms]") {
    auto p = json::parse(payload_of("interactive_view_submission.json")).as_object();
    // Shapes as in python-slack-sdk's test_all_state_values; a blank input is null.
    p["view"].as_object()["state"] = json::parse(R"({"values": {
        "title": {"value": {"type": "plain_text_input", "value": "Something wrong\nPlease help"}},
        "dri": {"value": {"type": "users_select", "selected_user": "U123"}},
        "severity": {"value": {"type": "static_select", "selected_option":
            {"text": {"type": "plain_text", "text": "High"}, "value": "high"}}},
        "due": {"value": {"type": "datepicker", "selected_date": "1990-04-12"}},
        "waiting": {"value": {"type": "plain_text_input", "value": null}},
        "none": {"value": {"type": "static_select", "selected_option": null}}
    }})");
    p["team"] = nullptr; // org-wide install: the view's team
    auto c = command_of_submission(json::serialize(p));
    REQUIRE(c);
    CHECK(c->team_id == "T111");
    CHECK(c->fields.at("title") == "Something wrong\nPlease help");
    CHECK(c->fields.at("dri") == "U123");
    CHECK(c->fields.at("severity") == "high");
    CHECK(c->fields.at("due") == "1990-04-12");
    CHECK(c->fields.at("waiting").empty());
    CHECK(c->fields.at("none").empty());
}

TEST_CASE("views.open shows a shortcut's form as a modal", "[envelope][forms]") {
    message_ref m;
    m.channel = "C123";
    m.ts = "1583636382.000300";
    m.text = "waiting on legal &amp; <@U234> for the DPA";
    m.author = "U123";
    m.permalink = "https://test-test.slack.com/archives/C123/p1583636382000300";
    auto f = shortcut_form(log_blocker_form, m);
    REQUIRE(f);
    auto body = json::parse(open_view_body(*f, "123.123.xxx")).as_object();
    CHECK(body.at("trigger_id") == "123.123.xxx");
    const auto& view = body.at("view").as_object();
    CHECK(view.at("type") == "modal");
    CHECK(view.at("callback_id") == "log_blocker");
    CHECK(view.at("title").at("text") == "Log as blocker");
    CHECK(view.at("submit").at("text") == "Save"); // input blocks need a submit button
    CHECK(view.at("private_metadata").as_string().size() <= 3000);
    const auto& blocks = view.at("blocks").as_array();
    REQUIRE(blocks.size() == 4);
    for (const auto& b : blocks) {
        CHECK(b.at("type") == "input");
    }
    CHECK(blocks[0].at("block_id") == "title");
    CHECK(blocks[0].at("element").at("type") == "plain_text_input");
    CHECK(blocks[0].at("element").at("multiline") == true);
    // What the person sees: the message's text as typed, entities decoded.
    CHECK(blocks[0].at("element").at("initial_value") == "waiting on legal & <@U234> for the DPA");
    CHECK(blocks[0].at("element").at("max_length") == 500);
    CHECK(blocks[0].at("optional") == false);
    CHECK(blocks[1].at("element").at("type") == "users_select");
    CHECK(blocks[1].at("element").at("initial_user") == "U123");
    CHECK(blocks[2].at("element").at("type") == "static_select");
    CHECK(blocks[2].at("element").at("initial_option").at("value") == "med");
    CHECK(blocks[2].at("element").at("options").as_array().size() == 3);
    CHECK(blocks[3].at("optional") == true);

    auto d = shortcut_form(log_decision_form, m);
    REQUIRE(d);
    auto dview = json::parse(open_view_body(*d, "t")).at("view");
    CHECK(dview.at("title").at("text") == "Log as decision");
    CHECK(dview.at("blocks").at(2).at("element").at("type") == "datepicker");
    CHECK(dview.at("blocks").at(3).at("hint").at("text") == "One per line, at most 10.");
    CHECK_FALSE(shortcut_form("something_else", m));

    // Slack's limit: the message's text (prefilled, up to 40,000 characters) must not ride in
    // the metadata; a long message would push it over.
    m.text = std::string(4000, 'x');
    auto long_message = shortcut_form(log_blocker_form, m);
    REQUIRE(long_message);
    auto long_view = json::parse(open_view_body(*long_message, "123.123.xxx")).at("view");
    CHECK(long_view.at("private_metadata").as_string().size() <= 3000);
}

TEST_CASE("a refused form is answered with its errors, by field", "[envelope][forms]") {
    std::map<std::string, std::string> errors{{"title", "Say what is blocked."},
                                              {"due", "Pick today or a later day."}};
    auto http = json::parse(form_errors_body(errors));
    CHECK(http.at("response_action") == "errors");
    CHECK(http.at("errors").at("title") == "Say what is blocked.");
    CHECK(http.at("errors").at("due") == "Pick today or a later day.");
    auto ack = json::parse(ack_with_form_errors("env-1", errors));
    CHECK(ack.at("envelope_id") == "env-1");
    CHECK(ack.at("payload") == http);
}

TEST_CASE("a person picker is drawn as users_select carrying its command, choosing someone "
          "runs it for them",
          "[envelope][picker]") {
    effect e;
    e.to = destination::dm;
    e.user = "UADMIN";
    e.text = "Unowned";
    e.buttons = {{"Take B-12", "assign", "owner B-12 me"},
                 {"Assign B-12…", "assign_to", "owner B-12", true}};
    auto body = json::parse(post_message_body(e, "D1", "")).as_object();
    const auto& blocks = body.at("blocks").as_array();
    const auto& elements = blocks.back().at("elements").as_array();
    REQUIRE(elements.size() == 2);
    CHECK(elements[0].at("type") == "button");
    CHECK(elements[1].at("type") == "users_select");
    CHECK(elements[1].at("placeholder").at("text") == "Assign B-12…");
    CHECK(elements[1].at("action_id") == "pick:owner B-12");
    CHECK_FALSE(elements[1].as_object().contains("value"));

    // Slack's block_actions for a users_select (reference §5: selected_user, no value).
    auto payload = json::parse(R"({
      "type": "block_actions",
      "user": {"id": "UADMIN", "username": "admin", "team_id": "T111"},
      "team": {"id": "T111", "domain": "acme"},
      "channel": {"id": "D1", "name": "directmessage"},
      "container": {"type": "message", "message_ts": "1.2", "channel_id": "D1"},
      "actions": [{"type": "users_select", "action_id": "pick:owner B-12",
                   "block_id": "x", "selected_user": "UDANA", "action_ts": "1.3"}]
    })");
    auto c = command_of_action(json::serialize(payload));
    REQUIRE(c);
    CHECK(c->text == "owner B-12 <@UDANA>");
    CHECK(c->user_id == "UADMIN");
    // Another app's select (or ours with nobody chosen) runs nothing.
    payload.at("actions").at(0).as_object()["action_id"] = "someone_elses";
    CHECK_FALSE(command_of_action(json::serialize(payload)));
    payload.at("actions").at(0).as_object()["action_id"] = "pick:owner B-12";
    payload.at("actions").at(0).as_object().erase("selected_user");
    CHECK_FALSE(command_of_action(json::serialize(payload)));
}
