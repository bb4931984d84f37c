#pragma once
/// A header-only test harness: a real SQLite store in a fresh temporary directory, the real
/// router and the real dispatcher, and helpers that send commands the way Slack does (text
/// Slack-encoded: `<@UDANA>`, `<#CDESIGN|design>`, `&amp;`) at a FIXED time.
///
/// Nothing here reads the clock or sleeps: every command carries `now`, which tests move by
/// hand.

#include "dispatcher.hpp"
#include "router.hpp"
#include "sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tpmbot::test {

/// Wed 2026-11-25 09:00:00 UTC (10:00 in Europe/Berlin). `date -d @1795597200 -u` agrees.
inline constexpr unix_time t0 = 1795597200;
inline constexpr unix_time hour = 3600;
inline constexpr unix_time day = 86400;

/// How one command is sent; every field has the harness's default when left alone.
struct opts {
    std::string team;         ///< "" = harness team (T1)
    std::string channel;      ///< "" = harness channel (CGENERAL)
    std::string command_name; ///< "" = "/tpm" for slash commands
    std::optional<unix_time> now;
    bool admin = false;
    source from = source::slash;
    std::string message_ts; ///< mention only
    std::string thread_ts;  ///< mention only
    std::string tz;         ///< "" = Europe/Berlin
};

/// Shorthands for one option each.
inline opts in_channel(std::string channel) {
    opts o;
    o.channel = std::move(channel);
    return o;
}
inline opts in_team(std::string team) {
    opts o;
    o.team = std::move(team);
    return o;
}
inline opts at_time(unix_time now) {
    opts o;
    o.now = now;
    return o;
}
inline opts as_admin() {
    opts o;
    o.admin = true;
    return o;
}
inline opts via(std::string command_name) {
    opts o;
    o.command_name = std::move(command_name);
    return o;
}

/// Whether `haystack` contains `needle`.
inline bool has(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

/// The item ids of a list reply, in order ("• *B-1* ..." lines).
inline std::vector<std::string> ids_in(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while ((at = text.find("• *", at)) != std::string::npos) {
        at += 5; // "• " is 4 bytes, then '*'
        auto end = text.find('*', at);
        out.push_back(text.substr(at, end - at));
        at = end;
    }
    return out;
}

/// The "did you mean" suggestions of an error message: the usages, closest first.
inline std::vector<std::string> suggestions(const std::string& msg) {
    std::vector<std::string> out;
    const std::string bullet = "\n• `";
    for (auto at = msg.find(bullet); at != std::string::npos; at = msg.find(bullet, at + 1)) {
        auto from = at + bullet.size();
        out.push_back(msg.substr(from, msg.find('`', from) - from));
    }
    return out;
}

/// The effects of `h` going to `to`.
inline std::vector<effect> effects_to(const handled& h, destination to) {
    std::vector<effect> out;
    for (const auto& e : h.effects) {
        if (e.to == to) {
            out.push_back(e);
        }
    }
    return out;
}

/// All effect texts joined, for "contains" checks across effects.
inline std::string all_text(const handled& h) {
    std::string out;
    for (const auto& e : h.effects) {
        out += e.text + "\n";
    }
    return out;
}

/// Every item, its history, every area and admin of a workspace, as one comparable string.
/// Two equal dumps mean nothing in the store changed.
inline std::string dump_team(sqlite_store& db, const std::string& team) {
    auto join = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) {
            s += x + ";";
        }
        return s;
    };
    std::string out;
    item_query q;
    q.team_id = team;
    for (const auto& it : db.list_items(q)) {
        out += it.id_str() + "|" + it.channel_id + "|" + it.reporter + "|" + it.dri + "|" +
               it.status + "|" + it.title + "|" + it.severity + "|" + it.waiting_on + "|" +
               it.area + "|" + it.due + "|" + join(it.consulted) + "|" + join(it.options) + "|" +
               it.outcome + "|" + it.rationale + "|" + it.note + "|" + it.probability + "|" +
               it.impact + "|" + it.mitigation + "|" + it.from_who + "|" + it.for_item + "|" +
               it.supersedes + "|" + it.superseded_by + "|" + it.thread_channel + "|" +
               it.thread_ts + "|" + std::to_string(it.created_at) + "|" +
               std::to_string(it.updated_at) + "|" + std::to_string(it.closed_at) + "|" +
               std::to_string(it.escalated_at) + "\n";
        for (const auto& e : db.history(team, it.id())) {
            out += "  " + std::to_string(e.at) + " " + e.actor + " " + e.action + ": " + e.detail +
                   "\n";
        }
    }
    for (const auto& a : db.list_areas(team)) {
        out += "area " + a.name + " " + a.owner + "\n";
    }
    for (const auto& u : db.list_admins(team)) {
        out += "admin " + u + "\n";
    }
    return out;
}

