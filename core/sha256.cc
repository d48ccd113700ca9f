#include "core/sha256.h"

#include <cstring>

#include "core/bytes.h"

namespace strom {

namespace {

// FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

inline uint32_t rotr(uint32_t x, int n)
{
    return x >> n | x << (32 - n);
}

}  // namespace

void Sha256::init()
{
    // FIPS 180-4 5.3.3: fractional parts of the square roots of the first 8 primes.
    static constexpr uint32_t kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                          0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::memcpy(h_, kInit, sizeof(h_));
    md_.reset();
}

// FIPS 180-4 6.2.2: message schedule and 64 rounds over one 512-bit block.
void Sha256::compress(const uint8_t* block)
{
    uint32_t w[64];
    for (int t = 0; t < 16; ++t) w[t] = load_be32(block + 4 * t);
    for (int t = 16; t < 64; ++t) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3];
    uint32_t e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int t = 0; t < 64; ++t) {
        uint32_t big_s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + big_s1 + ch + kRound[t] + w[t];
        uint32_t big_s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = big_s0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += b;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += h;
}

void Sha256::update(const void* data, size_t n)
{
    md_.update(data, n, [this](const uint8_t* b) { compress(b); });
}

// FIPS 180-4 5.1.1: append 0x80, zeros up to 56 mod 64, then the bit length (64-bit BE).
void Sha256::final(uint8_t out[kDigestSize])
{
    md_.finish([this](const uint8_t* b) { compress(b); });
    for (int i = 0; i < 8; ++i) store_be32(out + 4 * i, h_[i]);
}

void Sha256::hash(const void* p, size_t n, uint8_t out[kDigestSize])
{
    Sha256 s;
    s.update(p, n);
    s.final(out);
}

void HmacSha256::init(const void* key, size_t key_len)
{
    uint8_t k[Sha256::kBlockSize] = {};
    if (key_len > Sha256::kBlockSize) {
        Sha256::hash(key, key_len, k);
    } else if (key_len > 0) {
        std::memcpy(k, key, key_len);
    }
    uint8_t pad[Sha256::kBlockSize];
    for (size_t i = 0; i < sizeof(pad); ++i) pad[i] = k[i] ^ 0x36;  // RFC 2104: ipad
    inner_.init();
    inner_.update(pad, sizeof(pad));
    for (size_t i = 0; i < sizeof(pad); ++i) pad[i] = k[i] ^ 0x5c;  // opad
    outer_.init();
    outer_.update(pad, sizeof(pad));
}

void HmacSha256::final(uint8_t out[kDigestSize])
{
    uint8_t inner[kDigestSize];
    inner_.final(inner);
    outer_.update(inner, sizeof(inner));
    outer_.final(out);
}

void HmacSha256::mac(const void* key, size_t key_len, const void* p, size_t n,
                     uint8_t out[kDigestSize])
{
    HmacSha256 h(key, key_len);
    h.update(p, n);
    h.final(out);
}

}  // namespace strom
