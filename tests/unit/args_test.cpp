#include "args.hpp"
#include "model.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tpmbot;
using args::tok;

namespace {

std::vector<tok> kinds(const std::vector<args::token>& ts) {
    std::vector<tok> out;
    for (const auto& t : ts) {
        out.push_back(t.kind);
    }
    return out;
}

std::vector<std::string> raws(const std::vector<args::token>& ts) {
    std::vector<std::string> out;
    for (const auto& t : ts) {
        out.push_back(t.raw);
    }
    return out;
}

/// The message of the user_error `text` throws when tokenized; empty when none is thrown.
std::string tokenize_error(const std::string& text) {
    try {
        (void)args::tokenize(text);
    } catch (const user_error& e) {
        return e.what();
    }
    return {};
}

std::string render_text(const std::string& text) {
    return args::render(args::tokenize(text));
}

using strings = std::vector<std::string>;

} // namespace

TEST_CASE("tokenize splits words on any whitespace and keeps raw text exactly", "[args]") {
    const auto ts = args::tokenize("  ship   the\tthing\n now ");
    REQUIRE(ts.size() == 4);
    CHECK(kinds(ts) == std::vector<tok>(4, tok::word));
    CHECK(raws(ts) == strings{"ship", "the", "thing", "now"});
    CHECK(ts[0].text == "ship");
    CHECK(args::tokenize("").empty());
    CHECK(args::tokenize(" \t\n ").empty());
    // A no-break space (Slack clients insert them) separates too.
    CHECK(raws(args::tokenize("a\u00A0b")) == strings{"a", "b"});
    // Non-ASCII text stays whole.
    CHECK(raws(args::tokenize("déploiement bloqué 🚧")) == strings{"déploiement", "bloqué", "🚧"});
}

TEST_CASE("tokenize reads straight quoted strings", "[args]") {
    const auto ts = args::tokenize("decision \"Ship it now?\" please");
    REQUIRE(ts.size() == 3);
    CHECK(ts[0].kind == tok::word);
    CHECK(ts[1].kind == tok::quoted);
    CHECK(ts[1].raw == "\"Ship it now?\"");
    CHECK(ts[1].text == "Ship it now?");
    CHECK(ts[2].text == "please");

    const auto empty = args::tokenize("\"\"");
    REQUIRE(empty.size() == 1);
    CHECK(empty[0].kind == tok::quoted);
    CHECK(empty[0].text == "");

    // The closing quote ends the token even when text follows directly.
    CHECK(kinds(args::tokenize("\"a b\"c")) == std::vector<tok>{tok::quoted, tok::word});
}

TEST_CASE("tokenize reads curly quotes as Slack clients autocorrect them", "[args]") {
    const auto ts = args::tokenize("decision \u201CShip it?\u201D by:fri");
    REQUIRE(ts.size() == 3);
    CHECK(ts[1].kind == tok::quoted);
    CHECK(ts[1].text == "Ship it?");
    CHECK(ts[1].raw == "\u201CShip it?\u201D");
    // Mixed and low-9 openings close too.
    CHECK(args::tokenize("\"mixed quotes\u201D")[0].text == "mixed quotes");
    CHECK(args::tokenize("\u201Emixed quotes\u201C")[0].text == "mixed quotes");
    CHECK(args::tokenize("\u201Dboth right\u201D")[0].text == "both right");
}

TEST_CASE("apostrophes and single quotes are part of words", "[args]") {
    CHECK(raws(args::tokenize("don't stop")) == strings{"don't", "stop"});
    CHECK(raws(args::tokenize("'not quoted'")) == strings{"'not", "quoted'"});
    CHECK(raws(args::tokenize("it\u2019s fine")) == strings{"it\u2019s", "fine"});
    // A quote inside a word is a character (5" pipe), not an opening quote.
    CHECK(raws(args::tokenize("the 5\" pipe")) == strings{"the", "5\"", "pipe"});
}