/// A real store, router and dispatcher in a temporary directory.
class harness {
public:
    explicit harness(std::vector<std::string> env_admins = {})
        : db(dir.file("tpmbot.db").string()), routes(make_router()),
          dispatch(db, routes, std::move(env_admins),
                   [this](const std::string& line) { logs.push_back(line); }) {}

    temp_dir dir;
    sqlite_store db;
    router routes;
    std::vector<std::string> logs;
    dispatcher dispatch;

    std::string team = "T1";
    std::string channel = "CGENERAL";
    std::string tz = "Europe/Berlin";
    unix_time now = t0;

    /// The command Slack would deliver for `text` typed by `user`.
    command make(std::string text, std::string user = "UME", const opts& o = {}) const {
        command c;
        c.from = o.from;
        c.team_id = o.team.empty() ? team : o.team;
        c.user_id = std::move(user);
        c.channel_id = o.channel.empty() ? channel : o.channel;
        if (o.from == source::slash) {
            c.command_name = o.command_name.empty() ? "/tpm" : o.command_name;
        }
        c.text = std::move(text);
        c.message_ts = o.message_ts;
        c.thread_ts = o.thread_ts;
        c.now = o.now.value_or(now);
        c.user_tz = o.tz.empty() ? tz : o.tz;
        c.is_admin = o.admin;
        return c;
    }

    /// Sends a command (a slash command of `/tpm` unless told otherwise).
    handled run(std::string text, std::string user = "UME", const opts& o = {}) {
        return dispatch.handle(make(std::move(text), std::move(user), o));
    }

    /// Sends `text` as an @-mention of the bot in message `message_ts` (in thread
    /// `thread_ts` when not empty).
    handled mention(std::string text, std::string user = "UME",
                    std::string message_ts = "1795597200.000100", std::string thread_ts = {}) {
        opts o;
        o.from = source::mention;
        o.message_ts = std::move(message_ts);
        o.thread_ts = std::move(thread_ts);
        return run(std::move(text), std::move(user), o);
    }

    /// Presses a button: its value runs as a command of the presser.
    handled click(const button& b, std::string user = "UME") {
        opts o;
        o.from = source::action;
        return run(b.value, std::move(user), o);
    }

    /// Runs `text`, requiring it to succeed; returns the result.
    handled ok(std::string text, std::string user = "UME", const opts& o = {}) {
        auto h = run(text, user, o);
        INFO("command: " << text);
        INFO("reply: " << all_text(h));
        REQUIRE(h.ok);
        return h;
    }

    /// Runs `text`, requiring it to be refused with exactly one ephemeral answer to the
    /// caller, and returns that answer's text.
    std::string error(std::string text, std::string user = "UME", const opts& o = {}) {
        auto c = make(text, user, o);
        auto h = dispatch.handle(c);
        INFO("command: " << text);
        INFO("reply: " << all_text(h));
        REQUIRE_FALSE(h.ok);
        REQUIRE(h.effects.size() == 1);
        const auto& e = h.effects[0];
        CHECK(e.to == destination::ephemeral);
        CHECK(e.user == c.user_id);
        CHECK(e.channel == c.channel_id);
        CHECK(e.buttons.empty());
        CHECK(e.thread_ts == mention_thread(c));
        return e.text;
    }

