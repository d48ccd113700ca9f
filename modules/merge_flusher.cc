#include "modules/merge_flusher.h"

#include "modules/live_stream.h"

namespace strom::mod {

void MergeFlusher::later(LivePlayer& p, uint64_t interval_ms, EventLoop& loop)
{
    if (p.merge_slot) return;  // already waiting for its interval's flush
    Interval* iv = nullptr;
    for (auto& i : intervals_) {
        if (i->ms == interval_ms && i->loop == &loop) iv = i.get();
    }
    if (!iv) {
        intervals_.push_back(std::make_unique<Interval>());
        iv = intervals_.back().get();
        iv->owner = this;
        iv->ms = interval_ms;
        iv->loop = &loop;
        iv->timer.fn = &MergeFlusher::on_timer;
        iv->timer.arg = iv;
    }
    iv->players.push_back(&p);
    ++iv->waiting;
    p.merge_slot = iv->players.size();  // index + 1
    p.merge_interval = iv;
    if (!iv->timer.armed()) loop.add_timer(iv->timer, interval_ms);
}

void MergeFlusher::cancel(LivePlayer& p)
{
    if (!p.merge_slot) return;
    auto* iv = static_cast<Interval*>(p.merge_interval);
    iv->players[p.merge_slot - 1] = nullptr;
    p.merge_slot = 0;
    p.merge_interval = nullptr;
    // The last one gone: no timer left armed (its loop may go away before the next use).
    if (--iv->waiting == 0 && iv->timer.armed()) {
        iv->loop->cancel_timer(iv->timer);
        iv->players.clear();
    }
}

size_t MergeFlusher::pending() const
{
    size_t n = 0;
    for (const auto& i : intervals_) {
        for (LivePlayer* p : i->players) n += p != nullptr;
    }
    return n;
}

void MergeFlusher::on_timer(Timer& t)
{
    auto* iv = static_cast<Interval*>(t.arg);
    // A flush may close a connection, whose player then cancels itself (its entry turns
    // null); the list is walked in place by index for that.
    for (size_t i = 0; i < iv->players.size(); ++i) {
        LivePlayer* p = iv->players[i];
        if (!p) continue;
        p->merge_slot = 0;
        p->merge_interval = nullptr;
        iv->players[i] = nullptr;
        --iv->waiting;
        p->conn().flush_now();
    }
    iv->players.clear();  // keeps its capacity
}

}  // namespace strom::mod
