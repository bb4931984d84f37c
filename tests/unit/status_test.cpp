// The weekly status: each section and its numbers with the change since the week before, the
// RAG and every rule that contradicts it, Slack's limits, the commands, the schedule (exactly
// once), and the Block Kit it becomes, against a golden file.

#include "envelope.hpp"
#include "scheduler.hpp"
#include "sqlite_store.hpp"
#include "status.hpp"
#include "support/harness.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

/// Wed 2026-11-25 09:00 UTC is t0; the status is built on Friday 27th at 16:00 in Berlin
/// (15:00 UTC).
constexpr unix_time friday = t0 + 2 * day + 6 * hour;

opts when(unix_time now, bool admin = false) {
    opts o;
    o.now = now;
    o.admin = admin;
    return o;
}

/// The text of the block that starts with `start`; "" when there is none.
std::string block_text(const weekly_status& st, const std::string& start) {
    for (const auto& b : st.blocks) {
        if (b.text.rfind(start, 0) == 0) {
            return b.text;
        }
    }
    return {};
}

/// A channel with a fortnight of history: blockers opened and resolved in both weeks,
/// decisions made and pending (one overdue), a dependency due soon, risks, unowned items.
void history(harness& h) {
    h.batch([&] {
        // Last week (Nov 13-20): two blockers opened, one resolved.
        h.ok("blocker old one <@UDANA|dana> sev:low", "UME", when(friday - 12 * day));
        h.ok("blocker old two <@ULEE|lee> sev:med", "UME", when(friday - 10 * day));
        h.ok("blocker B-1 resolve done", "UDANA", when(friday - 9 * day));
        // This week: three opened, two resolved (one of them from last week).
        h.ok("blocker vendor API keys <@UDANA|dana> sev:high", "UME", when(friday - 5 * day));
        h.ok("blocker staging cert sev:med", "UME", when(friday - 4 * day));
        h.ok("blocker flaky CI <@ULEE|lee> sev:low", "UME", when(friday - 3 * day));
        h.ok("blocker B-2 resolve", "ULEE", when(friday - 2 * day));
        h.ok("blocker B-5 resolve", "UME", when(friday - day));
        // Decisions: one decided this week, one pending overdue, one pending later.
        h.ok("decision \"Ship behind a flag?\" by:+3d dri:<@UDANA|dana>", "UME",
             when(friday - 6 * day));
        h.ok("decision D-1 decide \"flag it\"", "UDANA", when(friday - day));
        h.ok("decision \"Which region first?\" by:+2d dri:<@ULEE|lee>", "UME",
             when(friday - 6 * day));
        h.ok("decision \"Drop IE11?\" by:+14d", "UME", when(friday - day));
        // A dependency needed within the week, one later; risks.
        h.ok("dep \"SSO metadata\" from:<@UIT|it> by:+3d dri:<@UDANA|dana>", "UME",
             when(friday - day));
        h.ok("dep \"new laptops\" from:<@UIT|it> by:+30d dri:<@ULEE|lee>", "UME",
             when(friday - day));
        h.ok("risk \"vendor goes bust\" p:l i:h dri:<@UDANA|dana>", "UME", when(friday - day));
        h.ok("risk \"key person leaves\" p:m i:h dri:<@ULEE|lee>", "UME", when(friday - day));
    });
}

} // namespace

TEST_CASE("the weekly status counts blockers with their change since the week before", "[status]") {
    harness h;
    history(h);
    auto st = build_status(h.db, "T1", "CGENERAL", friday, "Europe/Berlin");
    auto blockers = block_text(st, "*Blockers*");
    // Opened 3 this week vs 2 the week before; resolved 2 vs 1; open now B-2? no: B-3, B-4
    // (B-2 and B-5 resolved) vs open a week ago (B-2 only).
    CHECK(blockers.find("opened 3 (+1)") != std::string::npos);
    CHECK(blockers.find("resolved 2 (+1)") != std::string::npos);
    CHECK(blockers.find("open 2 (+1)") != std::string::npos);
    // Median age now: B-3 5d, B-4 4d -> 4d (rounded down from 4.5d); a week ago B-2 was 3d.
    CHECK(blockers.find("median age 4d (+1d)") != std::string::npos);
    auto open = block_text(st, "_Still open, oldest first_");
    auto b3 = open.find("*B-3* vendor API keys");
    auto b4 = open.find("*B-4* staging cert");
    REQUIRE(b3 != std::string::npos);
    REQUIRE(b4 != std::string::npos);
    CHECK(b3 < b4); // oldest first
    CHECK(open.find("high · 5d · DRI <@UDANA>") != std::string::npos);
    CHECK(open.find("DRI nobody") != std::string::npos);
}

