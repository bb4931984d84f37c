#pragma once
/// A small HTTP/1.1 client for the Web API: one keep-alive connection per client, TLS verified
/// (system CAs, SNI, host name check), chosen by the URL's scheme (http, https, ws, wss).

#include "net.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tpmbot {

/// The parts of an absolute URL the transports need.
struct url_parts {
    std::string scheme; ///< http, https, ws or wss
    std::string host;
    std::string port;   ///< explicit, or 80/443 by scheme
    std::string target; ///< path and query, at least "/"
    bool tls = false;   ///< https or wss
};

/// Parses an absolute http(s)/ws(s) URL; nullopt for anything else.
std::optional<url_parts> parse_url(std::string_view url);

/// A TLS client context that verifies peers against the system's CAs, plus `extra_ca_file`
/// when given (a PEM bundle, e.g. a test CA). Throws std::runtime_error if the file is bad.
std::shared_ptr<net::ssl::context> make_tls_context(const std::string& extra_ca_file);

/// The TLS context, made the first time a connection needs one: a bot that speaks only
/// plain HTTP (a local fake or proxy) never pays the ~4 MB of OpenSSL's set-up.
class tls_source {
public:
    explicit tls_source(std::string extra_ca_file) : ca_file_(std::move(extra_ca_file)) {}
    /// The context; made now if it was not yet (throws as `make_tls_context`).
    net::ssl::context& get();

private:
    std::string ca_file_;
    std::shared_ptr<net::ssl::context> ctx_;
};

/// What an HTTP request answered.
struct http_response {
    int status = 0;
    std::string body;
    std::string retry_after; ///< the Retry-After header, empty when absent
};

/// One keep-alive connection at a time; reconnects when the host changes or the peer closed.
/// Not for concurrent use: one request at a time per client.
class http_client {
public:
    http_client(net::any_io_executor ex, std::shared_ptr<tls_source> tls,
                std::chrono::milliseconds timeout);
    ~http_client();
    http_client(const http_client&) = delete;
    http_client& operator=(const http_client&) = delete;

    /// Sends a request (POST when `body` or `content_type` is set, else GET) and reads the
    /// answer, all within the client's timeout. Throws boost::system::system_error on network
    /// and TLS failures (including a certificate or host name that does not verify) and on
    /// timeouts. A request is never sent twice: only one that could not be written on a
    /// kept-alive connection is retried on a fresh one.
    net::awaitable<http_response> request(std::string url, std::string content_type,
                                          std::string authorization, std::string body);

    /// Closes the connection (it is reopened by the next request).
    void close();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

} // namespace tpmbot
