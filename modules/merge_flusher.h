// send_merge: players whose writes wait for the next flush of their interval. One timer
// and one list per interval for the whole worker, not a heap timer per player: at 10k
// players and 20 ms that is 50 timer operations a second instead of 500k. A player is
// flushed at most one interval after its first queued message, as with a timer of its own.
// Owned by the live module (one per worker process); players leave it before they die.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/event_loop.h"
#include "core/timer.h"

namespace strom::mod {

class LivePlayer;

class MergeFlusher {
public:
    // Flushes p's connection within `interval_ms` (once, however often it is asked).
    void later(LivePlayer& p, uint64_t interval_ms, EventLoop& loop);
    // p leaves (it dies, or its connection closes): never flushed after this.
    void cancel(LivePlayer& p);
    size_t pending() const;

private:
    struct Interval {
        MergeFlusher* owner = nullptr;
        uint64_t ms = 0;
        EventLoop* loop = nullptr;
        Timer timer;
        std::vector<LivePlayer*> players;  // null: left since it was added
        size_t waiting = 0;                // non-null entries; the timer runs while > 0
    };
    static void on_timer(Timer& t);

    std::vector<std::unique_ptr<Interval>> intervals_;  // few: one per distinct send_merge
};

}  // namespace strom::mod
