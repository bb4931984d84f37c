#pragma once
/// The PostgreSQL store: the handlers' `store` plus the durable outbox, inbox and job claims
/// the transports use (`durable_store`), on one libpq connection. It behaves as the SQLite
/// store does, call for call: the same rows, orders, errors and transactions.

#include "durable_store.hpp"

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tpmbot {

/// PostgreSQL implementation of `store` and of the transport tables. Used by one thread at a
/// time. Writing transactions run one at a time per schema, across processes (an advisory
/// lock taken at BEGIN), as SQLite's BEGIN IMMEDIATE makes them: the handlers' reads and the
/// writes that follow them see no other writer in between.
class pg_store final : public durable_store {
public:
    /// Connects to `url` (a postgres:// or postgresql:// URL, or libpq's key=value form),
    /// then creates or migrates the schema in the first schema of its search_path. Throws
    /// std::runtime_error naming the database (without its password) and the reason.
    explicit pg_store(const std::string& url);
    ~pg_store() override;
    pg_store(const pg_store&) = delete;
    pg_store& operator=(const pg_store&) = delete;

    /// The version in the tpmbot_schema table after migration.
    int schema_version() override;
    /// The latest schema version this build knows (the SQLite schema's latest).
    static int latest_schema_version();
    /// Whether `e`, thrown by the store, means the database cannot be written right now (the
    /// connection is lost, the server is shutting down or out of disk, a lock wait timed out,
    /// the database is read-only), rather than a fault of the work itself: trying the same
    /// work later may succeed.
    static bool unwritable(const std::exception& e);
    /// `url` (or key=value connection text) without its password, for messages and logs.
    static std::string redact(std::string_view url);

    // store
    /// Nested calls run in a savepoint: a failing inner body that the outer one catches
    /// leaves none of its writes behind. A statement that fails outside any nested call
    /// spoils the whole transaction in PostgreSQL: `transact` then rolls back and throws even
    /// if the body caught the error.
    void transact(const std::function<void()>& body) override;
    /// synchronous_commit = off for its transaction.
    void transact_relaxed(const std::function<void()>& body) override;
    std::int64_t next_number(std::string_view team_id, item_kind kind) override;
    void insert_item(const item& it) override;
    std::optional<item> find_item(std::string_view team_id, item_id id) override;
    void update_item(const item& it) override;
    std::vector<item> list_items(const item_query& q) override;
    std::int64_t count_items(const item_query& q) override;
    void append_history(const history_entry& h) override;
    std::vector<history_entry> history(std::string_view team_id, item_id id) override;
    void set_area(const area& a) override;
    std::optional<area> find_area(std::string_view team_id, std::string_view name) override;
    std::vector<area> list_areas(std::string_view team_id) override;
    void add_admin(std::string_view team_id, std::string_view user_id, unix_time at) override;
    void remove_admin(std::string_view team_id, std::string_view user_id) override;
    std::vector<std::string> list_admins(std::string_view team_id) override;
    std::vector<std::string> teams() override;
    std::optional<user_row> find_user(std::string_view team_id, std::string_view user_id) override;
    bool claim(std::string_view job, std::string_view period, unix_time at) override;
    bool claimed(std::string_view job, std::string_view period) override;
    std::optional<std::string> setting(std::string_view team_id, std::string_view key) override;
    void set_setting(std::string_view team_id, std::string_view key, std::string_view value,
                     unix_time at) override;

    // standups
    void put_standup(const standup& s) override;
    std::optional<standup> find_standup(std::string_view team_id,
                                        std::string_view channel_id) override;
    std::vector<standup> list_standups(std::string_view team_id) override;
    void put_standup_person(const standup_person& p) override;
    std::optional<standup_person> find_standup_person(std::string_view team_id,
                                                      std::string_view user_id) override;
    void put_run(const standup_run& r) override;
    std::vector<standup_run> unreported_runs(unix_time until) override;
    std::optional<standup_run> find_run(std::string_view team_id, std::string_view channel_id,
                                        std::string_view period) override;
    void put_entry(const standup_entry& e) override;
    std::optional<standup_entry> find_entry(std::string_view team_id, std::string_view channel_id,
                                            std::string_view period,
                                            std::string_view user_id) override;
    std::vector<standup_entry> run_entries(std::string_view team_id, std::string_view channel_id,
                                           std::string_view period) override;
    std::vector<standup_entry> open_entries(std::string_view team_id,
                                            std::string_view user_id) override;
    std::optional<standup_entry> latest_entry(std::string_view team_id,
                                              std::string_view user_id) override;
    std::vector<standup_entry> reminders_due(unix_time until) override;
    unix_time next_reminder(unix_time after) override;
    void put_standup_message(const standup_message& m) override;
    std::optional<standup_message> find_standup_message(std::string_view team_id,
                                                        std::string_view user_id,
                                                        std::string_view ts) override;
    /// By user id.
    std::optional<std::vector<std::string>> channel_members(std::string_view team_id,
                                                            std::string_view channel_id) override;
    /// Replaces the whole member set at once (in one transaction, or a savepoint of the
    /// caller's); duplicates are stored once.
    void set_channel_members(std::string_view team_id, std::string_view channel_id,
                             const std::vector<std::string>& members, unix_time at) override;
    void put_poll(const poll& p) override;
    std::optional<poll> find_poll(std::string_view team_id, std::int64_t num) override;
    void set_vote(std::string_view team_id, std::int64_t num, const poll_vote& v) override;
    std::vector<poll_vote> poll_votes(std::string_view team_id, std::int64_t num) override;
    std::vector<poll> polls_due(unix_time until) override;

    // durable_store
    std::int64_t enqueue(std::string_view team_id, const effect& e, unix_time now) override;
    std::vector<outbox_row> pending(int limit, std::int64_t after_id = 0) override;
    std::optional<outbox_row> outbox(std::int64_t id) override;
    using durable_store::mark_sent;
    void mark_sent(const outbox_row& row, std::string_view channel, std::string_view ts,
                   unix_time at) override;
    std::optional<std::pair<std::string, std::string>> post_of(std::string_view team_id,
                                                               std::string_view name) override;
    int mark_pending_unsure() override;
    void mark_failed(std::int64_t id, std::string_view error, bool permanent, unix_time at,
                     bool maybe_delivered = false) override;
    bool inbox_put(const inbox_row& r) override;
    std::vector<inbox_row> inbox_unprocessed(int limit) override;
    void inbox_done(std::string_view event_id, unix_time at) override;
    bool inbox_processed(std::string_view event_id) override;
    void set_user(const user_row& u) override;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace tpmbot
