#include "codec.hpp"

#include "common.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>
#include <utility>

namespace tpmbot::codec {

namespace {

// Lists are stored as text: elements joined by the ASCII unit separator; button records
// joined by the record separator. Neither appears in text a person types in Slack.
constexpr char unit_sep = '\x1f';

constexpr char record_sep = '\x1e';

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        auto pos = s.find(sep, start);
        if (pos == std::string_view::npos) {
            out.emplace_back(s.substr(start));
            return out;
        }
        out.emplace_back(s.substr(start, pos - start));
        start = pos + 1;
    }
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

/// Reads the little JSON the helpers above write (and any JSON of the same shape). Errors
/// are std::runtime_error naming `what` (the column), `noun` and the offset.
class json_reader {
public:
    json_reader(std::string_view s, std::string_view what, std::string_view noun)
        : s_(s), what_(what), noun_(noun) {}

    std::runtime_error fail(std::string_view why) const {
        return std::runtime_error(
            fmt::format("{}: malformed {} at offset {}: {}", what_, noun_, i_, why));
    }

    void skip_space() {
        while (i_ < s_.size() &&
               (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
            ++i_;
        }
    }

    /// Skips space, then consumes `c` when it is next.
    bool accept(char c) {
        skip_space();
        if (i_ < s_.size() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }

    void expect(char c) {
        if (!accept(c)) {
            throw fail(fmt::format("expected '{}'", c));
        }
    }

    void expect_end() {
        skip_space();
        if (i_ != s_.size()) {
            throw fail("text after the value");
        }
    }

    std::string read_string() {
        expect('"');
        std::string v;
        for (;;) {
            if (i_ >= s_.size()) {
                throw fail("unterminated string");
            }
            char c = s_[i_++];
            if (c == '"') {
                return v;
            }
            if (c != '\\') {
                v += c;
                continue;
            }
            if (i_ >= s_.size()) {
                throw fail("unterminated escape");
            }
            char e = s_[i_++];
            switch (e) {
            case '"':
            case '\\':
            case '/':
                v += e;
                break;
            case 'b':
                v += '\b';
                break;
            case 'f':
                v += '\f';
                break;
            case 'n':
                v += '\n';
                break;
            case 'r':
                v += '\r';
                break;
            case 't':
                v += '\t';
                break;
            case 'u': {
                auto cp = hex4();
                // A surrogate pair is one code point; a lone surrogate becomes its own 3 bytes.
                if (cp >= 0xd800 && cp < 0xdc00 && s_.substr(i_, 2) == "\\u") {
                    auto save = i_;
                    i_ += 2;
                    auto low = hex4();
                    if (low >= 0xdc00 && low < 0xe000) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    } else {
                        i_ = save;
                    }
                }
                append_utf8(v, cp);
                break;
            }
            default:
                throw fail("unknown escape");
            }
        }
    }

    /// Reads `[` item (`,` item)* `]`, calling `item` for each; an empty array is fine.
    template <class F>
    void read_array(F&& item) {
        expect('[');
        if (accept(']')) {
            return;
        }
        do {
            item();
        } while (accept(','));
        expect(']');
    }

private:
    std::uint32_t hex4() {
        if (s_.size() - i_ < 4) {
            throw fail("short \\u escape");
        }
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            char h = s_[i_++];
            v <<= 4;
            if (h >= '0' && h <= '9') {
                v |= static_cast<std::uint32_t>(h - '0');
            } else if (h >= 'a' && h <= 'f') {
                v |= static_cast<std::uint32_t>(h - 'a' + 10);
            } else if (h >= 'A' && h <= 'F') {
                v |= static_cast<std::uint32_t>(h - 'A' + 10);
            } else {
                throw fail("bad hex digit");
            }
        }
        return v;
    }

