// Storage of interactivity (schema version 7): named posts that can be replaced, snoozes and
// decision polls. Run on SQLite files and on PostgreSQL, like the rest of the suite.
#include "support/test_store.hpp"

#include <catch2/catch.hpp>

using namespace tpmbot;

namespace {

effect named_post(std::string name, std::string channel = "C1") {
    effect e;
    e.to = destination::channel;
    e.channel = std::move(channel);
    e.item = "B-1";
    e.text = "card";
    e.name = std::move(name);
    return e;
}

} // namespace

TEST_CASE("a named post is found by its name once delivered, and replaced on a repost",
          "[storage][posts]") {
    test::test_db db;
    auto s_conn = db.open();
    auto& s = *s_conn;
    std::int64_t first = 0;
    s.transact([&] { first = s.enqueue("T1", named_post("card:B-1"), 100); });
    CHECK(s.outbox(first)->e.name == "card:B-1");
    CHECK_FALSE(s.post_of("T1", "card:B-1")); // not delivered yet

    s.mark_sent(first, "C1", "100.000001", 101);
    auto where = s.post_of("T1", "card:B-1");
    REQUIRE(where);
    CHECK(*where == std::pair<std::string, std::string>{"C1", "100.000001"});
    CHECK_FALSE(s.post_of("T2", "card:B-1")); // another workspace's B-1

    // An update of it is delivered: the post stays where it was.
    effect update = named_post("card:B-1");
    update.to = destination::update;
    std::int64_t upd = 0;
    s.transact([&] { upd = s.enqueue("T1", update, 102); });
    CHECK(s.outbox(upd)->e.to == destination::update);
    s.mark_sent(upd, "C1", "", 103);
    CHECK(s.post_of("T1", "card:B-1")->second == "100.000001");

    // Posted again under the same name (a poll opened again): the new post is the one.
    std::int64_t again = 0;
    s.transact([&] { again = s.enqueue("T1", named_post("card:B-1", "C2"), 104); });
    s.mark_sent(again, "C2", "104.000001", 105);
    CHECK(*s.post_of("T1", "card:B-1") == std::pair<std::string, std::string>{"C2", "104.000001"});

    // A post without a name records nothing.
    std::int64_t plain = 0;
    s.transact([&] { plain = s.enqueue("T1", named_post(""), 106); });
    s.mark_sent(plain, "C1", "106.000001", 107);
    CHECK_FALSE(s.post_of("T1", ""));
}

TEST_CASE("a poll and its votes: one vote per person, changed in place", "[storage][polls]") {
    test::test_db db;
    auto s_conn = db.open();
    auto& s = *s_conn;
    CHECK_FALSE(s.find_poll("T1", 7));
    poll p;
    p.team_id = "T1";
    p.num = 7;
    p.opened_by = "U1";
    p.opened_at = 100;
    p.closes_at = 1000;
    s.transact([&] { s.put_poll(p); });
    auto got = s.find_poll("T1", 7);
    REQUIRE(got);
    CHECK(got->opened_by == "U1");
    CHECK(got->opened_at == 100);
    CHECK(got->closes_at == 1000);
    CHECK(got->closed_at == 0);
    CHECK_FALSE(s.find_poll("T2", 7));

    s.transact([&] {
        s.set_vote("T1", 7, {"U2", 1, 200});
        s.set_vote("T1", 7, {"U3", 2, 300});
        s.set_vote("T1", 7, {"U2", 2, 400}); // U2 changes their mind
    });
    auto votes = s.poll_votes("T1", 7);
    REQUIRE(votes.size() == 2);
    CHECK(votes[0].user_id == "U3");
    CHECK(votes[0].choice == 2);
    CHECK(votes[1].user_id == "U2");
    CHECK(votes[1].choice == 2);
    CHECK(votes[1].voted_at == 400);
    CHECK(s.poll_votes("T1", 8).empty());

    // Due: open, with a closing time, at or before the instant.
    poll untimed = p;
    untimed.num = 8;
    untimed.closes_at = 0;
    poll later = p;
    later.team_id = "T2";
    later.closes_at = 2000;
    s.transact([&] {
        s.put_poll(untimed);
        s.put_poll(later);
    });
    CHECK(s.polls_due(999).empty());
    auto due = s.polls_due(1000);
    REQUIRE(due.size() == 1);
    CHECK(due[0].num == 7);
    CHECK(s.polls_due(5000).size() == 2);

    // Closed: no longer due; the votes stay.
    p.closed_at = 1000;
    s.transact([&] { s.put_poll(p); });
    CHECK(s.find_poll("T1", 7)->closed_at == 1000);
    CHECK(s.polls_due(5000).size() == 1);
    CHECK(s.poll_votes("T1", 7).size() == 2);
}
