// Owners: the DRI of any item, areas of ownership and the unowned queue (`/tpm owner`).

#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {
using strings = std::vector<std::string>;
} // namespace

TEST_CASE("anyone may set the DRI of an unowned item", "[owner]") {
    harness h;
    h.ok("blocker cert expired");
    h.deliver();

    SECTION("someone else as DRI: they get a DM, the thread is told") {
        auto r = h.ok("owner B-1 <@UDANA|dana>", "ULEE", at_time(t0 + hour));
        REQUIRE(r.effects.size() == 3);
        CHECK(has(one(r, destination::update).text, "DRI <@UDANA>"));
        auto t = one(r, destination::thread);
        CHECK(t.item == "B-1");
        CHECK(t.thread_ts == h.get("B-1").thread_ts);
        CHECK(has(t.text, "The DRI of *B-1* is now <@UDANA> (was nobody), set by <@ULEE>"));
        auto dm = one(r, destination::dm);
        CHECK(dm.user == "UDANA");
        CHECK(has(dm.text, "<@ULEE> made you the DRI of *B-1* cert expired"));
        auto it = h.get("B-1");
        CHECK(it.dri == "UDANA");
        CHECK(it.updated_at == t0 + hour);
        auto hist = h.history("B-1");
        REQUIRE(hist.size() == 2);
        CHECK(hist[1].action == "owner");
        CHECK(hist[1].actor == "ULEE");
        CHECK(hist[1].detail == "nobody → <@UDANA>");
    }
    SECTION("`me` takes it, without a DM") {
        auto r = h.ok("owner B-1 me", "ULEE");
        CHECK(h.get("B-1").dri == "ULEE");
        CHECK(effects_to(r, destination::dm).empty());
        CHECK(r.effects.size() == 2);
    }
    SECTION("the Take ownership button takes it") {
        auto card = h.run("blocker another");
        auto take = button_named(card_of(card), "Take ownership");
        REQUIRE(h.click(take, "ULEE").ok);
        CHECK(h.get("B-2").dri == "ULEE");
    }
    SECTION("works on every kind of item") {
        h.ok("decision \"ship it?\"");
        h.ok("risk \"vendor slips\"");
        h.ok("dep \"cert\" from:<@UINFRA>");
        h.ok("owner D-1 <@ULEE>", "UX");
        h.ok("owner R-1 <@ULEE>", "UX");
        h.ok("owner DEP-1 <@ULEE>", "UX");
        h.ok("dri b-1 <@ULEE>", "UX"); // synonym, lower-case id
        CHECK(h.get("D-1").dri == "ULEE");
        CHECK(h.get("R-1").dri == "ULEE");
        CHECK(h.get("DEP-1").dri == "ULEE");
        CHECK(h.get("B-1").dri == "ULEE");
    }
    SECTION("/owner is an alias") {
        h.ok("B-1 <@ULEE>", "UX", via("/owner"));
        CHECK(h.get("B-1").dri == "ULEE");
    }
}

TEST_CASE("reassigning needs the DRI, the reporter or an admin", "[owner]") {
    harness h;
    h.ok("blocker cert expired <@UDANA>", "UREP");

    SECTION("someone else is refused and nothing changes") {
        auto msg = h.refused("owner B-1 <@UX>", "UX");
        CHECK(has(msg, "Only the DRI (<@UDANA>), the reporter (<@UREP>) or an admin can "
                       "reassign B-1"));
        CHECK(h.get("B-1").dri == "UDANA");
        CHECK(has(h.refused("owner B-1 me", "UX"), "can reassign B-1"));
    }
    SECTION("the DRI hands it over") {
        auto r = h.ok("owner B-1 <@ULEE>", "UDANA");
        CHECK(h.get("B-1").dri == "ULEE");
        CHECK(has(one(r, destination::thread).text, "now <@ULEE> (was <@UDANA>)"));
        CHECK(one(r, destination::dm).user == "ULEE");
        CHECK(h.history("B-1").back().detail == "<@UDANA> → <@ULEE>");
    }
    SECTION("the reporter reassigns") {
        h.ok("owner B-1 <@ULEE>", "UREP");
        CHECK(h.get("B-1").dri == "ULEE");
    }
    SECTION("an admin reassigns") {
        h.ok("owner B-1 <@ULEE>", "UBOSS", as_admin());
        CHECK(h.get("B-1").dri == "ULEE");
    }
    SECTION("the same person again is an error") {
        CHECK(has(h.refused("owner B-1 <@UDANA|dana>", "UREP"),
                  "<@UDANA> is already the DRI of B-1"));
        CHECK(has(h.refused("owner B-1 me", "UDANA"), "<@UDANA> is already the DRI of B-1"));
    }
}

