#include "console.hpp"

#include "common.hpp"
#include "dates.hpp"
#include "forms.hpp"
#include "schedule.hpp"
#include "scheduler.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fmt/format.h>
#include <iostream>
#include <tuple>

namespace tpmbot {

namespace {

constexpr std::string_view bot_name = "tpmbot";

bool name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

/// A console name as typed after @ or #, without trailing punctuation.
std::string take_name(std::string_view s, std::size_t& i) {
    std::size_t start = i;
    while (i < s.size() && name_char(s[i])) {
        ++i;
    }
    while (i > start && (s[i - 1] == '.' || s[i - 1] == '-')) {
        --i;
    }
    return std::string(s.substr(start, i - start));
}

std::string id_for(char prefix, std::string_view name) {
    std::string id(1, prefix);
    for (char c : name) {
        if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
            id += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
    }
    return id;
}

std::string strip_prefix(std::string s, char p) {
    if (!s.empty() && s[0] == p) {
        s.erase(0, 1);
    }
    return s;
}

} // namespace

console::console(durable_store& db, dispatcher& d, const config& cfg, std::ostream& out)
    : db_(db), dispatch_(d), out_(out), team_(cfg.team), user_(user_id_for(cfg.user)),
      channel_(channel_id_for(cfg.channel)), tz_(cfg.tz), admin_user_(user_), timing_(cfg.timing) {
    names_[user_] = cfg.user;
    names_[channel_] = cfg.channel;
    names_[user_id_for(bot_name)] = std::string(bot_name);
    if (cfg.clock) {
        fixed_clock_ = true;
        base_ = *cfg.clock;
    }
}

std::string console::user_id_for(std::string_view name) {
    return id_for('U', name);
}

std::string console::channel_id_for(std::string_view name) {
    return id_for('C', name);
}

unix_time console::now() const {
    if (fixed_clock_) {
        return base_ + offset_;
    }
    auto real = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
    return real + offset_;
}

std::string console::new_ts() {
    ++seq_;
    return fmt::format("{}.{:06d}", now(), seq_ % 1000000);
}

std::string console::user_name(const std::string& id) const {
    if (auto it = names_.find(id); it != names_.end()) {
        return it->second;
    }
    return id.size() > 1 && id[0] == 'U' ? lower(id.substr(1)) : id; // ids come from names
}

std::string console::channel_name(const std::string& id) const {
    if (auto it = names_.find(id); it != names_.end()) {
        return it->second;
    }
    return id.size() > 1 && id[0] == 'C' ? lower(id.substr(1)) : id;
}

std::string console::encode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size();) {
        char c = s[i];
        bool at_start = i == 0 || std::string_view(" \t,:(\"").find(s[i - 1]) != std::string::npos;
        if (c == '<') {
            auto close = s.find('>', i);
            auto inner = close == std::string_view::npos ? std::string_view()
                                                         : s.substr(i + 1, close - i - 1);
            if (!inner.empty() && (inner[0] == '@' || inner[0] == '#' || inner[0] == '!' ||
                                   inner.starts_with("http") || inner.starts_with("mailto:"))) {
                out += s.substr(i, close - i + 1);
                i = close + 1;
                continue;
            }
            out += "&lt;";
            ++i;
        } else if (c == '>') {
            out += "&gt;";
            ++i;
        } else if (c == '&') {
            out += "&amp;";
            ++i;
        } else if ((c == '@' || c == '#') && at_start && i + 1 < s.size() &&
                   std::isalpha(static_cast<unsigned char>(s[i + 1])) != 0) {
            ++i;
            auto name = take_name(s, i);
            if (c == '@' && (name == "here" || name == "channel" || name == "everyone")) {
                out += "<!" + name + ">";
            } else if (c == '@') {
                auto id = user_id_for(name);
                names_[id] = name;
                out += fmt::format("<@{}|{}>", id, name);
            } else {
                auto id = channel_id_for(name);
                names_[id] = name;
                out += fmt::format("<#{}|{}>", id, name);
            }
        } else {
            out += c;
            ++i;
        }
    }
    return out;
}

command console::base_command(source from) const {
    command cmd;
    cmd.from = from;
    cmd.team_id = team_;
    cmd.user_id = user_;
    cmd.channel_id = channel_;
    cmd.now = now();
    cmd.user_tz = tz_;
    cmd.is_admin = user_ == admin_user_;
    return cmd;
}

