// Decision polls (SPEC §6): opening, voting (one vote each, changeable), the tally on the poll
// and on the card, closing when decided and at the end of the decide-by day.
#include "poll.hpp"
#include "support/harness.hpp"

#include <catch2/catch.hpp>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

using strings = std::vector<std::string>;

/// Fri 2026-11-27 ends at 00:00 Sat in Berlin (UTC+1): 23:00 UTC on Friday.
constexpr unix_time friday_end_berlin = t0 + 2 * day + 14 * hour;

/// The effect of `r` that replaces the post named `name`.
effect update_of(const handled& r, const std::string& name) {
    for (const auto& e : r.effects) {
        if (e.to == destination::update && e.name == name) {
            return e;
        }
    }
    FAIL("no update of " << name);
    return {};
}

/// The effect that replaces the poll's message.
effect poll_update(const handled& r) {
    return update_of(r, "poll:D-1");
}

/// The effect that replaces the decision's card.
effect card_update_of(const handled& r) {
    return update_of(r, "card:D-1");
}

struct poll_harness : harness {
    poll_harness() {
        ok("decision \"Ship behind a flag or wait?\" by:fri dri:<@ULEE> "
           "options:\"flag\"|\"wait\"|\"cancel\"",
           "UPROP");
        deliver(); // the card is posted: the decision has its thread
    }
};

} // namespace

TEST_CASE("poll: the DRI puts the options to a vote in the decision's thread", "[poll]") {
    poll_harness h;
    auto r = h.ok("decision D-1 poll", "ULEE");
    auto post = one(r, destination::thread);
    CHECK(post.item == "D-1");
    CHECK(post.name == "poll:D-1");
    CHECK(post.thread_ts == h.get("D-1").thread_ts);
    CHECK(has(post.text, ":ballot_box_with_ballot: *Poll on D-1* Ship behind a flag or wait?"));
    CHECK(has(post.text, "1. flag — 0 votes\n2. wait — 0 votes\n3. cancel — 0 votes"));
    CHECK(has(post.text, "One vote each; press another option to change yours. Open until the "
                         "end of Fri 2026-11-27."));
    CHECK(button_texts(post) == strings{"1. flag", "2. wait", "3. cancel"});
    CHECK(post.buttons[1].value == "decision D-1 vote 2");
    CHECK(post.buttons[1].action_id == "vote_2");
    auto p = h.db.find_poll("T1", 1);
    REQUIRE(p);
    CHECK(p->opened_by == "ULEE");
    CHECK(p->opened_at == t0);
    CHECK(p->closes_at == friday_end_berlin);
    CHECK(p->closed_at == 0);
    CHECK(h.actions("D-1") == strings{"created", "poll opened"});
    CHECK(has(card_update_of(r).text,
              "Poll: 1. flag 0 · 2. wait 0 · 3. cancel 0 (open until the end of Fri 2026-11-27)"));

    SECTION("refusals change nothing") {
        h.ok("decision \"Which region?\" by:fri options:\"EU\"", "UPROP");
        h.ok("decision \"No options?\"", "UPROP");
        auto before = h.dump();
        auto polls_before = h.db.find_poll("T1", 1)->opened_at;
        CHECK(has(h.refused("decision D-1 poll", "ULEE"), "The poll on D-1 is already open"));
        CHECK(has(h.refused("decision D-2 poll", "UPROP"), "D-2 has only one option to vote on"));
        CHECK(has(h.refused("decision D-3 poll", "UPROP"), "D-3 has no options to vote on"));
        CHECK(has(h.refused("decision D-2 poll", "ULEE"),
                  "Only the DRI (nobody), the reporter (<@UPROP>) or an admin can put D-2 to a "
                  "vote"));
        CHECK_FALSE(h.db.find_poll("T1", 2));
        CHECK_FALSE(h.db.find_poll("T1", 3));
        CHECK(h.db.find_poll("T1", 1)->opened_at == polls_before);
        CHECK(h.dump() == before);
    }
}

TEST_CASE("poll: a decision past its decide-by day or already decided is not put to a vote",
          "[poll]") {
    poll_harness h;
    CHECK(has(h.refused("decision D-1 poll", "ULEE", at_time(t0 + 3 * day)),
              "D-1's decide-by date (Fri 2026-11-27) has passed"));
    CHECK(has(h.refused("decision D-1 vote 1", "ULEE"),
              "D-1 has no poll. Its DRI can start one: `/tpm decision D-1 poll`"));
    h.ok("decision D-1 decide flag", "ULEE");
    CHECK(has(h.refused("decision D-1 poll", "ULEE"), "D-1 is decided"));
    CHECK_FALSE(h.db.find_poll("T1", 1));
}

