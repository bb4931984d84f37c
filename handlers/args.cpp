#include "args.hpp"

#include "model.hpp"
#include "mrkdwn.hpp"

#include <cstddef>
#include <fmt/format.h>
#include <optional>

namespace tpmbot::args {

namespace {

// ---- Characters -------------------------------------------------------------------------

/// Bytes of whitespace at s[i] (ASCII whitespace or U+00A0 NO-BREAK SPACE), 0 when none.
std::size_t space_len(std::string_view s, std::size_t i) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        return 1;
    }
    if (c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0') {
        return 2;
    }
    return 0;
}

/// Whether c is a C0 control character other than \n and \t, or DEL (0x7F). Such bytes never
/// occur inside a UTF-8 multi-byte sequence.
bool is_control(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\n' && c != '\t') || u == 0x7F;
}

/// `s` with each control character (is_control) replaced by a space; the copy, when one is
/// needed, is kept in `buffer`.
std::string_view controls_to_spaces(std::string_view s, std::string& buffer) {
    std::size_t k = 0;
    while (k < s.size() && !is_control(s[k])) {
        ++k;
    }
    if (k == s.size()) {
        return s;
    }
    buffer.assign(s);
    for (; k < buffer.size(); ++k) {
        if (is_control(buffer[k])) {
            buffer[k] = ' ';
        }
    }
    return buffer;
}

/// `s` without leading and trailing whitespace.
std::string_view trim(std::string_view s) {
    while (!s.empty() && space_len(s, 0) > 0) {
        s.remove_prefix(space_len(s, 0));
    }
    while (!s.empty()) {
        if (space_len(s, s.size() - 1) == 1) {
            s.remove_suffix(1);
        } else if (s.size() >= 2 && space_len(s, s.size() - 2) == 2) {
            s.remove_suffix(2);
        } else {
            break;
        }
    }
    return s;
}

/// Bytes of an opening double quote at s[i]: " (1), or “ ” „ (3, UTF-8); 0 when none.
std::size_t open_quote_len(std::string_view s, std::size_t i) {
    if (s[i] == '"') {
        return 1;
    }
    const std::string_view tail = s.substr(i);
    if (tail.starts_with("\u201C") || tail.starts_with("\u201D") || tail.starts_with("\u201E")) {
        return 3;
    }
    return 0;
}

/// Bytes of a closing double quote at s[i]: " (1), or “ ” (3); 0 when none.
std::size_t close_quote_len(std::string_view s, std::size_t i) {
    if (s[i] == '"') {
        return 1;
    }
    const std::string_view tail = s.substr(i);
    if (tail.starts_with("\u201C") || tail.starts_with("\u201D")) {
        return 3;
    }
    return 0;
}

/// A quoted segment starting at s[i]: its inner text and the position after the close.
struct quoted_span {
    std::size_t inner_begin = 0;
    std::size_t inner_end = 0;
    std::size_t end = 0; ///< one past the closing quote
};

/// Finds the quote opened at s[i]; nullopt when it is never closed.
std::optional<quoted_span> match_quote(std::string_view s, std::size_t i) {
    const std::size_t open = open_quote_len(s, i);
    for (std::size_t j = i + open; j < s.size(); ++j) {
        if (const std::size_t close = close_quote_len(s, j); close > 0) {
            return quoted_span{i + open, j, j + close};
        }
    }
    return std::nullopt;
}

bool is_ascii_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_ascii_digit(char c) {
    return c >= '0' && c <= '9';
}

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// ---- Slack references ---------------------------------------------------------------------

/// The token kind of a parsed reference.
tok kind_of(mrkdwn::ref_kind k) {
    switch (k) {
    case mrkdwn::ref_kind::user:
        return tok::user;
    case mrkdwn::ref_kind::channel:
        return tok::channel;
    case mrkdwn::ref_kind::usergroup:
        return tok::usergroup;
    case mrkdwn::ref_kind::special:
        return tok::special;
    case mrkdwn::ref_kind::link:
        return tok::link;
    }
    return tok::word;
}

// ---- Errors -------------------------------------------------------------------------------

