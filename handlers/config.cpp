#include "mrkdwn.hpp"
#include "router.hpp"

#include <algorithm>
#include <fmt/format.h>

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

void config_noun(context& ctx, std::vector<args::token>& rest) {
    auto word = rest.empty() ? std::string() : lower(rest[0].text);
    if (word == "admins") {
        admins(ctx, std::span(rest).subspan(1));
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
    };
    r.add(std::move(d));
}

} // namespace tpmbot