TEST_CASE("an unterminated quote is a user_error that shows the text and a fix", "[args]") {
    CHECK(tokenize_error("\"ship it") ==
          "Unterminated quote in: \"ship it — close it with a second \", e.g. /tpm decision "
          "\"Ship it?\"");
    CHECK(tokenize_error("decision \"ship it  ") ==
          "Unterminated quote in: \"ship it — close it with a second \", e.g. /tpm decision "
          "\"Ship it?\"");
    CHECK(tokenize_error("decision \u201Cship it") ==
          "Unterminated quote in: \u201Cship it — close it with a second \", e.g. /tpm "
          "decision \"Ship it?\"");
    // The snippet is shown readable (references as @name), then escaped for mrkdwn.
    CHECK(tokenize_error("\"a &amp; b <@U1|dana>") ==
          "Unterminated quote in: \"a &amp; b @dana — close it with a second \", e.g. /tpm "
          "decision \"Ship it?\"");
    // In a key's value the example is the user's own text, closed.
    CHECK(tokenize_error("decide \"Yes\" because:\"we need it") ==
          "Unterminated quote in: because:\"we need it — close it with a second \", e.g. "
          "because:\"we need it\"");
    CHECK(tokenize_error("options:\"A\"|\"B") ==
          "Unterminated quote in: options:\"A\"|\"B — close it with a second \", e.g. "
          "options:\"A\"|\"B\"");
    // Long text is shortened.
    const std::string long_text = "\"" + std::string(200, 'x');
    const std::string msg = tokenize_error(long_text);
    CHECK(msg.find("…") != std::string::npos);
    CHECK(msg.size() < 150);
    CHECK_THROWS_AS(args::tokenize("\""), user_error);
    CHECK(tokenize_error("\"closed\"").empty());
}

TEST_CASE("the unterminated-quote message escapes the user's text for mrkdwn", "[args]") {
    // A user who types "<!channel>" literally: Slack sends it as &lt;!channel&gt;.
    std::string msg = tokenize_error("decision \"tell &lt;!channel&gt; Q&amp;A & <!here| go");
    CHECK(msg.find("&lt;!channel&gt;") != std::string::npos);
    CHECK(msg.find("<!channel>") == std::string::npos);
    CHECK(msg.find("<!") == std::string::npos);
    CHECK(msg.find("Q&amp;A &amp; &lt;!here| go") != std::string::npos);
    // A real <!channel> reference is shown as the plain text "@channel", which cannot ping.
    msg = tokenize_error("decision \"tell <!channel> now");
    CHECK(msg.find("\"tell @channel now") != std::string::npos);
    CHECK(msg.find("<!") == std::string::npos);
    // The example built from the user's own text is escaped too.
    msg = tokenize_error("because:\"a <b> & c");
    CHECK(msg == "Unterminated quote in: because:\"a &lt;b&gt; &amp; c — close it with a second "
                 "\", e.g. because:\"a &lt;b&gt; &amp; c\"");
    try {
        (void)args::split_values("\"<!here>\"|\"&lt;!everyone&gt;");
        FAIL("no error");
    } catch (const user_error& e) {
        const std::string what = e.what();
        CHECK(what.find("<!") == std::string::npos);
        CHECK(what.find("&lt;!everyone&gt;") != std::string::npos);
    }
}

TEST_CASE("control characters are read as spaces and never reach a token", "[args]") {
    const auto has_control = [](const std::string& s) {
        for (char c : s) {
            const auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && c != '\n' && c != '\t') || u == 0x7F) {
                return true;
            }
        }
        return false;
    };
    const auto clean = [&](const std::vector<args::token>& ts) {
        for (const auto& t : ts) {
            if (has_control(t.raw) || has_control(t.text) || has_control(t.label) ||
                has_control(t.key) || has_control(t.value)) {
                return false;
            }
        }
        return true;
    };

    // Between words they separate tokens.
    auto ts = args::tokenize(std::string("ship\x1eit now"));
    CHECK(raws(ts) == strings{"ship", "it", "now"});
    CHECK(raws(args::tokenize(std::string("a\x00"
                                          "b\x7f"
                                          "c\x01",
                                          6))) == strings{"a", "b", "c"});
    CHECK(raws(args::tokenize("a\rb\x1b[31mc")) == strings{"a", "b", "[31mc"});

    // Inside a quoted value they become spaces.
    ts = args::tokenize("options:\"A\x1f"
                        "B\"|\"C\"");
    REQUIRE(ts.size() == 1);
    CHECK(ts[0].kind == tok::key_value);
    CHECK(ts[0].value == "\"A B\"|\"C\"");
    CHECK(clean(ts));
    CHECK(args::split_values(ts[0].value) == strings{"A B", "C"});
    CHECK(args::split_values("\"A\x1f"
                             "B\"|\"C\"") == strings{"A B", "C"});

    ts = args::tokenize("decision \"Ship\x1eit?\" because:x\x1fy");
    REQUIRE(ts.size() == 4);
    CHECK(ts[1].text == "Ship it?");
    CHECK(ts[2].value == "x");
    CHECK(ts[3].raw == "y");
    CHECK(clean(ts));

    // Inside a reference's label too; a link target with one is not a link.
    ts = args::tokenize("<https://x.y|a\x1e"
                        "b> <https://x\x1fy>");
    CHECK(clean(ts));
    REQUIRE(ts.size() == 3);
    CHECK(ts[0].kind == tok::link);
    CHECK(ts[0].label == "a b");
    CHECK(ts[1].kind == tok::word);

    // \n and \t stay what they were: whitespace between tokens, kept inside quotes.
    ts = args::tokenize("\"a\tb\nc\"");
    REQUIRE(ts.size() == 1);
    CHECK(ts[0].text == "a\tb\nc");
}

