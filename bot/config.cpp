#include "config.hpp"

#include "dates.hpp"
#include "http_server.hpp"

#include <cctype>
#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

namespace tpmbot {

namespace {

bool set(const env_fn& env, const char* name) {
    const char* v = env(name);
    return v != nullptr && *v != '\0';
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ',' || c == ' ') {
            if (!cur.empty()) {
                out.push_back(cur);
            }
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) {
        out.push_back(cur);
    }
    return out;
}

/// A token from NAME, or from the file named by NAME_FILE (trailing whitespace removed).
/// The token itself never appears in a message.
std::string token(const env_fn& env, const std::string& name) {
    auto trimmed = [](std::string v) {
        while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back())) != 0) {
            v.pop_back();
        }
        return v;
    };
    if (set(env, name.c_str())) {
        return trimmed(env(name.c_str()));
    }
    auto file_var = name + "_FILE";
    if (!set(env, file_var.c_str())) {
        return {};
    }
    std::string path = env(file_var.c_str());
    std::ifstream in(path);
    if (!in) {
        throw config_error(fmt::format("{}: cannot read {}", file_var, path));
    }
    auto value = trimmed(
        std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
    if (value.empty()) {
        throw config_error(fmt::format("{}: {} is empty", file_var, path));
    }
    return value;
}

std::string system_zone() {
    try {
        return std::string(date::current_zone()->name());
    } catch (const std::exception&) {
        return "UTC";
    }
}

} // namespace

std::optional<unix_time> parse_utc(const std::string& text) {
    for (const char* f : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%MZ",
                          "%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
        std::istringstream in(text);
        date::sys_seconds tp;
        in >> date::parse(f, tp);
        if (!in.fail() && in.peek() == std::char_traits<char>::eof()) {
            return tp.time_since_epoch().count();
        }
    }
    return std::nullopt;
}

std::string default_db_path(const env_fn& env) {
    if (set(env, "XDG_DATA_HOME")) {
        return std::string(env("XDG_DATA_HOME")) + "/tpmbot/tpmbot.db";
    }
    if (set(env, "HOME")) {
        return std::string(env("HOME")) + "/.local/share/tpmbot/tpmbot.db";
    }
    return "tpmbot.db";
}

