#include "dispatcher.hpp"

#include "mrkdwn.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace tpmbot {

dispatcher::dispatcher(durable_store& db, const router& routes, std::vector<std::string> env_admins,
                       log_fn log)
    : db_(db), routes_(routes), env_admins_(std::move(env_admins)), log_(std::move(log)) {}

bool dispatcher::is_admin(const std::string& team_id, const std::string& user_id) {
    if (std::find(env_admins_.begin(), env_admins_.end(), user_id) != env_admins_.end()) {
        return true;
    }
    if (auto u = db_.find_user(team_id, user_id); u && u->is_admin) {
        return true; // a Slack workspace admin or owner
    }
    auto added = db_.list_admins(team_id);
    return std::find(added.begin(), added.end(), user_id) != added.end();
}

namespace {

/// Whether an effect is an answer only the caller sees, where they typed the command.
bool is_caller_reply(const effect& e, const command& cmd) {
    return e.to == destination::ephemeral && e.user == cmd.user_id && e.channel == cmd.channel_id;
}

/// A form's refusal: a form has no reply, so the text goes beside its first field and the form
/// stays open.
handled refused_form(std::string text) {
    handled refused;
    refused.ok = false;
    refused.form_errors[std::string(form_general_field)] = std::move(text);
    return refused;
}

} // namespace

handled dispatcher::handle(command cmd, const handle_options& opts) {
    // Slack's JSON is valid UTF-8, but the console reads raw bytes: whatever is stored and
    // posted must be valid UTF-8, or Slack refuses the JSON it is in.
    cmd.text = mrkdwn::valid_utf8(cmd.text);
    handled out;
    try {
        db_.transact([&] {
            if (opts.still_wanted && !opts.still_wanted()) {
                out.skipped = true;
                return;
            }
            cmd.is_admin = cmd.is_admin || is_admin(cmd.team_id, cmd.user_id);
            out.effects = routes_.run(db_, cmd);
            for (const auto& e : out.effects) {
                if (opts.reply_in_ack && is_caller_reply(e, cmd)) {
                    out.reply += (out.reply.empty() ? "" : "\n\n") + e.text;
                } else {
                    db_.enqueue(cmd.team_id, e, cmd.now);
                }
            }
            if (opts.in_transaction) {
                opts.in_transaction();
            }
        });
        return out;
    } catch (const form_error& e) {
        // The form stays open with a message beside each field to fix; nothing is written.
        handled refused;
        refused.ok = false;
        refused.form_errors = e.fields;
        return refused;
    } catch (const user_error& e) {
        if (cmd.from == source::form) {
            return refused_form(e.what());
        }
        return refuse(cmd, e.what(), opts);
    } catch (const std::exception& e) {
        log_.error(
            fmt::format("tpmbot: command failed and was rolled back: team={} user={} command={} "
                        "error={}",
                        cmd.team_id, cmd.user_id, cmd.command_name, e.what()));
        if (cmd.from == source::form) {
            return refused_form(
                "Something went wrong on tpmbot's side, so nothing was saved. Please try again.");
        }
        return refuse(cmd,
                      ":warning: Something went wrong on tpmbot's side, so nothing was "
                      "changed. Please try again; if it keeps happening, tell whoever runs "
                      "tpmbot.",
                      opts);
    }
}

handled dispatcher::refuse(const command& cmd, std::string text, const handle_options& opts) {
    handled out;
    out.ok = false;
    context ctx(db_, cmd);
    ctx.reply(std::move(text));
    db_.transact([&] {
        if (opts.reply_in_ack) {
            out.reply = ctx.out.front().text;
        } else {
            db_.enqueue(cmd.team_id, ctx.out.front(), cmd.now);
        }
        if (opts.in_transaction) {
            opts.in_transaction();
        }
    });
    out.effects = std::move(ctx.out);
    return out;
}

} // namespace tpmbot
