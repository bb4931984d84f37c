// Security, across every noun: nothing typed anywhere makes a post ping a crowd (text, Block
// Kit and buttons); hostile strings are stored as typed or refused cleanly; every mutating
// verb is refused to whoever may not use it, and the refusal changes nothing.

#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

/// Every broadcast Slack knows, as a slash command or a mention delivers them.
const std::string crowd = "<!channel> <!here> <!everyone> <!subteam^S0AB|@eng> <!subteam^S0CD> "
                          "<!group> <!here|here>";

/// Every text of every effect: the message, its blocks, its buttons' labels and values.
std::string everything(const handled& r) {
    std::string out;
    for (const auto& e : r.effects) {
        out += e.text + "\n";
        for (const auto& b : e.blocks) {
            out += b.text + "\n";
        }
        for (const auto& b : e.buttons) {
            out += b.text + " " + b.value + "\n";
        }
    }
    return out;
}

} // namespace

TEST_CASE("no text typed into any noun, the status or an export makes a post ping a crowd",
          "[security][injection]") {
    harness h;
    std::vector<std::string> commands = {
        "blocker " + crowd + " area:\"" + crowd + "\" waiting:<!here> <@UDANA|dana>",
        "blocker B-1 update " + crowd,
        "blocker B-1 escalate " + crowd,
        "owner area \"eng " + crowd + "\" <@UDANA|dana>",
        "owner who \"eng " + crowd + "\"",
        "owner list",
        "owner unowned",
        "decision \"" + crowd +
            "\" by:2027-01-15 dri:<@UDANA|dana> consult:<@ULEE|lee> "
            "options:\"" +
            crowd + "\"|\"plain\" area:\"" + crowd + "\"",
        "decision D-1 update " + crowd,
        "decision D-1 decide \"" + crowd + "\" because:\"" + crowd + "\"",
        "decision list all",
        "decision D-1",
        "risk \"" + crowd + "\" mitigation:\"" + crowd + "\" area:\"" + crowd + "\"",
        "risk R-1 update " + crowd,
        "risk list all",
        "dep \"" + crowd + "\" from:<!subteam^S0AB|@eng> by:2027-01-15",
        "dep list all",
        "status rag red \"" + crowd + "\"",
        "status",
        "status post",
        "export all md",
        "export all csv",
        "export all json",
        "blocker B-1 resolve " + crowd,
        "blocker list all",
        "blocker B-1",
    };
    int succeeded = 0;
    for (const auto& c : commands) {
        auto r = h.run(c, "UME", as_admin());
        succeeded += r.ok ? 1 : 0;
        auto text = everything(r);
        INFO("command: " << c);
        INFO("answer: " << text);
        CHECK(r.ok);
        CHECK(text.find("<!") == std::string::npos);
    }
    // A bare mention flags a blocker from its whole text.
    auto m = h.mention(crowd + " staging is down");
    CHECK(m.ok);
    CHECK(everything(m).find("<!") == std::string::npos);
    CHECK(succeeded == static_cast<int>(commands.size()));
    // And what was stored holds no broadcast either, so no later post can carry one.
    for (const auto& it : h.items()) {
        INFO(it.id_str() << ": " << it.title);
        CHECK(it.title.find("<!") == std::string::npos);
        CHECK(it.outcome.find("<!") == std::string::npos);
        CHECK(it.rationale.find("<!") == std::string::npos);
        CHECK(it.mitigation.find("<!") == std::string::npos);
        // Area names are kept as typed, to be matched by name; every post of one is made
        // safe, as the answers above show.
    }
}

