// The router: nouns, aliases, synonyms, help and "did you mean"; and a self-check that
// every example in the help works as a command.

#include "support/harness.hpp"

#include <catch2/catch.hpp>
#include <cctype>
#include <stdexcept>
#include <string>
#include <vector>

using namespace tpmbot;
using namespace tpmbot::test;

namespace {

using strings = std::vector<std::string>;

/// A help example as Slack would deliver it: "/tpm " removed, `@name` typed in the client
/// encoded as a user reference `<@UNAME|name>`.
std::string as_slack(std::string example) {
    const std::string prefix = "/tpm ";
    REQUIRE(example.starts_with(prefix));
    example.erase(0, prefix.size());
    std::string out;
    for (std::size_t i = 0; i < example.size(); ++i) {
        const char c = example[i];
        const bool starts_name =
            (c == '@' || c == '#') &&
            (i == 0 || example[i - 1] == ' ' || example[i - 1] == ':' || example[i - 1] == ',');
        if (!starts_name) {
            out += c;
            continue;
        }
        std::size_t j = i + 1;
        std::string name, id = c == '@' ? "U" : "C";
        while (j < example.size() &&
               (std::isalnum(static_cast<unsigned char>(example[j])) != 0 || example[j] == '-' ||
                example[j] == '_' || example[j] == '.')) {
            name += example[j];
            if (std::isalnum(static_cast<unsigned char>(example[j])) != 0) {
                id += static_cast<char>(std::toupper(static_cast<unsigned char>(example[j])));
            }
            ++j;
        }
        out += (c == '@' ? "<@" : "<#") + id + "|" + name + ">";
        i = j - 1;
    }
    return out;
}

/// A store holding the items the help examples name (B-12, D-3 decided, D-7, D-9, R-3,
/// DEP-4, the area "payments api"), owned by someone other than the example's people.
void prepare_for_examples(harness& h) {
    h.batch([&] {
        h.ok("owner area \"payments api\" <@UPREP>", "UPREP");
        for (int i = 1; i <= 12; ++i) {
            h.ok("blocker prepared blocker " + std::to_string(i) + " dri:<@UPREP>");
        }
        for (int i = 1; i <= 9; ++i) {
            h.ok("decision \"prepared decision " + std::to_string(i) +
                 "?\" by:+14d dri:<@UPREP> options:\"flag\"|\"wait\"");
        }
        h.ok("decision D-3 decide flag", "UPREP");
        h.ok("standup setup at:09:00 members:<@UME>,<@UPREP>", "UME", as_admin());
        for (int i = 1; i <= 3; ++i) {
            h.ok("risk \"prepared risk " + std::to_string(i) + "\" dri:<@UPREP>");
        }
        for (int i = 1; i <= 4; ++i) {
            h.ok("dep \"prepared dep " + std::to_string(i) + "\" from:<@UINFRA> dri:<@UPREP>");
        }
    });
}

} // namespace

TEST_CASE("the router registers every noun once, in order", "[router]") {
    auto r = make_router();
    strings names;
    for (const auto& n : r.nouns()) {
        names.push_back(n.name);
        CHECK_FALSE(n.title.empty());
        CHECK_FALSE(n.help.empty());
        CHECK(n.fn);
        for (const auto& e : n.help) {
            INFO(e.usage);
            CHECK(e.usage.starts_with("/tpm " + n.name));
            CHECK(e.example.starts_with("/tpm " + n.name));
            CHECK_FALSE(e.summary.empty());
        }
    }
    CHECK(names == strings{"blocker", "owner", "decision", "risk", "dep", "export", "standup",
                           "status", "config"});
    noun_def dup;
    dup.name = "blocker";
    CHECK_THROWS_AS(r.add(dup), std::logic_error);
}

