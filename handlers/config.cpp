#include "escalation.hpp"
#include "mrkdwn.hpp"
#include "router.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <tuple>

namespace tpmbot {

namespace {

constexpr std::string_view admins_example = "/tpm config admins @ana,@raj";

std::vector<std::string> users_in(std::span<const args::token> ts, const command& cmd) {
    std::vector<std::string> users;
    for (const auto& t : ts) {
        for (const auto& v : args::split_values(t.raw)) {
            users.push_back(require_user(v, cmd, "admins", admins_example));
        }
    }
    return users;
}

void admins(context& ctx, std::span<const args::token> rest) {
    const auto& cmd = ctx.cmd;
    if (rest.empty()) {
        auto list = ctx.db.list_admins(cmd.team_id);
        std::string out = "*tpmbot admins added here*";
        for (const auto& u : list) {
            out += "\n• " + who(u);
        }
        if (list.empty()) {
            out += "\nnone yet";
        }
        out += "\nWorkspace admins and owners, and the users in `TPMBOT_ADMINS`, are admins too.";
        ctx.reply(out);
        return;
    }
    if (!cmd.is_admin) {
        throw user_error("Only an admin can change the admins. Ask one of them: `/tpm config "
                         "admins` lists them.");
    }
    bool remove = rest[0].kind == args::tok::word && lower(rest[0].text) == "remove";
    if (remove || (rest[0].kind == args::tok::word && lower(rest[0].text) == "add")) {
        rest = rest.subspan(1);
    }
    auto users = users_in(rest, cmd);
    if (users.empty()) {
        throw user_error(fmt::format("Whom? Name people with @, e.g. `{}`", admins_example));
    }
    std::string names;
    for (const auto& u : users) {
        if (remove) {
            ctx.db.remove_admin(cmd.team_id, u);
        } else {
            ctx.db.add_admin(cmd.team_id, u, cmd.now);
        }
        names += (names.empty() ? "" : ", ") + who(u);
    }
    ctx.reply(fmt::format("{} {} tpmbot admins.", names, remove ? "are no longer" : "are now"));
}

constexpr std::string_view escalation_example =
    "/tpm config escalation high:1/2/3 med:2/4/6 low:5/10/15 contact:@ana";

void escalation(context& ctx, std::vector<args::token> rest) {
    const auto& cmd = ctx.cmd;
    auto p = load_policy(ctx.db, cmd.team_id);
    if (rest.empty()) {
        ctx.reply(describe_policy(p));
        return;
    }
    if (!cmd.is_admin) {
        throw user_error("Only an admin can change the escalation ladder. `/tpm config admins` "
                         "lists them.");
    }
    static constexpr std::array<std::string_view, 5> keys = {"high", "med", "low", "contact",
                                                             "budget"};
    check_keys(rest, keys, escalation_example);
    for (std::size_t i = 0; i < 3; ++i) {
        static constexpr std::array<std::string_view, 3> sev = {"high", "med", "low"};
        if (auto t = take_key(rest, sev[i])) {
            p.days[i] = parse_steps(t->value, sev[i]);
        }
    }
    if (auto t = take_key(rest, "contact")) {
        p.contact = lower(t->value) == "admins"
                        ? std::string()
                        : require_user(t->value, cmd, "contact:", escalation_example);
    }
    if (auto t = take_key(rest, "budget")) {
        auto v = t->value;
        if (v.empty() || v.size() > 2 || v.find_first_not_of("0123456789") != std::string::npos ||
            std::stoi(v) < 1) {
            throw user_error("`budget:` is how many channel lines go out at once before they "
                             "are batched: a number from 1 to 99, e.g. `budget:3`.");
        }
        p.noise_budget = std::stoi(v);
    }
    if (!rest.empty()) {
        throw user_error(fmt::format("I don't understand `{}`. Example: `{}`",
                                     mrkdwn::safe(args::render(rest)), escalation_example));
    }
    save_policy(ctx.db, cmd.team_id, p, cmd.now);
    ctx.reply("Saved. " + describe_policy(p));
}

void quiet_hours(context& ctx, std::span<const args::token> rest) {
    const auto& cmd = ctx.cmd;
    auto p = load_policy(ctx.db, cmd.team_id);
    if (rest.empty()) {
        ctx.reply(describe_policy(p));
        return;
    }
    if (!cmd.is_admin) {
        throw user_error("Only an admin can set quiet hours. `/tpm config admins` lists them.");
    }
    if (rest.size() != 1) {
        throw user_error("Give one range, e.g. `/tpm config quiet-hours 19:00-08:00`, or `off`.");
    }
    if (lower(rest[0].text) == "off") {
        p.quiet_from = p.quiet_to = -1;
    } else {
        std::tie(p.quiet_from, p.quiet_to) = parse_quiet_hours(rest[0].raw);
        p.quiet_tz = cmd.user_tz.empty() ? "UTC" : cmd.user_tz;
    }
    save_policy(ctx.db, cmd.team_id, p, cmd.now);
    ctx.reply("Saved. " + describe_policy(p));
}

void config_noun(context& ctx, std::vector<args::token>& rest) {
    auto word = rest.empty() ? std::string() : lower(rest[0].text);
    if (word == "admins") {
        admins(ctx, std::span(rest).subspan(1));
        return;
    }
    if (word == "escalation") {
        escalation(ctx, std::vector<args::token>(rest.begin() + 1, rest.end()));
        return;
    }
    if (word == "quiet-hours" || word == "quiet") {
        quiet_hours(ctx, std::span(rest).subspan(1));
        return;
    }
    throw user_error(fmt::format("`/tpm config` {}. {}",
                                 word.empty() ? "needs a setting"
                                              : "has no setting `" + mrkdwn::escape(word) + "`",
                                 ctx.routes->did_you_mean(word, "config")));
}

} // namespace

void register_config(router& r) {
    noun_def d;
    d.name = "config";
    d.title = "Configuration (admins only)";
    d.fn = config_noun;
    d.help = {
        {"/tpm config admins [add|remove] @a,@b", "List, add or remove tpmbot admins.",
         std::string(admins_example), false, "admins"},
        {"/tpm config escalation [high:1/2/3] [med:2/4/6] [low:5/10/15] [contact:@user|admins] "
         "[budget:3]",
         "Show or set the escalation ladder (days without an update per step).",
         std::string(escalation_example), false, "escalation"},
        {"/tpm config quiet-hours <HH:MM-HH:MM> | off", "No escalation messages in these hours.",
         "/tpm config quiet-hours 19:00-08:00", false, "quiet-hours"},
    };
    r.add(std::move(d));
}

} // namespace tpmbot
