// Decisions: propose, decide, reject, extend, supersede, list (`/tpm decision`).
// "Today" is Wed 2026-11-25 in Europe/Berlin (t0 = 09:00 UTC).

#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

using strings = std::vector<std::string>;

} // namespace

TEST_CASE("propose a decision with date, DRI, consulted people and options", "[decision]") {
    harness h;
    auto r = h.ok("decision \"Ship behind a flag or wait?\" by:fri dri:<@ULEE|lee> "
                  "consult:<@UANA|ana>,<@URAJ|raj> options:\"flag\"|\"wait &amp; see\"");
    REQUIRE(r.effects.size() == 2);
    auto card = card_of(r);
    CHECK(card.item == "D-1");
    CHECK(card.is_card);
    CHECK(card.channel == "CGENERAL");
    CHECK(has(card.text, ":thinking_face: *D-1* Ship behind a flag or wait?"));
    CHECK(has(card.text, "DRI <@ULEE>"));
    CHECK(has(card.text, "decide by Fri 2026-11-27"));
    CHECK(has(card.text, "consulted <@UANA>, <@URAJ>"));
    CHECK(has(card.text, "Options: 1. flag   2. wait &amp; see"));
    REQUIRE(card.buttons.size() == 2);
    CHECK(card.buttons[0].value == "owner D-1 me");
    CHECK(card.buttons[1].value == "decision D-1 snooze");
    CHECK(one(r, destination::dm).user == "ULEE");

    auto it = h.get("D-1");
    CHECK(it.kind == item_kind::decision);
    CHECK(it.status == "proposed");
    CHECK(it.title == "Ship behind a flag or wait?");
    CHECK(it.due == "2026-11-27");
    CHECK(it.dri == "ULEE");
    CHECK(it.reporter == "UME");
    CHECK(it.consulted == strings{"<@UANA>", "<@URAJ>"});
    CHECK(it.options == strings{"flag", "wait &amp; see"});
    CHECK(it.closed_at == 0);
    CHECK(h.actions("D-1") == strings{"created"});
}

TEST_CASE("decision dates are light dates in the caller's zone", "[decision][dates]") {
    auto [typed, due] = GENERATE(table<std::string, std::string>({
        {"by:fri", "2026-11-27"},
        {"by:friday", "2026-11-27"},
        {"by:wed", "2026-12-02"}, // strictly after today
        {"by:today", "2026-11-25"},
        {"by:tomorrow", "2026-11-26"},
        {"by:+3d", "2026-11-28"},
        {"by:+2w", "2026-12-09"},
        {"by:2026-12-04", "2026-12-04"},
        {"by:\"next week\"", "2026-11-30"},
        {"by:next week", "2026-11-30"},
        {"by:\"next fri\"", "2026-12-04"},
    }));
    harness h;
    h.ok("decision \"Ship it?\" " + typed);
    CHECK(h.get("D-1").due == due);
    CHECK(h.get("D-1").title == "Ship it?");
}

TEST_CASE("`by:next week` works after an unquoted question too", "[decision][dates]") {
    // BUG (handlers/decision.cpp date_text): for `by:next` the code joins the FIRST word token
    // left in the command, not the word right after `by:next`. With an unquoted question the
    // first word is the question's: `/tpm decision should we ship by:next week` answers
    // "`next should` is not a date", and `/tpm decision ship by:next week sev` would use the
    // wrong word. Fix: remember the position of the by: token and join the token at that
    // position (only when it is a word).
    harness h;
    h.ok("decision should we ship by:next week");
    CHECK(h.get("D-1").due == "2026-11-30");
    CHECK(h.get("D-1").title == "should we ship");
}

TEST_CASE("today is the caller's local date", "[decision][dates]") {
    harness h;
    // 23:30 UTC on Wed is 00:30 on Thu in Berlin: "today" is Thursday there.
    h.ok("decision \"a?\" by:today", "UME", at_time(t0 + 14 * hour + 30 * 60));
    CHECK(h.get("D-1").due == "2026-11-26");
    opts la;
    la.now = t0 + 14 * hour + 30 * 60;
    la.tz = "America/Los_Angeles";
    h.ok("decision \"b?\" by:today", "UME", la);
    CHECK(h.get("D-2").due == "2026-11-25");
    la.tz = "Mars/Olympus";
    CHECK(has(h.refused("decision \"c?\" by:today", "UME", la), "Unknown time zone"));
}

