#include "core/sha1.h"

#include <cstring>

#include "core/bytes.h"

namespace strom {

namespace {

inline uint32_t rotl(uint32_t x, int n)
{
    return x << n | x >> (32 - n);
}

}  // namespace

void Sha1::init()
{
    // FIPS 180-4 5.3.1
    h_[0] = 0x67452301;
    h_[1] = 0xefcdab89;
    h_[2] = 0x98badcfe;
    h_[3] = 0x10325476;
    h_[4] = 0xc3d2e1f0;
    md_.reset();
}

// FIPS 180-4 6.1.2: an 80-word schedule and four rounds of 20 steps, each with its own
// function (Ch, Parity, Maj, Parity) and constant (4.2.1).
void Sha1::compress(const uint8_t* block)
{
    uint32_t w[80];
    for (int t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
    for (int t = 0; t < 80; ++t) {
        uint32_t f, k;
        if (t < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999;
        } else if (t < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1;
        } else if (t < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdc;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6;
        }
        uint32_t tmp = rotl(a, 5) + f + e + k + w[t];
        e = d;
        d = c;
        c = rotl(b, 30);
        b = a;
        a = tmp;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
}

void Sha1::update(const void* data, size_t n)
{
    md_.update(data, n, [this](const uint8_t* b) { compress(b); });
}

// FIPS 180-4 5.1.1: 0x80, zeros up to 56 mod 64, then the length in bits (64-bit BE).
void Sha1::final(uint8_t out[kDigestSize])
{
    md_.finish([this](const uint8_t* b) { compress(b); });
    for (int i = 0; i < 5; ++i) store_be32(out + 4 * i, h_[i]);
}

void sha1(const void* p, size_t n, uint8_t out[Sha1::kDigestSize])
{
    Sha1 s;
    s.update(p, n);
    s.final(out);
}

}  // namespace strom
