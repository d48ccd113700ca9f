// A log-linear histogram of microsecond values (128 buckets per power of two, so any
// percentile is within 1% of the true value) for latency and time-to-first-frame figures
// over millions of samples in fixed memory. Plain value, no allocation after the first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace strom::tools {

class Histogram {
public:
    static constexpr int kSubBits = 7;
    static constexpr uint64_t kSub = uint64_t(1) << kSubBits;

    Histogram() : counts_(kSub * 50, 0) {}

    void record(uint64_t v)
    {
        size_t i = index(v);
        if (i >= counts_.size()) i = counts_.size() - 1;
        ++counts_[i];
        ++count_;
        sum_ += v;
        if (v > max_) max_ = v;
    }
    void reset()
    {
        for (auto& c : counts_) c = 0;
        count_ = sum_ = max_ = 0;
    }
    uint64_t count() const { return count_; }
    uint64_t max() const { return max_; }
    double mean() const { return count_ ? double(sum_) / double(count_) : 0; }
    // The value at percentile p (0..100): the middle of its bucket, 0 when empty.
    uint64_t percentile(double p) const
    {
        if (!count_) return 0;
        uint64_t want = uint64_t(double(count_) * p / 100.0 + 0.5);
        if (want < 1) want = 1;
        if (want > count_) want = count_;
        uint64_t seen = 0;
        for (size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= want) {
                uint64_t lo = lower(i), hi = lower(i + 1);
                uint64_t mid = lo + (hi - lo) / 2;
                return mid > max_ ? max_ : mid;
            }
        }
        return max_;
    }

    static size_t index(uint64_t v)
    {
        if (v < kSub) return size_t(v);
        int e = 63 - __builtin_clzll(v) - kSubBits;  // v >> e is in [kSub, 2 kSub)
        return size_t(uint64_t(e) * kSub + (v >> e));
    }
    static uint64_t lower(size_t i)
    {
        if (i < kSub) return i;
        uint64_t e = i / kSub - 1;
        return (uint64_t(i) - e * kSub) << e;
    }

private:
    std::vector<uint64_t> counts_;
    uint64_t count_ = 0;
    uint64_t sum_ = 0;
    uint64_t max_ = 0;
};

}  // namespace strom::tools