TEST_CASE("votes: one per person, changeable, tallied on the poll and the card", "[poll]") {
    poll_harness h;
    h.ok("decision D-1 poll", "ULEE");

    auto r = h.ok("decision D-1 vote 1", "UANA", at_time(t0 + hour));
    CHECK(has(one(r, destination::ephemeral).text,
              "You voted for 1. flag on D-1. You can change it until the poll closes."));
    auto post = poll_update(r);
    CHECK(post.channel == "CGENERAL");
    CHECK(has(post.text, "1. flag — 1 vote: <@UANA>\n2. wait — 0 votes"));
    CHECK(post.buttons.size() == 3);
    CHECK(has(card_update_of(r).text, "Poll: 1. flag 1 · 2. wait 0 · 3. cancel 0"));
    CHECK(h.actions("D-1") == strings{"created", "poll opened"}); // votes are not history
    CHECK(h.get("D-1").updated_at == t0);                         // nor progress

    // The button does the same, as the presser.
    REQUIRE(h.click(post.buttons[1], "URAJ").ok);
    // By the option's text, in any case.
    h.ok("decision D-1 vote WAIT", "UPROP");
    auto changed = h.ok("decision D-1 vote 2", "UANA", at_time(t0 + 2 * hour));
    CHECK(has(one(changed, destination::ephemeral).text, "You changed your vote to 2. wait"));
    CHECK(has(poll_update(changed).text,
              "1. flag — 0 votes\n2. wait — 3 votes: <@UPROP>, <@URAJ>, <@UANA>"));
    auto votes = h.db.poll_votes("T1", 1);
    CHECK(votes.size() == 3);

    // Past the end of the decide-by day no vote counts, even before the scheduler closes it.
    auto late = h.run("decision D-1 vote 1", "UNEW", at_time(friday_end_berlin));
    CHECK_FALSE(late.ok);
    CHECK(has(all_text(late), "The poll on D-1 is closed"));
    CHECK(h.db.poll_votes("T1", 1).size() == 3);

    auto same = h.ok("decision D-1 vote 2", "UANA");
    CHECK(has(one(same, destination::ephemeral).text, "You already voted for 2. wait on D-1"));
    CHECK(effects_to(same, destination::update).empty());

    auto before = h.dump();
    CHECK(has(h.refused("decision D-1 vote 4", "UANA"),
              "Vote for one of D-1's options by number: 1. flag, 2. wait, 3. cancel"));
    CHECK(has(h.refused("decision D-1 vote", "UANA"), "`/tpm decision D-1 vote 1`"));
    CHECK(h.dump() == before);
    CHECK(h.db.poll_votes("T1", 1).size() == 3);
}

TEST_CASE("deciding closes the poll with its result, no vote after", "[poll]") {
    poll_harness h;
    h.ok("decision D-1 poll", "ULEE");
    h.ok("decision D-1 vote 1", "UANA");
    h.ok("decision D-1 vote 2", "URAJ");
    auto r = h.ok("decision D-1 decide wait", "ULEE", at_time(t0 + day));
    auto post = poll_update(r);
    CHECK(has(post.text, ":lock: Closed: a tie between 1. flag and 2. wait (1 vote each)."));
    CHECK(post.buttons.empty());
    CHECK(has(card_update_of(r).text, "Poll: 1. flag 1 · 2. wait 1 · 3. cancel 0 (closed)"));
    CHECK(h.db.find_poll("T1", 1)->closed_at == t0 + day);
    CHECK(has(h.refused("decision D-1 vote 3", "UPROP"),
              "The poll on D-1 is closed: a tie between 1. flag and 2. wait (1 vote each)"));
}

TEST_CASE("a rejected decision's poll closes too", "[poll]") {
    poll_harness h;
    h.ok("decision D-1 poll", "ULEE");
    h.ok("decision D-1 vote 3", "UANA");
    auto r = h.ok("decision D-1 reject overtaken", "ULEE");
    CHECK(has(poll_update(r).text, ":lock: Closed: 3. cancel leads with 1 of 1 vote."));
    CHECK(h.db.find_poll("T1", 1)->closed_at == t0);
}

