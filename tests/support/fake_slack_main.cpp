/// fake_slack_server [--cert FILE --key FILE]: the fake Slack as a process, for end-to-end tests
/// and benchmarks that drive the real binary.
///
/// Prints `api_url <url>` first, then reads one command per line from stdin; every command
/// answers with exactly one final line (`ok`, `acks N`, `calls N`, `timeout N`, `end N`,
/// `connections …`, `error …`); list commands print their JSON lines before it. Exits on
/// `quit` or EOF.
///
///   send <json>                                  text frame to the newest open connection
///   slash <envelope_id> <text...>                slash_commands envelope
///   mention <envelope_id> <event_id> <text...>   events_api app_mention envelope
///   disconnect <reason> [close_after_ms]         disconnect frame, then close after the delay
///   drop | silent                                close without close frame | stop reading
///   script <method> <status> <retry_after> <body...>
///   wait-acks <n> <timeout_ms>                   acks N | timeout N
///   wait-calls <method> <n> <timeout_ms>         calls N | timeout N (N = calls of method)
///   wait-connections <n> <timeout_ms>            connections N | timeout N (N = open now)
///   acks                                         one JSON line per ack, then `end N`
///   calls [method]                               one JSON line per call, then `end N`
///   connections                                  `connections <opened> <open> <pings>`
///   quit

#include "support/fake_slack.hpp"

#include <boost/json.hpp>
#include <iostream>
#include <sstream>

namespace {

using tpmbot::test::fake_slack;
namespace json = boost::json;

/// The rest of the line after the words already read, without the separating space.
std::string rest(std::istringstream& in) {
    std::string r;
    std::getline(in, r);
    if (!r.empty() && r.front() == ' ')
        r.erase(0, 1);
    return r;
}

json::value json_or_null(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    return ec ? json::value(nullptr) : v;
}

std::string wait_line(bool done, std::size_t count, const char* ok_word) {
    return std::string(done ? ok_word : "timeout") + " " + std::to_string(count);
}

/// Runs one command line; returns false on quit.
bool run(fake_slack& slack, const std::string& line) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd.empty())
        return true;
    if (cmd == "quit")
        return false;
    if (cmd == "send") {
        slack.send(rest(in));
    } else if (cmd == "slash") {
        std::string id;
        in >> id;
        slack.send(fake_slack::slash_envelope(id, rest(in)));
    } else if (cmd == "mention") {
        std::string id, event_id;
        in >> id >> event_id;
        slack.send(fake_slack::mention_envelope(id, event_id, rest(in)));
    } else if (cmd == "disconnect") {
        std::string reason;
        long long after = -1;
        in >> reason;
        if (!(in >> after))
            after = -1;
        slack.disconnect(reason, 0, std::chrono::milliseconds(after));
    } else if (cmd == "drop") {
        slack.drop();
    } else if (cmd == "silent") {
        slack.go_silent();
    } else if (cmd == "script") {
        std::string method;
        tpmbot::test::scripted_reply r;
        if (!(in >> method >> r.status >> r.retry_after)) {
            std::cout << "error usage: script <method> <status> <retry_after> <body...>\n";
            return true;
        }
        r.body = rest(in);
        slack.script(method, std::move(r));
    } else if (cmd == "wait-acks") {
        std::size_t n = 0;
        long long ms = 0;
        in >> n >> ms;
        bool done =
            slack.wait_for([&] { return slack.acks().size() >= n; }, std::chrono::milliseconds(ms));
        std::cout << wait_line(done, slack.acks().size(), "acks") << '\n';
        return true;
    } else if (cmd == "wait-calls") {
        std::string method;
        std::size_t n = 0;
        long long ms = 0;
        in >> method >> n >> ms;
        bool done = slack.wait_for([&] { return slack.calls(method).size() >= n; },
                                   std::chrono::milliseconds(ms));
        std::cout << wait_line(done, slack.calls(method).size(), "calls") << '\n';
        return true;
    } else if (cmd == "wait-connections") {
        std::size_t n = 0;
        long long ms = 0;
        in >> n >> ms;
        auto open = [&] {
            return static_cast<std::size_t>(slack.connections_open());
        };
        bool done = slack.wait_for([&] { return open() >= n; }, std::chrono::milliseconds(ms));
        std::cout << wait_line(done, open(), "connections") << '\n';
        return true;
    } else if (cmd == "acks") {
        auto acks = slack.acks();
        for (const auto& a : acks)
            std::cout << json::serialize(
                             json::object{{"envelope_id", a.envelope_id},
                                          {"payload", a.payload.empty() ? json::value(nullptr)
                                                                        : json_or_null(a.payload)},
                                          {"connection", a.connection},
                                          {"latency_ms", a.latency_ms}})
                      << '\n';
        std::cout << "end " << acks.size() << '\n';
        return true;
    } else if (cmd == "calls") {
        std::string method;
        in >> method;
        auto calls = method.empty() ? slack.calls() : slack.calls(method);
        for (const auto& c : calls) {
            json::object params;
            for (const auto& [k, v] : c.params)
                params[k] = v;
            std::cout << json::serialize(json::object{{"method", c.method}, {"params", params}})
                      << '\n';
        }
        std::cout << "end " << calls.size() << '\n';
        return true;
    } else if (cmd == "connections") {
        std::cout << "connections " << slack.connections_opened() << ' ' << slack.connections_open()
                  << ' ' << slack.pings_received() << '\n';
        return true;
    } else {
        std::cout << "error unknown command: " << cmd << '\n';
        return true;
    }
    std::cout << "ok\n";
    return true;
}

} // namespace

int main(int argc, char** argv) {
    fake_slack::options o;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--cert" && i + 1 < argc) {
            o.cert_file = argv[++i];
        } else if (arg == "--key" && i + 1 < argc) {
            o.key_file = argv[++i];
        } else {
            std::cerr << "usage: fake_slack_server [--cert FILE --key FILE]\n";
            return 2;
        }
    }
    try {
        fake_slack slack(o);
        std::cout << "api_url " << slack.api_url() << std::endl;
        std::string line;
        while (std::getline(std::cin, line)) {
            if (!run(slack, line))
                break;
            std::cout.flush();
        }
    } catch (const std::exception& e) {
        std::cerr << "fake_slack_server: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
