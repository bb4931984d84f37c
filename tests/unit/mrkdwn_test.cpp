#include "mrkdwn.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace tpmbot;

namespace {

/// Plain strings that exercise every special character and entity-looking text.
const std::vector<std::string> plain_samples = {
    "",
    "plain text",
    "Hello & <world> 🌊",
    "a&b",
    "&amp;",
    "&lt;!here&gt;",
    "<!here>",
    "<@U123>",
    "<https://evil.example|click>",
    "x > y < z && w",
    "&&&<<<>>>",
    "unicode “quotes” and ünïcödé",
    "trailing &",
    "&#60; &quot; &nbsp;",
};

} // namespace

TEST_CASE("escape replaces exactly &, < and >", "[mrkdwn]") {
    CHECK(mrkdwn::escape("Hello & <world> 🌊") == "Hello &amp; &lt;world&gt; 🌊");
    CHECK(mrkdwn::escape("a&amp;b") == "a&amp;amp;b");
    CHECK(mrkdwn::escape("<!channel>") == "&lt;!channel&gt;");
    // Nothing else is touched: quotes, apostrophes, mrkdwn markup, unicode.
    CHECK(mrkdwn::escape("\"it's\" *bold* _it_ ~s~ `c` ü") == "\"it's\" *bold* _it_ ~s~ `c` ü");
    CHECK(mrkdwn::escape("") == "");
}

TEST_CASE("decode undoes Slack's three entities and nothing else", "[mrkdwn]") {
    CHECK(mrkdwn::decode("Hello &amp; &lt;world&gt; 🌊") == "Hello & <world> 🌊");
    // &amp; is decoded last: a user who typed "&lt;" literally gets "&lt;" back, not "<".
    CHECK(mrkdwn::decode("&amp;lt;") == "&lt;");
    CHECK(mrkdwn::decode("&amp;amp;") == "&amp;");
    CHECK(mrkdwn::decode("&quot; &#60; &nbsp;") == "&quot; &#60; &nbsp;");
    CHECK(mrkdwn::decode("a & b &") == "a & b &");
    CHECK(mrkdwn::decode("&lt") == "&lt");
    CHECK(mrkdwn::decode("<@U1>") == "<@U1>");
}

TEST_CASE("escape, decode, safe and to_plain round-trip plain text", "[mrkdwn]") {
    for (const auto& s : plain_samples) {
        INFO("sample: " << s);
        const std::string e = mrkdwn::escape(s);
        CHECK(mrkdwn::decode(e) == s);
        CHECK(mrkdwn::to_plain(e) == s);
        CHECK(mrkdwn::safe(e) == e);
        CHECK(e.find('<') == std::string::npos);
        CHECK(e.find('>') == std::string::npos);
    }
}

TEST_CASE("safe keeps user and channel references and links", "[mrkdwn]") {
    CHECK(mrkdwn::safe("ask <@U123>") == "ask <@U123>");
    CHECK(mrkdwn::safe("ask <@W0ENT|dana>") == "ask <@W0ENT|dana>");
    CHECK(mrkdwn::safe("in <#C123> and <#C456|general>") == "in <#C123> and <#C456|general>");
    CHECK(mrkdwn::safe("see <https://x.y/z?a=1&amp;b=2>") == "see <https://x.y/z?a=1&amp;b=2>");
    CHECK(mrkdwn::safe("see <https://x.y|the doc>") == "see <https://x.y|the doc>");
    CHECK(mrkdwn::safe("mail <mailto:a@b.c|a@b.c>") == "mail <mailto:a@b.c|a@b.c>");
    CHECK(mrkdwn::safe("<http://x.y>") == "<http://x.y>");
}

