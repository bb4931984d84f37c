#pragma once
/// The storage interface the handlers use. storage/ implements it (SQLite today).
/// Every call runs inside the caller's transaction (see `store::transact`).

#include "model.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tpmbot {

/// Filters for `store::list_items`; empty fields do not filter.
struct item_query {
    std::string team_id; ///< required
    std::optional<item_kind> kind;
    std::vector<std::string> statuses; ///< any of these
    std::string channel_id;
    std::string dri;
    std::string reporter;
    bool unowned_only = false;     ///< no DRI
    bool mine_user_either = false; ///< with `dri`: DRI or reporter is that user
    unix_time updated_before = 0;  ///< only items not changed since (0: any)
    unix_time created_from = 0;    ///< created_at >= this (0: any)
    unix_time created_until = 0;   ///< created_at < this (0: any)
    unix_time closed_from = 0;     ///< closed, with closed_at >= this (0: any)
    unix_time closed_until = 0;    ///< closed, with closed_at < this (0: any)
    /// Open at that instant: created before it and not closed by then (0: any). Uses the
    /// current closed_at, so a reopened item counts as open since its creation.
    unix_time open_at = 0;
    int limit = 0; ///< 0: no limit
};

/// A person as the bot knows them from Slack (users.info), cached.
struct user_row {
    std::string team_id;
    std::string user_id;
    std::string tz; ///< IANA zone, empty when unknown
    unix_time updated_at = 0;
    bool is_admin = false; ///< a workspace admin or owner, as Slack's users.info says
    bool deleted = false;  ///< deactivated: left the workspace
    std::string name;      ///< display name (without @), empty when unknown
    bool is_bot = false;   ///< a bot or app user: never a standup member
};

/// A channel's standup (SPEC §4): who, on which days, when they are asked, when it reports.
struct standup {
    std::string team_id;
    std::string channel_id;
    int minute = 9 * 60;              ///< prompt time, minutes after midnight in each member's zone
    int report_minute = 11 * 60;      ///< report time, minutes after midnight in `tz`
    unsigned days = 0x1f;             ///< schedule::weekdays, bit 0 = Monday
    std::string tz = "UTC";           ///< the standup's zone: report time, members of unknown zone
    std::vector<std::string> members; ///< user ids, when not `whole_channel`
    bool whole_channel = false;       ///< members are the channel's members
    bool paused = false;
    std::string created_by;
    unix_time created_at = 0;
    unix_time updated_at = 0;
};

/// A person's standup settings, for every standup they are in.
struct standup_person {
    std::string team_id;
    std::string user_id;
    std::string tz;        ///< `standup tz` override; empty: Slack's zone
    std::string ooo_until; ///< YYYY-MM-DD (inclusive, their zone); empty when not away
    std::string skip_day;  ///< YYYY-MM-DD of a standup day they skip; empty when none
    unix_time updated_at = 0;
};

/// One standup day of a channel: the report it ends in.
struct standup_run {
    std::string team_id;
    std::string channel_id;
    std::string period; ///< the report's local date in the standup's zone, YYYY-MM-DD
    unix_time report_due = 0;
    unix_time reported_at = 0; ///< 0 until the digest is written
    std::string digest_channel;
    std::string digest_ts; ///< the posted digest, whose thread takes late answers
};

/// One member's part in one standup run.
struct standup_entry {
    std::string team_id;
    std::string channel_id;
    std::string period; ///< the run's period
    std::string user_id;
    /// "prompted" (asked, answering), "answered", "away" (ooo or skip), "left" (no longer
    /// in the channel or the workspace).
    std::string state;
    std::string note;                 ///< why away or left
    std::vector<std::string> answers; ///< one per question answered so far (mrkdwn)
    unix_time prompted_at = 0;
    unix_time reminder_due = 0; ///< 0: no reminder
    unix_time reminded_at = 0;
    unix_time answered_at = 0; ///< when the last question was answered
    bool late = false;         ///< answered after the report
};

/// A DM message that carried standup answers, so an edit can replace them.
struct standup_message {
    std::string team_id;
    std::string user_id;
    std::string ts;
    std::string channel_id; ///< the standup's channel
    std::string period;
    int first_question = 0; ///< index of the first question it answered
    int count = 1;          ///< how many questions it answered (one per line)
};

/// A decision's poll (SPEC §6): the decision's options put to a vote in its thread.
struct poll {
    std::string team_id;
    std::int64_t num = 0; ///< the decision's number
    std::string opened_by;
    unix_time opened_at = 0;
    unix_time closes_at = 0; ///< the end of the decide-by day; 0: open until decided
    unix_time closed_at = 0; ///< 0 while open
};

/// One person's vote in a poll; `choice` counts the decision's options from 1.
struct poll_vote {
    std::string user_id;
    int choice = 0;
    unix_time voted_at = 0;
};

/// Everything the handlers read and write. Implementations throw std::exception on failure.
class store {
public:
    virtual ~store() = default;

    /// Runs `body` in one transaction: commits when it returns, rolls back when it throws.
    virtual void transact(const std::function<void()>& body) = 0;

    /// Allocates the next number of a kind in a workspace (1, 2, ...), never reused.
    virtual std::int64_t next_number(std::string_view team_id, item_kind kind) = 0;
    virtual void insert_item(const item& it) = 0;
    virtual std::optional<item> find_item(std::string_view team_id, item_id id) = 0;
    /// Overwrites every mutable field of the item with the same team, kind and number.
    virtual void update_item(const item& it) = 0;
    /// Oldest first (by creation).
    virtual std::vector<item> list_items(const item_query& q) = 0;
    /// How many items `list_items(q)` would return, ignoring `limit`.
    virtual std::int64_t count_items(const item_query& q) = 0;

