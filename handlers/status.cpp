#include "status.hpp"

#include "dates.hpp"
#include "mrkdwn.hpp"
#include "router.hpp"
#include "schedule.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <map>

namespace tpmbot {

namespace {

constexpr unix_time day_s = 86400;
constexpr unix_time week_s = 7 * day_s;
/// A RAG older than this is questioned.
constexpr unix_time rag_stale_after = 14 * day_s;
constexpr std::string_view schedules_key = "status.schedules"; ///< team "": "team\tchannel" lines
constexpr std::string_view schedule_example = "/tpm status schedule fri 16:00 #eng";
constexpr std::string_view rag_example =
    "/tpm status rag amber \"vendor slipped the API by a week\"";

std::string rag_key(const std::string& channel) {
    return "status.rag." + channel;
}
std::string schedule_key(const std::string& channel) {
    return "status.schedule." + channel;
}
std::string snapshot_key(const std::string& channel) {
    return "status.last." + channel;
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= s.size()) {
        auto at = s.find(sep, start);
        out.emplace_back(
            s.substr(start, at == std::string_view::npos ? s.size() - start : at - start));
        if (at == std::string_view::npos) {
            break;
        }
        start = at + 1;
    }
    return out;
}

/// "(+2)", "(-1)", "(±0)": the change since last week.
std::string delta(long long now, long long before) {
    auto d = now - before;
    if (d == 0) {
        return "(±0)";
    }
    return fmt::format("({}{})", d > 0 ? "+" : "", d);
}

/// The change of an age in days: "(+2d)", "(-1d)", "(±0d)".
std::string delta_days(unix_time now, unix_time before) {
    auto d = (now - before) / day_s;
    if (d == 0) {
        return "(±0d)";
    }
    return fmt::format("({}{}d)", d > 0 ? "+" : "", d);
}

unix_time median(std::vector<unix_time> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    auto n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int level(const std::string& v) {
    return v == "h" ? 3 : v == "m" ? 2 : v == "l" ? 1 : 0;
}

item_query query(const std::string& team, const std::string& channel, item_kind kind) {
    item_query q;
    q.team_id = team;
    q.channel_id = channel;
    q.kind = kind;
    return q;
}

/// A titled list: lines until the section would pass Slack's limit or `status_list_lines`,
/// then "and N more" with where to see them all.
std::string list_section(const std::string& title, const std::vector<std::string>& lines,
                         const std::string& more_command) {
    auto more = [&](std::size_t n) {
        return fmt::format("\n_and {} more: `{}`_", n, more_command);
    };
    std::string out = title;
    std::size_t shown = 0;
    // A line goes in only if the "and N more" that may follow it still fits.
    while (shown < lines.size() && shown < status_list_lines &&
           char_count(out) + 1 + char_count(lines[shown]) +
                   char_count(more(lines.size() - shown)) <=
               max_section_chars) {
        out += "\n" + lines[shown++];
    }
    if (shown < lines.size()) {
        out += more(lines.size() - shown);
    }
    return out;
}

/// The numbers kept from the last posted status, for changes the data cannot recompute (who
/// owned what, or what was at risk, a week ago).
std::map<std::string, long long> load_snapshot(store& db, const std::string& team,
                                               const std::string& channel) {
    std::map<std::string, long long> out;
    auto v = db.setting(team, snapshot_key(channel));
    if (!v) {
        return out;
    }
    for (const auto& part : split(*v, ';')) {
        auto eq = part.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        try {
            out[part.substr(0, eq)] = std::stoll(part.substr(eq + 1));
        } catch (const std::exception&) {
            // A damaged number shows as "new" rather than stopping the status.
        }
    }
    return out;
}

std::string since_snapshot(const std::map<std::string, long long>& snap, const std::string& key,
                           long long now) {
    auto it = snap.find(key);
    return it == snap.end() ? "(new)" : delta(now, it->second);
}

struct numbers {
    long long unowned = 0;
    long long at_risk = 0;
    long long risks = 0;
    long long overdue = 0;
};

weekly_status build(store& db, const std::string& team, const std::string& channel, unix_time now,
                    const std::string& tz, numbers& kept) {
    weekly_status st;
    const auto week_start = now - week_s;
    const auto prev_start = now - 2 * week_s;
    const auto today = dates::today(now, tz);
    auto snap = load_snapshot(db, team, channel);
    auto add = [&](block::kind k, std::string text) {
        st.blocks.push_back({k, std::move(text)});
    };

    // --- blockers ---
    auto q = query(team, channel, item_kind::blocker);
    auto open_q = q;
    open_q.statuses = {"open", "acked"};
    auto open = db.list_items(open_q);
    auto opened_q = q;
    opened_q.created_from = week_start;
    auto opened = db.count_items(opened_q);
    opened_q.created_from = prev_start;
    opened_q.created_until = week_start;
    auto opened_before = db.count_items(opened_q);
    auto resolved_q = q;
    resolved_q.statuses = {"resolved"};
    resolved_q.closed_from = week_start;
    auto resolved = db.count_items(resolved_q);
    resolved_q.closed_from = prev_start;
    resolved_q.closed_until = week_start;
    auto resolved_before = db.count_items(resolved_q);
    auto then_q = q;
    then_q.open_at = week_start;
    auto open_then = db.list_items(then_q);
    std::vector<unix_time> ages, ages_then;
    for (const auto& b : open) {
        ages.push_back(now - b.created_at);
    }
    for (const auto& b : open_then) {
        ages_then.push_back(week_start - b.created_at);
    }

    // --- decisions ---
    auto dq = query(team, channel, item_kind::decision);
    auto decided_q = dq;
    decided_q.statuses = {"decided"};
    decided_q.closed_from = week_start;
    auto decided = db.list_items(decided_q);
    decided_q.closed_from = prev_start;
    decided_q.closed_until = week_start;
    auto decided_before = db.count_items(decided_q);
    auto pending_q = dq;
    pending_q.statuses = {"proposed"};
    auto pending = db.list_items(pending_q);
    auto pending_then_q = dq;
    pending_then_q.open_at = week_start;
    auto pending_then = db.count_items(pending_then_q);
    std::stable_sort(pending.begin(), pending.end(), [&](const item& a, const item& b) {
        bool ao = !a.due.empty() && a.due < today;
        bool bo = !b.due.empty() && b.due < today;
        if (ao != bo) {
            return ao; // overdue first
        }
        if (a.due.empty() != b.due.empty()) {
            return !a.due.empty();
        }
        return a.due < b.due;
    });
    long long overdue = std::count_if(pending.begin(), pending.end(), [&](const item& d) {
        return !d.due.empty() && d.due < today;
    });

    // --- unowned, dependencies at risk, risks ---
    std::vector<item> unowned;
    const std::array<std::pair<item_kind, std::vector<std::string>>, 4> open_states = {{
        {item_kind::blocker, {"open", "acked"}},
        {item_kind::decision, {"proposed"}},
        {item_kind::risk, {"open"}},
        {item_kind::dep, {"open"}},
    }};
    for (const auto& [kind, states] : open_states) {
        auto uq = query(team, channel, kind);
        uq.statuses = states;
        uq.unowned_only = true;
        auto found = db.list_items(uq);
        unowned.insert(unowned.end(), found.begin(), found.end());
    }
    auto week_ahead = *dates::parse("+7d", now, tz);
    auto deps_q = query(team, channel, item_kind::dep);
    deps_q.statuses = {"open"};
    std::vector<item> at_risk;
    for (auto& d : db.list_items(deps_q)) {
        if (!d.due.empty() && d.due <= week_ahead) {
            at_risk.push_back(std::move(d));
        }
    }
    std::sort(at_risk.begin(), at_risk.end(),
              [](const item& a, const item& b) { return a.due < b.due; });
    auto risks_q = query(team, channel, item_kind::risk);
    risks_q.statuses = {"open"};
    auto risks = db.list_items(risks_q);
    std::stable_sort(risks.begin(), risks.end(), [](const item& a, const item& b) {
        return level(a.probability) * level(a.impact) > level(b.probability) * level(b.impact);
    });

    kept = {static_cast<long long>(unowned.size()), static_cast<long long>(at_risk.size()),
            static_cast<long long>(risks.size()), overdue};

    // --- RAG and what contradicts it ---
    auto rag = load_rag(db, team, channel);
    if (rag.color.empty()) {
        st.warnings.push_back(
            fmt::format("No RAG set yet. Set one with evidence: `{}`", rag_example));
    } else {
        if (now - rag.set_at > rag_stale_after) {
            st.warnings.push_back(fmt::format("The RAG was last set {} ago; is it still {}?",
                                              dates::age(now - rag.set_at), rag.color));
        }
        if (rag.color == "green") {
            for (const auto& b : open) {
                if (b.severity == "high" && now - b.updated_at > day_s) {
                    st.warnings.push_back(fmt::format(
                        "The RAG is green, but high-severity *{}* has had no update for {}.",
                        b.id_str(), dates::age(now - b.updated_at)));
                    break;
                }
            }
            for (const auto& d : pending) {
                if (!d.due.empty() && d.due < today) {
                    st.warnings.push_back(fmt::format(
                        "The RAG is green, but decision *{}* was due {}.", d.id_str(), d.due));
                    break;
                }
            }
        }
    }

    // --- the blocks ---
    auto title = fmt::format("Weekly status · {}", dates::pretty(today));
    add(block::kind::header, title);
    static const std::map<std::string, std::string> rag_emoji = {{"green", ":large_green_circle:"},
                                                                 {"amber", ":large_orange_circle:"},
                                                                 {"red", ":red_circle:"}};
    std::string rag_line = rag.color.empty()
                               ? fmt::format("<#{}> · RAG not set", channel)
                               : fmt::format("<#{}> · {} *{}* — {}\n_set by {} on {}_", channel,
                                             rag_emoji.at(rag.color), rag.color, rag.evidence,
                                             quiet_name(db, team, rag.set_by),
                                             dates::pretty(dates::today(rag.set_at, tz)));
    add(block::kind::section, rag_line);
    for (const auto& w : st.warnings) {
        add(block::kind::context, ":warning: " + w);
    }
    add(block::kind::divider, {});

    add(block::kind::section,
        fmt::format(
            "*Blockers* · opened {} {} · resolved {} {} · open {} {} · median age {} {}", opened,
            delta(opened, opened_before), resolved, delta(resolved, resolved_before), open.size(),
            delta(static_cast<long long>(open.size()), static_cast<long long>(open_then.size())),
            dates::age(median(ages)), delta_days(median(ages), median(ages_then))));
    if (!open.empty()) {
        std::vector<std::string> lines;
        for (const auto& b : open) { // oldest first
            lines.push_back(fmt::format("• *{}* {} — {} · {} · DRI {}", b.id_str(), b.title,
                                        b.severity, dates::age(now - b.created_at),
                                        quiet_name(db, team, b.dri)));
        }
        add(block::kind::section, list_section("_Still open, oldest first_", lines,
                                               fmt::format("/tpm blocker list <#{}>", channel)));
    }
    add(block::kind::divider, {});

    std::string decisions =
        fmt::format("*Decisions* · decided this week {} {} · pending {} {} · overdue {} {}",
                    decided.size(), delta(static_cast<long long>(decided.size()), decided_before),
                    pending.size(), delta(static_cast<long long>(pending.size()), pending_then),
                    overdue, since_snapshot(snap, "overdue", overdue));
    add(block::kind::section, decisions);
    if (!decided.empty()) {
        std::vector<std::string> lines;
        for (const auto& d : decided) {
            lines.push_back(fmt::format("• *{}* {} → {}", d.id_str(), d.title, d.outcome));
        }
        add(block::kind::section,
            list_section("_Decided this week_", lines, "/tpm decision list decided"));
    }
    if (!pending.empty()) {
        std::vector<std::string> lines;
        for (const auto& d : pending) {
            bool late = !d.due.empty() && d.due < today;
            lines.push_back(fmt::format(
                "• {}*{}* {} — {} · DRI {}", late ? ":warning: " : "", d.id_str(), d.title,
                d.due.empty() ? std::string("no decide-by date")
                              : (late ? "was due " : "decide by ") + dates::pretty(d.due),
                quiet_name(db, team, d.dri)));
        }
        add(block::kind::section,
            list_section("_Still to decide, overdue first_", lines, "/tpm decision list pending"));
    }
    add(block::kind::divider, {});

    std::vector<std::string> unowned_lines;
    for (const auto& it : unowned) {
        unowned_lines.push_back(fmt::format("• *{}* {} · {} old", it.id_str(), it.title,
                                            dates::age(now - it.created_at)));
    }
    add(block::kind::section,
        list_section(
            fmt::format("*Unowned* {} {}", unowned.size(),
                        since_snapshot(snap, "unowned", static_cast<long long>(unowned.size()))),
            unowned_lines, "/tpm owner unowned"));
    std::vector<std::string> dep_lines;
    for (const auto& d : at_risk) {
        dep_lines.push_back(fmt::format("• {}*{}* {} from {} — needed by {}",
                                        d.due < today ? ":warning: " : "", d.id_str(), d.title,
                                        d.from_who, dates::pretty(d.due)));
    }
    add(block::kind::section,
        list_section(
            fmt::format("*Dependencies at risk* (needed within a week or late) {} {}",
                        at_risk.size(),
                        since_snapshot(snap, "at_risk", static_cast<long long>(at_risk.size()))),
            dep_lines, "/tpm dep list at-risk"));
    std::vector<std::string> risk_lines;
    for (std::size_t i = 0; i < risks.size() && i < 5; ++i) {
        const auto& r = risks[i];
        risk_lines.push_back(fmt::format("• *{}* {} — p:{} i:{} · DRI {}", r.id_str(), r.title,
                                         r.probability, r.impact, quiet_name(db, team, r.dri)));
    }
    add(block::kind::section,
        list_section(
            fmt::format("*Top risks* (probability × impact) · open {} {}", risks.size(),
                        since_snapshot(snap, "risks", static_cast<long long>(risks.size()))),
            risk_lines, "/tpm risk list open"));

    // --- standups ---
    if (auto su = db.find_standup(team, channel)) {
        auto rate = [&](unix_time from) {
            long long answered = 0;
            long long asked = 0;
            for (int i = 0; i < 7; ++i) {
                auto period = dates::today(from + i * day_s + day_s / 2, su->tz);
                for (const auto& e : db.run_entries(team, channel, period)) {
                    if (e.state == "away" || e.state == "left") {
                        continue;
                    }
                    ++asked;
                    answered += e.state == "answered" ? 1 : 0;
                }
            }
            return std::pair{answered, asked};
        };
        auto [answered, asked] = rate(week_start);
        auto [answered_before, asked_before] = rate(prev_start);
        auto pct = [](long long a, long long n) {
            return n == 0 ? 0LL : a * 100 / n;
        };
        add(block::kind::section,
            fmt::format("*Standups* · answered {} of {} prompts {} · {}% {}", answered, asked,
                        delta(answered, answered_before), pct(answered, asked),
                        asked_before == 0
                            ? std::string("(new)")
                            : fmt::format("({:+d} pts)",
                                          static_cast<int>(pct(answered, asked) -
                                                           pct(answered_before, asked_before)))));
    }
    add(block::kind::context,
        "Changes in parentheses are since the week before (for unowned, at-risk, risks and "
        "overdue: since the last posted status).");

    // The fallback: the same content as plain mrkdwn, within Slack's message limit.
    std::string text;
    for (const auto& b : st.blocks) {
        if (b.type == block::kind::divider) {
            continue;
        }
        auto piece = b.type == block::kind::header ? "*" + mrkdwn::escape(b.text) + "*" : b.text;
        if (char_count(text) + char_count(piece) + 2 > max_message_chars) {
            break;
        }
        text += (text.empty() ? "" : "\n\n") + piece;
    }
    st.text = std::move(text);
    if (st.blocks.size() > max_status_blocks) {
        st.blocks.resize(max_status_blocks);
    }
    return st;
}

void save_snapshot(store& db, const std::string& team, const std::string& channel, const numbers& n,
                   unix_time now) {
    db.set_setting(team, snapshot_key(channel),
                   fmt::format("unowned={};at_risk={};risks={};overdue={};at={}", n.unowned,
                               n.at_risk, n.risks, n.overdue, now),
                   now);
}

effect status_post(const std::string& channel, const weekly_status& st) {
    effect e;
    e.to = destination::channel;
    e.channel = channel;
    e.text = st.text;
    e.blocks = st.blocks;
    return e;
}

void require_channel(const std::string& channel) {
    if (channel.empty() || (channel[0] != 'C' && channel[0] != 'G')) {
        throw user_error("The weekly status is a channel's. Type this in the channel, or name "
                         "it, e.g. `/tpm status #eng`.");
    }
}

void preview(context& ctx, std::vector<args::token>& rest) {
    auto channel = take_channel(ctx.cmd, rest);
    require_channel(channel);
    if (!rest.empty()) {
        throw user_error(fmt::format("I don't understand `{}` after status. Try `/tpm status`, "
                                     "`/tpm status post` or `{}`.",
                                     mrkdwn::safe(args::render(rest)), rag_example));
    }
    numbers n;
    auto st = build(ctx.db, ctx.cmd.team_id, channel, ctx.cmd.now, caller_zone(ctx.db, ctx.cmd), n);
    effect e;
    e.to = destination::ephemeral;
    e.channel = ctx.cmd.channel_id;
    e.user = ctx.cmd.user_id;
    e.thread_ts = mention_thread(ctx.cmd);
    e.text = "_A preview, only for you; `/tpm status post` posts it._\n\n" + st.text;
    e.blocks = st.blocks;
    e.blocks.insert(e.blocks.begin(), {block::kind::context,
                                       "A preview, only for you; `/tpm status post` posts it."});
    if (e.blocks.size() > max_status_blocks) {
        e.blocks.resize(max_status_blocks);
    }
    ctx.out.push_back(std::move(e));
}

void post(context& ctx, std::vector<args::token>& rest) {
    auto channel = take_channel(ctx.cmd, rest);
    require_channel(channel);
    if (!rest.empty()) {
        throw user_error(fmt::format("I don't understand `{}` after `status post`. Example: "
                                     "`/tpm status post #eng`.",
                                     mrkdwn::safe(args::render(rest))));
    }
    numbers n;
    auto st = build(ctx.db, ctx.cmd.team_id, channel, ctx.cmd.now, caller_zone(ctx.db, ctx.cmd), n);
    ctx.out.push_back(status_post(channel, st));
    save_snapshot(ctx.db, ctx.cmd.team_id, channel, n, ctx.cmd.now);
    ctx.reply(fmt::format("Posted the weekly status in <#{}>.", channel));
}

void rag(context& ctx, std::vector<args::token>& rest) {
    auto channel = take_channel(ctx.cmd, rest);
    require_channel(channel);
    if (rest.empty()) {
        auto r = load_rag(ctx.db, ctx.cmd.team_id, channel);
        ctx.reply(
            r.color.empty()
                ? fmt::format("No RAG set for <#{}> yet, e.g. `{}`", channel, rag_example)
                : fmt::format("<#{}> is *{}*: {} (set by {} on {}).", channel, r.color, r.evidence,
                              who(r.set_by),
                              dates::pretty(dates::today(r.set_at, caller_zone(ctx.db, ctx.cmd)))));
        return;
    }
    auto color = lower(rest[0].text);
    if (color == "g") {
        color = "green";
    } else if (color == "a" || color == "yellow") {
        color = "amber";
    } else if (color == "r") {
        color = "red";
    }
    if (rest[0].kind != args::tok::word ||
        (color != "green" && color != "amber" && color != "red")) {
        throw user_error(fmt::format("`{}` is not a RAG: use green, amber or red, e.g. `{}`",
                                     mrkdwn::safe(rest[0].raw), rag_example));
    }
    rest.erase(rest.begin());
    auto evidence = args::render(rest);
    if (evidence.empty()) {
        throw user_error(fmt::format("A RAG needs its evidence, so the status tells why, e.g. "
                                     "`{}`",
                                     rag_example));
    }
    check_length("evidence", evidence, max_note_chars);
    // Tabs separate the stored fields; rendered text has none that matter.
    std::replace(evidence.begin(), evidence.end(), '\t', ' ');
    ctx.db.set_setting(ctx.cmd.team_id, rag_key(channel),
                       fmt::format("{}\t{}\t{}\t{}", color, ctx.cmd.now, ctx.cmd.user_id, evidence),
                       ctx.cmd.now);
    ctx.channel_line(channel, fmt::format(":traffic_light: {} set the status of <#{}> to *{}*: {}",
                                          who(ctx.cmd.user_id), channel, color, evidence));
    ctx.reply(fmt::format("The RAG of <#{}> is now *{}*. The weekly status shows it with your "
                          "evidence, and warns when the data says otherwise.",
                          channel, color));
}

std::vector<std::pair<std::string, std::string>> scheduled(store& db) {
    std::vector<std::pair<std::string, std::string>> out;
    auto v = db.setting("", schedules_key);
    if (!v) {
        return out;
    }
    for (const auto& line : split(*v, '\n')) {
        auto parts = split(line, '\t');
        if (parts.size() == 2 && !parts[0].empty() && !parts[1].empty()) {
            out.emplace_back(parts[0], parts[1]);
        }
    }
    return out;
}

void save_scheduled(store& db, const std::vector<std::pair<std::string, std::string>>& list,
                    unix_time now) {
    std::string v;
    for (const auto& [team, channel] : list) {
        v += (v.empty() ? "" : "\n") + team + "\t" + channel;
    }
    db.set_setting("", schedules_key, v, now);
}

struct status_schedule {
    schedule::weekdays days = 0;
    int minute = 0;
    std::string tz;
};

std::optional<status_schedule> load_schedule(store& db, const std::string& team,
                                             const std::string& channel) {
    auto v = db.setting(team, schedule_key(channel));
    if (!v || v->empty()) {
        return std::nullopt;
    }
    auto parts = split(*v, '\t');
    if (parts.size() != 3) {
        return std::nullopt;
    }
    try {
        return status_schedule{static_cast<schedule::weekdays>(std::stoul(parts[0])),
                               std::stoi(parts[1]), parts[2]};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

void schedule_verb(context& ctx, std::vector<args::token>& rest) {
    const auto& cmd = ctx.cmd;
    if (!cmd.is_admin) {
        throw user_error("Only an admin can schedule the weekly status. `/tpm config admins` "
                         "lists them.");
    }
    auto channel = take_channel(ctx.cmd, rest);
    require_channel(channel);
    auto list = scheduled(ctx.db);
    auto entry = std::pair{cmd.team_id, channel};
    if (rest.size() == 1 && rest[0].kind == args::tok::word && lower(rest[0].text) == "off") {
        ctx.db.set_setting(cmd.team_id, schedule_key(channel), "", cmd.now);
        std::erase(list, entry);
        save_scheduled(ctx.db, list, cmd.now);
        ctx.reply(
            fmt::format("The weekly status of <#{}> is no longer posted on a schedule.", channel));
        return;
    }
    status_schedule s{1u << 4, 16 * 60, caller_zone(ctx.db, ctx.cmd)}; // Friday 16:00
    if (auto z = take_key(rest, "tz")) {
        dates::check_zone(z->value);
        s.tz = z->value;
    }
    if (!rest.empty()) {
        s.days = schedule::parse_weekdays(lower(rest[0].text));
        rest.erase(rest.begin());
    }
    if (!rest.empty()) {
        s.minute = schedule::parse_time_of_day(rest[0].text);
        rest.erase(rest.begin());
    }
    if (!rest.empty()) {
        throw user_error(fmt::format("I don't understand `{}`. Example: `{}`",
                                     mrkdwn::safe(args::render(rest)), schedule_example));
    }
    ctx.db.set_setting(cmd.team_id, schedule_key(channel),
                       fmt::format("{}\t{}\t{}", s.days, s.minute, s.tz), cmd.now);
    if (std::find(list.begin(), list.end(), entry) == list.end()) {
        list.push_back(entry);
        save_scheduled(ctx.db, list, cmd.now);
    }
    auto next = schedule::next_firing(s.minute, s.days, s.tz, cmd.now);
    ctx.reply(fmt::format("The weekly status of <#{}> will be posted there {} at {} {}{}. "
                          "`/tpm status` previews it now.",
                          channel, schedule::format_weekdays(s.days),
                          schedule::format_time_of_day(s.minute), s.tz,
                          next ? ", next on " + dates::pretty(next->period) : ""));
}

void status_noun(context& ctx, std::vector<args::token>& rest) {
    auto word = !rest.empty() && rest[0].kind == args::tok::word ? lower(rest[0].text) : "";
    if (word == "post" || word == "rag" || word == "schedule" || word == "preview") {
        rest.erase(rest.begin());
    }
    if (word == "post") {
        post(ctx, rest);
    } else if (word == "rag") {
        rag(ctx, rest);
    } else if (word == "schedule") {
        schedule_verb(ctx, rest);
    } else if (word.empty() || word == "preview" ||
               (rest.size() == 1 && rest[0].kind == args::tok::channel)) {
        preview(ctx, rest);
    } else {
        throw user_error(fmt::format("`/tpm status` has no `{}`. {}", mrkdwn::escape(word),
                                     ctx.routes->did_you_mean(word, "status")));
    }
}

} // namespace

rag_state load_rag(store& db, const std::string& team_id, const std::string& channel_id) {
    rag_state r;
    auto v = db.setting(team_id, rag_key(channel_id));
    if (!v) {
        return r;
    }
    auto parts = split(*v, '\t');
    if (parts.size() < 4) {
        return r;
    }
    r.color = parts[0];
    try {
        r.set_at = std::stoll(parts[1]);
    } catch (const std::exception&) {
        r.set_at = 0;
    }
    r.set_by = parts[2];
    r.evidence = parts[3];
    return r;
}

weekly_status build_status(store& db, const std::string& team_id, const std::string& channel_id,
                           unix_time now, const std::string& tz) {
    numbers n;
    return build(db, team_id, channel_id, now, tz, n);
}

int run_status_jobs(store& db, unix_time from, unix_time to, unix_time grace, const emit_fn& emit,
                    const job_log_fn& log) {
    int ran = 0;
    for (const auto& where : scheduled(db)) {
        // Named, not structured bindings: those cannot be captured by the lambda below in
        // every compiler this builds with (clang 14, for the fuzz build).
        const auto& team = where.first;
        const auto& channel = where.second;
        auto name = fmt::format("status:{}:{}", team, channel);
        try {
            auto s = load_schedule(db, team, channel);
            if (!s) {
                continue;
            }
            daily_job job{name, s->minute, s->days, s->tz, grace};
            ran += run_due(db, job, from, to, "weekly status", log, [&](const auto&) {
                numbers n;
                auto st = build(db, team, channel, to, s->tz, n);
                emit(team, status_post(channel, st));
                save_snapshot(db, team, channel, n, to);
            });
        } catch (const std::exception& e) {
            log(fmt::format("{} failed and will be tried again: {}", name, e.what()));
        }
    }
    return ran;
}

unix_time next_status_due(store& db, unix_time after) {
    unix_time best = 0;
    for (const auto& [team, channel] : scheduled(db)) {
        try {
            auto s = load_schedule(db, team, channel);
            if (!s) {
                continue;
            }
            if (auto f = schedule::next_firing(s->minute, s->days, s->tz, after);
                f && (best == 0 || f->due < best)) {
                best = f->due;
            }
        } catch (const std::exception&) {
            // run_status_jobs logs it
        }
    }
    return best;
}

void register_status(router& r) {
    noun_def d;
    d.name = "status";
    d.title = "The weekly status: what is blocked, owned, decided and at risk";
    d.fn = status_noun;
    d.help = {
        {"/tpm status [#channel]", "Preview the channel's weekly status, only to you.",
         "/tpm status", true, "preview"},
        {"/tpm status post [#channel]", "Post the weekly status in the channel now.",
         "/tpm status post", false, "post"},
        {"/tpm status rag <green|amber|red> \"<evidence>\" [#channel]",
         "Set the channel's RAG, with the evidence for it.", std::string(rag_example), false,
         "rag"},
        {"/tpm status schedule [<days> <HH:MM>] [#channel] | schedule off",
         "Post the weekly status on a schedule (default fri 16:00); admins only.",
         std::string(schedule_example), false, "schedule"},
    };
    r.add(std::move(d));
}

} // namespace tpmbot
