// Risks (`/tpm risk`) and dependencies (`/tpm dep`).

#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

using strings = std::vector<std::string>;

} // namespace

// ---- risk -----------------------------------------------------------------------------------

TEST_CASE("a risk is created with probability, impact, DRI and mitigation", "[risk]") {
    harness h;
    auto r = h.ok("risk \"vendor may slip the API\" p:h i:m dri:<@ULEE> "
                  "mitigation:\"mock the API\"");
    REQUIRE(r.effects.size() == 2);
    auto card = card_of(r);
    CHECK(card.item == "R-1");
    CHECK(card.is_card);
    CHECK(has(card.text, ":warning: *R-1* vendor may slip the API"));
    CHECK(has(card.text, "DRI <@ULEE>"));
    CHECK(has(card.text, "p:h i:m"));
    CHECK(has(card.text, "Mitigation: mock the API"));
    CHECK(one(r, destination::dm).user == "ULEE");
    auto it = h.get("R-1");
    CHECK(it.kind == item_kind::risk);
    CHECK(it.status == "open");
    CHECK(it.title == "vendor may slip the API");
    CHECK(it.probability == "h");
    CHECK(it.impact == "m");
    CHECK(it.dri == "ULEE");
    CHECK(it.mitigation == "mock the API");
    CHECK(h.actions("R-1") == strings{"created"});
}

TEST_CASE("risk levels: defaults and long forms", "[risk]") {
    harness h;
    h.ok("risk the DB may fill up");
    CHECK(h.get("R-1").probability == "m");
    CHECK(h.get("R-1").impact == "m");
    CHECK(h.get("R-1").title == "the DB may fill up");
    h.ok("risk \"x\" p:high i:LOW");
    CHECK(h.get("R-2").probability == "h");
    CHECK(h.get("R-2").impact == "l");
    h.ok("risk \"y\" p:medium i:l");
    CHECK(h.get("R-3").probability == "m");
    CHECK(h.get("R-3").impact == "l");
}

TEST_CASE("risk errors", "[risk][errors]") {
    harness h;
    CHECK(has(h.refused("risk \"x\" p:extreme"), "`p:extreme` is not a level of probability"));
    CHECK(has(h.refused("risk \"x\" i:9"), "`i:9` is not a"));
    CHECK(has(h.refused("risk"), "What is the risk?"));
    CHECK(has(h.refused("risk p:h i:h"), "What is the risk?"));
    CHECK(has(h.refused("risk \"x\" dri:lee"), "`dri:` needs a person"));
    CHECK(has(h.refused("risk \"x\" mitigaton:\"y\""), "Did you mean `mitigation:`?"));
    CHECK(has(h.refused("risk \"" + std::string(501, 'r') + "\""), "limit is 500"));
    CHECK(has(h.refused("risk R-1 close"), "There is no R-1 in this workspace"));
    h.ok("blocker b");
    CHECK(has(h.refused("risk B-1 close"), "B-1 is not a risk"));
    h.ok("risk \"first\"");
    CHECK(h.items(item_kind::risk).back().id_str() == "R-1");
    auto msg = h.refused("risk R-1 mitigat");
    CHECK(has(msg, "`mitigat` is not something a risk can do"));
    REQUIRE_FALSE(suggestions(msg).empty());
    CHECK(suggestions(msg)[0].starts_with("/tpm risk <id> mitigate"));
}