void console::run(command cmd) {
    auto team = cmd.team_id;
    auto channel = cmd.channel_id;
    auto user = cmd.user_id;
    dispatch_.handle(std::move(cmd));
    // The console has no member list: for a `members:channel` standup, the channel's members
    // are the people who have typed there since it was set up.
    if (auto s = db_.find_standup(team, channel); s && s->whole_channel) {
        auto members = db_.channel_members(team, channel).value_or(std::vector<std::string>{});
        if (std::find(members.begin(), members.end(), user) == members.end()) {
            members.push_back(user);
            db_.transact([&] { db_.set_channel_members(team, channel, members, now()); });
        }
    }
    drain();
    tick();
}

void console::tick() {
    run_due_jobs(db_, now(), timing_,
                 [this](const std::string& l) { out_ << "(log) " << l << "\n"; });
    drain();
}

void console::advance(unix_time seconds) {
    auto target = now() + seconds;
    // Stop at every due time on the way, as a running bot would.
    for (int steps = 0; steps < 100000; ++steps) {
        auto next = next_due(db_, now());
        if (next == 0 || next > target) {
            break;
        }
        offset_ += next - now();
        tick();
    }
    offset_ += target - now();
    tick();
}

void console::use_shortcut(const std::string& arg) {
    auto space = arg.find(' ');
    auto which = arg.substr(0, space);
    auto text = space == std::string::npos ? std::string() : trim(arg.substr(space + 1));
    std::string_view callback = which == "blocker"    ? log_blocker_form
                                : which == "decision" ? log_decision_form
                                                      : std::string_view();
    if (callback.empty() || text.empty()) {
        out_ << "(use :shortcut blocker <message> or :shortcut decision <message>: the message "
                "shortcut on a message saying that)\n";
        return;
    }
    // The message the shortcut is used on, as if just posted here by the current person.
    message_ref m;
    m.channel = channel_;
    m.ts = new_ts();
    m.thread_ts = thread_ts_;
    m.text = encode(text);
    m.author = user_;
    auto f = shortcut_form(callback, m);
    out_ << fmt::format("(@{} used \"{}\" on a message in #{}; the form, submitted as "
                        "filled in:)\n",
                        user_name(user_), f->title, channel_name(channel_));
    for (const auto& field : f->fields) {
        auto value = field.type == form_field::kind::user && !field.initial.empty()
                         ? "@" + user_name(field.initial)
                         : field.initial;
        out_ << fmt::format("  {}: {}\n", field.label, value);
    }
    auto cmd = base_command(source::form);
    cmd.form_id = f->id;
    cmd.form_context = f->context;
    cmd.fields = initial_fields(*f);
    auto res = dispatch_.handle(std::move(cmd));
    for (const auto& [field, message] : res.form_errors) {
        out_ << fmt::format("(the form stays open: {} — {})\n", field, message);
    }
    drain();
    tick();
}

void console::direct_message(const std::string& text, bool edit) {
    auto cmd = base_command(source::dm);
    cmd.channel_id = "D" + user_.substr(std::min<std::size_t>(1, user_.size()));
    cmd.text = encode(text);
    if (edit) {
        auto last = last_dm_.find(user_);
        if (last == last_dm_.end()) {
            out_ << "(you have not sent tpmbot a direct message yet; :dm <text> sends one)\n";
            return;
        }
        cmd.edited = true;
        cmd.message_ts = last->second;
    } else {
        cmd.message_ts = new_ts();
        last_dm_[user_] = cmd.message_ts;
    }
    run(std::move(cmd));
}

void console::slash(const std::string& name, const std::string& text) {
    static const std::string known[] = {"/tpm",   "/blocker", "/decision",
                                        "/owner", "/standup", "/status"};
    if (std::find(std::begin(known), std::end(known), name) == std::end(known)) {
        out_ << fmt::format("(Slack: {} is not a command of this app; tpmbot's are /tpm, "
                            "/blocker, /decision, /owner, /standup and /status)\n",
                            name);
        return;
    }
    auto cmd = base_command(source::slash);
    cmd.command_name = name;
    cmd.text = encode(text);
    run(std::move(cmd));
}

void console::mention(const std::string& text) {
    auto cmd = base_command(source::mention);
    cmd.text = encode(text);
    cmd.message_ts = new_ts();
    cmd.thread_ts = thread_ts_;
    run(std::move(cmd));
}

