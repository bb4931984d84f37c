#include "mrkdwn.hpp"
#include "router.hpp"

#include <fmt/format.h>
#include <map>

namespace tpmbot {

namespace {

/// The area name: one quoted token or the words before the owner.
std::string area_name(std::span<const args::token> ts) {
    std::string name;
    for (const auto& t : ts) {
        name += (name.empty() ? "" : " ") + t.text;
    }
    return name;
}

void set_area_owner(context& ctx, std::span<const args::token> rest) {
    constexpr std::string_view example = "/tpm owner area \"payments api\" @alice";
    if (rest.empty() || user_of(rest.back(), ctx.cmd).empty()) {
        throw user_error(fmt::format("`owner area` needs the area's name and then its owner, "
                                     "e.g. `{}`",
                                     example));
    }
    auto owner = user_of(rest.back(), ctx.cmd);
    auto name = area_name(rest.first(rest.size() - 1));
    if (name.empty()) {
        throw user_error(fmt::format("Which area? I understood the owner {} but no area name, "
                                     "e.g. `{}`",
                                     who(owner), example));
    }
    check_length("area name", name, 80);
    auto existing = ctx.db.find_area(ctx.cmd.team_id, name);
    if (existing && existing->owner == owner) {
        throw user_error(
            fmt::format("{} already owns *{}*.", who(owner), mrkdwn::escape(existing->name)));
    }
    if (existing && !(ctx.cmd.is_admin || ctx.cmd.user_id == existing->owner)) {
        throw user_error(fmt::format("*{}* is owned by {}; only they or an admin can hand it "
                                     "over.",
                                     mrkdwn::escape(existing->name), who(existing->owner)));
    }
    area a;
    a.team_id = ctx.cmd.team_id;
    a.name = existing ? existing->name : name;
    a.owner = owner;
    a.updated_at = ctx.cmd.now;
    ctx.db.set_area(a);
    auto shown = mrkdwn::escape(a.name);
    ctx.reply(fmt::format(":bust_in_silhouette: {} owns *{}*{}. New items with `area:\"{}\"` and "
                          "no DRI go to them.",
                          who(owner), shown,
                          existing ? fmt::format(" (was {})", who(existing->owner)) : "", shown));
    if (owner != ctx.cmd.user_id) {
        ctx.dm(owner, fmt::format("{} made you the owner of the area *{}*. New items in it with no "
                                  "DRI will be yours.",
                                  who(ctx.cmd.user_id), shown));
    }
}

void who_owns(context& ctx, std::span<const args::token> rest) {
    auto name = area_name(rest);
    if (name.empty()) {
        throw user_error("Which area? e.g. `/tpm owner who \"payments api\"`");
    }
    if (auto a = ctx.db.find_area(ctx.cmd.team_id, name)) {
        ctx.reply(fmt::format("*{}* is owned by {}.", mrkdwn::escape(a->name), who(a->owner)));
        return;
    }
    std::string known;
    for (const auto& a : ctx.db.list_areas(ctx.cmd.team_id)) {
        known += (known.empty() ? "" : ", ") + mrkdwn::escape(a.name);
    }
    throw user_error(fmt::format("No area is called *{}*. {}", mrkdwn::escape(name),
                                 known.empty() ? "No areas are recorded yet: add one with "
                                                 "`/tpm owner area \"payments api\" @alice`."
                                               : "Known areas: " + known + "."));
}

void list_owners(context& ctx) {
    std::string out = "*Areas and their owners*";
    auto areas = ctx.db.list_areas(ctx.cmd.team_id);
    if (areas.empty()) {
        out += "\nNo areas yet: `/tpm owner area \"payments api\" @alice`.";
    }
    for (const auto& a : areas) {
        out += fmt::format("\n• *{}* — {}", mrkdwn::escape(a.name), who(a.owner));
    }
    item_query q;
    q.team_id = ctx.cmd.team_id;
    q.statuses = open_statuses;
    std::map<std::string, int> per_dri;
    int unowned = 0;
    for (const auto& it : ctx.db.list_items(q)) {
        if (it.dri.empty()) {
            ++unowned;
        } else {
            ++per_dri[it.dri];
        }
    }
    out += "\n*Open items by DRI*";
    if (per_dri.empty()) {
        out += "\nNobody owns an open item.";
    }
    for (const auto& [dri, n] : per_dri) {
        out += fmt::format("\n• {} — {}", who(dri), n);
    }
    if (unowned > 0) {
        out += fmt::format("\n• nobody — {} (`/tpm owner unowned`)", unowned);
    }
    ctx.reply(out);
}

void list_unowned(context& ctx) {
    item_query q;
    q.team_id = ctx.cmd.team_id;
    q.statuses = open_statuses;
    q.unowned_only = true;
    auto items = ctx.db.list_items(q);
    if (items.empty()) {
        ctx.reply("Every open item has a DRI. :tada:");
        return;
    }
    reply_list(ctx, "Open items with no DRI", items, "all");
    ctx.out.back().text += "\nTake one with `/tpm owner <id> me`.";
}

void owner_noun(context& ctx, std::vector<args::token>& rest) {
    constexpr std::string_view example = "/tpm owner B-12 @dana";
    if (rest.empty()) {
        throw user_error(fmt::format("`owner` needs an item and a person, e.g. `{}`, or one of "
                                     "`owner area`, `owner who`, `owner list`, `owner unowned`.",
                                     example));
    }
    auto word = rest[0].kind == args::tok::word ? lower(rest[0].text) : std::string();
    auto args = std::span(rest).subspan(1);
    if (word == "area") {
        set_area_owner(ctx, args);
        return;
    }
    if (word == "who") {
        who_owns(ctx, args);
        return;
    }
    if (word == "list") {
        list_owners(ctx);
        return;
    }
    if (word == "unowned") {
        list_unowned(ctx);
        return;
    }
    auto id = parse_item_id(rest[0].text);
    if (!id || rest[0].kind != args::tok::word) {
        throw user_error(fmt::format("`{}` is not an item id or an owner command. {}",
                                     mrkdwn::safe(rest[0].raw),
                                     ctx.routes->did_you_mean(word, "owner")));
    }
    auto it = load_item(ctx, *id);
    set_owner(ctx, it, owner_arg(it, args, ctx.cmd));
}

} // namespace

void register_owner(router& r) {
    noun_def d;
    d.name = "owner";
    d.title = "Owners: the DRI of each item, and who owns each area";
    d.fn = owner_noun;
    d.help = {
        {"/tpm owner <id> @user", "Set or change the DRI of any item (`me` for yourself).",
         "/tpm owner B-12 @dana", true, "<id>"},
        {"/tpm owner area \"<name>\" @user",
         "Record who owns an area; new items naming it with no DRI go to them.",
         "/tpm owner area \"payments api\" @alice", false, "area"},
        {"/tpm owner who \"<name>\"", "Who owns an area.", "/tpm owner who \"payments api\"", false,
         "who"},
        {"/tpm owner list", "Areas with their owners, and open items per DRI.", "/tpm owner list",
         false, "list"},
        {"/tpm owner unowned", "Open items that nobody owns.", "/tpm owner unowned", true,
         "unowned"},
    };
    r.add(std::move(d));
}

} // namespace tpmbot
