// Base64 and base64url (core/base64.h): the RFC 4648 section 10 vectors both ways, the
// url alphabet, round trips over every length, and the strict decoder's refusals.
#include "core/base64.h"

#include <gtest/gtest.h>

#include <string>

using namespace strom;

namespace {

std::string dec(std::string_view in, bool* ok)
{
    std::string out;
    *ok = base64_decode(in, &out);
    return out;
}

bool valid(std::string_view in)
{
    std::string out = "keep";
    bool ok = base64_decode(in, &out);
    if (!ok) {
        EXPECT_EQ(out, "keep") << "a refused input must leave *out as it was";
    }
    return ok;
}

bool url_valid(std::string_view in)
{
    std::string out = "keep";
    bool ok = base64url_decode(in, &out);
    if (!ok) {
        EXPECT_EQ(out, "keep");
    }
    return ok;
}

struct Vector {
    const char* plain;
    const char* padded;
    const char* url;
};

// RFC 4648 section 10.
constexpr Vector kRfc[] = {
    {"", "", ""},
    {"f", "Zg==", "Zg"},
    {"fo", "Zm8=", "Zm8"},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg==", "Zm9vYg"},
    {"fooba", "Zm9vYmE=", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

}  // namespace

TEST(Base64, Rfc4648Vectors)
{
    for (const Vector& v : kRfc) {
        EXPECT_EQ(base64_encode(v.plain), v.padded);
        bool ok = false;
        EXPECT_EQ(dec(v.padded, &ok), v.plain);
        EXPECT_TRUE(ok) << v.padded;
    }
}

TEST(Base64Url, Rfc4648VectorsWithoutPadding)
{
    for (const Vector& v : kRfc) {
        EXPECT_EQ(base64url_encode(v.plain), v.url);
        std::string out;
        EXPECT_TRUE(base64url_decode(v.url, &out)) << v.url;
        EXPECT_EQ(out, v.plain);
    }
}

TEST(Base64Url, UsesDashAndUnderscore)
{
    const std::string bytes("\xfb\xff\xbf", 3);
    EXPECT_EQ(base64_encode(bytes), "+/+/");
    EXPECT_EQ(base64url_encode(bytes), "-_-_");
    EXPECT_FALSE(url_valid("+/+/"));
    EXPECT_FALSE(valid("-_-_"));
}

TEST(Base64, EncodeAppends)
{
    std::string out = "x:";
    base64_encode("ab", 2, &out);
    EXPECT_EQ(out, "x:YWI=");
    out = "y:";
    base64url_encode("ab", 2, &out);
    EXPECT_EQ(out, "y:YWI");
}

TEST(Base64, RoundTripEveryLengthAndByte)
{
    std::string plain;
    for (int n = 0; n < 300; ++n) {
        std::string enc = base64_encode(plain);
        std::string url = base64url_encode(plain);
        EXPECT_EQ(enc.size(), base64_encoded_size(plain.size()));
        EXPECT_EQ(url.size(), base64url_encoded_size(plain.size()));
        std::string a, b;
        ASSERT_TRUE(base64_decode(enc, &a)) << n;
        ASSERT_TRUE(base64url_decode(url, &b)) << n;
        EXPECT_EQ(a, plain);
        EXPECT_EQ(b, plain);
        plain += char(n * 37 + 11);
    }
}

TEST(Base64, StrictDecodeRefusesMalformedInput)
{
    EXPECT_FALSE(valid("Zg="));   // length not a multiple of 4
    EXPECT_FALSE(valid("Zg"));    // padding missing
    EXPECT_FALSE(valid("Z==="));  // too much padding
    EXPECT_FALSE(valid("===="));
    EXPECT_FALSE(valid("Zg=a"));      // '=' in the middle
    EXPECT_FALSE(valid("Zg==Zm8="));  // padding before the end
    EXPECT_FALSE(valid("Zm 9v"));     // whitespace
    EXPECT_FALSE(valid("Zm9v\n"));
    EXPECT_FALSE(valid("Zm9*"));  // outside the alphabet
    EXPECT_FALSE(valid(std::string_view("Zm\0v", 4)));
    EXPECT_FALSE(valid("Zh=="));  // leftover bits not zero (canonical is Zg==)
    EXPECT_FALSE(valid("Zm9="));  // canonical is Zm8=
    EXPECT_TRUE(valid("Zg=="));
}

TEST(Base64Url, StrictDecodeRefusesMalformedInput)
{
    EXPECT_FALSE(url_valid("Z"));      // one char can't hold a byte
    EXPECT_FALSE(url_valid("Zm9vY"));  // nor 1 mod 4
    EXPECT_FALSE(url_valid("Zg=="));   // no padding in this profile
    EXPECT_FALSE(url_valid("Zh"));     // leftover bits
    EXPECT_FALSE(url_valid("Zm 9"));
    EXPECT_TRUE(url_valid("Zg"));
}
