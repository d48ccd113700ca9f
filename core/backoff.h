// The delay before the next attempt of something that keeps failing (a respawned
// program, a static pull): starts at `start`, doubles after each failure up to `max`,
// and goes back to `start` once an attempt has succeeded. Pure state, embedded in its
// owner next to the owner's Timer; the owner decides what counts as success.
#pragma once

#include <cstdint>

namespace strom {

class Backoff {
public:
    constexpr Backoff(uint64_t start_ms, uint64_t max_ms)
        : start_(start_ms ? start_ms : 1), max_(max_ms < start_ ? start_ : max_ms), next_(start_)
    {
    }

    // The delay to wait now; the one after it is doubled (up to max).
    uint64_t next()
    {
        uint64_t d = next_;
        next_ = next_ >= max_ / 2 ? max_ : next_ * 2;
        return d;
    }
    // What next() would return, without moving on.
    uint64_t peek() const { return next_; }
    void reset() { next_ = start_; }

    uint64_t start() const { return start_; }
    uint64_t max() const { return max_; }

private:
    uint64_t start_;
    uint64_t max_;
    uint64_t next_;
};

}  // namespace strom
