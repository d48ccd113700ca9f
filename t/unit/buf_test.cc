#include "core/buf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using namespace strom;

TEST(BufPool, AllocReleaseReturnsToFreeList)
{
    BufPool pool(256, 4);
    Block* b = pool.alloc(16);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(b->start, 16u);
    EXPECT_EQ(b->size(), 0u);
    EXPECT_EQ(pool.outstanding(), 1u);
    { BufRef r(b); }
    EXPECT_EQ(pool.outstanding(), 0u);
    EXPECT_EQ(pool.cached(), 1u);
    Block* again = pool.alloc();
    EXPECT_EQ(again, b);   // reused, not a new allocation
    BufRef hold(again);
}

TEST(BufPool, HardCapReturnsNullInsteadOfGrowing)
{
    BufPool pool(64, 2);
    BufRef a(pool.alloc()), b(pool.alloc());
    EXPECT_EQ(pool.alloc(), nullptr);
    EXPECT_EQ(pool.alloc_failures(), 1u);
    a.reset();
    BufRef c(pool.alloc());
    EXPECT_TRUE(c);
}

TEST(BufRef, CopiesShareAndLastReleaseFrees)
{
    BufPool pool(64, 8);
    BufRef a(pool.alloc());
    {
        BufRef b = a;
        BufRef c;
        c = b;
        EXPECT_EQ(a->refs, 3u);
        BufRef d = std::move(c);
        EXPECT_FALSE(c);
        EXPECT_EQ(a->refs, 3u);
    }
    EXPECT_EQ(a->refs, 1u);
    a = a;   // self-assignment keeps the block
    EXPECT_EQ(pool.outstanding(), 1u);
    a.reset();
    EXPECT_EQ(pool.outstanding(), 0u);
}

TEST(Chain, AppendSpansBlocksAndCopiesBack)
{
    BufPool pool(10, 100);
    std::vector<uint8_t> in(95);
    for (size_t i = 0; i < in.size(); ++i) in[i] = uint8_t(i * 7);
    Chain ch(pool, 2);
    ASSERT_EQ(ch.append(in.data(), in.size()), Rc::ok);
    EXPECT_EQ(ch.size(), 95u);
    BufRef msg = ch.take();
    EXPECT_TRUE(ch.empty());
    EXPECT_EQ(chain_size(msg.get()), 95u);
    EXPECT_EQ(pool.outstanding(), 12u);   // 8 usable bytes per block
    std::vector<uint8_t> out(95);
    EXPECT_EQ(chain_copy(msg.get(), 0, out.data(), 95), 95u);
    EXPECT_EQ(out, in);
    uint8_t mid[5];
    EXPECT_EQ(chain_copy(msg.get(), 13, mid, 5), 5u);
    EXPECT_EQ(0, memcmp(mid, in.data() + 13, 5));
    BufRef shared = msg;
    msg.reset();
    EXPECT_EQ(pool.outstanding(), 12u);
    shared.reset();
    EXPECT_EQ(pool.outstanding(), 0u);
}

TEST(Chain, MiddleReferenceKeepsTailAlive)
{
    BufPool pool(4, 100);
    Chain ch(pool);
    ASSERT_EQ(ch.append("abcdefghijkl", 12), Rc::ok);
    BufRef head = ch.take();
    pool.ref(head->next);
    BufRef middle(head->next);
    head.reset();
    EXPECT_EQ(pool.outstanding(), 2u);
    char out[8];
    EXPECT_EQ(chain_copy(middle.get(), 0, out, 8), 8u);
    EXPECT_EQ(0, memcmp(out, "efghijkl", 8));
    middle.reset();
    EXPECT_EQ(pool.outstanding(), 0u);
}

TEST(Chain, ExhaustedPoolIsAnErrorNotAGrowth)
{
    BufPool pool(8, 2);
    Chain ch(pool);
    EXPECT_EQ(ch.append("0123456789abcdefXYZ", 19), Rc::error);
    EXPECT_EQ(pool.outstanding(), 2u);
    ch.clear();
    EXPECT_EQ(pool.outstanding(), 0u);
}

TEST(Chain, ReserveGivesContiguousSpace)
{
    BufPool pool(16, 8);
    Chain ch(pool);
    ASSERT_EQ(ch.append("0123456789", 10), Rc::ok);
    uint8_t* p = ch.reserve(8);   // only 6 left: a new block
    ASSERT_NE(p, nullptr);
    memcpy(p, "ABCDEFGH", 8);
    ch.commit(8);
    EXPECT_EQ(ch.size(), 18u);
    EXPECT_EQ(ch.reserve(17), nullptr);
    BufRef r = ch.take();
    EXPECT_EQ(r->size(), 10u);
    EXPECT_EQ(r->next->size(), 8u);
}
