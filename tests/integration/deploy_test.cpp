// The deployment files in deploy/ (the systemd unit, the container image, compose, Kubernetes
// and the env example) stay true to the binary: they name only variables it reads, keep the
// sandbox, probe /healthz on the admin address they set, give a graceful stop the time it
// needs, build with the same script as ./deploy/run.sh, and hold no real token.
// Line-based reading: each file is written in the plain shape these checks expect.

#include "config.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path deploy_dir = TPMBOT_DEPLOY_DIR;

/// The files that say how tpmbot runs (the scripts beside them build and test it).
const std::vector<std::string> deployment_files = {
    "tpmbot.service",      "Dockerfile",       "compose.yaml",      "k8s/secret.yaml",
    "k8s/deployment.yaml", "k8s/service.yaml", "tpmbot.env.example"};

/// A graceful stop takes up to 11.5 s (the HTTP timeout, 10 s, then 1.5 s): a grace period must
/// be longer, so more than 11 whole seconds.
constexpr int graceful_stop_seconds = 11;

std::string read(const fs::path& path) {
    INFO(path.string());
    std::ifstream in(path);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string read_deploy(const std::string& name) {
    return read(deploy_dir / name);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        out.push_back(line);
    }
    return out;
}

std::string trim(std::string_view s) {
    auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
        return {};
    }
    auto last = s.find_last_not_of(" \t");
    return std::string(s.substr(first, last - first + 1));
}

std::size_t indent_of(const std::string& line) {
    auto n = line.find_first_not_of(' ');
    return n == std::string::npos ? line.size() : n;
}

bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

bool name_char(char c) {
    return std::isupper(static_cast<unsigned char>(c)) != 0 ||
           std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '_';
}

/// Every TPMBOT_… and SLACK_… name in `text`, also right after -D (a CMake option).
std::set<std::string> variable_names(const std::string& text) {
    std::set<std::string> out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        for (std::string_view prefix : {"TPMBOT_", "SLACK_"}) {
            if (text.compare(i, prefix.size(), prefix) != 0) {
                continue;
            }
            bool starts =
                i == 0 || !word_char(text[i - 1]) || (i >= 2 && text.compare(i - 2, 2, "-D") == 0);
            auto end = i + prefix.size();
            while (end < text.size() && name_char(text[end])) {
                ++end;
            }
            bool whole = end == text.size() || !word_char(text[end]);
            if (starts && whole && end > i + prefix.size()) {
                out.insert(text.substr(i, end - i));
            }
        }
    }
    return out;
}

/// What the binary reads: the names in `tpmbot --help`.
std::set<std::string> usage_names() {
    return variable_names(tpmbot::usage());
}

/// What the build reads: the names deploy/lib.sh uses and the options of CMakeLists.txt.
std::set<std::string> build_names() {
    auto names = variable_names(read_deploy("lib.sh"));
    for (const auto& line : lines_of(read(deploy_dir / ".." / "CMakeLists.txt"))) {
        if (trim(line).starts_with("option(")) {
            names.merge(variable_names(line));
        }
    }
    return names;
}

/// A Dockerfile's instructions, continuation lines joined, comments left out.
std::vector<std::string> dockerfile_instructions(const std::string& text) {
    std::vector<std::string> out;
    std::string current;
    for (const auto& raw : lines_of(text)) {
        auto line = trim(raw);
        if (line.starts_with("#") || (line.empty() && current.empty())) {
            continue;
        }
        bool more = line.ends_with("\\");
        if (more) {
            line.pop_back();
        }
        current += line + " ";
        if (!more) {
            out.push_back(trim(current));
            current.clear();
        }
    }
    if (!current.empty()) {
        out.push_back(trim(current));
    }
    return out;
}

/// The instructions of each stage of a Dockerfile, in order.
std::vector<std::vector<std::string>> dockerfile_stages(const std::string& text) {
    std::vector<std::vector<std::string>> stages;
    for (auto& instruction : dockerfile_instructions(text)) {
        if (instruction.starts_with("FROM ")) {
            stages.emplace_back();
        }
        if (!stages.empty()) {
            stages.back().push_back(std::move(instruction));
        }
    }
    return stages;
}

/// The [Service] section of a systemd unit: every value of each key, in order.
std::map<std::string, std::vector<std::string>> unit_service_section(const std::string& text) {
    std::map<std::string, std::vector<std::string>> out;
    std::string section;
    for (const auto& raw : lines_of(text)) {
        auto line = trim(raw);
        if (line.empty() || line.starts_with("#") || line.starts_with(";")) {
            continue;
        }
        if (line.starts_with("[")) {
            section = line;
            continue;
        }
        auto eq = line.find('=');
        if (section == "[Service]" && eq != std::string::npos) {
            out[trim(line.substr(0, eq))].push_back(trim(line.substr(eq + 1)));
        }
    }
    return out;
}

