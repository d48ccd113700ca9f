// WebSocket framing (http/websocket.h): the RFC 6455 accept key, server frame headers and
// close frames, and FrameParser on the section 5.7 examples and larger frames, fed whole,
// at every split point and byte by byte through both overloads with the same events; and
// each protocol violation with its close code.
#include "http/websocket.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace strom;
using namespace strom::http::ws;

namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint8_t kKey[4] = {0x37, 0xfa, 0x21, 0x3d};  // the mask of the RFC's examples

// A client frame: masked with kKey unless `masked` is false; the length in its shortest form.
Bytes frame(uint8_t b0, const std::string& payload, bool masked = true)
{
    Bytes f(kMaxFrameHeader);
    f.resize(write_frame_header(f.data(), b0 & 0x0f, b0 & 0x80, payload.size()));
    f[0] = b0;  // keep any RSV bits a test asks for
    if (masked) {
        f[1] |= 0x80;
        f.insert(f.end(), kKey, kKey + 4);
    }
    for (size_t i = 0; i < payload.size(); ++i) {
        f.push_back(uint8_t(payload[i]) ^ (masked ? kKey[i & 3] : 0));
    }
    return f;
}

Bytes cat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const Bytes& b : parts) out.insert(out.end(), b.begin(), b.end());
    return out;
}

struct Outcome {
    std::vector<std::string> events;  // data pieces merged, so any split gives the same list
    Rc rc = Rc::again;
    uint16_t code = 0;
    size_t data_events = 0;
    bool operator==(const Outcome& o) const
    {
        return events == o.events && rc == o.rc && code == o.code;
    }
};

void record(Outcome* o, const FrameEvent& ev)
{
    char buf[96];
    switch (ev.kind) {
        case FrameEvent::Kind::frame_start:
            snprintf(buf, sizeof(buf), "start op=%d msg=%d fin=%d len=%llu", ev.opcode,
                     ev.message_opcode, ev.fin, (unsigned long long)ev.length);
            o->events.push_back(buf);
            return;
        case FrameEvent::Kind::data:
            EXPECT_FALSE(ev.data.empty());
            ++o->data_events;
            if (o->events.empty() || o->events.back().rfind("data:", 0) != 0) {
                o->events.push_back("data:");
            }
            o->events.back().append(ev.data);
            return;
        case FrameEvent::Kind::frame_end:
            snprintf(buf, sizeof(buf), "end op=%d fin=%d", ev.opcode, ev.fin);
            o->events.push_back(buf);
            return;
        case FrameEvent::Kind::control:
            snprintf(buf, sizeof(buf), "control op=%d code=%d reason=", ev.opcode, ev.close_code);
            o->events.push_back(std::string(buf) + std::string(ev.close_reason) +
                                " payload=" + std::string(ev.data));
            return;
    }
}

// Feeds `in` in pieces of `step` bytes (0: whole), calling feed() until again as the
// header documents; in_place picks the mutable overload (on a copy of the input).
Outcome parse(const Bytes& input, size_t step, bool in_place, FrameLimits l = {})
{
    Bytes in = input;
    FrameParser p(l);
    Outcome o;
    size_t off = 0;
    while (off <= in.size()) {
        size_t end = step ? std::min(off + step, in.size()) : in.size();
        for (;;) {
            size_t used = 0;
            FrameEvent ev;
            o.rc = in_place ? p.feed(in.data() + off, end - off, &used, &ev)
                            : p.feed(static_cast<const uint8_t*>(in.data()) + off, end - off, &used,
                                     &ev);
            EXPECT_LE(used, end - off);
            off += used;
            if (o.rc == Rc::ok) {
                record(&o, ev);
                continue;
            }
            if (o.rc == Rc::again) {
                EXPECT_EQ(off, end) << "again must consume everything";
            }
            break;
        }
        if (o.rc != Rc::again || off == in.size()) break;
    }
    o.code = p.close_code();
    if (o.rc == Rc::error) {
        EXPECT_NE(p.reason()[0], '\0');
    }
    return o;
}

