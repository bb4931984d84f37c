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
    int limit = 0;                 ///< 0: no limit
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
};

} // namespace tpmbot
