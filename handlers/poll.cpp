#include "poll.hpp"

#include "dates.hpp"
#include "mrkdwn.hpp"
#include "schedule.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <limits>
#include <map>

namespace tpmbot {

namespace {

std::string poll_name(const item& it) {
    return "poll:" + it.id_str();
}

/// The votes per option, 1-based (index 0 unused).
std::vector<std::vector<std::string>> tally(const item& it, const std::vector<poll_vote>& votes) {
    std::vector<std::vector<std::string>> by_option(it.options.size() + 1);
    for (const auto& v : votes) {
        if (v.choice >= 1 && static_cast<std::size_t>(v.choice) < by_option.size()) {
            by_option[v.choice].push_back(v.user_id);
        }
    }
    return by_option;
}

std::string votes_word(std::size_t n) {
    return fmt::format("{} vote{}", n, n == 1 ? "" : "s");
}

/// "1. flag leads with 2 of 3 votes", "a tie between 1. flag and 2. wait (2 votes each)",
/// "no votes".
std::string result_line(const item& it, const std::vector<poll_vote>& votes) {
    auto by_option = tally(it, votes);
    std::size_t best = 0;
    for (std::size_t i = 1; i < by_option.size(); ++i) {
        best = std::max(best, by_option[i].size());
    }
    if (best == 0) {
        return "no votes";
    }
    std::vector<std::string> leaders;
    for (std::size_t i = 1; i < by_option.size(); ++i) {
        if (by_option[i].size() == best) {
            leaders.push_back(fmt::format("{}. {}", i, it.options[i - 1]));
        }
    }
    if (leaders.size() == 1) {
        return fmt::format("{} leads with {} of {}", leaders[0], best, votes_word(votes.size()));
    }
    std::string names;
    for (std::size_t i = 0; i < leaders.size(); ++i) {
        names += (i == 0 ? "" : i + 1 == leaders.size() ? " and " : ", ") + leaders[i];
    }
    return fmt::format("a tie between {} ({} each)", names, votes_word(best));
}

/// When the poll closes, for people: "Fri 2026-11-27 (end of day)", or until decided.
std::string closing_text(const item& it, const poll& p) {
    if (p.closes_at == 0) {
        return fmt::format("until *{}* is decided", it.id_str());
    }
    return fmt::format("until the end of {}", dates::pretty(it.due));
}

/// The poll's message as it stands, with its buttons while it is open.
effect poll_post(store& db, const item& it, const poll& p, destination to) {
    auto votes = db.poll_votes(it.team_id, it.num);
    auto by_option = tally(it, votes);
    std::string text =
        fmt::format(":ballot_box_with_ballot: *Poll on {}* {}", it.id_str(), it.title);
    for (std::size_t i = 1; i < by_option.size(); ++i) {
        text += fmt::format("\n{}. {} — {}", i, it.options[i - 1], votes_word(by_option[i].size()));
        for (std::size_t k = 0; k < by_option[i].size(); ++k) {
            text += (k == 0 ? ": " : ", ") + quiet_name(db, it.team_id, by_option[i][k]);
        }
    }
    effect e;
    e.to = to;
    e.item = it.id_str();
    e.name = poll_name(it);
    e.channel = it.thread_ts.empty() ? it.channel_id : it.thread_channel;
    if (to == destination::update) {
        e.channel = it.channel_id; // the conversation the thread is in, for ordering
    } else {
        e.thread_ts = it.thread_ts;
    }
    if (p.closed_at != 0) {
        text += fmt::format("\n:lock: Closed: {}.", result_line(it, votes));
    } else {
        text += fmt::format("\nOne vote each; press another option to change yours. Open {}.",
                            closing_text(it, p));
        for (std::size_t i = 0; i < it.options.size(); ++i) {
            e.buttons.push_back({fmt::format("{}. {}", i + 1, it.options[i]),
                                 fmt::format("vote_{}", i + 1),
                                 fmt::format("decision {} vote {}", it.id_str(), i + 1)});
        }
    }
    e.text = std::move(text);
    return e;
}

/// The end of the decide-by day in `tz`; 0 without a decide-by date.
unix_time closing_time(const item& it, const std::string& tz) {
    if (it.due.empty()) {
        return 0;
    }
    auto next_day = dates::parse("+1d", schedule::at_local(it.due, 12 * 60, tz), tz);
    return next_day ? schedule::at_local(*next_day, 0, tz) : 0;
}

/// Closes the poll at `at`: its message shows the result; the card is brought up to date by
/// the caller.
effect close(store& db, const item& it, poll& p, unix_time at) {
    p.closed_at = at;
    db.put_poll(p);
    return poll_post(db, it, p, destination::update);
}

} // namespace

void open_poll(context& ctx, item& it) {
    auto id = it.id_str();
    require_modify(it, ctx.cmd, "put " + id + " to a vote");
    require_status(it, {"proposed"}, "put to a vote");
    if (it.options.size() < 2) {
        throw user_error(fmt::format(
            "{} has {} to vote on. A poll needs at least two: propose the decision with "
            "them, e.g. `/tpm decision \"Ship behind a flag or wait?\" options:\"flag\"|\"wait\"`",
            id, it.options.empty() ? "no options" : "only one option"));
    }
    auto existing = ctx.db.find_poll(it.team_id, it.num);
    if (existing && existing->closed_at == 0) {
        throw user_error(fmt::format("The poll on {} is already open, in its thread.", id));
    }
    poll p = existing.value_or(poll{});
    p.team_id = it.team_id;
    p.num = it.num;
    p.opened_by = ctx.cmd.user_id;
    p.opened_at = ctx.cmd.now;
    p.closed_at = 0;
    p.closes_at = closing_time(it, ctx.cmd.user_tz);
    if (p.closes_at != 0 && p.closes_at <= ctx.cmd.now) {
        throw user_error(fmt::format("{}'s decide-by date ({}) has passed, so a poll would close "
                                     "at once. Extend it first: `/tpm decision {} extend next fri`",
                                     id, dates::pretty(it.due), id));
    }
    ctx.db.put_poll(p);
    ctx.log(it, existing ? "poll reopened" : "poll opened");
    ctx.out.push_back(poll_post(ctx.db, it, p, destination::thread));
}

void cast_vote(context& ctx, item& it, std::span<const args::token> rest) {
    auto id = it.id_str();
    auto p = ctx.db.find_poll(it.team_id, it.num);
    if (!p) {
        throw user_error(
            fmt::format("{} has no poll. Its DRI can start one: `/tpm decision {} poll`", id, id));
    }
    if (p->closed_at != 0 || (p->closes_at != 0 && ctx.cmd.now >= p->closes_at)) {
        // Past its closing time it takes no vote, even before the scheduler has closed it.
        throw user_error(fmt::format("The poll on {} is closed: {}.", id,
                                     result_line(it, ctx.db.poll_votes(it.team_id, it.num))));
    }
    auto text = args::render(rest);
    int choice = 0;
    for (std::size_t i = 0; i < it.options.size(); ++i) {
        if (text == std::to_string(i + 1) || lower(text) == lower(it.options[i])) {
            choice = static_cast<int>(i + 1);
        }
    }
    if (choice == 0) {
        std::string list;
        for (std::size_t i = 0; i < it.options.size(); ++i) {
            list += fmt::format("{}{}. {}", i == 0 ? "" : ", ", i + 1, it.options[i]);
        }
        throw user_error(fmt::format("Vote for one of {}'s options by number: {}. e.g. "
                                     "`/tpm decision {} vote 1`",
                                     id, list, id));
    }
    auto votes = ctx.db.poll_votes(it.team_id, it.num);
    auto mine = std::find_if(votes.begin(), votes.end(),
                             [&](const poll_vote& v) { return v.user_id == ctx.cmd.user_id; });
    auto chosen = fmt::format("{}. {}", choice, it.options[choice - 1]);
    if (mine != votes.end() && mine->choice == choice) {
        ctx.reply(fmt::format("You already voted for {} on {}.", chosen, id));
        return;
    }
    ctx.db.set_vote(it.team_id, it.num, {ctx.cmd.user_id, choice, ctx.cmd.now});
    ctx.reply(fmt::format("{} {} on {}. You can change it until the poll closes.",
                          mine == votes.end() ? "You voted for" : "You changed your vote to",
                          chosen, id));
    ctx.out.push_back(poll_post(ctx.db, it, *p, destination::update));
    ctx.touch(it); // the card's tally
}

void poll_extended(context& ctx, const item& it) {
    auto p = ctx.db.find_poll(it.team_id, it.num);
    if (!p || p->closed_at != 0) {
        return;
    }
    p->closes_at = closing_time(it, ctx.cmd.user_tz);
    ctx.db.put_poll(*p);
    ctx.out.push_back(poll_post(ctx.db, it, *p, destination::update));
}

void settle_poll(context& ctx, const item& it) {
    if (it.kind != item_kind::decision || it.closed_at == 0) {
        return;
    }
    auto p = ctx.db.find_poll(it.team_id, it.num);
    if (!p || p->closed_at != 0) {
        return;
    }
    ctx.out.push_back(close(ctx.db, it, *p, ctx.cmd.now));
}

std::string poll_summary(store& db, const item& it) {
    if (it.kind != item_kind::decision || it.options.empty()) {
        return {};
    }
    auto p = db.find_poll(it.team_id, it.num);
    if (!p) {
        return {};
    }
    auto votes = db.poll_votes(it.team_id, it.num);
    auto by_option = tally(it, votes);
    std::string out = "Poll:";
    for (std::size_t i = 1; i < by_option.size(); ++i) {
        out += fmt::format("{} {}. {} {}", i == 1 ? "" : " ·", i, it.options[i - 1],
                           by_option[i].size());
    }
    out += p->closed_at != 0 ? " (closed)" : fmt::format(" (open {})", closing_text(it, *p));
    return out;
}

int run_poll_jobs(store& db, unix_time /*from*/, unix_time to, const emit_fn& emit,
                  const job_log_fn& log) {
    // Every open poll due by `to`, however long ago: one still open is closed late, never
    // skipped.
    int ran = 0;
    for (const auto& due : db.polls_due(to)) {
        db.transact([&] {
            auto p = db.find_poll(due.team_id, due.num);
            auto it = db.find_item(due.team_id, {item_kind::decision, due.num});
            if (!p || p->closed_at != 0) {
                return; // another replica closed it
            }
            if (!it) {
                p->closed_at = to;
                db.put_poll(*p);
                log(fmt::format("poll of D-{} in {} closed: the decision is gone", due.num,
                                due.team_id));
                return;
            }
            emit(it->team_id, close(db, *it, *p, p->closes_at));
            emit(it->team_id, card_update(db, *it, to));
            auto votes = db.poll_votes(it->team_id, it->num);
            auto to_whom = it->dri.empty() ? it->reporter : it->dri;
            emit(it->team_id,
                 dm_effect(to_whom,
                           fmt::format(":ballot_box_with_ballot: The poll on *{}* {} in <#{}> "
                                       "closed: {}. Record the decision: `/tpm decision {} "
                                       "decide \"<outcome>\"`",
                                       it->id_str(), it->title, it->channel_id,
                                       result_line(*it, votes), it->id_str())));
            ++ran;
        });
    }
    return ran;
}

unix_time next_poll_due(store& db, unix_time after) {
    // The soonest first; one already due and still open is due at once.
    auto open = db.polls_due(std::numeric_limits<unix_time>::max());
    return open.empty() ? 0 : std::max(open.front().closes_at, after + 1);
}

} // namespace tpmbot
