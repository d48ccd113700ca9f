// RequestParser and BodyDecoder (http/http_request.h): golden requests fed whole, at every
// split point and byte by byte with identical results; every refusal with its status
// (RFC 9112 framing and smuggling rules, the line / header limits); bodies with
// Content-Length and chunked framing, likewise at every split.
#include "http/http_request.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using namespace strom;
using namespace strom::http;

namespace {

struct Parsed {
    Rc rc = Rc::again;
    size_t used = 0;  // over all the calls
    int status = 0;
    std::string method, target, path, query;
    int minor = -1;
    std::vector<std::pair<std::string, std::string>> headers;
    bool keep_alive = false, chunked = false, has_length = false, upgrade = false;
    uint64_t content_length = 0;

    bool operator==(const Parsed&) const = default;
};

// A string literal with its embedded NULs.
template <size_t N>
std::string lit(const char (&s)[N])
{
    return std::string(s, N - 1);
}

const uint8_t* bytes(const std::string& s)
{
    return reinterpret_cast<const uint8_t*>(s.data());
}

Parsed take(RequestParser& p, Rc rc, size_t used)
{
    Parsed r;
    r.rc = rc;
    r.used = used;
    r.status = p.status();
    if (rc == Rc::error) {
        // Where it stops depends on the pieces: a line over the limit is refused as soon
        // as it is seen to be, maybe before its end. Only the status must agree.
        r.used = 0;
        EXPECT_NE(p.reason()[0], '\0');
        EXPECT_GE(r.status, 400);
    }
    if (rc != Rc::ok) return r;
    const Request& q = p.request();
    r.method = q.method;
    r.target = q.target;
    r.path = q.path;
    r.query = q.query;
    r.minor = q.minor;
    for (const Header& h : q.headers) r.headers.emplace_back(h.name, h.value);
    r.keep_alive = q.keep_alive;
    r.chunked = q.chunked;
    r.has_length = q.has_length;
    r.content_length = q.content_length;
    r.upgrade = q.upgrade_websocket;
    return r;
}

// Feeds `in` in pieces of `step` bytes (0: whole); stops at the first ok / error.
Parsed parse(const std::string& in, size_t step = 0, RequestLimits l = {})
{
    RequestParser p(l);
    size_t off = 0;
    Rc rc = Rc::again;
    while (off < in.size()) {
        size_t n = step ? std::min(step, in.size() - off) : in.size() - off;
        size_t used = 0;
        rc = p.feed(bytes(in) + off, n, &used);
        EXPECT_LE(used, n);
        if (rc == Rc::again) {
            EXPECT_EQ(used, n) << "again must consume everything";
        }
        off += used;
        if (rc != Rc::again) break;
    }
    return take(p, rc, off);
}

// Two pieces cut at `cut`.
Parsed parse_cut(const std::string& in, size_t cut, RequestLimits l = {})
{
    RequestParser p(l);
    size_t used = 0;
    Rc rc = p.feed(bytes(in), cut, &used);
    size_t off = used;
    if (rc == Rc::again) {
        EXPECT_EQ(used, cut);
        rc = p.feed(bytes(in) + cut, in.size() - cut, &used);
        off += used;
    }
    return take(p, rc, off);
}

// The whole parse, checked to be the same at every cut and byte by byte.
Parsed parse_all_ways(const std::string& in, RequestLimits l = {})
{
    Parsed whole = parse(in, 0, l);
    for (size_t cut = 0; cut <= in.size(); ++cut) {
        EXPECT_TRUE(parse_cut(in, cut, l) == whole) << "cut at " << cut;
    }
    EXPECT_TRUE(parse(in, 1, l) == whole) << "byte by byte";
    EXPECT_TRUE(parse(in, 7, l) == whole) << "7 at a time";
    return whole;
}

int status_of(const std::string& in, RequestLimits l = {})
{
    Parsed r = parse_all_ways(in, l);
    EXPECT_EQ(r.rc, Rc::error) << in;
    return r.status;
}

const char kGet[] =
    "GET /live/cam1.m3u8?token=abc&x=1 HTTP/1.1\r\n"
    "Host: media.example\r\n"
    "User-Agent:  test/1.0 \r\n"
    "Accept: */*\r\n"
    "X-Empty:\r\n"
    "\r\n";

}  // namespace

