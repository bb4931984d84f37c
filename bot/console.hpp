#pragma once
/// The console transport: a person types what they would type in Slack and sees what the
/// bot would post, and where. Its "Slack" delivers the outbox by printing it.

#include "config.hpp"
#include "dispatcher.hpp"
#include "durable_store.hpp"

#include <iosfwd>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tpmbot {

/// One console session over a store.
class console {
public:
    console(durable_store& db, dispatcher& d, const config& cfg, std::ostream& out);

    /// Handles one typed line; false when the person asked to quit.
    bool line(const std::string& text);

    /// Delivers every pending outbox row by printing it (also rows left by an earlier run).
    void drain();

    /// Encodes typed text the way Slack sends it with should_escape: &, <, > become entities,
    /// @name becomes <@UNAME|name>, #name <#CNAME|name>, @here/@channel/@everyone <!here>...;
    /// references typed in Slack's own form (<@U1>, <!subteam^S1|@eng>) pass through.
    std::string encode(std::string_view typed);

    /// The user id the console gives a name ("dana" -> "UDANA").
    static std::string user_id_for(std::string_view name);
    /// The channel id the console gives a name ("general" -> "CGENERAL").
    static std::string channel_id_for(std::string_view name);

    /// The console's current time (UTC seconds).
    unix_time now() const;

    /// Runs the scheduled work due by now (standup prompts, reminders, reports) and prints
    /// what it posted.
    void tick();

private:
    struct pressable {
        button b;
        std::string channel;
    };

    void slash(const std::string& name, const std::string& text);
    void mention(const std::string& text);
    void meta(const std::string& text);
    void run(command cmd);
    void direct_message(const std::string& text, bool edit);
    void use_shortcut(const std::string& arg);
    void advance(unix_time seconds);
    command base_command(source from) const;
    std::string new_ts();
    std::string user_name(const std::string& id) const;
    std::string channel_name(const std::string& id) const;

    durable_store& db_;
    dispatcher& dispatch_;
    std::ostream& out_;
    std::string team_;
    std::string user_;
    std::string channel_;
    std::string tz_;
    std::string thread_ts_;
    std::string admin_user_; ///< the console's own person is an admin (SPEC §8)
    std::map<std::string, std::string> names_;
    std::vector<pressable> buttons_;
    bool fixed_clock_ = false;
    unix_time base_ = 0;
    unix_time offset_ = 0;
    std::uint64_t seq_ = 0;
    standup_timing timing_;
    std::map<std::string, std::string> last_dm_; ///< user id -> ts of their last DM to the bot
};

/// Reads lines from `in` until the end or :quit. `echo` prints each line first (scripts).
void run_console(console& c, std::istream& in, std::ostream& out, bool interactive, bool echo);

} // namespace tpmbot
