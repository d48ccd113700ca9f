#include "modules/secure_token_sign.h"

#include "core/http_parser.h"
#include "core/sha256.h"

namespace strom::mod {

namespace {
// Unix times have 10 digits until 2286; 20 digits hold any uint64.
constexpr size_t kMaxExpiresDigits = 20;
constexpr size_t kTokenChars = 43;  // 32 bytes in base64url without padding
}  // namespace

std::string base64url(const uint8_t* p, size_t n)
{
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((n * 4 + 2) / 3);
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8 | p[i + 2];
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = uint32_t(p[i]) << 16;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
    }
    return out;
}

std::string secure_token_make(std::string_view secret, std::string_view app,
                              std::string_view stream, uint64_t expires, std::string_view addr)
{
    std::string msg;
    msg.reserve(app.size() + stream.size() + addr.size() + 24);
    msg.append(app).append("\n").append(stream).append("\n").append(std::to_string(expires));
    if (!addr.empty()) msg.append("\n").append(addr);
    uint8_t mac[HmacSha256::kDigestSize];
    HmacSha256::mac(secret.data(), secret.size(), msg.data(), msg.size(), mac);
    return base64url(mac, sizeof(mac));
}

bool constant_time_equal(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) return false;
    volatile uint8_t diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff = diff | uint8_t(a[i] ^ b[i]);
    return diff == 0;
}

const char* token_result_text(TokenResult r)
{
    switch (r) {
        case TokenResult::ok:
            return "valid token";
        case TokenResult::missing:
            return "no token";
        case TokenResult::malformed:
            return "malformed token";
        case TokenResult::expired:
            return "expired token";
        case TokenResult::mismatch:
            return "wrong token";
    }
    return "?";
}

TokenResult secure_token_check(std::string_view secret, std::string_view app,
                               std::string_view stream, std::string_view args, uint64_t now,
                               std::string_view addr)
{
    std::string_view exp_text, token;
    bool has_exp = query_arg(args, "expires", &exp_text);
    bool has_token = query_arg(args, "token", &token);
    if (!has_exp && !has_token) return TokenResult::missing;
    if (!has_exp || !has_token) return TokenResult::malformed;
    if (exp_text.empty() || exp_text.size() > kMaxExpiresDigits || token.size() != kTokenChars) {
        return TokenResult::malformed;
    }
    uint64_t expires = 0;
    for (char ch : exp_text) {
        if (ch < '0' || ch > '9') return TokenResult::malformed;
        uint64_t d = uint64_t(ch - '0');
        if (expires > (UINT64_MAX - d) / 10) return TokenResult::malformed;
        expires = expires * 10 + d;
    }
    // The MAC is checked before the expiry so a forged URL learns nothing about time.
    std::string want = secure_token_make(secret, app, stream, expires, addr);
    if (!constant_time_equal(want, token)) return TokenResult::mismatch;
    if (now > expires) return TokenResult::expired;
    return TokenResult::ok;
}

}  // namespace strom::mod