TEST_CASE("decision create errors", "[decision][errors]") {
    harness h;
    SECTION("a date that does not exist") {
        CHECK(has(h.refused("decision \"x?\" by:2026-02-30"),
                  "2026-02-30 is not a date (February 2026 has 28 days)"));
        CHECK(has(h.refused("decision \"x?\" by:2026-13-01"), "there is no month 13"));
    }
    SECTION("a date in the past") {
        auto msg = h.refused("decision \"x?\" by:2026-11-24");
        CHECK(has(msg, "2026-11-24 is in the past (today is 2026-11-25)"));
        CHECK(has(h.refused("decision \"x?\" by:yesterday"), "is in the past"));
    }
    SECTION("not a date at all") {
        CHECK(has(h.refused("decision \"x?\" by:someday"), "`someday` is not a date"));
        CHECK(has(h.refused("decision \"x?\" by:12/04/2026"), "dates are written YYYY-MM-DD"));
    }
    SECTION("no question") {
        CHECK(has(h.refused("decision"), "What needs deciding?"));
        CHECK(has(h.refused("decision by:fri dri:<@ULEE>"), "What needs deciding?"));
    }
    SECTION("people must be mentions") {
        CHECK(has(h.refused("decision \"x?\" dri:lee"), "`dri:` needs a person"));
        CHECK(has(h.refused("decision \"x?\" consult:<@UANA>,raj"), "`consult:` needs a person"));
    }
    SECTION("too many options, or one too long") {
        CHECK(has(h.refused("decision \"x?\" options:a|b|c|d|e|f|g|h|i|j|k"),
                  "11 options is too many; the limit is 10"));
        CHECK(has(h.refused("decision \"x?\" options:\"" + std::string(201, 'o') + "\"|b"),
                  "limit is 200"));
    }
    SECTION("a typo in a key") {
        CHECK(has(h.refused("decision \"x?\" byy:fri"), "Did you mean `by:`?"));
        CHECK(has(h.refused("decision \"x?\" consul:<@UANA>"), "Did you mean `consult:`?"));
    }
    SECTION("question over 500 characters") {
        CHECK(has(h.refused("decision \"" + std::string(501, 'q') + "\""), "limit is 500"));
    }
    SECTION("unterminated quote") {
        CHECK(has(h.refused("decision \"Ship it?"), "Unterminated quote"));
        CHECK(has(h.refused("decision \"x?\" options:\"a|b"), "Unterminated quote"));
    }
    h.ok("decision \"after the errors?\"");
    CHECK(h.items().back().id_str() == "D-1");
}

TEST_CASE("decide records the outcome and the rationale", "[decision][decide]") {
    harness h;
    h.ok("decision \"Ship behind a flag?\" by:fri dri:<@ULEE>", "UPROP");

    SECTION("by the DRI") {
        auto r = h.ok("decision D-1 decide \"ship behind a flag\" because:\"vendor API is late\"",
                      "ULEE", at_time(t0 + day));
        REQUIRE(r.effects.size() == 3);
        auto card = one(r, destination::update);
        CHECK(has(card.text, "Status: :white_check_mark: decided"));
        CHECK(has(card.text, "Outcome: ship behind a flag"));
        CHECK(card.buttons.empty());
        auto t = one(r, destination::thread);
        CHECK(t.item == "D-1");
        CHECK(has(t.text, "*D-1* decided by <@ULEE>: ship behind a flag\nBecause: vendor API is "
                          "late"));
        auto line = one(r, destination::channel);
        CHECK(line.channel == "CGENERAL");
        CHECK(has(line.text, "*D-1* Ship behind a flag? — decided: ship behind a flag"));
        auto it = h.get("D-1");
        CHECK(it.status == "decided");
        CHECK(it.outcome == "ship behind a flag");
        CHECK(it.rationale == "vendor API is late");
        CHECK(it.closed_at == t0 + day);
        CHECK(it.updated_at == t0 + day);
        auto hist = h.history("D-1");
        REQUIRE(hist.size() == 2);
        CHECK(hist[1].action == "decided");
        CHECK(hist[1].detail == "ship behind a flag");

        // Shown with its outcome.
        auto show = one(h.ok("decision D-1", "UX"), destination::ephemeral).text;
        CHECK(has(show, "Status: :white_check_mark: decided"));
        CHECK(has(show, "Outcome: ship behind a flag"));
        CHECK(has(show, "Because: vendor API is late"));

        CHECK(has(h.refused("decision D-1 decide again", "ULEE"),
                  "D-1 is decided, so it cannot be decided"));
        CHECK(has(h.refused("decision D-1 reject", "ULEE"),
                  "D-1 is decided, so it cannot be rejected"));
        CHECK(has(h.refused("decision D-1 extend fri", "ULEE"),
                  "D-1 is decided, so it cannot be extended"));
    }
    SECTION("by the proposer, unquoted, without a rationale") {
        auto r = h.ok("decision D-1 decide ship it", "UPROP");
        CHECK(h.get("D-1").outcome == "ship it");
        CHECK(h.get("D-1").rationale.empty());
        CHECK_FALSE(has(one(r, destination::thread).text, "Because"));
    }
    SECTION("by an admin") {
        h.ok("decision D-1 decide yes", "UBOSS", as_admin());
        CHECK(h.get("D-1").status == "decided");
    }
    SECTION("by someone else: refused") {
        CHECK(has(h.refused("decision D-1 decide yes", "UX"),
                  "Only the DRI (<@ULEE>), the reporter (<@UPROP>) or an admin can decide D-1"));
    }
    SECTION("without an outcome") {
        CHECK(has(h.refused("decision D-1 decide", "ULEE"), "What was decided?"));
        CHECK(has(h.refused("decision D-1 decide because:\"x\"", "ULEE"), "What was decided?"));
    }
    SECTION("an unknown verb: did you mean") {
        auto msg = h.refused("decision D-1 decid yes", "ULEE");
        CHECK(has(msg, "`decid` is not something a decision can do"));
        auto s = suggestions(msg);
        REQUIRE(s.size() == 2);
        CHECK(s[0].starts_with("/tpm decision <id> decide"));
    }
    SECTION("an id of another kind, or unknown") {
        h.ok("blocker b");
        CHECK(has(h.refused("decision B-1 decide yes"), "B-1 is not a decision"));
        CHECK(has(h.refused("decision D-2 decide yes"), "There is no D-2 in this workspace"));
    }
}

