#include "common.hpp"
#include "dates.hpp"
#include "mrkdwn.hpp"
#include "poll.hpp"
#include "router.hpp"
#include "schedule.hpp"

#include <algorithm>
#include <date/date.h>
#include <fmt/format.h>

namespace tpmbot {

namespace {

std::string_view kind_emoji(item_kind k) {
    switch (k) {
    case item_kind::blocker:
        return ":no_entry:";
    case item_kind::decision:
        return ":thinking_face:";
    case item_kind::risk:
        return ":warning:";
    case item_kind::dep:
        return ":link:";
    }
    return "";
}

std::string join_refs(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (const auto& s : v) {
        out += (out.empty() ? "" : std::string(sep)) + s;
    }
    return out;
}

/// "2026-11-25 09:00 UTC".
std::string utc_stamp(unix_time t) {
    auto tp = date::sys_seconds{std::chrono::seconds{t}};
    return date::format("%Y-%m-%d %H:%M UTC", tp);
}

} // namespace

std::string card_text(const item& it) {
    std::string out = fmt::format("{} *{}* {}", kind_emoji(it.kind), it.id_str(), it.title);
    std::vector<std::string> parts;
    if (it.dri.empty()) {
        parts.push_back(fmt::format("DRI: nobody yet (take it: `/tpm owner {} me`)", it.id_str()));
    } else {
        parts.push_back("DRI " + who(it.dri));
    }
    switch (it.kind) {
    case item_kind::blocker:
        parts.push_back("sev " + it.severity);
        if (!it.waiting_on.empty()) {
            parts.push_back("waiting on " + it.waiting_on);
        }
        break;
    case item_kind::decision:
        if (!it.due.empty()) {
            parts.push_back("decide by " + dates::pretty(it.due));
        }
        if (!it.consulted.empty()) {
            parts.push_back("consulted " + join_refs(it.consulted, ", "));
        }
        break;
    case item_kind::risk:
        parts.push_back(fmt::format("p:{} i:{}", it.probability, it.impact));
        break;
    case item_kind::dep:
        parts.push_back("from " + it.from_who);
        if (!it.due.empty()) {
            parts.push_back("needed by " + dates::pretty(it.due));
        }
        if (!it.for_item.empty()) {
            parts.push_back("for " + it.for_item);
        }
        break;
    }
    if (!it.area.empty()) {
        parts.push_back("area " + mrkdwn::escape(it.area));
    }
    parts.push_back("raised by " + who(it.reporter));
    out += "\n" + join_refs(parts, " · ");
    if (it.kind == item_kind::decision && !it.options.empty()) {
        std::string opts;
        for (std::size_t i = 0; i < it.options.size(); ++i) {
            opts += fmt::format("{}{}. {}", i == 0 ? "" : "   ", i + 1, it.options[i]);
        }
        out += "\nOptions: " + opts;
    }
    if (it.kind == item_kind::risk && !it.mitigation.empty()) {
        out += "\nMitigation: " + it.mitigation;
    }
    return out;
}

std::string card_name(const item& it) {
    return "card:" + it.id_str();
}

effect card_update(store& db, const item& it, unix_time now) {
    effect e;
    e.to = destination::update;
    e.channel = it.channel_id;
    e.item = it.id_str();
    e.name = card_name(it);
    e.text = card_text(it) + "\nStatus: " + status_badge(it);
    if (it.closed_at == 0 && it.snoozed_until > now) {
        e.text += " · :zzz: snoozed until " + utc_stamp(it.snoozed_until);
    }
    if (!it.outcome.empty()) {
        e.text += "\nOutcome: " + it.outcome;
    }
    if (!it.note.empty()) {
        e.text += "\nNote: " + it.note;
    }
    if (!it.superseded_by.empty()) {
        e.text += "\nSuperseded by " + it.superseded_by;
    }
    if (auto line = poll_summary(db, it); !line.empty()) {
        e.text += "\n" + line;
    }
    e.buttons = item_buttons(it);
    // A blocker flagged from a mention keeps its Undo while it can still be withdrawn.
    if (it.kind == item_kind::blocker && (it.status == "open" || it.status == "acked")) {
        auto hist = db.history(it.team_id, it.id());
        if (std::any_of(hist.begin(), hist.end(),
                        [](const history_entry& h) { return h.action == "flagged"; })) {
            e.text += undo_hint;
            e.buttons.push_back(undo_button(it.id_str()));
        }
    }
    return e;
}

void refresh_cards(context& ctx) {
    std::vector<item> changed;
    for (auto& logged : ctx.touched) {
        auto name = card_name(logged);
        bool posted_now = std::any_of(ctx.out.begin(), ctx.out.end(), [&](const effect& e) {
            return e.name == name && e.to != destination::update;
        });
        if (posted_now) {
            // Its card goes out with this command: nothing to replace.
            changed.push_back(std::move(logged));
            continue;
        }
        // Read again: the card shows the item as stored, whatever the handler did after
        // logging it.
        auto it = ctx.db.find_item(ctx.cmd.team_id, logged.id());
        if (!it) {
            continue;
        }
        settle_poll(ctx, *it);
        ctx.out.push_back(card_update(ctx.db, *it, ctx.cmd.now));
        changed.push_back(std::move(*it));
    }
    ctx.touched = std::move(changed);
}

void snooze_item(context& ctx, item& it, std::span<const args::token> rest) {
    auto id = it.id_str();
    require_modify(it, ctx.cmd, "snooze " + id);
    if (it.closed_at != 0) {
        throw user_error(fmt::format("{} is {}; there is nothing to snooze.", id, it.status));
    }
    auto example = fmt::format("`/tpm {} {} snooze 2d`", kind_name(it.kind), id);
    auto text = lower(args::render(rest));
    if (text == "off") {
        if (it.snoozed_until <= ctx.cmd.now) {
            throw user_error(fmt::format("{} is not snoozed.", id));
        }
        it.snoozed_until = 0;
        ctx.db.update_item(it);
        ctx.log(it, "unsnoozed");
        ctx.thread(it, fmt::format(":alarm_clock: *{}* is no longer snoozed ({}).", id,
                                   who(ctx.cmd.user_id)));
        return;
    }
    unix_time until = 0;
    std::string_view value = text;
    if (value.starts_with("until:")) {
        value.remove_prefix(6);
    }
    if (value.empty()) {
        until = ctx.cmd.now + 86400;
    } else if (value.size() >= 2 && value.back() == 'd' &&
               std::all_of(value.begin(), value.end() - 1,
                           [](char c) { return c >= '0' && c <= '9'; })) {
        auto days = std::stol(std::string(value.substr(0, value.size() - 1)));
        if (days < 1 || days > max_snooze_days) {
            throw user_error(
                fmt::format("Snooze for 1 to {} days, e.g. {}.", max_snooze_days, example));
        }
        until = ctx.cmd.now + days * 86400;
    } else {
        auto day = require_future_date(value, ctx.cmd, example);
        until = schedule::at_local(day, 0, ctx.cmd.user_tz);
        if (until <= ctx.cmd.now) {
            throw user_error(fmt::format("Snooze until a day after today, e.g. {}.", example));
        }
        if (until - ctx.cmd.now > max_snooze_days * 86400) {
            throw user_error(
                fmt::format("Snooze for at most {} days, e.g. {}.", max_snooze_days, example));
        }
    }
    it.snoozed_until = until;
    ctx.db.update_item(it);
    auto when = utc_stamp(until);
    ctx.log(it, "snoozed", "until " + when);
    ctx.thread(it, fmt::format(":zzz: *{}* snoozed by {} until {}: no escalation before then.", id,
                               who(ctx.cmd.user_id), when));
}

void show_item(context& ctx, const item& it) {
    std::string out = card_text(it);
    out += "\nStatus: " + status_badge(it);
    if (!it.outcome.empty()) {
        out += "\nOutcome: " + it.outcome;
    }
    if (!it.rationale.empty()) {
        out += "\nBecause: " + it.rationale;
    }
    if (!it.note.empty()) {
        out += "\nNote: " + it.note;
    }
    if (!it.supersedes.empty()) {
        out += "\nSupersedes " + it.supersedes;
    }
    if (!it.superseded_by.empty()) {
        out += "\nSuperseded by " + it.superseded_by;
    }
    auto hist = ctx.db.history(it.team_id, it.id());
    out += "\n*History*";
    std::size_t first = hist.size() > 20 ? hist.size() - 20 : 0;
    if (first > 0) {
        out += fmt::format("\n… {} earlier changes", first);
    }
    for (std::size_t i = first; i < hist.size(); ++i) {
        const auto& h = hist[i];
        out += fmt::format("\n• {} {} {}", utc_stamp(h.at), who(h.actor), h.action);
        if (!h.detail.empty()) {
            out += ": " + h.detail;
        }
    }
    ctx.reply(out);
}

void add_update(context& ctx, item& it, std::span<const args::token> rest) {
    auto text = args::render(rest);
    if (text.empty()) {
        throw user_error(fmt::format("What is the update? Write it after `update`, e.g. "
                                     "`/tpm {} {} update vendor promised a fix by Friday`",
                                     kind_name(it.kind), it.id_str()));
    }
    check_length("update", text, max_note_chars);
    it.updated_at = ctx.cmd.now;
    ctx.db.update_item(it);
    ctx.log(it, "updated", text);
    ctx.thread(it, fmt::format(":memo: *Update* on *{}* from {}: {}", it.id_str(),
                               who(ctx.cmd.user_id), text));
}

void set_owner(context& ctx, item& it, const std::string& user) {
    if (user == it.dri) {
        throw user_error(fmt::format("{} is already the DRI of {}.", who(user), it.id_str()));
    }
    if (!it.dri.empty()) {
        require_modify(it, ctx.cmd, "reassign " + it.id_str());
    }
    auto old = it.dri;
    ctx.touch_home(old); // no longer theirs
    it.dri = user;
    it.updated_at = ctx.cmd.now;
    ctx.db.update_item(it);
    ctx.log(it, "owner", fmt::format("{} → {}", who(old), who(user)));
    ctx.thread(it,
               fmt::format(":bust_in_silhouette: The DRI of *{}* is now {} (was {}), set by {}.",
                           it.id_str(), who(user), who(old), who(ctx.cmd.user_id)));
    if (user != ctx.cmd.user_id) {
        ctx.dm(user,
               fmt::format("{} made you the DRI of *{}* {} in <#{}>. See it with `/tpm {} {}`.",
                           who(ctx.cmd.user_id), it.id_str(), it.title, it.channel_id,
                           kind_name(it.kind), it.id_str()));
    }
}

void apply_area(context& ctx, item& it, const std::optional<args::token>& area_token) {
    if (!area_token) {
        return;
    }
    auto name = area_token->text;
    if (name.empty()) {
        throw user_error("`area:` needs a name, e.g. `area:\"payments api\"`");
    }
    check_length("area name", name, 80);
    it.area = name;
    if (auto a = ctx.db.find_area(ctx.cmd.team_id, name)) {
        it.area = a->name;
        if (it.dri.empty()) {
            it.dri = a->owner;
        }
    }
}

void create_item(context& ctx, item& it, std::vector<button> extra_buttons,
                 std::string card_suffix) {
    const auto& cmd = ctx.cmd;
    it.team_id = cmd.team_id;
    it.num = ctx.db.next_number(cmd.team_id, it.kind);
    if (it.channel_id.empty()) { // a form names the message's channel
        it.channel_id = cmd.channel_id;
    }
    it.reporter = cmd.user_id;
    it.created_at = it.updated_at = cmd.now;
    if (it.permalink.empty()) { // a form links to the message it was opened on
        it.permalink = cmd.permalink;
    }
    if (cmd.from == source::mention) {
        it.thread_channel = cmd.channel_id;
        it.thread_ts = mention_thread(cmd);
    }
    ctx.db.insert_item(it);
    ctx.log(it, "created", it.title);
    auto buttons = item_buttons(it);
    for (auto& b : extra_buttons) {
        if (auto at = b.value.find("{id}"); at != std::string::npos) {
            b.value.replace(at, 4, it.id_str());
        }
        buttons.push_back(std::move(b));
    }
    ctx.card(it, card_text(it) + card_suffix, std::move(buttons));
    if (!it.dri.empty() && it.dri != cmd.user_id) {
        ctx.dm(it.dri,
               fmt::format("{} made you the DRI of *{}* {} in <#{}>. See it with `/tpm {} {}`.",
                           who(cmd.user_id), it.id_str(), it.title, it.channel_id,
                           kind_name(it.kind), it.id_str()));
    }
}

void change_status(context& ctx, item& it, std::string_view to,
                   std::initializer_list<std::string_view> from, std::string_view emoji,
                   std::span<const args::token> rest, bool closing) {
    require_modify(it, ctx.cmd, fmt::format("mark {} {}", it.id_str(), to));
    require_status(it, from, std::string(to));
    auto note = args::render(rest);
    check_length("note", note, max_note_chars);
    it.status = std::string(to);
    it.note = note;
    it.updated_at = ctx.cmd.now;
    if (closing) {
        it.closed_at = ctx.cmd.now;
    }
    ctx.db.update_item(it);
    ctx.log(it, std::string(to), note);
    auto by = who(ctx.cmd.user_id);
    ctx.thread(it, fmt::format("{} *{}* {} by {}{}", emoji, it.id_str(), to, by,
                               note.empty() ? "." : ": " + note));
    if (closing) {
        ctx.channel_line(it.channel_id, fmt::format("{} *{}* {} — {} by {}", emoji, it.id_str(),
                                                    it.title, to, by));
    }
}

void reopen_item(context& ctx, item& it, std::string_view to) {
    require_modify(it, ctx.cmd, "reopen " + it.id_str());
    if (it.closed_at == 0) {
        throw user_error(
            fmt::format("{} is still {}; there is nothing to reopen.", it.id_str(), it.status));
    }
    it.status = std::string(to);
    it.note.clear();
    it.closed_at = 0;
    it.updated_at = ctx.cmd.now;
    ctx.db.update_item(it);
    ctx.log(it, "reopened");
    ctx.thread(it, fmt::format(":leftwards_arrow_with_hook: *{}* reopened by {}.", it.id_str(),
                               who(ctx.cmd.user_id)));
}

void route_item_noun(context& ctx, std::vector<args::token>& rest, const item_noun& noun) {
    auto name = std::string(kind_name(noun.kind));
    auto word_for = noun.kind == item_kind::dep ? std::string("dependency") : name;
    if (rest.empty()) {
        throw user_error(noun.missing);
    }
    const auto& first = rest[0];
    auto word = first.kind == args::tok::word ? lower(first.text) : std::string();
    if (word == "list") {
        noun.list(ctx, std::span(rest).subspan(1));
        return;
    }
    auto id = first.kind == args::tok::word ? parse_item_id(first.text) : std::nullopt;
    if (!id) {
        if (rest.size() == 1 && !word.empty() && edit_distance(word, "list") == 1) {
            throw user_error(fmt::format("Did you mean `/tpm {} list`? To record a one-word {}, "
                                         "quote it: `/tpm {} \"{}\"`",
                                         name, word_for, name, mrkdwn::safe(first.raw)));
        }
        noun.create(ctx, rest);
        return;
    }
    if (id->kind != noun.kind) {
        throw user_error(fmt::format("{} is not a {}. Try `/tpm {} {}`.", id->str(), word_for,
                                     kind_name(id->kind), id->str()));
    }
    auto it = load_item(ctx, *id);
    if (rest.size() == 1) {
        show_item(ctx, it);
        return;
    }
    auto verb = lower(rest[1].text);
    std::vector<args::token> args(rest.begin() + 2, rest.end());
    if (verb == "update") {
        add_update(ctx, it, args);
        return;
    }
    if (verb == "owner") {
        set_owner(ctx, it, owner_arg(it, args, ctx.cmd));
        return;
    }
    for (const auto& v : noun.verbs) {
        if (std::find(v.names.begin(), v.names.end(), verb) != v.names.end()) {
            v.fn(ctx, it, args);
            return;
        }
    }
    throw user_error(fmt::format("`{}` is not something a {} can do. {}", mrkdwn::safe(rest[1].raw),
                                 word_for, ctx.routes->did_you_mean(verb, name)));
}

void reply_list(context& ctx, const std::string& title, const std::vector<item>& items,
                std::string_view export_what,
                const std::function<std::string(const item&)>& suffix) {
    if (items.empty()) {
        ctx.reply(fmt::format("{}: none.", title));
        return;
    }
    std::string out = fmt::format("*{}* ({})", title, items.size());
    for (std::size_t i = 0; i < items.size() && i < max_list_lines; ++i) {
        out += "\n" + list_line(items[i], ctx.cmd.now);
        if (suffix) {
            out += suffix(items[i]);
        }
    }
    if (items.size() > max_list_lines) {
        out += fmt::format("\n…and {} more: `/tpm export {} csv` has them all.",
                           items.size() - max_list_lines, export_what);
    }
    ctx.reply(out);
}

std::string value_text(const args::token& t) {
    // A quoted value renders without its quotes, and keeps references as references.
    return args::render(args::tokenize(t.value));
}

void require_status(const item& it, std::initializer_list<std::string_view> allowed,
                    std::string_view verb) {
    if (std::find(allowed.begin(), allowed.end(), it.status) != allowed.end()) {
        return;
    }
    std::string hint;
    if (it.closed_at != 0 && it.kind != item_kind::decision) {
        hint =
            fmt::format(" Reopen it first: `/tpm {} {} reopen`", kind_name(it.kind), it.id_str());
    }
    throw user_error(
        fmt::format("{} is {}, so it cannot be {}.{}", it.id_str(), it.status, verb, hint));
}

} // namespace tpmbot