TEST_CASE("user references with and without labels, U and W ids", "[args]") {
    const auto ts = args::tokenize("<@U123> <@U456|dana> <@W0ENT> <@W1|@lee>");
    REQUIRE(ts.size() == 4);
    CHECK(kinds(ts) == std::vector<tok>(4, tok::user));
    CHECK(ts[0].text == "U123");
    CHECK(ts[0].label == "");
    CHECK(ts[0].raw == "<@U123>");
    CHECK(ts[1].text == "U456");
    CHECK(ts[1].label == "dana");
    CHECK(ts[2].text == "W0ENT");
    CHECK(ts[3].label == "lee");
    // Not user ids: lower case, wrong prefix, empty.
    CHECK(args::tokenize("<@u123>")[0].kind == tok::word);
    CHECK(args::tokenize("<@C123>")[0].kind == tok::word);
    CHECK(args::tokenize("<@>")[0].kind == tok::word);
}

TEST_CASE("channel references", "[args]") {
    const auto ts = args::tokenize("<#C123> <#C456|general> <#G789|#private>");
    REQUIRE(ts.size() == 3);
    CHECK(kinds(ts) == std::vector<tok>(3, tok::channel));
    CHECK(ts[0].text == "C123");
    CHECK(ts[0].label == "");
    CHECK(ts[1].text == "C456");
    CHECK(ts[1].label == "general");
    CHECK(ts[2].label == "private");
}

TEST_CASE("user group references", "[args]") {
    const auto ts = args::tokenize("<!subteam^S123> <!subteam^S456|@eng>");
    REQUIRE(ts.size() == 2);
    CHECK(ts[0].kind == tok::usergroup);
    CHECK(ts[0].text == "S123");
    CHECK(ts[0].label == "");
    CHECK(ts[1].kind == tok::usergroup);
    CHECK(ts[1].text == "S456");
    CHECK(ts[1].label == "eng");
    CHECK(args::tokenize("<!subteam^>")[0].kind == tok::word);
}

TEST_CASE("special broadcasts", "[args]") {
    const auto ts = args::tokenize("<!here> <!channel> <!everyone> <!group> <!here|here>");
    REQUIRE(ts.size() == 5);
    CHECK(kinds(ts) == std::vector<tok>(5, tok::special));
    CHECK(ts[0].text == "here");
    CHECK(ts[1].text == "channel");
    CHECK(ts[2].text == "everyone");
    CHECK(ts[3].text == "channel"); // <!group> is Slack's old synonym of <!channel>
    CHECK(ts[3].raw == "<!group>");
    CHECK(ts[4].text == "here");
    CHECK(args::tokenize("<!nobody>")[0].kind == tok::word);
}

