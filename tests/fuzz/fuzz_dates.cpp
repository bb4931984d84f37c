// libFuzzer target: the light date parser. It throws only user_error; a date it accepts is a
// real "YYYY-MM-DD" that days_between can read back.

#include "dates.hpp"
#include "model.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace tpmbot;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    constexpr unix_time now = 1796540400; // a Thursday, 2026-12-03
    try {
        if (auto d = dates::parse(text, now, "America/New_York")) {
            if (d->size() != 10 || (*d)[4] != '-' || (*d)[7] != '-') {
                std::abort();
            }
            dates::days_between("2026-12-03", *d);
            dates::pretty(*d);
        }
    } catch (const user_error&) {
    }
    // The same text as a time zone name: known or refused, nothing else.
    try {
        dates::check_zone(text);
    } catch (const user_error&) {
    }
    return 0;
}
