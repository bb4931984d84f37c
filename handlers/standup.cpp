#include "standup.hpp"

#include "dates.hpp"
#include "mrkdwn.hpp"
#include "router.hpp"
#include "schedule.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <limits>

namespace tpmbot {

namespace {

constexpr std::string_view setup_example =
    "/tpm standup setup #eng at:09:30 days:mon-fri report:11:00 members:@ana,@raj";
constexpr std::array<std::string_view, 5> setup_keys = {"at", "days", "report", "members", "tz"};
constexpr std::size_t max_members = 200;
/// A reminder needs time to be worth anything: none when the report is this close.
constexpr unix_time min_reminder_gap = 30 * 60;
/// The note of an entry asked with `standup now`: the scheduled prompt of that run is covered.
constexpr std::string_view asked_early = "asked early";
/// The reminder comes at most this long after the prompt.
constexpr unix_time max_reminder_delay = 3 * 3600;
/// An unanswered prompt of a reported run takes late answers for this long.
constexpr unix_time late_window = 24 * 3600;

std::string hhmm(unix_time t, std::string_view tz) {
    return schedule::format_time_of_day(schedule::local_minute(t, tz));
}

/// `tz` when the zone database knows it, else `fallback` (Slack may name a zone newer than
/// this machine's tzdata; one unknown zone must not stop everyone's standups).
std::string usable_zone(const std::string& tz, const std::string& fallback) {
    try {
        dates::check_zone(tz);
        return tz;
    } catch (const user_error&) {
        return fallback;
    }
}

/// "at 11:00", or "Thu 2026-11-26 at 02:00" when the report is on another day than `ref`
/// in the member's zone.
std::string report_when(unix_time report_due, std::string_view tz, unix_time ref) {
    auto day = dates::today(report_due, tz);
    if (day == dates::today(ref, tz)) {
        return "at " + hhmm(report_due, tz);
    }
    return fmt::format("{} at {}", dates::pretty(day), hhmm(report_due, tz));
}

std::string joined(const std::vector<std::string>& parts, std::string_view sep) {
    std::string out;
    for (const auto& p : parts) {
        out += (out.empty() ? "" : std::string(sep)) + p;
    }
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

standup require_standup(context& ctx, const std::string& channel) {
    auto s = ctx.db.find_standup(ctx.cmd.team_id, channel);
    if (!s) {
        throw user_error(fmt::format("There is no standup in <#{}>. An admin can set one up, "
                                     "e.g. `{}`",
                                     channel, setup_example));
    }
    return *s;
}

void require_admin(const command& cmd, std::string_view what) {
    if (!cmd.is_admin) {
        throw user_error(
            fmt::format("Only an admin can {}. `/tpm config admins` lists them.", what));
    }
}

standup_person person_of(store& db, const std::string& team, const std::string& user) {
    if (auto p = db.find_standup_person(team, user)) {
        return *p;
    }
    standup_person p;
    p.team_id = team;
    p.user_id = user;
    return p;
}

/// Answers that mean "nothing blocks me".
bool says_nothing(std::string_view answer) {
    auto a = lower(trim(answer));
    while (!a.empty() && std::string_view(".!").find(a.back()) != std::string_view::npos) {
        a.pop_back();
    }
    static const std::array<std::string_view, 18> nothing = {"",
                                                             "none",
                                                             "no",
                                                             "nope",
                                                             "nothing",
                                                             "n/a",
                                                             "na",
                                                             "-",
                                                             "no blockers",
                                                             "no blocker",
                                                             "nothing blocking",
                                                             "nothing blocking me",
                                                             "not blocked",
                                                             "all good",
                                                             "nah",
                                                             ":+1:",
                                                             ":thumbsup:",
                                                             "none so far"};
    return std::find(nothing.begin(), nothing.end(), a) != nothing.end();
}

/// Whether the answer names an existing item (B-3), so it needs no new one.
bool names_item(store& db, const std::string& team, std::string_view answer) {
    try {
        for (const auto& t : args::tokenize(answer)) {
            auto word = t.text;
            while (!word.empty() &&
                   std::string_view(".,;:!?)").find(word.back()) != std::string_view::npos) {
                word.pop_back();
            }
            if (auto id = parse_item_id(word); id && db.find_item(team, *id)) {
                return true;
            }
        }
    } catch (const user_error&) {
        // An unbalanced quote is still an answer; it just names nothing.
    }
    return false;
}

std::string question_line(std::size_t index) {
    const auto& qs = standup_questions();
    return fmt::format("*{}/{}* {}", index + 1, qs.size(), qs[index]);
}

/// Open blockers the person owns or reported, for the prompt's "still blocked?".
std::vector<item> their_blockers(store& db, const std::string& team, const std::string& user) {
    item_query q;
    q.team_id = team;
    q.kind = item_kind::blocker;
    q.statuses = {"open", "acked"};
    q.dri = user;
    q.mine_user_either = true;
    q.limit = 10;
    return db.list_items(q);
}

/// The report of the run a prompt at `at` belongs to: the first report after it.
std::optional<schedule::firing> report_after(const standup& s, unix_time at) {
    return schedule::next_firing(s.report_minute, s.days, s.tz, at);
}

standup_run load_run(store& db, const standup& s, const schedule::firing& report) {
    if (auto r = db.find_run(s.team_id, s.channel_id, report.period)) {
        return *r;
    }
    standup_run r;
    r.team_id = s.team_id;
    r.channel_id = s.channel_id;
    r.period = report.period;
    r.report_due = report.due;
    db.put_run(r);
    return r;
}

/// What asking one member came to.
enum class asked { prompted, not_asked, already, none };

/// Asks one member for a run's answers (or records why they are not asked). `local_day` is
/// the member's date of the prompt, `due` when it was due, `now` the time it is sent.
asked prompt_member(store& db, const standup& s, const std::string& user,
                    const std::string& local_day, unix_time due, unix_time now, const emit_fn& emit,
                    const job_log_fn& log, bool early = false) {
    auto zone = member_zone(db, s, user);
    auto report = report_after(s, due);
    if (!report) {
        return asked::none;
    }
    if (auto existing = db.find_entry(s.team_id, s.channel_id, report->period, user)) {
        // When the member's zone and the standup's change clocks on different dates, two of
        // the member's days can land before the same report; the later one takes the next.
        if (dates::today(existing->prompted_at, zone) == local_day ||
            existing->note == asked_early) {
            return asked::already;
        }
        report = report_after(s, report->due);
        if (!report || db.find_entry(s.team_id, s.channel_id, report->period, user)) {
            return asked::already;
        }
    }
    if (report->due <= now) {
        log(fmt::format("standup prompt for {} in {} {} {} not sent: its report time has "
                        "passed",
                        user, s.team_id, s.channel_id, report->period));
        return asked::none;
    }
    auto run = load_run(db, s, *report);
    if (run.reported_at != 0) {
        log(fmt::format("standup prompt for {} in {} {} {} not sent: its report is already out",
                        user, s.team_id, s.channel_id, run.period));
        return asked::none;
    }
    // An unanswered prompt of an earlier day no longer takes answers (one answered in part
    // stays, so its answers still reach its report).
    for (auto old : db.open_entries(s.team_id, user)) {
        if (old.channel_id == s.channel_id && old.answers.empty()) {
            old.state = "missed";
            db.put_entry(old);
        }
    }
    standup_entry e;
    e.team_id = s.team_id;
    e.channel_id = s.channel_id;
    e.period = run.period;
    e.user_id = user;
    e.prompted_at = now;
    auto person = person_of(db, s.team_id, user);
    auto known = db.find_user(s.team_id, user);
    auto channel_members =
        s.whole_channel ? std::nullopt : db.channel_members(s.team_id, s.channel_id);
    if (known && known->deleted) {
        e.state = "left";
        e.note = "left the workspace";
    } else if (channel_members && !contains(*channel_members, user)) {
        e.state = "left";
        e.note = "not in the channel";
    } else if (!person.ooo_until.empty() && person.ooo_until >= local_day) {
        e.state = "away";
        e.note = "out of office until " + dates::pretty(person.ooo_until);
    } else if (person.skip_day == local_day) {
        e.state = "away";
        e.note = "skipped";
    } else {
        e.state = "prompted";
        if (early) {
            e.note = std::string(asked_early);
        }
        // Halfway to the report, but within the working day of the prompt (never, say, on
        // a Saturday before a Monday report).
        if (report->due - now >= min_reminder_gap) {
            e.reminder_due = now + std::min(max_reminder_delay, (report->due - now) / 2);
        }
        auto when = report_when(report->due, zone, now);
        std::string text =
            fmt::format(":wave: *Standup for <#{}>* · {} · the report goes out {} your time.\n"
                        "Answer here: one message per question, or all {} at once, one per line.",
                        s.channel_id, dates::pretty(local_day), when, standup_questions().size());
        std::vector<button> buttons;
        auto blockers = their_blockers(db, s.team_id, user);
        if (!blockers.empty()) {
            text += "\n\n*Still blocked?* Open blockers you own or reported:";
            for (const auto& b : blockers) {
                text += "\n" + list_line(b, now);
                if (buttons.size() < 3) {
                    buttons.push_back(
                        {"Resolve " + b.id_str(), "resolve", "blocker " + b.id_str() + " resolve"});
                }
            }
            text += "\nName an id in your blockers answer if it still blocks you.";
        }
        text += "\n\n" + question_line(0);
        emit(s.team_id, dm_effect(user, std::move(text), std::move(buttons)));
    }
    db.put_entry(e);
    return e.state == "prompted" ? asked::prompted : asked::not_asked;
}

std::string digest_text(store& db, const standup& s, const std::string& period,
                        const std::vector<standup_entry>& entries) {
    const auto& qs = standup_questions();
    std::string out = fmt::format("*Standup · <#{}> · {}*", s.channel_id, dates::pretty(period));
    std::vector<std::string> blockers, away, silent, gone;
    std::string answers;
    for (const auto& e : entries) {
        if (e.state == "away") {
            away.push_back(fmt::format("{} ({})", quiet_name(db, e.team_id, e.user_id), e.note));
            continue;
        }
        if (e.state == "left") {
            gone.push_back(fmt::format("{} ({})", quiet_name(db, e.team_id, e.user_id), e.note));
            continue;
        }
        if (e.answers.empty()) {
            silent.push_back(quiet_name(db, e.team_id, e.user_id));
            continue;
        }
        if (e.answers.size() > blocker_question && !says_nothing(e.answers[blocker_question])) {
            blockers.push_back(fmt::format("• {}: {}", quiet_name(db, e.team_id, e.user_id),
                                           e.answers[blocker_question]));
        }
        answers += fmt::format("\n*{}*", quiet_name(db, e.team_id, e.user_id));
        for (std::size_t i = 0; i < e.answers.size() && i < qs.size(); ++i) {
            answers += fmt::format("\n_{}_ {}", qs[i], e.answers[i]);
        }
        if (e.answers.size() < qs.size()) {
            answers += "\n_(did not finish)_";
        }
    }
    out += "\n\n*Blockers*";
    out += blockers.empty() ? "\nNone reported." : "\n" + joined(blockers, "\n");
    if (!answers.empty()) {
        out += "\n\n*Answers*" + answers;
    }
    if (!away.empty()) {
        out += "\n\n*Away:* " + joined(away, ", ");
    }
    if (!silent.empty()) {
        out += "\n\n*No answer yet:* " + joined(silent, ", ") + " (late answers go in this thread)";
    }
    if (!gone.empty()) {
        out += "\n\n*Not asked:* " + joined(gone, ", ");
    }
    return out;
}

void write_digest(store& db, const standup& s, const schedule::firing& f, unix_time now,
                  const emit_fn& emit, const job_log_fn& log) {
    auto run = load_run(db, s, f);
    if (run.reported_at != 0) {
        return;
    }
    auto entries = db.run_entries(s.team_id, s.channel_id, run.period);
    run.reported_at = now;
    db.put_run(run);
    if (entries.empty()) {
        log(fmt::format("standup digest for {} {} {}: nobody was asked, nothing posted", s.team_id,
                        s.channel_id, run.period));
        return;
    }
    effect e;
    e.to = destination::channel;
    e.channel = s.channel_id;
    e.is_card = true;
    e.item = digest_key(s.channel_id, run.period);
    e.text = digest_text(db, s, run.period, entries);
    emit(s.team_id, e);
}

void send_reminder(store& db, standup_entry e, unix_time now, const emit_fn& emit) {
    auto s = db.find_standup(e.team_id, e.channel_id);
    auto run = db.find_run(e.team_id, e.channel_id, e.period);
    e.reminded_at = now;
    db.put_entry(e);
    if (!s || s->paused || !run || run->reported_at != 0 || run->report_due <= now) {
        return;
    }
    auto zone = member_zone(db, *s, e.user_id);
    if (!schedule::is_one_of(dates::today(now, zone), s->days)) {
        return; // no nudges on days off
    }
    auto when = report_when(run->report_due, zone, now);
    emit(e.team_id,
         dm_effect(e.user_id, fmt::format(":alarm_clock: A reminder: the standup for <#{}> "
                                          "reports {} your time and I don't have your "
                                          "answers yet.\n{}",
                                          e.channel_id, when, question_line(e.answers.size()))));
}

/// Splits a reply into `remaining` answers when it has exactly one (non-empty) line for each;
/// otherwise it is one answer (a bullet list answers one question).
std::vector<std::string> split_answers(std::string_view text, std::size_t remaining) {
    auto lines = nonblank_lines(text);
    if (remaining <= 1 || lines.size() != remaining) {
        return {trim(text)};
    }
    return lines;
}

/// Whether the entry still takes answers at `now`: asked, not finished, and its report is
/// either to come or recent enough for a late answer.
bool takes_answers(store& db, const standup_entry& e, unix_time now) {
    if (e.state != "prompted") {
        return false;
    }
    auto run = db.find_run(e.team_id, e.channel_id, e.period);
    return !run || run->reported_at == 0 || now - run->reported_at <= late_window;
}

/// The prompt a DM answers: among those whose report is still to come, the one being
/// answered (some answers given), else the latest asked; failing that, one whose report is
/// out, for a late answer.
std::optional<standup_entry> waiting_entry(store& db, const command& cmd, bool* late_only) {
    std::optional<standup_entry> fresh;
    std::optional<standup_entry> late;
    for (auto& e : db.open_entries(cmd.team_id, cmd.user_id)) { // oldest prompt first
        if (!takes_answers(db, e, cmd.now)) {
            continue;
        }
        auto run = db.find_run(e.team_id, e.channel_id, e.period);
        if (run && run->reported_at != 0) {
            if (!late) {
                late = e;
            }
        } else if (!fresh || fresh->answers.empty()) {
            fresh = e;
        }
    }
    if (late_only != nullptr) {
        // A late answer already begun goes on; one not begun yields to commands.
        *late_only = !fresh && late && late->answers.empty();
    }
    return fresh ? fresh : late;
}

/// How many prompts wait for the caller's answers.
std::size_t open_count(store& db, const command& cmd) {
    std::size_t n = 0;
    for (const auto& e : db.open_entries(cmd.team_id, cmd.user_id)) {
        n += takes_answers(db, e, cmd.now) ? 1 : 0;
    }
    return n;
}

/// After the last answer: thanks, the late post when the report is out, the blocker offer.
void finish_entry(context& ctx, standup_entry& e) {
    const auto& cmd = ctx.cmd;
    e.state = "answered";
    e.answered_at = cmd.now;
    auto s = ctx.db.find_standup(e.team_id, e.channel_id);
    auto run = ctx.db.find_run(e.team_id, e.channel_id, e.period);
    std::string zone = s ? member_zone(ctx.db, *s, e.user_id) : "UTC";
    if (run && run->reported_at != 0) {
        e.late = true;
        std::string text = fmt::format("*Late answer from {}*", who(e.user_id));
        const auto& qs = standup_questions();
        for (std::size_t i = 0; i < e.answers.size() && i < qs.size(); ++i) {
            text += fmt::format("\n_{}_ {}", qs[i], e.answers[i]);
        }
        effect post;
        post.to = destination::thread;
        post.channel = e.channel_id;
        post.item = digest_key(e.channel_id, e.period);
        post.text = std::move(text);
        ctx.out.push_back(std::move(post));
        ctx.dm(e.user_id, fmt::format("Thanks! The report for <#{}> was already posted, so I "
                                      "added your answers to its thread, marked late.",
                                      e.channel_id));
    } else {
        ctx.dm(e.user_id,
               fmt::format("Thanks, that's everything for <#{}>. It goes in the report {} "
                           "your time; edit your messages until then to change an answer.",
                           e.channel_id,
                           run ? report_when(run->report_due, zone, cmd.now) : "at report time"));
    }
    if (e.answers.size() > blocker_question) {
        const auto& b = e.answers[blocker_question];
        if (!says_nothing(b) && !names_item(ctx.db, e.team_id, b) &&
            char_count(mrkdwn::to_plain(b)) <= max_title_chars) {
            ctx.out.push_back(dm_effect(
                e.user_id,
                fmt::format("You mentioned a blocker: _{}_\nTrack it as a blocker in <#{}> so "
                            "it gets an owner and shows in the weekly status?",
                            b, e.channel_id),
                {{"Log as blocker", "log_blocker",
                  fmt::format("standup log <#{}> {}", e.channel_id, e.period)}}));
        }
    }
}

void record_answers(context& ctx, standup_entry e, const std::string& text) {
    const auto& qs = standup_questions();
    auto first = e.answers.size();
    // Only a reply to the first question may answer them all, one line each.
    auto parts = first == 0 ? split_answers(text, qs.size()) : std::vector<std::string>{text};
    for (const auto& p : parts) {
        check_length("answer", p, max_note_chars);
    }
    for (auto& p : parts) {
        e.answers.push_back(std::move(p));
    }
    standup_message m;
    m.team_id = e.team_id;
    m.user_id = e.user_id;
    m.ts = ctx.cmd.message_ts;
    m.channel_id = e.channel_id;
    m.period = e.period;
    m.first_question = static_cast<int>(first);
    m.count = static_cast<int>(parts.size());
    if (!m.ts.empty()) {
        ctx.db.put_standup_message(m);
    }
    if (e.answers.size() < qs.size()) {
        ctx.db.put_entry(e);
        auto next = question_line(e.answers.size());
        if (open_count(ctx.db, ctx.cmd) > 1) {
            next = fmt::format("<#{}> · {}", e.channel_id, next); // which standup this is
        }
        ctx.dm(e.user_id, next);
        return;
    }
    finish_entry(ctx, e);
    ctx.db.put_entry(e);
    // Another standup waiting: its first question follows.
    if (auto next = waiting_entry(ctx.db, ctx.cmd, nullptr); next && next->answers.empty()) {
        ctx.dm(e.user_id,
               fmt::format("Next, the standup for <#{}>:\n{}", next->channel_id, question_line(0)));
    }
}

// --- the noun ---

std::vector<std::string> parse_members(context& ctx, const args::token& t, bool& whole) {
    std::vector<std::string> users;
    for (const auto& v : args::split_values(t.value)) {
        if (lower(trim(v)) == "channel") {
            whole = true;
            continue;
        }
        auto u = require_user(v, ctx.cmd, "members:", setup_example);
        if (!contains(users, u)) {
            users.push_back(u);
        }
    }
    return users;
}

void setup(context& ctx, std::vector<args::token>& rest) {
    const auto& cmd = ctx.cmd;
    require_admin(cmd, "set up a standup");
    auto channel = take_channel(ctx.cmd, rest);
    if (channel.empty() || (channel[0] != 'C' && channel[0] != 'G')) {
        throw user_error(fmt::format("A standup belongs to a channel. Type this in the channel, "
                                     "or name it, e.g. `{}`",
                                     setup_example));
    }
    check_keys(rest, setup_keys, setup_example);
    // Changing a standup keeps whatever is not given again.
    auto old = ctx.db.find_standup(cmd.team_id, channel);
    auto at = take_key(rest, "at");
    if (!at && !old) {
        throw user_error(
            fmt::format("When should I ask? Add `at:<HH:MM>`, e.g. `{}`", setup_example));
    }
    standup s;
    if (old) {
        s = *old;
    } else {
        s.days = schedule::monday_to_friday;
        s.tz = usable_zone(caller_zone(ctx.db, cmd), "UTC");
    }
    s.team_id = cmd.team_id;
    s.channel_id = channel;
    if (at) {
        s.minute = schedule::parse_time_of_day(at->value);
    }
    if (auto d = take_key(rest, "days")) {
        s.days = schedule::parse_weekdays(d->value);
    }
    if (auto z = take_key(rest, "tz")) {
        dates::check_zone(z->value);
        s.tz = z->value;
    }
    if (auto r = take_key(rest, "report")) {
        s.report_minute = schedule::parse_time_of_day(r->value);
        if (s.report_minute <= s.minute) {
            auto fix = s.minute >= 23 * 60 + 59
                           ? std::string("an earlier `at:`, e.g. `at:09:30 report:11:00`")
                           : fmt::format("`report:{}`", schedule::format_time_of_day(std::min(
                                                            s.minute + 120, 23 * 60 + 59)));
            throw user_error(fmt::format(
                "The report (`report:{}`) must come after the prompt (`at:{}`) on the same day, "
                "so people have time to answer, e.g. {}.",
                schedule::format_time_of_day(s.report_minute),
                schedule::format_time_of_day(s.minute), fix));
        }
    } else if (!old || old->minute != s.minute) {
        // A new prompt time keeps the gap to the report (two hours for a new standup).
        s.report_minute = s.minute + (old ? old->report_minute - old->minute : 120);
        if (s.report_minute >= 24 * 60) {
            throw user_error(fmt::format("With `at:{}` the report would fall on the next day. "
                                         "Give a report time later that day, e.g. `report:23:30`.",
                                         schedule::format_time_of_day(s.minute)));
        }
    }
    bool whole = false;
    std::vector<std::string> members;
    if (auto m = take_key(rest, "members")) {
        members = parse_members(ctx, *m, whole);
    }
    for (auto it = rest.begin(); it != rest.end();) {
        if (auto u = user_of(*it, cmd); !u.empty()) {
            if (!contains(members, u)) {
                members.push_back(u);
            }
            it = rest.erase(it);
        } else {
            ++it;
        }
    }
    if (!rest.empty()) {
        throw user_error(fmt::format("I don't understand `{}` in a standup setup. Example: `{}`",
                                     mrkdwn::safe(args::render(rest)), setup_example));
    }
    if (whole && !members.empty()) {
        throw user_error("Use either `members:channel` or a list of people, not both.");
    }
    if (!whole && members.empty() && old) {
        whole = old->whole_channel;
        members = old->members;
    }
    if (!whole && members.empty()) {
        throw user_error(fmt::format("Who takes part? Add `members:@a,@b` or `members:channel` "
                                     "(everyone in <#{}>), e.g. `{}`",
                                     channel, setup_example));
    }
    if (members.size() > max_members) {
        throw user_error(fmt::format("A standup takes at most {} people; use `members:channel` "
                                     "for a bigger channel.",
                                     max_members));
    }
    s.members = whole ? std::vector<std::string>{} : members;
    s.whole_channel = whole;
    if (s.created_by.empty()) {
        s.created_by = cmd.user_id;
        s.created_at = cmd.now;
    }
    s.updated_at = cmd.now;
    ctx.db.put_standup(s);
    std::vector<std::string> names;
    for (const auto& u : members) {
        names.push_back(who(u));
    }
    auto summary = fmt::format(
        "I'll ask {} at {} in each person's own time zone ({}) and post the report here at {} "
        "{}.",
        whole ? fmt::format("everyone in <#{}>", channel) : joined(names, ", "),
        schedule::format_time_of_day(s.minute), schedule::format_weekdays(s.days),
        schedule::format_time_of_day(s.report_minute), s.tz);
    if (s.paused) {
        summary += " It is paused: `/tpm standup resume` starts it.";
    }
    ctx.channel_line(channel,
                     fmt::format(":spiral_calendar_pad: {} {} a standup for <#{}>. {}",
                                 who(cmd.user_id), old ? "changed" : "set up", channel, summary));
    ctx.reply(fmt::format("Standup saved for <#{}>. {} `/tpm standup now` asks everyone right "
                          "away; `/tpm standup show` shows it.",
                          channel, summary));
}

void now_verb(context& ctx, std::vector<args::token>& rest) {
    const auto& cmd = ctx.cmd;
    auto channel = take_channel(ctx.cmd, rest);
    auto s = require_standup(ctx, channel);
    auto members = standup_members(ctx.db, s);
    if (!cmd.is_admin && !contains(members, cmd.user_id)) {
        throw user_error(fmt::format("Only an admin or a member of the standup in <#{}> can "
                                     "start it early.",
                                     channel));
    }
    if (s.paused) {
        throw user_error(fmt::format("The standup in <#{}> is paused; `/tpm standup resume` "
                                     "first.",
                                     channel));
    }
    int prompted = 0;
    int already = 0;
    int away = 0;
    auto emit = [&](const std::string&, const effect& e) {
        ctx.out.push_back(e);
    };
    for (const auto& u : members) {
        auto day = dates::today(cmd.now, member_zone(ctx.db, s, u));
        switch (prompt_member(
            ctx.db, s, u, day, cmd.now, cmd.now, emit, [](const std::string&) {}, true)) {
        case asked::prompted:
            ++prompted;
            break;
        case asked::not_asked:
            ++away;
            break;
        case asked::already:
        case asked::none:
            ++already;
            break;
        }
    }
    auto report = report_after(s, cmd.now);
    std::string others;
    if (already > 0) {
        others += fmt::format(", {} already asked", already);
    }
    if (away > 0) {
        others += fmt::format(", {} away or no longer here", away);
    }
    ctx.reply(fmt::format("Asked {} of {} member{} of the standup in <#{}> now{}. The report "
                          "goes out {} at {} {}.",
                          prompted, members.size(), members.size() == 1 ? "" : "s", channel,
                          others.empty() ? "" : " (" + others.substr(2) + ")",
                          report ? dates::pretty(report->period) : "never",
                          schedule::format_time_of_day(s.report_minute), s.tz));
}

/// Standups the caller takes part in.
std::vector<standup> standups_of(store& db, const command& cmd) {
    std::vector<standup> out;
    for (auto& s : db.list_standups(cmd.team_id)) {
        if (contains(standup_members(db, s), cmd.user_id)) {
            out.push_back(std::move(s));
        }
    }
    return out;
}

/// Marks the caller's unanswered prompts of runs not yet reported as away.
int mark_open_away(context& ctx, const std::string& note) {
    int n = 0;
    for (auto e : ctx.db.open_entries(ctx.cmd.team_id, ctx.cmd.user_id)) {
        auto run = ctx.db.find_run(e.team_id, e.channel_id, e.period);
        // Answers already given stay in the report.
        if ((run && run->reported_at != 0) || !e.answers.empty()) {
            continue;
        }
        e.state = "away";
        e.note = note;
        ctx.db.put_entry(e);
        ++n;
    }
    return n;
}

void skip_verb(context& ctx, std::vector<args::token>& rest) {
    const auto& cmd = ctx.cmd;
    if (!rest.empty()) {
        throw user_error("`/tpm standup skip` takes nothing after it: it skips your next "
                         "standup. For several days use `/tpm standup ooo 3d`.");
    }
    auto zone = caller_zone(ctx.db, cmd);
    auto person = person_of(ctx.db, cmd.team_id, cmd.user_id);
    if (mark_open_away(ctx, "skipped") > 0) {
        // Also any standup still to ask you today.
        person.skip_day = dates::today(cmd.now, zone);
        person.updated_at = cmd.now;
        ctx.db.put_standup_person(person);
        ctx.touch_home(person.user_id);
        ctx.reply("Skipped: today's standup won't count you as missing, and nothing more "
                  "will be asked today. `/tpm standup back` undoes it for what is still to "
                  "come.");
        return;
    }
    auto mine = standups_of(ctx.db, cmd);
    if (mine.empty()) {
        throw user_error("You are not in any standup, so there is nothing to skip.");
    }
    std::optional<schedule::firing> next;
    for (const auto& s : mine) {
        if (s.paused) {
            continue;
        }
        auto f =
            schedule::next_firing(s.minute, s.days, member_zone(ctx.db, s, cmd.user_id), cmd.now);
        if (f && (!next || f->due < next->due)) {
            next = f;
        }
    }
    if (!next) {
        throw user_error("Your standups are paused, so there is nothing to skip.");
    }
    person.skip_day = next->period;
    person.updated_at = cmd.now;
    ctx.db.put_standup_person(person);
    ctx.touch_home(person.user_id);
    ctx.reply(fmt::format("You'll skip the standup on {}: no nudges that day, and you won't "
                          "count as missing. `/tpm standup back` undoes it.",
                          dates::pretty(next->period)));
}

void ooo_verb(context& ctx, std::vector<args::token>& rest) {
    const auto& cmd = ctx.cmd;
    constexpr std::string_view example = "/tpm standup ooo 3d` or `/tpm standup ooo until:fri";
    auto zone = caller_zone(ctx.db, cmd);
    std::string until;
    if (auto u = take_date(rest, "until")) {
        command in_zone = cmd;
        in_zone.user_tz = zone;
        until = require_future_date(*u, in_zone, example);
    } else if (rest.size() == 1 && rest[0].kind == args::tok::word) {
        auto w = lower(rest[0].text);
        long n = 0;
        char unit = w.empty() ? '?' : w.back();
        auto digits = w.substr(0, w.size() - 1);
        if ((unit == 'd' || unit == 'w') && !digits.empty() &&
            digits.find_first_not_of("0123456789") == std::string::npos && digits.size() <= 3) {
            n = std::stol(digits) * (unit == 'w' ? 7 : 1);
        }
        if (n < 1 || n > 365) {
            throw user_error(fmt::format("`{}` is not a number of days. Use e.g. `{}`.",
                                         mrkdwn::safe(rest[0].raw), example));
        }
        until = *dates::parse(fmt::format("+{}d", n - 1), cmd.now, zone);
        rest.clear();
    } else {
        throw user_error(fmt::format("For how long? e.g. `{}`.", example));
    }
    if (!rest.empty()) {
        throw user_error(fmt::format("I don't understand `{}` after ooo. Use e.g. `{}`.",
                                     mrkdwn::safe(args::render(rest)), example));
    }
    auto person = person_of(ctx.db, cmd.team_id, cmd.user_id);
    person.ooo_until = until;
    person.updated_at = cmd.now;
    ctx.db.put_standup_person(person);
    ctx.touch_home(person.user_id);
    mark_open_away(ctx, "out of office until " + dates::pretty(until));
    ctx.reply(fmt::format(":palm_tree: Out of office until {} (your time): no standup nudges, and "
                          "you won't count as missing. `/tpm standup back` ends it early.",
                          dates::pretty(until)));
}

void back_verb(context& ctx, std::vector<args::token>&) {
    const auto& cmd = ctx.cmd;
    auto person = person_of(ctx.db, cmd.team_id, cmd.user_id);
    if (person.ooo_until.empty() && person.skip_day.empty()) {
        ctx.reply("You weren't marked away, so nothing changed.");
        return;
    }
    person.ooo_until.clear();
    person.skip_day.clear();
    person.updated_at = cmd.now;
    ctx.db.put_standup_person(person);
    ctx.touch_home(person.user_id);
    ctx.reply("Welcome back! Standup nudges are on again from the next one.");
}

void tz_verb(context& ctx, std::vector<args::token>& rest) {
    const auto& cmd = ctx.cmd;
    auto person = person_of(ctx.db, cmd.team_id, cmd.user_id);
    if (rest.empty()) {
        ctx.reply(person.tz.empty()
                      ? fmt::format("Your standup prompts follow your Slack time zone ({}). Set "
                                    "another with `/tpm standup tz Europe/Berlin`.",
                                    cmd.user_tz)
                      : fmt::format("Your standup prompts follow {} (set with `standup tz`); "
                                    "`/tpm standup tz auto` goes back to your Slack zone.",
                                    person.tz));
        return;
    }
    if (rest.size() != 1) {
        throw user_error("Give one IANA zone, e.g. `/tpm standup tz Asia/Kolkata`.");
    }
    auto zone = rest[0].text;
    if (lower(zone) == "auto") {
        person.tz.clear();
        ctx.reply(fmt::format("Your standup prompts follow your Slack time zone ({}) again.",
                              cmd.user_tz));
    } else {
        dates::check_zone(zone);
        person.tz = zone;
        ctx.reply(fmt::format("Your standup prompts now come at the standup's time in {}.", zone));
    }
    person.updated_at = cmd.now;
    ctx.db.put_standup_person(person);
    ctx.touch_home(person.user_id);
}

std::string describe(store& db, const standup& s, unix_time now) {
    std::string out = fmt::format(
        "*Standup in <#{}>*{}\nAsks at {} in each member's zone, {}; "
        "reports here at {} {}.",
        s.channel_id, s.paused ? " (paused)" : "", schedule::format_time_of_day(s.minute),
        schedule::format_weekdays(s.days), schedule::format_time_of_day(s.report_minute), s.tz);
    auto members = standup_members(db, s);
    if (s.whole_channel) {
        out += fmt::format("\nMembers: everyone in the channel ({} known).", members.size());
    }
    std::vector<std::string> lines;
    for (const auto& u : members) {
        auto p = person_of(db, s.team_id, u);
        std::string line = fmt::format("{} ({}", who(u), member_zone(db, s, u));
        if (!p.ooo_until.empty() && p.ooo_until >= dates::today(now, member_zone(db, s, u))) {
            line += ", out of office until " + dates::pretty(p.ooo_until);
        }
        lines.push_back(line + ")");
    }
    if (!s.whole_channel) {
        out += fmt::format("\nMembers: {}", joined(lines, ", "));
    }
    out += "\nQuestions:";
    const auto& qs = standup_questions();
    for (std::size_t i = 0; i < qs.size(); ++i) {
        out += fmt::format("\n{}. {}", i + 1, qs[i]);
    }
    if (auto r = schedule::next_firing(s.report_minute, s.days, s.tz, now); r && !s.paused) {
        out += fmt::format("\nNext report: {} {} {}.", dates::pretty(r->period),
                           schedule::format_time_of_day(s.report_minute), s.tz);
    }
    return out;
}

void show_verb(context& ctx, std::vector<args::token>& rest) {
    auto channel = take_channel(ctx.cmd, rest);
    if (auto s = ctx.db.find_standup(ctx.cmd.team_id, channel)) {
        ctx.reply(describe(ctx.db, *s, ctx.cmd.now));
        return;
    }
    auto mine = standups_of(ctx.db, ctx.cmd);
    if (mine.empty()) {
        ctx.reply(fmt::format("There is no standup in <#{}>, and you are in none. An admin can "
                              "set one up, e.g. `{}`",
                              channel, setup_example));
        return;
    }
    std::string out;
    for (const auto& s : mine) {
        out += (out.empty() ? "" : "\n\n") + describe(ctx.db, s, ctx.cmd.now);
    }
    ctx.reply(out);
}

void pause_verb(context& ctx, std::vector<args::token>& rest, bool pause) {
    const auto& cmd = ctx.cmd;
    require_admin(cmd, pause ? "pause a standup" : "resume a standup");
    auto channel = take_channel(ctx.cmd, rest);
    auto s = require_standup(ctx, channel);
    if (s.paused == pause) {
        ctx.reply(fmt::format("The standup in <#{}> is already {}.", channel,
                              pause ? "paused" : "running"));
        return;
    }
    s.paused = pause;
    s.updated_at = cmd.now;
    ctx.db.put_standup(s);
    ctx.channel_line(channel, pause ? fmt::format(":double_vertical_bar: {} paused this "
                                                  "channel's standup: no prompts, no reports "
                                                  "until it is resumed.",
                                                  who(cmd.user_id))
                                    : fmt::format(":arrow_forward: {} resumed this channel's "
                                                  "standup.",
                                                  who(cmd.user_id)));
    ctx.reply(pause ? "Paused. `/tpm standup resume` starts it again."
                    : "Resumed: prompts start again at the next standup time.");
}

/// `standup log <#channel> <period>`: the "Log as blocker" button of a standup answer. It
/// logs the presser's stored blocker answer of that run as the blocker's text, so an answer
/// is never parsed as a command (an unbalanced quote or a `sev:` in it cannot break the
/// button). `standup log <#channel> <text>` logs the text as `/tpm blocker <text>` would.
void log_verb(context& ctx, std::vector<args::token>& rest) {
    if (rest.empty() || rest[0].kind != args::tok::channel) {
        throw user_error("`standup log` needs a channel and a blocker, e.g. `/tpm standup log "
                         "#eng waiting on the staging cert`.");
    }
    command in_channel = ctx.cmd;
    in_channel.channel_id = rest[0].text;
    in_channel.from = source::slash;
    rest.erase(rest.begin());
    context sub(ctx.db, in_channel);
    sub.routes = ctx.routes;
    std::optional<standup_entry> answered;
    if (rest.size() == 1 && rest[0].kind == args::tok::word) {
        answered = ctx.db.find_entry(in_channel.team_id, in_channel.channel_id, rest[0].text,
                                     in_channel.user_id);
    }
    if (answered && answered->answers.size() > blocker_question) {
        item it;
        it.kind = item_kind::blocker;
        it.status = "open";
        it.severity = "med";
        it.title = answered->answers[blocker_question];
        std::replace(it.title.begin(), it.title.end(), '\n', ' ');
        check_length("blocker text", it.title, max_title_chars);
        // A second press (or a double click) finds the blocker the first one logged.
        item_query q;
        q.team_id = in_channel.team_id;
        q.kind = item_kind::blocker;
        q.channel_id = in_channel.channel_id;
        q.reporter = in_channel.user_id;
        for (const auto& b : ctx.db.list_items(q)) {
            if (b.title == it.title && b.created_at >= answered->prompted_at) {
                ctx.reply(fmt::format("Already logged as *{}* in <#{}>: `/tpm blocker {}`.",
                                      b.id_str(), b.channel_id, b.id_str()));
                return;
            }
        }
        create_item(sub, it);
    } else {
        create_blocker(sub, rest, false);
    }
    for (auto& e : sub.out) {
        ctx.out.push_back(std::move(e));
    }
    // What the new blocker changed is this command's too: its card and its people's Homes.
    for (const auto& it : sub.touched) {
        ctx.touch(it);
    }
    for (const auto& u : sub.homes) {
        ctx.touch_home(u);
    }
}

void standup_noun(context& ctx, std::vector<args::token>& rest) {
    auto word = rest.empty() ? std::string() : lower(rest[0].text);
    if (!rest.empty() && rest[0].kind == args::tok::word) {
        rest.erase(rest.begin());
    } else {
        word.clear();
    }
    if (word == "setup") {
        setup(ctx, rest);
    } else if (word == "now") {
        now_verb(ctx, rest);
    } else if (word == "skip") {
        skip_verb(ctx, rest);
    } else if (word == "ooo") {
        ooo_verb(ctx, rest);
    } else if (word == "back") {
        back_verb(ctx, rest);
    } else if (word == "tz") {
        tz_verb(ctx, rest);
    } else if (word == "show" || word.empty()) {
        show_verb(ctx, rest);
    } else if (word == "pause") {
        pause_verb(ctx, rest, true);
    } else if (word == "resume") {
        pause_verb(ctx, rest, false);
    } else if (word == "log") {
        log_verb(ctx, rest);
    } else {
        throw user_error(fmt::format("`/tpm standup` has no `{}`. {}", mrkdwn::escape(word),
                                     ctx.routes->did_you_mean(word, "standup")));
    }
}

} // namespace

const std::vector<std::string>& standup_questions() {
    static const std::vector<std::string> qs = {"What did you do since last time?",
                                                "What will you do next?", "Anything blocking you?"};
    return qs;
}

std::string report_job(std::string_view team_id, std::string_view channel_id) {
    return fmt::format("standup-report:{}:{}", team_id, channel_id);
}

std::string digest_key(std::string_view channel_id, std::string_view period) {
    return fmt::format("standup:{}:{}", channel_id, period);
}

std::vector<std::string> standup_members(store& db, const standup& s) {
    if (!s.whole_channel) {
        return s.members;
    }
    auto members = db.channel_members(s.team_id, s.channel_id).value_or(std::vector<std::string>{});
    std::erase_if(members, [&](const std::string& u) {
        auto known = db.find_user(s.team_id, u);
        return known && known->is_bot;
    });
    return members;
}

std::string person_zone(store& db, const std::string& team_id, const std::string& user_id,
                        const std::string& fallback) {
    if (auto p = db.find_standup_person(team_id, user_id); p && !p->tz.empty()) {
        return usable_zone(p->tz, fallback);
    }
    if (auto u = db.find_user(team_id, user_id); u && !u->tz.empty()) {
        return usable_zone(u->tz, fallback);
    }
    return fallback;
}

std::string member_zone(store& db, const standup& s, const std::string& user_id) {
    return person_zone(db, s.team_id, user_id, usable_zone(s.tz, "UTC"));
}

std::string caller_zone(store& db, const command& cmd) {
    if (auto p = db.find_standup_person(cmd.team_id, cmd.user_id); p && !p->tz.empty()) {
        return p->tz;
    }
    return cmd.user_tz.empty() ? "UTC" : cmd.user_tz;
}

int run_standup_jobs(store& db, unix_time from, unix_time to, const standup_timing& timing,
                     const emit_fn& emit, const job_log_fn& log) {
    int ran = 0;
    // One standup's (or one member's) trouble, e.g. a stored row that cannot be read, is
    // logged and does not stop the others.
    auto guarded = [&](const std::string& what, const std::function<void()>& work) {
        try {
            work();
        } catch (const std::exception& e) {
            log(fmt::format("{} failed and will be tried again: {}", what, e.what()));
        }
    };
    for (const auto& s : db.list_standups("")) {
        // Paused: nobody is asked, and no report fires; a day already asked still gets its
        // report from the sweep of unreported runs below.
        if (s.paused) {
            continue;
        }
        for (const auto& user : standup_members(db, s)) {
            daily_job job;
            job.name = fmt::format("standup-prompt:{}:{}:{}", s.team_id, s.channel_id, user);
            guarded(job.name, [&] {
                job.minute = s.minute;
                job.days = s.days;
                job.tz = member_zone(db, s, user);
                job.grace = timing.prompt_grace;
                ran += run_due(db, job, from, to, "standup prompt", log, [&](const auto& f) {
                    prompt_member(db, s, user, f.period, f.due, to, emit, log);
                });
            });
        }
        daily_job report;
        report.name = report_job(s.team_id, s.channel_id);
        guarded(report.name, [&] {
            report.minute = s.report_minute;
            report.days = s.days;
            report.tz = usable_zone(s.tz, "UTC");
            report.grace = timing.report_grace;
            ran += run_due(db, report, from, to, "standup report", log,
                           [&](const auto& f) { write_digest(db, s, f, to, emit, log); });
        });
    }
    // Runs whose report time passed without a report firing (the standup was paused, or its
    // report time or days changed, after its prompts went out): reported now, once, under the
    // same claim as the firing.
    for (const auto& r : db.unreported_runs(to)) {
        auto name = report_job(r.team_id, r.channel_id);
        guarded(name, [&] {
            auto s = db.find_standup(r.team_id, r.channel_id);
            db.transact([&] {
                if (!db.claim(name, r.period, to)) {
                    return; // reported (or skipped) by its firing
                }
                if (!s || to - r.report_due > timing.report_grace) {
                    auto run = r;
                    run.reported_at = to;
                    db.put_run(run);
                    log(fmt::format("skipped standup report {} {}: due {}, now {}", name, r.period,
                                    r.report_due, to));
                    return;
                }
                write_digest(db, *s, {r.period, r.report_due}, to, emit, log);
                ++ran;
            });
        });
    }
    for (const auto& e : db.reminders_due(to)) {
        guarded("standup reminder", [&] {
            db.transact([&] {
                auto fresh = db.find_entry(e.team_id, e.channel_id, e.period, e.user_id);
                if (fresh && fresh->state == "prompted" && fresh->reminded_at == 0) {
                    send_reminder(db, *fresh, to, emit);
                    ++ran;
                }
            });
        });
    }
    return ran;
}

unix_time next_standup_due(store& db, unix_time after) {
    unix_time best = db.next_reminder(after);
    auto consider = [&](unix_time t) {
        if (t > after && (best == 0 || t < best)) {
            best = t;
        }
    };
    auto consider_firing = [&](const std::optional<schedule::firing>& f) {
        if (f) {
            consider(f->due);
        }
    };
    for (const auto& s : db.list_standups("")) {
        if (s.paused) {
            continue; // its runs in progress are among the unreported ones below
        }
        try {
            for (const auto& user : standup_members(db, s)) {
                consider_firing(
                    schedule::next_firing(s.minute, s.days, member_zone(db, s, user), after));
            }
            consider_firing(
                schedule::next_firing(s.report_minute, s.days, usable_zone(s.tz, "UTC"), after));
        } catch (const std::exception&) {
            // run_standup_jobs logs it; a standup that cannot be read has no next time.
        }
    }
    for (const auto& r : db.unreported_runs(std::numeric_limits<unix_time>::max())) {
        consider(r.report_due);
    }
    return best;
}

std::optional<waiting_prompt> standup_waiting(store& db, const command& cmd) {
    bool late_only = false;
    auto e = waiting_entry(db, cmd, &late_only);
    if (!e) {
        return std::nullopt;
    }
    return waiting_prompt{std::move(*e), late_only};
}

void standup_dm(context& ctx, const waiting_prompt& w) {
    auto text = trim(mrkdwn::safe(ctx.cmd.text));
    if (text.empty()) {
        ctx.dm(ctx.cmd.user_id, "I only read text here. " + question_line(w.entry.answers.size()));
        return;
    }
    record_answers(ctx, w.entry, text);
}

void standup_edit(context& ctx) {
    const auto& cmd = ctx.cmd;
    auto m = ctx.db.find_standup_message(cmd.team_id, cmd.user_id, cmd.message_ts);
    if (!m) {
        return; // an edit of a message that carried no answers
    }
    auto e = ctx.db.find_entry(m->team_id, m->channel_id, m->period, m->user_id);
    auto run = ctx.db.find_run(m->team_id, m->channel_id, m->period);
    if (!e || (e->state != "prompted" && e->state != "answered")) {
        return; // a prompt that was skipped or superseded: nothing of it is reported
    }
    // Answers are out once the entry is complete and its report (or late post) went out;
    // before that an edit still counts, late answers in progress included.
    if (e->state == "answered" && ((run && run->reported_at != 0) || e->late)) {
        ctx.dm(cmd.user_id, fmt::format("The report for <#{}> was already posted, so that edit "
                                        "is not in it.",
                                        m->channel_id));
        return;
    }
    auto text = trim(mrkdwn::safe(cmd.text));
    auto first = static_cast<std::size_t>(m->first_question);
    auto count = static_cast<std::size_t>(std::max(1, m->count));
    if (text.empty()) {
        ctx.dm(cmd.user_id, "An empty answer would lose what you wrote, so I kept it. Edit "
                            "the message with the new text instead.");
        return;
    }
    auto parts = split_answers(text, count);
    std::size_t kept = 0;
    if (parts.size() != count) {
        // Fewer lines than the message answered: each line answers its own question and the
        // answers it no longer covers stay as they were (nothing is lost by an edit).
        if (auto lines = nonblank_lines(text); lines.size() > 1) {
            parts = std::move(lines);
        }
        kept = count - parts.size();
    }
    for (const auto& p : parts) {
        check_length("answer", p, max_note_chars);
    }
    for (std::size_t i = 0; i < parts.size() && first + i < e->answers.size(); ++i) {
        e->answers[first + i] = parts[i];
    }
    if (kept > 0) {
        ctx.dm(cmd.user_id, fmt::format("That message answered {} questions, one per line; the "
                                        "edit has {}, so the last {} kept {} earlier text.",
                                        count, parts.size(), kept, kept == 1 ? "its" : "their"));
    }
    ctx.db.put_entry(*e);
    ctx.dm(cmd.user_id,
           fmt::format(":pencil2: Updated your standup answer for <#{}>.", m->channel_id));
}

void register_standup(router& r) {
    noun_def d;
    d.name = "standup";
    d.title = "Standups: asked by DM in each person's zone, reported in the channel";
    d.fn = standup_noun;
    d.help = {
        {"/tpm standup setup [#channel] at:<HH:MM> [days:mon-fri] [report:<HH:MM>] "
         "[members:@a,@b | members:channel] [tz:<zone>]",
         "Set up (or change) a channel's standup; admins only.", std::string(setup_example), false,
         "setup"},
        {"/tpm standup show [#channel]", "The standup's times, members and questions.",
         "/tpm standup show", true, "show"},
        {"/tpm standup now [#channel]", "Ask every member now instead of at the usual time.",
         "/tpm standup now", false, "now"},
        {"/tpm standup skip", "Skip your next standup; you won't count as missing.",
         "/tpm standup skip", true, "skip"},
        {"/tpm standup ooo <N>d | until:<date>", "Out of office: no nudges until then.",
         "/tpm standup ooo until:fri", false, "ooo"},
        {"/tpm standup back", "End out of office or a skip early.", "/tpm standup back", false,
         "back"},
        {"/tpm standup tz <IANA zone> | auto", "Be asked in another zone than Slack's.",
         "/tpm standup tz Asia/Kolkata", false, "tz"},
        {"/tpm standup pause|resume [#channel]", "Stop or restart a standup; admins only.",
         "/tpm standup pause", false, "pause|resume"},
    };
    r.add(std::move(d));
}

std::string standup_settings_of(store& db, const std::string& team_id, const std::string& user_id,
                                unix_time now) {
    std::string out;
    auto person = person_of(db, team_id, user_id);
    for (const auto& s : db.list_standups(team_id)) {
        if (!contains(standup_members(db, s), user_id)) {
            continue;
        }
        auto zone = member_zone(db, s, user_id);
        out += fmt::format(
            "{}• <#{}>: asked at {} {} ({}), {}; the report at {} {}{}", out.empty() ? "" : "\n",
            s.channel_id, schedule::format_time_of_day(s.minute), zone,
            person.tz.empty() ? "Slack's zone" : "set with `standup tz`",
            schedule::format_weekdays(s.days), schedule::format_time_of_day(s.report_minute), s.tz,
            s.paused ? " · paused" : "");
        auto today = dates::today(now, zone);
        if (!person.ooo_until.empty() && person.ooo_until >= today) {
            out += " · you are out of office until " + dates::pretty(person.ooo_until);
        } else if (!person.skip_day.empty() && person.skip_day >= today) {
            out += " · you skip " + dates::pretty(person.skip_day);
        }
    }
    return out;
}

} // namespace tpmbot