TEST_CASE("links, with labels that may contain spaces, and mailto", "[args]") {
    const auto ts =
        args::tokenize("see <https://x.y/z> <https://x.y|the design doc> <mailto:a@b.c|a@b.c> ok");
    REQUIRE(ts.size() == 5);
    CHECK(ts[1].kind == tok::link);
    CHECK(ts[1].text == "https://x.y/z");
    CHECK(ts[1].label == "");
    CHECK(ts[2].kind == tok::link);
    CHECK(ts[2].text == "https://x.y");
    CHECK(ts[2].label == "the design doc");
    CHECK(ts[2].raw == "<https://x.y|the design doc>");
    CHECK(ts[3].kind == tok::link);
    CHECK(ts[3].text == "mailto:a@b.c");
    CHECK(ts[3].label == "a@b.c");
    CHECK(ts[4].text == "ok");
    CHECK(args::tokenize("<http://x.y>")[0].kind == tok::link);
    CHECK(args::tokenize("<ftp://x.y>")[0].kind == tok::word);
}

TEST_CASE("a '<' that does not start a reference is part of a word", "[args]") {
    auto ts = args::tokenize("<foo bar");
    REQUIRE(ts.size() == 2);
    CHECK(ts[0].kind == tok::word);
    CHECK(ts[0].raw == "<foo");
    CHECK(ts[0].text == "<foo");
    CHECK(ts[1].raw == "bar");

    ts = args::tokenize("<@U1 is late");
    REQUIRE(ts.size() == 3);
    CHECK(ts[0].kind == tok::word);
    CHECK(ts[0].raw == "<@U1");

    // An unclosed '<' does not swallow a later reference.
    ts = args::tokenize("<oops <@U2>");
    REQUIRE(ts.size() == 2);
    CHECK(ts[0].kind == tok::word);
    CHECK(ts[1].kind == tok::user);

    CHECK(raws(args::tokenize("a<b c>d")) == strings{"a<b", "c>d"});
}

TEST_CASE("a reference glued to other text is a word that keeps the reference", "[args]") {
    auto ts = args::tokenize("<@U1>'s review");
    REQUIRE(ts.size() == 2);
    CHECK(ts[0].kind == tok::word);
    CHECK(ts[0].raw == "<@U1>'s");
    ts = args::tokenize("(<https://x.y|a b>)");
    REQUIRE(ts.size() == 1);
    CHECK(ts[0].raw == "(<https://x.y|a b>)");
}

