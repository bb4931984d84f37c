// Message shortcuts' forms (SPEC §6): pre-filled from the message; a submission records the
// item in the message's thread with its link; fields that cannot be taken come back as
// errors by field, and nothing is written.
#include "forms.hpp"
#include "mrkdwn.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

message_ref a_message(std::string text = "waiting on legal &amp; <@ULEE> for the DPA") {
    message_ref m;
    m.channel = "CDESIGN";
    m.ts = "1795597000.000200";
    m.text = std::move(text);
    m.author = "UDANA";
    m.permalink = "https://acme.slack.com/archives/CDESIGN/p1795597000000200";
    return m;
}

/// Submits form `f` with `changes` over its initial values, as `user`.
handled submit(harness& h, const form& f, std::map<std::string, std::string> changes = {},
               std::string user = "UME") {
    auto cmd = h.make("", std::move(user));
    cmd.from = source::form;
    cmd.command_name.clear();
    cmd.form_id = f.id;
    cmd.form_context = f.context;
    cmd.fields = initial_fields(f);
    for (auto& [k, v] : changes) {
        cmd.fields[k] = v;
    }
    return h.dispatch.handle(cmd);
}

} // namespace

TEST_CASE("Log as blocker: the form is filled from the message", "[forms]") {
    auto f = shortcut_form(log_blocker_form, a_message());
    REQUIRE(f);
    CHECK(f->title == "Log as blocker");
    REQUIRE(f->fields.size() == 4);
    CHECK(f->fields[0].id == "title");
    CHECK(f->fields[0].initial == "waiting on legal & <@ULEE> for the DPA");
    CHECK_FALSE(f->fields[0].optional);
    CHECK(f->fields[1].id == "dri");
    CHECK(f->fields[1].initial == "UDANA"); // who wrote it drives it, unless changed
    CHECK(f->fields[2].id == "severity");
    CHECK(f->fields[2].initial == "med");
    CHECK(f->fields[3].id == "waiting");
    CHECK(f->fields[3].optional);

    // A long message is cut to what an item may hold, on a character boundary.
    std::string long_text;
    for (int i = 0; i < 300; ++i) {
        long_text += "é€";
    }
    auto cut = shortcut_form(log_blocker_form, a_message(long_text))->fields[0].initial;
    CHECK(char_count(cut) == max_title_chars);
    CHECK(cut == mrkdwn::valid_utf8(cut));
}

TEST_CASE("a submitted blocker form records the blocker, carded in the message's thread",
          "[forms]") {
    harness h;
    auto f = *shortcut_form(log_blocker_form, a_message());
    auto r = submit(h, f, {{"severity", "high"}, {"waiting", "legal <!channel>"}});
    REQUIRE(r.ok);
    CHECK(r.form_errors.empty());
    auto it = h.get("B-1");
    CHECK(it.title == "waiting on legal &amp; <@ULEE> for the DPA");
    CHECK(it.channel_id == "CDESIGN"); // the message's channel, not where the form was opened
    CHECK(it.dri == "UDANA");
    CHECK(it.reporter == "UME");
    CHECK(it.severity == "high");
    CHECK(it.waiting_on == "legal @channel"); // nothing typed pings a crowd
    CHECK(it.permalink == "https://acme.slack.com/archives/CDESIGN/p1795597000000200");
    CHECK(it.thread_channel == "CDESIGN");
    CHECK(it.thread_ts == "1795597000.000200");
    auto card = card_of(r);
    CHECK(card.channel == "CDESIGN");
    CHECK(card.thread_ts == "1795597000.000200");
    CHECK(card.name == "card:B-1");
    CHECK(one(r, destination::dm).user == "UDANA");
    CHECK(h.actions("B-1") == std::vector<std::string>{"created"});
}

TEST_CASE("a title of several lines becomes one line, as every item title is", "[forms]") {
    harness h;
    auto f = *shortcut_form(log_blocker_form, a_message("first line\nsecond line"));
    REQUIRE(submit(h, f, {{"title", "  first line\n\n\tsecond   line \r\n"}}).ok);
    CHECK(h.get("B-1").title == "first line second line");
}

TEST_CASE("a form from a message in a thread cards the item in that thread", "[forms]") {
    harness h;
    auto m = a_message();
    m.thread_ts = "1795590000.000001";
    auto r = submit(h, *shortcut_form(log_blocker_form, m), {{"dri", ""}});
    REQUIRE(r.ok);
    CHECK(card_of(r).thread_ts == "1795590000.000001");
    CHECK(h.get("B-1").dri.empty());
    CHECK(effects_to(r, destination::dm).empty());
}

TEST_CASE("a blocker form that cannot be taken: errors by field, nothing written", "[forms]") {
    harness h;
    auto f = *shortcut_form(log_blocker_form, a_message());
    auto before = h.dump();
    auto r =
        submit(h, f, {{"title", "  "}, {"severity", "urgent"}, {"waiting", std::string(201, 'w')}});
    CHECK_FALSE(r.ok);
    CHECK(r.form_errors ==
          std::map<std::string, std::string>{{"title", "Say what is blocked."},
                                             {"severity", "Pick high, med or low."},
                                             {"waiting", "At most 200 characters; this is 201."}});
    CHECK(r.effects.empty()); // the form stays open: no ephemeral, no card
    CHECK(h.dump() == before);
    CHECK(h.db.pending(0).empty());

    auto long_title = submit(h, f, {{"title", std::string(501, 't')}});
    CHECK(long_title.form_errors.at("title") == "At most 500 characters; this is 501.");
    CHECK(h.items().empty());
}

TEST_CASE("Log as decision: decide-by and options from the form", "[forms]") {
    harness h;
    auto f = *shortcut_form(log_decision_form, a_message("Ship behind a flag or wait?"));
    CHECK(f.title == "Log as decision");
    auto r = submit(h, f, {{"due", "2026-12-04"}, {"options", "flag\n\n  wait &amp; see  \n"}});
    REQUIRE(r.ok);
    auto it = h.get("D-1");
    CHECK(it.title == "Ship behind a flag or wait?");
    CHECK(it.status == "proposed");
    CHECK(it.due == "2026-12-04");
    CHECK(it.options == std::vector<std::string>{"flag", "wait &amp; see"});
    CHECK(it.thread_ts == "1795597000.000200");

    SECTION("errors") {
        auto before = h.dump();
        std::string eleven;
        for (int i = 1; i <= 11; ++i) {
            eleven += "option " + std::to_string(i) + "\n";
        }
        auto past = submit(h, f, {{"due", "2026-11-24"}, {"options", eleven}});
        CHECK(past.form_errors ==
              std::map<std::string, std::string>{{"due", "Pick today or a later day."},
                                                 {"options", "At most 10 options; this has 11."}});
        auto bad = submit(h, f, {{"due", "someday"}, {"options", std::string(201, 'o')}});
        CHECK(bad.form_errors ==
              std::map<std::string, std::string>{
                  {"due", "Pick a day."}, {"options", "At most 200 characters; this is 201."}});
        CHECK(h.dump() == before);
    }
}

TEST_CASE("a form that is not one of ours is refused on its first field", "[forms]") {
    harness h;
    auto f = *shortcut_form(log_blocker_form, a_message());
    f.id = "old_form";
    auto r = submit(h, f);
    CHECK_FALSE(r.ok);
    REQUIRE(r.form_errors.count("title") == 1);
    CHECK(has(r.form_errors.at("title"), "not one of tpmbot's"));
    CHECK(h.items().empty());
}
