#include "model.hpp"

#include <cctype>
#include <charconv>

namespace tpmbot {

std::string_view kind_prefix(item_kind k) {
    switch (k) {
    case item_kind::blocker:
        return "B";
    case item_kind::decision:
        return "D";
    case item_kind::risk:
        return "R";
    case item_kind::dep:
        return "DEP";
    }
    return "?";
}

std::string_view kind_name(item_kind k) {
    switch (k) {
    case item_kind::blocker:
        return "blocker";
    case item_kind::decision:
        return "decision";
    case item_kind::risk:
        return "risk";
    case item_kind::dep:
        return "dep";
    }
    return "?";
}

std::string item_id::str() const {
    return std::string(kind_prefix(kind)) + "-" + std::to_string(num);
}

std::optional<item_id> parse_item_id(std::string_view text) {
    auto dash = text.find('-');
    if (dash == std::string_view::npos || dash == 0 || dash + 1 >= text.size()) {
        return std::nullopt;
    }
    std::string prefix;
    for (char c : text.substr(0, dash)) {
        prefix += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    item_id id;
    if (prefix == "B") {
        id.kind = item_kind::blocker;
    } else if (prefix == "D") {
        id.kind = item_kind::decision;
    } else if (prefix == "R") {
        id.kind = item_kind::risk;
    } else if (prefix == "DEP") {
        id.kind = item_kind::dep;
    } else {
        return std::nullopt;
    }
    auto digits = text.substr(dash + 1);
    if (digits.size() > 15) {
        return std::nullopt;
    }
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id.num);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || id.num <= 0) {
        return std::nullopt;
    }
    return id;
}

} // namespace tpmbot
