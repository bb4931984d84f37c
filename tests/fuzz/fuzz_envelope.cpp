// libFuzzer target: a Socket Mode frame as Slack might send it, an HTTP-mode body, and a Web
// API answer. The
// parsers never throw and never crash; a frame they accept yields a command only with the
// fields a command needs.

#include "envelope.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace tpmbot;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto f = slack::parse_frame(text);
    if (!f.payload.empty()) {
        if (auto c = slack::command_of_slash(f.payload)) {
            if (c->team_id.empty() || c->user_id.empty() || c->command_name.empty()) {
                std::abort(); // documented: nullopt when any of them is missing
            }
        }
        if (auto c = slack::command_of_action(f.payload)) {
            if (c->team_id.empty() || c->user_id.empty()) {
                std::abort();
            }
        }
        if (auto e = slack::parse_event(f.payload)) {
            slack::command_of_event(*e, "UBOT");
        }
        slack::interactive_type(f.payload);
        if (auto sc = slack::parse_message_action(f.payload)) {
            if (sc->user_id.empty() || sc->team_id.empty() || sc->message.channel.empty() ||
                sc->message.ts.empty()) {
                std::abort(); // documented: nullopt when any of them is missing
            }
            // Whatever the message says, its form is a valid modal body.
            if (auto form = shortcut_form(sc->callback_id, sc->message)) {
                if (slack::open_view_body(*form, sc->trigger_id).front() != '{') {
                    std::abort();
                }
            }
        }
        if (auto c = slack::command_of_submission(f.payload)) {
            if (c->team_id.empty() || c->user_id.empty() || c->form_id.empty() ||
                c->from != source::form) {
                std::abort();
            }
        }
    }
    // The same bytes as an HTTP-mode body: a form (a slash command, or a button's payload=)
    // becomes valid JSON whatever its bytes, and an events body's challenge is read safely.
    if (auto form = slack::parse_form(text)) {
        auto json_text = slack::form_as_json(*form);
        if (json_text.front() != '{' || json_text.back() != '}') {
            std::abort();
        }
        slack::command_of_slash(json_text);
        if (auto p = form->find("payload"); p != form->end()) {
            slack::command_of_action(p->second);
        }
    }
    slack::url_verification_challenge(text);
    // The same bytes as a Web API answer body.
    auto r = slack::parse_api_reply(text);
    if (r.ok && r.error == "invalid_json") {
        std::abort();
    }
    return 0;
}
