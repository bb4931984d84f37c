// Slack's request signing (slack-protocol §8.1), against Slack's published test vector.

#include "signature.hpp"

#include <catch2/catch.hpp>
#include <cctype>
#include <string>

using namespace tpmbot;
using slack::signature_check;

namespace {

// Slack's own example (its SDKs' tests and the "verifying requests" page), verbatim.
const std::string secret = "8f742231b10e8888abcd99yyyzzz85a5";
const std::string timestamp = "1531420618";
const std::string body =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%"
    "2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";
const std::string signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
constexpr unix_time sent_at = 1531420618;

} // namespace

TEST_CASE("Slack's published request is signed as Slack says and verifies", "[signature]") {
    CHECK(slack::sign(secret, timestamp, body) == signature);
    CHECK(slack::verify(secret, timestamp, body, signature, sent_at) == signature_check::valid);
    CHECK(slack::verify(secret, timestamp, body, signature, sent_at + 300) ==
          signature_check::valid);
    CHECK(slack::verify(secret, timestamp, body, signature, sent_at - 300) ==
          signature_check::valid);
}

TEST_CASE("a replayed, altered or foreign request is refused, and says why", "[signature]") {
    // The same request five minutes and a second later: a replay.
    CHECK(slack::verify(secret, timestamp, body, signature, sent_at + 301) ==
          signature_check::stale);
    CHECK(slack::verify(secret, timestamp, body, signature, sent_at - 301) ==
          signature_check::stale);
    // One byte of the body, the timestamp or the secret changed.
    auto altered = body;
    altered[altered.find("text=") + 5] = 'x';
    CHECK(slack::verify(secret, timestamp, altered, signature, sent_at) ==
          signature_check::mismatch);
    CHECK(slack::verify(secret, "1531420619", body, signature, sent_at) ==
          signature_check::mismatch);
    CHECK(slack::verify("8f742231b10e8888abcd99yyyzzz85a6", timestamp, body, signature, sent_at) ==
          signature_check::mismatch);
    // A signature of another length, in upper case, of another version, or none.
    CHECK(slack::verify(secret, timestamp, body, signature.substr(0, 60), sent_at) ==
          signature_check::mismatch);
    std::string upper = signature;
    for (auto& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    CHECK(slack::verify(secret, timestamp, body, "v0=" + upper.substr(3), sent_at) ==
          signature_check::mismatch);
    CHECK(slack::verify(secret, timestamp, body, "v1=" + signature.substr(3), sent_at) ==
          signature_check::version);
    CHECK(slack::verify(secret, timestamp, body, "", sent_at) == signature_check::version);
    // Timestamps that are not a number of seconds.
    for (const char* bad :
         {"", "abc", "1531420618.5", "-1531420618", " 1531420618", "99999999999999999999999"}) {
        INFO(bad);
        CHECK(slack::verify(secret, bad, body, signature, sent_at) == signature_check::malformed);
    }
    CHECK(slack::describe(signature_check::stale) ==
          "X-Slack-Request-Timestamp more than 5 minutes from now");
}