TEST_CASE("help shows the everyday commands, only to the caller", "[router][help]") {
    harness h;
    auto r = h.ok("help", "UX");
    REQUIRE(r.effects.size() == 1);
    auto e = one(r, destination::ephemeral);
    CHECK(e.user == "UX");
    int everyday = 0;
    for (const auto& n : h.routes.nouns()) {
        for (const auto& entry : n.help) {
            INFO(entry.usage);
            CHECK(has(e.text, "`" + entry.usage + "`") == entry.everyday);
            everyday += entry.everyday ? 1 : 0;
        }
        CHECK(has(e.text, n.name));
    }
    CHECK(everyday >= 5);
    CHECK(has(e.text, "`/tpm help all`"));
    CHECK(h.items().empty());
    CHECK(one(h.ok("HELP"), destination::ephemeral).text == e.text);
    // From a mention: in the thread.
    auto m = h.mention("help", "UX", "1795597200.000100");
    REQUIRE(m.ok);
    CHECK(one(m, destination::ephemeral).thread_ts == "1795597200.000100");
    CHECK(h.items().empty());
}

TEST_CASE("help <noun> lists each of its commands with an example", "[router][help]") {
    harness h;
    for (const auto& n : h.routes.nouns()) {
        INFO(n.name);
        auto text = one(h.ok("help " + n.name), destination::ephemeral).text;
        CHECK(has(text, "*" + n.title + "*"));
        for (const auto& e : n.help) {
            CHECK(has(text, "`" + e.usage + "` — " + e.summary));
            CHECK(has(text, "e.g. `" + e.example + "`"));
        }
        for (const auto& other : h.routes.nouns()) {
            if (other.name != n.name) {
                CHECK_FALSE(has(text, "*" + other.title + "*"));
            }
        }
    }
    // Synonyms and case.
    auto blocker = one(h.ok("help blocker"), destination::ephemeral).text;
    CHECK(one(h.ok("help blockers"), destination::ephemeral).text == blocker);
    CHECK(one(h.ok("help Blocker"), destination::ephemeral).text == blocker);
    CHECK(has(one(h.ok("help dependencies"), destination::ephemeral).text, "/tpm dep <id>"));
}

TEST_CASE("help all lists every command of every noun", "[router][help]") {
    harness h;
    auto text = one(h.ok("help all"), destination::ephemeral).text;
    for (const auto& n : h.routes.nouns()) {
        CHECK(has(text, "*" + n.title + "*"));
        for (const auto& e : n.help) {
            INFO(e.usage);
            CHECK(has(text, "`" + e.usage + "`"));
            CHECK(has(text, "e.g. `" + e.example + "`"));
        }
    }
    CHECK(text == h.routes.help("all"));
}

TEST_CASE("help for an unknown topic is an error with did you mean", "[router][help][errors]") {
    harness h;
    auto msg = h.refused("help blokers");
    CHECK(has(msg, "There is no help topic `blokers`"));
    auto s = suggestions(msg);
    REQUIRE(s.size() == 2);
    CHECK(s[0].starts_with("/tpm blocker"));
    CHECK_THROWS_AS(h.routes.help("nonsense"), user_error);
}

TEST_CASE("every help example works as a command", "[router][help][examples]") {
    // Self-check that the help describes what works: each example, as Slack would deliver
    // it, succeeds against a store holding the ids it names.
    auto r = make_router();
    for (const auto& n : r.nouns()) {
        for (const auto& e : n.help) {
            DYNAMIC_SECTION(e.example) {
                harness h;
                prepare_for_examples(h);
                if (has(e.example, " vote ")) {
                    h.ok("decision D-7 poll", "UPREP");
                }
                if (has(e.example, " reopen")) {
                    h.ok("blocker B-12 resolve", "UPREP");
                    h.ok("risk R-3 close", "UPREP");
                    h.ok("dep DEP-4 delivered", "UPREP");
                }
                auto text = as_slack(e.example);
                INFO("sent as: " << text);
                auto res = h.run(text, "UME", as_admin());
                INFO("reply: " << all_text(res));
                CHECK_FALSE(has(all_text(res), "I don't know the command"));
                CHECK_FALSE(has(all_text(res), "is not something a"));
                CHECK(res.ok);
            }
        }
    }
}

