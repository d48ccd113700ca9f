// Fuzzes strom::http::RequestParser and BodyDecoder. Layout: [0] feed size (0: all at
// once), [1] limits (small, so 414 / 431 / 413 are reached), then the client's bytes: a
// head, its body, and a second pipelined head after reset(). Checks: consumed <= offered,
// Rc::again consumes everything, a known status and a reason on Rc::error, the request's
// invariants, and the same outcome (request fields, body, where each part ended) when the
// input is fed in pieces as when it is fed whole.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "http/http_request.h"

using strom::Rc;
using strom::http::BodyDecoder;
using strom::http::BodyLimits;
using strom::http::Request;
using strom::http::RequestLimits;
using strom::http::RequestParser;

#define CHECK(x)                \
    do {                        \
        if (!(x)) std::abort(); \
    } while (0)

namespace {

struct Outcome {
    std::vector<std::string> parts;  // each head's fields and each body, as text
    Rc rc = Rc::again;
    int status = 0;
    size_t used = 0;  // bytes of all the complete parts
    bool operator==(const Outcome&) const = default;
};

std::string describe(const Request& r, const RequestLimits& l)
{
    CHECK(!r.method.empty() && !r.target.empty() && !r.path.empty());
    CHECK(r.minor == 0 || r.minor == 1);
    CHECK(r.headers.size() <= l.max_headers);
    CHECK(!(r.chunked && r.has_length));
    CHECK(!r.upgrade_websocket || r.minor == 1);
    CHECK(r.target.size() < l.max_line);
    std::string s;
    s.append(r.method).append(" ").append(r.target).append(" ").append(r.path);
    s.append("?").append(r.query).append(" 1.").append(std::to_string(r.minor));
    for (const auto& h : r.headers) {
        CHECK(!h.name.empty());
        CHECK(r.header(h.name).data() != nullptr);
        s.append("|").append(h.name).append(":").append(h.value);
    }
    s += r.keep_alive ? " ka" : "";
    s += r.chunked ? " chunked" : "";
    s += r.upgrade_websocket ? " ws" : "";
    if (r.has_length) s += " len=" + std::to_string(r.content_length);
    return s;
}

// Feeds p[*off, n) in pieces of `step` (0: all) until the head is complete or refused.
Rc feed_head(RequestParser& parser, const uint8_t* p, size_t n, size_t step, size_t* off)
{
    Rc rc = Rc::again;
    while (*off < n) {
        size_t k = step && step < n - *off ? step : n - *off;
        size_t used = 0;
        rc = parser.feed(p + *off, k, &used);
        CHECK(used <= k);
        if (rc == Rc::again) CHECK(used == k);
        if (rc == Rc::error) {
            int st = parser.status();
            CHECK(st == 400 || st == 414 || st == 431 || st == 501 || st == 505);
            CHECK(parser.reason()[0] != '\0');
        }
        *off += used;
        if (rc != Rc::again) break;
    }
    return rc;
}

// The body, through the documented loop, piece by piece.
Rc feed_body(BodyDecoder& d, const uint8_t* p, size_t n, size_t step, size_t* off,
             std::string* body, uint64_t max_body)
{
    Rc rc = Rc::again;
    for (;;) {
        size_t end = step && step < n - *off ? *off + step : n;
        for (;;) {
            size_t used = 0;
            std::string_view out;
            rc = d.feed(p + *off, end - *off, &used, &out);
            CHECK(used <= end - *off);
            *off += used;
            if (rc == Rc::ok) {
                // A view of the input, ending where this call stopped.
                CHECK(!out.empty() && out.size() <= used);
                CHECK(reinterpret_cast<const uint8_t*>(out.data()) + out.size() == p + *off);
                body->append(out);
                CHECK(body->size() <= max_body && body->size() == d.received());
                continue;
            }
            CHECK(out.empty());
            if (rc == Rc::again) CHECK(*off == end);
            if (rc == Rc::error) {
                int st = d.status();
                CHECK(st == 400 || st == 413 || st == 431);
                CHECK(d.reason()[0] != '\0');
            }
            break;
        }
        if (rc != Rc::again || *off == n) break;
    }
    return rc;
}

Outcome run(const uint8_t* p, size_t n, size_t step, const RequestLimits& l, const BodyLimits& bl)
{
    Outcome o;
    RequestParser parser(l);
    BodyDecoder body(bl);
    size_t off = 0;
    for (int round = 0; round < 2; ++round) {
        o.rc = feed_head(parser, p, n, step, &off);
        if (o.rc != Rc::ok) {
            o.status = parser.status();
            return o;
        }
        o.parts.push_back(describe(parser.request(), l));
        if (body.start(parser.request()) != Rc::ok) {
            CHECK(body.status() == 413);
            o.rc = Rc::error;
            o.status = 413;
            return o;
        }
        std::string data;
        o.rc = feed_body(body, p, n, step, &off, &data, bl.max_body);
        o.parts.push_back(data);
        if (o.rc != Rc::done) {
            o.status = body.status();
            return o;
        }
        o.used = off;
        parser.reset();
    }
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 2) return 0;
    size_t step = data[0];
    RequestLimits l;
    l.max_line = 24 + size_t(data[1] & 15) * 16;
    l.max_header_bytes = 64 + size_t(data[1] >> 4) * 64;
    l.max_headers = 1 + (data[1] & 7);
    BodyLimits bl;
    bl.max_body = 16 + size_t(data[1]) * 4;
    bl.max_chunk_line = 8 + (data[1] & 31);
    bl.max_trailer = 16 + (data[1] >> 3);
    Outcome whole = run(data + 2, size - 2, 0, l, bl);
    Outcome pieces = run(data + 2, size - 2, step, l, bl);
    CHECK(whole.rc == pieces.rc);
    CHECK(whole.status == pieces.status);
    CHECK(whole.parts == pieces.parts);
    CHECK(whole.used == pieces.used);
    return 0;
}
