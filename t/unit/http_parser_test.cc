// HttpResponseParser (core/http_parser.h): golden responses fed whole, at every split
// point and byte by byte; Content-Length, chunked (RFC 9112 7.1) and close-delimited
// bodies; the header and body limits; and the form / query helpers the notify callbacks
// encode their fields with.
#include "core/http_parser.h"

#include <gtest/gtest.h>

#include <string>

using namespace strom;

namespace {

struct Parsed {
    Rc rc = Rc::again;
    size_t used = 0;
    int status = 0;
    std::string body;
    std::string location;
};

// Feeds `in` in pieces of `step` bytes (0: whole); stops at the first ok / error.
Parsed parse(const std::string& in, size_t step = 0, size_t max_body = 1024, bool close = false)
{
    HttpResponseParser p(max_body, 512);
    Parsed r;
    size_t off = 0;
    while (off < in.size()) {
        size_t n = step ? std::min(step, in.size() - off) : in.size() - off;
        size_t used = 0;
        r.rc = p.feed(reinterpret_cast<const uint8_t*>(in.data()) + off, n, &used);
        if (r.rc == Rc::again) {
            EXPECT_EQ(used, n) << "again must consume everything";
        }
        off += used;
        if (r.rc != Rc::again) break;
    }
    if (r.rc == Rc::again && close) r.rc = p.finish();
    r.used = off;
    r.status = p.status();
    r.body = p.body();
    r.location = p.location();
    return r;
}

void expect_same_at_every_split(const std::string& in, bool close = false)
{
    Parsed whole = parse(in, 0, 1024, close);
    ASSERT_EQ(whole.rc, Rc::ok);
    for (size_t cut = 1; cut < in.size(); ++cut) {
        HttpResponseParser p(1024, 512);
        size_t u1 = 0, u2 = 0;
        Rc rc = p.feed(reinterpret_cast<const uint8_t*>(in.data()), cut, &u1);
        if (rc == Rc::again) {
            rc = p.feed(reinterpret_cast<const uint8_t*>(in.data()) + cut, in.size() - cut, &u2);
        }
        if (rc == Rc::again && close) rc = p.finish();
        ASSERT_EQ(rc, Rc::ok) << "split at " << cut;
        EXPECT_EQ(p.status(), whole.status);
        EXPECT_EQ(p.body(), whole.body) << "split at " << cut;
        EXPECT_EQ(p.location(), whole.location);
    }
    Parsed bytewise = parse(in, 1, 1024, close);
    EXPECT_EQ(bytewise.rc, Rc::ok);
    EXPECT_EQ(bytewise.body, whole.body);
}

}  // namespace

TEST(HttpResponseParser, ContentLengthBody)
{
    std::string in =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhelloEXTRA";
    Parsed r = parse(in);
    EXPECT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "hello");
    EXPECT_EQ(r.used, in.size() - 5) << "bytes after the response are not consumed";
    expect_same_at_every_split(in.substr(0, in.size() - 5));
}

TEST(HttpResponseParser, RedirectKeepsLocation)
{
    std::string in = "HTTP/1.1 302 Found\r\nlocation:  cam2?x=1 \r\ncontent-length: 0\r\n\r\n";
    Parsed r = parse(in);
    EXPECT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.status, 302);
    EXPECT_EQ(r.location, "cam2?x=1");
    expect_same_at_every_split(in);
}

TEST(HttpResponseParser, ChunkedBodyWithExtensionsAndTrailers)
{
    std::string in =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "4;ext=1\r\nWiki\r\nA\r\npedia in\r\n\r\n0\r\nX-Trailer: 1\r\n\r\n";
    Parsed r = parse(in);
    EXPECT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.body, "Wikipedia in\r\n");
    expect_same_at_every_split(in);
}

TEST(HttpResponseParser, BodyUntilClose)
{
    std::string in = "HTTP/1.0 200 OK\r\n\r\nall of it";
    Parsed r = parse(in, 0, 1024, true);
    EXPECT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.body, "all of it");
    expect_same_at_every_split(in, true);
}

TEST(HttpResponseParser, CutShortIsAnError)
{
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, 1024, true).rc,
              Rc::error);
    EXPECT_EQ(
        parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 0, 1024, true).rc,
        Rc::error);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-", 0, 1024, true).rc, Rc::error);
}

TEST(HttpResponseParser, LimitsAreEnforcedBeforeStoring)
{
    Parsed big = parse("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'x'));
    EXPECT_EQ(big.rc, Rc::error);
    EXPECT_LE(big.body.size(), 1024u);
    Parsed chunks = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
                          std::string(2048, 'x') + "\r\n0\r\n\r\n");
    EXPECT_EQ(chunks.rc, Rc::error);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nX: " + std::string(1000, 'a') + "\r\n\r\n").rc, Rc::error);
    EXPECT_EQ(
        parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n").rc,
        Rc::error);
}

TEST(HttpResponseParser, MalformedStatusLines)
{
    EXPECT_EQ(parse("HTTP/1.1 2000 OK\r\n\r\n").rc, Rc::error);
    EXPECT_EQ(parse("ICY 200 OK\r\n\r\n").rc, Rc::error);
    EXPECT_EQ(parse("HTTP/1.1 abc\r\n\r\n").rc, Rc::error);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").rc, Rc::error);
    EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").rc, Rc::error);
}

TEST(HttpResponseParser, ErrorHasAReason)
{
    HttpResponseParser p;
    size_t used = 0;
    const std::string in = "garbage\r\n";
    EXPECT_EQ(p.feed(reinterpret_cast<const uint8_t*>(in.data()), in.size(), &used), Rc::error);
    EXPECT_STRNE(p.reason(), "");
}

TEST(FormEncode, UnreservedPassSpaceIsPlusEverythingElseEscaped)
{
    std::string out;
    form_encode("aZ09-._* ~&=%+\r\n\xc3\xa9", &out);
    EXPECT_EQ(out, "aZ09-._*+%7E%26%3D%25%2B%0D%0A%C3%A9");
    EXPECT_EQ(form_decode(out), "aZ09-._* ~&=%+\r\n\xc3\xa9");
}

TEST(FormEncode, DecodeKeepsInvalidEscapes)
{
    EXPECT_EQ(form_decode("a+b%2"), "a b%2");
    EXPECT_EQ(form_decode("%zz%41"), "%zzA");
}

TEST(QueryArg, FirstOccurrenceRaw)
{
    std::string_view v;
    EXPECT_TRUE(query_arg("a=1&token=x%20y&token=2", "token", &v));
    EXPECT_EQ(v, "x%20y");
    EXPECT_TRUE(query_arg("a", "a", &v));
    EXPECT_EQ(v, "");
    EXPECT_FALSE(query_arg("ab=1", "a", &v));
    EXPECT_FALSE(query_arg("", "a", &v));
}
