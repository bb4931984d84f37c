#include "home.hpp"

#include "dates.hpp"
#include "standup.hpp"

#include <algorithm>
#include <date/date.h>
#include <fmt/format.h>

namespace tpmbot {

namespace {

/// Lines a section lists before "and N more".
constexpr std::size_t max_home_lines = 10;

/// A section: its title with the count, one line per item up to the cap, then `more` (mrkdwn:
/// where the rest are).
block item_section(const std::string& title, const std::vector<item>& items, unix_time now,
                   const std::string& none, const std::string& more,
                   const std::function<std::string(const item&)>& suffix = {}) {
    block b;
    b.type = block::kind::section;
    if (items.empty()) {
        b.text = fmt::format("*{}*\n{}", title, none);
        return b;
    }
    b.text = fmt::format("*{}* ({})", title, items.size());
    for (std::size_t i = 0; i < items.size() && i < max_home_lines; ++i) {
        b.text += '\n';
        b.text += list_line(items[i], now);
        if (suffix) {
            b.text += suffix(items[i]);
        }
    }
    if (items.size() > max_home_lines) {
        b.text += fmt::format("\n…and {} more: {}", items.size() - max_home_lines, more);
    }
    return b;
}

} // namespace

std::string home_opened_key(std::string_view user_id) {
    return "home.opened:" + std::string(user_id);
}

effect home_view(store& db, const std::string& team_id, const std::string& user_id, unix_time now,
                 const std::string& tz) {
    effect e;
    e.to = destination::home;
    e.user = user_id;
    auto stamp = date::format("%Y-%m-%d %H:%M UTC", date::sys_seconds{std::chrono::seconds{now}});
    e.text = "Your items, decisions, the unowned and stale ones, and your standups.";
    e.blocks.push_back({block::kind::header, "Your work in tpmbot"});
    e.blocks.push_back({block::kind::context,
                        fmt::format("As of {}. It refreshes when you open it and when your items "
                                    "change. `/tpm help` lists the commands.",
                                    stamp)});

    item_query mine;
    mine.team_id = team_id;
    mine.statuses = open_statuses;
    mine.dri = user_id;
    auto owned = db.list_items(mine);
    std::vector<item> assigned;
    std::vector<item> owed;
    for (auto& it : owned) {
        (it.kind == item_kind::decision ? owed : assigned).push_back(std::move(it));
    }
    e.blocks.push_back(
        item_section("Assigned to you", assigned, now, "Nothing open is assigned to you.",
                     "`/tpm blocker list mine` (and `risk list mine`, `dep list mine`)"));

    // Soonest decide-by first (overdue first of all), undated last.
    std::stable_sort(owed.begin(), owed.end(), [](const item& a, const item& b) {
        if (a.due.empty() != b.due.empty()) {
            return b.due.empty();
        }
        return a.due < b.due;
    });
    auto today = dates::today(now, tz);
    e.blocks.push_back(item_section(
        "Decisions you owe", owed, now, "No decision is waiting on you.",
        "`/tpm decision list mine`", [&](const item& it) -> std::string {
            if (!it.due.empty() && it.due < today) {
                return fmt::format(" · *overdue {}d*", dates::days_between(it.due, today));
            }
            return {};
        }));
    e.blocks.push_back({block::kind::divider, ""});

    item_query unowned;
    unowned.team_id = team_id;
    unowned.statuses = open_statuses;
    unowned.unowned_only = true;
    auto nobody = db.list_items(unowned);
    e.blocks.push_back(item_section("Unowned", nobody, now,
                                    "Every open item has a DRI. :tada:", "`/tpm owner unowned`"));
    if (!nobody.empty()) {
        e.blocks.push_back({block::kind::context, "Take one with `/tpm owner <id> me`."});
    }

    item_query open_blockers;
    open_blockers.team_id = team_id;
    open_blockers.kind = item_kind::blocker;
    open_blockers.statuses = {"open", "acked"};
    auto stale = db.list_items(open_blockers);
    std::erase_if(stale, [&](const item& it) { return now - it.updated_at <= stale_after(it); });
    e.blocks.push_back(item_section("Stale blockers", stale, now,
                                    "No blocker has gone without an update for long.",
                                    "`/tpm blocker list stale`"));
    e.blocks.push_back({block::kind::divider, ""});

    auto standups = standup_settings_of(db, team_id, user_id, now);
    e.blocks.push_back(
        {block::kind::section,
         "*Your standups*\n" +
             (standups.empty() ? std::string("You are in no standup.") : standups) +
             "\nChange them with `/tpm standup tz <zone>`, `ooo 2d`, `skip` or `back`."});
    return e;
}

void open_home(context& ctx) {
    const auto& cmd = ctx.cmd;
    auto key = home_opened_key(cmd.user_id);
    if (!ctx.db.setting(cmd.team_id, key)) {
        ctx.db.set_setting(cmd.team_id, key, std::to_string(cmd.now), cmd.now);
    }
    ctx.out.push_back(home_view(ctx.db, cmd.team_id, cmd.user_id, cmd.now, cmd.user_tz));
}

void refresh_homes(context& ctx) {
    std::vector<std::string> people = ctx.homes;
    auto add = [&](const std::string& u) {
        if (!u.empty() && std::find(people.begin(), people.end(), u) == people.end()) {
            people.push_back(u);
        }
    };
    for (const auto& it : ctx.touched) {
        add(it.dri);
        add(it.reporter);
    }
    for (const auto& u : people) {
        bool published = std::any_of(ctx.out.begin(), ctx.out.end(), [&](const effect& e) {
            return e.to == destination::home && e.user == u;
        });
        if (published || !ctx.db.setting(ctx.cmd.team_id, home_opened_key(u))) {
            continue;
        }
        auto tz = person_zone(ctx.db, ctx.cmd.team_id, u, "UTC");
        ctx.out.push_back(home_view(ctx.db, ctx.cmd.team_id, u, ctx.cmd.now, tz));
    }
}

} // namespace tpmbot
