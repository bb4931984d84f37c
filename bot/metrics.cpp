#include "metrics.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <stdexcept>

namespace tpmbot {

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
    std::sort(bounds_.begin(), bounds_.end());
    counts_.assign(bounds_.size() + 1, 0);
}

void histogram::observe(double value) {
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
    sum_ += value;
    ++count_;
}

std::vector<std::uint64_t> histogram::cumulative() const {
    std::vector<std::uint64_t> out;
    std::uint64_t total = 0;
    for (auto c : counts_) {
        total += c;
        out.push_back(total);
    }
    return out;
}

std::string render_labels(const metric_labels& labels) {
    if (labels.empty()) {
        return {};
    }
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += labels[i].first;
        out += "=\"";
        for (char c : labels[i].second) {
            if (c == '\\') {
                out += "\\\\";
            } else if (c == '"') {
                out += "\\\"";
            } else if (c == '\n') {
                out += "\\n";
            } else {
                out += c;
            }
        }
        out += '"';
    }
    out += '}';
    return out;
}

std::string render_value(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    if (v == std::floor(v) && std::fabs(v) < 9.0e15) {
        return fmt::format("{}", static_cast<long long>(v));
    }
    return fmt::format("{}", v);
}

void metrics::describe(std::string name, std::string type, std::string help) {
    auto& f = families_[std::move(name)];
    f.type = std::move(type);
    f.help = std::move(help);
}

double& metrics::value(const std::string& name, const metric_labels& labels) {
    auto& f = families_[name];
    if (f.type == "histogram") {
        throw std::logic_error("metric " + name + " is a histogram");
    }
    return f.values[render_labels(labels)];
}

histogram& metrics::hist(const std::string& name, const std::vector<double>& bounds,
                         const metric_labels& labels) {
    auto& f = families_[name];
    if (f.type != "histogram") {
        throw std::logic_error("metric " + name + " is not a histogram");
    }
    return f.histograms.try_emplace(render_labels(labels), bounds).first->second;
}

namespace {

/// `labels` (rendered, maybe empty) with one more pair added at the end.
std::string with_label(const std::string& labels, std::string_view name, std::string_view value) {
    auto pair = fmt::format("{}=\"{}\"", name, value);
    if (labels.empty()) {
        return "{" + pair + "}";
    }
    return labels.substr(0, labels.size() - 1) + "," + pair + "}";
}

std::string help_escape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace

std::string metrics::render() const {
    std::string out;
    for (const auto& [name, f] : families_) {
        if (!f.help.empty()) {
            out += fmt::format("# HELP {} {}\n", name, help_escape(f.help));
        }
        out += fmt::format("# TYPE {} {}\n", name, f.type);
        for (const auto& [labels, v] : f.values) {
            out += fmt::format("{}{} {}\n", name, labels, render_value(v));
        }
        for (const auto& [labels, h] : f.histograms) {
            auto cum = h.cumulative();
            for (std::size_t i = 0; i < h.bounds().size(); ++i) {
                out += fmt::format("{}_bucket{} {}\n", name,
                                   with_label(labels, "le", render_value(h.bounds()[i])), cum[i]);
            }
            out +=
                fmt::format("{}_bucket{} {}\n", name, with_label(labels, "le", "+Inf"), cum.back());
            out += fmt::format("{}_sum{} {}\n", name, labels, render_value(h.sum()));
            out += fmt::format("{}_count{} {}\n", name, labels, h.count());
        }
    }
    return out;
}

} // namespace tpmbot
