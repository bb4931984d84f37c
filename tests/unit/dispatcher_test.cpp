// The dispatcher: one transaction per command holding the handler's writes and its effects
// in the outbox (SPEC §8 "nothing acked is lost"); errors roll back and leave only their
// answer; admins come from TPMBOT_ADMINS and `/tpm config admins`.

#include "sqlite_store.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

using strings = std::vector<std::string>;

void check_same(const outbox_row& row, const effect& e) {
    CHECK(row.e.to == e.to);
    CHECK(row.e.channel == e.channel);
    CHECK(row.e.user == e.user);
    CHECK(row.e.thread_ts == e.thread_ts);
    CHECK(row.e.item == e.item);
    CHECK(row.e.is_card == e.is_card);
    CHECK(row.e.text == e.text);
    REQUIRE(row.e.buttons.size() == e.buttons.size());
    for (std::size_t i = 0; i < e.buttons.size(); ++i) {
        CHECK(row.e.buttons[i].text == e.buttons[i].text);
        CHECK(row.e.buttons[i].action_id == e.buttons[i].action_id);
        CHECK(row.e.buttons[i].value == e.buttons[i].value);
    }
}

/// A router with the real nouns plus "boom", which writes an item and then fails.
router router_with_failing_noun(bool user_fault) {
    auto r = make_router();
    noun_def d;
    d.name = "boom";
    d.title = "Fails half-way";
    d.fn = [user_fault](context& ctx, std::vector<args::token>&) {
        item it;
        it.kind = item_kind::blocker;
        it.status = "open";
        it.title = "half written";
        it.severity = "med";
        create_item(ctx, it);
        ctx.db.add_admin(ctx.cmd.team_id, "UHALF", ctx.cmd.now);
        if (user_fault) {
            throw user_error("you did something wrong");
        }
        throw std::runtime_error("disk on fire");
    };
    d.help = {{"/tpm boom", "Fails.", "/tpm boom", false, ""}};
    r.add(std::move(d));
    return r;
}

} // namespace

TEST_CASE("a command's writes and effects are committed together to the outbox", "[dispatcher]") {
    harness h;
    REQUIRE(h.db.pending(0).empty());
    auto r = h.ok("blocker cert expired <@UDANA> sev:high");
    REQUIRE(r.effects.size() == 2);
    auto rows = h.db.pending(0);
    REQUIRE(rows.size() == 2);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        check_same(rows[i], r.effects[i]);
        CHECK(rows[i].team_id == "T1");
        CHECK(rows[i].created_at == t0);
        CHECK(rows[i].state == "pending");
        CHECK(rows[i].attempts == 0);
    }
    CHECK(h.find("B-1"));
    CHECK(h.logs.empty());

    // Several items changed by one command: all or nothing, with all their effects.
    h.ok("decision \"a?\" dri:<@ULEE>");
    h.ok("decision D-1 decide yes", "ULEE");
    h.ok("decision \"b?\" dri:<@ULEE>");
    auto before = h.db.pending(0).size();
    auto s = h.ok("decision D-2 supersede D-1", "ULEE");
    CHECK(h.db.pending(0).size() == before + s.effects.size());
    CHECK(h.get("D-1").status == "superseded");
    CHECK(h.get("D-2").supersedes == "D-1");
}

TEST_CASE("a delivered card becomes its item's thread for later replies", "[dispatcher]") {
    harness h;
    h.ok("blocker cert expired <@UDANA>");
    CHECK(h.get("B-1").thread_ts.empty());
    CHECK(h.deliver() == 2);
    CHECK(h.db.pending(0).empty());
    auto it = h.get("B-1");
    REQUIRE_FALSE(it.thread_ts.empty());
    CHECK(it.thread_channel == "CGENERAL");
    auto r = h.ok("blocker B-1 resolve done", "UDANA");
    auto t = one(r, destination::thread);
    CHECK(t.thread_ts == it.thread_ts);
    // A later update of the item (which carries no thread) keeps the thread.
    h.ok("blocker B-1 reopen", "UDANA");
    CHECK(h.get("B-1").thread_ts == it.thread_ts);
}

TEST_CASE("a refused command leaves only its answer in the outbox", "[dispatcher][errors]") {
    harness h;
    h.ok("blocker cert expired <@UDANA>");
    h.deliver();
    auto before = h.dump();
    auto r = h.run("blocker B-1 resolve", "ULEE");
    CHECK_FALSE(r.ok);
    REQUIRE(r.effects.size() == 1);
    auto rows = h.db.pending(0);
    REQUIRE(rows.size() == 1);
    check_same(rows[0], r.effects[0]);
    CHECK(rows[0].e.to == destination::ephemeral);
    CHECK(rows[0].e.user == "ULEE");
    CHECK(rows[0].e.channel == "CGENERAL");
    CHECK(h.dump() == before);
    CHECK(h.logs.empty()); // a user's mistake is not logged as a failure
}