/// A number of seconds: "20", "20s" or "20 s"; nullopt otherwise.
std::optional<int> seconds_of(std::string value) {
    value = trim(value);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
        value = value.substr(1, value.size() - 2);
    }
    if (value.ends_with("s")) {
        value = trim(value.substr(0, value.size() - 1));
    }
    if (value.empty() || value.size() > 6 ||
        value.find_first_not_of("0123456789") != std::string::npos) {
        return std::nullopt;
    }
    return std::stoi(value);
}

/// "key: value" of a YAML line (a leading "- " dropped, quotes removed); nullopt when the line
/// is not one.
std::optional<std::pair<std::string, std::string>> yaml_entry(const std::string& line) {
    auto t = trim(line);
    if (t.starts_with("- ")) {
        t = trim(t.substr(2));
    }
    if (t.starts_with("#")) {
        return std::nullopt;
    }
    auto colon = t.find(':');
    if (colon == std::string::npos) {
        return std::nullopt;
    }
    auto value = trim(t.substr(colon + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
        value = value.substr(1, value.size() - 2);
    }
    return std::pair{trim(t.substr(0, colon)), value};
}

/// The value of the first "key: value" line of `lines` (from `from`); empty when none.
std::string yaml_value(const std::vector<std::string>& lines, const std::string& key,
                       std::size_t from = 0) {
    for (auto i = from; i < lines.size(); ++i) {
        auto e = yaml_entry(lines[i]);
        if (e && e->first == key) {
            return e->second;
        }
    }
    return {};
}

/// The lines of the YAML block under the first "key:" line (indented by `indent` spaces, when
/// given), up to the next line indented no deeper than it.
std::vector<std::string> yaml_block(const std::vector<std::string>& lines, const std::string& key,
                                    std::optional<std::size_t> indent = std::nullopt) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto e = yaml_entry(lines[i]);
        if (!e || e->first != key || !e->second.empty() ||
            (indent && indent_of(lines[i]) != *indent)) {
            continue;
        }
        std::vector<std::string> block;
        auto at = indent_of(lines[i]);
        for (auto j = i + 1; j < lines.size(); ++j) {
            if (trim(lines[j]).empty() || trim(lines[j]).starts_with("#")) {
                continue;
            }
            if (indent_of(lines[j]) <= at) {
                break;
            }
            block.push_back(lines[j]);
        }
        return block;
    }
    return {};
}

/// The value given to an environment variable in a Kubernetes container's env list.
std::string k8s_env_value(const std::vector<std::string>& lines, const std::string& name) {
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        auto e = yaml_entry(lines[i]);
        if (e && e->first == "name" && e->second == name && trim(lines[i]).starts_with("- ")) {
            return yaml_value(lines, "value", i + 1);
        }
    }
    return {};
}

/// The port of "host:port", or of "[v6]:port".
std::string port_of(const std::string& address) {
    auto colon = address.rfind(':');
    return colon == std::string::npos ? std::string() : address.substr(colon + 1);
}

bool is_hex_lower(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0 || (c >= 'a' && c <= 'f');
}

/// Something in `text` shaped like a real Slack token or signing secret, or nullopt.
/// Tokens: xoxb-/xoxp-/xapp-… whose rest is long and mostly digits and dashes, e.g.
/// xoxb-<digits>-<digits>-<letters>. Signing secrets: 32 hex digits standing alone.
/// Placeholders (xapp-REPLACE, xoxb-...) pass.
std::optional<std::string> secret_in(const std::string& text) {
    auto token_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
    };
    for (std::string_view prefix : {"xoxb-", "xoxp-", "xoxa-", "xoxe-", "xoxr-", "xapp-"}) {
        for (auto at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
            auto end = at + prefix.size();
            int digits = 0;
            while (end < text.size() && token_char(text[end])) {
                digits += std::isdigit(static_cast<unsigned char>(text[end])) != 0 ? 1 : 0;
                ++end;
            }
            if (end - at >= 24 && digits >= 10) {
                return text.substr(at, std::min<std::size_t>(end - at, 12)) + "…";
            }
        }
    }
    for (std::size_t i = 0; i < text.size();) {
        if (!is_hex_lower(text[i]) || (i > 0 && word_char(text[i - 1]))) {
            ++i;
            continue;
        }
        auto end = i;
        bool letter = false;
        bool digit = false;
        while (end < text.size() && is_hex_lower(text[end])) {
            letter = letter || std::isalpha(static_cast<unsigned char>(text[end])) != 0;
            digit = digit || std::isdigit(static_cast<unsigned char>(text[end])) != 0;
            ++end;
        }
        if (end - i == 32 && letter && digit && (end == text.size() || !word_char(text[end]))) {
            return text.substr(i, 6) + "…";
        }
        i = end + 1;
    }
    return std::nullopt;
}

} // namespace