TEST_CASE("risk list is sorted by probability times impact", "[risk][list]") {
    harness h;
    h.ok("risk \"low low\" p:l i:l");             // 1
    h.ok("risk \"high high\" p:h i:h");           // 9
    h.ok("risk \"med high\" p:m i:h dri:<@UME>"); // 6
    h.ok("risk \"high med\" p:h i:m");            // 6
    h.ok("risk \"med med\"");                     // 4
    h.ok("risk \"closed\" p:h i:h");              // closed
    h.ok("risk R-6 close");
    auto before = h.dump();
    auto t = one(h.ok("risk list", "UX"), destination::ephemeral).text;
    CHECK(h.dump() == before);
    CHECK(has(t, "highest probability × impact first"));
    CHECK(ids_in(t) == strings{"R-2", "R-3", "R-4", "R-5", "R-1"});
    CHECK(has(t, "*R-2* high high — DRI nobody · p:h i:h · open"));
    CHECK(ids_in(one(h.ok("risk list open"), destination::ephemeral).text) ==
          strings{"R-2", "R-3", "R-4", "R-5", "R-1"});
    CHECK(ids_in(one(h.ok("risk list mine"), destination::ephemeral).text) == strings{"R-3"});
    CHECK(ids_in(one(h.ok("risk list all"), destination::ephemeral).text) ==
          strings{"R-2", "R-6", "R-3", "R-4", "R-5", "R-1"});
    CHECK(has(h.refused("risk list worst"), "`worst` is not a risk list filter"));
}

TEST_CASE("risk mitigate, occurred, close and reopen", "[risk]") {
    harness h;
    h.ok("risk \"vendor slips\" dri:<@ULEE>");
    auto [verb, status] = GENERATE(table<std::string, std::string>({
        {"mitigate", "mitigated"},
        {"mitigated", "mitigated"},
        {"occurred", "occurred"},
        {"close", "closed"},
    }));
    auto r = h.ok("risk R-1 " + verb + " mock API is live", "ULEE", at_time(t0 + day));
    CHECK(
        has(one(r, destination::thread).text, "*R-1* " + status + " by <@ULEE>: mock API is live"));
    CHECK(has(one(r, destination::channel).text, "*R-1* vendor slips — " + status));
    auto it = h.get("R-1");
    CHECK(it.status == status);
    CHECK(it.note == "mock API is live");
    CHECK(it.closed_at == t0 + day);
    CHECK(h.history("R-1").back().action == status);

    CHECK(has(h.refused("risk R-1 close", "ULEE"), "R-1 is " + status + ", so it cannot be"));
    CHECK(has(h.refused("risk R-1 reopen", "UX"), "can reopen R-1"));
    h.ok("risk R-1 reopen", "ULEE", at_time(t0 + 2 * day));
    CHECK(h.get("R-1").status == "open");
    CHECK(h.get("R-1").closed_at == 0);
    CHECK(has(h.refused("risk R-1 reopen", "ULEE"), "R-1 is still open"));
    CHECK(
        has(h.refused("risk R-1 " + verb, "UX"), "Only the DRI (<@ULEE>), the reporter (<@UME>)"));
}

TEST_CASE("risk update and owner", "[risk]") {
    harness h;
    h.ok("risk \"vendor slips\"");
    h.ok("risk R-1 update vendor confirmed the date", "UX");
    CHECK(h.history("R-1").back().detail == "vendor confirmed the date");
    h.ok("risk R-1 owner <@ULEE>", "UX");
    CHECK(h.get("R-1").dri == "ULEE");
    auto show = one(h.ok("R-1"), destination::ephemeral).text;
    CHECK(has(show, "Status: :large_blue_circle: open"));
}

// ---- dep ------------------------------------------------------------------------------------

TEST_CASE("a dependency needs from:, and may have by:, for: and dri:", "[dep]") {
    harness h;
    h.ok("blocker staging cert missing"); // B-1
    auto r = h.ok("dep \"staging cert\" from:<@UINFRA|infra> by:fri for:B-1 dri:<@ULEE>");
    REQUIRE(r.effects.size() == 2);
    auto card = card_of(r);
    CHECK(card.item == "DEP-1");
    CHECK(has(card.text, ":link: *DEP-1* staging cert"));
    CHECK(has(card.text, "from <@UINFRA|infra>"));
    CHECK(has(card.text, "needed by Fri 2026-11-27"));
    CHECK(has(card.text, "for B-1"));
    CHECK(has(card.text, "DRI <@ULEE>"));
    auto it = h.get("DEP-1");
    CHECK(it.kind == item_kind::dep);
    CHECK(it.status == "open");
    CHECK(it.title == "staging cert");
    CHECK(it.from_who == "<@UINFRA|infra>");
    CHECK(it.due == "2026-11-27");
    CHECK(it.for_item == "B-1");
    CHECK(it.dri == "ULEE");

    SECTION("from a user group or a team name, never pinging") {
        auto g = h.ok("dep \"keys\" from:<!subteam^S1|@security>");
        CHECK(h.get("DEP-2").from_who == "@security");
        CHECK_FALSE(has(all_text(g), "<!"));
        h.ok("dep \"review\" from:\"the platform team\"");
        CHECK(h.get("DEP-3").from_who == "the platform team");
        h.ok("dep \"quota\" from:finance for:dep-1");
        CHECK(h.get("DEP-4").from_who == "finance");
        CHECK(h.get("DEP-4").for_item == "DEP-1");
    }
    SECTION("by:next week as the last words") {
        h.ok("dep \"x\" from:<@UA> by:next week");
        CHECK(h.get("DEP-2").due == "2026-11-30");
    }
}