config parse_config(const std::vector<std::string>& argv, const env_fn& env) {
    config c;
    c.db_path = set(env, "TPMBOT_DB") ? env("TPMBOT_DB") : default_db_path(env);
    if (set(env, "TPMBOT_ADMINS")) {
        c.admins = split_list(env("TPMBOT_ADMINS"));
    }
    c.app_token = token(env, "SLACK_APP_TOKEN");
    c.bot_token = token(env, "SLACK_BOT_TOKEN");
    c.signing_secret = token(env, "SLACK_SIGNING_SECRET");
    if (set(env, "TPMBOT_HTTP_ADDR")) {
        std::string a = env("TPMBOT_HTTP_ADDR");
        if (!split_host_port(a, c.http_host, c.http_port)) {
            throw config_error(fmt::format("TPMBOT_HTTP_ADDR={} is not host:port (e.g. "
                                           "0.0.0.0:3000 behind a load balancer)",
                                           a));
        }
    }
    bool http_mode = !c.http_host.empty();
    if (http_mode && c.signing_secret.empty()) {
        throw config_error("TPMBOT_HTTP_ADDR is set but SLACK_SIGNING_SECRET is not: every "
                           "request must be checked (Basic Information → App Credentials → "
                           "Signing Secret)");
    }
    if (!http_mode && !c.signing_secret.empty()) {
        throw config_error("SLACK_SIGNING_SECRET is set but TPMBOT_HTTP_ADDR is not: say where "
                           "Slack's requests arrive, e.g. TPMBOT_HTTP_ADDR=0.0.0.0:3000");
    }
    if (http_mode && c.bot_token.empty()) {
        throw config_error("TPMBOT_HTTP_ADDR is set but SLACK_BOT_TOKEN is not: the bot posts "
                           "with it");
    }
    if (!http_mode && c.app_token.empty() != c.bot_token.empty()) {
        throw config_error(
            fmt::format("{} is set but {} is not: set both to connect to Slack, or "
                        "neither for the console",
                        c.app_token.empty() ? "SLACK_BOT_TOKEN" : "SLACK_APP_TOKEN",
                        c.app_token.empty() ? "SLACK_APP_TOKEN" : "SLACK_BOT_TOKEN"));
    }
    c.slack_tokens = !c.bot_token.empty();
    if (!c.app_token.empty() && !c.app_token.starts_with("xapp-")) {
        throw config_error("SLACK_APP_TOKEN must be the app-level token, starting with xapp- "
                           "(Basic Information → App-Level Tokens, scope connections:write)");
    }
    if (c.slack_tokens && !c.bot_token.starts_with("xoxb-")) {
        throw config_error("SLACK_BOT_TOKEN must be the bot token, starting with xoxb- (OAuth & "
                           "Permissions → Bot User OAuth Token)");
    }
    if (set(env, "SLACK_API_URL")) {
        c.api_url = env("SLACK_API_URL");
        // Plain http would send both tokens in the clear: only to this machine (test servers).
        bool local_http = c.api_url.starts_with("http://127.0.0.1") ||
                          c.api_url.starts_with("http://localhost") ||
                          c.api_url.starts_with("http://[::1]");
        if (!c.api_url.starts_with("https://") && !local_http) {
            throw config_error("SLACK_API_URL must start with https:// (http:// only for a "
                               "server on this machine: 127.0.0.1, localhost, [::1])");
        }
    }
    if (set(env, "TPMBOT_CA_FILE")) {
        c.ca_file = env("TPMBOT_CA_FILE");
    }
    if (set(env, "TPMBOT_LIBPQ")) {
        c.libpq = env("TPMBOT_LIBPQ");
    }
    if (set(env, "TPMBOT_FAILPOINT")) {
        c.failpoint = env("TPMBOT_FAILPOINT");
        if (c.failpoint != "kill-after-event-ack") {
            throw config_error("TPMBOT_FAILPOINT knows only kill-after-event-ack (for tests)");
        }
    }
    c.tz = set(env, "TPMBOT_TZ") ? env("TPMBOT_TZ") : "";
    if (set(env, "TPMBOT_PROMPT_GRACE")) {
        c.timing.prompt_grace = parse_duration("TPMBOT_PROMPT_GRACE", env("TPMBOT_PROMPT_GRACE"));
    }
    if (set(env, "TPMBOT_REPORT_GRACE")) {
        c.timing.report_grace = parse_duration("TPMBOT_REPORT_GRACE", env("TPMBOT_REPORT_GRACE"));
    }
    if (set(env, "TPMBOT_ADMIN_ADDR")) {
        std::string a = env("TPMBOT_ADMIN_ADDR");
        if (a == "off") {
            c.admin_host.clear();
            c.admin_port.clear();
        } else if (!split_host_port(a, c.admin_host, c.admin_port)) {
            throw config_error(fmt::format("TPMBOT_ADMIN_ADDR={} is not host:port (e.g. "
                                           "127.0.0.1:9187, [::1]:9187, 0.0.0.0:9187) or off",
                                           a));
        }
    }
    if (set(env, "TPMBOT_OUTBOX_LEASE")) {
        std::string v = env("TPMBOT_OUTBOX_LEASE");
        auto digits = v.ends_with('s') ? v.substr(0, v.size() - 1) : v;
        if (digits.empty() || digits.size() > 5 ||
            digits.find_first_not_of("0123456789") != std::string::npos || std::stoi(digits) < 2) {
            throw config_error(fmt::format("TPMBOT_OUTBOX_LEASE={} is not a number of seconds "
                                           "from 2 up, e.g. 15s",
                                           v));
        }
        c.outbox_lease = std::chrono::seconds(std::stoi(digits));
    }
    if (set(env, "TPMBOT_LOG_FORMAT")) {
        std::string f = env("TPMBOT_LOG_FORMAT");
        if (f == "json") {
            c.log_as = log_format::json;
        } else if (f == "text") {
            c.log_as = log_format::text;
        } else {
            throw config_error(
                fmt::format("TPMBOT_LOG_FORMAT={} is not a log format: use text or json", f));
        }
    }
    if (set(env, "TPMBOT_LOG_LEVEL")) {
        std::string l = env("TPMBOT_LOG_LEVEL");
        auto level = parse_log_level(l);
        if (!level) {
            throw config_error(fmt::format(
                "TPMBOT_LOG_LEVEL={} is not a level: use debug, info, warn or error", l));
        }
        c.log_min = *level;
    }

    for (std::size_t i = 1; i < argv.size(); ++i) {
        const auto& a = argv[i];
        auto value = [&](const char* flag) -> std::string {
            if (i + 1 >= argv.size()) {
                throw config_error(fmt::format("{} needs a value; see tpmbot --help", flag));
            }
            return argv[++i];
        };
        if (a == "check-config" && i == 1) {
            c.check = true;
        } else if (a == "--help" || a == "-h") {
            c.show_help = true;
        } else if (a == "--version") {
            c.show_version = true;
        } else if (a == "--console") {
            c.force_console = true;
        } else if (a == "--db") {
            c.db_path = value("--db");
        } else if (a == "--script") {
            c.script = value("--script");
        } else if (a == "--user") {
            c.user = value("--user");
        } else if (a == "--channel") {
            c.channel = value("--channel");
        } else if (a == "--team") {
            c.team = value("--team");
        } else if (a == "--tz") {
            c.tz = value("--tz");
        } else if (a == "--clock") {
            auto v = value("--clock");
            c.clock = parse_utc(v);
            if (!c.clock) {
                throw config_error(fmt::format("--clock {} is not a UTC time; use "
                                               "2026-11-25T09:00:00Z",
                                               v));
            }
        } else {
            throw config_error(fmt::format("unknown option {}; see tpmbot --help", a));
        }
    }
    if (c.tz.empty()) {
        c.tz = system_zone();
    }
    try {
        dates::check_zone(c.tz);
    } catch (const user_error& e) {
        throw config_error(fmt::format("--tz/TPMBOT_TZ: {}", e.what()));
    }
    if (c.db_path.empty()) {
        throw config_error("TPMBOT_DB is empty; give a file path or a postgres:// URL");
    }
    return c;
}