TEST_CASE("the deployment files name only variables tpmbot reads", "[deploy]") {
    auto reads = usage_names();
    REQUIRE(reads.count("TPMBOT_DB") == 1);
    REQUIRE(reads.count("SLACK_BOT_TOKEN") == 1);
    auto build = build_names();
    REQUIRE(build.count("TPMBOT_CMAKE_ARGS") == 1);
    for (const auto& file : deployment_files) {
        auto text = read_deploy(file);
        if (file == "Dockerfile") {
            // The stages before the last one run deploy/lib.sh and CMake: the build's names
            // are theirs too. The last stage runs tpmbot.
            auto last = text.rfind("\nFROM ");
            REQUIRE(last != std::string::npos);
            for (const auto& name : variable_names(text.substr(0, last))) {
                INFO(file << " (build stage): " << name
                          << " is read by neither tpmbot nor the build");
                CHECK((reads.count(name) == 1 || build.count(name) == 1));
            }
            text = text.substr(last);
        }
        for (const auto& name : variable_names(text)) {
            INFO(file << ": " << name << " is not in tpmbot --help");
            CHECK(reads.count(name) == 1);
        }
    }
}

TEST_CASE("the env example lists every variable tpmbot reads, each under a comment", "[deploy]") {
    auto lines = lines_of(read_deploy("tpmbot.env.example"));
    // NAME= at the start of a line, or of a commented-out line.
    auto assigned = [](const std::string& line) -> std::string {
        auto t = trim(line);
        if (t.starts_with("#")) {
            t = trim(t.substr(1));
        }
        auto eq = t.find('=');
        if (eq == std::string::npos || eq == 0) {
            return {};
        }
        auto name = t.substr(0, eq);
        return std::all_of(name.begin(), name.end(), name_char) ? name : std::string();
    };
    std::set<std::string> listed;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        auto name = assigned(lines[i]);
        if (name.empty()) {
            continue;
        }
        listed.insert(name);
        // Above it (past other assignments): a comment that explains.
        auto j = i;
        while (j > 0 && !assigned(lines[j - 1]).empty()) {
            --j;
        }
        INFO(name << " has no comment above it");
        REQUIRE(j > 0);
        CHECK(trim(lines[j - 1]).starts_with("# "));
        if (!trim(lines[i]).starts_with("#")) {
            // A line systemd, docker and compose read the same way: NAME=value, no quotes.
            auto value = trim(lines[i]).substr(name.size() + 1);
            CHECK(value.find_first_of("\"' ") == std::string::npos);
        }
    }
    for (const auto& name : usage_names()) {
        INFO(name << " is in tpmbot --help but not in the env example");
        CHECK(listed.count(name) == 1);
    }
}

TEST_CASE("the systemd unit runs check-config first, sandboxed, with time to stop", "[deploy]") {
    auto unit = unit_service_section(read_deploy("tpmbot.service"));
    auto only = [&](const std::string& key) -> std::string {
        INFO(key);
        REQUIRE(unit.count(key) == 1);
        REQUIRE(unit[key].size() == 1);
        return unit[key].front();
    };
    auto has = [&](const std::string& key, const std::string& value) {
        INFO(key << "=" << value);
        CHECK(std::count(unit[key].begin(), unit[key].end(), value) == 1);
    };
    CHECK(only("ExecStart") == "/usr/local/bin/tpmbot");
    CHECK(only("ExecStartPre") == "/usr/local/bin/tpmbot check-config");
    CHECK(only("EnvironmentFile") == "/etc/tpmbot/tpmbot.env");
    has("Environment", "TPMBOT_DB=/var/lib/tpmbot/tpmbot.db");
    CHECK(only("StateDirectory") == "tpmbot");
    if (unit.count("User") == 0) {
        CHECK(only("DynamicUser") == "yes");
    } else {
        CHECK(only("User") != "root");
        CHECK(only("User") != "0");
    }
    for (const char* key : {"ProtectHome", "PrivateTmp", "NoNewPrivileges", "PrivateDevices",
                            "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs"}) {
        has(key, "yes");
    }
    has("ProtectSystem", "strict");
    has("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX");
    has("SystemCallFilter", "@system-service");
    // No capabilities at all: every value given is empty.
    REQUIRE(unit.count("CapabilityBoundingSet") == 1);
    for (const auto& v : unit["CapabilityBoundingSet"]) {
        CHECK(v.empty());
    }
    CHECK(only("Restart") == "on-failure");
    if (unit.count("KillSignal") == 1) {
        CHECK(only("KillSignal") == "SIGTERM");
    }
    auto stop = seconds_of(only("TimeoutStopSec"));
    REQUIRE(stop);
    CHECK(*stop > graceful_stop_seconds);
}

