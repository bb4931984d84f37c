#pragma once
/// Log lines with a level, written as readable text or as JSON lines (TPMBOT_LOG_FORMAT), the
/// least level kept set by TPMBOT_LOG_LEVEL. A line is one message ("tpmbot: …"); no line
/// ever holds a token (none is ever passed to a logger).

#include <chrono>
#include <concepts>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tpmbot {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3 };

/// "debug", "info", "warn", "error".
std::string_view level_name(log_level l);
/// The level a name means ("warning" is "warn"); nullopt for anything else.
std::optional<log_level> parse_log_level(std::string_view name);

/// What the components log through: `log("…")` is an info line, `log.warn("…")` a warning.
/// Any function of one string converts to a logger that ignores levels (tests pass lambdas).
class logger {
public:
    using sink_fn = std::function<void(log_level, const std::string&)>;

    logger() = default; ///< discards every line
    explicit logger(sink_fn sink) : sink_(std::move(sink)) {}
    template <class F>
    requires(std::invocable<F&, const std::string&> &&
             !std::invocable<F&, log_level, const std::string&> &&
             !std::same_as<std::decay_t<F>, logger>)
        logger(F f) // NOLINT(google-explicit-constructor): lambdas convert, as to std::function
        : sink_([f = std::move(f)](log_level, const std::string& m) mutable { f(m); }) {}

    void operator()(const std::string& message) const { write(log_level::info, message); }
    void debug(const std::string& message) const { write(log_level::debug, message); }
    void info(const std::string& message) const { write(log_level::info, message); }
    void warn(const std::string& message) const { write(log_level::warn, message); }
    void error(const std::string& message) const { write(log_level::error, message); }
    void write(log_level level, const std::string& message) const {
        if (sink_) {
            sink_(level, message);
        }
    }

private:
    sink_fn sink_;
};

/// How lines are written.
enum class log_format { text, json };

/// One line, without its newline. Text: the message, with "warning: " or "error: " after its
/// "tpmbot: " for those levels. JSON: {"time":"…Z","level":"…","msg":"…"}, the message without
/// its "tpmbot: " and made valid UTF-8.
std::string format_log_line(log_level level, std::string_view message, log_format format,
                            std::chrono::system_clock::time_point at);

/// A sink writing lines of at least `min` to `out` (each line whole, flushed, one writer at a
/// time: the checkpointer and the bot's thread may log at once).
logger::sink_fn stream_sink(std::ostream& out, log_format format, log_level min);

} // namespace tpmbot
