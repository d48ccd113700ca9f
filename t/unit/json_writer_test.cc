#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <cmath>

using strom::JsonWriter;

namespace {

std::string esc(std::string_view s)
{
    std::string out;
    JsonWriter::escape(s, &out);
    return out;
}

}  // namespace

TEST(JsonWriter, NestsObjectsAndArraysWithCommas)
{
    std::string out;
    JsonWriter w(&out);
    w.begin_object();
    w.member("a", 1);
    w.key("list");
    w.begin_array();
    w.num(uint64_t(2));
    w.begin_object();
    w.end_object();
    w.begin_array();
    w.end_array();
    w.str("x");
    w.end_array();
    w.member("b", true);
    w.key("n");
    w.null();
    w.end_object();
    EXPECT_EQ(out, R"({"a":1,"list":[2,{},[],"x"],"b":true,"n":null})");
}

TEST(JsonWriter, EscapesQuotesBackslashAndControlCharacters)
{
    EXPECT_EQ(esc("a\"b\\c"), "a\\\"b\\\\c");
    EXPECT_EQ(esc("\n\r\t\b\f"), "\\n\\r\\t\\b\\f");
    EXPECT_EQ(esc(std::string_view("\0\x01\x1f\x7f", 4)), "\\u0000\\u0001\\u001f\\u007f");
    EXPECT_EQ(esc("</script>&"), "\\u003c/script\\u003e\\u0026");
}

TEST(JsonWriter, KeepsValidUtf8AndEscapesLineSeparators)
{
    EXPECT_EQ(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa5"),
              "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xa5");
    EXPECT_EQ(esc("\xe2\x80\xa8|\xe2\x80\xa9"), "\\u2028|\\u2029");
}

TEST(JsonWriter, ReplacesInvalidUtf8ByMaximalSubparts)
{
    const std::string fffd = "\xef\xbf\xbd";
    EXPECT_EQ(esc("\xff"), fffd);
    EXPECT_EQ(esc("a\x80z"), "a" + fffd + "z");
    EXPECT_EQ(esc("\xc0\xaf"), fffd + fffd);                        // overlong lead: each byte
    EXPECT_EQ(esc("\xe0\x80\x80"), fffd + fffd + fffd);             // overlong 3-byte form
    EXPECT_EQ(esc("\xed\xa0\x80"), fffd + fffd + fffd);             // a surrogate
    EXPECT_EQ(esc("\xf4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // over U+10FFFF
    EXPECT_EQ(esc("\xe2\x82"), fffd);                               // truncated at the end: one
    EXPECT_EQ(esc("\xe2\x82z"), fffd + "z");                        // truncated before ASCII: one
    EXPECT_EQ(esc("\xf0\x9f\x8e"), fffd);
}

TEST(JsonWriter, EscapesKeysToo)
{
    std::string out;
    JsonWriter w(&out);
    w.begin_object();
    w.member("k\"\n", "v\x01");
    w.end_object();
    EXPECT_EQ(out, "{\"k\\\"\\n\":\"v\\u0001\"}");
}

TEST(JsonWriter, NumbersAsNumbers)
{
    std::string out;
    JsonWriter w(&out);
    w.begin_array();
    w.num(uint64_t(18446744073709551615ull));
    w.num(int64_t(-5));
    w.num(29.97);
    w.num(2.5, 1);
    w.num(3.0);
    w.num(-0.0001);
    w.num(NAN);
    w.num(INFINITY);
    w.end_array();
    EXPECT_EQ(out, "[18446744073709551615,-5,29.97,2.5,3,0,null,null]");
}

TEST(JsonWriter, Utf8RepairReplacesOnlyIllFormedBytes)
{
    std::string out;
    JsonWriter::utf8_repair("a\"\n\xc3\xa9\xff\xe2\x82z", &out);
    EXPECT_EQ(out, "a\"\n\xc3\xa9\xef\xbf\xbd\xef\xbf\xbdz");
}
