#include "signature.hpp"

#include <charconv>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdexcept>

namespace tpmbot::slack {

std::string sign(std::string_view signing_secret, std::string_view timestamp,
                 std::string_view body) {
    std::string base;
    base.reserve(4 + timestamp.size() + body.size());
    base.append("v0:").append(timestamp).append(":").append(body);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), signing_secret.data(), static_cast<int>(signing_secret.size()),
             reinterpret_cast<const unsigned char*>(base.data()), base.size(), mac,
             &len) == nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out = "v0=";
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[mac[i] >> 4];
        out += hex[mac[i] & 0x0f];
    }
    return out;
}

signature_check verify(std::string_view signing_secret, std::string_view timestamp,
                       std::string_view body, std::string_view signature, unix_time now) {
    unix_time ts = 0;
    auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
    if (timestamp.empty() || ec != std::errc() || end != timestamp.data() + timestamp.size() ||
        ts < 0) {
        return signature_check::malformed;
    }
    if (now - ts > max_skew_s || ts - now > max_skew_s) {
        return signature_check::stale;
    }
    if (!signature.starts_with("v0=")) {
        return signature_check::version;
    }
    auto expected = sign(signing_secret, timestamp, body);
    if (signature.size() != expected.size() ||
        CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
        return signature_check::mismatch;
    }
    return signature_check::valid;
}

std::string_view describe(signature_check c) {
    switch (c) {
    case signature_check::valid:
        return "valid";
    case signature_check::malformed:
        return "no usable X-Slack-Request-Timestamp";
    case signature_check::stale:
        return "X-Slack-Request-Timestamp more than 5 minutes from now";
    case signature_check::version:
        return "X-Slack-Signature is not a v0 signature";
    case signature_check::mismatch:
        return "X-Slack-Signature does not match the body";
    }
    return "unknown";
}

} // namespace tpmbot::slack