unix_time parse_duration(const std::string& name, const std::string& text) {
    unix_time n = -1;
    char unit = text.empty() ? '?' : text.back();
    auto digits = text.substr(0, text.empty() ? 0 : text.size() - 1);
    if (!digits.empty() && digits.size() <= 6 &&
        digits.find_first_not_of("0123456789") == std::string::npos) {
        n = std::stoll(digits);
    }
    unix_time per = unit == 'd' ? 86400 : unit == 'h' ? 3600 : unit == 'm' ? 60 : 0;
    if (n < 0 || per == 0) {
        throw config_error(fmt::format("{}={} is not a duration; use minutes, hours or days, "
                                       "e.g. 90m, 2h or 1d",
                                       name, text));
    }
    if (n == 0) {
        // A tick comes a moment after the due time: with no grace, nothing would run.
        throw config_error(
            fmt::format("{}={} leaves no time at all; give at least 1m", name, text));
    }
    return n * per;
}

std::string usage() {
    return R"(tpmbot: blockers, owners (DRIs) and decisions where your team talks.

Usage: tpmbot [options]
       tpmbot check-config [options]   check the settings, the database and the zone data,
                                       start nothing; exit status 0 when all is well

With SLACK_APP_TOKEN and SLACK_BOT_TOKEN set, tpmbot connects to Slack (Socket Mode); with
TPMBOT_HTTP_ADDR, SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN it takes Slack's requests over
HTTP instead (behind a load balancer).
Without them it opens the console: type what you would type in Slack (/tpm ...,
/blocker ..., @tpmbot ...) and see what the bot would post, and where.

Options:
  --db PATH|URL    SQLite database file, or a PostgreSQL URL (postgres://user@host/db)
                   that several replicas share (env TPMBOT_DB; default
                   $XDG_DATA_HOME/tpmbot/tpmbot.db or ~/.local/share/tpmbot/tpmbot.db)
  --script FILE    run the console lines in FILE, print the transcript, and exit
  --user NAME      the console's person (default: me; they are an admin)
  --channel NAME   the console's channel (default: general)
  --team ID        the console's workspace id (default: T0CONSOLE)
  --tz ZONE        the console person's IANA time zone (env TPMBOT_TZ; default: the system's)
  --clock TIME     start the console's clock at a UTC time, e.g. 2026-11-25T09:00:00Z
  --console        open the console even when Slack tokens are set
  --version        print the version
  -h, --help       this text

Environment:
  SLACK_APP_TOKEN  app-level token (xapp-...), scope connections:write
  SLACK_BOT_TOKEN  bot token (xoxb-...)
  SLACK_APP_TOKEN_FILE, SLACK_BOT_TOKEN_FILE   read a token from a file instead
  SLACK_API_URL    Web API base URL (default https://slack.com/api/)
  TPMBOT_CA_FILE   an extra CA bundle (PEM) to trust, besides the system's
  TPMBOT_DB        database file path, or postgres://… for PostgreSQL
  TPMBOT_LIBPQ     the libpq to load for PostgreSQL, a path or a file name (default
                   libpq.so.5, Debian's libpq5)
  TPMBOT_ADMINS    comma-separated Slack user ids who are tpmbot admins
  TPMBOT_TZ        the console person's time zone
  TPMBOT_PROMPT_GRACE   how late a standup prompt missed while tpmbot was down is still
                   sent (default 2h; older ones are skipped and logged)
  TPMBOT_REPORT_GRACE   the same for standup reports (default 24h)
  TPMBOT_HTTP_ADDR      host:port where Slack's requests arrive in HTTP mode (POST
                   /slack/commands, /slack/events, /slack/interactivity), instead of or
                   beside Socket Mode; needs SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN
  SLACK_SIGNING_SECRET  the app's signing secret, checked on every HTTP-mode request
                   (or SLACK_SIGNING_SECRET_FILE)
  TPMBOT_ADMIN_ADDR     host:port serving GET /healthz and /metrics (Prometheus) while
                   connected to Slack (default 127.0.0.1:9187; 0.0.0.0:9187 for every
                   interface; off for none)
  TPMBOT_OUTBOX_LEASE   with replicas on one PostgreSQL database, one of them sends the
                   outbox at a time; how long its claim lasts unrenewed, so how soon
                   another takes over after it dies (default 15s)
  TPMBOT_LOG_FORMAT     text (the default) or json (one JSON object a line: time, level, msg)
  TPMBOT_LOG_LEVEL      the least level logged: debug, info (the default), warn or error

Console lines:
  /tpm <command>, /blocker, /decision, /owner, /standup, /status   slash commands
  @tpmbot <text>                                a mention, as in Slack
  :dm <text>                                    a direct message to tpmbot (standup answers)
  :edit <text>                                  edit your last direct message to tpmbot
  :as @name   :in #channel   :team ID           act as someone else, elsewhere
  :thread <ts>|<id>|off                         say mentions inside a thread
  :click N [@name]                              press button N of an earlier post (a person
                                                picker takes the person chosen)
  :home                                         open your App Home (what Slack's Home tab shows)
  :shortcut blocker|decision <message>          use "Log as blocker/decision" on a message saying
                                                that, and submit its form as filled in
  :advance 2h|3d|30m                            move the clock forward; scheduled work
                                                (standup prompts, reminders, reports) runs
                                                at its time on the way
  :now   :help   :quit
)";
}

} // namespace tpmbot
