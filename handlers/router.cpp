#include "router.hpp"

#include "forms.hpp"
#include "home.hpp"
#include "mrkdwn.hpp"
#include "standup.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>

namespace tpmbot {

namespace {

/// Other words people type for a noun.
std::string canonical_noun(const std::string& word) {
    static const std::pair<std::string_view, std::string_view> synonyms[] = {
        {"blockers", "blocker"}, {"decisions", "decision"}, {"decide", "decision"},
        {"risks", "risk"},       {"deps", "dep"},           {"dependency", "dep"},
        {"dependencies", "dep"}, {"owners", "owner"},       {"dri", "owner"},
    };
    for (auto [from, to] : synonyms) {
        if (word == from) {
            return std::string(to);
        }
    }
    return word;
}

/// The noun implied by a slash command's name: /blocker -> "blocker".
std::string alias_noun(std::string_view command_name) {
    auto name = lower(command_name);
    if (name == "/tpm" || name.empty()) {
        return {};
    }
    if (name == "/blocker" || name == "/decision" || name == "/owner" || name == "/standup" ||
        name == "/status") {
        return name.substr(1);
    }
    throw user_error(fmt::format("tpmbot does not know the command `{}`. Use `/tpm help`.",
                                 mrkdwn::escape(command_name)));
}

/// The command word of a token ("blocker" for `blocker` and `blocker:`), lower-cased.
std::string command_word(const args::token& t) {
    if (t.kind == args::tok::word) {
        return lower(t.text);
    }
    if (t.kind == args::tok::key_value && t.value.empty()) {
        return t.key;
    }
    return {};
}

/// The verbs of a help entry ("mitigate|occurred|close" has three).
std::vector<std::string> verbs_of(const help_entry& e) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < e.verb.size()) {
        auto bar = e.verb.find('|', start);
        auto end = bar == std::string::npos ? e.verb.size() : bar;
        out.push_back(e.verb.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::string format_entry(const help_entry& e) {
    return fmt::format("`{}` — {}\n      e.g. `{}`", e.usage, e.summary, e.example);
}

} // namespace

void router::add(noun_def def) {
    if (find(def.name) != nullptr) {
        throw std::logic_error("noun registered twice: " + def.name);
    }
    nouns_.push_back(std::move(def));
}

const noun_def* router::find(std::string_view name) const {
    for (const auto& n : nouns_) {
        if (n.name == name) {
            return &n;
        }
    }
    return nullptr;
}

std::vector<effect> router::run(store& db, const command& cmd) const {
    context ctx(db, cmd);
    ctx.routes = this;
    dispatch(ctx);
    refresh_cards(ctx); // leaves each changed item in ctx.touched as stored, for the Homes
    refresh_homes(ctx);
    return std::move(ctx.out);
}

void router::dispatch(context& ctx) const {
    const command& cmd = ctx.cmd;
    store& db = ctx.db;
    if (cmd.from == source::home) {
        open_home(ctx);
        return;
    }
    if (cmd.from == source::form) {
        submit_form(ctx);
        return;
    }
    if (cmd.from == source::dm) {
        // An edited DM only ever changes standup answers.
        if (cmd.edited) {
            standup_edit(ctx);
            return;
        }
        // While a standup prompt waits for answers, a DM is an answer, unless it is a
        // `standup` command (`standup skip`, `standup ooo 2d`) or `help`. When only a late
        // answer could be given, a DM starting with a command word is that command.
        auto first = lower(cmd.text.substr(0, cmd.text.find_first_of(" \n\t")));
        auto wait = standup_waiting(db, cmd);
        bool command_word = first == "standup" || first == "help" ||
                            (wait && wait->late &&
                             (find(canonical_noun(first)) != nullptr || parse_item_id(first)));
        if (wait && !command_word) {
            standup_dm(ctx, *wait);
            return;
        }
    }
    auto tokens = args::tokenize(cmd.text);
    if (cmd.from == source::slash) {
        auto noun = alias_noun(cmd.command_name);
        if (!noun.empty()) {
            args::token t;
            t.kind = args::tok::word;
            t.raw = t.text = noun;
            tokens.insert(tokens.begin(), t);
        }
    }
    if (tokens.empty()) {
        if (cmd.from == source::mention) {
            ctx.reply("Tell me what is blocking you, or give me a command, e.g. `@tpmbot "
                      "blocker: waiting on infra for the staging cert @dana sev:high`.\n\n" +
                      help(""));
            return;
        }
        throw user_error("`/tpm` needs a command after it, e.g. `/tpm blocker waiting on the "
                         "staging cert @dana`. The everyday commands:\n\n" +
                         help(""));
    }

    // `blocker:waiting on x` typed without a space: split the key from its value.
    if (tokens[0].kind == args::tok::key_value && !tokens[0].value.empty() &&
        find(canonical_noun(tokens[0].key)) != nullptr) {
        auto first = tokens[0];
        auto rest = args::tokenize(first.value);
        tokens.erase(tokens.begin());
        tokens.insert(tokens.begin(), rest.begin(), rest.end());
        args::token t;
        t.kind = args::tok::word;
        t.raw = t.text = first.key;
        tokens.insert(tokens.begin(), t);
    }

    auto word = canonical_noun(command_word(tokens[0]));
    if (word == "help") {
        std::string topic;
        for (std::size_t i = 1; i < tokens.size(); ++i) {
            topic += (topic.empty() ? "" : " ") + lower(tokens[i].text);
        }
        ctx.reply(help(canonical_noun(topic)));
        return;
    }

    // `resolve B-12 done` is `B-12 resolve done` when `resolve` is a verb of B-12's noun.
    if (tokens.size() >= 2 && tokens[0].kind == args::tok::word &&
        tokens[1].kind == args::tok::word && find(word) == nullptr) {
        if (auto id = parse_item_id(tokens[1].text)) {
            const auto* n = find(kind_name(id->kind));
            auto verb = lower(tokens[0].text);
            bool is_verb = n != nullptr &&
                           std::any_of(n->help.begin(), n->help.end(), [&](const help_entry& e) {
                               auto vs = verbs_of(e);
                               return std::find(vs.begin(), vs.end(), verb) != vs.end();
                           });
            if (is_verb) {
                std::swap(tokens[0], tokens[1]);
            }
        }
    }

    const noun_def* def = nullptr;
    if (auto id = parse_item_id(tokens[0].text); id && tokens[0].kind == args::tok::word) {
        // `/tpm B-12 ack` is `/tpm blocker B-12 ack`.
        def = find(kind_name(id->kind));
    } else {
        def = find(word);
        if (def != nullptr) {
            tokens.erase(tokens.begin());
        }
    }
    if (def == nullptr) {
        if (cmd.from == source::mention) {
            flag_blocker(ctx, tokens);
            return;
        }
        if (cmd.from == source::dm) {
            // A message in the bot's DM that is not a command: say what works here.
            ctx.reply("No standup is waiting for your answers right now. In this DM you can "
                      "give me the same commands as after `/tpm`, e.g. `blocker list mine` or "
                      "`standup show`. `help` lists them.");
            return;
        }
        auto shown = word.empty() ? mrkdwn::safe(tokens[0].raw) : mrkdwn::escape(word);
        throw user_error(
            fmt::format("I don't know the command `{}`. {}", shown, did_you_mean(word)));
    }
    if (tokens.size() == 1 && tokens[0].kind == args::tok::word &&
        lower(tokens[0].text) == "help") {
        ctx.reply(help(def->name)); // `/blocker help` is help, not a blocker called "help"
        return;
    }
    def->fn(ctx, tokens);
    return;
}

std::string router::help(std::string_view topic) const {
    std::string out;
    if (topic.empty()) {
        out = "*tpmbot* records blockers, owners (DRIs) and decisions where your team talks.\n";
        for (const auto& n : nouns_) {
            for (const auto& e : n.help) {
                if (e.everyday) {
                    out += "\n" + format_entry(e);
                }
            }
        }
        std::string topics;
        for (const auto& n : nouns_) {
            topics += (topics.empty() ? "" : ", ") + n.name;
        }
        out += fmt::format("\n\nMore: `/tpm help <topic>` for {}; `/tpm help all` for every "
                           "command. The same commands work after `@tpmbot` (also in threads), "
                           "and `@tpmbot <text>` alone flags a blocker.",
                           topics);
        return out;
    }
    if (topic == "all") {
        for (const auto& n : nouns_) {
            out += (out.empty() ? "" : "\n\n") + fmt::format("*{}*", n.title);
            for (const auto& e : n.help) {
                out += "\n" + format_entry(e);
            }
        }
        return out;
    }
    const auto* n = find(topic);
    if (n == nullptr) {
        throw user_error(fmt::format("There is no help topic `{}`. {}", mrkdwn::escape(topic),
                                     did_you_mean(topic)));
    }
    out = fmt::format("*{}*", n->title);
    for (const auto& e : n->help) {
        out += "\n" + format_entry(e);
    }
    return out;
}

std::string router::did_you_mean(std::string_view word, std::string_view noun) const {
    struct candidate {
        std::size_t distance;
        const help_entry* entry;
    };
    std::vector<candidate> cs;
    if (noun.empty()) {
        for (const auto& n : nouns_) {
            if (!n.help.empty()) {
                cs.push_back({edit_distance(word, n.name), &n.help.front()});
            }
        }
    } else if (const auto* n = find(noun)) {
        for (const auto& e : n->help) {
            auto best = std::string::npos;
            for (const auto& v : verbs_of(e)) {
                best = std::min(best, edit_distance(word, v));
            }
            if (best != std::string::npos) {
                cs.push_back({best, &e});
            }
        }
    }
    std::stable_sort(cs.begin(), cs.end(), [](const candidate& a, const candidate& b) {
        return a.distance < b.distance;
    });
    std::string out = "Did you mean:";
    for (std::size_t i = 0; i < cs.size() && i < 2; ++i) {
        out += "\n• " + format_entry(*cs[i].entry);
    }
    out += "\n`/tpm help all` lists every command.";
    return out;
}

router make_router() {
    router r;
    register_blocker(r);
    register_owner(r);
    register_decision(r);
    register_risk(r);
    register_dep(r);
    register_export(r);
    register_standup(r);
    register_status(r);
    register_config(r);
    return r;
}

} // namespace tpmbot