TEST_CASE("a handler failing half-way commits nothing but the answer", "[dispatcher][errors]") {
    auto user_fault = GENERATE(false, true);
    temp_dir dir;
    sqlite_store db(dir.file("t.db").string());
    auto routes = router_with_failing_noun(user_fault);
    strings logs;
    dispatcher d(db, routes, {}, [&](const std::string& l) { logs.push_back(l); });
    harness shape; // only for building commands
    auto cmd = shape.make("boom", "UME");

    auto r = d.handle(cmd);
    CHECK_FALSE(r.ok);
    REQUIRE(r.effects.size() == 1);
    CHECK(r.effects[0].to == destination::ephemeral);
    CHECK(r.effects[0].user == "UME");
    if (user_fault) {
        CHECK(r.effects[0].text == "you did something wrong");
        CHECK(logs.empty());
    } else {
        CHECK(has(r.effects[0].text, "Something went wrong on tpmbot's side, so nothing was "
                                     "changed"));
        CHECK_FALSE(has(r.effects[0].text, "disk on fire")); // internals stay in the log
        REQUIRE(logs.size() == 1);
        CHECK(has(logs[0], "rolled back"));
        CHECK(has(logs[0], "disk on fire"));
        CHECK(has(logs[0], "user=UME"));
    }
    // Nothing of the half-done work survived: no item, no history, no admin, no card.
    CHECK(dump_team(db, "T1").empty());
    auto rows = db.pending(0);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].e.to == destination::ephemeral);
    // The id counter did not move either.
    auto ok = d.handle(shape.make("blocker a real one", "UME"));
    REQUIRE(ok.ok);
    CHECK(ok.effects[0].item == "B-1");
}

TEST_CASE("admins from TPMBOT_ADMINS", "[dispatcher][admins]") {
    harness h({"UBOSS"});
    CHECK(h.dispatch.is_admin("T1", "UBOSS"));
    CHECK(h.dispatch.is_admin("T2", "UBOSS"));
    CHECK_FALSE(h.dispatch.is_admin("T1", "UME"));
    h.ok("blocker cert expired <@UDANA>", "UREP");
    CHECK(has(h.refused("blocker B-1 resolve", "UME"), "Only the DRI"));
    h.ok("blocker B-1 resolve", "UBOSS");
    CHECK(h.get("B-1").status == "resolved");
    h.ok("blocker B-1 reopen", "UBOSS");
    h.ok("owner B-1 <@ULEE>", "UBOSS");
    CHECK(h.get("B-1").dri == "ULEE");
    // A caller that already knows the user is a Slack admin passes it on.
    h.ok("blocker B-1 ack", "UWSADMIN", as_admin());
    CHECK(h.get("B-1").status == "acked");
}

TEST_CASE("admins added with /tpm config admins", "[dispatcher][admins][config]") {
    harness h({"UBOSS"});
    h.ok("blocker cert expired <@UDANA>", "UREP");
    h.ok("blocker elsewhere <@UDANA>", "UREP", in_team("T2"));

    SECTION("only an admin may add admins") {
        CHECK(has(h.refused("config admins <@UME>", "UME"), "Only an admin can change the admins"));
        CHECK(has(h.refused("config admins add <@UME>", "UME"), "Only an admin"));
        CHECK(h.db.list_admins("T1").empty());
    }
    SECTION("anyone may list them") {
        auto t = one(h.ok("config admins", "UME"), destination::ephemeral).text;
        CHECK(has(t, "none yet"));
        CHECK(has(t, "TPMBOT_ADMINS"));
    }
    SECTION("added admins act as admins in their workspace only") {
        auto r = h.ok("config admins <@UME|me>,<@UANA>", "UBOSS");
        CHECK(has(one(r, destination::ephemeral).text, "<@UME>, <@UANA> are now tpmbot admins"));
        auto admins = h.db.list_admins("T1");
        CHECK(admins.size() == 2);
        CHECK(h.dispatch.is_admin("T1", "UME"));
        CHECK_FALSE(h.dispatch.is_admin("T2", "UME"));
        auto t = one(h.ok("config admins", "UX"), destination::ephemeral).text;
        CHECK(has(t, "• <@UME>"));
        CHECK(has(t, "• <@UANA>"));

        h.ok("blocker B-1 resolve", "UME");
        CHECK(h.get("B-1").status == "resolved");
        CHECK(has(h.refused("blocker B-1 resolve", "UME", in_team("T2")), "Only the DRI"));
        // An added admin may add more.
        h.ok("config admins add <@UX>", "UME");
        CHECK(h.dispatch.is_admin("T1", "UX"));

        h.ok("config admins remove <@UME>", "UBOSS");
        CHECK_FALSE(h.dispatch.is_admin("T1", "UME"));
        h.ok("blocker B-1 reopen", "UREP");
        CHECK(has(h.refused("blocker B-1 resolve", "UME"), "Only the DRI"));
    }
    SECTION("bad admin lists") {
        CHECK(has(h.refused("config admins ana", "UBOSS"), "`admins` needs a person"));
        CHECK(has(h.refused("config admins add", "UBOSS"), "Whom?"));
        CHECK(h.db.list_admins("T1").empty());
    }
}
