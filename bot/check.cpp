#include "check.hpp"

#include "dates.hpp"
#include "model.hpp"
#include "open_store.hpp"
#include "pg_store.hpp"
#include "pq.hpp"
#include "sqlite_store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <libpq-fe.h>
#include <memory>
#include <unistd.h>

namespace tpmbot {

namespace {

namespace fs = std::filesystem;

void check_database(const std::string& path, check_report& r) {
    auto problem = [&](const std::string& what) {
        r.ok = false;
        r.lines.push_back("problem: database " + path + ": " + what);
    };
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        // The nearest directory that exists must be writable, for the file to be created.
        auto dir = fs::absolute(path, ec).parent_path();
        while (!dir.empty() && !fs::exists(dir, ec) && dir != dir.root_path()) {
            dir = dir.parent_path();
        }
        if (::access(dir.c_str(), W_OK) != 0) {
            problem(fmt::format("does not exist, and {} is not writable", dir.string()));
            return;
        }
        r.lines.push_back("ok: database " + path + " does not exist yet; it will be created");
        return;
    }
    try {
        SQLite::Database db(path, SQLite::OPEN_READONLY);
        auto version = db.execAndGet("PRAGMA user_version").getInt();
        auto integrity = db.execAndGet("PRAGMA quick_check").getString();
        if (integrity != "ok") {
            problem("damaged (quick_check: " + integrity + ")");
            return;
        }
        if (version > sqlite_store::latest_schema_version()) {
            problem(fmt::format("has schema version {}, this tpmbot knows up to {}; upgrade "
                                "tpmbot",
                                version, sqlite_store::latest_schema_version()));
            return;
        }
        if (::access(path.c_str(), W_OK) != 0 ||
            ::access(fs::absolute(path).parent_path().c_str(), W_OK) != 0) {
            problem("is not writable (the file and its directory must be)");
            return;
        }
        r.lines.push_back(fmt::format(
            "ok: database {} (schema version {}{})", path, version,
            version < sqlite_store::latest_schema_version()
                ? fmt::format(", migrated to {} at start", sqlite_store::latest_schema_version())
                : ""));
    } catch (const std::exception& e) {
        problem(fmt::format("cannot be read as SQLite: {}", e.what()));
    }
}

/// A PostgreSQL database, read only: reachable with these credentials, and a schema this
/// build knows (or none yet: it is made at start).
void check_postgres(const std::string& url, check_report& r) {
    auto shown = pg_store::redact(url);
    auto problem = [&](const std::string& what) {
        r.ok = false;
        r.lines.push_back("problem: database " + shown + ": " + what);
    };
    try {
        pq::api(); // libpq is loaded here: say so when it cannot be
    } catch (const std::exception& e) {
        problem(e.what());
        return;
    }
    std::unique_ptr<PGconn, decltype(PQfinish)> conn(PQconnectdb(url.c_str()), PQfinish);
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
        std::string why = conn ? PQerrorMessage(conn.get()) : "out of memory";
        while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) {
            why.pop_back();
        }
        problem("cannot connect: " + why);
        return;
    }
    std::unique_ptr<PGresult, decltype(PQclear)> res(
        PQexec(conn.get(), "SELECT version FROM tpmbot_schema"), PQclear);
    int latest = pg_store::latest_schema_version();
    if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
        const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
        if (state != nullptr && std::string_view(state) == "42P01") { // no such table
            r.lines.push_back("ok: database " + shown +
                              " is reachable and has no tpmbot tables yet; they are made at start");
            return;
        }
        problem(std::string("cannot be read: ") + PQresultErrorMessage(res.get()));
        return;
    }
    int version = PQntuples(res.get()) == 0 ? 0 : std::atoi(PQgetvalue(res.get(), 0, 0));
    if (version > latest) {
        problem(fmt::format("has schema version {}, this tpmbot knows up to {}; upgrade tpmbot",
                            version, latest));
        return;
    }
    r.lines.push_back(
        fmt::format("ok: database {} (PostgreSQL, schema version {}{})", shown, version,
                    version < latest ? fmt::format(", migrated to {} at start", latest) : ""));
}

void check_zones(const config& cfg, check_report& r) {
    std::vector<std::string> zones = {"UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata",
                                      "Australia/Sydney"};
    if (!cfg.tz.empty()) {
        zones.push_back(cfg.tz);
    }
    for (const auto& z : zones) {
        try {
            dates::check_zone(z);
        } catch (const std::exception& e) {
            r.ok = false;
            r.lines.push_back(fmt::format("problem: time zone {} is not in the zone data ({}); "
                                          "install tzdata",
                                          z, e.what()));
            return;
        }
    }
    r.lines.push_back(fmt::format("ok: time zone data ({} zones checked)", zones.size()));
}

} // namespace

check_report check_config(const config& cfg) {
    check_report r;
    if (cfg.slack_tokens && !cfg.app_token.empty()) {
        r.lines.push_back("ok: Slack tokens set (an xapp- app token and an xoxb- bot token; "
                          "Slack itself is asked only at start)");
    }
    if (cfg.slack_tokens && !cfg.http_host.empty()) {
        r.lines.push_back(fmt::format("ok: HTTP mode on {}:{} with a signing secret and an xoxb- "
                                      "bot token",
                                      cfg.http_host, cfg.http_port));
    }
    if (cfg.slack_tokens) {
        r.lines.push_back("ok: Web API at " + cfg.api_url);
    } else {
        r.lines.push_back("ok: no Slack tokens; tpmbot opens the console");
    }
    if (!cfg.ca_file.empty()) {
        if (std::ifstream(cfg.ca_file)) {
            r.lines.push_back("ok: extra CA file " + cfg.ca_file);
        } else {
            r.ok = false;
            r.lines.push_back("problem: TPMBOT_CA_FILE " + cfg.ca_file + " cannot be read");
        }
    }
    if (is_postgres_url(cfg.db_path)) {
        check_postgres(cfg.db_path, r);
    } else {
        check_database(cfg.db_path, r);
    }
    check_zones(cfg, r);
    return r;
}

} // namespace tpmbot