TEST_CASE("the weekly status lists decisions, unowned items, dependencies at risk, top risks",
          "[status]") {
    harness h;
    history(h);
    auto st = build_status(h.db, "T1", "CGENERAL", friday, "Europe/Berlin");
    auto decisions = block_text(st, "*Decisions*");
    CHECK(decisions.find("decided this week 1 (+1)") != std::string::npos);
    CHECK(decisions.find("pending 2") != std::string::npos);
    CHECK(decisions.find("overdue 1 (new)") != std::string::npos);
    CHECK(block_text(st, "_Decided this week_").find("*D-1* Ship behind a flag? → flag it") !=
          std::string::npos);
    auto pending = block_text(st, "_Still to decide, overdue first_");
    auto d2 = pending.find("*D-2*");
    auto d3 = pending.find("*D-3*");
    REQUIRE(d2 != std::string::npos);
    REQUIRE(d3 != std::string::npos);
    CHECK(d2 < d3);
    CHECK(pending.find(":warning: *D-2* Which region first? — was due") != std::string::npos);
    auto unowned = block_text(st, "*Unowned*");
    CHECK(unowned.rfind("*Unowned* 2 (new)", 0) == 0); // B-4 and D-3
    CHECK(unowned.find("*B-4*") != std::string::npos);
    CHECK(unowned.find("*D-3*") != std::string::npos);
    auto deps = block_text(st, "*Dependencies at risk*");
    CHECK(deps.find("*DEP-1* SSO metadata") != std::string::npos);
    CHECK(deps.find("DEP-2") == std::string::npos); // needed in a month
    auto risks = block_text(st, "*Top risks*");
    auto r2 = risks.find("*R-2*"); // m×h = 6 before l×h = 3
    auto r1 = risks.find("*R-1*");
    REQUIRE(r2 != std::string::npos);
    REQUIRE(r1 != std::string::npos);
    CHECK(r2 < r1);
}

TEST_CASE("numbers the data cannot recompute change since the last posted status", "[status]") {
    harness h;
    history(h);
    h.ok("status post", "UME", when(friday - 7 * day + hour));
    // A week later: one more unowned item; DEP-1, needed in two days, is now at risk (a week
    // ago it was nine days away).
    h.ok("blocker nobody owns this", "UME", when(friday - hour));
    auto st = build_status(h.db, "T1", "CGENERAL", friday, "Europe/Berlin");
    CHECK(block_text(st, "*Unowned*").rfind("*Unowned* 3 (+1)", 0) == 0);
    CHECK(block_text(st, "*Dependencies at risk*").find(" 1 (+1)") != std::string::npos);
}