TEST_CASE("hostile strings are stored as typed, or refused with a message and nothing stored",
          "[security][input]") {
    harness h;
    struct hostile {
        std::string typed;
        std::string stored; ///< the title as stored
    };
    const std::vector<hostile> cases = {
        {"Robert'); DROP TABLE items;--", "Robert'); DROP TABLE items;--"},
        {"1 OR 1=1; SELECT * FROM admins", "1 OR 1=1; SELECT * FROM admins"},
        // Quotes group words (the tokenizer's rule), so a quoted word is kept without them.
        {"it's \"quoted\" and `ticked`", "it's quoted and `ticked`"},
        {std::string("a NUL\0inside", 13), "a NUL inside"},
        {"right-to-left \u202Egnp.exe\u202C and \u200Fmarks\u200E",
         "right-to-left \u202Egnp.exe\u202C and \u200Fmarks\u200E"},
        {"4-byte emoji \xF0\x9F\x9A\x80 \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB",
         "4-byte emoji \xF0\x9F\x9A\x80 \xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB"},
        // Invalid UTF-8 (a stray continuation byte, a truncated sequence, an overlong '/', a
        // surrogate) becomes U+FFFD, so every post of it is valid JSON for Slack.
        {"bad \x80 utf \xE2\x82 x \xC0\xAF y \xED\xA0\x80 z",
         "bad \xEF\xBF\xBD utf \xEF\xBF\xBD x \xEF\xBF\xBD\xEF\xBF\xBD y "
         "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD z"},
    };
    int n = 0;
    for (const auto& c : cases) {
        INFO("typed: " << c.typed);
        auto r = h.ok("blocker " + c.typed);
        ++n;
        auto it = h.get("B-" + std::to_string(n));
        CHECK(it.title == c.stored);
        CHECK(everything(r).find('\0') == std::string::npos);
    }
    CHECK(h.items().size() == cases.size()); // the table is still there, and only those
    // Too long: refused, nothing stored.
    auto msg = h.refused("blocker " + std::string(5000, 'x'));
    CHECK(msg.find("characters long") != std::string::npos);
    // An unterminated quote: refused, with the text escaped in the answer.
    msg = h.refused("decision \"<!channel> which way?");
    CHECK(msg.find("<!") == std::string::npos);
}

TEST_CASE("every mutating verb is refused to whoever may not use it, and changes nothing",
          "[security][permissions]") {
    harness h;
    // UME raises everything; UDANA owns it; UEVE is neither and not an admin.
    h.ok("blocker the cert expired <@UDANA|dana>");
    h.ok("decision \"flag or wait?\" by:2027-01-15 dri:<@UDANA|dana>");
    h.ok("decision \"older question\" by:2027-01-15 dri:<@UDANA|dana>");
    h.ok("decision D-2 decide \"wait\"", "UDANA");
    h.ok("risk \"vendor slips\" dri:<@UDANA|dana>");
    h.ok("dep \"keys from infra\" from:<@ULEE|lee> by:2027-01-15 dri:<@UDANA|dana>");
    const std::vector<std::string> item_verbs = {
        "blocker B-1 ack",        "blocker B-1 resolve done",     "blocker B-1 undo",
        "owner B-1 <@UEVE|eve>",  "decision D-1 decide \"ship\"", "decision D-1 extend 2027-02-01",
        "decision D-1 reject no", "decision D-1 supersede D-2",   "risk R-1 mitigate done",
        "risk R-1 close",         "dep DEP-1 delivered",          "dep DEP-1 drop",
    };
    for (const auto& v : item_verbs) {
        INFO(v);
        auto msg = h.refused(v, "UEVE");
        CHECK(msg.find("<@UEVE>") == std::string::npos); // not about a person it isn't
    }
    const std::vector<std::string> admin_verbs = {
        "config admins add <@UEVE|eve>",  "config escalation high:1/2/3",
        "config quiet-hours 22:00-07:00", "standup setup at:09:30",
        "status schedule fri 16:00",
    };
    for (const auto& v : admin_verbs) {
        INFO(v);
        h.refused(v, "UEVE");
    }
    // The same verbs are the DRI's (or the reporter's, or an admin's) to use.
    h.ok("blocker B-1 ack", "UDANA");
    h.ok("blocker B-1 resolve done", "UME");
    h.ok("decision D-1 decide \"ship\"", "UDANA");
    h.ok("risk R-1 mitigate done", "UEVE", as_admin());
    h.ok("config quiet-hours 22:00-07:00", "UEVE", as_admin());
}
