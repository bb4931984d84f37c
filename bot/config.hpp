#pragma once
/// Configuration from flags and environment variables (`tpmbot --help` lists them).

#include "log.hpp"
#include "model.hpp"
#include "standup.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpmbot {

/// A flag or variable that cannot be used; the message says which and why.
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Everything the binary needs to start.
struct config {
    std::string db_path;             ///< --db, TPMBOT_DB, or the default
    std::vector<std::string> admins; ///< TPMBOT_ADMINS, user ids
    /// Slack is reached: SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or with
    /// TPMBOT_HTTP_ADDR (HTTP mode), or both.
    bool slack_tokens = false;
    std::string app_token; ///< SLACK_APP_TOKEN, or the contents of SLACK_APP_TOKEN_FILE
    std::string bot_token; ///< SLACK_BOT_TOKEN, or the contents of SLACK_BOT_TOKEN_FILE
    /// SLACK_SIGNING_SECRET (or *_FILE): checks HTTP-mode requests.
    std::string signing_secret;
    /// TPMBOT_HTTP_ADDR as host and port: HTTP mode's listening address; empty when unset.
    std::string http_host;
    std::string http_port;
    std::string api_url = "https://slack.com/api/"; ///< SLACK_API_URL
    std::string ca_file;                            ///< TPMBOT_CA_FILE: an extra CA bundle to trust
    std::string libpq;     ///< TPMBOT_LIBPQ: the libpq to load for PostgreSQL (empty: libpq.so.5)
    std::string failpoint; ///< TPMBOT_FAILPOINT, for crash tests only
    bool force_console = false;      ///< --console
    std::string script;              ///< --script FILE: run these lines, then exit
    std::string user = "me";         ///< --user: the console's person
    std::string channel = "general"; ///< --channel: the console's channel
    std::string team = "T0CONSOLE";  ///< --team: the console's workspace
    std::string tz;                  ///< --tz / TPMBOT_TZ: the console person's zone
    std::optional<unix_time> clock;  ///< --clock: the console's start time (UTC)
    standup_timing timing;           ///< TPMBOT_PROMPT_GRACE, TPMBOT_REPORT_GRACE
    /// TPMBOT_ADMIN_ADDR as host and port: where /healthz and /metrics are served; an empty
    /// host when it is "off".
    std::string admin_host = "127.0.0.1";
    std::string admin_port = "9187";
    std::chrono::seconds outbox_lease{15}; ///< TPMBOT_OUTBOX_LEASE
    log_format log_as = log_format::text;  ///< TPMBOT_LOG_FORMAT
    log_level log_min = log_level::info;   ///< TPMBOT_LOG_LEVEL
    bool show_help = false;
    bool show_version = false;
    bool check = false; ///< `tpmbot check-config`: check the settings, start nothing
};

/// Looks up an environment variable; null when unset.
using env_fn = std::function<const char*(const char*)>;

/// Parses flags and environment. Throws config_error with a message fit for the terminal.
config parse_config(const std::vector<std::string>& argv, const env_fn& env);

/// The database path used when neither --db nor TPMBOT_DB is given:
/// $XDG_DATA_HOME/tpmbot/tpmbot.db, else ~/.local/share/tpmbot/tpmbot.db, else ./tpmbot.db.
std::string default_db_path(const env_fn& env);

/// "90m", "2h", "1d" in seconds; throws config_error naming `name` otherwise.
unix_time parse_duration(const std::string& name, const std::string& text);

/// `tpmbot --help`.
std::string usage();

/// Parses "2026-11-25T09:00:00Z" or "2026-11-25T09:00" (UTC); nullopt when malformed.
std::optional<unix_time> parse_utc(const std::string& text);

} // namespace tpmbot
