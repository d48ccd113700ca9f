// Pooled, reference-counted buffer blocks: the memory every byte of socket input and
// output lives in. One BufPool per worker (non-atomic counts: one thread per process).
// A Block may head a singly linked chain (`next` is owned by the block before it), so
// one BufRef to the head keeps a whole framed message alive; the last reference to a
// block returns it to its pool's free list and drops its reference on `next`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "core/rc.h"

namespace strom {

class BufPool;

struct Block {
    Block* next;      // following block of the chain; owned (one reference)
    BufPool* pool;    // the pool the block returns to
    uint32_t refs;    // live BufRefs plus the `next` link of a previous block
    uint32_t start;   // first used byte in data()
    uint32_t end;     // one past the last used byte
    uint32_t cap;     // bytes available in data()

    uint8_t* data() { return reinterpret_cast<uint8_t*>(this + 1); }
    const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(this + 1); }
    uint8_t* begin() { return data() + start; }
    uint32_t size() const { return end - start; }
    uint32_t room() const { return cap - end; }     // free bytes after end
};

class BufPool {
public:
    static constexpr uint32_t kDefaultBlockSize = 16384;

    // block_size: usable bytes per block; max_blocks: hard cap on blocks in use.
    explicit BufPool(uint32_t block_size = kDefaultBlockSize, size_t max_blocks = 65536);
    ~BufPool();
    BufPool(const BufPool&) = delete;
    BufPool& operator=(const BufPool&) = delete;

    // A block with refs = 1, next = nullptr, start = end = headroom; nullptr when
    // max_blocks are in use (the caller treats it as a bounded-resource error).
    Block* alloc(uint32_t headroom = 0);
    void ref(Block* b) { ++b->refs; }
    void unref(Block* b);

    uint32_t block_size() const { return block_size_; }
    size_t outstanding() const { return outstanding_; }   // blocks not on the free list
    size_t max_blocks() const { return max_blocks_; }
    size_t cached() const { return free_count_; }         // blocks kept for reuse
    void set_max_blocks(size_t n) { max_blocks_ = n; }
    size_t alloc_failures() const { return failures_; }
    // Returns cached free blocks to the heap (after a burst, or at exit).
    void trim();

private:
    uint32_t block_size_;
    size_t max_blocks_;
    size_t outstanding_ = 0;
    size_t free_count_ = 0;
    size_t failures_ = 0;
    Block* free_ = nullptr;
};

// RAII reference to a block (and so to the chain it heads). Copy adds a reference,
// destruction drops one. Never pair ref/unref by hand.
class BufRef {
public:
    BufRef() = default;
    explicit BufRef(Block* adopt) : b_(adopt) {}   // takes over one existing reference
    // A new reference to a block someone else holds (a chain passed as `const Block*`).
    static BufRef share(const Block* b)
    {
        auto* m = const_cast<Block*>(b);
        if (m) ++m->refs;
        return BufRef(m);
    }
    BufRef(const BufRef& o) : b_(o.b_) { if (b_) ++b_->refs; }
    BufRef(BufRef&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
    BufRef& operator=(const BufRef& o)
    {
        Block* b = o.b_;   // o may be *this
        if (b) ++b->refs;
        reset();
        b_ = b;
        return *this;
    }
    BufRef& operator=(BufRef&& o) noexcept
    {
        if (this != &o) { reset(); b_ = std::exchange(o.b_, nullptr); }
        return *this;
    }
    ~BufRef() { reset(); }

    void reset()
    {
        if (b_) { Block* b = std::exchange(b_, nullptr); b->pool->unref(b); }
    }
    Block* get() const { return b_; }
    Block* operator->() const { return b_; }
    explicit operator bool() const { return b_ != nullptr; }
    Block* release() { return std::exchange(b_, nullptr); }

private:
    Block* b_ = nullptr;
};

// An append-only chain of blocks being filled by one writer (the chunk writer, an AMF
// encoder, a message being reassembled). take() hands the finished chain over as a
// BufRef; from then on its blocks are shared and must not change.
class Chain {
public:
    explicit Chain(BufPool& pool, uint32_t headroom = 0) : pool_(&pool), headroom_(headroom) {}

    // Copies n bytes, adding blocks as needed. Rc::error when the pool is exhausted
    // (what was appended so far stays; the caller usually clears).
    Rc append(const void* p, size_t n);
    // Contiguous writable space of exactly n bytes (n <= block size) at the tail,
    // starting a new block when the current one has less room; nullptr when the pool
    // is exhausted. Follow with commit(n) for the bytes actually written.
    uint8_t* reserve(uint32_t n);
    void commit(uint32_t n) { tail_->end += n; size_ += n; }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    Block* head() const { return head_.get(); }
    BufRef take();
    void clear();

private:
    Block* grow();

    BufPool* pool_;
    uint32_t headroom_;
    BufRef head_;
    Block* tail_ = nullptr;
    size_t size_ = 0;
};

// Copies `n` bytes starting `off` bytes into the chain headed by `b` into `out`;
// returns the bytes copied (fewer when the chain is shorter).
size_t chain_copy(const Block* b, size_t off, void* out, size_t n);
size_t chain_size(const Block* b);

}  // namespace strom