TEST_CASE("the RAG is shown with its evidence, and the status warns when the data disagrees",
          "[status]") {
    harness h;
    history(h);
    SECTION("never set") {
        auto st = build_status(h.db, "T1", "CGENERAL", friday, "Europe/Berlin");
        REQUIRE(st.warnings.size() == 1);
        CHECK(st.warnings[0].rfind("No RAG set yet", 0) == 0);
    }
    SECTION("green with an overdue decision and a stale high-severity blocker") {
        h.ok("status rag green \"on track\"", "UME", when(friday - hour));
        auto st = build_status(h.db, "T1", "CGENERAL", friday, "Europe/Berlin");
        REQUIRE(st.warnings.size() == 2);
        CHECK(st.warnings[0] ==
              "The RAG is green, but high-severity *B-3* has had no update for 5d.");
        CHECK(st.warnings[1].rfind("The RAG is green, but decision *D-2* was due", 0) == 0);
        auto rag = block_text(st, "<#CGENERAL> · :large_green_circle: *green* — on track");
        CHECK_FALSE(rag.empty());
        bool shown = false;
        for (const auto& b : st.blocks) {
            shown = shown || (b.type == block::kind::context &&
                              b.text.find("high-severity *B-3*") != std::string::npos);
        }
        CHECK(shown);
    }
    SECTION("an update of the blocker and the decision taken: green stands") {
        h.ok("status rag green \"on track\"", "UME", when(friday - hour));
        h.ok("blocker B-3 update keys arrive Monday", "UDANA", when(friday - hour));
        h.ok("decision D-2 decide \"EU first\"", "ULEE", when(friday - hour));
        CHECK(build_status(h.db, "T1", "CGENERAL", friday, "Europe/Berlin").warnings.empty());
    }
    SECTION("amber is not contradicted by trouble") {
        h.ok("status rag amber \"vendor slipped the API by a week\"", "UME", when(friday - hour));
        CHECK(build_status(h.db, "T1", "CGENERAL", friday, "Europe/Berlin").warnings.empty());
    }
    SECTION("no RAG update for two weeks") {
        h.ok("status rag amber \"vendor slipped\"", "UME", when(friday - 15 * day));
        auto st = build_status(h.db, "T1", "CGENERAL", friday, "Europe/Berlin");
        REQUIRE(st.warnings.size() == 1);
        CHECK(st.warnings[0] == "The RAG was last set 15d ago; is it still amber?");
    }
}

TEST_CASE("long lists end with \"and N more\" and every block stays within Slack's limits",
          "[status]") {
    harness h;
    h.batch([&] {
        for (int i = 0; i < 120; ++i) {
            h.ok("blocker " + std::string(480, 'x') + " number " + std::to_string(i), "UME",
                 when(friday - 3 * day + i));
        }
    });
    auto st = build_status(h.db, "T1", "CGENERAL", friday, "Europe/Berlin");
    CHECK(st.blocks.size() <= max_status_blocks);
    for (const auto& b : st.blocks) {
        CHECK(char_count(b.text) <= max_section_chars);
    }
    CHECK(char_count(st.text) <= max_message_chars);
    auto open = block_text(st, "_Still open, oldest first_");
    // Five lines of ~520 characters fit in 3,000 with the tail; the rest are counted.
    CHECK(open.find("_and 115 more: `/tpm blocker list <#CGENERAL>`_") != std::string::npos);
    CHECK(block_text(st, "*Unowned*").find("_and 11") != std::string::npos);
}

TEST_CASE("status previews to the caller, posts to the channel, and refuses bad input",
          "[status]") {
    harness h;
    history(h);
    auto preview = h.ok("status", "UME", when(friday));
    auto e = one(preview, destination::ephemeral);
    CHECK(e.user == "UME");
    REQUIRE_FALSE(e.blocks.empty());
    CHECK(e.blocks[0].text.find("A preview, only for you") != std::string::npos);
    CHECK(has(e.text, "*Blockers*"));
    CHECK(effects_to(preview, destination::channel).empty());

    auto posted = h.ok("status post", "UME", when(friday));
    auto post = one(posted, destination::channel);
    CHECK(post.channel == "CGENERAL");
    CHECK(post.blocks.front().type == block::kind::header);
    CHECK(h.db.setting("T1", "status.last.CGENERAL"));
    CHECK(has(one(posted, destination::ephemeral).text, "Posted the weekly status"));

    // Another channel by reference; and via /status.
    auto other = h.ok("post <#CDESIGN|design>", "UME", [] {
        auto o = via("/status");
        o.now = friday;
        return o;
    }());
    CHECK(one(other, destination::channel).channel == "CDESIGN");

    CHECK(has(h.refused("status rag purple \"hm\"", "UME"), "`purple` is not a RAG"));
    CHECK(has(h.refused("status rag amber", "UME"), "A RAG needs its evidence"));
    CHECK(has(h.refused("status rag red " + std::string(1001, 'x'), "UME"), "1000"));
    CHECK_FALSE(h.db.setting("T1", "status.rag.CGENERAL"));
    CHECK(has(h.refused("status frobnicate", "UME"), "has no `frobnicate`"));
    opts dm;
    dm.channel = "DUME";
    CHECK(has(h.refused("status", "UME", dm), "The weekly status is a channel's"));
}

