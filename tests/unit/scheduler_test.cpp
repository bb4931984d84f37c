#include "scheduler.hpp"
#include "sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

using namespace tpmbot;

namespace {

constexpr unix_time hour = 3600;
/// Wed 2026-11-25 00:00 UTC.
constexpr unix_time wednesday = 1795564800;

daily_job standup_at_nine_berlin() {
    daily_job j;
    j.name = "standup-prompt:T1:C1:U1";
    j.minute = 9 * 60;
    j.days = schedule::monday_to_friday;
    j.tz = "Europe/Berlin"; // CET, +1 in November: 09:00 local is 08:00 UTC
    j.grace = 2 * hour;
    return j;
}

effect post(const std::string& text) {
    effect e;
    e.to = destination::channel;
    e.channel = "C1";
    e.text = text;
    return e;
}

} // namespace

TEST_CASE("a manual clock moves only when told", "[scheduler]") {
    manual_clock c(wednesday);
    CHECK(c.now() == wednesday);
    c.advance(90);
    CHECK(c.now() == wednesday + 90);
    c.set(5);
    CHECK(c.now() == 5);
    CHECK(system_clock_source().now() > wednesday - 365 * 24 * hour);
}

TEST_CASE("a firing is due once its time has come, and not before", "[scheduler]") {
    auto job = standup_at_nine_berlin();
    CHECK(due_firings(job, wednesday, wednesday + 8 * hour - 1).run.empty());
    auto d = due_firings(job, wednesday, wednesday + 8 * hour);
    REQUIRE(d.run.size() == 1);
    CHECK(d.run[0].period == "2026-11-25");
    CHECK(d.skipped.empty());
    // The next check starts where the last one ended: nothing new.
    CHECK(due_firings(job, wednesday + 8 * hour, wednesday + 9 * hour).run.empty());
}

TEST_CASE("after downtime, firings within the grace window are caught up, older skipped",
          "[scheduler]") {
    auto job = standup_at_nine_berlin();
    // Down from Monday 00:00 UTC to Wednesday 09:30 UTC: Monday's and Tuesday's prompts are
    // days late (skipped); Wednesday's is 90 minutes late (caught up).
    auto monday = wednesday - 2 * 24 * hour;
    auto d = due_firings(job, monday, wednesday + 9 * hour + 30 * 60);
    REQUIRE(d.run.size() == 1);
    CHECK(d.run[0].period == "2026-11-25");
    REQUIRE(d.skipped.size() == 2);
    CHECK(d.skipped[0].period == "2026-11-23");
    CHECK(d.skipped[1].period == "2026-11-24");
    // Three hours late is past a two-hour grace.
    auto late = due_firings(job, wednesday, wednesday + 11 * hour);
    CHECK(late.run.empty());
    CHECK(late.skipped.size() == 1);
}

TEST_CASE("a firing runs once, across a restart, with its effects in the same transaction",
          "[scheduler]") {
    test::temp_dir dir;
    auto path = dir.file("s.db").string();
    const std::string job = "standup-prompt:T1:C1:U1";
    {
        sqlite_store db(path);
        CHECK(run_once(db, job, "2026-11-25", wednesday,
                       [&] { db.enqueue("T1", post("first"), wednesday); }));
        CHECK_FALSE(run_once(db, job, "2026-11-25", wednesday,
                             [&] { db.enqueue("T1", post("again"), wednesday); }));
    }
    sqlite_store db(path); // a restart: the claim is on disk
    CHECK_FALSE(run_once(db, job, "2026-11-25", wednesday + 60,
                         [&] { db.enqueue("T1", post("after restart"), wednesday); }));
    CHECK(run_once(db, job, "2026-11-26", wednesday + 24 * hour,
                   [&] { db.enqueue("T1", post("next day"), wednesday); }));
    auto rows = db.pending(10);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].e.text == "first");
    CHECK(rows[1].e.text == "next day");
}

TEST_CASE("effects that fail leave the period unclaimed, to run again", "[scheduler]") {
    test::temp_dir dir;
    sqlite_store db(dir.file("s.db").string());
    CHECK_THROWS_AS(run_once(db, "j", "p", 1,
                             [&] {
                                 db.enqueue("T1", post("half"), 1);
                                 throw std::runtime_error("boom");
                             }),
                    std::runtime_error);
    CHECK(db.pending(10).empty());
    CHECK(run_once(db, "j", "p", 2, [&] { db.enqueue("T1", post("whole"), 2); }));
    REQUIRE(db.pending(10).size() == 1);
}
