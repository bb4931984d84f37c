#include "dates.hpp"
#include "mrkdwn.hpp"
#include "poll.hpp"
#include "router.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>

namespace tpmbot {

namespace {

constexpr std::string_view create_example =
    "/tpm decision \"Ship behind a flag or wait?\" by:fri dri:@lee consult:@ana,@raj "
    "options:\"flag\"|\"wait\"";
constexpr std::array<std::string_view, 6> decision_keys = {"by",      "dri",  "consult",
                                                           "options", "area", "because"};

void create(context& ctx, std::vector<args::token>& rest) {
    check_keys(rest, decision_keys, create_example);
    item it;
    it.kind = item_kind::decision;
    it.status = "proposed";
    if (auto by = take_date(rest, "by")) {
        it.due = require_future_date(*by, ctx.cmd, create_example);
    }
    if (auto dri = take_key(rest, "dri")) {
        it.dri = require_user(dri->value, ctx.cmd, "dri:", create_example);
    }
    if (auto consult = take_key(rest, "consult")) {
        for (const auto& v : args::split_values(consult->value)) {
            it.consulted.push_back(who(require_user(v, ctx.cmd, "consult:", create_example)));
        }
    }
    if (auto options = take_key(rest, "options")) {
        auto values = args::split_values(options->value);
        if (values.size() > max_options) {
            throw user_error(fmt::format("{} options is too many; the limit is {}.", values.size(),
                                         max_options));
        }
        for (const auto& v : values) {
            auto o = mrkdwn::safe(v);
            check_length("option", o, max_option_chars);
            if (!o.empty()) {
                it.options.push_back(o);
            }
        }
    }
    auto area_tok = take_key(rest, "area");
    it.title = args::render(rest);
    if (it.title.empty()) {
        throw user_error(
            fmt::format("What needs deciding? Put the question first, e.g. `{}`", create_example));
    }
    check_length("question", it.title, max_title_chars);
    apply_area(ctx, it, area_tok);
    create_item(ctx, it);
}

void decide(context& ctx, item& it, std::vector<args::token> rest) {
    constexpr std::string_view example =
        "/tpm decision D-7 decide \"ship behind a flag\" because:\"the vendor API is late\"";
    require_modify(it, ctx.cmd, "decide " + it.id_str());
    require_status(it, {"proposed"}, "decided");
    if (auto because = take_key(rest, "because")) {
        it.rationale = value_text(*because);
        check_length("rationale", it.rationale, max_note_chars);
    }
    it.outcome = args::render(rest);
    if (it.outcome.empty()) {
        throw user_error(fmt::format("What was decided? Write the outcome after `decide`, e.g. "
                                     "`{}`",
                                     example));
    }
    check_length("outcome", it.outcome, max_note_chars);
    it.status = "decided";
    it.closed_at = it.updated_at = ctx.cmd.now;
    ctx.db.update_item(it);
    ctx.log(it, "decided", it.outcome);
    auto by = who(ctx.cmd.user_id);
    ctx.thread(it,
               fmt::format(":white_check_mark: *{}* decided by {}: {}{}", it.id_str(), by,
                           it.outcome, it.rationale.empty() ? "" : "\nBecause: " + it.rationale));
    ctx.channel_line(it.channel_id, fmt::format(":white_check_mark: *{}* {} — decided: {}",
                                                it.id_str(), it.title, it.outcome));
}

void extend(context& ctx, item& it, std::span<const args::token> rest) {
    auto example = fmt::format("/tpm decision {} extend next fri", it.id_str());
    require_modify(it, ctx.cmd, "extend " + it.id_str());
    require_status(it, {"proposed"}, "extended");
    std::string text;
    for (const auto& t : rest) {
        text += (text.empty() ? "" : " ") + t.text;
    }
    if (text.empty()) {
        throw user_error(fmt::format("Extend to when? e.g. `{}`", example));
    }
    auto d = require_future_date(text, ctx.cmd, example);
    auto old = it.due;
    it.due = d;
    it.updated_at = ctx.cmd.now;
    ctx.db.update_item(it);
    ctx.log(it, "extended", fmt::format("{} → {}", old.empty() ? "no date" : old, d));
    ctx.thread(it, fmt::format(":calendar: *{}* now due {} (was {}), set by {}.", it.id_str(),
                               dates::pretty(d), old.empty() ? "no date" : dates::pretty(old),
                               who(ctx.cmd.user_id)));
    poll_extended(ctx, it);
}

void supersede(context& ctx, item& it, std::span<const args::token> rest) {
    auto example = fmt::format("/tpm decision {} supersede D-3", it.id_str());
    require_modify(it, ctx.cmd, "supersede with " + it.id_str());
    auto old_id = rest.size() == 1 ? parse_item_id(rest[0].text) : std::nullopt;
    if (!old_id || old_id->kind != item_kind::decision) {
        throw user_error(fmt::format("Which decision does {} replace? Name one decision id, e.g. "
                                     "`{}`",
                                     it.id_str(), example));
    }
    if (old_id->num == it.num) {
        throw user_error(fmt::format("{} cannot supersede itself.", it.id_str()));
    }
    require_status(it, {"proposed", "decided"}, "used to supersede another decision");
    if (!it.supersedes.empty()) {
        throw user_error(fmt::format("{} already supersedes {}; one decision replaces one other. "
                                     "Propose a new decision to replace {}.",
                                     it.id_str(), it.supersedes, old_id->str()));
    }
    auto old = load_item(ctx, *old_id);
    if (old.status != "decided") {
        throw user_error(fmt::format("{} is {}; only a decided decision can be superseded.",
                                     old.id_str(), old.status));
    }
    require_modify(old, ctx.cmd, "mark " + old.id_str() + " superseded");
    old.status = "superseded";
    old.superseded_by = it.id_str();
    old.updated_at = ctx.cmd.now;
    ctx.db.update_item(old);
    ctx.log(old, "superseded", "by " + it.id_str());
    it.supersedes = old.id_str();
    it.updated_at = ctx.cmd.now;
    ctx.db.update_item(it);
    ctx.log(it, "supersedes", old.id_str());
    ctx.thread(old, fmt::format(":arrows_counterclockwise: *{}* is superseded by *{}* {}.",
                                old.id_str(), it.id_str(), it.title));
    ctx.thread(it, fmt::format(":arrows_counterclockwise: *{}* supersedes *{}* {}.", it.id_str(),
                               old.id_str(), old.title));
}

void list_decisions(context& ctx, std::span<const args::token> rest) {
    const auto& cmd = ctx.cmd;
    if (rest.size() > 1) {
        throw user_error("`decision list` takes one filter: pending, overdue, decided, mine or "
                         "all, e.g. `/tpm decision list overdue`");
    }
    auto filter = rest.empty() ? std::string("pending") : lower(rest[0].text);
    item_query q;
    q.team_id = cmd.team_id;
    q.kind = item_kind::decision;
    std::string title;
    auto today = dates::today(cmd.now, cmd.user_tz);
    if (filter == "pending") {
        q.statuses = {"proposed"};
        title = "Pending decisions";
    } else if (filter == "overdue") {
        q.statuses = {"proposed"};
        title = fmt::format("Overdue decisions (decide-by before {})", today);
    } else if (filter == "decided") {
        q.statuses = {"decided"};
        title = "Decided";
    } else if (filter == "mine") {
        q.statuses = {"proposed"};
        q.dri = cmd.user_id;
        title = "Decisions you owe";
    } else if (filter == "all") {
        title = "All decisions";
    } else {
        throw user_error(fmt::format("`{}` is not a decision list filter. Use pending, overdue, "
                                     "decided, mine or all, e.g. `/tpm decision list overdue`",
                                     mrkdwn::safe(rest[0].raw)));
    }
    auto items = ctx.db.list_items(q);
    if (filter == "overdue") {
        std::erase_if(items, [&](const item& it) { return it.due.empty() || it.due >= today; });
    }
    if (filter == "pending" || filter == "overdue" || filter == "mine") {
        // Soonest decide-by first (overdue ones come first), undated last.
        std::stable_sort(items.begin(), items.end(), [](const item& a, const item& b) {
            if (a.due.empty() != b.due.empty()) {
                return b.due.empty();
            }
            return a.due < b.due;
        });
    }
    reply_list(ctx, title, items, "decisions", [&](const item& it) {
        std::string extra;
        if (it.status == "proposed" && !it.due.empty() && it.due < today) {
            extra = fmt::format(" · *overdue {}d*", dates::days_between(it.due, today));
        }
        if (it.status == "decided") {
            extra = " · " + it.outcome;
        }
        return extra;
    });
}

void decision_noun(context& ctx, std::vector<args::token>& rest) {
    using args_t = std::vector<args::token>;
    static const item_noun noun{
        item_kind::decision,
        fmt::format("What needs deciding? e.g. `{}`", create_example),
        create,
        list_decisions,
        {
            {{"decide"},
             [](context& c, item& it, args_t& a) {
                 decide(c, it, a);
             }},
            {{"reject"},
             [](context& c, item& it, args_t& a) {
                 change_status(c, it, "rejected", {"proposed"}, ":x:", a, true);
             }},
            {{"extend"},
             [](context& c, item& it, args_t& a) {
                 extend(c, it, a);
             }},
            {{"supersede"},
             [](context& c, item& it, args_t& a) {
                 supersede(c, it, a);
             }},
            {{"snooze"},
             [](context& c, item& it, args_t& a) {
                 snooze_item(c, it, a);
             }},
            {{"poll"},
             [](context& c, item& it, args_t&) {
                 open_poll(c, it);
             }},
            {{"vote"},
             [](context& c, item& it, args_t& a) {
                 cast_vote(c, it, a);
             }},
        },
    };
    route_item_noun(ctx, rest, noun);
}

} // namespace

void register_decision(router& r) {
    noun_def d;
    d.name = "decision";
    d.title = "Decisions: what needs deciding, by when, by whom, and what was decided";
    d.fn = decision_noun;
    d.help = {
        {"/tpm decision \"<question>\" [by:<date>] [dri:@user] [consult:@a,@b] "
         "[options:\"A\"|\"B\"] [area:<name>]",
         "Propose a decision.", std::string(create_example), true, ""},
        {"/tpm decision <id> decide \"<outcome>\" [because:\"<rationale>\"]",
         "Record the outcome (DRI, proposer or admin).",
         "/tpm decision D-7 decide \"ship behind a flag\" because:\"vendor API is late\"", true,
         "decide"},
        {"/tpm decision <id> reject [reason]", "Drop the question.",
         "/tpm decision D-7 reject overtaken by the re-plan", false, "reject"},
        {"/tpm decision <id> extend <date>", "Move the decide-by date.",
         "/tpm decision D-7 extend next fri", false, "extend"},
        {"/tpm decision <id> supersede <old id>", "This decision replaces a decided one.",
         "/tpm decision D-9 supersede D-3", false, "supersede"},
        {"/tpm decision <id> poll",
         "Put its options to a vote in its thread; it closes at the end of the decide-by day "
         "and the DRI is told the result.",
         "/tpm decision D-7 poll", false, "poll"},
        {"/tpm decision <id> vote <n>",
         "Vote for an option (or press its button); one vote "
         "each, changeable until the poll closes.",
         "/tpm decision D-7 vote 2", false, "vote"},
        {"/tpm decision <id> snooze [<N>d|until:<date>|off]",
         "No escalation of an overdue decision for a while (a day when no time is given).",
         "/tpm decision D-7 snooze until:mon", false, "snooze"},
        {"/tpm decision <id> update <text>", "Add context to the decision's thread.",
         "/tpm decision D-7 update legal is fine with either option", false, "update"},
        {"/tpm decision list [pending|overdue|decided|mine|all]",
         "Decisions in this workspace; pending by default, soonest first.",
         "/tpm decision list overdue", true, "list"},
        {"/tpm decision <id>", "Show a decision with its history.", "/tpm decision D-7", false, ""},
    };
    r.add(std::move(d));
}

} // namespace tpmbot
