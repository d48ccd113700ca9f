// Timers embedded in their owners (no std::function): a Timer names a plain callback
// and its argument. TimerHeap is a binary min-heap with lazy re-arm: moving a timer
// later only rewrites its deadline and the heap fixes its place when it surfaces, so
// re-arming on every packet costs nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace strom {

struct Timer {
    using Callback = void (*)(Timer&);
    Callback fn = nullptr;
    void* arg = nullptr;          // the owner, for the callback
    uint64_t deadline = 0;        // the real deadline (ms, monotonic)
    uint64_t key = 0;             // the deadline the heap orders by (<= deadline)
    size_t index = kNotArmed;     // position in the heap

    static constexpr size_t kNotArmed = SIZE_MAX;
    bool armed() const { return index != kNotArmed; }
};

class TimerHeap {
public:
    // Arms (or re-arms) t to fire at `deadline`.
    void add(Timer& t, uint64_t deadline);
    void cancel(Timer& t);
    // Milliseconds until the earliest key, or -1 when empty (for epoll_wait).
    int next_timeout(uint64_t now) const;
    // Fires every timer whose deadline is <= now. A callback may add or cancel any timer.
    void expire(uint64_t now);
    size_t size() const { return heap_.size(); }

private:
    void sift_up(size_t i);
    void sift_down(size_t i);
    void remove_at(size_t i);
    void place(size_t i, Timer* t) { heap_[i] = t; t->index = i; }

    std::vector<Timer*> heap_;
};

}  // namespace strom
