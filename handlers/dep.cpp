#include "dates.hpp"
#include "mrkdwn.hpp"
#include "router.hpp"

#include <array>
#include <fmt/format.h>

namespace tpmbot {

namespace {

constexpr std::string_view create_example =
    "/tpm dep \"staging cert\" from:@infra-oncall by:fri for:B-12";
constexpr std::array<std::string_view, 5> dep_keys = {"from", "by", "for", "dri", "area"};

void create(context& ctx, std::vector<args::token>& rest) {
    check_keys(rest, dep_keys, create_example);
    item it;
    it.kind = item_kind::dep;
    it.status = "open";
    auto from = take_key(rest, "from");
    if (!from || from->value.empty()) {
        throw user_error(fmt::format("Who is it needed from? Add `from:` with a person, a user "
                                     "group or a team, e.g. `{}`",
                                     create_example));
    }
    it.from_who = value_text(*from);
    check_length("from text", it.from_who, max_option_chars);
    if (auto by = take_date(rest, "by")) {
        it.due = require_future_date(*by, ctx.cmd, create_example);
    }
    if (auto f = take_key(rest, "for")) {
        auto id = parse_item_id(f->text);
        if (!id) {
            throw user_error(fmt::format("`for:{}` is not an item id. Name what it unblocks, e.g. "
                                         "`{}`",
                                         mrkdwn::safe(f->value), create_example));
        }
        it.for_item = load_item(ctx, *id).id_str();
    }
    if (auto dri = take_key(rest, "dri")) {
        it.dri = require_user(dri->value, ctx.cmd, "dri:", create_example);
    }
    auto area_tok = take_key(rest, "area");
    it.title = args::render(rest);
    if (it.title.empty()) {
        throw user_error(fmt::format("What is needed? Put it first, e.g. `{}`", create_example));
    }
    check_length("dependency text", it.title, max_title_chars);
    apply_area(ctx, it, area_tok);
    create_item(ctx, it);
}

void list_deps(context& ctx, std::span<const args::token> rest) {
    const auto& cmd = ctx.cmd;
    auto filter = rest.empty() ? std::string("open") : lower(rest[0].text);
    item_query q;
    q.team_id = cmd.team_id;
    q.kind = item_kind::dep;
    std::string title;
    auto today = dates::today(cmd.now, cmd.user_tz);
    if (filter == "open") {
        q.statuses = {"open"};
        title = "Open dependencies";
    } else if (filter == "at-risk") {
        q.statuses = {"open"};
        title = "Dependencies at risk (needed within a week, or late)";
    } else if (filter == "mine") {
        q.statuses = {"open"};
        q.dri = cmd.user_id;
        title = "Open dependencies you own";
    } else if (filter == "all") {
        title = "All dependencies";
    } else {
        throw user_error(fmt::format("`{}` is not a dependency list filter. Use open, at-risk, "
                                     "mine or all, e.g. `/tpm dep list at-risk`",
                                     mrkdwn::safe(rest[0].raw)));
    }
    auto items = ctx.db.list_items(q);
    if (filter == "at-risk") {
        std::erase_if(items, [&](const item& it) {
            return it.due.empty() || dates::days_between(today, it.due) > 7;
        });
    }
    reply_list(ctx, title, items, "deps", [&](const item& it) {
        return it.status == "open" && !it.due.empty() && it.due < today ? " · *late*" : "";
    });
}

void dep_noun(context& ctx, std::vector<args::token>& rest) {
    using args_t = std::vector<args::token>;
    static const item_noun noun{
        item_kind::dep,
        fmt::format("What is needed, and from whom? e.g. `{}`", create_example),
        create,
        list_deps,
        {
            {{"delivered", "deliver"},
             [](context& c, item& it, args_t& a) {
                 change_status(c, it, "delivered", {"open"}, ":package:", a, true);
             }},
            {{"drop"},
             [](context& c, item& it, args_t& a) {
                 change_status(c, it, "dropped", {"open"}, ":x:", a, true);
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

void register_dep(router& r) {
    noun_def d;
    d.name = "dep";
    d.title = "Dependencies: what we need from whom, by when, and what it unblocks";
    d.fn = dep_noun;
    d.help = {
        {"/tpm dep \"<what>\" from:@who [by:<date>] [for:<id>] [dri:@user] [area:<name>]",
         "Record a dependency on a person, group or team.", std::string(create_example), false, ""},
        {"/tpm dep <id> delivered|drop [note]", "Close a dependency.",
         "/tpm dep DEP-4 delivered cert is in the vault", false, "delivered|deliver|drop"},
        {"/tpm dep <id> reopen", "Open it again.", "/tpm dep DEP-4 reopen", false, "reopen"},
        {"/tpm dep <id> update <text>", "Add progress to its thread.",
         "/tpm dep DEP-4 update infra says Thursday", false, "update"},
        {"/tpm dep list [open|at-risk|mine|all]", "Dependencies; at-risk = needed within a week.",
         "/tpm dep list at-risk", false, "list"},
    };
    r.add(std::move(d));
}

} // namespace tpmbot