TEST_CASE("extend moves the poll's closing to the end of the new day", "[poll]") {
    poll_harness h;
    h.ok("decision D-1 poll", "ULEE");
    auto r = h.ok("decision D-1 extend 2026-12-01", "ULEE");
    CHECK(has(poll_update(r).text, "Open until the end of Tue 2026-12-01."));
    CHECK(h.db.find_poll("T1", 1)->closes_at == friday_end_berlin + 4 * day);
}

TEST_CASE("at the end of the decide-by day the poll closes once and the DRI is told the result",
          "[poll][jobs]") {
    poll_harness h;
    h.ok("decision D-1 poll", "ULEE");
    h.ok("decision D-1 vote 1", "UANA");
    h.ok("decision D-1 vote 1", "URAJ");
    h.ok("decision D-1 vote 2", "UPROP");

    CHECK(next_poll_due(h.db, t0) == friday_end_berlin);
    std::vector<effect> out;
    std::vector<std::string> logs;
    auto emit = [&](const std::string& team, const effect& e) {
        CHECK(team == "T1");
        out.push_back(e);
    };
    auto log = [&](const std::string& l) {
        logs.push_back(l);
    };
    CHECK(run_poll_jobs(h.db, t0, friday_end_berlin - 1, emit, log) == 0);
    CHECK(out.empty());
    CHECK(run_poll_jobs(h.db, friday_end_berlin - 1, friday_end_berlin, emit, log) == 1);
    REQUIRE(out.size() == 3);
    CHECK(out[0].to == destination::update);
    CHECK(out[0].name == "poll:D-1");
    CHECK(has(out[0].text, ":lock: Closed: 1. flag leads with 2 of 3 votes."));
    CHECK(out[0].buttons.empty());
    CHECK(out[1].name == "card:D-1");
    CHECK(has(out[1].text, "(closed)"));
    CHECK(out[2].to == destination::dm);
    CHECK(out[2].user == "ULEE");
    CHECK(has(out[2].text, "The poll on *D-1* Ship behind a flag or wait? in <#CGENERAL> "
                           "closed: 1. flag leads with 2 of 3 votes. Record the decision: "
                           "`/tpm decision D-1 decide \"<outcome>\"`"));
    CHECK(h.db.find_poll("T1", 1)->closed_at == friday_end_berlin);
    // Once: a later run (or another replica) finds it closed.
    CHECK(run_poll_jobs(h.db, friday_end_berlin, friday_end_berlin + day, emit, log) == 0);
    CHECK(out.size() == 3);
    CHECK(next_poll_due(h.db, friday_end_berlin) == 0);
    CHECK(has(h.refused("decision D-1 vote 2", "UANA"), "The poll on D-1 is closed"));
    // The decision itself stays pending for its DRI to decide.
    CHECK(h.get("D-1").status == "proposed");

    // Given more time, the poll opens again with the votes it had.
    auto later = at_time(friday_end_berlin + hour);
    h.ok("decision D-1 extend 2026-12-04", "ULEE", later);
    auto again = h.ok("decision D-1 poll", "ULEE", later);
    CHECK(has(one(again, destination::thread).text, "1. flag — 2 votes: <@UANA>, <@URAJ>"));
    CHECK(h.actions("D-1").back() == "poll reopened");
    CHECK(h.db.find_poll("T1", 1)->closed_at == 0);
    CHECK(h.db.find_poll("T1", 1)->closes_at == friday_end_berlin + 7 * day);
}

TEST_CASE("a poll on a decision without a decide-by date stays open until decided",
          "[poll][jobs]") {
    harness h;
    h.ok("decision \"Tabs or spaces?\" dri:<@ULEE> options:\"tabs\"|\"spaces\"", "UPROP");
    auto r = h.ok("decision D-1 poll", "ULEE");
    CHECK(has(one(r, destination::thread).text, "Open until *D-1* is decided."));
    CHECK(h.db.find_poll("T1", 1)->closes_at == 0);
    CHECK(next_poll_due(h.db, t0) == 0);
    std::vector<effect> out;
    CHECK(run_poll_jobs(
              h.db, t0, t0 + 365 * day,
              [&](const std::string&, const effect& e) { out.push_back(e); },
              [](const std::string&) {}) == 0);
}