TEST_CASE("safe turns broadcasts and user groups into plain text", "[mrkdwn]") {
    CHECK(mrkdwn::safe("<!here> look") == "@here look");
    CHECK(mrkdwn::safe("<!channel>") == "@channel");
    CHECK(mrkdwn::safe("<!everyone>") == "@everyone");
    CHECK(mrkdwn::safe("<!group>") == "@channel");
    CHECK(mrkdwn::safe("<!here|here>") == "@here");
    CHECK(mrkdwn::safe("cc <!subteam^S123|@eng>") == "cc @eng");
    CHECK(mrkdwn::safe("cc <!subteam^S123|eng>") == "cc @eng");
    CHECK(mrkdwn::safe("cc <!subteam^S123>") == "cc @group");
    const std::string all = mrkdwn::safe(
        "<!here><!channel> <!everyone> <!group> <!subteam^S1> <!subteam^S2|@x> <@U1> <#C1>");
    CHECK(all.find("<!") == std::string::npos);
    CHECK(all == "@here@channel @everyone @channel @group @x <@U1> <#C1>");
}

TEST_CASE("safe escapes stray characters and keeps existing entities", "[mrkdwn]") {
    CHECK(mrkdwn::safe("a & b") == "a &amp; b");
    CHECK(mrkdwn::safe("a &amp; b &lt;c&gt;") == "a &amp; b &lt;c&gt;");
    CHECK(mrkdwn::safe("x < y > z") == "x &lt; y &gt; z");
    CHECK(mrkdwn::safe("&quot;") == "&amp;quot;");
    // Things that look like control sequences but are not ours are escaped, not kept.
    CHECK(mrkdwn::safe("<javascript:alert(1)>") == "&lt;javascript:alert(1)&gt;");
    CHECK(mrkdwn::safe("<!date^1392734382^{date}|Feb 18>") ==
          "&lt;!date^1392734382^{date}|Feb 18&gt;");
    CHECK(mrkdwn::safe("<!nonsense>") == "&lt;!nonsense&gt;");
    CHECK(mrkdwn::safe("<@u1>") == "&lt;@u1&gt;");
    CHECK(mrkdwn::safe("<@C1>") == "&lt;@C1&gt;");
    CHECK(mrkdwn::safe("<@U1") == "&lt;@U1");
    CHECK(mrkdwn::safe("<foo <@U1>") == "&lt;foo <@U1>");
    CHECK(mrkdwn::safe("<https://a b>") == "&lt;https://a b&gt;");
    // A stray & inside a kept reference's label is escaped too.
    CHECK(mrkdwn::safe("<https://x.y|a & b>") == "<https://x.y|a &amp; b>");
}

TEST_CASE("safe is idempotent", "[mrkdwn]") {
    const std::vector<std::string> samples = {
        "<!here> & <@U1|dana> <#C1> <https://x.y|a & b> <!subteam^S1|@eng> <oops &lt; &amp;",
        "a > b", "<!channel>", "&amp;amp;"};
    for (const auto& s : samples) {
        INFO("sample: " << s);
        const std::string once = mrkdwn::safe(s);
        CHECK(mrkdwn::safe(once) == once);
    }
}

TEST_CASE("to_plain turns bot mrkdwn into readable plain text", "[mrkdwn]") {
    CHECK(mrkdwn::to_plain("ask <@U1|dana>") == "ask @dana");
    CHECK(mrkdwn::to_plain("ask <@U1>") == "ask @U1");
    CHECK(mrkdwn::to_plain("in <#C1|general>") == "in #general");
    CHECK(mrkdwn::to_plain("in <#C1>") == "in #C1");
    CHECK(mrkdwn::to_plain("see <https://x.y/z|the doc>") == "see the doc (https://x.y/z)");
    CHECK(mrkdwn::to_plain("see <https://x.y/z>") == "see https://x.y/z");
    CHECK(mrkdwn::to_plain("<mailto:a@b.c|a@b.c>") == "a@b.c");
    CHECK(mrkdwn::to_plain("<https://x.y/?a=1&amp;b=2>") == "https://x.y/?a=1&b=2");
    CHECK(mrkdwn::to_plain("cc <!subteam^S1|@eng> <!here>") == "cc @eng @here");
    CHECK(mrkdwn::to_plain("a &amp; b &lt;c&gt;") == "a & b <c>");
    CHECK(mrkdwn::to_plain("*bold* stays") == "*bold* stays");
}

