#include "check.hpp"
#include "config.hpp"
#include "console.hpp"
#include "dispatcher.hpp"
#include "open_store.hpp"
#include "pg_store.hpp"
#include "router.hpp"
#include "slack_app.hpp"
#include "sqlite_store.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

int main(int argc, char** argv) {
    using namespace tpmbot;
    config cfg;
    try {
        cfg = parse_config({argv, argv + argc}, [](const char* n) { return std::getenv(n); });
    } catch (const config_error& e) {
        std::cerr << "tpmbot: " << e.what() << "\n";
        return 2;
    }
    use_libpq(cfg.libpq); // loaded, if at all, when a PostgreSQL database is opened
    if (cfg.show_help || cfg.show_version) {
        std::cout << (cfg.show_help ? usage() : std::string("tpmbot ") + TPMBOT_VERSION + "\n");
        return 0;
    }
    if (cfg.check) {
        auto report = check_config(cfg);
        for (const auto& line : report.lines) {
            std::cout << line << "\n";
        }
        return report.ok ? 0 : 1;
    }
    logger log(stream_sink(std::cerr, cfg.log_as, cfg.log_min));
    try {
        bool postgres = is_postgres_url(cfg.db_path);
        if (!postgres) {
            auto parent = std::filesystem::path(cfg.db_path).parent_path();
            if (!parent.empty()) {
                std::filesystem::create_directories(parent);
            }
        }
        auto store = open_store(cfg.db_path);
        auto& db = *store;
        // Where the data is, fit for the log: a URL without its password.
        auto shown = postgres ? pg_store::redact(cfg.db_path) : cfg.db_path;
        auto routes = make_router();
        dispatcher d(db, routes, cfg.admins, log);
        if (cfg.slack_tokens && !cfg.force_console) {
            slack_settings s;
            s.api_url = cfg.api_url;
            s.app_token = cfg.app_token;
            s.bot_token = cfg.bot_token;
            s.ca_file = cfg.ca_file;
            s.kill_after_event_ack = cfg.failpoint == "kill-after-event-ack";
            s.timing = cfg.timing;
            s.admin_host = cfg.admin_host;
            s.admin_port = cfg.admin_port;
            s.http_host = cfg.http_host;
            s.http_port = cfg.http_port;
            s.signing_secret = cfg.signing_secret;
            s.outbox_lease = cfg.outbox_lease;
            log("tpmbot: connecting to Slack at " + s.api_url + " (data: " + shown + ")");
            if (auto* lite = dynamic_cast<sqlite_store*>(&db)) {
                // Commits are on the thread that reads and acks: checkpoints go elsewhere.
                lite->start_checkpointer();
            }
            slack_app app(db, d, s, log);
            return app.run();
        }
        console c(db, d, cfg, std::cout);
        if (!cfg.script.empty()) {
            std::ifstream in(cfg.script);
            if (!in) {
                std::cerr << "tpmbot: cannot read script " << cfg.script << "\n";
                return 1;
            }
            run_console(c, in, std::cout, false, true);
            return 0;
        }
        bool tty = ::isatty(STDIN_FILENO) != 0;
        if (tty) {
            std::cout << "tpmbot console: you are @" << cfg.user << " in #" << cfg.channel
                      << " (workspace " << cfg.team << "). Data: " << shown
                      << "\nType /tpm help for commands, :help for the console, :quit to leave.\n";
        }
        run_console(c, std::cin, std::cout, tty, !tty);
        return 0;
    } catch (const std::exception& e) {
        log.error(std::string("tpmbot: ") + e.what());
        return 1;
    }
}
