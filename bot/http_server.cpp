#include "http_server.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <fmt/format.h>
#include <list>
#include <stdexcept>

namespace tpmbot {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {
constexpr auto nothrow = net::as_tuple(net::use_awaitable);

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}
} // namespace

std::string_view http_request::header(std::string_view name) const {
    auto want = lower(name);
    for (const auto& [k, v] : headers) {
        if (k == want) {
            return v;
        }
    }
    return {};
}

std::string_view http_request::path() const {
    std::string_view t = target;
    return t.substr(0, t.find('?'));
}

bool split_host_port(std::string_view text, std::string& host, std::string& port) {
    std::string_view h;
    std::string_view p;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos || close == 1 || close + 1 >= text.size() ||
            text[close + 1] != ':') {
            return false;
        }
        h = text.substr(1, close - 1);
        p = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            return false;
        }
        h = text.substr(0, colon);
        p = text.substr(colon + 1);
        if (h.find(':') != std::string_view::npos) {
            return false; // an IPv6 address needs brackets
        }
    }
    if (p.empty() || p.size() > 5 ||
        !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoul(std::string(p)) > 65535) {
        return false;
    }
    host = h.empty() ? "0.0.0.0" : std::string(h);
    port = std::string(p);
    return true;
}

struct http_server::impl : std::enable_shared_from_this<impl> {
    impl(net::any_io_executor e, handler h, http_server_limits l, logger lg)
        : ex(std::move(e)), acceptor(ex), on_request(std::move(h)), limits(l), log(std::move(lg)) {}

    net::any_io_executor ex;
    tcp::acceptor acceptor;
    handler on_request;
    http_server_limits limits;
    logger log;
    std::list<beast::tcp_stream*> streams; ///< open connections, closed by stop()
    bool stopped = false;

    net::awaitable<void> accept_loop(std::shared_ptr<impl> self) {
        while (!stopped) {
            auto [ec, socket] = co_await acceptor.async_accept(nothrow);
            if (ec) {
                if (stopped || ec == net::error::operation_aborted) {
                    break;
                }
                log.warn(fmt::format("tpmbot: {}: accept failed: {}", address(), ec.message()));
                continue;
            }
            if (streams.size() >= limits.max_connections) {
                boost::system::error_code ignored;
                socket.close(ignored);
                continue;
            }
            net::co_spawn(ex, serve(self, std::move(socket)), net::detached);
        }
    }

    template <class Body>
    net::awaitable<bool> send(beast::tcp_stream& stream, http::response<Body>& res) {
        stream.expires_after(limits.io_timeout);
        auto [ec, n] = co_await http::async_write(stream, res, nothrow);
        co_return !ec;
    }

    net::awaitable<void> refuse(beast::tcp_stream& stream, http::status status, unsigned version,
                                const char* text) {
        http::response<http::string_body> res{status, version};
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.set(http::field::connection, "close");
        res.body() = text;
        res.prepare_payload();
        co_await send(stream, res);
    }

    net::awaitable<void> serve(std::shared_ptr<impl> self, tcp::socket socket) {
        beast::tcp_stream stream(std::move(socket));
        auto pos = streams.insert(streams.end(), &stream);
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(limits.max_body);
            parser.header_limit(static_cast<std::uint32_t>(limits.max_header));
            stream.expires_after(limits.io_timeout);
            auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
            if (ec == http::error::body_limit) {
                co_await refuse(stream, http::status::payload_too_large, 11,
                                "request body too large\n");
                break;
            }
            if (ec == http::error::header_limit) {
                co_await refuse(stream, http::status::request_header_fields_too_large, 11,
                                "request headers too large\n");
                break;
            }
            if (ec) {
                if (ec != http::error::end_of_stream && ec != net::error::operation_aborted &&
                    ec != beast::error::timeout && ec != net::error::eof &&
                    ec != net::error::connection_reset) {
                    co_await refuse(stream, http::status::bad_request, 11, "bad request\n");
                }
                break;
            }
            auto& req = parser.get();
            http_request in;
            in.method = std::string(req.method_string());
            in.target = std::string(req.target());
            for (const auto& f : req) {
                in.headers.emplace_back(lower(f.name_string()), std::string(f.value()));
            }
            in.body = std::move(req.body());
            bool keep_alive = req.keep_alive();
            unsigned version = req.version();
            http_answer a;
            try {
                a = co_await on_request(std::move(in));
            } catch (const std::exception& e) {
                log.error(fmt::format("tpmbot: {}: a request failed: {}", address(), e.what()));
                a = http_answer{500, "text/plain; charset=utf-8", "internal error\n", {}};
            }
            if (stopped) {
                break;
            }
            http::response<http::string_body> res{static_cast<http::status>(a.status), version};
            res.set(http::field::content_type, a.content_type);
            res.set(http::field::server, "tpmbot");
            for (const auto& [k, v] : a.headers) {
                res.set(k, v);
            }
            res.keep_alive(keep_alive);
            res.body() = std::move(a.body);
            res.prepare_payload();
            if (!co_await send(stream, res) || !keep_alive) {
                break;
            }
        }
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.close();
        streams.erase(pos);
        (void)self;
    }

    std::string address() const {
        boost::system::error_code ec;
        auto ep = acceptor.local_endpoint(ec);
        if (ec) {
            return "?";
        }
        auto a = ep.address();
        return a.is_v6() ? fmt::format("[{}]:{}", a.to_string(), ep.port())
                         : fmt::format("{}:{}", a.to_string(), ep.port());
    }
};

http_server::http_server(net::any_io_executor ex, const std::string& host, const std::string& port,
                         handler h, http_server_limits limits, logger log)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(h), limits, std::move(log))) {
    auto where = fmt::format("{}:{}", host, port);
    try {
        tcp::resolver resolver(impl_->ex);
        auto results = resolver.resolve(host, port, tcp::resolver::passive);
        if (results.empty()) {
            throw std::runtime_error("no such address");
        }
        tcp::endpoint ep = *results.begin();
        impl_->acceptor.open(ep.protocol());
        impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
        impl_->acceptor.bind(ep);
        impl_->acceptor.listen();
    } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("cannot listen on {}: {}", where, e.what()));
    }
}

http_server::~http_server() {
    stop();
}

unsigned short http_server::port() const {
    boost::system::error_code ec;
    auto ep = impl_->acceptor.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

std::string http_server::address() const {
    return impl_->address();
}

void http_server::start() {
    net::co_spawn(impl_->ex, impl_->accept_loop(impl_), net::detached);
}

void http_server::stop_accepting() {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
}

void http_server::stop() {
    if (impl_->stopped) {
        return;
    }
    impl_->stopped = true;
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto* s : impl_->streams) {
        s->socket().close(ignored);
    }
}

} // namespace tpmbot
