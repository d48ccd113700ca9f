// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), incremental and one-shot. Plain
// value types with no heap use: the caller owns them (usually on the stack, or inside a
// protocol state machine such as the RTMP handshake) and may reuse one after init().
// Not constant-time beyond what the algorithm gives; nothing here compares secrets.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/md_blocks.h"

namespace strom {

class Sha256 {
public:
    static constexpr size_t kDigestSize = 32;
    static constexpr size_t kBlockSize = 64;

    Sha256() { init(); }
    void init();
    void update(const void* p, size_t n);
    // Writes the 32-byte digest; the object must be init()-ed again before reuse.
    void final(uint8_t out[kDigestSize]);

    static void hash(const void* p, size_t n, uint8_t out[kDigestSize]);

private:
    void compress(const uint8_t* block);

    uint32_t h_[8];
    MdBlocks md_;   // FIPS 180-4 5.1.1 blocks and padding
};

class HmacSha256 {
public:
    static constexpr size_t kDigestSize = Sha256::kDigestSize;

    HmacSha256() = default;  // call init() before update()
    HmacSha256(const void* key, size_t key_len) { init(key, key_len); }
    // RFC 2104 section 2: keys longer than the block are hashed first.
    void init(const void* key, size_t key_len);
    void update(const void* p, size_t n) { inner_.update(p, n); }
    void final(uint8_t out[kDigestSize]);

    static void mac(const void* key, size_t key_len, const void* p, size_t n,
                    uint8_t out[kDigestSize]);

private:
    Sha256 inner_;
    Sha256 outer_;  // already fed with key ^ opad
};

}  // namespace strom