TEST_CASE("the Kubernetes deployment probes /healthz on the admin port it sets", "[deploy]") {
    auto lines = lines_of(read_deploy("k8s/deployment.yaml"));
    auto admin = k8s_env_value(lines, "TPMBOT_ADMIN_ADDR");
    INFO("TPMBOT_ADMIN_ADDR=" << admin);
    // The kubelet probes from outside the container: not a loopback address.
    REQUIRE(!admin.empty());
    CHECK_FALSE(admin.starts_with("127."));
    CHECK_FALSE(admin.starts_with("localhost"));
    CHECK_FALSE(admin.starts_with("[::1]"));
    auto port = port_of(admin);
    REQUIRE(!port.empty());
    CHECK(k8s_env_value(lines, "TPMBOT_LOG_FORMAT") == "json");

    for (const char* probe : {"readinessProbe", "livenessProbe"}) {
        INFO(probe);
        auto block = yaml_block(lines, probe);
        REQUIRE(!block.empty());
        CHECK(yaml_value(block, "path") == "/healthz");
        CHECK(yaml_value(block, "port") == port);
    }
    // A reconnect to Slack answers 503 for seconds: liveness tolerates minutes of it.
    auto liveness = yaml_block(lines, "livenessProbe");
    auto period = seconds_of(yaml_value(liveness, "periodSeconds"));
    auto failures = seconds_of(yaml_value(liveness, "failureThreshold"));
    REQUIRE(period);
    REQUIRE(failures);
    CHECK(*period * *failures >= 120);

    CHECK(yaml_value(lines, "prometheus.io/scrape") == "true");
    CHECK(yaml_value(lines, "prometheus.io/port") == port);
    auto grace = seconds_of(yaml_value(lines, "terminationGracePeriodSeconds"));
    REQUIRE(grace);
    CHECK(*grace > graceful_stop_seconds);
    CHECK(yaml_value(lines, "runAsNonRoot") == "true");
    CHECK(yaml_value(lines, "readOnlyRootFilesystem") == "true");
    CHECK(yaml_value(lines, "allowPrivilegeEscalation") == "false");
    CHECK(yaml_value(yaml_block(lines, "requests"), "memory") == "64Mi");
    CHECK(yaml_value(yaml_block(lines, "limits"), "memory") == "256Mi");

    // Replicas share one PostgreSQL database, named in the Secret the pods read.
    auto replicas = seconds_of(yaml_value(lines, "replicas"));
    REQUIRE(replicas);
    CHECK(*replicas == 2);
    auto secret = lines_of(read_deploy("k8s/secret.yaml"));
    auto secret_name = yaml_value(yaml_block(secret, "metadata"), "name");
    CHECK(yaml_value(yaml_block(lines, "secretRef"), "name") == secret_name);
    auto data = yaml_block(secret, "stringData");
    CHECK(yaml_value(data, "TPMBOT_DB").starts_with("postgres://"));
    CHECK(yaml_value(data, "SLACK_APP_TOKEN").starts_with("xapp-"));
    CHECK(yaml_value(data, "SLACK_BOT_TOKEN").starts_with("xoxb-"));
}

