#pragma once
/// A strict reader of Prometheus' text exposition format (version 0.0.4), for the tests of
/// `/metrics`: it refuses what a Prometheus server would refuse, and checks what the format
/// promises of histograms.

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tpmbot::test {

struct prom_sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

struct prom_text {
    std::string error; ///< empty when the text is valid; else the first fault, with its line
    std::map<std::string, std::string> types; ///< family -> counter, gauge, histogram, …
    std::map<std::string, std::string> help;
    std::vector<prom_sample> samples;

    /// The value of the one sample with that name and exactly those labels.
    std::optional<double> value(const std::string& name,
                                const std::map<std::string, std::string>& labels = {}) const {
        for (const auto& s : samples) {
            if (s.name == name && s.labels == labels) {
                return s.value;
            }
        }
        return std::nullopt;
    }
};

namespace prom_detail {

inline bool name_ok(std::string_view n, bool metric) {
    if (n.empty()) {
        return false;
    }
    auto first = [&](char c) {
        return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_' || (metric && c == ':');
    };
    auto rest = [&](char c) {
        return first(c) || std::isdigit(static_cast<unsigned char>(c)) != 0;
    };
    return first(n[0]) && std::all_of(n.begin() + 1, n.end(), rest);
}

inline std::optional<double> number(std::string_view t) {
    if (t == "+Inf" || t == "Inf") {
        return HUGE_VAL;
    }
    if (t == "-Inf") {
        return -HUGE_VAL;
    }
    if (t == "NaN") {
        return std::nan("");
    }
    std::string s(t);
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) {
        return std::nullopt;
    }
    return v;
}

/// The family a sample belongs to: a histogram's _bucket, _sum and _count belong to it.
inline std::string family_of(const std::string& name,
                             const std::map<std::string, std::string>& types) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        std::string_view sv(name);
        if (sv.ends_with(suffix)) {
            std::string base(sv.substr(0, sv.size() - std::string_view(suffix).size()));
            if (auto it = types.find(base); it != types.end() && it->second == "histogram") {
                return base;
            }
        }
    }
    return name;
}

} // namespace prom_detail

