#pragma once
/// TCP_NODELAY for the transports' sockets (included only where Beast already is).

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace tpmbot {

/// Sends small writes at once. Without it, an ack or a request written while the peer has not
/// yet acknowledged the previous write waits for that acknowledgement, which the peer may
/// delay (up to 40 ms on Linux): an ack would wait for the next frame Slack sends.
inline void no_delay(boost::beast::tcp_stream& s) {
    boost::system::error_code ec; // a socket that refuses it still works, only slower
    s.socket().set_option(boost::asio::ip::tcp::no_delay(true), ec);
}

} // namespace tpmbot