// Whole, at every cut (or every `stride`-th for big inputs), byte by byte, both overloads.
Outcome parse_all_ways(const Bytes& in, FrameLimits l = {}, size_t stride = 1)
{
    Outcome whole = parse(in, 0, false, l);
    EXPECT_TRUE(parse(in, 0, true, l) == whole) << "in place";
    EXPECT_TRUE(parse(in, 1, false, l) == whole) << "byte by byte";
    EXPECT_TRUE(parse(in, 1, true, l) == whole) << "byte by byte in place";
    for (size_t cut = 1; cut < in.size(); cut += stride) {
        for (bool in_place : {false, true}) {
            FrameParser p(l);
            Bytes copy = in;
            Outcome o;
            size_t off = 0;
            for (size_t end : {cut, in.size()}) {
                for (;;) {
                    size_t used = 0;
                    FrameEvent ev;
                    o.rc = in_place ? p.feed(copy.data() + off, end - off, &used, &ev)
                                    : p.feed(static_cast<const uint8_t*>(copy.data()) + off,
                                             end - off, &used, &ev);
                    off += used;
                    if (o.rc != Rc::ok) break;
                    record(&o, ev);
                }
                if (o.rc != Rc::again) break;
            }
            o.code = p.close_code();
            EXPECT_TRUE(o == whole) << "cut at " << cut << (in_place ? " in place" : "");
        }
    }
    return whole;
}

uint16_t error_code(const Bytes& in, FrameLimits l = {})
{
    Outcome o = parse_all_ways(in, l);
    EXPECT_EQ(o.rc, Rc::error);
    return o.code;
}

std::string hex(const uint8_t* p, size_t n)
{
    std::string s;
    char b[4];
    for (size_t i = 0; i < n; ++i) {
        snprintf(b, sizeof(b), "%02x", p[i]);
        s += b;
    }
    return s;
}

}  // namespace

TEST(WebSocket, AcceptKeyRfcExample)
{
    // RFC 6455 1.3 (and 4.2.2): the sample nonce's accept value.
    EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocket, ServerFrameHeadersUseTheShortestLength)
{
    uint8_t h[kMaxFrameHeader];
    ASSERT_EQ(write_frame_header(h, kText, true, 5), 2u);  // RFC 6455 5.7 "Hello"
    EXPECT_EQ(hex(h, 2), "8105");
    ASSERT_EQ(write_frame_header(h, kText, false, 3), 2u);  // the first of "Hel" "lo"
    EXPECT_EQ(hex(h, 2), "0103");
    ASSERT_EQ(write_frame_header(h, kContinuation, true, 2), 2u);
    EXPECT_EQ(hex(h, 2), "8002");
    ASSERT_EQ(write_frame_header(h, kBinary, true, 125), 2u);
    EXPECT_EQ(hex(h, 2), "827d");
    ASSERT_EQ(write_frame_header(h, kBinary, true, 126), 4u);
    EXPECT_EQ(hex(h, 4), "827e007e");
    ASSERT_EQ(write_frame_header(h, kBinary, true, 256), 4u);  // 5.7: 256 bytes
    EXPECT_EQ(hex(h, 4), "827e0100");
    ASSERT_EQ(write_frame_header(h, kBinary, true, 65535), 4u);
    EXPECT_EQ(hex(h, 4), "827effff");
    ASSERT_EQ(write_frame_header(h, kBinary, true, 65536), 10u);  // 5.7: 64 KiB
    EXPECT_EQ(hex(h, 10), "827f0000000000010000");
    ASSERT_EQ(write_frame_header(h, kPing, true, 5), 2u);
    EXPECT_EQ(hex(h, 2), "8905");
}