void console::meta(const std::string& text) {
    auto space = text.find(' ');
    auto word = text.substr(0, space);
    auto arg = space == std::string::npos ? std::string() : trim(text.substr(space + 1));
    if (word == ":as" && !arg.empty()) {
        auto name = strip_prefix(arg, '@');
        user_ = user_id_for(name);
        names_[user_] = name;
        out_ << fmt::format("(you are now @{})\n", name);
    } else if (word == ":in" && !arg.empty()) {
        auto name = strip_prefix(arg, '#');
        channel_ = channel_id_for(name);
        names_[channel_] = name;
        thread_ts_.clear();
        out_ << fmt::format("(you are now in #{})\n", name);
    } else if (word == ":team" && !arg.empty()) {
        team_ = arg;
        out_ << fmt::format("(you are now in workspace {})\n", team_);
    } else if (word == ":thread" && !arg.empty()) {
        if (arg == "off") {
            thread_ts_.clear();
            out_ << "(mentions now go to the channel, not a thread)\n";
            return;
        }
        if (auto id = parse_item_id(arg)) {
            auto it = db_.find_item(team_, *id);
            if (!it || it->thread_ts.empty()) {
                out_ << fmt::format("({} has no thread in this workspace)\n", arg);
                return;
            }
            channel_ = it->thread_channel;
            thread_ts_ = it->thread_ts;
        } else {
            thread_ts_ = arg;
        }
        out_ << fmt::format("(mentions now go to thread {} in #{})\n", thread_ts_,
                            channel_name(channel_));
    } else if (word == ":click" && !arg.empty()) {
        std::size_t n = 0;
        auto picked_space = arg.find(' ');
        auto picked =
            picked_space == std::string::npos ? std::string() : trim(arg.substr(picked_space + 1));
        try {
            n = std::stoul(arg.substr(0, picked_space));
        } catch (const std::exception&) {
        }
        if (n == 0 || n > buttons_.size()) {
            out_ << fmt::format("(there is no button {}; buttons are numbered as they are "
                                "shown)\n",
                                arg);
            return;
        }
        const auto& p = buttons_[n - 1];
        auto cmd = base_command(source::action);
        cmd.channel_id = p.channel;
        cmd.command_name = "/tpm";
        cmd.text = p.b.value;
        if (p.b.pick_user) {
            // A person picker: the person chosen completes the command, as in Slack.
            if (picked.empty() || picked[0] != '@') {
                out_ << fmt::format("([{}] picks a person: :click {} @name)\n", p.b.text, n);
                return;
            }
            auto name = strip_prefix(picked, '@');
            names_[user_id_for(name)] = name;
            cmd.text += " <@" + user_id_for(name) + ">";
            out_ << fmt::format("(@{} picked @{} in [{}])\n", user_name(user_), name, p.b.text);
        } else {
            out_ << fmt::format("(@{} pressed [{}])\n", user_name(user_), p.b.text);
        }
        run(std::move(cmd));
    } else if (word == ":advance" && !arg.empty()) {
        unix_time amount = 0;
        char unit = arg.back();
        try {
            amount = std::stol(arg.substr(0, arg.size() - 1));
        } catch (const std::exception&) {
            unit = '?';
        }
        unix_time per = unit == 'd' ? 86400 : unit == 'h' ? 3600 : unit == 'm' ? 60 : 0;
        if (per == 0 || amount < 0) {
            out_ << "(use :advance with a number and d, h or m, e.g. :advance 2d)\n";
            return;
        }
        advance(amount * per);
        out_ << fmt::format("(the clock is now {} {} in {})\n",
                            dates::pretty(dates::today(now(), tz_)),
                            schedule::format_time_of_day(schedule::local_minute(now(), tz_)), tz_);
    } else if (word == ":dm" && !arg.empty()) {
        direct_message(arg, false);
    } else if (word == ":edit" && !arg.empty()) {
        direct_message(arg, true);
    } else if (word == ":shortcut" && !arg.empty()) {
        use_shortcut(arg);
    } else if (word == ":home") {
        // Slack's app_home_opened: the Home tab of the bot, as the current person sees it.
        auto cmd = base_command(source::home);
        cmd.channel_id.clear();
        run(std::move(cmd));
    } else if (word == ":now") {
        out_ << fmt::format("({} UTC; today is {} in {})\n", now(),
                            dates::pretty(dates::today(now(), tz_)), tz_);
    } else if (word == ":help") {
        out_ << usage();
    } else {
        out_ << fmt::format("(unknown console command {}; :help lists them)\n", word);
    }
}

