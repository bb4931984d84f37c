#include "support/http_fetch.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <functional>

namespace tpmbot::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::string fetched::header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

namespace {

std::string lower(std::string s) {
    for (auto& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

/// Runs the io_context until its work is done or the deadline passes (then the stream is
/// closed, which ends every operation).
void run_bounded(net::io_context& ioc, beast::tcp_stream& stream, std::chrono::milliseconds t) {
    ioc.run_for(t);
    if (!ioc.stopped()) {
        stream.close();
        ioc.run();
    }
    ioc.restart();
}

fetched one(net::io_context& ioc, beast::tcp_stream& stream, beast::flat_buffer& buffer,
            unsigned short port, const std::string& target, const fetch_options& o) {
    fetched out;
    http::request<http::string_body> req{http::string_to_verb(o.method), target, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    if (!o.content_type.empty()) {
        req.set(http::field::content_type, o.content_type);
    }
    for (const auto& [k, v] : o.headers) {
        req.set(k, v);
    }
    req.body() = o.body;
    req.prepare_payload();
    http::response<http::string_body> res;
    boost::system::error_code result = net::error::timed_out;
    http::async_write(stream, req, [&](boost::system::error_code ec, std::size_t) {
        if (ec) {
            result = ec;
            return;
        }
        http::async_read(stream, buffer, res,
                         [&](boost::system::error_code ec2, std::size_t) { result = ec2; });
    });
    run_bounded(ioc, stream, o.timeout);
    if (result) {
        out.error = result.message();
        return out;
    }
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    for (const auto& f : res) {
        out.headers.emplace_back(lower(std::string(f.name_string())), std::string(f.value()));
    }
    out.body = std::move(res.body());
    return out;
}

bool connect(net::io_context& ioc, beast::tcp_stream& stream, unsigned short port,
             std::chrono::milliseconds timeout, std::string& error) {
    boost::system::error_code result = net::error::timed_out;
    stream.async_connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port),
                         [&](boost::system::error_code ec) { result = ec; });
    run_bounded(ioc, stream, timeout);
    if (result) {
        error = result.message();
        return false;
    }
    return true;
}

} // namespace

fetched http_fetch(unsigned short port, const std::string& target, const fetch_options& o) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    fetched out;
    if (!connect(ioc, stream, port, o.timeout, out.error)) {
        return out;
    }
    beast::flat_buffer buffer;
    return one(ioc, stream, buffer, port, target, o);
}

std::vector<fetched> http_fetch_many(unsigned short port, const std::vector<std::string>& targets,
                                     std::chrono::milliseconds timeout) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    std::vector<fetched> out;
    std::string error;
    if (!connect(ioc, stream, port, timeout, error)) {
        return out;
    }
    beast::flat_buffer buffer;
    fetch_options o;
    o.timeout = timeout;
    for (const auto& t : targets) {
        out.push_back(one(ioc, stream, buffer, port, t, o));
        if (out.back().status == 0) {
            break;
        }
    }
    return out;
}

std::string http_raw(unsigned short port, const std::string& raw,
                     std::chrono::milliseconds timeout) {
    net::io_context ioc;
    beast::tcp_stream stream(ioc);
    std::string error;
    if (!connect(ioc, stream, port, timeout, error)) {
        return {};
    }
    std::string got;
    std::array<char, 4096> chunk{};
    // Reading starts with the write: a server may answer and close before it has read
    // everything (an oversized body), and the answer must not be lost to the failed write.
    std::function<void(boost::system::error_code, std::size_t)> on_read =
        [&](boost::system::error_code ec, std::size_t n) {
            got.append(chunk.data(), n);
            if (!ec) {
                stream.async_read_some(net::buffer(chunk), on_read);
            }
        };
    stream.async_read_some(net::buffer(chunk), on_read);
    net::async_write(stream, net::buffer(raw), [](boost::system::error_code, std::size_t) {});
    run_bounded(ioc, stream, timeout);
    return got;
}

} // namespace tpmbot::test
