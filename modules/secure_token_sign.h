// Signed URLs without a backend: a token is HMAC-SHA256(secret, app "\n" stream "\n"
// expires ["\n" client-ip]) in base64url without padding (RFC 4648 section 5), sent as
// `?expires=UNIX_TIME&token=TOKEN` after the stream name. The newline separator cannot
// occur in an app or stream name (the session rejects control characters), so no two
// (app, stream) pairs sign the same bytes. Pure functions: the module and strom-client's
// `token` subcommand share them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strom::mod {

// `addr` empty: the token is not bound to a client address.
std::string secure_token_make(std::string_view secret, std::string_view app,
                              std::string_view stream, uint64_t expires, std::string_view addr);

enum class TokenResult : uint8_t { ok, missing, malformed, expired, mismatch };
const char* token_result_text(TokenResult r);

// Checks `args` (the query string after the stream name) at unix time `now`. The token
// is compared in constant time: its length is public, its bytes are not.
TokenResult secure_token_check(std::string_view secret, std::string_view app,
                               std::string_view stream, std::string_view args, uint64_t now,
                               std::string_view addr);

// Equal contents, in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

// RFC 4648 section 5, no padding.
std::string base64url(const uint8_t* p, size_t n);

}  // namespace strom::mod
