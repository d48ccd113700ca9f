// The bench's record of what a publisher sent, shared with the players of its stream
// (one process, one clock): for each audio and video frame, its timestamp, its sequence
// number and the monotonic time it was queued. A player looks a received frame up by
// timestamp to get both its added latency and its place in the sequence (lost,
// duplicated, reordered). Rings of fixed size: frames older than the ring are "unknown".
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace strom::tools {

class SentLog {
public:
    static constexpr size_t kRing = 8192;  // ~4.5 min of 30 fps video per track

    struct Entry {
        uint32_t ts = 0;
        uint64_t seq = 0;  // 1, 2, 3, ... per track
        uint64_t sent_us = 0;
    };

    SentLog() : rings_{std::vector<Entry>(kRing), std::vector<Entry>(kRing)} {}

    // track: 0 audio, 1 video. Timestamps of a track must increase (FlvCursor does it).
    void record(int track, uint32_t ts, uint64_t sent_us)
    {
        uint64_t seq = ++count_[track];
        rings_[track][seq % kRing] = Entry{ts, seq, sent_us};
    }
    // The entry for `ts`, or nullptr when that timestamp was not sent recently.
    const Entry* find(int track, uint32_t ts) const
    {
        uint64_t n = count_[track];
        if (n == 0) return nullptr;
        uint64_t lo = n > kRing ? n - kRing + 1 : 1, hi = n;  // seqs held, inclusive
        const std::vector<Entry>& r = rings_[track];
        while (lo <= hi) {  // binary search: ts increases with seq
            uint64_t mid = lo + (hi - lo) / 2;
            const Entry& e = r[mid % kRing];
            int32_t d = int32_t(e.ts - ts);
            if (d == 0) return &e;
            if (d < 0) {
                lo = mid + 1;
            } else {
                if (mid == 0) break;
                hi = mid - 1;
            }
        }
        return nullptr;
    }
    uint64_t count(int track) const { return count_[track]; }

private:
    std::vector<Entry> rings_[2];
    uint64_t count_[2] = {0, 0};
};

}  // namespace strom::tools