/// The text from an unterminated quote on, as plain text, shortened for an error message.
std::string snippet(std::string_view from_quote) {
    std::string plain = mrkdwn::to_plain(trim(from_quote));
    constexpr std::size_t max_bytes = 60;
    if (plain.size() > max_bytes) {
        std::size_t cut = max_bytes;
        while (cut > 0 && (static_cast<unsigned char>(plain[cut]) & 0xC0) == 0x80) {
            --cut; // do not split a UTF-8 sequence
        }
        plain.resize(cut);
        plain += "…";
    }
    return plain;
}

/// Throws the user_error for a quote opened in `from_quote` and never closed. An empty
/// `example` means: the user's own text with the quote closed. The message is mrkdwn: the
/// user's text in it is escaped, so a typed <!channel> cannot ping anyone when it is posted.
[[noreturn]] void throw_unterminated(std::string_view from_quote, std::string example) {
    const std::string shown = snippet(from_quote);
    if (example.empty()) {
        example = shown.ends_with("…") ? std::string("because:\"We need it\"")
                                       : mrkdwn::escape(shown) + '"';
    }
    throw user_error(fmt::format("Unterminated quote in: {} — close it with a second \", e.g. {}",
                                 mrkdwn::escape(shown), example));
}

// ---- Tokenizing ---------------------------------------------------------------------------

/// Position after the key of a key:value token at s[i] (pointing at ':'), or npos.
std::size_t key_end(std::string_view s, std::size_t i) {
    if (!is_ascii_letter(s[i])) {
        return std::string_view::npos;
    }
    std::size_t j = i + 1;
    while (j < s.size() &&
           (is_ascii_letter(s[j]) || is_ascii_digit(s[j]) || s[j] == '_' || s[j] == '-')) {
        ++j;
    }
    if (j < s.size() && s[j] == ':') {
        return j;
    }
    return std::string_view::npos;
}

/// End of a key:value value starting at s[v]. A value runs to the next whitespace, except
/// that a quote opening the value or one of its parts (after ',' or '|') runs to its closing
/// quote, a reference runs to its '>', and a value ending in ',' continues over whitespace
/// when the next part starts with a quote, a reference or '@' (`consult:<@U1>, <@U2>`).
std::size_t value_end(std::string_view s, std::size_t token_start, std::size_t v) {
    std::size_t j = v;
    bool part_start = true;
    while (j < s.size()) {
        if (const std::size_t sp = space_len(s, j); sp > 0) {
            if (j > v && s[j - 1] == ',') {
                std::size_t k = j;
                while (k < s.size() && space_len(s, k) > 0) {
                    k += space_len(s, k);
                }
                if (k < s.size() &&
                    (open_quote_len(s, k) > 0 || mrkdwn::parse_reference(s, k) || s[k] == '@')) {
                    j = k;
                    part_start = true;
                    continue;
                }
            }
            break;
        }
        if (part_start && open_quote_len(s, j) > 0) {
            const auto q = match_quote(s, j);
            if (!q) {
                throw_unterminated(s.substr(token_start), {});
            }
            j = q->end;
            part_start = false;
            continue;
        }
        if (s[j] == '<') {
            if (const auto ref = mrkdwn::parse_reference(s, j)) {
                j += ref->source.size();
                part_start = false;
                continue;
            }
        }
        part_start = (s[j] == ',' || s[j] == '|');
        ++j;
    }
    return j;
}

/// End of a bare run at s[i]: up to whitespace, skipping over well-formed references (whose
/// labels may contain spaces).
std::size_t run_end(std::string_view s, std::size_t i) {
    std::size_t j = i;
    while (j < s.size() && space_len(s, j) == 0) {
        if (s[j] == '<') {
            if (const auto ref = mrkdwn::parse_reference(s, j)) {
                j += ref->source.size();
                continue;
            }
        }
        ++j;
    }
    return j;
}

/// `value` without one level of surrounding quotes, when the whole value is one quoted string.
std::string_view unquote_whole(std::string_view value) {
    if (!value.empty() && open_quote_len(value, 0) > 0) {
        if (const auto q = match_quote(value, 0); q && q->end == value.size()) {
            return value.substr(q->inner_begin, q->inner_end - q->inner_begin);
        }
    }
    return value;
}

} // namespace

