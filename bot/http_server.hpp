#pragma once
/// A small HTTP/1.1 server for the admin address (`/healthz`, `/metrics`) and the HTTP events
/// mode: keep-alive, a cap on the body and on the headers, a deadline on every read and write,
/// a cap on connections. Runs on the caller's io_context; Beast stays in the .cpp.

#include "log.hpp"
#include "net.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tpmbot {

/// A request as the handler sees it.
struct http_request {
    std::string method; ///< "GET", "POST", …
    std::string target; ///< path and query, as sent
    /// Header names in lower case, values as sent, in order.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    /// The first header of that name (any case), empty when absent.
    std::string_view header(std::string_view name) const;
    /// The target without its query.
    std::string_view path() const;
};

/// What the handler answers.
struct http_answer {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers; ///< more headers
};

struct http_server_limits {
    std::size_t max_body = 1 << 20;              ///< larger: 413, and the connection is closed
    std::size_t max_header = 16384;              ///< larger: 431, and the connection is closed
    std::chrono::milliseconds io_timeout{10000}; ///< per read and per write
    std::size_t max_connections = 64;            ///< more are closed at once
};

class http_server {
public:
    using handler = std::function<net::awaitable<http_answer>(http_request)>;

    /// Binds `host`:`port` now (port "0" picks a free one); throws std::runtime_error naming
    /// the address when it cannot. Serves once `start` is called.
    http_server(net::any_io_executor ex, const std::string& host, const std::string& port,
                handler h, http_server_limits limits, logger log);
    ~http_server();
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    /// The bound port.
    unsigned short port() const;
    /// host:port as bound, for the log.
    std::string address() const;
    /// Starts accepting.
    void start();
    /// Stops accepting; the connections open go on until they end or `stop`.
    void stop_accepting();
    /// Stops accepting and closes every connection; a request being handled gets no answer.
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

/// Splits "host:port", "[v6]:port" or ":port" (every address); false when malformed (no port,
/// a port that is not 0..65535, an empty bracketed host).
bool split_host_port(std::string_view text, std::string& host, std::string& port);

} // namespace tpmbot