TEST_CASE("owner errors", "[owner][errors]") {
    harness h;
    h.ok("blocker cert expired");
    SECTION("nothing after owner") {
        CHECK(has(h.refused("owner"), "`owner` needs an item and a person"));
    }
    SECTION("no person") {
        CHECK(has(h.refused("owner B-1"), "Who should own B-1?"));
    }
    SECTION("two people") {
        CHECK(has(h.refused("owner B-1 <@UA> <@UB>"), "Name one person"));
    }
    SECTION("a name that is not a mention") {
        CHECK(has(h.refused("owner B-1 dana"), "`owner` needs a person"));
        CHECK(has(h.refused("owner B-1 <#CDESIGN|design>"), "`owner` needs a person"));
    }
    SECTION("unknown item") {
        CHECK(has(h.refused("owner B-9 me"), "There is no B-9 in this workspace"));
        CHECK(has(h.refused("owner D-1 me"), "There is no D-1 in this workspace"));
    }
    SECTION("an unknown owner command: did you mean") {
        auto msg = h.refused("owner aera \"payments\" <@UA>");
        CHECK(has(msg, "`aera` is not an item id or an owner command"));
        auto s = suggestions(msg);
        REQUIRE_FALSE(s.empty());
        CHECK(s[0].starts_with("/tpm owner area"));
    }
    SECTION("another workspace's item") {
        h.ok("blocker theirs", "UME", in_team("T2"));
        h.ok("blocker theirs too", "UME", in_team("T2"));
        CHECK(has(h.refused("owner B-2 me"), "There is no B-2 in this workspace"));
    }
    h.ok("blocker next");
    CHECK(h.items().back().id_str() == "B-2");
}

TEST_CASE("areas: set, who, list, case-insensitive names", "[owner][area]") {
    harness h;
    auto r = h.ok("owner area \"payments api\" <@UALICE|alice>", "UME", at_time(t0 + 5));
    REQUIRE(r.effects.size() == 2);
    auto e = one(r, destination::ephemeral);
    CHECK(has(e.text, "<@UALICE> owns *payments api*"));
    auto dm = one(r, destination::dm);
    CHECK(dm.user == "UALICE");
    CHECK(has(dm.text, "made you the owner of the area *payments api*"));
    auto a = h.db.find_area("T1", "payments api");
    REQUIRE(a);
    CHECK(a->owner == "UALICE");
    CHECK(a->updated_at == t0 + 5);
    CHECK_FALSE(h.db.find_area("T2", "payments api"));

    SECTION("setting yourself sends no DM") {
        auto mine = h.ok("owner area ledger me", "UBOB");
        CHECK(effects_to(mine, destination::dm).empty());
        CHECK(h.db.find_area("T1", "ledger")->owner == "UBOB");
    }
    SECTION("unquoted multi-word names work") {
        h.ok("owner area search index <@UBOB>");
        CHECK(h.db.find_area("T1", "search index")->owner == "UBOB");
    }
    SECTION("who, in any case") {
        auto w = h.ok("owner who \"Payments API\"", "UX");
        CHECK(has(one(w, destination::ephemeral).text, "*payments api* is owned by <@UALICE>"));
        auto w2 = h.ok("owner who PAYMENTS api", "UX");
        CHECK(has(one(w2, destination::ephemeral).text, "<@UALICE>"));
    }
    SECTION("who for an unknown area lists the known ones") {
        h.ok("owner area ledger <@UBOB>");
        auto msg = h.refused("owner who billing");
        CHECK(has(msg, "No area is called *billing*"));
        CHECK(has(msg, "Known areas: ledger, payments api"));
        CHECK(has(h.refused("owner who"), "Which area?"));
    }
    SECTION("list: areas and open items per DRI") {
        h.ok("owner area ledger <@UBOB>");
        h.ok("blocker a <@UALICE>");
        h.ok("blocker b <@UALICE>");
        h.ok("decision \"c?\" dri:<@UBOB>");
        h.ok("blocker d <@UBOB>");
        h.ok("blocker e <@UBOB>");
        h.ok("blocker B-4 resolve", "UME"); // closed: not counted
        auto l = one(h.ok("owner list", "UX"), destination::ephemeral).text;
        CHECK(has(l, "• *ledger* — <@UBOB>"));
        CHECK(has(l, "• *payments api* — <@UALICE>"));
        CHECK(l.find("ledger") < l.find("payments api"));
        CHECK(has(l, "• <@UALICE> — 2"));
        CHECK(has(l, "• <@UBOB> — 2"));
        CHECK_FALSE(has(l, "nobody —"));
        h.ok("blocker f");
        auto l2 = one(h.ok("owner list", "UX"), destination::ephemeral).text;
        CHECK(has(l2, "• nobody — 1"));
    }
    SECTION("a new item naming the area goes to its owner") {
        h.ok("risk \"PCI audit\" area:\"PAYMENTS API\"");
        CHECK(h.get("R-1").dri == "UALICE");
        h.ok("decision \"retry policy?\" area:\"payments api\"");
        CHECK(h.get("D-1").dri == "UALICE");
        h.ok("dep \"keys\" from:<@USEC> area:\"payments api\"");
        CHECK(h.get("DEP-1").dri == "UALICE");
    }
}