std::vector<token> tokenize(std::string_view text) {
    std::string cleaned;
    const std::string_view s = controls_to_spaces(text, cleaned);
    std::vector<token> out;
    std::size_t i = 0;
    while (i < s.size()) {
        if (const std::size_t sp = space_len(s, i); sp > 0) {
            i += sp;
            continue;
        }
        const std::size_t start = i;
        token t;

        if (open_quote_len(s, i) > 0) {
            const auto q = match_quote(s, i);
            if (!q) {
                throw_unterminated(s.substr(start), "/tpm decision \"Ship it?\"");
            }
            t.kind = tok::quoted;
            t.raw = std::string(s.substr(start, q->end - start));
            t.text = mrkdwn::decode(s.substr(q->inner_begin, q->inner_end - q->inner_begin));
            out.push_back(std::move(t));
            i = q->end;
            continue;
        }

        if (const std::size_t colon = key_end(s, i); colon != std::string_view::npos) {
            const std::size_t v = colon + 1;
            if (s.substr(v, 2) != "//") {
                const std::string_view key = s.substr(start, colon - start);
                const std::size_t end = value_end(s, start, v);
                t.kind = tok::key_value;
                t.raw = std::string(s.substr(start, end - start));
                t.key.reserve(key.size());
                for (char c : key) {
                    t.key += ascii_lower(c);
                }
                t.value = std::string(s.substr(v, end - v));
                t.text = mrkdwn::decode(unquote_whole(t.value));
                out.push_back(std::move(t));
                i = end;
                continue;
            }
        }

        const std::size_t end = run_end(s, i);
        t.raw = std::string(s.substr(start, end - start));
        const auto ref = mrkdwn::parse_reference(s, start);
        if (ref && ref->source.size() == end - start) {
            t.kind = kind_of(ref->kind);
            t.text = std::string(ref->id);
            std::string_view label = ref->label;
            if (!label.empty() && (label.front() == '@' || label.front() == '#') &&
                t.kind != tok::link) {
                label.remove_prefix(1);
            }
            t.label = std::string(label);
        } else {
            t.kind = tok::word;
            t.text = mrkdwn::decode(t.raw);
        }
        out.push_back(std::move(t));
        i = end;
    }
    return out;
}

std::vector<std::string> split_values(std::string_view typed) {
    std::string cleaned;
    const std::string_view value = controls_to_spaces(typed, cleaned);
    std::vector<std::string> parts;
    std::string current;
    bool part_start = true;
    auto finish = [&] {
        const std::string_view part = trim(current);
        if (!part.empty()) {
            parts.emplace_back(part);
        }
        current.clear();
        part_start = true;
    };
    std::size_t j = 0;
    while (j < value.size()) {
        if (const std::size_t sp = space_len(value, j); sp > 0) {
            current.append(value.substr(j, sp));
            j += sp;
            continue; // leading blanks keep part_start; they are trimmed at the end
        }
        if (part_start && open_quote_len(value, j) > 0) {
            const auto q = match_quote(value, j);
            if (!q) {
                throw_unterminated(value, "options:\"A\"|\"B\"");
            }
            current.append(value.substr(q->inner_begin, q->inner_end - q->inner_begin));
            j = q->end;
            part_start = false;
            continue;
        }
        if (value[j] == '<') {
            if (const auto ref = mrkdwn::parse_reference(value, j)) {
                current.append(ref->source);
                j += ref->source.size();
                part_start = false;
                continue;
            }
        }
        if (value[j] == ',' || value[j] == '|') {
            finish();
            ++j;
            continue;
        }
        current += value[j];
        part_start = false;
        ++j;
    }
    finish();
    return parts;
}

std::string render(const token& t) {
    if (t.kind == tok::quoted) {
        // The content, without its quotes: the quotes are syntax, the content is the text.
        const auto q = match_quote(t.raw, 0);
        if (q) {
            return mrkdwn::safe(
                std::string_view(t.raw).substr(q->inner_begin, q->inner_end - q->inner_begin));
        }
    }
    // Everything else as typed: references kept, broadcasts neutralised, &, <, > escaped.
    return mrkdwn::safe(t.raw);
}

std::string render(std::span<const token> ts) {
    std::string out;
    for (std::size_t k = 0; k < ts.size(); ++k) {
        if (k > 0) {
            out += ' ';
        }
        out += render(ts[k]);
    }
    return out;
}

} // namespace tpmbot::args
