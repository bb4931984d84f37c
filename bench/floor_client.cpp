/// floor_client: the thinnest Socket Mode client, the floor the bot is measured against.
///
/// It reads SLACK_API_URL and SLACK_APP_TOKEN, POSTs apps.connections.open (form body, the app
/// token as Bearer) for the ws:// URL, connects, and acks every envelope: it finds
/// `"envelope_id":"` by string search (no JSON parse, no store, no posts) and writes back
/// `{"envelope_id":"..."}` on the same connection. Each connection is read and acked by its own
/// thread with blocking calls (one read and one write per envelope, nothing else).
///
/// Reconnects are the least that keeps it connected: on a disconnect frame (any reason) it opens
/// a replacement at once and keeps acking on the old connection until Slack closes it; a
/// connection that ends without a disconnect is replaced too (after 100 ms if it never got
/// going). SIGTERM or SIGINT: every socket is shut down, the threads joined, exit code 0.
///
/// With FLOOR_COMMIT_PAGES=N (1 to 256) it also makes each envelope durable before its ack, the
/// least a commit can do: N pages of 4 KiB written at the next place of a preallocated 4 MiB
/// file in $TMPDIR (else /tmp), as a WAL commit writes its frames, then `fdatasync`. No SQLite.
/// Each envelope has a commit of its own, so use it at fixed rates, not at saturation.
///
/// Plain TCP only (ws:// and http://): it runs against the fake Slack on 127.0.0.1.

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/url/parse.hpp>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

/// Where a URL points: host, port and the request target (path and query).
struct place {
    std::string host;
    std::string port;
    std::string target;
};

std::optional<place> parse_place(std::string_view url, std::string_view scheme,
                                 const char* default_port) {
    auto u = boost::urls::parse_uri(url);
    if (!u || u->scheme() != scheme)
        return std::nullopt;
    place p;
    p.host = u->host();
    p.port = u->has_port() ? std::string(u->port()) : default_port;
    p.target = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
    if (u->has_query())
        p.target += "?" + std::string(u->encoded_query());
    return p;
}

/// The string value that follows `key` (e.g. `"url":"`) in `text`, with `\x` escapes reduced
/// to `x` (Slack writes `\/`); empty when absent.
std::string string_after(std::string_view text, std::string_view key) {
    auto at = text.find(key);
    if (at == std::string_view::npos)
        return {};
    std::string out;
    for (auto i = at + key.size(); i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size())
            ++i;
        out += text[i];
    }
    return out;
}

/// A blocking TCP connection to `p`; reads give up after `timeout` when it is positive.
bool connect_to(tcp::socket& socket, const place& p, std::chrono::seconds timeout) {
    boost::system::error_code ec;
    tcp::resolver resolver(socket.get_executor());
    auto found = resolver.resolve(p.host, p.port, ec);
    if (ec)
        return false;
    net::connect(socket, found, ec);
    if (ec)
        return false;
    socket.set_option(tcp::no_delay(true), ec);
    if (timeout.count() > 0) {
        timeval tv{static_cast<time_t>(timeout.count()), 0};
        setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    return true;
}

/// FLOOR_COMMIT_PAGES: a file written round, page by page, each commit ending in fdatasync.
class durable_file {
public:
    static constexpr std::size_t page = 4096;
    static constexpr std::size_t pages_in_file = 1024; // 4 MiB

    explicit durable_file(int pages_per_commit) : pages_(pages_per_commit), data_(page, 'x') {
        const char* dir = std::getenv("TMPDIR");
        path_ = std::string(dir && *dir ? dir : "/tmp") + "/floor_commit.XXXXXX";
        fd_ = ::mkstemp(path_.data());
        if (fd_ < 0)
            fail("cannot make");
        // Written once and synced, so each commit overwrites allocated blocks, as a WAL does
        // once it has grown.
        for (std::size_t i = 0; i < pages_in_file; ++i)
            if (!write_page(i))
                fail("cannot write");
        if (::fsync(fd_) != 0)
            fail("cannot sync");
    }
    ~durable_file() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    durable_file(const durable_file&) = delete;
    durable_file& operator=(const durable_file&) = delete;

    /// One commit: the pages, then fdatasync. False when the disk refused.
    bool commit() {
        std::lock_guard lock(mutex_);
        for (int i = 0; i < pages_; ++i) {
            if (!write_page(next_))
                return false;
            next_ = (next_ + 1) % pages_in_file;
        }
        return ::fdatasync(fd_) == 0;
    }

private:
    [[noreturn]] void fail(const char* what) {
        std::fprintf(stderr, "floor_client: %s %s: %s\n", what, path_.c_str(),
                     std::strerror(errno));
        std::exit(2);
    }

    bool write_page(std::size_t i) {
        return ::pwrite(fd_, data_.data(), page, static_cast<off_t>(i * page)) ==
               static_cast<ssize_t>(page);
    }

    int pages_;
    std::string data_;
    std::string path_;
    int fd_ = -1;
    std::size_t next_ = 0;
    std::mutex mutex_;
};

class floor_client {
public:
    floor_client(std::string api_url, std::string app_token, durable_file* durable)
        : api_url_(std::move(api_url)), app_token_(std::move(app_token)), durable_(durable) {}

    /// Starts a connection thread, unless stopping.
    void start_connection(bool after_failure) {
        std::lock_guard lock(mutex_);
        if (stopping_)
            return;
        threads_.emplace_back([this, after_failure] { run_connection(after_failure); });
    }

    /// Shuts every socket down and joins every thread (threads started meanwhile included).
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            for (int fd : fds_)
                ::shutdown(fd, SHUT_RDWR);
        }
        for (;;) {
            std::thread t;
            {
                std::lock_guard lock(mutex_);
                if (threads_.empty())
                    return;
                t = std::move(threads_.back());
                threads_.pop_back();
            }
            t.join();
        }
    }

