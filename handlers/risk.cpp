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
    if (items.empty()) {
        ctx.reply(fmt::format("{}: none.", title));
        return;
    }
    std::string out = fmt::format("*{}* ({})", title, items.size());
    for (std::size_t i = 0; i < items.size() && i < max_list_lines; ++i) {
        out += "\n" + list_line(items[i], ctx.cmd.now);
    }
    if (items.size() > max_list_lines) {
        out += fmt::format("\n…and {} more: `/tpm export all csv` has them all.",
                           items.size() - max_list_lines);
    }
    ctx.reply(out);
}

void risk_noun(context& ctx, std::vector<args::token>& rest) {
    if (rest.empty()) {
        throw user_error(fmt::format("What is the risk? e.g. `{}`", create_example));
    }
    const auto& first = rest[0];
    auto word = first.kind == args::tok::word ? lower(first.text) : std::string();
    if (word == "list") {
        list_risks(ctx, std::span(rest).subspan(1));
        return;
    }
    auto id = first.kind == args::tok::word ? parse_item_id(first.text) : std::nullopt;
    if (!id) {
        create(ctx, rest);
        return;
    }
    if (id->kind != item_kind::risk) {
        throw user_error(fmt::format("{} is not a risk. Try `/tpm {} {}`.", id->str(),
                                     kind_name(id->kind), id->str()));
    }
    auto it = load_item(ctx, *id);
    if (rest.size() == 1) {
        show_item(ctx, it);
        return;
    }
    auto verb = lower(rest[1].text);
    auto args = std::span(rest).subspan(2);
    if (verb == "mitigate" || verb == "mitigated") {
        change_status(ctx, it, "mitigated", {"open"}, ":shield:", args, true);
    } else if (verb == "occurred") {
        change_status(ctx, it, "occurred", {"open"}, ":boom:", args, true);
    } else if (verb == "close") {
        change_status(ctx, it, "closed", {"open"}, ":white_check_mark:", args, true);
    } else if (verb == "reopen") {
        reopen_item(ctx, it, "open");
    } else if (verb == "update") {
        add_update(ctx, it, args);
    } else if (verb == "owner") {
        set_owner(ctx, it, owner_arg(it, args, ctx.cmd));
    } else {
        throw user_error(fmt::format("`{}` is not something a risk can do. {}",
                                     mrkdwn::safe(rest[1].raw),
                                     ctx.routes->did_you_mean(verb, "risk")));
    }
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
