#pragma once
/// Asio aliases for the transports. Only the light Asio headers here; Beast stays in .cpp files.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace boost::asio::ssl {
class context;
}

namespace tpmbot {
namespace net = boost::asio;
} // namespace tpmbot