    /// Like `error`, and also requires that nothing in the store changed and that the only
    /// new outbox row is the answer.
    std::string refused(std::string text, std::string user = "UME", const opts& o = {}) {
        auto before = dump();
        auto queued = db.pending(0).size();
        auto msg = error(std::move(text), std::move(user), o);
        CHECK(dump() == before);
        CHECK(db.pending(0).size() == queued + 1);
        return msg;
    }

    /// Runs several commands in one outer transaction (one fsync), for preparing a store.
    template <class F>
    void batch(F&& body) {
        db.transact([&] { body(); });
    }

    std::optional<item> find(std::string_view id, std::string team_id = {}) {
        auto parsed = parse_item_id(id);
        REQUIRE(parsed);
        return db.find_item(team_id.empty() ? team : team_id, *parsed);
    }

    /// The item `id`, which must exist.
    item get(std::string_view id, std::string team_id = {}) {
        auto it = find(id, std::move(team_id));
        INFO("item " << id);
        REQUIRE(it);
        return *it;
    }

    std::vector<history_entry> history(std::string_view id, std::string team_id = {}) {
        auto parsed = parse_item_id(id);
        REQUIRE(parsed);
        return db.history(team_id.empty() ? team : team_id, *parsed);
    }

    /// The actions of an item's history, oldest first.
    std::vector<std::string> actions(std::string_view id) {
        std::vector<std::string> out;
        for (const auto& h : history(id)) {
            out.push_back(h.action);
        }
        return out;
    }

    std::vector<item> items(std::optional<item_kind> kind = std::nullopt) {
        item_query q;
        q.team_id = team;
        q.kind = kind;
        return db.list_items(q);
    }

    /// Everything stored for both test workspaces (T1, T2).
    std::string dump() { return dump_team(db, "T1") + "--T2--\n" + dump_team(db, "T2"); }

    /// Delivers every pending outbox row as the sender would, giving each a Slack ts; a
    /// card's ts becomes its item's thread. Returns how many rows were delivered.
    std::size_t deliver() {
        auto rows = db.pending(0);
        for (const auto& r : rows) {
            if (r.e.to == destination::update) {
                // chat.update answers with the ts of the message it replaced.
                auto post = db.post_of(r.team_id, r.e.name);
                db.mark_sent(r.id, post ? post->first : r.e.channel, post ? post->second : "", now);
                continue;
            }
            ++sent_;
            auto ts = std::to_string(now) + "." + std::to_string(1000000 + sent_).substr(1);
            db.mark_sent(r.id, r.e.channel, ts, now);
        }
        return rows.size();
    }

private:
    std::int64_t sent_ = 0;
};

/// The single effect of `h` going to `to`; fails the test when there is not exactly one.
inline effect one(const handled& h, destination to) {
    auto es = effects_to(h, to);
    INFO("effects: " << all_text(h));
    REQUIRE(es.size() == 1);
    return es[0];
}

/// The card effect (a channel post of an item) of `h`.
inline effect card_of(const handled& h) {
    std::vector<effect> cards;
    for (const auto& e : h.effects) {
        if (e.to == destination::channel && !e.item.empty()) {
            cards.push_back(e);
        }
    }
    INFO("effects: " << all_text(h));
    REQUIRE(cards.size() == 1);
    return cards[0];
}

/// The button of `e` labelled `text`; fails the test when there is none.
inline button button_named(const effect& e, std::string_view text) {
    for (const auto& b : e.buttons) {
        if (b.text == text) {
            return b;
        }
    }
    FAIL("no button " << text);
    return {};
}

/// The labels of `e`'s buttons, in order.
inline std::vector<std::string> button_texts(const effect& e) {
    std::vector<std::string> out;
    for (const auto& b : e.buttons) {
        out.push_back(b.text);
    }
    return out;
}

} // namespace tpmbot::test
