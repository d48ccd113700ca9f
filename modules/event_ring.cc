#include "modules/event_ring.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

#include "modules/stats_board.h"

namespace strom::mod {

EventRing* EventRing::create()
{
    void* p =
        mmap(nullptr, sizeof(EventRing), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) abort();       // at start-up only
    return static_cast<EventRing*>(p);  // zero-filled: no ids taken, every seq even
}

EventRing* EventRing::get()
{
    static EventRing* ring = create();
    return ring;
}

uint64_t EventRing::begin_append(const ActivityEvent& e)
{
    uint64_t id = __atomic_add_fetch(&next_id_, 1, __ATOMIC_ACQ_REL);
    Entry& s = entries_[id % kEntries];
    // A writer that died mid-write left seq odd; start from the even value after it. Two
    // writers meet on one entry only kEntries appends apart; the reader's id check then
    // rejects whatever mix they leave.
    uint32_t q = __atomic_load_n(&s.seq, __ATOMIC_RELAXED);
    if (q & 1) ++q;
    __atomic_store_n(&s.seq, q + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(static_cast<void*>(&s.ev), &e, sizeof e);
    s.ev.id = id;
    if (s.ev.time_ms == 0) s.ev.time_ms = unix_ms();
    return id;
}

void EventRing::end_append(uint64_t id)
{
    Entry& s = entries_[id % kEntries];
    __atomic_store_n(&s.seq, __atomic_load_n(&s.seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

uint64_t EventRing::append(const ActivityEvent& e)
{
    uint64_t id = begin_append(e);
    end_append(id);
    return id;
}

uint64_t EventRing::last_id() const
{
    return __atomic_load_n(&next_id_, __ATOMIC_ACQUIRE);
}

EventRing::Got EventRing::read_entry(uint64_t id, ActivityEvent* out) const
{
    const Entry& s = entries_[id % kEntries];
    // A copy takes nanoseconds: a writer still inside it after this many tries died or
    // was preempted.
    for (int tries = 0; tries < 1000; ++tries) {
        uint32_t a = __atomic_load_n(&s.seq, __ATOMIC_ACQUIRE);
        if (a & 1) continue;
        memcpy(static_cast<void*>(out), &s.ev, sizeof *out);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&s.seq, __ATOMIC_RELAXED) != a) continue;
        if (out->id == id) return Got::ok;
        return out->id > id ? Got::overwritten : Got::pending;  // older: not written yet
    }
    return Got::pending;
}

bool EventRing::stuck(uint64_t id, uint64_t last) const
{
    // An entry still unwritten while a later one is over kStuckMs old: its writer died
    // (or will never finish in time); readers go past it. Otherwise they wait for it,
    // so an append in flight in another worker is not skipped.
    ActivityEvent ev;
    int64_t now = unix_ms();
    for (uint64_t later = id + 1; later <= last; ++later) {
        if (read_entry(later, &ev) == Got::ok) return now - ev.time_ms > kStuckMs;
    }
    return false;
}

void EventRing::read(uint64_t since, size_t limit, Batch* out) const
{
    out->events.clear();
    out->lost = 0;
    uint64_t last = last_id();
    if (since > last) since = last;  // an id from before a restart: start from now
    uint64_t first = since + 1;
    if (last >= kEntries && first <= last - kEntries) {
        out->lost = last - kEntries + 1 - first;
        first = last - kEntries + 1;
    }
    uint64_t id = first;
    ActivityEvent ev;
    for (; id <= last && out->events.size() < limit; ++id) {
        Got g = read_entry(id, &ev);
        if (g == Got::ok) {
            out->events.push_back(ev);
        } else if (g == Got::overwritten || stuck(id, last)) {
            ++out->lost;
        } else {
            break;  // in flight: the next poll takes it
        }
    }
    out->next = id - 1;
}

}  // namespace strom::mod
