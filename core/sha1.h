// SHA-1 (FIPS 180-4), incremental and one-shot, for the WebSocket opening handshake
// (RFC 6455 4.2.2 Sec-WebSocket-Accept) and nothing that needs collision resistance.
// A plain value type with no heap use, owned by the caller (usually on the stack) and
// reusable after init().
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/md_blocks.h"

namespace strom {

class Sha1 {
public:
    static constexpr size_t kDigestSize = 20;
    static constexpr size_t kBlockSize = 64;

    Sha1() { init(); }
    void init();
    void update(const void* p, size_t n);
    // Writes the 20-byte digest; the object must be init()-ed again before reuse.
    void final(uint8_t out[kDigestSize]);

private:
    void compress(const uint8_t* block);

    uint32_t h_[5];
    MdBlocks md_;   // FIPS 180-4 5.1.1 blocks and padding
};

// One-shot digest of n bytes at p.
void sha1(const void* p, size_t n, uint8_t out[Sha1::kDigestSize]);

}  // namespace strom