TEST(WebSocket, CloseFrames)
{
    uint8_t f[kMaxCloseFrame];
    size_t n = write_close_frame(f, kCloseNormal, "bye");
    EXPECT_EQ(hex(f, n), "880503e8627965");
    n = write_close_frame(f, 0, "ignored");
    EXPECT_EQ(hex(f, n), "8800");
    n = write_close_frame(f, 1005, "");
    EXPECT_EQ(hex(f, n), "8800") << "1005 is never sent";
    n = write_close_frame(f, kCloseNormal, {});   // a code without a reason (a null view)
    EXPECT_EQ(hex(f, n), "880203e8");
    std::string e_acute;
    for (int i = 0; i < 62; ++i) e_acute += "\xc3\xa9";  // 124 bytes: over 123
    n = write_close_frame(f, kCloseGoingAway, e_acute);
    ASSERT_EQ(n, 2u + 2 + 122) << "cut back to a character boundary";
    EXPECT_EQ(f[1], 124);
    // And our own parser reads it back.
    Bytes masked = frame(0x88, std::string(reinterpret_cast<char*>(f) + 2, n - 2));
    Outcome o = parse(masked, 0, false);
    ASSERT_EQ(o.events.size(), 1u);
    EXPECT_EQ(o.events[0].rfind("control op=8 code=1001 reason=\xc3\xa9", 0), 0u);
}

TEST(FrameParser, UnmaskedClientFrameIsAProtocolError)
{
    // RFC 6455 5.7: a single-frame unmasked text message, fine from a server, not from us.
    EXPECT_EQ(error_code({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), kCloseProtocolError);
}

TEST(FrameParser, MaskedHelloAtEverySplit)
{
    // RFC 6455 5.7: a single-frame masked text message.
    Bytes in = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    Outcome o = parse_all_ways(in);
    EXPECT_EQ(o.rc, Rc::again);
    ASSERT_EQ(o.events.size(), 3u);
    EXPECT_EQ(o.events[0], "start op=1 msg=1 fin=1 len=5");
    EXPECT_EQ(o.events[1], "data:Hello");
    EXPECT_EQ(o.events[2], "end op=1 fin=1");
    EXPECT_EQ(in, frame(0x81, "Hello")) << "the test's frame builder agrees";
}

TEST(FrameParser, FragmentedHelloWithAPingBetween)
{
    // RFC 6455 5.7 "Hel" + "lo" (masked here), and 5.4: a control frame between fragments.
    Bytes in = cat({frame(0x01, "Hel"), frame(0x89, "ping!"), frame(0x80, "lo")});
    Outcome o = parse_all_ways(in);
    EXPECT_EQ(o.rc, Rc::again);
    std::vector<std::string> want = {
        "start op=1 msg=1 fin=0 len=3",
        "data:Hel",
        "end op=1 fin=0",
        "control op=9 code=0 reason= payload=ping!",
        "start op=0 msg=1 fin=1 len=2",
        "data:lo",
        "end op=0 fin=1",
    };
    EXPECT_EQ(o.events, want);
}

TEST(FrameParser, MaskedPongAndEmptyPing)
{
    // RFC 6455 5.7: a masked Pong with "Hello".
    Bytes pong = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    Outcome o = parse_all_ways(cat({pong, frame(0x89, "")}));
    std::vector<std::string> want = {"control op=10 code=0 reason= payload=Hello",
                                     "control op=9 code=0 reason= payload="};
    EXPECT_EQ(o.events, want);
}

TEST(FrameParser, Binary256AtEverySplit)
{
    std::string payload;
    for (int i = 0; i < 256; ++i) payload += char(i);
    Bytes in = frame(0x82, payload);
    ASSERT_EQ(hex(in.data(), 4), "82fe0100");
    Outcome o = parse_all_ways(in);
    ASSERT_EQ(o.events.size(), 3u);
    EXPECT_EQ(o.events[0], "start op=2 msg=2 fin=1 len=256");
    EXPECT_EQ(o.events[1], "data:" + payload);
}

TEST(FrameParser, Binary64KiBDeliveredInPiecesWithoutBuffering)
{
    std::string payload;
    for (int i = 0; i < 65536; ++i) payload += char(i * 7);
    Bytes in = frame(0x82, payload);
    ASSERT_EQ(hex(in.data(), 10), "82ff0000000000010000");
    Outcome o = parse_all_ways(in, {}, 4099);
    ASSERT_EQ(o.events.size(), 3u);
    EXPECT_EQ(o.events[0], "start op=2 msg=2 fin=1 len=65536");
    EXPECT_EQ(o.events[1], "data:" + payload);
    // The copying overload unmasks at most kUnmaskChunk at a time; in place takes all.
    EXPECT_EQ(parse(in, 0, false).data_events, 65536 / FrameParser::kUnmaskChunk);
    EXPECT_EQ(parse(in, 0, true).data_events, 1u);
}

TEST(FrameParser, InPlaceViewsPointIntoTheInput)
{
    Bytes in = frame(0x82, "abcdef");
    FrameParser p;
    FrameEvent ev;
    size_t used = 0;
    ASSERT_EQ(p.feed(in.data(), in.size(), &used, &ev), Rc::ok);
    EXPECT_EQ(ev.kind, FrameEvent::Kind::frame_start);
    size_t off = used;
    ASSERT_EQ(p.feed(in.data() + off, in.size() - off, &used, &ev), Rc::ok);
    EXPECT_EQ(ev.kind, FrameEvent::Kind::data);
    EXPECT_EQ(ev.data, "abcdef");
    EXPECT_EQ(reinterpret_cast<const uint8_t*>(ev.data.data()), in.data() + off);
}

TEST(FrameParser, LengthsOutOfRange)
{
    // 5.2: the most significant bit of a 64-bit length must be 0.
    Bytes top = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x37, 0xfa, 0x21, 0x3d};
    EXPECT_EQ(error_code(top), kCloseProtocolError);
    // Not in the shortest form.
    EXPECT_EQ(error_code({0x82, 0xfe, 0x00, 0x7d, 1, 2, 3, 4}), kCloseProtocolError);
    EXPECT_EQ(error_code({0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4}),
              kCloseProtocolError);
    FrameLimits l;
    l.max_frame = 300;
    l.max_message = 500;
    EXPECT_EQ(parse_all_ways(frame(0x82, std::string(300, 'x')), l).rc, Rc::again);
    EXPECT_EQ(error_code(frame(0x82, std::string(301, 'x')), l), kCloseTooBig);
    Bytes three = cat({frame(0x02, std::string(200, 'x')), frame(0x00, std::string(200, 'x')),
                       frame(0x80, std::string(101, 'x'))});
    EXPECT_EQ(error_code(three, l), kCloseTooBig) << "the message, summed over its frames";
    Bytes fits = cat({frame(0x02, std::string(200, 'x')), frame(0x80, std::string(300, 'x')),
                      frame(0x82, std::string(300, 'x'))});
    EXPECT_EQ(parse_all_ways(fits, l).rc, Rc::again) << "the count restarts per message";
}