TEST_CASE("dependency errors", "[dep][errors]") {
    harness h;
    h.ok("blocker b"); // B-1
    h.ok("blocker theirs", "UME", in_team("T2"));
    h.ok("blocker theirs 2", "UME", in_team("T2"));
    CHECK(has(h.refused("dep \"cert\""), "Who is it needed from? Add `from:`"));
    CHECK(has(h.refused("dep \"cert\" from:"), "Who is it needed from?"));
    CHECK(has(h.refused("dep"), "What is needed, and from whom?"));
    CHECK(has(h.refused("dep from:<@UA>"), "What is needed?"));
    CHECK(has(h.refused("dep \"cert\" from:<@UA> for:B-9"), "There is no B-9 in this workspace"));
    CHECK(has(h.refused("dep \"cert\" from:<@UA> for:B-2"), "There is no B-2 in this workspace"));
    CHECK(has(h.refused("dep \"cert\" from:<@UA> for:soon"), "`for:soon` is not an item id"));
    CHECK(has(h.refused("dep \"cert\" from:<@UA> by:2026-02-30"), "is not a date"));
    CHECK(has(h.refused("dep \"cert\" from:<@UA> by:whenever"), "`whenever` is not a date"));
    CHECK(has(h.refused("dep \"cert\" frm:<@UA>"), "Did you mean `from:`?"));
    CHECK(has(h.refused("dep \"cert\" from:\"" + std::string(201, 'f') + "\""), "limit is 200"));
    CHECK(has(h.refused("dep DEP-1 delivered"), "There is no DEP-1"));
    CHECK(has(h.refused("dep B-1 delivered"), "B-1 is not a dependency"));
    h.ok("dep \"cert\" from:<@UA>");
    CHECK(h.items(item_kind::dep).back().id_str() == "DEP-1");
    auto msg = h.refused("dep DEP-1 deliverd");
    CHECK(has(msg, "`deliverd` is not something a dependency can do"));
    CHECK(suggestions(msg)[0].starts_with("/tpm dep <id> delivered"));
}

TEST_CASE("a dependency needed by a past date is refused", "[dep][errors]") {
    // BUG (handlers/dep.cpp create): `by:` uses require_date, not the past-date check that
    // decisions use (future_date), so `/tpm dep "cert" from:@infra by:2026-01-02` (a typo for
    // 2027) is accepted as already late. Decisions refuse a past date; deps should too.
    harness h;
    CHECK(has(h.error("dep \"cert\" from:<@UA> by:2026-11-24"), "is in the past"));
}

TEST_CASE("`by:next week` in a dep works when more options follow", "[dep]") {
    // BUG (handlers/dep.cpp create): `by:next week` only joins "week" when it is the LAST
    // token; `/tpm dep "cert" from:@infra by:next week for:B-1` answers "`next` is not a
    // date". Fix: join the token right after the by: token (as for decisions, see
    // decision_test).
    harness h;
    h.ok("blocker b");
    h.ok("dep \"cert\" from:<@UA> by:next week for:B-1");
    CHECK(h.get("DEP-1").due == "2026-11-30");
}

