// App Home (SPEC §6): what a person's Home tab shows, and when it is published again.
#include "home.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

using strings = std::vector<std::string>;

opts home_tab() {
    opts o;
    o.from = source::home;
    return o;
}

/// The Home published for `user` by `r`; fails when there is not exactly one.
effect home_of(const handled& r, const std::string& user) {
    std::vector<effect> found;
    for (const auto& e : r.effects) {
        if (e.to == destination::home && e.user == user) {
            found.push_back(e);
        }
    }
    INFO("effects: " << all_text(r));
    REQUIRE(found.size() == 1);
    return found[0];
}

std::size_t homes_in(const handled& r) {
    return effects_to(r, destination::home).size();
}

/// The text of the section whose title is `title`.
std::string section(const effect& home, const std::string& title) {
    for (const auto& b : home.blocks) {
        if (b.type == block::kind::section && b.text.rfind("*" + title + "*", 0) == 0) {
            return b.text;
        }
    }
    FAIL("no section " << title);
    return {};
}

} // namespace

TEST_CASE("the App Home lists my items, decisions I owe, unowned and stale items, my standups",
          "[home]") {
    harness h;
    h.ok("blocker cert expired dri:<@UDANA> sev:high");            // B-1, Dana's
    h.ok("blocker flaky tests dri:<@ULEE>");                       // B-2, Lee's
    h.ok("blocker nobody owns this");                              // B-3, unowned
    h.ok("decision \"Flag or wait?\" by:fri dri:<@UDANA>");        // D-1, Dana owes it
    h.ok("decision \"Which region?\" by:2026-12-20 dri:<@UDANA>"); // D-2
    h.ok("risk \"vendor may slip\" dri:<@UDANA>");
    h.ok("standup setup at:09:30 members:<@UDANA>,<@ULEE>", "UME", as_admin());

    // Two days later: B-1 (high) and B-2 (med) have gone without an update for their first
    // threshold; B-3 is unowned. D-1 is overdue.
    auto r = h.ok("", "UDANA", [] {
        auto o = home_tab();
        o.now = t0 + 3 * day;
        return o;
    }());
    auto home = home_of(r, "UDANA");
    CHECK(r.effects.size() == 1);
    CHECK(home.blocks.at(0).type == block::kind::header);
    auto assigned = section(home, "Assigned to you");
    CHECK(has(assigned, "(2)"));
    CHECK(has(assigned, "*B-1* cert expired"));
    CHECK(has(assigned, "*R-1* vendor may slip"));
    CHECK_FALSE(has(assigned, "B-2"));
    CHECK_FALSE(has(assigned, "D-1")); // decisions have their own section
    auto owed = section(home, "Decisions you owe");
    CHECK(has(owed, "(2)"));
    CHECK(owed.find("*D-1*") < owed.find("*D-2*")); // soonest first
    CHECK(has(owed, "*overdue 1d*"));
    auto unowned = section(home, "Unowned");
    CHECK(has(unowned, "*B-3* nobody owns this"));
    CHECK_FALSE(has(unowned, "B-1"));
    auto stale = section(home, "Stale blockers");
    CHECK(has(stale, "*B-1*"));
    CHECK(has(stale, "*B-2*"));
    auto standups = section(home, "Your standups");
    CHECK(has(standups, "<#CGENERAL>: asked at 09:30"));

    // Opening it is remembered; nothing else is written.
    CHECK(h.db.setting("T1", home_opened_key("UDANA")) == std::to_string(t0 + 3 * day));
    CHECK(h.items().size() == 6);

    // Someone with nothing: every section says so.
    auto empty = home_of(h.ok("", "UNEW", home_tab()), "UNEW");
    CHECK(has(section(empty, "Assigned to you"), "Nothing open is assigned to you."));
    CHECK(has(section(empty, "Decisions you owe"), "No decision is waiting on you."));
    CHECK(has(section(empty, "Your standups"), "You are in no standup."));
}

TEST_CASE("long lists stop at ten lines and say where the rest are", "[home]") {
    harness h;
    h.batch([&] {
        for (int i = 1; i <= 13; ++i) {
            h.ok("blocker thing " + std::to_string(i) + " dri:<@UDANA>");
        }
    });
    auto home = home_of(h.ok("", "UDANA", home_tab()), "UDANA");
    auto assigned = section(home, "Assigned to you");
    CHECK(has(assigned, "(13)"));
    CHECK(ids_in(assigned).size() == 10);
    CHECK(has(assigned, "…and 3 more: `/tpm blocker list mine` (and `risk list mine`, `dep list "
                        "mine`)"));
}

TEST_CASE("a Home is published again when its person's items change, once they have opened it",
          "[home]") {
    harness h;
    h.ok("blocker cert expired dri:<@UDANA>", "UME");
    h.ok("", "UDANA", home_tab()); // Dana has opened her Home; Lee and the reporter have not

    SECTION("a change to Dana's item: her Home, with the change") {
        auto r = h.ok("blocker B-1 ack", "UDANA");
        auto home = home_of(r, "UDANA");
        CHECK(has(section(home, "Assigned to you"), "*B-1* cert expired — DRI <@UDANA> · sev "
                                                    "med · acked"));
        CHECK(homes_in(r) == 1); // UME (the reporter) never opened theirs
    }
    SECTION("reassigned: the old DRI's Home loses it, the new one's gains it") {
        h.ok("", "ULEE", home_tab());
        auto r = h.ok("owner B-1 <@ULEE>", "UDANA");
        CHECK(has(section(home_of(r, "UDANA"), "Assigned to you"), "Nothing open"));
        CHECK(has(section(home_of(r, "ULEE"), "Assigned to you"), "*B-1*"));
    }
    SECTION("a change to someone else's item leaves Dana's Home alone") {
        h.ok("blocker other dri:<@ULEE>");
        auto r = h.ok("blocker B-2 ack", "ULEE");
        CHECK(homes_in(r) == 0);
    }
    SECTION("her standup settings changing publishes it too") {
        h.ok("standup setup at:09:30 members:<@UDANA>", "UME", as_admin());
        auto r = h.ok("standup ooo 2d", "UDANA");
        CHECK(has(section(home_of(r, "UDANA"), "Your standups"), "out of office until"));
    }
    SECTION("a refused command publishes nothing") {
        auto r = h.run("blocker B-1 resolve", "ULEE");
        CHECK_FALSE(r.ok);
        CHECK(homes_in(r) == 0);
    }
}
