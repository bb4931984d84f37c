#pragma once
/// One HTTP/1.1 request to 127.0.0.1 from a test, with a deadline: for the bot's admin address
/// and its HTTP events endpoint.

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace tpmbot::test {

struct fetched {
    int status = 0; ///< 0 when no answer came (refused, closed, timed out)
    std::string content_type;
    std::string body;
    std::string error; ///< why there is no answer
    /// Header names in lower case.
    std::vector<std::pair<std::string, std::string>> headers;
    std::string header(const std::string& name) const;
};

struct fetch_options {
    std::string method = "GET";
    std::string body;
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;
    std::chrono::milliseconds timeout{5000};
};

/// Sends one request to 127.0.0.1:`port` on a new connection and reads the answer.
fetched http_fetch(unsigned short port, const std::string& target, const fetch_options& o = {});

/// Sends several requests on one keep-alive connection; one answer each, in order (an answer
/// with status 0 ends the list early).
std::vector<fetched> http_fetch_many(unsigned short port, const std::vector<std::string>& targets,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

/// Writes `raw` bytes on a new connection and returns what came back until the peer closed
/// (or the deadline): for malformed and oversized requests.
std::string http_raw(unsigned short port, const std::string& raw,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

} // namespace tpmbot::test
