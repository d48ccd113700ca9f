// A connection's bounded queue of outgoing messages: a ring of references to framed,
// shared block chains (never copies), flushed with writev of many entries at once.
// The ring is sized once (out_queue messages) and also bounded in bytes; what to do
// when it is full (drop, close) is the protocol's decision, not the queue's.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/buf.h"

namespace strom {

class OutQueue {
public:
    OutQueue() = default;
    // capacity entries, max_bytes of queued data; allocates the ring lazily on first push.
    void configure(uint32_t capacity, size_t max_bytes);

    // Queues one message: the chain headed by `msg`, `len` bytes in all. False when the
    // ring or the byte budget is full (nothing queued).
    bool push(BufRef msg, uint8_t tag = 0);
    bool push(BufRef msg, size_t len, uint8_t tag);
    bool full() const { return count_ == capacity_ || bytes_ >= max_bytes_; }
    bool empty() const { return count_ == 0; }
    uint32_t count() const { return count_; }
    uint32_t capacity() const { return capacity_; }
    size_t bytes() const { return bytes_; }
    size_t max_bytes() const { return max_bytes_; }
    uint8_t back_tag() const;

    // Fills iov with up to max pieces of the queued data (the front entry from its
    // partial offset); returns the number of iovecs.
    int gather(iovec* iov, int max, size_t max_bytes) const;
    // Drops n written bytes from the front, releasing finished entries.
    void advance(size_t n);
    void clear();

private:
    struct Entry {
        BufRef msg;
        uint32_t len;
        uint8_t tag;
    };
    bool grow();

    // The ring starts small and doubles up to capacity_: an idle connection keeps a few
    // hundred bytes, a busy player reaches its full out_queue once.
    static constexpr uint32_t kInitialRing = 16;
    std::unique_ptr<Entry[]> ring_;
    uint32_t ring_size_ = 0;
    uint32_t capacity_ = 256;
    uint32_t head_ = 0;
    uint32_t count_ = 0;
    size_t max_bytes_ = size_t(16) << 20;
    size_t bytes_ = 0;
    size_t front_off_ = 0;   // bytes of the front entry already written
};

}  // namespace strom