    std::string_view s_;
    std::size_t i_ = 0;
    std::string_view what_;
    std::string_view noun_;
};

constexpr std::pair<block::kind, std::string_view> block_kinds[] = {
    {block::kind::header, "header"},
    {block::kind::section, "section"},
    {block::kind::context, "context"},
    {block::kind::divider, "divider"},
};

std::string_view block_kind_text(block::kind k) {
    for (const auto& [kind, name] : block_kinds) {
        if (kind == k) {
            return name;
        }
    }
    throw std::logic_error("unknown block kind");
}

/// The WHERE conditions of `q` but `open_at`, as " AND ..." after "team_id = ?".
built_sql item_conditions(const item_query& q) {
    built_sql w;
    w.sql = "team_id = ?";
    w.values.emplace_back(q.team_id);
    if (q.kind) {
        w.sql += " AND kind = ?";
        w.values.emplace_back(std::string(kind_prefix(*q.kind)));
    }
    if (!q.statuses.empty()) {
        w.sql += " AND status IN (?";
        for (std::size_t i = 1; i < q.statuses.size(); ++i) {
            w.sql += ", ?";
        }
        w.sql += ")";
        for (const auto& status : q.statuses) {
            w.values.emplace_back(status);
        }
    }
    if (!q.channel_id.empty()) {
        w.sql += " AND channel_id = ?";
        w.values.emplace_back(q.channel_id);
    }
    if (q.mine_user_either && !q.dri.empty()) {
        w.sql += " AND (dri = ? OR reporter = ?)";
        w.values.emplace_back(q.dri);
        w.values.emplace_back(q.dri);
    } else if (!q.dri.empty()) {
        w.sql += " AND dri = ?";
        w.values.emplace_back(q.dri);
    }
    if (!q.reporter.empty()) {
        w.sql += " AND reporter = ?";
        w.values.emplace_back(q.reporter);
    }
    if (q.unowned_only) {
        w.sql += " AND dri = ''";
    }
    if (q.updated_before != 0) {
        w.sql += " AND updated_at < ?";
        w.values.emplace_back(q.updated_before);
    }
    if (q.created_from != 0) {
        w.sql += " AND created_at >= ?";
        w.values.emplace_back(q.created_from);
    }
    if (q.created_until != 0) {
        w.sql += " AND created_at < ?";
        w.values.emplace_back(q.created_until);
    }
    if (q.closed_from != 0 || q.closed_until != 0) {
        // Closed (closed_at > 0) and closed_at >= closed_from, as one lower bound: given
        // "closed_at > 0" as well, SQLite may seek from that one and read every item ever
        // closed before closed_until.
        w.sql += " AND closed_at >= ?";
        w.values.emplace_back(std::max<unix_time>(q.closed_from, 1));
        if (q.closed_until != 0) {
            w.sql += " AND closed_at < ?";
            w.values.emplace_back(q.closed_until);
        }
    }
    return w;
}

/// `built` with its `?` placeholders numbered `$1`, `$2`, ... for PostgreSQL. The built SQL
/// holds no string literal with a `?` in it.
built_sql numbered(built_sql built, dialect d) {
    if (d == dialect::sqlite) {
        return built;
    }
    std::string sql;
    int n = 0;
    for (char c : built.sql) {
        if (c == '?') {
            sql += '$';
            sql += std::to_string(++n);
        } else {
            sql += c;
        }
    }
    built.sql = std::move(sql);
    return built;
}

} // namespace

/// NULL for an empty list, so that {} and {""} both round-trip.
std::optional<std::string> encode_list(const std::vector<std::string>& v) {
    if (v.empty()) {
        return std::nullopt;
    }
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i > 0) {
            out += unit_sep;
        }
        out += v[i];
    }
    return out;
}

std::vector<std::string> decode_list(bool null, std::string_view s) {
    if (null) {
        return {};
    }
    return split(s, unit_sep);
}

// Standup lists (members, answers) are JSON arrays of strings, and an outbox post's blocks a
// JSON array of {"type", "text"} objects: free text that may hold any character, including
// the separators above. Strings are written with json_quote, so any byte string round-trips.
std::string encode_json_list(const std::vector<std::string>& v) {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += json_quote(v[i]);
    }
    out += ']';
    return out;
}

