#pragma once
/// The SQLite store: the handlers' `store` plus the durable outbox, inbox and job claims
/// the transports use (`durable_store`). One connection, WAL, every multi-row change in one
/// transaction.

#include "durable_store.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tpmbot {

/// SQLite implementation of `store` and of the transport tables. Used by one thread at a
/// time: its connection is opened without SQLite's own locking.
class sqlite_store final : public durable_store {
public:
    /// Opens (creating if needed) the database at `path` (":memory:" allowed), sets WAL,
    /// foreign keys and a busy timeout, and migrates the schema to the latest version.
    /// Throws std::runtime_error with the path and the reason when it cannot.
    explicit sqlite_store(const std::string& path);
    ~sqlite_store() override;
    sqlite_store(const sqlite_store&) = delete;
    sqlite_store& operator=(const sqlite_store&) = delete;

    /// Moves WAL checkpoints off the committing thread: from now on a thread of the store's
    /// own, on its own connection, copies the WAL back into the database (a passive
    /// checkpoint, which never blocks a writer) once a commit leaves `pages` or more in the
    /// WAL, and at least every `interval`. Without it SQLite checkpoints inside the commit
    /// that crosses 1000 pages, which stalls that commit for the copy and its fsync. No-op
    /// for ":memory:".
    void start_checkpointer(int pages = 1000,
                            std::chrono::milliseconds interval = std::chrono::seconds(1));
    /// Checkpoints run by that thread so far (for tests and figures).
    std::int64_t checkpoints() const;

    /// PRAGMA user_version after migration.
    int schema_version() override;
    /// The latest schema version this build knows.
    static int latest_schema_version();
    /// Whether `e`, thrown by the store, means the database cannot be written right now (a
    /// full disk, a read-only or unreadable file, an I/O error), rather than a fault of the
    /// work itself: trying the same work later may succeed.
    static bool unwritable(const std::exception& e);

    // store
    void transact(const std::function<void()>& body) override;
    /// synchronous = NORMAL for its commit.
    void transact_relaxed(const std::function<void()>& body) override;
    std::int64_t next_number(std::string_view team_id, item_kind kind) override;
    void insert_item(const item& it) override;
    std::optional<item> find_item(std::string_view team_id, item_id id) override;
    void update_item(const item& it) override;
    std::vector<item> list_items(const item_query& q) override;
    std::int64_t count_items(const item_query& q) override;
    /// SQLite's plan for the query `list_items(q)` runs (`count_items(q)` when `count`), one
    /// step of EXPLAIN QUERY PLAN a line, nested steps indented: for the tests and benchmarks
    /// that hold the status queries to their indexes.
    std::string explain(const item_query& q, bool count);
    /// Runs that query and returns how many virtual machine steps SQLite took: a measure of
    /// the rows it read that does not depend on the machine, for tests that hold a query's
    /// cost to the rows it must read.
    std::int64_t steps(const item_query& q, bool count);
    void append_history(const history_entry& h) override;
    std::vector<history_entry> history(std::string_view team_id, item_id id) override;
    void set_area(const area& a) override;
    std::optional<area> find_area(std::string_view team_id, std::string_view name) override;
    std::vector<area> list_areas(std::string_view team_id) override;
    void add_admin(std::string_view team_id, std::string_view user_id, unix_time at) override;
    void remove_admin(std::string_view team_id, std::string_view user_id) override;
    std::vector<std::string> list_admins(std::string_view team_id) override;
    std::vector<std::string> teams() override;
    void set_user(const user_row& u) override;
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

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace tpmbot
