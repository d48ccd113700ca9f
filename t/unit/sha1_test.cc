// SHA-1 (core/sha1.h) against the FIPS 180-4 / RFC 3174 example vectors, plus the
// incremental interface fed at every split point and in odd-sized pieces.
#include "core/sha1.h"

#include <gtest/gtest.h>

#include <string>

using namespace strom;

namespace {

std::string hex(const uint8_t* p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) {
        s += digits[p[i] >> 4];
        s += digits[p[i] & 15];
    }
    return s;
}

std::string digest(const std::string& msg)
{
    uint8_t d[Sha1::kDigestSize];
    sha1(msg.data(), msg.size(), d);
    return hex(d, sizeof(d));
}

const char kTwoBlock[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

}  // namespace

TEST(Sha1, FipsOneBlockAbc)
{
    EXPECT_EQ(digest("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Sha1, FipsTwoBlock448BitMessage)
{
    EXPECT_EQ(digest(kTwoBlock), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(Sha1, FipsMillionA)
{
    EXPECT_EQ(digest(std::string(1000000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, EmptyMessage)
{
    EXPECT_EQ(digest(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

// RFC 3174 section 7.3 TEST4: "01234567" x 80 (640 bytes, ten blocks and a padding block).
TEST(Sha1, Rfc3174RepeatedPattern)
{
    std::string msg;
    for (int i = 0; i < 80; ++i) msg += "01234567";
    EXPECT_EQ(digest(msg), "dea356a2cddd90c7a7ecedc5ebb563934f460452");
}

TEST(Sha1, IncrementalEqualsOneShotAtEverySplit)
{
    std::string msg;
    for (int i = 0; i < 200; ++i) msg += char(i * 31 + 7);
    std::string whole = digest(msg);
    for (size_t cut = 0; cut <= msg.size(); ++cut) {
        Sha1 s;
        s.update(msg.data(), cut);
        s.update(msg.data() + cut, msg.size() - cut);
        uint8_t d[Sha1::kDigestSize];
        s.final(d);
        ASSERT_EQ(hex(d, sizeof(d)), whole) << "cut at " << cut;
    }
}

TEST(Sha1, PaddingBoundaryLengths)
{
    // 55, 56 and 64 bytes put the length in the same block, force a second, or start one.
    for (size_t n : {55u, 56u, 63u, 64u, 65u}) {
        std::string msg(n, 'x');
        Sha1 s;
        for (char c : msg) s.update(&c, 1);
        uint8_t d[Sha1::kDigestSize];
        s.final(d);
        EXPECT_EQ(hex(d, sizeof(d)), digest(msg)) << n;
    }
}

TEST(Sha1, ReusableAfterInit)
{
    Sha1 s;
    s.update("junk", 4);
    uint8_t d[Sha1::kDigestSize];
    s.final(d);
    s.init();
    s.update("abc", 3);
    s.final(d);
    EXPECT_EQ(hex(d, sizeof(d)), "a9993e364706816aba3e25717850c26c9cd0d89d");
}