TEST_CASE("to_plain of safe output reads like what was typed", "[mrkdwn]") {
    // Slack-encoded input as a user typed "Q&A <b> with <@U1|dana> in <#C1|general>".
    const std::string typed = "Q&amp;A &lt;b&gt; with <@U1|dana> in <#C1|general> <!here>";
    CHECK(mrkdwn::to_plain(mrkdwn::safe(typed)) == "Q&A <b> with @dana in #general @here");
}

TEST_CASE("parse_reference reads each kind of control sequence", "[mrkdwn]") {
    const std::string text = "ask <@U1|dana> in <#C2> cc <!subteam^S3|@eng> <!group> "
                             "<https://x.y/z?a=1&amp;b=2|the doc>";
    auto r = mrkdwn::parse_reference(text, text.find('<'));
    REQUIRE(r);
    CHECK(r->kind == mrkdwn::ref_kind::user);
    CHECK(r->source == "<@U1|dana>");
    CHECK(r->target == "@U1");
    CHECK(r->id == "U1");
    CHECK(r->label == "dana");

    r = mrkdwn::parse_reference(text, text.find("<#"));
    REQUIRE(r);
    CHECK(r->kind == mrkdwn::ref_kind::channel);
    CHECK(r->id == "C2");
    CHECK(r->label.empty());

    r = mrkdwn::parse_reference(text, text.find("<!sub"));
    REQUIRE(r);
    CHECK(r->kind == mrkdwn::ref_kind::usergroup);
    CHECK(r->id == "S3");
    CHECK(r->label == "@eng");

    r = mrkdwn::parse_reference(text, text.find("<!group"));
    REQUIRE(r);
    CHECK(r->kind == mrkdwn::ref_kind::special);
    CHECK(r->id == "channel");
    CHECK(r->target == "!group");

    r = mrkdwn::parse_reference(text, text.find("<http"));
    REQUIRE(r);
    CHECK(r->kind == mrkdwn::ref_kind::link);
    CHECK(r->id == "https://x.y/z?a=1&amp;b=2");
    CHECK(r->label == "the doc");
    CHECK(r->source.size() == text.size() - text.find("<http"));

    CHECK(mrkdwn::parse_reference("<mailto:a@b.c>")->kind == mrkdwn::ref_kind::link);
    CHECK(mrkdwn::parse_reference("<HTTPS://X.Y>")->kind == mrkdwn::ref_kind::link);
    CHECK(mrkdwn::parse_reference("<@W1|>")->label.empty());
}

TEST_CASE("parse_reference rejects what is not a well-formed reference", "[mrkdwn]") {
    CHECK_FALSE(mrkdwn::parse_reference("x<@U1>"));   // pos is not at '<'
    CHECK_FALSE(mrkdwn::parse_reference("<@U1>", 5)); // past the end
    CHECK_FALSE(mrkdwn::parse_reference("<@U1"));     // unclosed
    CHECK_FALSE(mrkdwn::parse_reference("<@u1>"));    // lower case
    CHECK_FALSE(mrkdwn::parse_reference("<@C1>"));    // not a user id
    CHECK_FALSE(mrkdwn::parse_reference("<#c1>"));
    CHECK_FALSE(mrkdwn::parse_reference("<@>"));
    CHECK_FALSE(mrkdwn::parse_reference("<>"));
    CHECK_FALSE(mrkdwn::parse_reference("<!nobody>"));
    CHECK_FALSE(mrkdwn::parse_reference("<!subteam^>"));
    CHECK_FALSE(mrkdwn::parse_reference("<!date^1392734382^{date}|Feb 18>"));
    CHECK_FALSE(mrkdwn::parse_reference("<ftp://x.y>"));
    CHECK_FALSE(mrkdwn::parse_reference("<https://>"));
    CHECK_FALSE(mrkdwn::parse_reference("<https://a b>"));
    CHECK_FALSE(mrkdwn::parse_reference("<https://a\u00A0b>"));
    CHECK_FALSE(mrkdwn::parse_reference("<https://x.y|a\nb>"));
    CHECK_FALSE(mrkdwn::parse_reference("<foo <@U1>"));
    CHECK(mrkdwn::parse_reference("<foo <@U1>", 5));
}
