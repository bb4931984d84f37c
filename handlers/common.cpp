#include "common.hpp"

#include "dates.hpp"
#include "mrkdwn.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace tpmbot {

std::string mention_thread(const command& cmd) {
    if (cmd.from != source::mention) {
        return {};
    }
    return cmd.thread_ts.empty() ? cmd.message_ts : cmd.thread_ts;
}

void context::reply(std::string text) {
    effect e;
    e.to = destination::ephemeral;
    e.channel = cmd.channel_id;
    e.user = cmd.user_id;
    e.thread_ts = mention_thread(cmd);
    e.text = std::move(text);
    out.push_back(std::move(e));
}

void context::card(const item& it, std::string text, std::vector<button> buttons) {
    effect e;
    e.to = destination::channel;
    e.item = it.id_str();
    if (!it.thread_ts.empty()) {
        e.channel = it.thread_channel;
        e.thread_ts = it.thread_ts;
    } else {
        e.channel = it.channel_id;
        e.is_card = true;
    }
    e.text = std::move(text);
    e.buttons = std::move(buttons);
    e.name = card_name(it);
    out.push_back(std::move(e));
}

void context::thread(const item& it, std::string text) {
    effect e;
    e.to = destination::thread;
    e.item = it.id_str();
    e.channel = it.thread_ts.empty() ? it.channel_id : it.thread_channel;
    e.thread_ts = it.thread_ts;
    e.text = std::move(text);
    out.push_back(std::move(e));
}

void context::channel_line(const std::string& channel, std::string text) {
    effect e;
    e.to = destination::channel;
    e.channel = channel;
    e.text = std::move(text);
    out.push_back(std::move(e));
}

effect dm_effect(const std::string& user, std::string text, std::vector<button> buttons) {
    effect e;
    e.to = destination::dm;
    e.user = user;
    e.text = std::move(text);
    e.buttons = std::move(buttons);
    return e;
}

void context::dm(const std::string& user, std::string text) {
    out.push_back(dm_effect(user, std::move(text)));
}

void context::log(const item& it, std::string action, std::string detail) {
    history_entry h;
    h.team_id = it.team_id;
    h.kind = it.kind;
    h.num = it.num;
    h.at = cmd.now;
    h.actor = cmd.user_id;
    h.action = std::move(action);
    h.detail = std::move(detail);
    db.append_history(h);
    touch(it);
}

std::vector<std::string> nonblank_lines(std::string_view text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto nl = text.find('\n', start);
        auto line = trim(
            text.substr(start, nl == std::string_view::npos ? text.size() - start : nl - start));
        if (!line.empty()) {
            lines.push_back(line);
        }
        if (nl == std::string_view::npos) {
            break;
        }
        start = nl + 1;
    }
    return lines;
}

button undo_button(std::string_view id) {
    return {"Undo", "blocker_undo", fmt::format("blocker {} undo", id)};
}

void context::touch_home(const std::string& user_id) {
    if (!user_id.empty() && std::find(homes.begin(), homes.end(), user_id) == homes.end()) {
        homes.push_back(user_id);
    }
}

void context::touch(const item& it) {
    auto at = std::find_if(touched.begin(), touched.end(),
                           [&](const item& t) { return t.kind == it.kind && t.num == it.num; });
    if (at == touched.end()) {
        touched.push_back(it);
    } else {
        *at = it;
    }
}

const std::vector<std::string> open_statuses = {"open", "acked", "proposed"};

/// Seconds without an update after which an open blocker is stale: its severity's first
/// escalation threshold (SPEC §5: high 1d, med 2d, low 5d).
unix_time stale_after(const item& it) {
    constexpr unix_time day = 86400;
    if (it.severity == "high") {
        return day;
    }
    if (it.severity == "low") {
        return 5 * day;
    }
    return 2 * day;
}

std::string lower(std::string_view s) {
    std::string r(s);
    for (char& c : r) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return r;
}