TEST_CASE("the image builds with deploy/lib.sh and runs tpmbot as a user on its admin port",
          "[deploy]") {
    auto stages = dockerfile_stages(read_deploy("Dockerfile"));
    REQUIRE(stages.size() == 2);
    const auto& build = stages.front();
    const auto& run = stages.back();
    CHECK(build.front().starts_with("FROM debian:12 "));
    CHECK(run.front() == "FROM debian:12-slim");

    auto with = [](const std::vector<std::string>& stage, const std::string& start) {
        std::vector<std::string> out;
        std::copy_if(stage.begin(), stage.end(), std::back_inserter(out),
                     [&](const std::string& i) { return i.starts_with(start); });
        return out;
    };
    bool uses_lib = false;
    for (const auto& r : with(build, "RUN ")) {
        uses_lib = uses_lib || (r.find("deploy/lib.sh") != std::string::npos &&
                                r.find("tpmbot_install_deps") != std::string::npos &&
                                r.find("tpmbot_build") != std::string::npos);
    }
    CHECK(uses_lib);

    auto users = with(run, "USER ");
    REQUIRE(users.size() == 1);
    CHECK_FALSE(users.front().starts_with("USER root"));
    CHECK_FALSE(users.front().starts_with("USER 0"));
    std::string env;
    for (const auto& e : with(run, "ENV ")) {
        env += e + " ";
    }
    CHECK(env.find("TPMBOT_DB=/var/lib/tpmbot/") != std::string::npos);
    auto admin_at = env.find("TPMBOT_ADMIN_ADDR=0.0.0.0:");
    REQUIRE(admin_at != std::string::npos);
    auto admin = env.substr(admin_at, env.find(' ', admin_at) - admin_at);
    auto exposes = with(run, "EXPOSE ");
    REQUIRE(exposes.size() == 1);
    CHECK(exposes.front() == "EXPOSE " + port_of(admin));
    CHECK(with(run, "VOLUME ") == std::vector<std::string>{"VOLUME /var/lib/tpmbot"});
    CHECK(with(run, "ENTRYPOINT ") ==
          std::vector<std::string>{R"(ENTRYPOINT ["/usr/local/bin/tpmbot"])"});
    // What the image is built from leaves out the build directories and the history.
    auto ignored = lines_of(read(deploy_dir / ".." / ".dockerignore"));
    CHECK(std::count(ignored.begin(), ignored.end(), "build*") == 1);
    CHECK(std::count(ignored.begin(), ignored.end(), ".git") == 1);
}

TEST_CASE("compose runs replicas on PostgreSQL once it is healthy, with time to stop", "[deploy]") {
    auto lines = lines_of(read_deploy("compose.yaml"));
    // The services, two spaces in.
    auto bot = yaml_block(lines, "tpmbot", 2);
    REQUIRE(!bot.empty());
    auto build = yaml_block(bot, "build");
    CHECK(fs::exists(deploy_dir / yaml_value(build, "context") / yaml_value(build, "dockerfile")));
    CHECK(yaml_value(bot, "env_file") == "tpmbot.env");
    CHECK(yaml_value(bot, "TPMBOT_DB").starts_with("postgres://tpmbot:${POSTGRES_PASSWORD"));
    CHECK(yaml_value(bot, "TPMBOT_DB").ends_with("@postgres/tpmbot"));
    CHECK(yaml_value(yaml_block(bot, "postgres"), "condition") == "service_healthy");
    auto grace = seconds_of(yaml_value(bot, "stop_grace_period"));
    REQUIRE(grace);
    CHECK(*grace > graceful_stop_seconds);
    auto db = yaml_block(lines, "postgres", 2);
    CHECK(yaml_value(db, "image") == "postgres:15");
    CHECK(!yaml_block(db, "healthcheck").empty());
    CHECK(!yaml_block(db, "volumes").empty());
}

TEST_CASE("no deploy file holds anything shaped like a real token or signing secret", "[deploy]") {
    // The detector itself, on values built here so that no token-shaped text is stored.
    auto digits = [](std::size_t n) {
        return std::string(n, '7');
    };
    CHECK(secret_in("SLACK_BOT_TOKEN=xoxb-" + digits(12) + "-" + digits(13) + "-" +
                    std::string(24, 'Q')));
    CHECK(secret_in("SLACK_APP_TOKEN=xapp-1-A" + digits(10) + "-" + digits(13) + "-" +
                    std::string(64, 'c')));
    CHECK(secret_in("SLACK_SIGNING_SECRET=" + std::string(16, 'a') + digits(16) + "\n"));
    CHECK_FALSE(secret_in("SLACK_APP_TOKEN=xapp-REPLACE\nSLACK_BOT_TOKEN=xoxb-...\n"));
    CHECK_FALSE(secret_in("commit " + std::string(20, 'a') + digits(20)));

    std::vector<fs::path> files = {deploy_dir / ".." / ".dockerignore"};
    for (const auto& entry : fs::recursive_directory_iterator(deploy_dir)) {
        if (entry.is_regular_file()) {
            files.push_back(entry.path());
        }
    }
    REQUIRE(files.size() > deployment_files.size());
    for (const auto& path : files) {
        auto found = secret_in(read(path));
        INFO(path.string() << ": " << found.value_or(""));
        CHECK_FALSE(found);
    }
}