TEST(RequestParser, GoldenGetWholeAtEverySplitAndByteByByte)
{
    std::string in = std::string(kGet) + "NEXT";
    Parsed r = parse_all_ways(in);
    ASSERT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.used, in.size() - 4) << "the head ends before the next request";
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/live/cam1.m3u8?token=abc&x=1");
    EXPECT_EQ(r.path, "/live/cam1.m3u8");
    EXPECT_EQ(r.query, "token=abc&x=1");
    EXPECT_EQ(r.minor, 1);
    ASSERT_EQ(r.headers.size(), 4u);
    EXPECT_EQ(r.headers[1].first, "User-Agent");
    EXPECT_EQ(r.headers[1].second, "test/1.0") << "OWS trimmed both sides";
    EXPECT_EQ(r.headers[3].first, "X-Empty");
    EXPECT_EQ(r.headers[3].second, "");
    EXPECT_TRUE(r.keep_alive);
    EXPECT_FALSE(r.chunked);
    EXPECT_FALSE(r.has_length);
    EXPECT_FALSE(r.upgrade);
}

TEST(RequestParser, PostWithLengthAndBareLfLineEnds)
{
    Parsed r = parse_all_ways("POST /api/v1/x HTTP/1.1\nHost: h\nContent-Length: 12\n\nbody");
    ASSERT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.query, "");
    EXPECT_TRUE(r.has_length);
    EXPECT_EQ(r.content_length, 12u);
    EXPECT_EQ(r.used, 52u) << "up to the empty line";
}

TEST(RequestParser, HeaderLookupIsCaseInsensitiveFirstMatch)
{
    RequestParser p;
    std::string in = "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\n\r\n";
    size_t used = 0;
    ASSERT_EQ(p.feed(bytes(in), in.size(), &used), Rc::ok);
    EXPECT_EQ(p.request().header("x-A"), "1");
    EXPECT_EQ(p.request().header("HOST"), "h");
    EXPECT_EQ(p.request().header("missing"), "");
}

