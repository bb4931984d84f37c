#include "mrkdwn.hpp"
#include "router.hpp"

#include <date/date.h>
#include <fmt/format.h>

namespace tpmbot {

namespace {

/// Slack's limit on a message's text is 40,000 characters (slack-protocol §7.3); stay below.
constexpr std::size_t max_export_chars = 38000;

std::string iso_time(unix_time t) {
    if (t == 0) {
        return {};
    }
    return date::format("%Y-%m-%dT%H:%M:%SZ", date::sys_seconds{std::chrono::seconds{t}});
}

std::string csv_field(const std::string& text) {
    // A cell starting with = + - @ is a formula to a spreadsheet; a leading ' keeps it text.
    auto s = !text.empty() && std::string_view("=+-@").find(text[0]) != std::string_view::npos
                 ? "'" + text
                 : text;
    if (s.find_first_of(",\"\n\r") == std::string::npos) {
        return s;
    }
    std::string out = "\"";
    for (char c : s) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

std::string md_cell(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '|') {
            out += "\\|";
        } else if (c == '\n') {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

using row = std::vector<std::pair<std::string_view, std::string>>;

/// One exported item as named plain-text fields.
row fields(const item& it) {
    auto plain = [](const std::string& s) {
        return mrkdwn::to_plain(s);
    };
    std::string consulted, options;
    for (const auto& c : it.consulted) {
        consulted += (consulted.empty() ? "" : "; ") + plain(c);
    }
    for (const auto& o : it.options) {
        options += (options.empty() ? "" : "; ") + plain(o);
    }
    return {
        {"id", it.id_str()},
        {"kind", std::string(kind_name(it.kind))},
        {"status", it.status},
        {"title", plain(it.title)},
        {"dri", it.dri},
        {"reporter", it.reporter},
        {"channel", it.channel_id},
        {"severity", it.severity},
        {"area", it.area},
        {"due", it.due},
        {"waiting_on", plain(it.waiting_on)},
        {"from", plain(it.from_who)},
        {"for", it.for_item},
        {"probability", it.probability},
        {"impact", it.impact},
        {"mitigation", plain(it.mitigation)},
        {"consulted", consulted},
        {"options", options},
        {"outcome", plain(it.outcome)},
        {"rationale", plain(it.rationale)},
        {"note", plain(it.note)},
        {"supersedes", it.supersedes},
        {"superseded_by", it.superseded_by},
        {"created", iso_time(it.created_at)},
        {"updated", iso_time(it.updated_at)},
        {"closed", iso_time(it.closed_at)},
    };
}

std::string render(const std::vector<item>& items, const std::string& format) {
    std::string out;
    if (format == "json") {
        out = "[";
        for (std::size_t i = 0; i < items.size(); ++i) {
            out += i == 0 ? "\n  {" : ",\n  {";
            bool first = true;
            for (const auto& [k, v] : fields(items[i])) {
                out += fmt::format("{}\"{}\": {}", first ? "" : ", ", k, json_quote(v));
                first = false;
            }
            out += "}";
        }
        return out + "\n]";
    }
    auto header = fields(item{});
    if (format == "md") {
        out = "|";
        std::string rule = "|";
        for (const auto& [k, v] : header) {
            out += fmt::format(" {} |", k);
            rule += " --- |";
        }
        out += "\n" + rule;
        for (const auto& it : items) {
            out += "\n|";
            for (const auto& [k, v] : fields(it)) {
                out += fmt::format(" {} |", md_cell(v));
            }
        }
        return out;
    }
    bool first = true;
    for (const auto& [k, v] : header) {
        out += (first ? "" : ",") + std::string(k);
        first = false;
    }
    for (const auto& it : items) {
        out += "\n";
        first = true;
        for (const auto& [k, v] : fields(it)) {
            out += (first ? "" : ",") + csv_field(v);
            first = false;
        }
    }
    return out;
}

void export_noun(context& ctx, std::vector<args::token>& rest) {
    std::string what = "all";
    std::string format = "csv";
    for (const auto& t : rest) {
        auto w = lower(t.text);
        if (w == "blockers" || w == "blocker" || w == "decisions" || w == "decision" ||
            w == "risks" || w == "deps" || w == "all") {
            what = w;
        } else if (w == "csv" || w == "json" || w == "md") {
            format = w;
        } else {
            throw user_error(fmt::format("`{}` is not an export option. Use `/tpm export "
                                         "[blockers|decisions|risks|deps|all] [csv|json|md]`, "
                                         "e.g. `/tpm export blockers csv`",
                                         mrkdwn::safe(t.raw)));
        }
    }
    item_query q;
    q.team_id = ctx.cmd.team_id;
    if (what.starts_with("blocker")) {
        q.kind = item_kind::blocker;
    } else if (what.starts_with("decision")) {
        q.kind = item_kind::decision;
    } else if (what == "risks") {
        q.kind = item_kind::risk;
    } else if (what == "deps") {
        q.kind = item_kind::dep;
    }
    auto items = ctx.db.list_items(q);
    auto body = render(items, format);
    // The body goes inside a code block; keep it from closing the block early.
    for (auto at = body.find("```"); at != std::string::npos; at = body.find("```", at)) {
        body.replace(at, 3, "'''");
    }
    body = mrkdwn::escape(body);
    std::string note;
    if (body.size() > max_export_chars) {
        auto cut = body.rfind('\n', max_export_chars);
        body.resize(cut == std::string::npos ? max_export_chars : cut);
        note = "\n_Cut at Slack's message size; narrow it, e.g. `/tpm export blockers csv`._";
    }
    ctx.reply(fmt::format("*Export: {} ({} items, {})*\n```\n{}\n```{}", what, items.size(), format,
                          body, note));
}

} // namespace

void register_export(router& r) {
    noun_def d;
    d.name = "export";
    d.title = "Export: every item of this workspace as CSV, JSON or Markdown";
    d.fn = export_noun;
    d.help = {
        {"/tpm export [blockers|decisions|risks|deps|all] [csv|json|md]",
         "Every item of the kind, open and closed, shown only to you.", "/tpm export blockers csv",
         false, "export"},
    };
    r.add(std::move(d));
}

} // namespace tpmbot
