#include "core/base64.h"

namespace strom {

namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 256-entry reverse table of an alphabet: the 6-bit value, or -1.
struct Reverse {
    int8_t v[256];
    constexpr explicit Reverse(const char* alphabet) : v()
    {
        for (int i = 0; i < 256; ++i) v[i] = -1;
        for (int i = 0; i < 64; ++i) v[uint8_t(alphabet[i])] = int8_t(i);
    }
};
constexpr Reverse kStdRev(kStd);
constexpr Reverse kUrlRev(kUrl);

void encode(const uint8_t* p, size_t n, const char* alphabet, bool pad, std::string* out)
{
    out->reserve(out->size() + base64_encoded_size(n));
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8 | p[i + 2];
        *out += alphabet[v >> 18];
        *out += alphabet[(v >> 12) & 63];
        *out += alphabet[(v >> 6) & 63];
        *out += alphabet[v & 63];
    }
    size_t rest = n - i;
    if (rest == 0) return;
    uint32_t v = uint32_t(p[i]) << 16 | (rest == 2 ? uint32_t(p[i + 1]) << 8 : 0);
    *out += alphabet[v >> 18];
    *out += alphabet[(v >> 12) & 63];
    if (rest == 2) *out += alphabet[(v >> 6) & 63];
    if (pad) out->append(3 - rest, '=');
}

// Decodes an unpadded text (length not 1 mod 4); refuses leftover bits that are not zero.
bool decode(std::string_view in, const Reverse& rev, std::string* out)
{
    if (in.size() % 4 == 1) return false;
    size_t start = out->size();
    out->reserve(start + in.size() / 4 * 3 + 2);
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        int8_t d = rev.v[uint8_t(c)];
        if (d < 0) {
            out->resize(start);
            return false;
        }
        acc = acc << 6 | uint32_t(d);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *out += char(uint8_t(acc >> bits));
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) {  // RFC 4648 3.5: pad bits must be zero for a canonical encoding
        out->resize(start);
        return false;
    }
    return true;
}

}  // namespace

void base64_encode(const void* p, size_t n, std::string* out)
{
    encode(static_cast<const uint8_t*>(p), n, kStd, true, out);
}

void base64url_encode(const void* p, size_t n, std::string* out)
{
    encode(static_cast<const uint8_t*>(p), n, kUrl, false, out);
}

std::string base64_encode(std::string_view s)
{
    std::string out;
    base64_encode(s.data(), s.size(), &out);
    return out;
}

std::string base64url_encode(std::string_view s)
{
    std::string out;
    base64url_encode(s.data(), s.size(), &out);
    return out;
}

bool base64_decode(std::string_view in, std::string* out)
{
    if (in.size() % 4 != 0) return false;
    size_t pad = 0;
    if (!in.empty() && in.back() == '=') ++pad;
    if (in.size() >= 2 && in[in.size() - 2] == '=') {
        if (pad == 0) return false;  // "xx=x"
        ++pad;
    }
    // Any other '=' is outside the alphabet and refused by decode().
    return decode(in.substr(0, in.size() - pad), kStdRev, out);
}

bool base64url_decode(std::string_view in, std::string* out)
{
    return decode(in, kUrlRev, out);
}

}  // namespace strom