TEST_CASE("item ids route to their noun", "[router]") {
    harness h;
    h.ok("blocker b <@UDANA>");
    h.ok("decision \"d?\"");
    h.ok("risk \"r\"");
    h.ok("dep \"x\" from:<@UA>");
    CHECK(has(one(h.ok("B-1"), destination::ephemeral).text, "*B-1* b"));
    CHECK(has(one(h.ok("d-1"), destination::ephemeral).text, "*D-1* d?"));
    CHECK(has(one(h.ok("R-1"), destination::ephemeral).text, "*R-1* r"));
    CHECK(has(one(h.ok("dep-1"), destination::ephemeral).text, "*DEP-1* x"));
    h.ok("D-1 decide yes");
    CHECK(h.get("D-1").status == "decided");
    h.ok("R-1 close");
    CHECK(h.get("R-1").status == "closed");
    h.ok("DEP-1 drop");
    CHECK(h.get("DEP-1").status == "dropped");
    CHECK(has(h.refused("B-0"), "I don't know the command"));
    CHECK(has(h.refused("X-1"), "I don't know the command `x-1`"));
}

TEST_CASE("synonyms and aliases reach the same nouns", "[router][alias]") {
    harness h;
    h.ok("blocker b");
    CHECK(has(one(h.ok("blockers list all"), destination::ephemeral).text, "*B-1*"));
    h.ok("decide \"via a synonym?\"");
    CHECK(h.get("D-1").title == "via a synonym?");
    CHECK(has(one(h.ok("decisions list all"), destination::ephemeral).text, "*D-1*"));
    h.ok("risks \"r\"");
    CHECK(h.get("R-1").title == "r");
    h.ok("dependency \"x\" from:<@UA>");
    h.ok("dependencies \"y\" from:<@UA>");
    CHECK(h.items(item_kind::dep).size() == 2);
    h.ok("deps list");
    h.ok("owners list");
    h.ok("dri B-1 me");
    CHECK(h.get("B-1").dri == "UME");

    h.ok("\"from the alias?\"", "UME", via("/decision"));
    CHECK(h.get("D-2").title == "from the alias?");
    h.ok("B-1 <@ULEE>", "UME", via("/owner"));
    CHECK(h.get("B-1").dri == "ULEE");
    h.ok("from the alias", "UME", via("/blocker"));
    CHECK(h.get("B-2").title == "from the alias");
    // A mention works with the same text as /tpm.
    REQUIRE(h.mention("decision \"from a mention?\" by:fri").ok);
    CHECK(h.get("D-3").due == "2026-11-27");
    CHECK(h.get("D-3").thread_ts == "1795597200.000100");

    CHECK(has(h.refused("x", "UME", via("/weekly")), "tpmbot does not know the command `/weekly`"));
}

TEST_CASE("did you mean names the two closest commands", "[router]") {
    auto r = make_router();
    auto s = suggestions(r.did_you_mean("decison"));
    REQUIRE(s.size() == 2);
    CHECK(s[0].starts_with("/tpm decision"));
    auto v = suggestions(r.did_you_mean("resolv", "blocker"));
    REQUIRE(v.size() == 2);
    CHECK(v[0] == "/tpm blocker <id> resolve [note]");
    auto x = suggestions(r.did_you_mean("expor"));
    REQUIRE_FALSE(x.empty());
    CHECK(x[0].starts_with("/tpm export"));
    CHECK(has(r.did_you_mean("zzz"), "`/tpm help all` lists every command."));
}

TEST_CASE("config: admins only, did you mean for unknown settings", "[router][config]") {
    harness h;
    CHECK(has(h.refused("config"), "`/tpm config` needs a setting"));
    auto msg = h.refused("config admns");
    CHECK(has(msg, "has no setting `admns`"));
    REQUIRE_FALSE(suggestions(msg).empty());
    CHECK(suggestions(msg)[0].starts_with("/tpm config admins"));
}

TEST_CASE("a DM to the bot runs commands, and says what works for anything else", "[router]") {
    harness h;
    opts dm;
    dm.from = source::dm;
    dm.channel = "D111";
    auto r = h.run("hello there", "UME", dm);
    CHECK(r.ok);
    REQUIRE(r.effects.size() == 1);
    CHECK(r.effects[0].to == destination::ephemeral);
    CHECK(r.effects[0].channel == "D111");
    CHECK(has(r.effects[0].text, "same commands as after `/tpm`"));
    CHECK(h.db.list_items(item_query{"T1"}).empty());

    auto created = h.run("blocker waiting on the cert", "UME", dm);
    CHECK(created.ok);
    CHECK(h.get("B-1").title == "waiting on the cert");
}