TEST_CASE("the weekly status posts on its schedule exactly once, also across a restart",
          "[status]") {
    harness h;
    history(h);
    CHECK(has(h.refused("status schedule", "ULEE"), "Only an admin"));
    CHECK(has(h.refused("status schedule funday 16:00", "UME", as_admin()), "funday"));
    auto r = h.ok("status schedule", "UME", when(friday - 2 * day, true));
    CHECK(has(one(r, destination::ephemeral).text, "fri at 16:00 Europe/Berlin"));
    CHECK(has(one(r, destination::ephemeral).text, "next on Fri 2026-11-27"));
    CHECK(next_status_due(h.db, friday - 2 * day) == friday); // 16:00 CET = 15:00 UTC

    std::vector<effect> posts;
    std::vector<std::string> logs;
    auto emit = [&](const std::string&, const effect& e) {
        posts.push_back(e);
    };
    auto log = [&](const std::string& l) {
        logs.push_back(l);
    };
    CHECK(run_status_jobs(h.db, friday - 2 * day, friday - 1, day, emit, log) == 0);
    CHECK(run_status_jobs(h.db, friday - 2 * day, friday, day, emit, log) == 1);
    CHECK(run_status_jobs(h.db, friday - 2 * day, friday, day, emit, log) == 0); // claimed
    REQUIRE(posts.size() == 1);
    CHECK(posts[0].channel == "CGENERAL");
    CHECK(posts[0].blocks.front().type == block::kind::header);

    // A restart: a new connection to the same file, the same window, nothing more.
    {
        sqlite_store again(h.dir.file("tpmbot.db").string());
        CHECK(run_status_jobs(again, friday - 2 * day, friday + hour, day, emit, log) == 0);
    }
    CHECK(posts.size() == 1);

    // Turned off: nothing next week.
    h.ok("status schedule off", "UME", when(friday, true));
    CHECK(next_status_due(h.db, friday) == 0);
    CHECK(run_status_jobs(h.db, friday, friday + 8 * day, day, emit, log) == 0);
}

TEST_CASE("the weekly status becomes Block Kit within Slack's limits (golden file)",
          "[status][envelope]") {
    harness h;
    history(h);
    h.ok("status rag amber \"vendor slipped the API by a week\"", "UME", when(friday - hour));
    auto st = build_status(h.db, "T1", "CGENERAL", friday, "Europe/Berlin");
    effect e;
    e.to = destination::channel;
    e.channel = "CGENERAL";
    e.text = st.text;
    e.blocks = st.blocks;
    auto body = boost::json::parse(slack::post_message_body(e, "CGENERAL", "")).as_object();
    const auto& blocks = body.at("blocks").as_array();
    CHECK(blocks.size() <= 50);
    for (const auto& b : blocks) {
        const auto& o = b.as_object();
        auto type = o.at("type").as_string();
        if (type == "header") {
            CHECK(o.at("text").as_object().at("text").as_string().size() <= 150);
        } else if (type == "section") {
            CHECK(o.at("text").as_object().at("text").as_string().size() <= 3000);
        }
    }
    CHECK(body.at("text").as_string().size() <= 40000);

    // One block a line, so a change reads well in a diff.
    std::string pretty = "[";
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        pretty += (i == 0 ? "\n" : ",\n") + boost::json::serialize(blocks[i]);
    }
    pretty += "\n]";
    auto golden =
        std::filesystem::path(__FILE__).parent_path().parent_path() / "data" / "status_blocks.json";
    if (std::getenv("UPDATE_GOLDEN") != nullptr) {
        std::ofstream(golden) << pretty << "\n";
    }
    std::ifstream in(golden);
    REQUIRE(in.good());
    std::string expected((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(pretty + "\n" == expected);
}
