#include "core/out_queue.h"

namespace strom {

void OutQueue::configure(uint32_t capacity, size_t max_bytes)
{
    if (capacity == 0) capacity = 1;
    if (count_ == 0) {
        ring_.reset();
        ring_size_ = 0;
        head_ = 0;
    }
    if (capacity >= count_) capacity_ = capacity;
    max_bytes_ = max_bytes;
}

bool OutQueue::grow()
{
    uint32_t size = ring_size_ ? ring_size_ * 2 : kInitialRing;
    if (size > capacity_) size = capacity_;
    if (size <= ring_size_) return false;
    std::unique_ptr<Entry[]> ring(new Entry[size]);
    for (uint32_t i = 0; i < count_; ++i) ring[i] = std::move(ring_[(head_ + i) % ring_size_]);
    ring_ = std::move(ring);
    ring_size_ = size;
    head_ = 0;
    return true;
}

bool OutQueue::push(BufRef msg, uint8_t tag)
{
    size_t len = chain_size(msg.get());
    return push(std::move(msg), len, tag);
}

bool OutQueue::push(BufRef msg, size_t len, uint8_t tag)
{
    if (full() || len == 0) return len == 0;
    if (count_ == ring_size_ && !grow()) return false;
    Entry& e = ring_[(head_ + count_) % ring_size_];
    e.msg = std::move(msg);
    e.len = uint32_t(len);
    e.tag = tag;
    ++count_;
    bytes_ += len;
    return true;
}

uint8_t OutQueue::back_tag() const
{
    return count_ ? ring_[(head_ + count_ - 1) % ring_size_].tag : 0;
}

int OutQueue::gather(iovec* iov, int max, size_t max_bytes) const
{
    int n = 0;
    size_t total = 0;
    size_t skip = front_off_;
    for (uint32_t i = 0; i < count_ && n < max && total < max_bytes; ++i) {
        const Entry& e = ring_[(head_ + i) % ring_size_];
        for (Block* b = e.msg.get(); b && n < max && total < max_bytes; b = b->next) {
            size_t len = b->size();
            if (skip >= len) {
                skip -= len;
                continue;
            }
            iov[n].iov_base = b->data() + b->start + skip;
            iov[n].iov_len = len - skip;
            total += len - skip;
            skip = 0;
            ++n;
        }
    }
    return n;
}

void OutQueue::advance(size_t n)
{
    while (n > 0 && count_ > 0) {
        Entry& e = ring_[head_];
        size_t left = e.len - front_off_;
        if (n < left) {
            front_off_ += n;
            return;
        }
        n -= left;
        bytes_ -= e.len;
        e.msg.reset();
        front_off_ = 0;
        head_ = (head_ + 1) % ring_size_;
        --count_;
    }
}

void OutQueue::clear()
{
    while (count_ > 0) {
        ring_[head_].msg.reset();
        head_ = (head_ + 1) % ring_size_;
        --count_;
    }
    bytes_ = 0;
    front_off_ = 0;
    head_ = 0;
}

}  // namespace strom
