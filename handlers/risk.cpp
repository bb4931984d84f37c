#include "mrkdwn.hpp"
#include "router.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>

namespace tpmbot {

namespace {

constexpr std::string_view create_example =
    "/tpm risk \"vendor may slip the API\" p:h i:m dri:@lee mitigation:\"mock the API\"";
constexpr std::array<std::string_view, 5> risk_keys = {"p", "i", "dri", "mitigation", "area"};

std::string level(const std::optional<args::token>& t, std::string_view what) {
    if (!t) {
        return "m";
    }
    auto v = lower(t->text);
    if (v == "h" || v == "high") {
        return "h";
    }
    if (v == "m" || v == "med" || v == "medium") {
        return "m";
    }
    if (v == "l" || v == "low") {
        return "l";
    }
    throw user_error(fmt::format("`{}:{}` is not a level of {}. Use {}:h, {}:m or {}:l, e.g. `{}`",
                                 t->key, mrkdwn::safe(t->value), what, t->key, t->key, t->key,
                                 create_example));
}

int weight(const std::string& level) {
    return level == "h" ? 3 : level == "m" ? 2 : 1;
}

void create(context& ctx, std::vector<args::token>& rest) {
    check_keys(rest, risk_keys, create_example);
    item it;
    it.kind = item_kind::risk;
    it.status = "open";
    it.probability = level(take_key(rest, "p"), "probability");
    it.impact = level(take_key(rest, "i"), "impact");
    if (auto dri = take_key(rest, "dri")) {
        it.dri = require_user(dri->value, ctx.cmd, "dri:", create_example);
    }
    if (auto m = take_key(rest, "mitigation")) {
        it.mitigation = value_text(*m);
        check_length("mitigation", it.mitigation, max_note_chars);
    }
    auto area_tok = take_key(rest, "area");
    it.title = args::render(rest);
    if (it.title.empty()) {
        throw user_error(fmt::format("What is the risk? e.g. `{}`", create_example));
    }
    check_length("risk text", it.title, max_title_chars);
    apply_area(ctx, it, area_tok);
    create_item(ctx, it);
}

void list_risks(context& ctx, std::span<const args::token> rest) {
    auto filter = rest.empty() ? std::string("open") : lower(rest[0].text);
    item_query q;
    q.team_id = ctx.cmd.team_id;
    q.kind = item_kind::risk;
    std::string title;
    if (filter == "open") {
        q.statuses = {"open"};
        title = "Open risks, highest probability × impact first";
    } else if (filter == "mine") {
        q.statuses = {"open"};
        q.dri = ctx.cmd.user_id;
        title = "Open risks you own";
    } else if (filter == "all") {
        title = "All risks";
    } else {
        throw user_error(fmt::format("`{}` is not a risk list filter. Use open, mine or all, e.g. "
                                     "`/tpm risk list mine`",
                                     mrkdwn::safe(rest[0].raw)));
    }
    auto items = ctx.db.list_items(q);
    std::stable_sort(items.begin(), items.end(), [](const item& a, const item& b) {
        return weight(a.probability) * weight(a.impact) > weight(b.probability) * weight(b.impact);
    });
    reply_list(ctx, title, items, "risks");
}

void risk_noun(context& ctx, std::vector<args::token>& rest) {
    using args_t = std::vector<args::token>;
    static const item_noun noun{
        item_kind::risk,
        fmt::format("What is the risk? e.g. `{}`", create_example),
        create,
        list_risks,
        {
            {{"mitigate", "mitigated"},
             [](context& c, item& it, args_t& a) {
                 change_status(c, it, "mitigated", {"open"}, ":shield:", a, true);
             }},
            {{"occurred"},
             [](context& c, item& it, args_t& a) {
                 change_status(c, it, "occurred", {"open"}, ":boom:", a, true);
             }},
            {{"close"},
             [](context& c, item& it, args_t& a) {
                 change_status(c, it, "closed", {"open"}, ":white_check_mark:", a, true);
             }},
            {{"reopen"},
             [](context& c, item& it, args_t&) {
                 reopen_item(c, it, "open");
             }},
        },
    };
    route_item_noun(ctx, rest, noun);
}

} // namespace

void register_risk(router& r) {
    noun_def d;
    d.name = "risk";
    d.title = "Risks: what might go wrong, how likely, how bad, and the plan";
    d.fn = risk_noun;
    d.help = {
        {"/tpm risk \"<text>\" [p:h|m|l] [i:h|m|l] [dri:@user] [mitigation:\"...\"] "
         "[area:<name>]",
         "Record a risk (probability and impact default to m).", std::string(create_example), false,
         ""},
        {"/tpm risk <id> mitigate|occurred|close [note]", "Close a risk with what happened.",
         "/tpm risk R-3 mitigate mock API is live", false, "mitigate|mitigated|occurred|close"},
        {"/tpm risk <id> reopen", "Open it again.", "/tpm risk R-3 reopen", false, "reopen"},
        {"/tpm risk <id> update <text>", "Add progress to its thread.",
         "/tpm risk R-3 update vendor confirmed the date", false, "update"},
        {"/tpm risk list [open|mine|all]", "Risks, highest probability × impact first.",
         "/tpm risk list", false, "list"},
    };
    r.add(std::move(d));
}

} // namespace tpmbot