TEST(FrameParser, HeaderViolationsAre1002)
{
    EXPECT_EQ(error_code(frame(0xc1, "x")), kCloseProtocolError) << "RSV1 without extension";
    EXPECT_EQ(error_code(frame(0xa1, "x")), kCloseProtocolError) << "RSV2";
    EXPECT_EQ(error_code(frame(0x91, "x")), kCloseProtocolError) << "RSV3";
    EXPECT_EQ(error_code(frame(0x83, "x")), kCloseProtocolError) << "reserved data opcode";
    EXPECT_EQ(error_code(frame(0x8b, "x")), kCloseProtocolError) << "reserved control opcode";
    EXPECT_EQ(error_code(frame(0x89, std::string(126, 'p'))), kCloseProtocolError);
    EXPECT_EQ(error_code(frame(0x09, "p")), kCloseProtocolError) << "fragmented ping";
    EXPECT_EQ(error_code(frame(0x80, "x")), kCloseProtocolError) << "continuation first";
    EXPECT_EQ(error_code(cat({frame(0x01, "a"), frame(0x81, "b")})), kCloseProtocolError)
        << "a new message during a fragmented one";
    EXPECT_EQ(error_code(cat({frame(0x81, "a"), frame(0x80, "b")})), kCloseProtocolError)
        << "continuation after a complete message";
    // The error comes at the bad header: events before it were delivered.
    Outcome o = parse(cat({frame(0x81, "ok"), frame(0xc1, "x")}), 0, false);
    EXPECT_EQ(o.events.size(), 3u);
    EXPECT_EQ(o.rc, Rc::error);
}