TEST_CASE("an area changes hands only by its owner or an admin", "[owner][area]") {
    harness h;
    h.ok("owner area \"payments api\" <@UALICE>");

    SECTION("someone else is refused") {
        auto msg = h.refused("owner area \"payments api\" <@UBOB>", "UBOB");
        CHECK(has(msg, "*payments api* is owned by <@UALICE>; only they or an admin can hand it "
                       "over"));
        CHECK(h.db.find_area("T1", "payments api")->owner == "UALICE");
    }
    SECTION("the owner hands it over; the name keeps its first spelling") {
        auto r = h.ok("owner area \"Payments API\" <@UBOB>", "UALICE");
        CHECK(has(one(r, destination::ephemeral).text,
                  "<@UBOB> owns *payments api* (was <@UALICE>)"));
        CHECK(one(r, destination::dm).user == "UBOB");
        auto areas = h.db.list_areas("T1");
        REQUIRE(areas.size() == 1);
        CHECK(areas[0].name == "payments api");
        CHECK(areas[0].owner == "UBOB");
    }
    SECTION("an admin hands it over") {
        h.ok("owner area \"payments api\" <@UBOB>", "UADMIN", as_admin());
        CHECK(h.db.find_area("T1", "payments api")->owner == "UBOB");
    }
    SECTION("the same owner again is an error") {
        CHECK(has(h.refused("owner area \"payments api\" <@UALICE>", "UALICE"),
                  "<@UALICE> already owns *payments api*"));
    }
    SECTION("area errors") {
        CHECK(has(h.refused("owner area \"billing\""), "needs the area's name and then its owner"));
        CHECK(has(h.refused("owner area"), "needs the area's name and then its owner"));
        CHECK(has(h.refused("owner area <@UBOB>"), "Which area?"));
        CHECK(has(h.refused("owner area \"" + std::string(81, 'a') + "\" <@UBOB>"), "limit is 80"));
    }
}

TEST_CASE("owner unowned lists open items with no DRI, of every kind", "[owner][unowned]") {
    harness h;
    SECTION("empty") {
        CHECK(has(one(h.ok("owner unowned"), destination::ephemeral).text,
                  "Every open item has a DRI"));
    }
    SECTION("items") {
        h.ok("blocker a");                // B-1 unowned
        h.ok("blocker b <@UDANA>");       // B-2 owned
        h.ok("decision \"c?\"");          // D-1 unowned
        h.ok("risk \"d\"");               // R-1 unowned
        h.ok("dep \"e\" from:<@UINFRA>"); // DEP-1 unowned
        h.ok("blocker f");                // B-3 resolved
        h.ok("blocker B-3 resolve");
        h.ok("decision \"g?\""); // D-2 decided
        h.ok("decision D-2 decide yes");
        h.ok("blocker other team", "UME", in_team("T2"));
        auto before = h.dump();
        auto t = one(h.ok("owner unowned", "UX"), destination::ephemeral).text;
        CHECK(h.dump() == before);
        CHECK(has(t, "*Open items with no DRI* (4)"));
        CHECK(has(t, "*B-1*"));
        CHECK(has(t, "*D-1*"));
        CHECK(has(t, "*R-1*"));
        CHECK(has(t, "*DEP-1*"));
        CHECK_FALSE(has(t, "*B-2*"));
        CHECK_FALSE(has(t, "*B-3*"));
        CHECK_FALSE(has(t, "*D-2*"));
        CHECK_FALSE(has(t, "other team"));
        CHECK(has(t, "`/tpm owner <id> me`"));
    }
}
