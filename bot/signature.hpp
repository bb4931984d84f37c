#pragma once
/// Slack's request signing, for the HTTP events mode (slack-protocol §8.1): every request
/// Slack sends to a Request URL carries X-Slack-Request-Timestamp and X-Slack-Signature,
/// "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + raw body)).

#include "model.hpp"

#include <string>
#include <string_view>

namespace tpmbot::slack {

/// What a signature check found; only `valid` may be served.
enum class signature_check {
    valid,
    malformed, ///< no timestamp, or one that is not a whole number of seconds
    stale,     ///< the timestamp is more than `max_skew_s` from now (a replay, or a bad clock)
    version,   ///< the signature is not a "v0=" one
    mismatch,  ///< not signed with this secret over this timestamp and body
};

/// How far a request's timestamp may be from now, either way, in seconds (Slack's SDKs: 5
/// minutes).
inline constexpr unix_time max_skew_s = 300;

/// "v0=" + the lower-case hex HMAC-SHA256 of "v0:<timestamp>:<body>" under `signing_secret`.
std::string sign(std::string_view signing_secret, std::string_view timestamp,
                 std::string_view body);

/// Checks a request's signature headers against its raw body, at `now`. The comparison takes
/// the same time wherever the signatures differ.
signature_check verify(std::string_view signing_secret, std::string_view timestamp,
                       std::string_view body, std::string_view signature, unix_time now);

/// A short reason for the log ("stale timestamp", ...).
std::string_view describe(signature_check c);

} // namespace tpmbot::slack