TEST_CASE("key:value with each kind of value", "[args]") {
    SECTION("quoted value") {
        const auto ts = args::tokenize("because:\"we need it\"");
        REQUIRE(ts.size() == 1);
        CHECK(ts[0].kind == tok::key_value);
        CHECK(ts[0].key == "because");
        CHECK(ts[0].value == "\"we need it\"");
        CHECK(ts[0].text == "we need it");
        CHECK(ts[0].raw == "because:\"we need it\"");
    }
    SECTION("curly quoted value") {
        const auto ts = args::tokenize("because:\u201Cwe need it\u201D x");
        REQUIRE(ts.size() == 2);
        CHECK(ts[0].text == "we need it");
        CHECK(ts[0].value == "\u201Cwe need it\u201D");
    }
    SECTION("alternatives") {
        const auto ts = args::tokenize("options:\"Ship now\"|\"Wait\"|\"Cut scope\" by:fri");
        REQUIRE(ts.size() == 2);
        CHECK(ts[0].kind == tok::key_value);
        CHECK(ts[0].key == "options");
        CHECK(ts[0].value == "\"Ship now\"|\"Wait\"|\"Cut scope\"");
        // Not one quoted string, so no quotes are removed.
        CHECK(ts[0].text == "\"Ship now\"|\"Wait\"|\"Cut scope\"");
        CHECK(ts[1].key == "by");
    }
    SECTION("reference list") {
        const auto ts = args::tokenize("consult:<@U1>,<@U2|bo> x");
        REQUIRE(ts.size() == 2);
        CHECK(ts[0].key == "consult");
        CHECK(ts[0].value == "<@U1>,<@U2|bo>");
        CHECK(ts[1].raw == "x");
    }
    SECTION("a list continues over a space after a comma") {
        const auto ts = args::tokenize("consult:<@U1>, <@U2> members:\"a\", \"b\" by:fri, later");
        REQUIRE(ts.size() == 4);
        CHECK(ts[0].value == "<@U1>, <@U2>");
        CHECK(ts[1].value == "\"a\", \"b\"");
        // A plain word after ", " is not pulled into the value.
        CHECK(ts[2].value == "fri,");
        CHECK(ts[3].kind == tok::word);
    }
    SECTION("plain words, dates and times") {
        const auto ts =
            args::tokenize("sev:high SEV:High by:2026-12-04 at:09:30 area:payments-api");
        REQUIRE(ts.size() == 5);
        CHECK(kinds(ts) == std::vector<tok>(5, tok::key_value));
        CHECK(ts[0].key == "sev");
        CHECK(ts[0].value == "high");
        CHECK(ts[1].key == "sev");
        CHECK(ts[1].value == "High");
        CHECK(ts[1].raw == "SEV:High");
        CHECK(ts[2].value == "2026-12-04");
        CHECK(ts[3].key == "at");
        CHECK(ts[3].value == "09:30");
        CHECK(ts[3].text == "09:30");
        CHECK(ts[4].value == "payments-api");
    }
    SECTION("empty value") {
        auto ts = args::tokenize("blocker:");
        REQUIRE(ts.size() == 1);
        CHECK(ts[0].kind == tok::key_value);
        CHECK(ts[0].key == "blocker");
        CHECK(ts[0].value == "");
        CHECK(ts[0].text == "");
        ts = args::tokenize("blocker: the api is down");
        REQUIRE(ts.size() == 5);
        CHECK(ts[0].kind == tok::key_value);
        CHECK(ts[0].value == "");
        CHECK(ts[1].kind == tok::word);
    }
    SECTION("key shapes") {
        CHECK(args::tokenize("a-b_c9:x")[0].key == "a-b_c9");
        CHECK(args::tokenize("_x:y")[0].kind == tok::word);
        CHECK(args::tokenize("9x:y")[0].kind == tok::word);
        CHECK(args::tokenize("12:30")[0].kind == tok::word);
        CHECK(args::tokenize(":x")[0].kind == tok::word);
    }
    SECTION("a bare url is a word, not key:value") {
        const auto ts = args::tokenize("https://x.y/z http://a.b");
        REQUIRE(ts.size() == 2);
        CHECK(ts[0].kind == tok::word);
        CHECK(ts[0].text == "https://x.y/z");
        CHECK(ts[1].kind == tok::word);
    }
    SECTION("value references and entities") {
        const auto ts = args::tokenize("from:<!subteam^S1|@eng> why:a&amp;b&lt;c");
        REQUIRE(ts.size() == 2);
        CHECK(ts[0].value == "<!subteam^S1|@eng>");
        CHECK(ts[1].value == "a&amp;b&lt;c");
        CHECK(ts[1].text == "a&b<c");
    }
}

TEST_CASE("entities are decoded in word, quoted and key_value text", "[args]") {
    const auto ts = args::tokenize("a&amp;b &lt;tag&gt; &amp;lt; \"x &amp; y\" k:\"&lt;v&gt;\"");
    REQUIRE(ts.size() == 5);
    CHECK(ts[0].text == "a&b");
    CHECK(ts[0].raw == "a&amp;b");
    CHECK(ts[1].text == "<tag>");
    CHECK(ts[2].text == "&lt;");
    CHECK(ts[3].text == "x & y");
    CHECK(ts[4].text == "<v>");
    CHECK(ts[4].value == "\"&lt;v&gt;\"");
}

TEST_CASE("split_values for each shape of value", "[args]") {
    CHECK(args::split_values("\"A\"|\"B\"|\"C\"") == strings{"A", "B", "C"});
    CHECK(args::split_values("\u201CShip now\u201D|\u201CWait\u201D") ==
          strings{"Ship now", "Wait"});
    CHECK(args::split_values("<@U1>,<@U2>") == strings{"<@U1>", "<@U2>"});
    CHECK(args::split_values("<@U1>, <@U2|bo>") == strings{"<@U1>", "<@U2|bo>"});
    CHECK(args::split_values("a, b") == strings{"a", "b"});
    CHECK(args::split_values("high") == strings{"high"});
    CHECK(args::split_values("2026-12-04") == strings{"2026-12-04"});
    CHECK(args::split_values("09:30") == strings{"09:30"});
    CHECK(args::split_values("\"we need it\"") == strings{"we need it"});
    // Quotes protect separators; references protect theirs.
    CHECK(args::split_values("\"a, b\"|\"c|d\"") == strings{"a, b", "c|d"});
    CHECK(args::split_values("<https://x.y|a,b>,c") == strings{"<https://x.y|a,b>", "c"});
    // Parts stay Slack-encoded.
    CHECK(args::split_values("\"x &amp; y\",&lt;z") == strings{"x &amp; y", "&lt;z"});
    // Empty parts are dropped.
    CHECK(args::split_values("").empty());
    CHECK(args::split_values("a,,b,") == strings{"a", "b"});
    CHECK_THROWS_AS(args::split_values("\"A\"|\"B"), user_error);
    try {
        (void)args::split_values("\"A\"|\"B");
        FAIL("no error");
    } catch (const user_error& e) {
        CHECK(std::string(e.what()).find("Unterminated quote in: \"A\"|\"B") == 0);
    }
}

