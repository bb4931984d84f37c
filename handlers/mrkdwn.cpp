#include "mrkdwn.hpp"

#include <cstddef>
#include <optional>

namespace tpmbot::mrkdwn {

namespace {

bool is_upper_alnum(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

/// Whether `s` contains ASCII whitespace or U+00A0 NO-BREAK SPACE.
bool has_space(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
            return true;
        }
        if (c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {
            return true;
        }
    }
    return false;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        if (c != prefix[i]) {
            return false;
        }
    }
    return true;
}

/// Appends `text` with stray &, <, > escaped and existing &amp; &lt; &gt; kept.
void append_escaped_keep_entities(std::string& out, std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '&') {
            const std::string_view tail = text.substr(i + 1);
            if (tail.starts_with("amp;") || tail.starts_with("lt;") || tail.starts_with("gt;")) {
                out += '&';
            } else {
                out += "&amp;";
            }
        } else if (c == '<') {
            out += "&lt;";
        } else if (c == '>') {
            out += "&gt;";
        } else {
            out += c;
        }
    }
}

/// A label without one leading '@' (user groups) or '#' (channels).
std::string_view strip_sigil(std::string_view label, char sigil) {
    if (!label.empty() && label.front() == sigil) {
        label.remove_prefix(1);
    }
    return label;
}

} // namespace

