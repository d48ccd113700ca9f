// The message framing SHA-1 and SHA-256 share (FIPS 180-4 5.1.1): input gathered into
// 64-byte blocks for the hash's compression function, then 0x80, zeros up to 56 mod 64
// and the message length in bits (64-bit big-endian). A member of each hash object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/bytes.h"

namespace strom {

struct MdBlocks {
    static constexpr size_t kBlockSize = 64;

    void reset()
    {
        bytes = 0;
        used = 0;
    }
    // Feeds n bytes; compress(const uint8_t* block) runs for every complete block.
    template <class F>
    void update(const void* data, size_t n, F&& compress)
    {
        const uint8_t* p = static_cast<const uint8_t*>(data);
        bytes += n;
        if (used > 0) {
            size_t take = kBlockSize - used < n ? kBlockSize - used : n;
            std::memcpy(block + used, p, take);
            used += take;
            p += take;
            n -= take;
            if (used < kBlockSize) return;
            compress(block);
            used = 0;
        }
        for (; n >= kBlockSize; p += kBlockSize, n -= kBlockSize) compress(p);
        if (n > 0) {
            std::memcpy(block, p, n);
            used = n;
        }
    }
    // The padding and the length, compressed; the caller then writes out its state.
    template <class F>
    void finish(F&& compress)
    {
        uint64_t bits = bytes * 8;
        block[used++] = 0x80;
        if (used > kBlockSize - 8) {
            std::memset(block + used, 0, kBlockSize - used);
            compress(block);
            used = 0;
        }
        std::memset(block + used, 0, kBlockSize - 8 - used);
        store_be64(block + kBlockSize - 8, bits);
        compress(block);
        used = 0;
    }

    uint64_t bytes = 0;         // message length so far
    uint8_t block[kBlockSize];  // partial block not yet compressed
    size_t used = 0;            // bytes in block
};

}  // namespace strom
