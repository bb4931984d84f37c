// Export (`/tpm export`): CSV, JSON and Markdown of a workspace's items, shown only to the
// caller inside a code block, with Slack's escaping.

#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

using strings = std::vector<std::string>;

/// The text inside the export's code block.
std::string body_of(const std::string& reply) {
    auto open = reply.find("```\n");
    auto close = reply.rfind("\n```");
    REQUIRE(open != std::string::npos);
    REQUIRE(close != std::string::npos);
    REQUIRE(close >= open + 4);
    return reply.substr(open + 4, close - open - 4);
}

strings lines_of(const std::string& s) {
    strings out;
    std::size_t from = 0;
    while (true) {
        auto nl = s.find('\n', from);
        out.push_back(s.substr(from, nl - from));
        if (nl == std::string::npos) {
            return out;
        }
        from = nl + 1;
    }
}

const std::string csv_header =
    "id,kind,status,title,dri,reporter,channel,severity,area,due,waiting_on,from,for,"
    "probability,impact,mitigation,consulted,options,outcome,rationale,note,supersedes,"
    "superseded_by,created,updated,closed";

/// Runs an export, requiring one ephemeral reply and no change to the store.
std::string export_reply(harness& h, const std::string& text) {
    auto before = h.dump();
    auto r = h.ok(text, "UX");
    CHECK(h.dump() == before);
    REQUIRE(r.effects.size() == 1);
    auto e = one(r, destination::ephemeral);
    CHECK(e.user == "UX");
    return e.text;
}

/// A small workspace: two blockers, a decided decision, a risk and a dep; one item in T2.
void prepare(harness& h) {
    h.ok("blocker cert expired <@UDANA|dana> sev:high waiting:<@ULEE>"); // B-1
    h.ok("blocker B-1 resolve issued", "UDANA", at_time(t0 + hour));
    h.ok("blocker flaky CI");                                                  // B-2
    h.ok("decision \"Ship?\" by:fri consult:<@UANA|ana> options:\"a\"|\"b\""); // D-1
    h.ok("decision D-1 decide a because:\"it is simpler\"");
    h.ok("risk \"vendor slips\" p:h i:l mitigation:\"mock\""); // R-1
    h.ok("dep \"keys\" from:<!subteam^S1|@security> for:B-2"); // DEP-1
    h.ok("blocker secret other team", "UME", in_team("T2"));
}

} // namespace

TEST_CASE("export blockers as CSV", "[export]") {
    harness h;
    prepare(h);
    auto reply = export_reply(h, "export blockers csv");
    CHECK(reply.starts_with("*Export: blockers (2 items, csv)*\n```\n"));
    auto lines = lines_of(body_of(reply));
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == csv_header);
    CHECK(lines[1] == "B-1,blocker,resolved,cert expired @dana,UDANA,UME,CGENERAL,high,,,'@ULEE,,,"
                      ",,,,,,,issued,,,2026-11-25T09:00:00Z,2026-11-25T10:00:00Z,"
                      "2026-11-25T10:00:00Z");
    CHECK(lines[2] == "B-2,blocker,open,flaky CI,,UME,CGENERAL,med,,,,,,,,,,,,,,,,"
                      "2026-11-25T09:00:00Z,2026-11-25T09:00:00Z,");
    CHECK_FALSE(has(reply, "secret other team"));
}

TEST_CASE("export defaults to everything as CSV, kinds filter", "[export]") {
    harness h;
    prepare(h);
    auto all = export_reply(h, "export");
    CHECK(all.starts_with("*Export: all (5 items, csv)*"));
    auto lines = lines_of(body_of(all));
    REQUIRE(lines.size() == 6);
    CHECK(lines[0] == csv_header);
    CHECK(lines[1].starts_with("B-1,"));
    CHECK(has(all, "\nD-1,decision,decided,Ship?,,UME,CGENERAL,,,2026-11-27,,,,,,,'@UANA,a; b,a,"
                   "it is simpler,"));
    CHECK(has(all, "\nR-1,risk,open,vendor slips,"));
    CHECK(has(all, ",h,l,mock,"));
    CHECK(has(all, "\nDEP-1,dep,open,keys,,UME,CGENERAL,,,,,'@security,B-2,"));
    CHECK(export_reply(h, "export all csv") == all);

    auto decisions = export_reply(h, "export decisions");
    CHECK(decisions.starts_with("*Export: decisions (1 items, csv)*"));
    CHECK(lines_of(body_of(decisions)).size() == 2);
    CHECK(has(export_reply(h, "export decision"), "D-1,decision"));
    CHECK(has(export_reply(h, "export risks"), "(1 items"));
    CHECK(has(export_reply(h, "export deps"), "DEP-1,dep"));
    // Order of the options does not matter; case neither.
    CHECK(export_reply(h, "export CSV BLOCKERS") == export_reply(h, "export blockers csv"));
}

