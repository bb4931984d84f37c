#include "mrkdwn.hpp"

#include <cstddef>
#include <optional>

namespace tpmbot::mrkdwn {

namespace {

/// What a well-formed Slack control sequence `<...>` refers to.
enum class ref_kind { user, channel, usergroup, special, link };

/// A parsed `<...>` control sequence. The same grammar as the tokenizer's (args.cpp).
struct slack_ref {
    ref_kind kind = ref_kind::user;
    std::size_t len = 0;     ///< bytes from '<' to '>' inclusive
    std::string_view target; ///< what precedes '|': "@U1", "#C1", "!here", "https://x"
    std::string_view id;     ///< user/channel/usergroup id, special name, or the url
    std::string_view label;  ///< what follows '|', empty when absent
    bool has_label = false;
};

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

bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
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

/// Parses a well-formed reference starting at s[pos] == '<'; nullopt when it is not one.
std::optional<slack_ref> parse_ref(std::string_view s, std::size_t pos) {
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
    slack_ref r;
    r.len = close - pos + 1;
    const std::size_t bar = body.find('|');
    r.target = body.substr(0, bar);
    if (bar != std::string_view::npos) {
        r.label = body.substr(bar + 1);
        r.has_label = !r.label.empty();
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
        if (rest == "here" || rest == "channel" || rest == "everyone" || rest == "group") {
            r.kind = ref_kind::special;
            r.id = rest;
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
            for (char c : r.target) {
                if (is_ascii_space(c)) {
                    return std::nullopt;
                }
            }
            r.kind = ref_kind::link;
            r.id = r.target;
            return r;
        }
    }
    return std::nullopt;
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
        const auto ref = parse_ref(slack_text, i);
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
            if (ref->has_label) {
                out += '|';
                append_escaped_keep_entities(out, ref->label);
            }
            out += '>';
            break;
        case ref_kind::special:
            // <!group> is Slack's old synonym of <!channel>.
            out += '@';
            out += ref->id == "group" ? std::string_view("channel") : ref->id;
            break;
        case ref_kind::usergroup:
            out += '@';
            if (ref->has_label && !strip_sigil(ref->label, '@').empty()) {
                append_escaped_keep_entities(out, strip_sigil(ref->label, '@'));
            } else {
                out += "group";
            }
            break;
        }
        i += ref->len;
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
        const auto ref = parse_ref(mrkdwn, i);
        if (!ref) {
            ++i;
            continue;
        }
        out += decode(mrkdwn.substr(plain_from, i - plain_from));
        switch (ref->kind) {
        case ref_kind::user:
            out += '@';
            out += decode(ref->has_label ? strip_sigil(ref->label, '@') : ref->id);
            break;
        case ref_kind::channel:
            out += '#';
            out += decode(ref->has_label ? strip_sigil(ref->label, '#') : ref->id);
            break;
        case ref_kind::special:
            out += '@';
            out += ref->id == "group" ? std::string_view("channel") : ref->id;
            break;
        case ref_kind::usergroup:
            out += '@';
            out += ref->has_label ? decode(strip_sigil(ref->label, '@')) : std::string("group");
            break;
        case ref_kind::link: {
            const std::string url = decode(ref->id);
            const std::string label = decode(ref->label);
            if (!ref->has_label || label == url) {
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
        i += ref->len;
        plain_from = i;
    }
    out += decode(mrkdwn.substr(plain_from));
    return out;
}

} // namespace tpmbot::mrkdwn
