#pragma once
/// Counters, gauges and histograms, rendered in Prometheus' text format (version 0.0.4) for
/// `/metrics`. Used from the bot's one thread: nothing here locks.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tpmbot {

/// Label pairs, in the order they are written.
using metric_labels = std::vector<std::pair<std::string, std::string>>;

/// A cumulative histogram: observations counted in buckets of upper bounds.
class histogram {
public:
    explicit histogram(std::vector<double> bounds);
    void observe(double value);
    const std::vector<double>& bounds() const { return bounds_; }
    /// Observations at or below each bound (cumulative), then the count of all.
    std::vector<std::uint64_t> cumulative() const;
    double sum() const { return sum_; }
    std::uint64_t count() const { return count_; }

private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> counts_; ///< per bucket, not cumulative; the last is +Inf
    double sum_ = 0;
    std::uint64_t count_ = 0;
};

/// Every metric of the process. Each series is created on first use and lives as long as the
/// registry, so a reference to it can be kept on the hot path.
class metrics {
public:
    /// Declares a family: its help line and type ("counter", "gauge", "histogram").
    void describe(std::string name, std::string type, std::string help);

    /// The series of a counter or gauge family (0 until changed).
    double& value(const std::string& name, const metric_labels& labels = {});
    /// The series of a histogram family, with `bounds` when it is new.
    histogram& hist(const std::string& name, const std::vector<double>& bounds,
                    const metric_labels& labels = {});

    /// Prometheus text format: # HELP and # TYPE, then each series, families by name.
    std::string render() const;

private:
    struct family {
        std::string type = "untyped";
        std::string help;
        std::map<std::string, double> values;        ///< rendered labels -> value
        std::map<std::string, histogram> histograms; ///< rendered labels -> histogram
    };
    std::map<std::string, family, std::less<>> families_;
};

/// `{a="x",b="y"}` with Prometheus' escapes (backslash, double quote, newline); empty for no
/// labels.
std::string render_labels(const metric_labels& labels);

/// A sample value as Prometheus writes it: integers without a fraction, "+Inf", "NaN".
std::string render_value(double v);

} // namespace tpmbot