TEST_CASE("reject drops the question with a reason", "[decision][reject]") {
    harness h;
    h.ok("decision \"Rewrite in Rust?\" dri:<@ULEE>");
    auto r = h.ok("decision D-1 reject overtaken by the re-plan", "ULEE", at_time(t0 + hour));
    CHECK(has(one(r, destination::thread).text, "*D-1* rejected by <@ULEE>: overtaken by the "
                                                "re-plan"));
    CHECK(has(one(r, destination::channel).text, "*D-1* Rewrite in Rust? — rejected"));
    auto it = h.get("D-1");
    CHECK(it.status == "rejected");
    CHECK(it.note == "overtaken by the re-plan");
    CHECK(it.closed_at == t0 + hour);
    CHECK(has(h.refused("decision D-1 reject", "ULEE"), "D-1 is rejected, so it cannot be"));
    h.ok("decision \"other?\"");
    CHECK(has(h.refused("decision D-2 reject", "UX"), "can mark D-2 rejected"));
}

TEST_CASE("extend moves the decide-by date", "[decision][extend]") {
    harness h;
    h.ok("decision \"Ship?\" by:fri dri:<@ULEE>");
    auto r = h.ok("decision D-1 extend next fri", "ULEE", at_time(t0 + hour));
    auto t = one(r, destination::thread);
    CHECK(has(t.text, "*D-1* now due Fri 2026-12-04 (was Fri 2026-11-27), set by <@ULEE>"));
    auto it = h.get("D-1");
    CHECK(it.due == "2026-12-04");
    CHECK(it.updated_at == t0 + hour);
    CHECK(it.status == "proposed");
    auto hist = h.history("D-1");
    REQUIRE(hist.size() == 2);
    CHECK(hist[1].action == "extended");
    CHECK(hist[1].detail == "2026-11-27 → 2026-12-04");

    h.ok("decision \"undated?\"");
    h.ok("decision D-2 extend 2026-12-10");
    CHECK(h.get("D-2").due == "2026-12-10");
    CHECK(h.history("D-2").back().detail == "no date → 2026-12-10");

    CHECK(has(h.refused("decision D-1 extend", "ULEE"), "Extend to when?"));
    CHECK(has(h.refused("decision D-1 extend 2026-11-01", "ULEE"), "is in the past"));
    CHECK(has(h.refused("decision D-1 extend 2026-02-30", "ULEE"), "is not a date"));
    CHECK(has(h.refused("decision D-1 extend soon", "ULEE"), "`soon` is not a date"));
    CHECK(has(h.refused("decision D-1 extend +3d", "UX"), "can extend D-1"));
}

