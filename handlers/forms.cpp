#include "forms.hpp"

#include "dates.hpp"
#include "mrkdwn.hpp"

#include <fmt/format.h>

namespace tpmbot {

namespace {

/// A form's context: the message's channel, ts, thread and permalink, one per line.
std::string encode_context(const message_ref& m) {
    return m.channel + "\n" + m.ts + "\n" + m.thread_ts + "\n" + m.permalink;
}

message_ref decode_context(const std::string& text) {
    message_ref m;
    std::string* parts[] = {&m.channel, &m.ts, &m.thread_ts, &m.permalink};
    std::size_t start = 0;
    for (auto* p : parts) {
        auto nl = text.find('\n', start);
        *p = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        if (nl == std::string::npos) {
            break;
        }
        start = nl + 1;
    }
    return m;
}

/// The message's text as a person would type it: entities decoded, cut to `limit` characters.
std::string prefill(std::string_view slack_text, std::size_t limit) {
    auto plain = mrkdwn::decode(trim(slack_text));
    std::size_t chars = 0;
    for (std::size_t i = 0; i < plain.size(); ++i) {
        if ((static_cast<unsigned char>(plain[i]) & 0xC0) != 0x80 && ++chars > limit) {
            return plain.substr(0, i);
        }
    }
    return plain;
}

form_field text_field(std::string id, std::string label, std::string initial, bool multiline,
                      std::size_t max_length, bool optional = false) {
    form_field f;
    f.type = multiline ? form_field::kind::multiline : form_field::kind::text;
    f.id = std::move(id);
    f.label = std::move(label);
    f.initial = std::move(initial);
    f.max_length = max_length;
    f.optional = optional;
    return f;
}

form_field user_field(std::string id, std::string label, std::string initial) {
    form_field f;
    f.type = form_field::kind::user;
    f.id = std::move(id);
    f.label = std::move(label);
    f.initial = std::move(initial);
    f.optional = true;
    return f;
}

std::string field(const command& cmd, const std::string& id) {
    auto it = cmd.fields.find(id);
    return it == cmd.fields.end() ? std::string() : it->second;
}

/// Text typed into a form, as the bot stores text: Slack's encoding, with nothing that pings
/// a crowd.
std::string typed(const command& cmd, const std::string& id) {
    return mrkdwn::safe(trim(field(cmd, id)));
}

/// Adds "field: message" when `text` is longer than `limit` characters.
void check_field(std::map<std::string, std::string>& errors, const std::string& id,
                 const std::string& text, std::size_t limit) {
    auto n = char_count(mrkdwn::to_plain(text));
    if (n > limit) {
        errors[id] = fmt::format("At most {} characters; this is {}.", limit, n);
    }
}

/// The form's "title" field as the item's title, or why it cannot be.
std::string title_of(const command& cmd, std::map<std::string, std::string>& errors,
                     std::string_view when_empty) {
    // One line, as every other way of creating an item gives: lists and reports show titles
    // one per line.
    std::string title;
    for (char c : typed(cmd, "title")) {
        bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
        if (!space) {
            title += c;
        } else if (!title.empty() && title.back() != ' ') {
            title += ' ';
        }
    }
    if (title.empty()) {
        errors["title"] = std::string(when_empty);
    }
    check_field(errors, "title", title, max_title_chars);
    return title;
}

/// Where the item's card goes and what it links to: the message's thread.
void place(item& it, const message_ref& m) {
    it.channel_id = m.channel;
    it.permalink = m.permalink;
    it.thread_channel = m.channel;
    it.thread_ts = m.thread_ts.empty() ? m.ts : m.thread_ts;
}

void log_blocker(context& ctx, const message_ref& m) {
    const auto& cmd = ctx.cmd;
    std::map<std::string, std::string> errors;
    item it;
    it.kind = item_kind::blocker;
    it.status = "open";
    it.title = title_of(cmd, errors, "Say what is blocked.");
    it.severity = field(cmd, "severity");
    if (it.severity.empty()) {
        it.severity = "med";
    } else if (it.severity != "high" && it.severity != "med" && it.severity != "low") {
        errors["severity"] = "Pick high, med or low.";
    }
    it.dri = field(cmd, "dri");
    it.waiting_on = typed(cmd, "waiting");
    check_field(errors, "waiting", it.waiting_on, max_option_chars);
    if (!errors.empty()) {
        throw form_error(std::move(errors));
    }
    place(it, m);
    create_item(ctx, it);
}

void log_decision(context& ctx, const message_ref& m) {
    const auto& cmd = ctx.cmd;
    std::map<std::string, std::string> errors;
    item it;
    it.kind = item_kind::decision;
    it.status = "proposed";
    it.title = title_of(cmd, errors, "Say what needs deciding.");
    it.dri = field(cmd, "dri");
    auto due = field(cmd, "due");
    if (!due.empty()) {
        auto d = dates::parse(due, cmd.now, cmd.user_tz);
        if (!d) {
            errors["due"] = "Pick a day.";
        } else if (*d < dates::today(cmd.now, cmd.user_tz)) {
            errors["due"] = "Pick today or a later day.";
        } else {
            it.due = *d;
        }
    }
    for (const auto& line : nonblank_lines(field(cmd, "options"))) {
        it.options.push_back(mrkdwn::safe(line));
        check_field(errors, "options", it.options.back(), max_option_chars);
    }
    if (it.options.size() > max_options) {
        errors["options"] =
            fmt::format("At most {} options; this has {}.", max_options, it.options.size());
    }
    if (!errors.empty()) {
        throw form_error(std::move(errors));
    }
    place(it, m);
    create_item(ctx, it);
}

} // namespace

std::optional<form> shortcut_form(std::string_view callback_id, const message_ref& m) {
    form f;
    f.id = std::string(callback_id);
    f.context = encode_context(m);
    f.submit = "Save";
    if (callback_id == log_blocker_form) {
        f.title = "Log as blocker";
        f.fields.push_back(text_field("title", "What is blocked", prefill(m.text, max_title_chars),
                                      true, max_title_chars));
        f.fields.push_back(user_field("dri", "DRI (who drives it)", m.author));
        form_field sev;
        sev.type = form_field::kind::select;
        sev.id = "severity";
        sev.label = "Severity";
        sev.initial = "med";
        sev.options = {{"high", "High"}, {"med", "Medium"}, {"low", "Low"}};
        f.fields.push_back(std::move(sev));
        f.fields.push_back(text_field("waiting", "Waiting on", "", false, max_option_chars, true));
        return f;
    }
    if (callback_id == log_decision_form) {
        f.title = "Log as decision";
        f.fields.push_back(text_field("title", "What needs deciding",
                                      prefill(m.text, max_title_chars), true, max_title_chars));
        f.fields.push_back(user_field("dri", "DRI (who decides)", m.author));
        form_field due;
        due.type = form_field::kind::date;
        due.id = "due";
        due.label = "Decide by";
        due.optional = true;
        f.fields.push_back(std::move(due));
        auto options =
            text_field("options", "Options", "", true, max_options * (max_option_chars + 1), true);
        options.hint = fmt::format("One per line, at most {}.", max_options);
        f.fields.push_back(std::move(options));
        return f;
    }
    return std::nullopt;
}

std::map<std::string, std::string> initial_fields(const form& f) {
    std::map<std::string, std::string> out;
    for (const auto& fld : f.fields) {
        out[fld.id] = fld.initial;
    }
    return out;
}

void submit_form(context& ctx) {
    // A user_error here is shown beside the form's first field (dispatcher::handle).
    auto m = decode_context(ctx.cmd.form_context);
    if (ctx.cmd.form_id == log_blocker_form) {
        log_blocker(ctx, m);
    } else if (ctx.cmd.form_id == log_decision_form) {
        log_decision(ctx, m);
    } else {
        throw user_error("This form is not one of tpmbot's any more; close it and use the "
                         "shortcut again.");
    }
}

} // namespace tpmbot