TEST_CASE("CSV fields with commas, quotes or newlines are quoted", "[export][csv]") {
    harness h;
    h.ok("blocker the 5\"screen, broken");
    h.ok("blocker B-1 resolve fixed, \"finally\"");
    auto lines = lines_of(body_of(export_reply(h, "export blockers csv")));
    REQUIRE(lines.size() == 2);
    CHECK(has(lines[1], ",\"the 5\"\"screen, broken\","));
    CHECK(has(lines[1], ",\"fixed, finally\","));
}

TEST_CASE("export escapes for Slack and never closes its code block", "[export][injection]") {
    harness h;
    h.ok("blocker a &amp; b &lt;script&gt; <!channel> ask <@UDANA|dana> in <#CDESIGN|design>");
    h.ok("blocker three ```backticks``` here");
    for (auto format : {"csv", "json", "md"}) {
        INFO(format);
        auto reply = export_reply(h, std::string("export blockers ") + format);
        auto body = body_of(reply);
        CHECK(has(body, "a &amp; b &lt;script&gt; @channel ask @dana in #design"));
        CHECK_FALSE(has(reply, "<!"));
        CHECK_FALSE(has(reply, "<script"));
        CHECK_FALSE(has(reply, "<@"));
        CHECK_FALSE(has(body, "```"));
        CHECK(has(body, "three '''backticks''' here"));
        // Nothing unescaped: every & starts an entity, and there is no < or > at all.
        CHECK(body.find('<') == std::string::npos);
        CHECK(body.find('>') == std::string::npos);
        for (auto at = body.find('&'); at != std::string::npos; at = body.find('&', at + 1)) {
            auto tail = body.substr(at, 5);
            CHECK((tail.starts_with("&amp;") || tail.starts_with("&lt;") ||
                   tail.starts_with("&gt;")));
        }
    }
}

TEST_CASE("export as JSON", "[export][json]") {
    harness h;
    h.ok("blocker say \"hi\" \\ tab");
    h.ok("blocker quote 5\"inch");
    auto body = body_of(export_reply(h, "export blockers json"));
    auto lines = lines_of(body);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0] == "[");
    CHECK(lines[1].starts_with("  {\"id\": \"B-1\", \"kind\": \"blocker\", \"status\": \"open\", "
                               "\"title\": \"say hi \\\\ tab\", "));
    CHECK(has(lines[2], "\"title\": \"quote 5\\\"inch\""));
    CHECK(lines[1].ends_with("\"closed\": \"\"},"));
    CHECK(lines[3] == "]");
    auto empty = body_of(export_reply(h, "export decisions json"));
    CHECK(empty == "[\n]");
}

TEST_CASE("export as Markdown", "[export][md]") {
    harness h;
    h.ok("blocker pipes | in | title");
    auto lines = lines_of(body_of(export_reply(h, "export blockers md")));
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].starts_with("| id | kind | status | title |"));
    CHECK(lines[1].starts_with("| --- | --- |"));
    CHECK(lines[2].starts_with("| B-1 | blocker | open | pipes \\| in \\| title |"));
}

TEST_CASE("export errors", "[export][errors]") {
    harness h;
    h.ok("blocker b");
    auto msg = h.refused("export pdf");
    CHECK(has(msg, "`pdf` is not an export option"));
    CHECK(has(msg, "[blockers|decisions|risks|deps|all] [csv|json|md]"));
    CHECK(has(h.refused("export json csv md blockers all everything"),
              "`everything` is not an export option"));
}

TEST_CASE("errors quote what the user typed once-escaped, not twice", "[export][errors]") {
    // BUG (handlers/*.cpp, every `mrkdwn::escape(t.raw)` / `escape(t.value)` in an error):
    // the raw token is ALREADY Slack-encoded ("<x>" arrives as "&lt;x&gt;"), so escaping it
    // again shows the user "`&amp;lt;x&amp;gt;` is not an export option" (rendered as
    // `&lt;x&gt;`) instead of `<x>`. Same in blocker/decision/risk/dep list filters, unknown
    // verbs, `sev:`/`p:`/`for:` values. Fix: quote `mrkdwn::safe(t.raw)` (keeps entities,
    // neutralises broadcasts) or `mrkdwn::escape(t.text)` (the decoded text).
    harness h;
    CHECK(has(h.error("export blockers &lt;x&gt;"), "`&lt;x&gt;` is not an export option"));
    CHECK(has(h.error("blocker list a&amp;b"), "`a&amp;b` is not a blocker list filter"));
    CHECK(has(h.error("blocker x sev:&lt;hi&gt;"), "`sev:&lt;hi&gt;` is not a severity"));
}

TEST_CASE("a large export is cut at Slack's message size with a note", "[export]") {
    harness h;
    h.batch([&] {
        for (int i = 0; i < 120; ++i) {
            h.ok("blocker " + std::string(450, 'x') + " " + std::to_string(i));
        }
    });
    auto reply = export_reply(h, "export blockers csv");
    CHECK(reply.size() < 40000);
    CHECK(has(reply, "(120 items, csv)"));
    CHECK(has(reply, "_Cut at Slack's message size"));
    CHECK(has(reply, "\n```\n_Cut"));
}
