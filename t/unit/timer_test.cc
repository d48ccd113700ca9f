#include "core/timer.h"

#include <gtest/gtest.h>

#include <vector>

using namespace strom;

namespace {
std::vector<int> fired;
void record(Timer& t) { fired.push_back(int(reinterpret_cast<intptr_t>(t.arg))); }
Timer make(int id) { Timer t; t.fn = record; t.arg = reinterpret_cast<void*>(intptr_t(id)); return t; }
}  // namespace

TEST(Timers, FireInDeadlineOrder)
{
    fired.clear();
    TimerHeap h;
    std::vector<Timer> ts;
    for (int i = 0; i < 50; ++i) ts.push_back(make(i));
    for (int i = 0; i < 50; ++i) h.add(ts[i], uint64_t((i * 37) % 50) + 100);
    EXPECT_EQ(h.next_timeout(0), 100);
    h.expire(1000);
    ASSERT_EQ(fired.size(), 50u);
    for (size_t i = 1; i < fired.size(); ++i) {
        EXPECT_LT((fired[i - 1] * 37) % 50, (fired[i] * 37) % 50);
    }
    EXPECT_EQ(h.size(), 0u);
    EXPECT_EQ(h.next_timeout(0), -1);
}

TEST(Timers, CancelRemovesOnlyThatTimer)
{
    fired.clear();
    TimerHeap h;
    Timer a = make(1), b = make(2), c = make(3);
    h.add(a, 10);
    h.add(b, 20);
    h.add(c, 30);
    h.cancel(b);
    EXPECT_FALSE(b.armed());
    h.cancel(b);   // twice is harmless
    h.expire(100);
    EXPECT_EQ(fired, (std::vector<int>{1, 3}));
}

TEST(Timers, LazyRearmLaterFiresAtNewDeadline)
{
    fired.clear();
    TimerHeap h;
    Timer a = make(1), b = make(2);
    h.add(a, 10);
    h.add(b, 20);
    h.add(a, 50);            // moved later: lazy
    EXPECT_EQ(h.next_timeout(0), 10);
    h.expire(15);            // a surfaces, is re-placed, does not fire
    EXPECT_TRUE(fired.empty());
    h.expire(20);
    EXPECT_EQ(fired, (std::vector<int>{2}));
    h.expire(49);
    EXPECT_EQ(fired.size(), 1u);
    h.expire(50);
    EXPECT_EQ(fired, (std::vector<int>{2, 1}));
}

TEST(Timers, RearmEarlierMovesUp)
{
    fired.clear();
    TimerHeap h;
    Timer a = make(1), b = make(2);
    h.add(a, 100);
    h.add(b, 50);
    h.add(a, 10);
    EXPECT_EQ(h.next_timeout(0), 10);
    h.expire(60);
    EXPECT_EQ(fired, (std::vector<int>{1, 2}));
}

namespace {
TimerHeap* g_heap;
Timer* g_other;
void cancel_other(Timer& t)
{
    fired.push_back(int(reinterpret_cast<intptr_t>(t.arg)));
    g_heap->cancel(*g_other);
}
}  // namespace

TEST(Timers, CallbackMayCancelAnother)
{
    fired.clear();
    TimerHeap h;
    Timer a = make(1), b = make(2);
    a.fn = cancel_other;
    g_heap = &h;
    g_other = &b;
    h.add(a, 10);
    h.add(b, 10);
    h.expire(10);
    EXPECT_EQ(fired, (std::vector<int>{1}));
    EXPECT_EQ(h.size(), 0u);
}