std::size_t char_count(std::string_view utf8) {
    return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

void check_length(std::string_view what, std::string_view text, std::size_t limit) {
    // Count what the person typed, not the encoding: `&amp;` is one character, <@U1|dana> five.
    auto n = char_count(mrkdwn::to_plain(text));
    if (n > limit) {
        throw user_error(fmt::format("The {} is {} characters long; the limit is {}. Shorten it, "
                                     "and put details in the item's thread.",
                                     what, n, limit));
    }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    // Optimal string alignment: a swap of two adjacent letters ("lsit") counts as one edit.
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) {
        d[i][0] = i;
    }
    for (std::size_t j = 0; j <= b.size(); ++j) {
        d[0][j] = j;
    }
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

std::string user_of(const args::token& t, const command& cmd) {
    if (t.kind == args::tok::user) {
        return t.text;
    }
    if (t.kind == args::tok::word && lower(t.text) == "me") {
        return cmd.user_id;
    }
    return {};
}

std::string require_user(std::string_view value, const command& cmd, std::string_view key,
                         std::string_view example) {
    auto ts = args::tokenize(value);
    if (ts.size() == 1) {
        auto u = user_of(ts[0], cmd);
        if (!u.empty()) {
            return u;
        }
    }
    throw user_error(fmt::format("`{}` needs a person: pick them with @ so Slack links the name "
                                 "(or write `me`), e.g. `{}`",
                                 key, example));
}

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) {
        return {};
    }
    auto e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string json_quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (u < 0x20) {
                out += fmt::format("\\u{:04x}", u);
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

std::string take_channel(const command& cmd, std::vector<args::token>& rest) {
    for (auto it = rest.begin(); it != rest.end(); ++it) {
        if (it->kind == args::tok::channel) {
            auto c = it->text;
            rest.erase(it);
            return c;
        }
    }
    return cmd.channel_id;
}

std::string quiet_name(store& db, const std::string& team_id, const std::string& user_id) {
    if (user_id.empty()) {
        return "nobody";
    }
    if (auto u = db.find_user(team_id, user_id); u && !u->name.empty()) {
        return "@" + mrkdwn::escape(u->name);
    }
    return who(user_id);
}

std::string who(std::string_view user_id) {
    if (user_id.empty()) {
        return "nobody";
    }
    return fmt::format("<@{}>", user_id);
}

std::optional<args::token> take_key(std::vector<args::token>& ts, std::string_view key) {
    for (auto it = ts.begin(); it != ts.end(); ++it) {
        if (it->kind == args::tok::key_value && it->key == key) {
            auto t = *it;
            ts.erase(it);
            return t;
        }
    }
    return std::nullopt;
}

void check_keys(const std::vector<args::token>& ts, std::span<const std::string_view> known,
                std::string_view example) {
    for (const auto& t : ts) {
        if (t.kind != args::tok::key_value || t.key.size() < 2) {
            continue;
        }
        if (std::find(known.begin(), known.end(), t.key) != known.end()) {
            continue;
        }
        for (auto k : known) {
            if (edit_distance(t.key, k) <= 1) {
                throw user_error(fmt::format("`{}:` is not an option here. Did you mean `{}:`? "
                                             "e.g. `{}`",
                                             mrkdwn::escape(t.key), k, example));
            }
        }
    }
}

std::string require_date(std::string_view text, const command& cmd, std::string_view example) {
    auto d = dates::parse(text, cmd.now, cmd.user_tz);
    if (!d) {
        throw user_error(fmt::format("`{}` is not a date. Use today, tomorrow, a weekday (fri), "
                                     "+3d, next week or YYYY-MM-DD, e.g. `{}`",
                                     mrkdwn::escape(text), example));
    }
    return *d;
}

std::string require_future_date(std::string_view text, const command& cmd,
                                std::string_view example) {
    auto d = require_date(text, cmd, example);
    auto today = dates::today(cmd.now, cmd.user_tz);
    if (d < today) {
        throw user_error(fmt::format("{} is in the past (today is {}). Pick a later date, e.g. "
                                     "`{}`",
                                     d, today, example));
    }
    return d;
}

std::optional<std::string> take_date(std::vector<args::token>& ts, std::string_view key) {
    for (auto it = ts.begin(); it != ts.end(); ++it) {
        if (it->kind != args::tok::key_value || it->key != key) {
            continue;
        }
        auto text = it->text;
        it = ts.erase(it);
        // `by:next week` arrives as two tokens: the word right after belongs to the date.
        if (lower(text) == "next" && it != ts.end() && it->kind == args::tok::word) {
            text += " " + it->text;
            ts.erase(it);
        }
        return text;
    }
    return std::nullopt;
}

std::string owner_arg(const item& it, std::span<const args::token> args, const command& cmd) {
    auto id = it.id_str();
    if (args.size() != 1) {
        throw user_error(fmt::format("Who should own {}? Name one person, e.g. `/tpm owner {} "
                                     "@dana` or `/tpm owner {} me`",
                                     id, id, id));
    }
    return require_user(args[0].raw, cmd, "owner", fmt::format("/tpm owner {} @dana", id));
}

std::pair<std::string, std::string> thread_target(store& db, std::string_view team_id,
                                                  const effect& e) {
    if (auto id = parse_item_id(e.item)) {
        if (auto it = db.find_item(team_id, *id); it && !it->thread_ts.empty()) {
            return {it->thread_channel, it->thread_ts};
        }
    }
    // A standup digest, "standup:<channel>:<period>": late answers go in its thread.
    constexpr std::string_view digest = "standup:";
    if (std::string_view key = e.item; key.starts_with(digest)) {
        key.remove_prefix(digest.size());
        auto colon = key.find(':');
        if (colon != std::string_view::npos) {
            auto run = db.find_run(team_id, key.substr(0, colon), key.substr(colon + 1));
            if (run && !run->digest_ts.empty()) {
                return {run->digest_channel, run->digest_ts};
            }
        }
    }
    return {e.channel, e.thread_ts};
}

item load_item(context& ctx, item_id id) {
    auto it = ctx.db.find_item(ctx.cmd.team_id, id);
    if (!it) {
        throw user_error(fmt::format("There is no {} in this workspace. See what exists with "
                                     "`/tpm {} list all`.",
                                     id.str(), kind_name(id.kind)));
    }
    return *it;
}

bool may_modify(const item& it, const command& cmd) {
    return cmd.is_admin || cmd.user_id == it.dri || cmd.user_id == it.reporter;
}

void require_modify(const item& it, const command& cmd, std::string_view what) {
    if (may_modify(it, cmd)) {
        return;
    }
    throw user_error(fmt::format("Only the DRI ({}), the reporter ({}) or an admin can {}. "
                                 "Ask them, or add an update instead: `/tpm {} {} update <text>`",
                                 who(it.dri), who(it.reporter), what, kind_name(it.kind),
                                 it.id_str()));
}

std::vector<button> item_buttons(const item& it) {
    auto id = it.id_str();
    std::vector<button> b;
    if (it.closed_at != 0) {
        return b;
    }
    if (it.kind == item_kind::blocker) {
        if (it.status == "open") {
            b.push_back({"Ack", "blocker_ack", fmt::format("blocker {} ack", id)});
        }
        b.push_back({"Resolve", "blocker_resolve", fmt::format("blocker {} resolve", id)});
    }
    b.push_back({"Take ownership", "take_ownership", fmt::format("owner {} me", id)});
    if (it.kind == item_kind::blocker || it.kind == item_kind::decision) {
        b.push_back({"Snooze", "snooze", fmt::format("{} {} snooze", kind_name(it.kind), id)});
    }
    return b;
}

std::string status_badge(const item& it) {
    const auto& s = it.status;
    if (s == "open") {
        return it.kind == item_kind::blocker ? ":red_circle: open" : ":large_blue_circle: open";
    }
    if (s == "acked") {
        return ":large_yellow_circle: acked";
    }
    if (s == "proposed") {
        return ":hourglass_flowing_sand: pending";
    }
    if (s == "resolved" || s == "decided" || s == "mitigated" || s == "delivered" ||
        s == "closed") {
        return ":white_check_mark: " + s;
    }
    if (s == "occurred") {
        return ":boom: occurred";
    }
    return ":heavy_minus_sign: " + s;
}

std::string list_line(const item& it, unix_time now) {
    std::string line = fmt::format("• *{}* {} — DRI {}", it.id_str(), it.title, who(it.dri));
    switch (it.kind) {
    case item_kind::blocker:
        line += fmt::format(" · sev {}", it.severity);
        break;
    case item_kind::decision:
        if (!it.due.empty()) {
            line += fmt::format(" · by {}", it.due);
        }
        break;
    case item_kind::risk:
        line += fmt::format(" · p:{} i:{}", it.probability, it.impact);
        break;
    case item_kind::dep:
        line += fmt::format(" · from {}", it.from_who);
        if (!it.due.empty()) {
            line += fmt::format(" · by {}", it.due);
        }
        break;
    }
    line += fmt::format(" · {} · {} old", it.status, dates::age(now - it.created_at));
    return line;
}

} // namespace tpmbot