/// Reads what `encode_json_list` writes (and any JSON array of strings); "" is the empty list.
/// Throws std::runtime_error naming `what` on anything else.
std::vector<std::string> decode_json_list(std::string_view s, std::string_view what) {
    std::vector<std::string> out;
    if (s.empty()) {
        return out;
    }
    json_reader r(s, what, "list");
    r.read_array([&] { out.push_back(r.read_string()); });
    r.expect_end();
    return out;
}

/// '' when there are no blocks (what rows from before version 5 hold), else a JSON array of
/// {"type": "header|section|context|divider", "text": "..."}.
std::string encode_blocks(const std::vector<block>& blocks) {
    if (blocks.empty()) {
        return {};
    }
    std::string out = "[";
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += "{\"type\":";
        out += json_quote(block_kind_text(blocks[i].type));
        out += ",\"text\":";
        out += json_quote(blocks[i].text);
        out += '}';
    }
    out += ']';
    return out;
}

/// Reads what `encode_blocks` writes; keys in any order, "text" may be absent (empty),
/// "type" may not. Throws std::runtime_error naming the column on anything else.
std::vector<block> decode_blocks(std::string_view s) {
    std::vector<block> out;
    if (s.empty()) {
        return out;
    }
    json_reader r(s, "outbox.blocks", "blocks");
    r.read_array([&] {
        block b;
        bool typed = false;
        r.expect('{');
        if (!r.accept('}')) {
            do {
                auto key = r.read_string();
                r.expect(':');
                auto value = r.read_string();
                if (key == "type") {
                    auto it = std::find_if(std::begin(block_kinds), std::end(block_kinds),
                                           [&](const auto& k) { return k.second == value; });
                    if (it == std::end(block_kinds)) {
                        throw r.fail(fmt::format("unknown block type '{}'", value));
                    }
                    b.type = it->first;
                    typed = true;
                } else if (key == "text") {
                    b.text = std::move(value);
                } else {
                    throw r.fail(fmt::format("unknown key '{}'", key));
                }
            } while (r.accept(','));
            r.expect('}');
        }
        if (!typed) {
            throw r.fail("a block without a type");
        }
        out.push_back(std::move(b));
    });
    r.expect_end();
    return out;
}

std::string encode_buttons(const std::vector<button>& buttons) {
    std::string out;
    for (std::size_t i = 0; i < buttons.size(); ++i) {
        if (i > 0) {
            out += record_sep;
        }
        out += buttons[i].text;
        out += unit_sep;
        out += buttons[i].action_id;
        out += unit_sep;
        out += buttons[i].value;
        if (buttons[i].pick_user) { // a fourth field; rows without it are buttons
            out += unit_sep;
            out += "user";
        }
    }
    return out;
}

std::vector<button> decode_buttons(std::string_view s) {
    std::vector<button> out;
    if (s.empty()) {
        return out;
    }
    for (const auto& record : split(s, record_sep)) {
        auto fields = split(record, unit_sep);
        fields.resize(4);
        out.push_back({std::move(fields[0]), std::move(fields[1]), std::move(fields[2]),
                       fields[3] == "user"});
    }
    return out;
}

std::string_view destination_text(destination d) {
    switch (d) {
    case destination::ephemeral:
        return "ephemeral";
    case destination::channel:
        return "channel";
    case destination::thread:
        return "thread";
    case destination::dm:
        return "dm";
    case destination::update:
        return "update";
    case destination::home:
        return "home";
    }
    throw std::logic_error("unknown destination");
}

destination parse_destination(std::string_view s) {
    if (s == "ephemeral") {
        return destination::ephemeral;
    }
    if (s == "channel") {
        return destination::channel;
    }
    if (s == "thread") {
        return destination::thread;
    }
    if (s == "dm") {
        return destination::dm;
    }
    if (s == "update") {
        return destination::update;
    }
    if (s == "home") {
        return destination::home;
    }
    throw std::runtime_error(fmt::format("outbox: unknown destination '{}'", s));
}