std::optional<reference> parse_reference(std::string_view s, std::size_t pos) {
    if (pos >= s.size() || s[pos] != '<') {
        return std::nullopt;
    }
    const std::size_t close = s.find('>', pos + 1);
    if (close == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view body = s.substr(pos + 1, close - pos - 1);
    if (body.find_first_of("<\n") != std::string_view::npos) {
        return std::nullopt;
    }
    reference r;
    r.source = s.substr(pos, close - pos + 1);
    const std::size_t bar = body.find('|');
    r.target = body.substr(0, bar);
    if (bar != std::string_view::npos) {
        r.label = body.substr(bar + 1);
    }
    if (r.target.size() < 2) {
        return std::nullopt;
    }
    const std::string_view rest = r.target.substr(1);
    switch (r.target[0]) {
    case '@':
        if ((rest[0] == 'U' || rest[0] == 'W') && is_upper_alnum(rest)) {
            r.kind = ref_kind::user;
            r.id = rest;
            return r;
        }
        return std::nullopt;
    case '#':
        if (rest[0] >= 'A' && rest[0] <= 'Z' && is_upper_alnum(rest)) {
            r.kind = ref_kind::channel;
            r.id = rest;
            return r;
        }
        return std::nullopt;
    case '!':
        if (rest == "here" || rest == "channel" || rest == "everyone") {
            r.kind = ref_kind::special;
            r.id = rest;
            return r;
        }
        if (rest == "group") { // Slack's old synonym of <!channel>
            r.kind = ref_kind::special;
            r.id = "channel";
            return r;
        }
        if (rest.starts_with("subteam^") && is_upper_alnum(rest.substr(8))) {
            r.kind = ref_kind::usergroup;
            r.id = rest.substr(8);
            return r;
        }
        return std::nullopt;
    default:
        break;
    }
    for (std::string_view scheme : {"https://", "http://", "mailto:"}) {
        if (starts_with_ci(r.target, scheme) && r.target.size() > scheme.size()) {
            if (has_space(r.target)) {
                return std::nullopt;
            }
            r.kind = ref_kind::link;
            r.id = r.target;
            return r;
        }
    }
    return std::nullopt;
}

std::string escape(std::string_view plain) {
    std::string out;
    out.reserve(plain.size());
    for (char c : plain) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string decode(std::string_view encoded) {
    // One left-to-right pass: equivalent to replacing &lt;, &gt; and then &amp; last, so
    // "&amp;lt;" (a user who typed "&lt;") decodes to "&lt;", not "<".
    std::string out;
    out.reserve(encoded.size());
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        if (encoded[i] == '&') {
            const std::string_view tail = encoded.substr(i + 1);
            if (tail.starts_with("lt;")) {
                out += '<';
                i += 3;
                continue;
            }
            if (tail.starts_with("gt;")) {
                out += '>';
                i += 3;
                continue;
            }
            if (tail.starts_with("amp;")) {
                out += '&';
                i += 4;
                continue;
            }
        }
        out += encoded[i];
    }
    return out;
}

std::string safe(std::string_view slack_text) {
    std::string out;
    out.reserve(slack_text.size() + 16);
    std::size_t plain_from = 0;
    std::size_t i = 0;
    while (i < slack_text.size()) {
        if (slack_text[i] != '<') {
            ++i;
            continue;
        }
        const auto ref = parse_reference(slack_text, i);
        if (!ref) {
            ++i;
            continue;
        }
        append_escaped_keep_entities(out, slack_text.substr(plain_from, i - plain_from));
        switch (ref->kind) {
        case ref_kind::user:
        case ref_kind::channel:
        case ref_kind::link:
            out += '<';
            append_escaped_keep_entities(out, ref->target);
            if (!ref->label.empty()) {
                out += '|';
                append_escaped_keep_entities(out, ref->label);
            }
            out += '>';
            break;
        case ref_kind::special:
            out += '@';
            out += ref->id; // <!group> reads "channel"
            break;
        case ref_kind::usergroup:
            out += '@';
            if (!strip_sigil(ref->label, '@').empty()) {
                append_escaped_keep_entities(out, strip_sigil(ref->label, '@'));
            } else {
                out += "group";
            }
            break;
        }
        i += ref->source.size();
        plain_from = i;
    }
    append_escaped_keep_entities(out, slack_text.substr(plain_from));
    return out;
}

std::string to_plain(std::string_view mrkdwn) {
    std::string out;
    out.reserve(mrkdwn.size());
    std::size_t plain_from = 0;
    std::size_t i = 0;
    while (i < mrkdwn.size()) {
        if (mrkdwn[i] != '<') {
            ++i;
            continue;
        }
        const auto ref = parse_reference(mrkdwn, i);
        if (!ref) {
            ++i;
            continue;
        }
        out += decode(mrkdwn.substr(plain_from, i - plain_from));
        switch (ref->kind) {
        case ref_kind::user:
            out += '@';
            out += decode(ref->label.empty() ? ref->id : strip_sigil(ref->label, '@'));
            break;
        case ref_kind::channel:
            out += '#';
            out += decode(ref->label.empty() ? ref->id : strip_sigil(ref->label, '#'));
            break;
        case ref_kind::special:
            out += '@';
            out += ref->id;
            break;
        case ref_kind::usergroup:
            out += '@';
            out += ref->label.empty() ? std::string("group") : decode(strip_sigil(ref->label, '@'));
            break;
        case ref_kind::link: {
            const std::string url = decode(ref->id);
            const std::string label = decode(ref->label);
            if (ref->label.empty() || label == url) {
                out += url;
            } else if (url == "mailto:" + label) {
                out += label;
            } else {
                out += label;
                out += " (";
                out += url;
                out += ')';
            }
            break;
        }
        }
        i += ref->source.size();
        plain_from = i;
    }
    out += decode(mrkdwn.substr(plain_from));
    return out;
}

std::string valid_utf8(std::string_view text) {
    constexpr std::string_view replacement = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        // The sequence's length, and the range of its second byte (which rules out overlong
        // forms, surrogates and code points past U+10FFFF).
        std::size_t len = 0;
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            out += replacement;
            ++i;
            continue;
        }
        std::size_t j = 1;
        for (; j < len && i + j < text.size(); ++j) {
            auto d = static_cast<unsigned char>(text[i + j]);
            if (d < (j == 1 ? lo : 0x80) || d > (j == 1 ? hi : 0xBF)) {
                break;
            }
        }
        if (j == len) {
            out.append(text.substr(i, len));
        } else {
            out += replacement;
        }
        i += j;
    }
    return out;
}

} // namespace tpmbot::mrkdwn