TEST_CASE("supersede replaces a decided decision", "[decision][supersede]") {
    harness h;
    h.ok("decision \"Use Postgres?\" dri:<@ULEE>"); // D-1
    h.ok("decision D-1 decide yes", "ULEE");
    h.ok("decision \"Use MySQL instead?\" dri:<@ULEE>"); // D-2
    h.ok("decision \"Something else?\"");                // D-3 proposed

    SECTION("both sides are linked, with history and thread replies") {
        auto r = h.ok("decision D-2 supersede D-1", "ULEE", at_time(t0 + hour));
        auto threads = effects_to(r, destination::thread);
        REQUIRE(threads.size() == 2);
        CHECK(threads[0].item == "D-1");
        CHECK(has(threads[0].text, "*D-1* is superseded by *D-2* Use MySQL instead?"));
        CHECK(threads[1].item == "D-2");
        CHECK(has(threads[1].text, "*D-2* supersedes *D-1* Use Postgres?"));
        auto old = h.get("D-1");
        CHECK(old.status == "superseded");
        CHECK(old.superseded_by == "D-2");
        CHECK(old.updated_at == t0 + hour);
        auto now = h.get("D-2");
        CHECK(now.status == "proposed");
        CHECK(now.supersedes == "D-1");
        CHECK(h.history("D-1").back().action == "superseded");
        CHECK(h.history("D-1").back().detail == "by D-2");
        CHECK(h.history("D-2").back().action == "supersedes");
        CHECK(h.history("D-2").back().detail == "D-1");

        auto show = one(h.ok("decision D-1"), destination::ephemeral).text;
        CHECK(has(show, "Superseded by D-2"));
        CHECK(has(one(h.ok("decision D-2"), destination::ephemeral).text, "Supersedes D-1"));

        // Superseded is not decided any more: it cannot be superseded again.
        CHECK(has(h.refused("decision D-3 supersede D-1"),
                  "D-1 is superseded; only a decided decision can be superseded"));
        // A decided decision can supersede another.
        h.ok("decision D-2 decide MySQL", "ULEE");
        h.ok("decision \"Back to Postgres?\" dri:<@ULEE>"); // D-4
        h.ok("decision D-4 decide yes", "ULEE");
        h.ok("decision D-4 supersede D-2", "ULEE");
        CHECK(h.get("D-2").status == "superseded");
    }
    SECTION("the old one must be decided") {
        CHECK(has(h.refused("decision D-2 supersede D-3", "ULEE"),
                  "D-3 is proposed; only a decided decision can be superseded"));
    }
    SECTION("errors") {
        CHECK(has(h.refused("decision D-2 supersede D-2", "ULEE"), "D-2 cannot supersede itself"));
        CHECK(has(h.refused("decision D-2 supersede", "ULEE"), "Which decision does D-2 replace?"));
        CHECK(has(h.refused("decision D-2 supersede B-1", "ULEE"),
                  "Which decision does D-2 replace?"));
        CHECK(has(h.refused("decision D-2 supersede D-9", "ULEE"), "There is no D-9"));
        CHECK(has(h.refused("decision D-2 supersede D-1", "UX"), "can supersede with D-2"));
        h.ok("decision D-3 reject", "UME");
        CHECK(has(h.refused("decision D-3 supersede D-1"), "D-3 is rejected, so it cannot be"));
    }
}

TEST_CASE("superseding someone else's decision needs permission on it", "[decision][supersede]") {
    // BUG (handlers/decision.cpp supersede): permission is checked only on the NEW decision.
    // Anyone can propose a decision (becoming its reporter) and use it to mark any decided
    // decision of others "superseded", which changes that decision's status without its DRI,
    // reporter or an admin (SPEC §8). Fix: also require_modify(old, ...).
    harness h;
    h.ok("decision \"Use Postgres?\" dri:<@ULEE>", "UPROP");
    h.ok("decision D-1 decide yes", "ULEE");
    h.ok("decision \"Use MySQL?\"", "UX");
    auto msg = h.error("decision D-2 supersede D-1", "UX");
    CHECK(has(msg, "D-1"));
    CHECK(h.get("D-1").status == "decided");
}