inline prom_text parse_prometheus(const std::string& text) {
    using namespace prom_detail;
    prom_text out;
    std::set<std::string> seen_series;
    std::set<std::string> families_with_samples;
    std::size_t pos = 0;
    int line_no = 0;
    auto fail = [&](const std::string& why, std::string_view line) {
        out.error = "line " + std::to_string(line_no) + ": " + why + ": " + std::string(line);
        return out;
    };
    if (!text.empty() && text.back() != '\n') {
        out.error = "the text does not end with a newline";
        return out;
    }
    while (pos < text.size()) {
        auto nl = text.find('\n', pos);
        std::string_view line(text.data() + pos, nl - pos);
        pos = nl + 1;
        ++line_no;
        if (line.empty()) {
            continue;
        }
        if (line[0] == '#') {
            for (std::string_view kw : {"# HELP ", "# TYPE "}) {
                if (!line.starts_with(kw)) {
                    continue;
                }
                auto rest = line.substr(kw.size());
                auto sp = rest.find(' ');
                std::string name(rest.substr(0, sp));
                std::string value(sp == std::string_view::npos ? "" : rest.substr(sp + 1));
                if (!name_ok(name, true)) {
                    return fail("bad metric name", line);
                }
                if (kw == "# TYPE ") {
                    static const std::set<std::string> kinds = {"counter", "gauge", "histogram",
                                                                "summary", "untyped"};
                    if (kinds.count(value) == 0) {
                        return fail("unknown type", line);
                    }
                    if (out.types.count(name) != 0) {
                        return fail("a second TYPE", line);
                    }
                    if (families_with_samples.count(name) != 0) {
                        return fail("TYPE after the family's samples", line);
                    }
                    out.types[name] = value;
                } else {
                    if (out.help.count(name) != 0) {
                        return fail("a second HELP", line);
                    }
                    out.help[name] = value;
                }
            }
            continue;
        }
        prom_sample s;
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ') {
            ++i;
        }
        s.name = std::string(line.substr(0, i));
        if (!name_ok(s.name, true)) {
            return fail("bad metric name", line);
        }
        std::string series = s.name;
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (i < line.size() && line[i] != '}') {
                auto eq = line.find('=', i);
                if (eq == std::string_view::npos) {
                    return fail("a label without =", line);
                }
                std::string lname(line.substr(i, eq - i));
                if (!name_ok(lname, false)) {
                    return fail("bad label name", line);
                }
                i = eq + 1;
                if (i >= line.size() || line[i] != '"') {
                    return fail("a label value not quoted", line);
                }
                ++i;
                std::string lvalue;
                bool closed = false;
                while (i < line.size()) {
                    char c = line[i++];
                    if (c == '"') {
                        closed = true;
                        break;
                    }
                    if (c == '\\') {
                        if (i >= line.size()) {
                            return fail("a dangling escape", line);
                        }
                        char e = line[i++];
                        if (e == 'n') {
                            lvalue += '\n';
                        } else if (e == '\\' || e == '"') {
                            lvalue += e;
                        } else {
                            return fail("an unknown escape", line);
                        }
                    } else {
                        lvalue += c;
                    }
                }
                if (!closed) {
                    return fail("an unterminated label value", line);
                }
                if (s.labels.count(lname) != 0) {
                    return fail("a repeated label", line);
                }
                s.labels[lname] = lvalue;
                if (i < line.size() && line[i] == ',') {
                    ++i;
                }
            }
            if (i >= line.size()) {
                return fail("labels not closed", line);
            }
            ++i; // '}'
        }
        if (i >= line.size() || line[i] != ' ') {
            return fail("no value", line);
        }
        auto rest = line.substr(i + 1);
        auto sp = rest.find(' ');
        auto v = number(rest.substr(0, sp));
        if (!v) {
            return fail("a value that is not a number", line);
        }
        s.value = *v;
        for (const auto& [k, val] : s.labels) {
            series += "|" + k + "=" + val;
        }
        if (!seen_series.insert(series).second) {
            return fail("a repeated series", line);
        }
        auto family = family_of(s.name, out.types);
        families_with_samples.insert(family);
        if (auto t = out.types.find(family); t != out.types.end() && t->second == "counter" &&
                                             (s.value < 0 || std::isnan(s.value))) {
            return fail("a counter below zero", line);
        }
        out.samples.push_back(std::move(s));
    }
    // Histograms: buckets cumulative, ending in +Inf equal to _count.
    for (const auto& [family, type] : out.types) {
        if (type != "histogram") {
            continue;
        }
        std::map<std::string, std::vector<std::pair<double, double>>> buckets; // labels -> (le, n)
        for (const auto& s : out.samples) {
            if (s.name != family + "_bucket") {
                continue;
            }
            auto labels = s.labels;
            auto le = labels.find("le");
            if (le == labels.end()) {
                out.error = family + ": a bucket without le";
                return out;
            }
            auto bound = number(le->second);
            if (!bound) {
                out.error = family + ": a bucket's le is not a number";
                return out;
            }
            labels.erase(le);
            std::string key;
            for (const auto& [k, v] : labels) {
                key += k + "=" + v + ",";
            }
            buckets[key].emplace_back(*bound, s.value);
        }
        for (auto& [key, list] : buckets) {
            std::sort(list.begin(), list.end());
            for (std::size_t j = 1; j < list.size(); ++j) {
                if (list[j].second < list[j - 1].second) {
                    out.error = family + ": buckets not cumulative";
                    return out;
                }
            }
            if (list.empty() || !std::isinf(list.back().first)) {
                out.error = family + ": no +Inf bucket";
                return out;
            }
            bool count_matches = false;
            for (const auto& s : out.samples) {
                std::string k;
                for (const auto& [ln, lv] : s.labels) {
                    k += ln + "=" + lv + ",";
                }
                if (s.name == family + "_count" && k == key) {
                    count_matches = s.value == list.back().second;
                }
            }
            if (!count_matches) {
                out.error = family + ": _count is not the +Inf bucket";
                return out;
            }
        }
    }
    return out;
}

} // namespace tpmbot::test