bool console::line(const std::string& raw) {
    auto text = trim(raw);
    if (text.empty() || text[0] == '#') {
        return true;
    }
    if (text == ":quit" || text == ":q" || text == ":exit") {
        return false;
    }
    if (text[0] == ':') {
        meta(text);
        return true;
    }
    if (text[0] == '/') {
        auto space = text.find(' ');
        auto name = text.substr(0, space);
        for (auto& c : name) {
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        slash(name, space == std::string::npos ? std::string() : trim(text.substr(space + 1)));
        return true;
    }
    auto bot_mention = "@" + std::string(bot_name);
    if (text.rfind(bot_mention, 0) == 0 &&
        (text.size() == bot_mention.size() || text[bot_mention.size()] == ' ' ||
         text[bot_mention.size()] == ':')) {
        auto rest = text.substr(bot_mention.size());
        if (!rest.empty() && rest[0] == ':') {
            rest.erase(0, 1);
        }
        mention(trim(rest));
        return true;
    }
    out_
        << "(a plain message: tpmbot acts on /tpm, /blocker, /decision, /owner, /standup, /status, "
           "@tpmbot mentions and direct messages, :dm)\n";
    return true;
}

void console::drain() {
    for (;;) {
        auto rows = db_.pending(100);
        if (rows.empty()) {
            return;
        }
        for (const auto& row : rows) {
            const auto& e = row.e;
            std::string channel = e.channel;
            std::string thread = e.thread_ts;
            std::string where;
            std::string replaced_ts; ///< update: the post replaced
            switch (e.to) {
            case destination::ephemeral:
                // In the bot's DM an answer is an ordinary message there (as in Slack).
                where = !channel.empty() && channel[0] == 'D'
                            ? "DM to @" + user_name(e.user)
                            : fmt::format("#{} · only @{} sees this", channel_name(channel),
                                          user_name(e.user));
                break;
            case destination::channel:
                where = "#" + channel_name(channel);
                if (e.is_card) {
                    where += " · card of " + e.item;
                }
                break;
            case destination::thread:
                std::tie(channel, thread) = thread_target(db_, row.team_id, e);
                where =
                    thread.empty()
                        ? fmt::format("#{} · {} has no thread yet", channel_name(channel), e.item)
                        : fmt::format("#{} · thread of {}", channel_name(channel), e.item);
                break;
            case destination::dm:
                channel = "D" + e.user.substr(std::min<std::size_t>(1, e.user.size()));
                where = "DM to @" + user_name(e.user);
                break;
            case destination::home:
                where = "App Home of @" + user_name(e.user);
                break;
            case destination::update:
                if (auto post = db_.post_of(row.team_id, e.name)) {
                    channel = post->first;
                    replaced_ts = post->second;
                }
                where = fmt::format("#{} · {} now reads", channel_name(channel),
                                    e.name.starts_with("card:")   ? "card of " + e.item
                                    : e.name.starts_with("poll:") ? "poll of " + e.item
                                                                  : "post " + e.name);
                break;
            }
            if (!thread.empty() && e.to != destination::thread) {
                where += " · in thread " + thread;
            }
            auto ts = e.to == destination::update ? replaced_ts : new_ts();
            if (e.to == destination::channel && thread.empty()) {
                where += " · ts " + ts;
            }
            out_ << "[" << where << "]\n";
            auto print = [&](const std::string& text, std::string_view prefix) {
                std::size_t start = 0;
                while (start <= text.size()) {
                    auto nl = text.find('\n', start);
                    out_ << "  " << prefix
                         << text.substr(start,
                                        nl == std::string::npos ? std::string::npos : nl - start)
                         << "\n";
                    if (nl == std::string::npos) {
                        break;
                    }
                    start = nl + 1;
                }
            };
            if (e.blocks.empty()) {
                print(e.text, "");
            }
            // A laid-out post is shown block by block, as Slack would show it.
            for (const auto& b : e.blocks) {
                switch (b.type) {
                case block::kind::header:
                    print(b.text, "# ");
                    break;
                case block::kind::section:
                    print(b.text, "");
                    break;
                case block::kind::context:
                    print(b.text, "| ");
                    break;
                case block::kind::divider:
                    out_ << "  ----\n";
                    break;
                }
            }
            if (!e.buttons.empty()) {
                out_ << " ";
                for (const auto& b : e.buttons) {
                    buttons_.push_back({b, e.to == destination::dm ? channel_ : channel});
                    out_ << fmt::format(" [{}: {}]", buttons_.size(), b.text);
                }
                out_ << "\n";
            }
            db_.mark_sent(row, channel, e.to == destination::ephemeral ? "" : ts, now());
        }
    }
}

void run_console(console& c, std::istream& in, std::ostream& out, bool interactive, bool echo) {
    c.drain();
    c.tick();
    std::string line;
    for (;;) {
        if (interactive) {
            out << "tpmbot> " << std::flush;
        }
        if (!std::getline(in, line)) {
            break;
        }
        if (echo && line.find_first_not_of(" \t\r") != std::string::npos) {
            out << "> " << line << "\n";
        }
        if (!c.line(line)) {
            break;
        }
        out << std::flush;
    }
    out << std::flush;
}

} // namespace tpmbot