TEST(RequestParser, KeepAliveDefaultsByVersion)
{
    EXPECT_TRUE(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
    EXPECT_FALSE(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive);
    EXPECT_FALSE(parse("GET / HTTP/1.0\r\n\r\n").keep_alive);
    Parsed r = parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    EXPECT_EQ(r.minor, 0);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_FALSE(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
}

TEST(RequestParser, HigherMinorVersionIsReadAsOneOne)
{
    Parsed r = parse("GET / HTTP/1.7\r\nHost: h\r\n\r\n");
    ASSERT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.minor, 1);
}

TEST(RequestParser, WebSocketUpgradeNeedsBothHeadersAndHttp11)
{
    const std::string base = "GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\n";
    EXPECT_TRUE(
        parse_all_ways(base + "Upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\r\n")
            .upgrade);
    EXPECT_TRUE(parse(base + "Connection: upgrade\r\nUpgrade: foo, websocket\r\n\r\n").upgrade);
    EXPECT_FALSE(parse(base + "Upgrade: websocket\r\n\r\n").upgrade);
    EXPECT_FALSE(parse(base + "Connection: upgrade\r\nUpgrade: h2c\r\n\r\n").upgrade);
    EXPECT_FALSE(
        parse("GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n").upgrade)
        << "RFC 9110 7.8: ignored in 1.0";
}

TEST(RequestParser, LeadingEmptyLinesAreSkippedUpToABound)
{
    Parsed r = parse_all_ways("\r\n\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.path, "/x");
    std::string many;
    for (int i = 0; i < 9; ++i) many += "\r\n";
    EXPECT_EQ(status_of(many + "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(RequestParser, TargetForms)
{
    Parsed r = parse_all_ways("GET http://Example.com:8080/a/b?c=d HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.target, "http://Example.com:8080/a/b?c=d");
    EXPECT_EQ(r.path, "/a/b");
    EXPECT_EQ(r.query, "c=d");
    r = parse("GET HTTPS://h?q HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.path, "/");
    EXPECT_EQ(r.query, "q");
    r = parse("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.path, "*");
    r = parse("GET /p%20q?a?b HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.path, "/p%20q") << "no percent-decoding";
    EXPECT_EQ(r.query, "a?b");
    EXPECT_EQ(status_of("GET * HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    EXPECT_EQ(status_of("CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET ftp://h/x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

TEST(RequestParser, MalformedRequestLines)
{
    EXPECT_EQ(status_of("GET /\r\n\r\n"), 400) << "no version (HTTP/0.9 style)";
    EXPECT_EQ(status_of("GET / \r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400) << "two spaces";
    EXPECT_EQ(status_of("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400) << "not a token";
    EXPECT_EQ(status_of("GET /a\x01z HTTP/1.1\r\nHost: h\r\n\r\n"), 400) << "control char";
    EXPECT_EQ(status_of("GET /a\x7fz HTTP/1.1\r\nHost: h\r\n\r\n"), 400) << "DEL";
    EXPECT_EQ(status_of(lit("GET /a\0z HTTP/1.1\r\nHost: h\r\n\r\n")), 400);
    EXPECT_EQ(status_of("GET /a\rz HTTP/1.1\r\nHost: h\r\n\r\n"), 400) << "bare CR";
    EXPECT_EQ(status_of("GET / http/1.1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1\r\nHost: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
    EXPECT_EQ(status_of("GET / HTTP/0.9\r\n\r\n"), 505);
}

TEST(RequestParser, MalformedHeaderLines)
{
    const std::string rl = "GET / HTTP/1.1\r\nHost: h\r\n";
    EXPECT_EQ(status_of(rl + "X-A : 1\r\n\r\n"), 400) << "whitespace before the colon";
    EXPECT_EQ(status_of(rl + "X-A\t: 1\r\n\r\n"), 400);
    EXPECT_EQ(status_of(rl + "X-A: 1\r\n  continued\r\n\r\n"), 400) << "obs-fold";
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
    EXPECT_EQ(status_of(rl + "X A: 1\r\n\r\n"), 400);
    EXPECT_EQ(status_of(rl + ": 1\r\n\r\n"), 400);
    EXPECT_EQ(status_of(rl + "NoColon\r\n\r\n"), 400);
    EXPECT_EQ(status_of(rl + "X-A: a\x01z\r\n\r\n"), 400);
    EXPECT_EQ(status_of(rl + "X-A: a\rz\r\n\r\n"), 400) << "bare CR in a value";
    EXPECT_EQ(status_of(rl + lit("X-A: a\0z\r\n\r\n")), 400);
    Parsed r = parse(rl + "X-A: caf\xc3\xa9\t!\r\n\r\n");
    ASSERT_EQ(r.rc, Rc::ok) << "obs-text and HTAB pass";
    EXPECT_EQ(r.headers[1].second, "caf\xc3\xa9\t!");
}

TEST(RequestParser, HostIsRequiredOnceInHttp11)
{
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), 400);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n").rc, Rc::ok);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n").rc, Rc::ok) << "empty is allowed";
    EXPECT_EQ(parse("GET / HTTP/1.0\r\n\r\n").rc, Rc::ok);
}

TEST(RequestParser, ContentLengthMustBeDigitsAndAgree)
{
    const std::string rl = "POST / HTTP/1.1\r\nHost: h\r\n";
    for (const char* bad : {"12a", "-1", "+5", "1 2", "0x10", "5, 5", "", "1.0"}) {
        EXPECT_EQ(status_of(rl + "Content-Length: " + bad + "\r\n\r\n"), 400) << bad;
    }
    EXPECT_EQ(status_of(rl + "Content-Length: 99999999999999999999\r\n\r\n"), 400) << "overflow";
    EXPECT_EQ(status_of(rl + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
    Parsed r = parse(rl + "Content-Length: 5\r\ncontent-length:  5 \r\n\r\n");
    ASSERT_EQ(r.rc, Rc::ok) << "identical repeats are one value";
    EXPECT_EQ(r.content_length, 5u);
    r = parse(rl + "Content-Length: 18446744073709551615\r\n\r\n");
    ASSERT_EQ(r.rc, Rc::ok);
    EXPECT_EQ(r.content_length, UINT64_MAX);
}

TEST(RequestParser, TransferEncodingSmugglingDefences)
{
    const std::string rl = "POST / HTTP/1.1\r\nHost: h\r\n";
    Parsed r = parse_all_ways(rl + "Transfer-Encoding: Chunked\r\n\r\n");
    ASSERT_EQ(r.rc, Rc::ok);
    EXPECT_TRUE(r.chunked);
    EXPECT_EQ(parse(rl + "Transfer-Encoding: , chunked ,\r\n\r\n").rc, Rc::ok);
    // RFC 9112 6.3 item 3: both framings.
    EXPECT_EQ(status_of(rl + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of(rl + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"), 400);
    // 6.3 item 4: chunked is not the final coding.
    EXPECT_EQ(status_of(rl + "Transfer-Encoding: gzip\r\n\r\n"), 400);
    EXPECT_EQ(status_of(rl + "Transfer-Encoding: chunked, gzip\r\n\r\n"), 400);
    EXPECT_EQ(status_of(rl + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"), 400);
    EXPECT_EQ(status_of(rl + "Transfer-Encoding:\r\n\r\n"), 400);
    EXPECT_EQ(status_of(rl + "Transfer-Encoding: chunked;x=1\r\n\r\n"), 400);
    // 6.1: chunked twice.
    EXPECT_EQ(status_of(rl + "Transfer-Encoding: chunked, chunked\r\n\r\n"), 400);
    // A coding we can't undo, correctly framed: 501.
    EXPECT_EQ(status_of(rl + "Transfer-Encoding: gzip, chunked\r\n\r\n"), 501);
    EXPECT_EQ(status_of(rl + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
    // 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing.
    EXPECT_EQ(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

TEST(RequestParser, RequestLineLimitIs414)
{
    RequestLimits l;
    l.max_line = 64;
    std::string target(64 - 14, 'a');  // "GET /" + target + " HTTP/1.1" is 64
    std::string ok = "GET /" + target + " HTTP/1.1\r\nHost: h\r\n\r\n";
    EXPECT_EQ(parse_all_ways(ok, l).rc, Rc::ok);
    EXPECT_EQ(status_of("GET /a" + target + " HTTP/1.1\r\nHost: h\r\n\r\n", l), 414);
    // Refused as soon as the line can't fit, before its end arrives or is stored.
    std::string endless = "GET /" + std::string(100, 'a');
    Parsed r = parse(endless, 0, l);
    EXPECT_EQ(r.rc, Rc::error);
    EXPECT_EQ(r.status, 414);
    EXPECT_EQ(parse(endless, 1, l).status, 414);
    RequestParser p(l);
    size_t used = 1;
    EXPECT_EQ(p.feed(bytes(endless), endless.size(), &used), Rc::error);
    EXPECT_EQ(used, 0u) << "nothing was stored";
}

TEST(RequestParser, HeaderLimitsAre431)
{
    RequestLimits l;
    l.max_line = 40;
    l.max_header_bytes = 100;
    l.max_headers = 4;
    const std::string rl = "GET / HTTP/1.1\r\nHost: h\r\n";
    EXPECT_EQ(parse_all_ways(rl + "X: " + std::string(37, 'v') + "\r\n\r\n", l).rc, Rc::ok);
    EXPECT_EQ(status_of(rl + "X: " + std::string(38, 'v') + "\r\n\r\n", l), 431) << "one line";
    std::string four = rl + "A: 1\r\nB: 2\r\nC: 3\r\n";
    EXPECT_EQ(parse_all_ways(four + "\r\n", l).rc, Rc::ok);
    EXPECT_EQ(status_of(four + "D: 4\r\n\r\n", l), 431) << "count";
    std::string big = rl;
    for (int i = 0; i < 3; ++i) big += "X: " + std::string(25, 'v') + "\r\n";  // 9 + 3 * 30 > 100
    EXPECT_EQ(status_of(big + "\r\n", l), 431) << "total";
}

TEST(RequestParser, ErrorAndOkAreStickyUntilReset)
{
    RequestParser p;
    std::string bad = "GET / HTTP/3.0\r\n";
    size_t used = 0;
    ASSERT_EQ(p.feed(bytes(bad), bad.size(), &used), Rc::error);
    EXPECT_EQ(p.status(), 505);
    ASSERT_EQ(p.feed(bytes(bad), bad.size(), &used), Rc::error);
    EXPECT_EQ(used, 0u);
    p.reset();
    EXPECT_EQ(p.status(), 0);
    std::string two = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
    ASSERT_EQ(p.feed(bytes(two), two.size(), &used), Rc::ok);
    EXPECT_EQ(p.request().path, "/1");
    size_t first = used;
    ASSERT_EQ(p.feed(bytes(two) + first, two.size() - first, &used), Rc::ok);
    EXPECT_EQ(used, 0u);
    p.reset();
    ASSERT_EQ(p.feed(bytes(two) + first, two.size() - first, &used), Rc::ok);
    EXPECT_EQ(p.request().path, "/2");
    EXPECT_EQ(p.request().header("host"), "h");
    EXPECT_EQ(first + used, two.size());
}

// --- BodyDecoder -------------------------------------------------------------------------

namespace {

struct Body {
    Rc rc = Rc::again;
    size_t used = 0;
    std::string data;
    int status = 0;
    bool operator==(const Body&) const = default;
};

// Feeds `in` in pieces of `step` (0: whole) through the loop the header documents.
Body decode(BodyDecoder& d, const std::string& in, size_t step)
{
    Body b;
    size_t off = 0;
    for (;;) {
        size_t n = step ? std::min(step, in.size() - off) : in.size() - off;
        size_t end = off + n;
        // The documented loop: until again, passing what is left of this piece.
        for (;;) {
            size_t used = 0;
            std::string_view out;
            b.rc = d.feed(bytes(in) + off, end - off, &used, &out);
            EXPECT_LE(used, end - off);
            off += used;
            if (b.rc == Rc::ok) {
                EXPECT_FALSE(out.empty());
                b.data += out;
                continue;
            }
            EXPECT_TRUE(out.empty());
            if (b.rc == Rc::again) {
                EXPECT_EQ(off, end);
            }
            break;
        }
        if (b.rc != Rc::again || off == in.size()) break;
    }
    b.used = off;
    b.status = d.status();
    if (b.rc == Rc::error) {
        EXPECT_NE(d.reason()[0], '\0');
    }
    return b;
}

Body decode_chunked(const std::string& in, size_t step, BodyLimits l = {})
{
    BodyDecoder d(l);
    d.start_chunked();
    return decode(d, in, step);
}

Body chunked_all_ways(const std::string& in, BodyLimits l = {})
{
    Body whole = decode_chunked(in, 0, l);
    for (size_t step = 1; step <= in.size(); ++step) {
        EXPECT_TRUE(decode_chunked(in, step, l) == whole) << "step " << step;
    }
    for (size_t cut = 1; cut < in.size(); ++cut) {
        BodyDecoder d(l);
        d.start_chunked();
        Body a = decode(d, in.substr(0, cut), 0);
        if (a.rc != Rc::again) {
            EXPECT_TRUE(a == whole) << "cut " << cut;
            continue;
        }
        Body b = decode(d, in.substr(cut), 0);
        EXPECT_EQ(a.data + b.data, whole.data) << "cut " << cut;
        EXPECT_EQ(b.rc, whole.rc) << "cut " << cut;
        EXPECT_EQ(a.used + b.used, whole.used) << "cut " << cut;
    }
    return whole;
}

const char kChunked[] =
    "4;name=value\r\nWiki\r\n5 ; x\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
    "0\r\nExpires: never\r\nX-T: 1\r\n\r\n";

}  // namespace

TEST(BodyDecoder, ChunkedWithExtensionsAndTrailersAtEverySplit)
{
    std::string in = std::string(kChunked) + "GET /next";
    Body b = chunked_all_ways(in);
    EXPECT_EQ(b.rc, Rc::done);
    EXPECT_EQ(b.data, "Wikipedia in\r\n\r\nchunks.");
    EXPECT_EQ(b.used, in.size() - 9) << "stops where the next request starts";
}

TEST(BodyDecoder, ContentLengthAtEverySplit)
{
    std::string in = "0123456789abcdefNEXT";
    for (size_t step = 0; step <= in.size(); ++step) {
        BodyDecoder d;
        ASSERT_EQ(d.start_length(16), Rc::ok);
        Body b = decode(d, in, step);
        EXPECT_EQ(b.rc, Rc::done) << step;
        EXPECT_EQ(b.data, "0123456789abcdef") << step;
        EXPECT_EQ(b.used, 16u) << step;
        EXPECT_EQ(d.received(), 16u);
    }
}

TEST(BodyDecoder, StartFromRequest)
{
    RequestParser p;
    std::string in = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET";
    size_t used = 0;
    ASSERT_EQ(p.feed(bytes(in), in.size(), &used), Rc::ok);
    BodyDecoder d;
    ASSERT_EQ(d.start(p.request()), Rc::ok);
    Body b = decode(d, in.substr(used), 0);
    EXPECT_EQ(b.rc, Rc::done);
    EXPECT_EQ(b.data, "abc");
    EXPECT_EQ(b.used, 3u);
    // No length, not chunked: an empty body, done at once.
    RequestParser q;
    std::string get = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    ASSERT_EQ(q.feed(bytes(get), get.size(), &used), Rc::ok);
    ASSERT_EQ(d.start(q.request()), Rc::ok);
    std::string_view out;
    EXPECT_EQ(d.feed(bytes(get), get.size(), &used, &out), Rc::done);
    EXPECT_EQ(used, 0u);
    EXPECT_TRUE(d.done());
}

TEST(BodyDecoder, BodyLimitIs413)
{
    BodyLimits l;
    l.max_body = 10;
    BodyDecoder d(l);
    EXPECT_EQ(d.start_length(11), Rc::error);
    EXPECT_EQ(d.status(), 413);
    EXPECT_EQ(d.start_length(10), Rc::ok);
    EXPECT_EQ(chunked_all_ways("5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", l).rc, Rc::done);
    EXPECT_EQ(chunked_all_ways("5\r\n01234\r\n6\r\n567890\r\n0\r\n\r\n", l).status, 413);
    Body b = decode_chunked("ffffffffffffffffffff\r\n", 0, l);
    EXPECT_EQ(b.status, 413);
    EXPECT_EQ(b.used, 0u) << "refused at its first digit, over the limit already";
}

TEST(BodyDecoder, MalformedChunkedFramingIs400)
{
    for (const char* bad : {
             "x\r\n",                  // not hex
             "\r\n",                   // no size
             " 5\r\nhello\r\n",        // leading space
             "5\nhello\r\n0\r\n\r\n",  // bare LF after the size
             "5\r\nhello\n0\r\n\r\n",  // bare LF after the data
             "5\r\nhelloX\r\n",        // data longer than its size
             "5 x\r\nhello\r\n",       // junk after BWS
             "5;a\x01\r\n",            // CTL in an extension
             "5;a\rb\r\n",             // bare CR in an extension
             "0\r\nX: 1\n\r\n",        // bare LF in a trailer
             "0\r\n X: 1\r\n\r\n",     // folded trailer
             "0\r\n\rX",               // CR not followed by LF at the end
         }) {
        Body b = chunked_all_ways(bad);
        EXPECT_EQ(b.rc, Rc::error) << bad;
        EXPECT_EQ(b.status, 400) << bad;
    }
}

TEST(BodyDecoder, ChunkLineAndTrailerBounds)
{
    BodyLimits l;
    l.max_chunk_line = 16;
    l.max_trailer = 20;
    EXPECT_EQ(chunked_all_ways("1;" + std::string(13, 'e') + "\r\nA\r\n0\r\n\r\n", l).rc, Rc::done);
    EXPECT_EQ(chunked_all_ways("1;" + std::string(14, 'e') + "\r\nA\r\n0\r\n\r\n", l).status, 400);
    EXPECT_EQ(chunked_all_ways("0\r\nX: " + std::string(13, 't') + "\r\n\r\n", l).rc, Rc::done);
    EXPECT_EQ(chunked_all_ways("0\r\nX: " + std::string(14, 't') + "\r\n\r\n", l).status, 431);
}