TEST_CASE("a decision that already supersedes one cannot silently drop that link",
          "[decision][supersede]") {
    // BUG (handlers/decision.cpp supersede): `it.supersedes` holds one id and is overwritten.
    // After `D-3 supersede D-1`, `D-3 supersede D-2` succeeds and D-3 then says "Supersedes
    // D-2" only, while D-1 still says "Superseded by D-3": the two sides disagree. Fix:
    // refuse when it.supersedes is already set (or store a list).
    harness h;
    h.ok("decision \"a?\"");
    h.ok("decision D-1 decide yes");
    h.ok("decision \"b?\"");
    h.ok("decision D-2 decide yes");
    h.ok("decision \"c?\"");
    h.ok("decision D-3 supersede D-1");
    auto before = h.dump();
    auto r = h.run("decision D-3 supersede D-2");
    CHECK_FALSE(r.ok);
    CHECK(h.dump() == before);
    CHECK(h.get("D-3").supersedes == "D-1");
    CHECK(h.get("D-2").status == "decided");
}

TEST_CASE("decision list filters", "[decision][list]") {
    harness h;
    h.ok("decision \"undated?\" dri:<@UME>");      // D-1
    h.ok("decision \"later?\" by:2026-12-10");     // D-2
    h.ok("decision \"soon?\" by:fri dri:<@ULEE>"); // D-3 (11-27)
    h.ok("decision \"done?\" dri:<@UME>");         // D-4 decided
    h.ok("decision D-4 decide we did it");
    h.ok("decision \"dropped?\""); // D-5 rejected
    h.ok("decision D-5 reject");
    h.ok("decision \"elsewhere?\"", "UME", in_team("T2"));

    auto list = [&](const std::string& text, unix_time now = t0) {
        auto before = h.dump();
        auto r = h.ok(text, "UME", at_time(now));
        CHECK(h.dump() == before);
        return one(r, destination::ephemeral).text;
    };

    SECTION("pending by default, soonest first, undated last") {
        auto t = list("decision list");
        CHECK(has(t, "*Pending decisions* (3)"));
        CHECK(ids_in(t) == strings{"D-3", "D-2", "D-1"});
        CHECK(ids_in(list("decision list pending")) == strings{"D-3", "D-2", "D-1"});
    }
    SECTION("overdue: only past their decide-by date, as time moves") {
        CHECK(has(list("decision list overdue"), "none"));
        // Fri 27 is still fine on Fri 27 in Berlin.
        CHECK(ids_in(list("decision list overdue", t0 + 2 * day)).empty());
        auto t = list("decision list overdue", t0 + 3 * day); // Sat 28
        CHECK(ids_in(t) == strings{"D-3"});
        CHECK(has(t, "*overdue 1d*"));
        CHECK(has(t, "decide-by before 2026-11-28"));
        auto t2 = list("decision list overdue", t0 + 20 * day);
        CHECK(ids_in(t2) == strings{"D-3", "D-2"});
        CHECK(has(t2, "*overdue 18d*"));
        // Pending lists mark overdue ones too.
        CHECK(has(list("decision list", t0 + 3 * day), "*overdue 1d*"));
    }
    SECTION("decided, with the outcome") {
        auto t = list("decision list decided");
        CHECK(ids_in(t) == strings{"D-4"});
        CHECK(has(t, "we did it"));
    }
    SECTION("mine: pending ones I am DRI of") {
        CHECK(ids_in(list("decision list mine")) == strings{"D-1"});
    }
    SECTION("all: every status, this workspace only") {
        auto t = list("decision list all");
        CHECK(ids_in(t) == strings{"D-1", "D-2", "D-3", "D-4", "D-5"});
        CHECK_FALSE(has(t, "elsewhere"));
    }
    SECTION("bad filters") {
        CHECK(has(h.refused("decision list soon"), "`soon` is not a decision list filter"));
        CHECK(has(h.refused("decision list pending mine"), "takes one filter"));
    }
}

TEST_CASE("decision update, owner and show", "[decision]") {
    harness h;
    h.ok("decision \"Ship?\" by:fri consult:<@UANA>");
    auto r = h.ok("decision D-1 update legal is fine with either option", "UANA");
    CHECK(has(one(r, destination::thread).text, "legal is fine with either option"));
    CHECK(h.history("D-1").back().action == "updated");
    h.ok("decision D-1 owner <@ULEE>", "UANA");
    CHECK(h.get("D-1").dri == "ULEE");
    auto show = one(h.ok("D-1", "UX"), destination::ephemeral).text;
    CHECK(has(show, "*D-1* Ship?"));
    CHECK(has(show, "Status: :hourglass_flowing_sand: pending"));
    CHECK(has(show, "consulted <@UANA>"));
    CHECK(has(show, "<@UANA> updated: legal is fine"));
    opts o = via("/decision");
    h.ok("\"Via the alias?\"", "UME", o);
    CHECK(h.get("D-2").title == "Via the alias?");
}
