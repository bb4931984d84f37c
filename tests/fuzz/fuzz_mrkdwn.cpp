// libFuzzer target: the mrkdwn escaper. Whatever a person typed, what the bot posts of it
// never holds a broadcast (<!here>, <!channel>, <!everyone>, <!subteam^…>); safe() is
// idempotent; escape() leaves no < or > and decode() undoes it; valid_utf8() is idempotent.

#include "mrkdwn.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace tpmbot;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto safe = mrkdwn::safe(text);
    if (safe.find("<!") != std::string::npos) {
        std::abort();
    }
    if (mrkdwn::safe(safe) != safe) {
        std::abort();
    }
    auto escaped = mrkdwn::escape(text);
    if (escaped.find_first_of("<>") != std::string::npos) {
        std::abort();
    }
    if (mrkdwn::decode(escaped) != text) {
        std::abort();
    }
    mrkdwn::to_plain(safe);
    // valid_utf8 leaves well-formed text as it is: applied twice, it changes nothing more.
    auto valid = mrkdwn::valid_utf8(text);
    if (mrkdwn::valid_utf8(valid) != valid) {
        std::abort();
    }
    for (std::size_t pos = text.find('<'); pos != std::string_view::npos;
         pos = text.find('<', pos + 1)) {
        mrkdwn::parse_reference(text, pos);
    }
    return 0;
}
