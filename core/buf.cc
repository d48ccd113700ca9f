#include "core/buf.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace strom {

BufPool::BufPool(uint32_t block_size, size_t max_blocks)
    : block_size_(block_size), max_blocks_(max_blocks)
{
}

BufPool::~BufPool() { trim(); }

Block* BufPool::alloc(uint32_t headroom)
{
    if (outstanding_ >= max_blocks_ || headroom > block_size_) {
        ++failures_;
        return nullptr;
    }
    Block* b = free_;
    if (b) {
        free_ = b->next;
        --free_count_;
    } else {
        void* mem = std::malloc(sizeof(Block) + block_size_);
        if (!mem) std::abort();   // out of heap: abort, as CONVENTIONS.md says
        b = static_cast<Block*>(mem);
    }
    b->next = nullptr;
    b->pool = this;
    b->refs = 1;
    b->start = b->end = headroom;
    b->cap = block_size_;
    ++outstanding_;
    return b;
}

void BufPool::unref(Block* b)
{
    // Iterative so that dropping a long chain does not recurse once per block.
    while (b && --b->refs == 0) {
        Block* next = b->next;
        BufPool* p = b->pool;
        b->next = p->free_;
        p->free_ = b;
        ++p->free_count_;
        --p->outstanding_;
        b = next;
    }
}

void BufPool::trim()
{
    while (free_) {
        Block* b = free_;
        free_ = b->next;
        std::free(b);
    }
    free_count_ = 0;
}

Block* Chain::grow()
{
    Block* b = pool_->alloc(headroom_);
    if (!b) return nullptr;
    if (tail_) {
        tail_->next = b;   // the previous block now owns this reference
    } else {
        head_ = BufRef(b);
    }
    tail_ = b;
    return b;
}

Rc Chain::append(const void* p, size_t n)
{
    auto* src = static_cast<const uint8_t*>(p);
    while (n > 0) {
        if (!tail_ || tail_->room() == 0) {
            if (!grow()) return Rc::error;
        }
        uint32_t k = tail_->room() < n ? tail_->room() : uint32_t(n);
        std::memcpy(tail_->data() + tail_->end, src, k);
        tail_->end += k;
        size_ += k;
        src += k;
        n -= k;
    }
    return Rc::ok;
}

uint8_t* Chain::reserve(uint32_t n)
{
    if (n > pool_->block_size() - headroom_) return nullptr;
    if (!tail_ || tail_->room() < n) {
        if (!grow()) return nullptr;
    }
    return tail_->data() + tail_->end;
}

BufRef Chain::take()
{
    tail_ = nullptr;
    size_ = 0;
    return std::move(head_);
}

void Chain::clear()
{
    head_.reset();
    tail_ = nullptr;
    size_ = 0;
}

size_t chain_copy(const Block* b, size_t off, void* out, size_t n)
{
    auto* dst = static_cast<uint8_t*>(out);
    size_t copied = 0;
    for (; b && n > 0; b = b->next) {
        size_t len = b->size();
        if (off >= len) {
            off -= len;
            continue;
        }
        size_t k = len - off < n ? len - off : n;
        std::memcpy(dst + copied, b->data() + b->start + off, k);
        copied += k;
        n -= k;
        off = 0;
    }
    return copied;
}

size_t chain_size(const Block* b)
{
    size_t n = 0;
    for (; b; b = b->next) n += b->size();
    return n;
}

}  // namespace strom