    virtual void append_history(const history_entry& h) = 0;
    /// Oldest first.
    virtual std::vector<history_entry> history(std::string_view team_id, item_id id) = 0;

    /// Creates or replaces an area (names compare case-insensitively).
    virtual void set_area(const area& a) = 0;
    virtual std::optional<area> find_area(std::string_view team_id, std::string_view name) = 0;
    /// By name.
    virtual std::vector<area> list_areas(std::string_view team_id) = 0;

    /// Admins added with `/tpm config admins` (env and Slack admins are added by the caller).
    virtual void add_admin(std::string_view team_id, std::string_view user_id, unix_time at) = 0;
    virtual void remove_admin(std::string_view team_id, std::string_view user_id) = 0;
    virtual std::vector<std::string> list_admins(std::string_view team_id) = 0;
    /// Every workspace that has items, by id.
    virtual std::vector<std::string> teams() = 0;

    /// What Slack said of a person (zone, admin, deactivated); nullopt when never asked.
    virtual std::optional<user_row> find_user(std::string_view team_id,
                                              std::string_view user_id) = 0;

    /// Claims one firing of a scheduled job; false when (job, period) was already claimed.
    /// The claim commits with the caller's transaction, so a firing and its effects happen
    /// exactly once across restarts.
    virtual bool claim(std::string_view job, std::string_view period, unix_time at) = 0;
    /// Whether (job, period) is already claimed: a read, for skipping what has long been done
    /// without a write transaction (claim still decides).
    virtual bool claimed(std::string_view job, std::string_view period) = 0;
    /// A bot-wide setting (team "" for settings of the process), nullopt when unset.
    virtual std::optional<std::string> setting(std::string_view team_id, std::string_view key) = 0;
    virtual void set_setting(std::string_view team_id, std::string_view key, std::string_view value,
                             unix_time at) = 0;

    // standups
    /// Creates or replaces the standup of (team, channel).
    virtual void put_standup(const standup& s) = 0;
    virtual std::optional<standup> find_standup(std::string_view team_id,
                                                std::string_view channel_id) = 0;
    /// Every standup of a team, or of every team when `team_id` is empty; by channel.
    virtual std::vector<standup> list_standups(std::string_view team_id) = 0;
    virtual void put_standup_person(const standup_person& p) = 0;
    virtual std::optional<standup_person> find_standup_person(std::string_view team_id,
                                                              std::string_view user_id) = 0;
    /// Creates the run or updates it.
    virtual void put_run(const standup_run& r) = 0;
    virtual std::optional<standup_run>
    find_run(std::string_view team_id, std::string_view channel_id, std::string_view period) = 0;
    /// Runs not yet reported whose report was due at or before `until`, across teams, oldest
    /// first.
    virtual std::vector<standup_run> unreported_runs(unix_time until) = 0;
    /// Creates the entry or updates it.
    virtual void put_entry(const standup_entry& e) = 0;
    virtual std::optional<standup_entry> find_entry(std::string_view team_id,
                                                    std::string_view channel_id,
                                                    std::string_view period,
                                                    std::string_view user_id) = 0;
    /// The entries of one run, by prompt time then user.
    virtual std::vector<standup_entry>
    run_entries(std::string_view team_id, std::string_view channel_id, std::string_view period) = 0;
    /// A person's entries still in state "prompted", oldest prompt first.
    virtual std::vector<standup_entry> open_entries(std::string_view team_id,
                                                    std::string_view user_id) = 0;
    /// A person's most recent entry (any state, any standup), nullopt when none.
    virtual std::optional<standup_entry> latest_entry(std::string_view team_id,
                                                      std::string_view user_id) = 0;
    /// Entries in state "prompted" with a reminder due at or before `until` and not yet
    /// sent, across teams.
    virtual std::vector<standup_entry> reminders_due(unix_time until) = 0;
    /// The earliest reminder due after `after` that is not yet sent, 0 when none.
    virtual unix_time next_reminder(unix_time after) = 0;
    virtual void put_standup_message(const standup_message& m) = 0;
    virtual std::optional<standup_message> find_standup_message(std::string_view team_id,
                                                                std::string_view user_id,
                                                                std::string_view ts) = 0;
    /// The members of a channel as last read from Slack; nullopt when never read.
    virtual std::optional<std::vector<std::string>>
    channel_members(std::string_view team_id, std::string_view channel_id) = 0;
    virtual void set_channel_members(std::string_view team_id, std::string_view channel_id,
                                     const std::vector<std::string>& members, unix_time at) = 0;

    /// Creates the poll of decision (team, num) or replaces it; votes are kept.
    virtual void put_poll(const poll& p) = 0;
    virtual std::optional<poll> find_poll(std::string_view team_id, std::int64_t num) = 0;
    /// Records a person's vote, replacing their earlier one.
    virtual void set_vote(std::string_view team_id, std::int64_t num, const poll_vote& v) = 0;
    /// A poll's votes, oldest first.
    virtual std::vector<poll_vote> poll_votes(std::string_view team_id, std::int64_t num) = 0;
    /// Open polls with a closing time at or before `until`, across teams, soonest first.
    virtual std::vector<poll> polls_due(unix_time until) = 0;
};

} // namespace tpmbot
