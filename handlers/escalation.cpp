#include "escalation.hpp"

#include "dates.hpp"
#include "mrkdwn.hpp"
#include "schedule.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <set>

namespace tpmbot {

namespace {

constexpr unix_time day_s = 86400;
constexpr std::string_view policy_key = "escalation.policy";
constexpr std::array<std::string_view, 3> severities = {"high", "med", "low"};

std::size_t severity_row(const item& it) {
    if (it.kind == item_kind::decision) {
        return 1;
    }
    return it.severity == "high" ? 0 : it.severity == "low" ? 2 : 1;
}

std::string zone_of(store& db, const std::string& team, const std::string& user) {
    return person_zone(db, team, user, "UTC");
}

bool quiet(const escalation_policy& p, const std::string& tz, unix_time t) {
    if (p.quiet_from < 0 || p.quiet_from == p.quiet_to) {
        return false;
    }
    auto m = schedule::local_minute(t, tz);
    return p.quiet_from < p.quiet_to ? (m >= p.quiet_from && m < p.quiet_to)
                                     : (m >= p.quiet_from || m < p.quiet_to);
}

/// When the item's clock started: its last change (an ack or an update resets it) or the end
/// of its snooze, and for an overdue decision not before the day after its decide-by date.
unix_time clock_start(const item& it, const std::string& tz) {
    // A snooze holds the clock until it ends.
    auto start = std::max(it.updated_at, it.snoozed_until);
    if (it.kind == item_kind::decision) {
        auto after_due = *dates::parse("+1d", schedule::at_local(it.due, 0, tz), tz);
        return std::max(start, schedule::at_local(after_due, 0, tz));
    }
    return start;
}

/// Who hears of step 3: the escalation contact, else the admins added with config.
std::vector<std::string> step3_people(store& db, const std::string& team,
                                      const escalation_policy& p) {
    if (!p.contact.empty()) {
        return {p.contact};
    }
    return db.list_admins(team);
}

std::string what(const item& it) {
    return fmt::format("*{}* {}", it.id_str(), it.title);
}

/// One due step of one item.
struct due_step {
    item it;
    int step = 0;
    std::string job;
    std::string period;
    unix_time age = 0;
};

/// What the ladder and the reminders look at: open blockers, and pending decisions that have a
/// decide-by date.
std::vector<item> ladder_candidates(store& db, const std::string& team) {
    item_query q;
    q.team_id = team;
    q.kind = item_kind::blocker;
    q.statuses = {"open", "acked"};
    auto items = db.list_items(q);
    q.kind = item_kind::decision;
    q.statuses = {"proposed"};
    for (auto& d : db.list_items(q)) {
        if (!d.due.empty()) {
            items.push_back(std::move(d));
        }
    }
    return items;
}

void ladder(store& db, const std::string& team, const escalation_policy& p,
            const std::vector<item>& candidates, unix_time now, const emit_fn& emit,
            const job_log_fn& log, int& ran) {
    std::map<std::string, std::vector<due_step>> step2_by_channel;
    for (const auto& it : candidates) {
        auto tz = zone_of(db, team, it.dri);
        if (it.kind == item_kind::decision && it.due >= dates::today(now, tz)) {
            continue; // a decision climbs only once it is overdue
        }
        auto start = clock_start(it, tz);
        auto age = now - start;
        const auto& days = p.days[severity_row(it)];
        for (int step = 1; step <= 3; ++step) {
            if (age < days[step - 1] * day_s) {
                break;
            }
            due_step s{it, step, fmt::format("escalate:{}:{}:{}", team, it.id_str(), step),
                       std::to_string(start), age};
            if (step == 2) {
                // Checked by reading first: most steps of old items have long been sent, and
                // a round must not open a write transaction for each of them.
                if (!db.claimed(s.job, s.period)) {
                    step2_by_channel[it.channel_id].push_back(std::move(s));
                }
                continue;
            }
            // Steps 1 and 3 are DMs: deferred while it is quiet time where the person is, so
            // each person of step 3 is claimed on their own.
            auto people = step == 1
                              ? std::vector<std::string>{it.dri.empty() ? it.reporter : it.dri}
                              : step3_people(db, team, p);
            if (people.empty()) {
                if (db.claimed(s.job + ":nobody", s.period)) {
                    continue;
                }
                db.transact([&] {
                    if (db.claim(s.job + ":nobody", s.period, now)) {
                        log(fmt::format("{} has reached step 3 but there is no escalation contact "
                                        "and no admin to tell; set one with /tpm config "
                                        "escalation contact:@who",
                                        it.id_str()));
                    }
                });
                continue;
            }
            auto late = it.kind == item_kind::decision
                            ? fmt::format("was due {}", dates::pretty(it.due))
                            : fmt::format("has had no update for {}", dates::age(age));
            for (const auto& u : people) {
                if (quiet(p, zone_of(db, team, u), now)) {
                    continue;
                }
                auto key = step == 1 ? s.job : s.job + ":" + u;
                if (db.claimed(key, s.period)) {
                    continue;
                }
                db.transact([&] {
                    if (!db.claim(key, s.period, now)) {
                        return;
                    }
                    ++ran;
                    if (step == 1) {
                        // An acked blocker cannot be acked again: it only asks for an update.
                        bool can_ack = it.kind == item_kind::blocker && it.status == "open";
                        auto ask = it.kind == item_kind::decision ? "Decide it, or add an update"
                                   : can_ack                      ? "Ack it, or add an update"
                                                                  : "Add an update";
                        emit(team,
                             dm_effect(
                                 u,
                                 fmt::format(":hourglass: {} in <#{}> {}. {}: `/tpm {} {} update "
                                             "<text>`.",
                                             what(it), it.channel_id, late, ask, kind_name(it.kind),
                                             it.id_str()),
                                 can_ack ? std::vector<button>{{"Ack", "ack",
                                                                "blocker " + it.id_str() + " ack"}}
                                         : std::vector<button>{}));
                    } else {
                        emit(team,
                             dm_effect(u, fmt::format(":rotating_light: Escalation: {} in <#{}> "
                                                      "{}, and its DRI ({}) has been told twice.",
                                                      what(it), it.channel_id, late, who(it.dri))));
                    }
                });
            }
        }
    }
    // Step 2 is a thread post and a channel line; a burst in one channel becomes one message.
    for (auto& entry : step2_by_channel) {
        // Named, not structured bindings, so the lambda below can capture them with clang 14.
        const auto& channel = entry.first;
        auto& steps = entry.second;
        if (steps.empty() || quiet(p, p.quiet_tz, now)) {
            continue;
        }
        db.transact([&] {
            std::vector<const due_step*> fired;
            for (const auto& s : steps) {
                if (db.claim(s.job, s.period, now)) {
                    fired.push_back(&s);
                }
            }
            if (fired.empty()) {
                return;
            }
            ran += static_cast<int>(fired.size());
            std::vector<std::string> lines;
            for (const auto* s : fired) {
                const auto& it = s->it;
                auto late = it.kind == item_kind::decision
                                ? fmt::format("was due {}", dates::pretty(it.due))
                                : fmt::format("no update for {}", dates::age(s->age));
                effect t;
                t.to = destination::thread;
                t.channel = it.channel_id;
                t.item = it.id_str();
                t.text = fmt::format(":rotating_light: {} {}. DRI {}: an ack or an update stops "
                                     "the escalation.",
                                     it.id_str(), late, who(it.dri));
                emit(team, t);
                lines.push_back(fmt::format("• {} — {} · DRI {}", what(it), late,
                                            quiet_name(db, team, it.dri)));
            }
            effect c;
            c.to = destination::channel;
            c.channel = channel;
            if (static_cast<int>(lines.size()) <= p.noise_budget) {
                for (const auto& l : lines) {
                    c.text =
                        ":rotating_light: Needs attention: " + l.substr(std::string("• ").size());
                    emit(team, c);
                }
            } else {
                c.text =
                    fmt::format(":rotating_light: {} items here need attention:", lines.size());
                for (const auto& l : lines) {
                    c.text += "\n" + l;
                }
                emit(team, c);
            }
        });
    }
}

void decision_reminders(store& db, const std::string& team, const escalation_policy& p,
                        const std::vector<item>& candidates, unix_time now, const emit_fn& emit,
                        int& ran) {
    for (const auto& d : candidates) {
        if (d.kind != item_kind::decision || d.dri.empty()) {
            continue;
        }
        auto tz = zone_of(db, team, d.dri);
        auto tomorrow = *dates::parse("tomorrow", now, tz);
        if (tomorrow != d.due || quiet(p, tz, now)) {
            continue;
        }
        auto job = fmt::format("decision-reminder:{}:{}", team, d.id_str());
        if (db.claimed(job, d.due)) {
            continue;
        }
        db.transact([&] {
            if (!db.claim(job, d.due, now)) {
                return;
            }
            ++ran;
            emit(team,
                 dm_effect(d.dri,
                           fmt::format(":spiral_calendar_pad: Reminder: {} in <#{}> is due "
                                       "tomorrow ({}). `/tpm decision {} decide "
                                       "\"<outcome>\"` or `extend <date>`.",
                                       what(d), d.channel_id, dates::pretty(d.due), d.id_str())));
        });
    }
}

/// Why an open item has nobody looking after it, or "" when it has.
std::string unowned_reason(store& db, const item& it, const std::string& today) {
    if (it.dri.empty()) {
        return "no DRI";
    }
    if (auto p = db.find_standup_person(it.team_id, it.dri);
        p && !p->ooo_until.empty() && p->ooo_until >= today) {
        return fmt::format("DRI {} is out of office until {}", who(it.dri),
                           dates::pretty(p->ooo_until));
    }
    if (auto u = db.find_user(it.team_id, it.dri); u && u->deleted) {
        return fmt::format("DRI {} left the workspace", who(it.dri));
    }
    if (auto m = db.channel_members(it.team_id, it.channel_id);
        m && std::find(m->begin(), m->end(), it.dri) == m->end()) {
        return fmt::format("DRI {} is not in <#{}>", who(it.dri), it.channel_id);
    }
    return {};
}

void unowned_queue(store& db, const std::string& team, unix_time from, unix_time to,
                   const emit_fn& emit, const job_log_fn& log, int& ran) {
    for (const auto& admin : db.list_admins(team)) {
        daily_job job;
        job.name = fmt::format("unowned-queue:{}:{}", team, admin);
        job.minute = 9 * 60;
        job.days = schedule::monday_to_friday;
        job.tz = zone_of(db, team, admin);
        job.grace = 6 * 3600;
        ran += run_due(db, job, from, to, "unowned queue", log, [&](const auto& f) {
            item_query q;
            q.team_id = team;
            q.statuses = {"open", "acked", "proposed"};
            std::vector<std::string> lines;
            std::vector<button> buttons;
            for (const auto& it : db.list_items(q)) {
                auto why = unowned_reason(db, it, f.period);
                if (why.empty()) {
                    continue;
                }
                lines.push_back(fmt::format("• {} in <#{}> — {}", what(it), it.channel_id, why));
                if (buttons.size() < 10) { // the first five: take it, or pick its DRI
                    buttons.push_back(
                        {"Take " + it.id_str(), "assign", fmt::format("owner {} me", it.id_str())});
                    buttons.push_back({"Assign " + it.id_str() + "…", "assign_to",
                                       fmt::format("owner {}", it.id_str()), true});
                }
            }
            if (lines.empty()) {
                log(fmt::format("{} {}: nothing unowned", job.name, f.period));
                return;
            }
            std::string text = fmt::format(":busts_in_silhouette: *Unowned* — {} item{} "
                                           "nobody is looking after:",
                                           lines.size(), lines.size() == 1 ? "" : "s");
            for (std::size_t i = 0; i < lines.size() && i < max_list_lines; ++i) {
                text += "\n" + lines[i];
            }
            if (lines.size() > max_list_lines) {
                text += fmt::format("\n_and {} more: `/tpm owner unowned`_",
                                    lines.size() - max_list_lines);
            }
            text += "\nTake one, or pick who owns it, below; or `/tpm owner <ID> @user`.";
            emit(team, dm_effect(admin, std::move(text), std::move(buttons)));
        });
    }
}

} // namespace

std::array<int, 3> parse_steps(std::string_view text, std::string_view key) {
    std::array<int, 3> out{};
    std::string_view rest = text;
    for (std::size_t i = 0; i < 3; ++i) {
        auto slash = rest.find('/');
        auto part = rest.substr(0, slash);
        if (!part.empty() && part.back() == 'd') {
            part.remove_suffix(1);
        }
        int n = 0;
        bool ok = !part.empty() && part.size() <= 3 &&
                  part.find_first_not_of("0123456789") == std::string_view::npos;
        if (ok) {
            n = std::stoi(std::string(part));
        }
        if (!ok || n < 1 || (i > 0 && n <= out[i - 1]) ||
            (i < 2 && slash == std::string_view::npos)) {
            throw user_error(fmt::format("`{}:{}` is not three growing numbers of days. Use e.g. "
                                         "`{}:1/2/3`.",
                                         key, mrkdwn::escape(text), key));
        }
        out[i] = n;
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    if (!rest.empty()) {
        throw user_error(fmt::format("`{}:{}` has more than three steps. Use e.g. `{}:1/2/3`.", key,
                                     mrkdwn::escape(text), key));
    }
    return out;
}

std::pair<int, int> parse_quiet_hours(std::string_view text) {
    auto dash = text.find('-');
    if (dash == std::string_view::npos) {
        throw user_error("Quiet hours are a range of times, e.g. `/tpm config quiet-hours "
                         "19:00-08:00`, or `off`.");
    }
    auto from = schedule::parse_time_of_day(text.substr(0, dash));
    auto to = schedule::parse_time_of_day(text.substr(dash + 1));
    if (from == to) {
        throw user_error("Quiet hours need a start and an end that differ, e.g. `19:00-08:00`.");
    }
    return {from, to};
}

escalation_policy load_policy(store& db, const std::string& team_id) {
    escalation_policy p;
    auto v = db.setting(team_id, policy_key);
    if (!v) {
        return p;
    }
    // "high=1/2/3;med=2/4/6;low=5/10/15;contact=U1;quiet=1140-480;budget=3"
    std::size_t start = 0;
    while (start < v->size()) {
        auto end = v->find(';', start);
        auto part = v->substr(start, end == std::string::npos ? std::string::npos : end - start);
        start = end == std::string::npos ? v->size() : end + 1;
        auto eq = part.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        auto key = part.substr(0, eq);
        auto val = part.substr(eq + 1);
        try {
            for (std::size_t i = 0; i < severities.size(); ++i) {
                if (key == severities[i]) {
                    p.days[i] = parse_steps(val, key);
                }
            }
            if (key == "contact") {
                p.contact = val;
            } else if (key == "quiet" && !val.empty()) {
                // "1140-480@Europe/Berlin"
                auto dash = val.find('-');
                auto at = val.find('@');
                p.quiet_from = std::stoi(val.substr(0, dash));
                p.quiet_to = std::stoi(val.substr(dash + 1, at - dash - 1));
                if (at != std::string::npos) {
                    auto tz = val.substr(at + 1);
                    dates::check_zone(tz); // a zone gone from tzdata keeps the default
                    p.quiet_tz = tz;
                }
            } else if (key == "budget") {
                p.noise_budget = std::max(1, std::stoi(val));
            }
        } catch (const std::exception&) {
            // A damaged part keeps its default rather than stopping the ladder.
        }
    }
    return p;
}

void save_policy(store& db, const std::string& team_id, const escalation_policy& p, unix_time now) {
    std::string v;
    for (std::size_t i = 0; i < severities.size(); ++i) {
        v += fmt::format("{}={}/{}/{};", severities[i], p.days[i][0], p.days[i][1], p.days[i][2]);
    }
    v += "contact=" + p.contact + ";";
    if (p.quiet_from >= 0) {
        v += fmt::format("quiet={}-{}@{};", p.quiet_from, p.quiet_to, p.quiet_tz);
    }
    v += fmt::format("budget={}", p.noise_budget);
    db.set_setting(team_id, policy_key, v, now);
}

std::string describe_policy(const escalation_policy& p) {
    std::string out = "Escalation after days without an update (DM to the DRI / thread and "
                      "channel / the escalation contact):";
    for (std::size_t i = 0; i < severities.size(); ++i) {
        out += fmt::format(" {} {}/{}/{}d{}", severities[i], p.days[i][0], p.days[i][1],
                           p.days[i][2], i + 1 < severities.size() ? " ·" : ".");
    }
    out += " Overdue decisions follow med, from the day after their decide-by date.";
    out += p.contact.empty() ? " Step 3 goes to the admins."
                             : fmt::format(" Step 3 goes to {}.", who(p.contact));
    out += p.quiet_from < 0 ? " No quiet hours."
                            : fmt::format(" Quiet hours {}-{} (in each person's zone for DMs, "
                                          "{} for channel posts).",
                                          schedule::format_time_of_day(p.quiet_from),
                                          schedule::format_time_of_day(p.quiet_to), p.quiet_tz);
    out += fmt::format(" More than {} channel lines at once become one message.", p.noise_budget);
    return out;
}

unix_time next_escalation_due(store& db, unix_time after) {
    unix_time best = 0;
    auto consider = [&](unix_time t) {
        if (t > after && (best == 0 || t < best)) {
            best = t;
        }
    };
    for (const auto& team : db.teams()) {
        try {
            auto p = load_policy(db, team);
            auto items = ladder_candidates(db, team);
            for (const auto& d : items) {
                if (d.kind == item_kind::decision) {
                    auto tz = zone_of(db, team, d.dri);
                    // The reminder: the start of the day before the decide-by date.
                    auto before =
                        *dates::parse("+0d", schedule::at_local(d.due, 0, tz) - day_s / 2, tz);
                    consider(schedule::at_local(before, 0, tz));
                }
            }
            // Where quiet hours end: channel posts wait for p.quiet_tz, a DM for its
            // recipient's zone.
            std::set<std::string> zones = {p.quiet_tz};
            for (const auto& it : items) {
                auto start = clock_start(it, zone_of(db, team, it.dri));
                for (int days : p.days[severity_row(it)]) {
                    consider(start + days * day_s);
                }
                zones.insert(zone_of(db, team, it.dri.empty() ? it.reporter : it.dri));
            }
            for (const auto& u : step3_people(db, team, p)) {
                zones.insert(zone_of(db, team, u));
            }
            for (const auto& admin : db.list_admins(team)) {
                if (auto f = schedule::next_firing(9 * 60, schedule::monday_to_friday,
                                                   zone_of(db, team, admin), after)) {
                    consider(f->due);
                }
            }
            if (p.quiet_from >= 0) {
                for (const auto& tz : zones) {
                    if (auto f =
                            schedule::next_firing(p.quiet_to, schedule::every_day, tz, after)) {
                        consider(f->due);
                    }
                }
            }
        } catch (const std::exception&) {
            // run_escalation_jobs logs it
        }
    }
    return best;
}

int run_escalation_jobs(store& db, unix_time from, unix_time to, const emit_fn& emit,
                        const job_log_fn& log) {
    int ran = 0;
    for (const auto& team : db.teams()) {
        try {
            auto p = load_policy(db, team);
            auto candidates = ladder_candidates(db, team);
            ladder(db, team, p, candidates, to, emit, log, ran);
            decision_reminders(db, team, p, candidates, to, emit, ran);
            unowned_queue(db, team, from, to, emit, log, ran);
        } catch (const std::exception& e) {
            log(fmt::format("escalation for {} failed and will be tried again: {}", team,
                            e.what()));
        }
    }
    return ran;
}

} // namespace tpmbot
