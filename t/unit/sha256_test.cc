#include "core/sha256.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

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

std::string sha(const std::string& msg)
{
    uint8_t d[32];
    Sha256::hash(msg.data(), msg.size(), d);
    return hex(d, 32);
}

std::string hmac(const std::string& key, const std::string& msg)
{
    uint8_t d[32];
    HmacSha256::mac(key.data(), key.size(), msg.data(), msg.size(), d);
    return hex(d, 32);
}

std::string pattern(size_t n)
{
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = char((i * 7 + 3) & 255);
    return s;
}

}  // namespace

// FIPS 180-4 / NIST CSRC example values.
TEST(Sha256, NistOneBlockAbc)
{
    EXPECT_EQ(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, NistTwoBlock448BitMessage)
{
    EXPECT_EQ(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, Nist896BitMessage)
{
    EXPECT_EQ(sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                  "klmnopqrlmnopqrsmnopqrstnopqrstu"),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, NistOneMillionA)
{
    Sha256 s;
    std::string chunk(1000, 'a');
    for (int i = 0; i < 1000; ++i) s.update(chunk.data(), chunk.size());
    uint8_t d[32];
    s.final(d);
    EXPECT_EQ(hex(d, 32), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    EXPECT_EQ(sha(std::string(1000000, 'a')), hex(d, 32));
}

TEST(Sha256, EmptyMessage)
{
    EXPECT_EQ(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// Lengths around the padding boundaries (55/56 bytes: length fits or spills into a second
// block; 64: exact block). Expected values from an independent implementation.
TEST(Sha256, PaddingBoundaries)
{
    struct {
        size_t n;
        const char* digest;
    } cases[] = {
        {1, "084fed08b978af4d7d196a7446a86b58009e636b611db16211b65a9aadff29c5"},
        {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
        {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
        {57, "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73"},
        {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
        {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
        {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
        {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
        {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
        {128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"},
    };
    for (auto& c : cases) EXPECT_EQ(sha(pattern(c.n)), c.digest) << "length " << c.n;
}

TEST(Sha256, IncrementalEqualsOneShotAtEverySplit)
{
    std::string msg = pattern(200);
    std::string want = sha(msg);
    for (size_t cut = 0; cut <= msg.size(); ++cut) {
        Sha256 s;
        s.update(msg.data(), cut);
        s.update(msg.data() + cut, msg.size() - cut);
        uint8_t d[32];
        s.final(d);
        ASSERT_EQ(hex(d, 32), want) << "split at " << cut;
    }
    Sha256 s;
    for (char c : msg) s.update(&c, 1);
    uint8_t d[32];
    s.final(d);
    EXPECT_EQ(hex(d, 32), want);
}

TEST(Sha256, InitResetsForReuse)
{
    Sha256 s;
    s.update("garbage", 7);
    s.init();
    s.update("abc", 3);
    uint8_t d[32];
    s.final(d);
    EXPECT_EQ(hex(d, 32), sha("abc"));
}

// RFC 4231 section 4, test cases 1-7.
TEST(HmacSha256, Rfc4231Case1)
{
    EXPECT_EQ(hmac(std::string(20, '\x0b'), "Hi There"),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256, Rfc4231Case2KeyShorterThanOutput)
{
    EXPECT_EQ(hmac("Jefe", "what do ya want for nothing?"),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256, Rfc4231Case3)
{
    EXPECT_EQ(hmac(std::string(20, '\xaa'), std::string(50, '\xdd')),
              "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

TEST(HmacSha256, Rfc4231Case4)
{
    std::string key;
    for (int i = 1; i <= 25; ++i) key += char(i);
    EXPECT_EQ(hmac(key, std::string(50, '\xcd')),
              "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

TEST(HmacSha256, Rfc4231Case5TruncatedTo128Bits)
{
    EXPECT_EQ(hmac(std::string(20, '\x0c'), "Test With Truncation").substr(0, 32),
              "a3b6167473100ee06e0c796c2955552b");
}

TEST(HmacSha256, Rfc4231Case6KeyLongerThanBlock)
{
    EXPECT_EQ(
        hmac(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First"),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, Rfc4231Case7LongKeyAndLongData)
{
    EXPECT_EQ(hmac(std::string(131, '\xaa'),
                   "This is a test using a larger than block-size key and a larger than "
                   "block-size data. The key needs to be hashed before being used by the HMAC "
                   "algorithm."),
              "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(HmacSha256, IncrementalEqualsOneShot)
{
    std::string key(131, '\xaa');
    std::string msg = pattern(300);
    std::string want = hmac(key, msg);
    for (size_t cut = 0; cut <= msg.size(); cut += 7) {
        HmacSha256 h(key.data(), key.size());
        h.update(msg.data(), cut);
        h.update(msg.data() + cut, msg.size() - cut);
        uint8_t d[32];
        h.final(d);
        ASSERT_EQ(hex(d, 32), want) << "split at " << cut;
    }
}

TEST(HmacSha256, KeyOfExactlyOneBlockIsNotHashed)
{
    // RFC 2104: only keys longer than B (64) are hashed; a 64-byte key is used as is,
    // so it must differ from using its hash as the key.
    std::string key = pattern(64);
    uint8_t kh[32];
    Sha256::hash(key.data(), key.size(), kh);
    EXPECT_NE(hmac(key, "x"), hmac(std::string(reinterpret_cast<char*>(kh), 32), "x"));
    std::string key65 = pattern(65);
    Sha256::hash(key65.data(), key65.size(), kh);
    EXPECT_EQ(hmac(key65, "x"), hmac(std::string(reinterpret_cast<char*>(kh), 32), "x"));
}
