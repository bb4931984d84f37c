#include "dates.hpp"
#include "mrkdwn.hpp"
#include "router.hpp"

#include <array>
#include <fmt/format.h>

namespace tpmbot {

namespace {

constexpr std::string_view create_example =
    "/tpm blocker waiting on infra for the staging cert @dana sev:high";
constexpr std::array<std::string_view, 5> blocker_keys = {"sev", "dri", "area", "waiting",
                                                          "severity"};

std::string parse_severity(const args::token& t) {
    auto v = lower(t.text);
    if (v == "high" || v == "h" || v == "hi") {
        return "high";
    }
    if (v == "med" || v == "medium" || v == "m") {
        return "med";
    }
    if (v == "low" || v == "l" || v == "lo") {
        return "low";
    }
    throw user_error(fmt::format("`sev:{}` is not a severity. Use sev:high, sev:med or sev:low, "
                                 "e.g. `{}`",
                                 mrkdwn::safe(t.value), create_example));
}

void list_blockers(context& ctx, std::span<const args::token> rest) {
    const auto& cmd = ctx.cmd;
    item_query q;
    q.team_id = cmd.team_id;
    q.kind = item_kind::blocker;
    q.statuses = {"open", "acked"};
    std::string title;
    bool stale = false;
    if (rest.size() > 1) {
        throw user_error("`blocker list` takes one filter: mine, @user, #channel, unowned, stale "
                         "or all, e.g. `/tpm blocker list mine`");
    }
    if (rest.empty()) {
        q.channel_id = cmd.channel_id;
        title = fmt::format("Open blockers in <#{}>", cmd.channel_id);
    } else {
        const auto& f = rest[0];
        auto w = lower(f.text);
        if (f.kind == args::tok::user) {
            q.dri = f.text;
            title = fmt::format("Open blockers owned by {}", who(f.text));
        } else if (f.kind == args::tok::channel) {
            q.channel_id = f.text;
            title = fmt::format("Open blockers in <#{}>", f.text);
        } else if (f.kind == args::tok::word && w == "mine") {
            q.dri = cmd.user_id;
            q.mine_user_either = true;
            title = "Open blockers you own or reported";
        } else if (f.kind == args::tok::word && w == "unowned") {
            q.unowned_only = true;
            title = "Open blockers with no DRI";
        } else if (f.kind == args::tok::word && w == "stale") {
            stale = true;
            title = "Stale blockers (no update for 1d high, 2d med, 5d low)";
        } else if (f.kind == args::tok::word && w == "all") {
            title = "Open blockers in this workspace";
        } else {
            throw user_error(fmt::format("`{}` is not a blocker list filter. Use mine, @user, "
                                         "#channel, unowned, stale or all, e.g. `/tpm blocker "
                                         "list unowned`",
                                         mrkdwn::safe(f.raw)));
        }
    }
    auto items = ctx.db.list_items(q);
    if (stale) {
        std::erase_if(items,
                      [&](const item& it) { return cmd.now - it.updated_at <= stale_after(it); });
    }
    reply_list(ctx, title, items, "blockers");
}

void ack(context& ctx, item& it) {
    require_modify(it, ctx.cmd, "ack " + it.id_str());
    if (it.status == "acked") {
        throw user_error(fmt::format("{} is already acked.", it.id_str()));
    }
    require_status(it, {"open"}, "acked");
    it.status = "acked";
    it.updated_at = ctx.cmd.now;
    ctx.db.update_item(it);
    ctx.log(it, "acked");
    ctx.thread(it, fmt::format(":eyes: *{}* acked by {}.", it.id_str(), who(ctx.cmd.user_id)));
}

void escalate(context& ctx, item& it, std::span<const args::token> rest) {
    require_status(it, {"open", "acked"}, "escalated");
    auto why = args::render(rest);
    check_length("escalation reason", why, max_note_chars);
    it.escalated_at = ctx.cmd.now;
    ctx.db.update_item(it);
    ctx.log(it, "escalation requested", why);
    auto by = who(ctx.cmd.user_id);
    ctx.thread(it, fmt::format(":rotating_light: Escalation of *{}* requested by {}{}", it.id_str(),
                               by, why.empty() ? "." : ": " + why));
    if (!it.dri.empty() && it.dri != ctx.cmd.user_id) {
        ctx.dm(it.dri, fmt::format(":rotating_light: {} escalated *{}* {} in <#{}>.", by,
                                   it.id_str(), it.title, it.channel_id));
    }
    ctx.reply(fmt::format("Recorded your escalation of *{}*{}.", it.id_str(),
                          it.dri.empty() ? "; it has no DRI yet, so nobody was told directly"
                                         : " and told its DRI " + who(it.dri)));
}

void undo(context& ctx, item& it) {
    if (!(ctx.cmd.is_admin || ctx.cmd.user_id == it.reporter)) {
        throw user_error(fmt::format("Only the reporter ({}) or an admin can undo {}.",
                                     who(it.reporter), it.id_str()));
    }
    require_status(it, {"open", "acked"}, "withdrawn");
    it.status = "withdrawn";
    it.closed_at = it.updated_at = ctx.cmd.now;
    ctx.db.update_item(it);
    ctx.log(it, "withdrawn", "not a blocker");
    ctx.thread(it, fmt::format(":leftwards_arrow_with_hook: *{}* withdrawn by {}: not a blocker.",
                               it.id_str(), who(ctx.cmd.user_id)));
}

void blocker_noun(context& ctx, std::vector<args::token>& rest) {
    using args_t = std::vector<args::token>;
    static const item_noun noun{
        item_kind::blocker,
        fmt::format("What is blocked? Say it after `blocker`, e.g. `{}`", create_example),
        [](context& c, args_t& r) { create_blocker(c, r, false); },
        list_blockers,
        {
            {{"ack"},
             [](context& c, item& it, args_t&) {
                 ack(c, it);
             }},
            {{"resolve"},
             [](context& c, item& it, args_t& a) {
                 change_status(c, it, "resolved", {"open", "acked"}, ":white_check_mark:", a, true);
             }},
            {{"reopen"},
             [](context& c, item& it, args_t&) {
                 reopen_item(c, it, "open");
             }},
            {{"escalate"},
             [](context& c, item& it, args_t& a) {
                 escalate(c, it, a);
             }},
            {{"undo"},
             [](context& c, item& it, args_t&) {
                 undo(c, it);
             }},
            {{"snooze"},
             [](context& c, item& it, args_t& a) {
                 snooze_item(c, it, a);
             }},
        },
    };
    route_item_noun(ctx, rest, noun);
}

} // namespace

void create_blocker(context& ctx, std::vector<args::token>& rest, bool flagged) {
    check_keys(rest, blocker_keys, create_example);
    auto sev = take_key(rest, "sev");
    if (!sev) {
        sev = take_key(rest, "severity");
    }
    auto dri = take_key(rest, "dri");
    auto area_tok = take_key(rest, "area");
    auto waiting = take_key(rest, "waiting");

    item it;
    it.kind = item_kind::blocker;
    it.status = "open";
    it.severity = sev ? parse_severity(*sev) : "med";
    if (dri) {
        it.dri = require_user(dri->value, ctx.cmd, "dri:", create_example);
    } else {
        // A mention that ends the text (before any key:value) is the DRI (SPEC §3).
        for (auto i = rest.rbegin(); i != rest.rend(); ++i) {
            if (i->kind == args::tok::key_value) {
                continue;
            }
            if (i->kind == args::tok::user) {
                it.dri = i->text;
            }
            break;
        }
    }
    if (waiting) {
        it.waiting_on = value_text(*waiting);
        check_length("waiting-on text", it.waiting_on, max_option_chars);
    }
    it.title = args::render(rest);
    if (it.title.empty()) {
        throw user_error(fmt::format("What is blocked? I understood {} but no description, e.g. "
                                     "`{}`",
                                     sev ? "the severity" : "the options", create_example));
    }
    check_length("blocker text", it.title, max_title_chars);
    apply_area(ctx, it, area_tok);

    std::vector<button> extra;
    std::string suffix;
    if (flagged) {
        extra.push_back(undo_button("{id}"));
        suffix = undo_hint;
    }
    create_item(ctx, it, std::move(extra), suffix);
    if (flagged) {
        // Remembered, so the card keeps its Undo when it is replaced (card_update).
        ctx.log(it, "flagged", "from a mention without a command word");
    }
}

void flag_blocker(context& ctx, std::vector<args::token>& text) {
    create_blocker(ctx, text, true);
}

void register_blocker(router& r) {
    noun_def d;
    d.name = "blocker";
    d.title = "Blockers: what stops work, who can unblock it, for how long";
    d.fn = blocker_noun;
    d.help = {
        {"/tpm blocker <what> [@dri | dri:@user] [sev:high|med|low] [area:<name>] "
         "[waiting:@who]",
         "Record a blocker; a mention at the end of the text is its DRI.",
         std::string(create_example), true, ""},
        {"/tpm blocker list [mine|@user|#channel|unowned|stale|all]",
         "Open blockers here, or filtered.", "/tpm blocker list mine", true, "list"},
        {"/tpm blocker <id>", "Show a blocker with its history.", "/tpm blocker B-12", false, ""},
        {"/tpm blocker <id> ack", "The DRI acknowledges it.", "/tpm blocker B-12 ack", false,
         "ack"},
        {"/tpm blocker <id> update <text>", "Add progress; resets its aging clock.",
         "/tpm blocker B-12 update vendor promised a fix by Friday", false, "update"},
        {"/tpm blocker <id> resolve [note]", "Close it (DRI, reporter or admin).",
         "/tpm blocker B-12 resolve cert issued by infra", true, "resolve"},
        {"/tpm blocker <id> reopen", "Open it again.", "/tpm blocker B-12 reopen", false, "reopen"},
        {"/tpm blocker <id> escalate [why]", "Record an escalation and tell the DRI.",
         "/tpm blocker B-12 escalate launch is Monday", false, "escalate"},
        {"/tpm blocker <id> undo", "Withdraw a blocker that was not one (reporter or admin).",
         "/tpm blocker B-12 undo", false, "undo"},
        {"/tpm blocker <id> snooze [<N>d|until:<date>|off]",
         "No escalation for a while (a day when no time is given; at most 30 days).",
         "/tpm blocker B-12 snooze 2d", false, "snooze"},
    };
    r.add(std::move(d));
}

} // namespace tpmbot