item_kind parse_kind(std::string_view s) {
    for (auto k : {item_kind::blocker, item_kind::decision, item_kind::risk, item_kind::dep}) {
        if (kind_prefix(k) == s) {
            return k;
        }
    }
    throw std::runtime_error(fmt::format("items: unknown kind '{}'", s));
}

std::optional<card_thread> card_thread_of(const outbox_row& row, std::string_view channel) {
    if (!row.e.is_card) {
        return std::nullopt;
    }
    auto where = channel.empty() ? std::string_view(row.e.channel) : channel;
    if (std::string_view key = row.e.item; key.starts_with("standup:")) {
        key.remove_prefix(8);
        auto colon = key.find(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        return card_thread{where, run_key{key.substr(0, colon), key.substr(colon + 1)}};
    }
    auto target = parse_item_id(row.e.item);
    if (!target) {
        return std::nullopt;
    }
    return card_thread{where, *target};
}

/// The SQL of `list_items(q)` (`count` false) or `count_items(q)` (`count` true).
///
/// Two shapes keep SQLite on the (team, channel, kind, ...) indexes of schema version 5
/// instead of a walk through a channel's whole history:
///  - ORDER BY +created_at: without statistics SQLite would rather walk an index in
///    creation order than seek each of several statuses and sort what it found; the unary
///    plus (same values, same order) takes that walk off the table. The sort then costs in
///    proportion to the rows returned.
///  - open_at = t is "closed_at = 0 OR closed_at >= t", which no single index range covers
///    (SQLite picks the creation range, everything before t). It is split into two disjoint
///    parts, each one index range on closed_at: still open (closed_at = 0) and closed since
///    (closed_at >= max(t, 1), which is never 0), each created before t.
built_sql item_sql(const item_query& q, bool count, dialect d) {
    auto w = item_conditions(q);
    built_sql out;
    // One part of open_at: the items still open, or those closed since.
    auto part = [&](std::string_view select, bool still_open) {
        out.sql += fmt::format("SELECT {} FROM items WHERE {} AND {} AND created_at < ?", select,
                               w.sql, still_open ? "closed_at = 0" : "closed_at >= ?");
        out.values.insert(out.values.end(), w.values.begin(), w.values.end());
        if (!still_open) {
            out.values.emplace_back(std::max<unix_time>(q.open_at, 1));
        }
        out.values.emplace_back(q.open_at);
    };
    if (count) {
        if (q.open_at == 0) {
            out.sql = "SELECT COUNT(*) FROM items WHERE " + w.sql;
            out.values = std::move(w.values);
            return numbered(std::move(out), d);
        }
        out.sql = "SELECT (";
        part("COUNT(*)", true);
        out.sql += ") + (";
        part("COUNT(*)", false);
        out.sql += ")";
        return numbered(std::move(out), d);
    }
    if (q.open_at == 0) {
        out.sql = fmt::format("SELECT {} FROM items WHERE {}", item_columns, w.sql);
        out.values = std::move(w.values);
    } else {
        out.sql = fmt::format("SELECT {} FROM (", item_columns);
        part(item_columns, true);
        out.sql += " UNION ALL ";
        part(item_columns, false);
        // PostgreSQL (before 16) wants a name for a subquery in FROM.
        out.sql += d == dialect::postgres ? ") AS open_items" : ")";
    }
    if (d == dialect::sqlite) {
        // SQLite treats a negative LIMIT as none.
        out.sql += " ORDER BY +created_at, num, kind LIMIT ?";
        out.values.emplace_back(std::int64_t{q.limit > 0 ? q.limit : -1});
    } else {
        // The unary plus only steers SQLite's planner; PostgreSQL has no negative LIMIT.
        out.sql += " ORDER BY created_at, num, kind";
        if (q.limit > 0) {
            out.sql += " LIMIT ?";
            out.values.emplace_back(std::int64_t{q.limit});
        }
    }
    return numbered(std::move(out), d);
}

} // namespace tpmbot::codec