TEST(FrameParser, TextMustBeUtf8AcrossFrames)
{
    // U+00E9 split between two fragments is fine; so is a 4-byte character.
    Bytes split = cat({frame(0x01, "caf\xc3"), frame(0x80, "\xa9 \xf0\x9f\x8e\xa5")});
    Outcome o = parse_all_ways(split);
    EXPECT_EQ(o.rc, Rc::again);
    EXPECT_EQ(o.events.size(), 6u);
    EXPECT_EQ(error_code(frame(0x81, "a\xffz")), kCloseInvalidData);
    EXPECT_EQ(error_code(frame(0x81, "\xc0\xaf")), kCloseInvalidData) << "overlong";
    EXPECT_EQ(error_code(frame(0x81, "\xed\xa0\x80")), kCloseInvalidData) << "surrogate";
    EXPECT_EQ(error_code(frame(0x81, "\xf4\x90\x80\x80")), kCloseInvalidData) << "> U+10FFFF";
    EXPECT_EQ(error_code(frame(0x81, "caf\xc3")), kCloseInvalidData) << "cut at the end";
    EXPECT_EQ(error_code(cat({frame(0x01, "caf\xc3"), frame(0x80, "x")})), kCloseInvalidData);
    // Binary is not checked.
    EXPECT_EQ(parse_all_ways(frame(0x82, "\xff\xc3")).rc, Rc::again);
}

TEST(FrameParser, CloseFrames)
{
    Outcome o = parse_all_ways(cat({frame(0x88,
                                          "\x03\xe8"
                                          "done"),
                                    frame(0x81, "late")}));
    EXPECT_EQ(o.rc, Rc::done) << "nothing is read after a close";
    ASSERT_EQ(o.events.size(), 1u);
    EXPECT_EQ(o.events[0],
              "control op=8 code=1000 reason=done payload=\x03\xe8"
              "done");
    o = parse_all_ways(frame(0x88, ""));
    ASSERT_EQ(o.events.size(), 1u);
    EXPECT_EQ(o.events[0], "control op=8 code=1005 reason= payload=");
    EXPECT_EQ(parse_all_ways(frame(0x88, "\x0b\xb8")).rc, Rc::done) << "3000 is allowed";
    EXPECT_EQ(error_code(frame(0x88, "\x03")), kCloseProtocolError) << "1-byte body";
    EXPECT_EQ(error_code(frame(0x88, "\x03\xe7")), kCloseProtocolError) << "999";
    EXPECT_EQ(error_code(frame(0x88, "\x03\xed")), kCloseProtocolError) << "1005 on the wire";
    EXPECT_EQ(error_code(frame(0x88, "\x03\xee")), kCloseProtocolError) << "1006";
    EXPECT_EQ(error_code(frame(0x88, "\x13\x88")), kCloseProtocolError) << "5000";
    EXPECT_EQ(error_code(frame(0x88, "\x03\xe8\xff")), kCloseInvalidData) << "reason not UTF-8";
}

TEST(FrameParser, EmptyDataFramesStillStartAndEnd)
{
    Outcome o = parse_all_ways(cat({frame(0x02, ""), frame(0x80, "")}));
    std::vector<std::string> want = {"start op=2 msg=2 fin=0 len=0", "end op=2 fin=0",
                                     "start op=0 msg=2 fin=1 len=0", "end op=0 fin=1"};
    EXPECT_EQ(o.events, want);
}

TEST(FrameParser, ErrorIsSticky)
{
    FrameParser p;
    Bytes bad = frame(0xc1, "x");
    size_t used = 0;
    FrameEvent ev;
    ASSERT_EQ(p.feed(static_cast<const uint8_t*>(bad.data()), bad.size(), &used, &ev), Rc::error);
    EXPECT_EQ(p.close_code(), kCloseProtocolError);
    Bytes good = frame(0x81, "x");
    EXPECT_EQ(p.feed(static_cast<const uint8_t*>(good.data()), good.size(), &used, &ev), Rc::error);
    EXPECT_EQ(used, 0u);
}