private:
    /// apps.connections.open: the ws:// URL, empty on any failure.
    std::string open_url(net::io_context& ioc) {
        auto api = parse_place(api_url_, "http", "80");
        if (!api)
            return {};
        tcp::socket socket(ioc);
        if (!connect_to(socket, *api, std::chrono::seconds(10)))
            return {};
        auto target = api->target;
        if (target.empty() || target.back() != '/')
            target += '/';
        target += "apps.connections.open";
        http::request<http::string_body> req{http::verb::post, target, 11};
        req.set(http::field::host, api->host);
        req.set(http::field::authorization, "Bearer " + app_token_);
        req.set(http::field::content_type, "application/x-www-form-urlencoded");
        req.keep_alive(false);
        req.prepare_payload();
        boost::system::error_code ec;
        http::write(socket, req, ec);
        if (ec)
            return {};
        beast::flat_buffer buffer;
        http::response<http::string_body> res;
        http::read(socket, buffer, res, ec);
        if (ec || res.result() != http::status::ok)
            return {};
        socket.shutdown(tcp::socket::shutdown_both, ec);
        return string_after(res.body(), R"("url":")");
    }

    bool register_fd(int fd) {
        std::lock_guard lock(mutex_);
        if (stopping_)
            return false;
        fds_.push_back(fd);
        return true;
    }

    void unregister_fd(int fd) {
        std::lock_guard lock(mutex_);
        std::erase(fds_, fd);
    }

    bool stopping() {
        std::lock_guard lock(mutex_);
        return stopping_;
    }

    void run_connection(bool after_failure) {
        if (after_failure)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (stopping())
            return;
        net::io_context ioc;
        auto url = open_url(ioc);
        auto ws_place = parse_place(url, "ws", "80");
        websocket::stream<tcp::socket> ws(ioc);
        if (!ws_place || !connect_to(ws.next_layer(), *ws_place, std::chrono::seconds(0))) {
            std::fprintf(stderr, "floor_client: could not connect (%s)\n",
                         url.empty() ? "apps.connections.open failed" : url.c_str());
            start_connection(true);
            return;
        }
        int fd = ws.next_layer().native_handle();
        if (!register_fd(fd))
            return;
        boost::system::error_code ec;
        ws.handshake(ws_place->host + ":" + ws_place->port, ws_place->target, ec);
        bool replaced = false;
        bool any_frame = false;
        if (!ec) {
            ws.text(true);
            beast::flat_buffer buffer;
            std::string ack;
            constexpr std::string_view key = R"("envelope_id":")";
            for (;;) {
                ws.read(buffer, ec);
                if (ec)
                    break;
                any_frame = true;
                std::string_view frame(static_cast<const char*>(buffer.data().data()),
                                       buffer.size());
                auto at = frame.find(key);
                if (at != std::string_view::npos) {
                    auto from = at + key.size();
                    auto end = frame.find('"', from);
                    if (end != std::string_view::npos) {
                        ack.assign(R"({"envelope_id":")");
                        ack.append(frame.substr(from, end - from));
                        ack.append(R"("})");
                        if (durable_ && !durable_->commit()) {
                            std::fprintf(stderr, "floor_client: a commit failed: %s\n",
                                         std::strerror(errno));
                            break;
                        }
                        ws.write(net::buffer(ack), ec);
                        if (ec)
                            break;
                    }
                } else if (!replaced &&
                           frame.find(R"("type":"disconnect")") != std::string_view::npos) {
                    // Replace it now; this one keeps acking until Slack closes it.
                    replaced = true;
                    start_connection(false);
                }
                buffer.consume(buffer.size());
            }
        }
        unregister_fd(fd);
        if (!replaced)
            start_connection(!any_frame);
    }

    std::string api_url_;
    std::string app_token_;
    durable_file* durable_;
    std::mutex mutex_;
    bool stopping_ = false;
    std::vector<int> fds_;
    std::vector<std::thread> threads_;
};

} // namespace

int main() {
    const char* api_url = std::getenv("SLACK_API_URL");
    const char* app_token = std::getenv("SLACK_APP_TOKEN");
    if (!api_url || !app_token || !*api_url || !*app_token) {
        std::fprintf(stderr, "floor_client: set SLACK_API_URL and SLACK_APP_TOKEN\n");
        return 2;
    }
    // The signals are taken by sigwait below: blocked here, before any thread starts, so every
    // thread inherits the mask and none is interrupted.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    std::optional<durable_file> durable;
    if (const char* pages = std::getenv("FLOOR_COMMIT_PAGES"); pages && *pages) {
        int n = 0;
        std::string_view text(pages);
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > 256) {
            std::fprintf(stderr, "floor_client: FLOOR_COMMIT_PAGES must be 1 to 256\n");
            return 2;
        }
        durable.emplace(n);
    }
    floor_client client(api_url, app_token, durable ? &*durable : nullptr);
    client.start_connection(false);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    client.stop();
    return 0;
}
