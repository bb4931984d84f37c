// libFuzzer target: the argument tokenizer on any command text. It throws only user_error
// (an unterminated quote), keeps no control character but \n and \t, and what it renders for
// a post never pings a crowd.

#include "args.hpp"
#include "model.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace tpmbot;

namespace {

bool has_control(std::string_view s) {
    for (unsigned char c : s) {
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            return true;
        }
    }
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        auto tokens = args::tokenize(text);
        for (const auto& t : tokens) {
            if (has_control(t.raw) || has_control(t.text) || has_control(t.value)) {
                std::abort();
            }
        }
        auto rendered = args::render(tokens);
        if (rendered.find("<!") != std::string::npos) {
            std::abort(); // <!here>, <!channel>, <!everyone>, <!subteam^…> would ping
        }
    } catch (const user_error&) {
    }
    try {
        args::split_values(text);
    } catch (const user_error&) {
    }
    return 0;
}