TEST_CASE("split_values takes what tokenize produces", "[args]") {
    const auto ts = args::tokenize("options:\"A\"|\"B\" consult:<@U1>, <@U2>");
    REQUIRE(ts.size() == 2);
    CHECK(args::split_values(ts[0].value) == strings{"A", "B"});
    CHECK(args::split_values(ts[1].value) == strings{"<@U1>", "<@U2>"});
}

TEST_CASE("render keeps references and links", "[args]") {
    CHECK(render_text("<@U1>") == "<@U1>");
    CHECK(render_text("<@U1|dana>") == "<@U1|dana>");
    CHECK(render_text("<#C1|general>") == "<#C1|general>");
    CHECK(render_text("<https://x.y|the doc>") == "<https://x.y|the doc>");
    CHECK(render_text("<mailto:a@b.c|a@b.c>") == "<mailto:a@b.c|a@b.c>");
    CHECK(render_text("<@U1>'s review") == "<@U1>'s review");
}

TEST_CASE("render neutralises broadcasts and user groups", "[args]") {
    CHECK(render_text("<!here>") == "@here");
    CHECK(render_text("<!channel>") == "@channel");
    CHECK(render_text("<!everyone>") == "@everyone");
    CHECK(render_text("<!group>") == "@channel");
    CHECK(render_text("<!subteam^S1|@eng>") == "@eng");
    CHECK(render_text("<!subteam^S1>") == "@group");
    CHECK(render_text("x<!here>y") == "x@herey");
    CHECK(render_text("\"ping <!everyone> now\"") == "ping @everyone now");
    CHECK(render_text("consult:<@U1>,<!here>,<!subteam^S1|@eng>") == "consult:<@U1>,@here,@eng");
    CHECK(render_text("because:\"tell <!channel>\"") == "because:\"tell @channel\"");
    const std::string nasty =
        "<!here> \"<!channel>\" k:<!everyone> <!group>x <!subteam^S9> q:\"<!here>\"|\"b\"";
    CHECK(render_text(nasty).find("<!") == std::string::npos);
}

TEST_CASE("render escapes &, < and > everywhere else", "[args]") {
    CHECK(render_text("a&amp;b") == "a&amp;b");
    CHECK(render_text("<foo") == "&lt;foo");
    CHECK(render_text("a&b") == "a&amp;b"); // raw text (console) is escaped too
    CHECK(render_text("x>y") == "x&gt;y");
    CHECK(render_text("&lt;!here&gt;") == "&lt;!here&gt;");
    CHECK(render_text("\"a &amp; <b\"") == "a &amp; &lt;b");
    CHECK(render_text("why:<b>") == "why:&lt;b&gt;");
}

TEST_CASE("render of a key_value keeps the key as typed and quotes as text", "[args]") {
    CHECK(render_text("because:\"we need it\"") == "because:\"we need it\"");
    CHECK(render_text("SEV:high") == "SEV:high");
    CHECK(render_text("blocker:") == "blocker:");
    CHECK(render_text("options:\"A\"|\"B\"") == "options:\"A\"|\"B\"");
}

TEST_CASE("render of a token list joins with single spaces", "[args]") {
    CHECK(render_text("  the   api\tis  <!here> down \"for <@U1>\" ") ==
          "the api is @here down for <@U1>");
    CHECK(render_text("") == "");
    const auto ts = args::tokenize("a b c");
    CHECK(args::render(std::span<const args::token>(ts).subspan(1)) == "b c");
}
