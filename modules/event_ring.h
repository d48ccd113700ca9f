// The activity list: one ring of fixed-size event records for the whole server, in
// anonymous shared memory mapped by the master before it forks (like the StatsBoard), so
// every worker of every generation appends to it and any worker's API answer reads it.
// An append takes the next id from one atomic counter and writes entry id % kEntries
// under that entry's sequence lock; a reader copies an entry, and keeps it only when the
// copy was not torn and still carries the id it looked for (else it was overwritten).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace strom::mod {

struct ActivityEvent {
    uint64_t id;      // from 1, in the order the appends took their ids
    int64_t time_ms;  // unix ms
    char type[16];    // "publish", "unpublish", "play", "stop", "refused", ...
    int32_t pid;      // the worker (or master) that wrote it
    uint64_t client;  // connection id, 0 when there is none
    char addr[64];
    char protocol[12];
    char app[128];
    char stream[256];
    char detail[128];  // why (refused), the file (record-done), ...
};

class EventRing {
public:
    static constexpr size_t kEntries = 4096;

    // The process's ring, mapped on first use (call it in the master before fork).
    static EventRing* get();
    // A separate ring (unit tests); never unmapped.
    static EventRing* create();

    // Appends e (its id is assigned; a time of 0 becomes now) and returns the id.
    uint64_t append(const ActivityEvent& e);
    // The two halves of append: a writer that dies between them leaves a torn entry,
    // which readers skip.
    uint64_t begin_append(const ActivityEvent& e);
    void end_append(uint64_t id);

    // The highest id taken so far (0: none).
    uint64_t last_id() const;

    struct Batch {
        std::vector<ActivityEvent> events;  // ids > since, ascending
        uint64_t next = 0;                  // the `since` of the next poll
        // ids after since that the ring no longer holds, or whose writer died mid-append
        uint64_t lost = 0;
    };
    // At most `limit` events with id > since; stops before an append still in flight.
    void read(uint64_t since, size_t limit, Batch* out) const;

private:
    struct Entry {
        uint32_t seq;  // odd while a writer copies
        ActivityEvent ev;
    };
    enum class Got : uint8_t { ok, overwritten, pending };
    static constexpr int64_t kStuckMs = 1000;
    Got read_entry(uint64_t id, ActivityEvent* out) const;
    bool stuck(uint64_t id, uint64_t last) const;

    uint64_t next_id_;  // the last id taken
    Entry entries_[kEntries];
};

}  // namespace strom::mod
