#include "core/timer.h"

namespace strom {

void TimerHeap::add(Timer& t, uint64_t deadline)
{
    t.deadline = deadline;
    if (t.armed()) {
        if (deadline >= t.key) return;   // lazy: fixed up when it reaches the top
        t.key = deadline;
        sift_up(t.index);
        return;
    }
    t.key = deadline;
    heap_.push_back(&t);
    t.index = heap_.size() - 1;
    sift_up(t.index);
}

void TimerHeap::cancel(Timer& t)
{
    if (t.armed()) remove_at(t.index);
}

int TimerHeap::next_timeout(uint64_t now) const
{
    if (heap_.empty()) return -1;
    uint64_t k = heap_[0]->key;
    if (k <= now) return 0;
    uint64_t d = k - now;
    return d > 0x7fffffff ? 0x7fffffff : int(d);
}

void TimerHeap::expire(uint64_t now)
{
    while (!heap_.empty() && heap_[0]->key <= now) {
        Timer* t = heap_[0];
        if (t->deadline > now) {   // re-armed later: move it to its real place
            t->key = t->deadline;
            sift_down(0);
            continue;
        }
        remove_at(0);
        t->fn(*t);
    }
}

void TimerHeap::sift_up(size_t i)
{
    Timer* t = heap_[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap_[parent]->key <= t->key) break;
        place(i, heap_[parent]);
        i = parent;
    }
    place(i, t);
}

void TimerHeap::sift_down(size_t i)
{
    Timer* t = heap_[i];
    size_t n = heap_.size();
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && heap_[c + 1]->key < heap_[c]->key) ++c;
        if (t->key <= heap_[c]->key) break;
        place(i, heap_[c]);
        i = c;
    }
    place(i, t);
}

void TimerHeap::remove_at(size_t i)
{
    Timer* t = heap_[i];
    Timer* last = heap_.back();
    heap_.pop_back();
    t->index = Timer::kNotArmed;
    if (last == t) return;
    place(i, last);
    if (i > 0 && heap_[(i - 1) / 2]->key > last->key) {
        sift_up(i);
    } else {
        sift_down(i);
    }
}

}  // namespace strom
