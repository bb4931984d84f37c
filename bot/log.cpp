#include "log.hpp"

#include "common.hpp"
#include "mrkdwn.hpp"

#include <date/date.h>
#include <fmt/format.h>
#include <mutex>
#include <ostream>

namespace tpmbot {

std::string_view level_name(log_level l) {
    switch (l) {
    case log_level::debug:
        return "debug";
    case log_level::info:
        return "info";
    case log_level::warn:
        return "warn";
    case log_level::error:
        return "error";
    }
    return "info";
}

std::optional<log_level> parse_log_level(std::string_view name) {
    if (name == "debug") {
        return log_level::debug;
    }
    if (name == "info") {
        return log_level::info;
    }
    if (name == "warn" || name == "warning") {
        return log_level::warn;
    }
    if (name == "error") {
        return log_level::error;
    }
    return std::nullopt;
}

namespace {

constexpr std::string_view prefix = "tpmbot: ";

} // namespace

std::string format_log_line(log_level level, std::string_view message, log_format format,
                            std::chrono::system_clock::time_point at) {
    bool prefixed = message.starts_with(prefix);
    if (format == log_format::text) {
        if (level < log_level::warn) {
            return std::string(message);
        }
        std::string_view word = level == log_level::warn ? "warning: " : "error: ";
        if (!prefixed) {
            return fmt::format("{}{}", word, message);
        }
        return fmt::format("{}{}{}", prefix, word, message.substr(prefix.size()));
    }
    if (prefixed) {
        message.remove_prefix(prefix.size());
    }
    auto ms = std::chrono::floor<std::chrono::milliseconds>(at);
    return fmt::format(R"({{"time":"{}","level":"{}","msg":{}}})", date::format("%FT%TZ", ms),
                       level_name(level), json_quote(mrkdwn::valid_utf8(message)));
}

logger::sink_fn stream_sink(std::ostream& out, log_format format, log_level min) {
    auto lock = std::make_shared<std::mutex>();
    return [&out, format, min, lock](log_level level, const std::string& message) {
        if (level < min) {
            return;
        }
        auto line = format_log_line(level, message, format, std::chrono::system_clock::now());
        line += '\n';
        std::lock_guard guard(*lock);
        out << line << std::flush;
    };
}

} // namespace tpmbot