TEST_CASE("dependency delivered, drop and reopen", "[dep]") {
    harness h;
    h.ok("dep \"staging cert\" from:<@UINFRA> dri:<@ULEE>");
    SECTION("delivered") {
        auto r = h.ok("dep DEP-1 delivered cert is in the vault", "ULEE", at_time(t0 + day));
        CHECK(has(one(r, destination::thread).text, "*DEP-1* delivered by <@ULEE>: cert is in the "
                                                    "vault"));
        CHECK(has(one(r, destination::channel).text, "*DEP-1* staging cert — delivered"));
        auto it = h.get("DEP-1");
        CHECK(it.status == "delivered");
        CHECK(it.closed_at == t0 + day);
        CHECK(it.note == "cert is in the vault");
        CHECK(has(h.refused("dep DEP-1 drop", "ULEE"), "DEP-1 is delivered, so it cannot be"));
        h.ok("dep DEP-1 reopen", "ULEE");
        CHECK(h.get("DEP-1").status == "open");
        CHECK(h.get("DEP-1").closed_at == 0);
        CHECK(h.actions("DEP-1") == strings{"created", "delivered", "reopened"});
    }
    SECTION("drop") {
        h.ok("dep DEP-1 drop not needed any more", "UME");
        CHECK(h.get("DEP-1").status == "dropped");
        CHECK(h.get("DEP-1").closed_at == t0);
    }
    SECTION("someone else may not close it") {
        CHECK(has(h.refused("dep DEP-1 delivered", "UX"), "can mark DEP-1 delivered"));
        CHECK(has(h.refused("dep DEP-1 drop", "UX"), "can mark DEP-1 dropped"));
    }
    SECTION("update, owner and show") {
        h.ok("dep DEP-1 update infra says Thursday", "UX");
        CHECK(h.history("DEP-1").back().detail == "infra says Thursday");
        h.ok("dep DEP-1 owner <@UX>", "ULEE");
        CHECK(h.get("DEP-1").dri == "UX");
        CHECK(has(one(h.ok("DEP-1"), destination::ephemeral).text, "from <@UINFRA>"));
    }
}

TEST_CASE("dependency lists: open, at-risk (within a week or late), mine, all", "[dep][list]") {
    harness h;
    h.ok("dep \"soon\" from:<@UA> by:fri");        // DEP-1 11-27
    h.ok("dep \"far\" from:<@UA> by:+14d");        // DEP-2 12-09
    h.ok("dep \"undated\" from:<@UA> dri:<@UME>"); // DEP-3
    h.ok("dep \"a week out\" from:<@UA> by:+7d");  // DEP-4 12-02
    h.ok("dep \"eight days\" from:<@UA> by:+8d");  // DEP-5 12-03
    h.ok("dep \"done\" from:<@UA> by:fri");        // DEP-6 delivered
    h.ok("dep DEP-6 delivered");

    auto list = [&](const std::string& text, unix_time now = t0) {
        return one(h.ok(text, "UME", at_time(now)), destination::ephemeral).text;
    };
    CHECK(ids_in(list("dep list")) == strings{"DEP-1", "DEP-2", "DEP-3", "DEP-4", "DEP-5"});
    auto at_risk = list("dep list at-risk");
    CHECK(ids_in(at_risk) == strings{"DEP-1", "DEP-4"});
    CHECK_FALSE(has(at_risk, "*late*"));
    // Time passes: DEP-1 is late, DEP-5 comes within a week, DEP-2 is still 11 days out.
    auto later = list("dep list at-risk", t0 + 3 * day); // Sat 11-28
    CHECK(ids_in(later) == strings{"DEP-1", "DEP-4", "DEP-5"});
    CHECK(has(later, "*DEP-1* soon"));
    REQUIRE(later.find("*late*") != std::string::npos);
    CHECK(later.find("*late*") < later.find("*DEP-4*"));
    CHECK(later.find("*late*", later.find("*DEP-4*")) == std::string::npos);
    CHECK(ids_in(list("dep list mine")) == strings{"DEP-3"});
    CHECK(ids_in(list("dep list all")).size() == 6);
    CHECK(has(h.refused("dep list risky"), "`risky` is not a dependency list filter"));
}
