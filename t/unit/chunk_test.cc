// Chunk stream: reader, writer, control messages, aggregates, ack bookkeeping.
// Every stream is fed whole, split at every point (small inputs) and byte by byte, and the
// messages must be identical; every test ends with the pool's outstanding count at 0.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/buf.h"
#include "core/bytes.h"
#include "rtmp/ack_window.h"
#include "rtmp/aggregate.h"
#include "rtmp/chunk_reader.h"
#include "rtmp/chunk_writer.h"
#include "rtmp/message.h"

using namespace strom;
using namespace strom::rtmp;

namespace {

// A received message, flattened for comparison.
struct Rec {
    uint8_t type;
    uint32_t csid, msid, ts, length;
    std::vector<uint8_t> data;
    bool operator==(const Rec&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Rec& r)
{
    return os << "{type " << int(r.type) << " csid " << r.csid << " msid " << r.msid << " ts "
              << r.ts << " len " << r.length << "}";
}

class Recorder : public MessageSink {
public:
    std::vector<Rec> msgs;
    Rc on_message(Message& m) override
    {
        EXPECT_EQ(chain_size(m.payload.get()), m.length);
        Rec r{m.type, m.csid, m.msid, m.timestamp, m.length, std::vector<uint8_t>(m.length)};
        if (m.length) chain_copy(m.payload.get(), 0, r.data.data(), m.length);
        msgs.push_back(std::move(r));
        return Rc::ok;
    }
};

struct Result {
    std::vector<Rec> msgs;
    Rc rc = Rc::again;
    std::string reason;
};

// Little builder for hand-made chunk streams.
struct Bytes {
    std::vector<uint8_t> v;
    Bytes& u8(uint32_t x)
    {
        v.push_back(uint8_t(x));
        return *this;
    }
    Bytes& be24(uint32_t x) { return u8(x >> 16).u8(x >> 8).u8(x); }
    Bytes& be32(uint32_t x) { return u8(x >> 24).u8(x >> 16).u8(x >> 8).u8(x); }
    Bytes& le32(uint32_t x) { return u8(x).u8(x >> 8).u8(x >> 16).u8(x >> 24); }
    Bytes& fill(size_t n, uint8_t b)
    {
        v.insert(v.end(), n, b);
        return *this;
    }
    Bytes& seq(size_t n, uint8_t start)
    {
        for (size_t i = 0; i < n; ++i) v.push_back(uint8_t(start + i));
        return *this;
    }
    Bytes& raw(const std::vector<uint8_t>& o)
    {
        v.insert(v.end(), o.begin(), o.end());
        return *this;
    }
    Bytes& basic(uint8_t fmt, uint32_t csid)
    {
        if (csid < 64) return u8(fmt << 6 | csid);
        if (csid < 320) return u8(fmt << 6).u8(csid - 64);
        return u8(fmt << 6 | 1).u8((csid - 64) & 0xff).u8((csid - 64) >> 8);
    }
    Bytes& fmt0(uint32_t csid, uint32_t ts, uint32_t len, uint8_t type, uint32_t msid)
    {
        return basic(0, csid).be24(ts).be24(len).u8(type).le32(msid);
    }
    Bytes& fmt1(uint32_t csid, uint32_t delta, uint32_t len, uint8_t type)
    {
        return basic(1, csid).be24(delta).be24(len).u8(type);
    }
    Bytes& fmt2(uint32_t csid, uint32_t delta) { return basic(2, csid).be24(delta); }
    Bytes& fmt3(uint32_t csid) { return basic(3, csid); }
    Bytes& set_chunk_size(uint32_t n) { return fmt0(2, 0, 4, msg_type::set_chunk_size, 0).be32(n); }
};

std::vector<uint8_t> flatten(const BufRef& r)
{
    std::vector<uint8_t> out(chain_size(r.get()));
    chain_copy(r.get(), 0, out.data(), out.size());
    return out;
}

class ChunkTest : public ::testing::Test {
protected:
    // Small blocks so that payloads span many of them.
    BufPool pool{64, 1u << 20};
    ChunkLimits limits;

    void TearDown() override { EXPECT_EQ(pool.outstanding(), 0u); }

    // Feeds the pieces in order; stops at the first Rc other than again.
    Result feed_pieces(const std::vector<uint8_t>& in, const std::vector<size_t>& cuts)
    {
        Result res;
        Recorder rec;
        {
            ChunkReader r(pool, limits);
            size_t pos = 0;
            for (size_t i = 0; i <= cuts.size(); ++i) {
                size_t end = i < cuts.size() ? cuts[i] : in.size();
                size_t used = 0;
                res.rc = r.feed(in.data() + pos, end - pos, &used, rec);
                if (res.rc != Rc::again) break;
                EXPECT_EQ(used, end - pos);
                pos = end;
            }
            res.reason = r.reason();
        }
        res.msgs = std::move(rec.msgs);
        return res;
    }
    Result feed_whole(const std::vector<uint8_t>& in) { return feed_pieces(in, {}); }

    // Whole, at every split point (inputs up to 3000 bytes), in 7-byte steps and byte by
    // byte: the same messages and the same outcome every time.
    Result feed_every_way(const std::vector<uint8_t>& in)
    {
        Result whole = feed_whole(in);
        auto same = [&](const Result& r, const char* how, size_t at) {
            EXPECT_EQ(r.msgs, whole.msgs) << how << " " << at;
            EXPECT_EQ(r.rc, whole.rc) << how << " " << at;
            EXPECT_EQ(r.reason, whole.reason) << how << " " << at;
        };
        if (in.size() <= 3000) {
            for (size_t i = 0; i <= in.size(); ++i) same(feed_pieces(in, {i}), "split at", i);
        }
        for (size_t step : {size_t(1), size_t(7)}) {
            std::vector<size_t> cuts;
            for (size_t i = step; i < in.size(); i += step) cuts.push_back(i);
            same(feed_pieces(in, cuts), "steps of", step);
        }
        return whole;
    }

    BufRef frame(uint32_t chunk_size, const MsgHeader& h, const std::vector<uint8_t>& data)
    {
        BufRef out;
        EXPECT_EQ(frame_message(pool, chunk_size, h, data.data(), data.size(), &out), Rc::ok);
        return out;
    }
};

std::vector<uint8_t> pattern(size_t n, uint32_t seed = 1)
{
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) {
        seed = seed * 1103515245u + 12345u;
        v[i] = uint8_t(seed >> 16);
    }
    return v;
}

// ---------------------------------------------------------------------------------------
// RTMP spec 5.3.2 examples

// Example 1: four audio messages on csid 3, stream 12345, 32 bytes each, 20 ms apart:
// fmt 0, fmt 2, fmt 3, fmt 3.
std::vector<uint8_t> spec_example1()
{
    Bytes b;
    b.fmt0(3, 1000, 32, msg_type::audio, 12345).seq(32, 0);
    b.fmt2(3, 20).seq(32, 32);
    b.fmt3(3).seq(32, 64);
    b.fmt3(3).seq(32, 96);
    return b.v;
}

TEST_F(ChunkTest, SpecExample1SameStreamDeltas)
{
    std::vector<uint8_t> in = spec_example1();
    // The header bytes as the spec's table gives them.
    const uint8_t head[] = {0x03, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x20, 0x08, 0x39, 0x30, 0x00, 0x00};
    ASSERT_EQ(0, std::memcmp(in.data(), head, sizeof(head)));
    Result r = feed_every_way(in);
    EXPECT_EQ(r.rc, Rc::again);
    ASSERT_EQ(r.msgs.size(), 4u);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(r.msgs[i].type, msg_type::audio);
        EXPECT_EQ(r.msgs[i].csid, 3u);
        EXPECT_EQ(r.msgs[i].msid, 12345u);
        EXPECT_EQ(r.msgs[i].ts, 1000u + 20u * i);
        EXPECT_EQ(r.msgs[i].data, Bytes().seq(32, uint8_t(32 * i)).v);
    }
}

// Example 2: one 307-byte video message at chunk size 128: fmt 0, fmt 3, fmt 3.
std::vector<uint8_t> spec_example2(const std::vector<uint8_t>& payload)
{
    Bytes b;
    b.fmt0(4, 1000, 307, msg_type::video, 12346);
    b.raw(std::vector<uint8_t>(payload.begin(), payload.begin() + 128));
    b.fmt3(4).raw(std::vector<uint8_t>(payload.begin() + 128, payload.begin() + 256));
    b.fmt3(4).raw(std::vector<uint8_t>(payload.begin() + 256, payload.end()));
    return b.v;
}

TEST_F(ChunkTest, SpecExample2MessageSplitIntoChunks)
{
    std::vector<uint8_t> payload = pattern(307);
    std::vector<uint8_t> in = spec_example2(payload);
    ASSERT_EQ(in.size(), 12u + 128 + 1 + 128 + 1 + 51);
    EXPECT_EQ(in[7], 0x09);
    EXPECT_EQ(in[5], 0x01);  // length 0x000133
    EXPECT_EQ(in[6], 0x33);
    Result r = feed_every_way(in);
    ASSERT_EQ(r.msgs.size(), 1u);
    EXPECT_EQ(r.msgs[0], (Rec{msg_type::video, 4, 12346, 1000, 307, payload}));
}

TEST_F(ChunkTest, WriterProducesSpecExample2Bytes)
{
    std::vector<uint8_t> payload = pattern(307);
    BufRef out = frame(128, MsgHeader{4, msg_type::video, 12346, 1000}, payload);
    EXPECT_EQ(flatten(out), spec_example2(payload));
    EXPECT_EQ(framed_size(128, 4, 1000, 307), spec_example2(payload).size());
}

TEST_F(ChunkTest, WriterUsesFmt0ThenOnlyFmt3)
{
    // Example 1's second message, framed by us: a full header, not the spec's fmt 2.
    BufRef out = frame(128, MsgHeader{3, msg_type::audio, 12345, 1020}, Bytes().seq(32, 32).v);
    EXPECT_EQ(flatten(out), Bytes().fmt0(3, 1020, 32, msg_type::audio, 12345).seq(32, 32).v);
}

// ---------------------------------------------------------------------------------------
// Basic and message headers

TEST_F(ChunkTest, BasicHeaderOneTwoAndThreeBytes)
{
    struct Case {
        uint32_t csid;
        std::vector<uint8_t> bytes;
    } cases[] = {
        {2, {0x02}},
        {63, {0x3f}},
        {64, {0x00, 0x00}},
        {319, {0x00, 0xff}},
        {320, {0x01, 0x00, 0x01}},
        {65599, {0x01, 0xff, 0xff}},
        {1000, {0x01, 0xa8, 0x03}},  // 1000 - 64 = 936 = 0x03a8, little-endian
    };
    for (const Case& c : cases) {
        std::vector<uint8_t> data = {1, 2, 3};
        BufRef out = frame(128, MsgHeader{c.csid, msg_type::video, 1, 5}, data);
        std::vector<uint8_t> got = flatten(out);
        ASSERT_GE(got.size(), c.bytes.size());
        EXPECT_TRUE(std::equal(c.bytes.begin(), c.bytes.end(), got.begin())) << c.csid;
        Result r = feed_every_way(got);
        ASSERT_EQ(r.msgs.size(), 1u) << c.csid;
        EXPECT_EQ(r.msgs[0], (Rec{msg_type::video, c.csid, 1, 5, 3, data}));
    }
}

TEST_F(ChunkTest, Fmt1ChangesLengthAndTypeKeepsStreamId)
{
    Bytes b;
    b.fmt0(5, 100, 3, msg_type::audio, 7).seq(3, 0);
    b.fmt1(5, 10, 5, msg_type::video).seq(5, 10);
    b.fmt2(5, 30).seq(5, 20);
    b.fmt3(5).seq(5, 30);  // a new message: the last delta again (RTMP spec 5.3.1.2.4)
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 4u);
    EXPECT_EQ(r.msgs[0], (Rec{msg_type::audio, 5, 7, 100, 3, Bytes().seq(3, 0).v}));
    EXPECT_EQ(r.msgs[1], (Rec{msg_type::video, 5, 7, 110, 5, Bytes().seq(5, 10).v}));
    EXPECT_EQ(r.msgs[2], (Rec{msg_type::video, 5, 7, 140, 5, Bytes().seq(5, 20).v}));
    EXPECT_EQ(r.msgs[3], (Rec{msg_type::video, 5, 7, 170, 5, Bytes().seq(5, 30).v}));
}

TEST_F(ChunkTest, Fmt3AfterFmt0AddsTheAbsoluteTimestampAsDelta)
{
    // What ffmpeg, librtmp and SRS do with a fmt 3 message right after a fmt 0 one.
    Bytes b;
    b.fmt0(6, 40, 1, msg_type::audio, 1).u8(1);
    b.fmt3(6).u8(2);
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 2u);
    EXPECT_EQ(r.msgs[1].ts, 80u);
}

TEST_F(ChunkTest, InterleavedChunkStreams)
{
    std::vector<uint8_t> a = pattern(200, 3), v = pattern(300, 4);
    Bytes b;
    b.fmt0(4, 0, 300, msg_type::video, 1).raw({v.begin(), v.begin() + 128});
    b.fmt0(6, 5, 200, msg_type::audio, 1).raw({a.begin(), a.begin() + 128});
    b.fmt3(4).raw({v.begin() + 128, v.begin() + 256});
    b.fmt3(6).raw({a.begin() + 128, a.end()});
    b.fmt3(4).raw({v.begin() + 256, v.end()});
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 2u);
    EXPECT_EQ(r.msgs[0], (Rec{msg_type::audio, 6, 1, 5, 200, a}));
    EXPECT_EQ(r.msgs[1], (Rec{msg_type::video, 4, 1, 0, 300, v}));
}

TEST_F(ChunkTest, ZeroLengthMessages)
{
    Bytes b;
    b.fmt0(3, 1, 0, msg_type::command_amf0, 0);
    b.fmt3(3);
    b.fmt0(4, 9, 0, msg_type::video, 1);
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 3u);
    EXPECT_EQ(r.msgs[0], (Rec{msg_type::command_amf0, 3, 0, 1, 0, {}}));
    EXPECT_EQ(r.msgs[1], (Rec{msg_type::command_amf0, 3, 0, 2, 0, {}}));
    EXPECT_EQ(r.msgs[2], (Rec{msg_type::video, 4, 1, 9, 0, {}}));
}

// ---------------------------------------------------------------------------------------
// Extended timestamps (RTMP spec 5.3.1.3)

TEST_F(ChunkTest, ExtendedTimestampOnFmt0)
{
    Bytes b;
    b.fmt0(4, 0xFFFFFF, 2, msg_type::video, 1).be32(0x12345678).u8(1).u8(2);
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 1u);
    EXPECT_EQ(r.msgs[0].ts, 0x12345678u);
}

TEST_F(ChunkTest, ExtendedTimestampRepeatedOnFmt3Continuations)
{
    std::vector<uint8_t> p = pattern(300);
    Bytes b;
    b.fmt0(4, 0xFFFFFF, 300, msg_type::video, 1).be32(0x01000000).raw({p.begin(), p.begin() + 128});
    b.fmt3(4).be32(0x01000000).raw({p.begin() + 128, p.begin() + 256});
    b.fmt3(4).be32(0x01000000).raw({p.begin() + 256, p.end()});
    // The writer produces exactly this.
    BufRef out = frame(128, MsgHeader{4, msg_type::video, 1, 0x01000000}, p);
    EXPECT_EQ(flatten(out), b.v);
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 1u);
    EXPECT_EQ(r.msgs[0], (Rec{msg_type::video, 4, 1, 0x01000000, 300, p}));
}

TEST_F(ChunkTest, ExtendedTimestampNotRepeatedOnFmt3Continuations)
{
    std::vector<uint8_t> p = pattern(300, 9);
    Bytes b;
    b.fmt0(4, 0xFFFFFF, 300, msg_type::video, 1).be32(0x01000000).raw({p.begin(), p.begin() + 128});
    b.fmt3(4).raw({p.begin() + 128, p.begin() + 256});
    b.fmt3(4).raw({p.begin() + 256, p.end()});
    b.fmt0(5, 7, 3, msg_type::audio, 1).seq(3, 0);
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 2u);
    EXPECT_EQ(r.msgs[0], (Rec{msg_type::video, 4, 1, 0x01000000, 300, p}));
    EXPECT_EQ(r.msgs[1], (Rec{msg_type::audio, 5, 1, 7, 3, Bytes().seq(3, 0).v}));
}

TEST_F(ChunkTest, NonRepeatedExtendedTimestampWithShortLastChunk)
{
    // The last chunks carry 1 and 2 bytes: the 4 bytes peeked for a repeat run into the
    // next chunk's header and must be parsed again as such.
    std::vector<uint8_t> p = pattern(129, 5), q = pattern(130, 6);
    Bytes b;
    b.fmt0(4, 0xFFFFFF, 129, msg_type::video, 1).be32(0x02000000).raw({p.begin(), p.begin() + 128});
    b.fmt3(4).u8(p[128]);
    b.fmt0(6, 0xFFFFFF, 130, msg_type::audio, 1).be32(0x02000001).raw({q.begin(), q.begin() + 128});
    b.fmt3(6).u8(q[128]).u8(q[129]);
    b.fmt0(3, 1, 1, msg_type::command_amf0, 0).u8(0x55);
    Result r = feed_every_way(b.v);
    EXPECT_EQ(r.rc, Rc::again);
    ASSERT_EQ(r.msgs.size(), 3u);
    EXPECT_EQ(r.msgs[0], (Rec{msg_type::video, 4, 1, 0x02000000, 129, p}));
    EXPECT_EQ(r.msgs[1], (Rec{msg_type::audio, 6, 1, 0x02000001, 130, q}));
    EXPECT_EQ(r.msgs[2], (Rec{msg_type::command_amf0, 3, 0, 1, 1, {0x55}}));
}

TEST_F(ChunkTest, ExtendedTimestampOnFmt3NewMessageIsTheDelta)
{
    Bytes b;
    b.fmt0(4, 0xFFFFFF, 1, msg_type::video, 1).be32(0x01000000).u8(1);
    b.fmt2(4, 0xFFFFFF).be32(0x01000000).u8(2);  // delta >= 0xFFFFFF
    b.fmt3(4).be32(0x01000000).u8(3);            // new message: the field is required
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 3u);
    EXPECT_EQ(r.msgs[0].ts, 0x01000000u);
    EXPECT_EQ(r.msgs[1].ts, 0x02000000u);
    EXPECT_EQ(r.msgs[2].ts, 0x03000000u);
}

TEST_F(ChunkTest, Fmt1ExtendedDeltaAccumulates)
{
    Bytes b;
    b.fmt0(4, 10, 1, msg_type::video, 1).u8(1);
    b.fmt1(4, 0xFFFFFF, 1, msg_type::video).be32(100).u8(2);
    b.fmt2(4, 5).u8(3);  // back to a plain delta: no 4 bytes follow
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 3u);
    EXPECT_EQ(r.msgs[1].ts, 110u);
    EXPECT_EQ(r.msgs[2].ts, 115u);
}

TEST_F(ChunkTest, TimestampsCrossing24BitsAndWrapping32)
{
    Bytes b;
    b.fmt0(4, 0xFFFFFE, 1, msg_type::video, 1).u8(0);
    b.fmt2(4, 1).u8(1);  // 0xFFFFFF
    b.fmt2(4, 1).u8(2);  // 0x1000000
    b.fmt0(5, 0xFFFFFF, 1, msg_type::audio, 1).be32(0xFFFFFFF0).u8(3);
    b.fmt2(5, 0x20).u8(4);  // wraps to 0x10
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 5u);
    EXPECT_EQ(r.msgs[0].ts, 0xFFFFFEu);
    EXPECT_EQ(r.msgs[1].ts, 0xFFFFFFu);
    EXPECT_EQ(r.msgs[2].ts, 0x1000000u);
    EXPECT_EQ(r.msgs[3].ts, 0xFFFFFFF0u);
    EXPECT_EQ(r.msgs[4].ts, 0x10u);
}

TEST_F(ChunkTest, WriterExtendedTimestampBoundary)
{
    for (uint32_t ts : {0xFFFFFEu, 0xFFFFFFu, 0x1000000u, 0xFFFFFFFFu}) {
        std::vector<uint8_t> p = pattern(200, ts);
        BufRef out = frame(64, MsgHeader{9, msg_type::audio, 3, ts}, p);
        std::vector<uint8_t> bytes = flatten(out);
        EXPECT_EQ(bytes.size(), framed_size(64, 9, ts, 200));
        bool ext = ts >= 0xFFFFFF;
        EXPECT_EQ(bytes.size(), 12u + 200 + 3 * 1 + (ext ? 4 * 4 : 0)) << ts;
        EXPECT_EQ(load_be24(bytes.data() + 1), ext ? 0xFFFFFFu : ts);
        Bytes setup;
        setup.set_chunk_size(64).raw(bytes);
        Result r = feed_every_way(setup.v);
        ASSERT_EQ(r.msgs.size(), 2u);
        EXPECT_EQ(r.msgs[1], (Rec{msg_type::audio, 9, 3, ts, 200, p}));
    }
}

// ---------------------------------------------------------------------------------------
// Set Chunk Size and Abort

TEST_F(ChunkTest, SetChunkSizeAppliesToTheNextChunk)
{
    std::vector<uint8_t> p = pattern(600);
    Bytes b;
    b.set_chunk_size(256);
    b.fmt0(4, 0, 600, msg_type::video, 1).raw({p.begin(), p.begin() + 256});
    b.fmt3(4).raw({p.begin() + 256, p.begin() + 512});
    b.fmt3(4).raw({p.begin() + 512, p.end()});
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 2u);
    EXPECT_EQ(r.msgs[0].type, msg_type::set_chunk_size);  // still delivered
    EXPECT_EQ(r.msgs[1], (Rec{msg_type::video, 4, 1, 0, 600, p}));
}

TEST_F(ChunkTest, SetChunkSizeWhileAnotherCsidHasAPartialMessage)
{
    // nginx-rtmp 2f2db81 class: the half-received message continues at the new size.
    std::vector<uint8_t> p = pattern(400);
    Bytes b;
    b.fmt0(4, 0, 400, msg_type::video, 1).raw({p.begin(), p.begin() + 128});
    b.set_chunk_size(1000);
    b.fmt3(4).raw({p.begin() + 128, p.end()});
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 2u);
    EXPECT_EQ(r.msgs[1], (Rec{msg_type::video, 4, 1, 0, 400, p}));
}

TEST_F(ChunkTest, SetChunkSizeHighBitMaskedAndLimits)
{
    {
        Bytes b;
        b.set_chunk_size(0x80000100).fmt0(4, 0, 300, msg_type::video, 1).fill(256, 1);
        b.fmt3(4).fill(44, 2);
        Result r = feed_every_way(b.v);
        ASSERT_EQ(r.msgs.size(), 2u);
        EXPECT_EQ(r.msgs[1].length, 300u);
    }
    {
        Bytes b;
        b.set_chunk_size(0x7FFFFFFF).fmt0(4, 0, 5000, msg_type::video, 1).fill(5000, 1);
        Result r = feed_every_way(b.v);
        ASSERT_EQ(r.msgs.size(), 2u);
        EXPECT_EQ(r.msgs[1].length, 5000u);
    }
    {
        Result r = feed_every_way(Bytes().set_chunk_size(0x80000000).v);
        EXPECT_EQ(r.rc, Rc::error);
        EXPECT_NE(std::string(r.reason).find("bad chunk size 0"), std::string::npos) << r.reason;
        EXPECT_TRUE(r.msgs.empty());
    }
    {
        limits.min_chunk_size = 128;
        Result r = feed_every_way(Bytes().set_chunk_size(127).v);
        EXPECT_EQ(r.rc, Rc::error);
        EXPECT_NE(std::string(r.reason).find("bad chunk size 127 (min 128)"), std::string::npos)
            << r.reason;
        EXPECT_EQ(feed_whole(Bytes().set_chunk_size(128).v).rc, Rc::again);
    }
    {
        Result r = feed_every_way(Bytes().fmt0(2, 0, 3, msg_type::set_chunk_size, 0).seq(3, 0).v);
        EXPECT_EQ(r.rc, Rc::error);
        EXPECT_NE(std::string(r.reason).find("set_chunk_size message too short (3 bytes)"),
                  std::string::npos)
            << r.reason;
    }
}

TEST_F(ChunkTest, ChunkSizeOneByteChunks)
{
    std::vector<uint8_t> p = pattern(20);
    Bytes b;
    b.set_chunk_size(1).fmt0(4, 0, 20, msg_type::video, 1).u8(p[0]);
    for (size_t i = 1; i < p.size(); ++i) b.fmt3(4).u8(p[i]);
    Result r = feed_every_way(b.v);
    ASSERT_EQ(r.msgs.size(), 2u);
    EXPECT_EQ(r.msgs[1].data, p);
}

TEST_F(ChunkTest, AbortDiscardsThePartialMessage)
{
    Bytes b;
    b.fmt0(5, 10, 200, msg_type::video, 1).fill(128, 0xAA);
    b.fmt0(2, 0, 4, msg_type::abort, 0).be32(5);
    b.fmt3(5).fill(128, 0xBB);  // starts a new 200-byte message (delta 10)
    b.fmt3(5).fill(72, 0xCC);
    b.fmt0(2, 0, 4, msg_type::abort, 0).be32(77);  // unknown csid: nothing to do
    Result r = feed_every_way(b.v);
    EXPECT_EQ(r.rc, Rc::again);
    ASSERT_EQ(r.msgs.size(), 3u);
    EXPECT_EQ(r.msgs[0].type, msg_type::abort);
    std::vector<uint8_t> want(128, 0xBB);
    want.insert(want.end(), 72, 0xCC);
    EXPECT_EQ(r.msgs[1], (Rec{msg_type::video, 5, 1, 20, 200, want}));
    EXPECT_EQ(r.msgs[2].type, msg_type::abort);
}

TEST_F(ChunkTest, AbortReleasesPartialBytes)
{
    ChunkReader r(pool, limits);
    Recorder rec;
    Bytes b;
    b.fmt0(5, 0, 300, msg_type::video, 1).fill(128, 1);
    size_t used;
    EXPECT_EQ(r.feed(b.v.data(), b.v.size(), &used, rec), Rc::again);
    EXPECT_EQ(r.partial_bytes(), 128u);
    EXPECT_GT(pool.outstanding(), 0u);
    Bytes a;
    a.fmt0(2, 0, 4, msg_type::abort, 0).be32(5);
    EXPECT_EQ(r.feed(a.v.data(), a.v.size(), &used, rec), Rc::again);
    EXPECT_EQ(r.partial_bytes(), 0u);
    rec.msgs.clear();
    EXPECT_EQ(pool.outstanding(), 0u);
}

// ---------------------------------------------------------------------------------------
// Strictness

TEST_F(ChunkTest, NewCsidMustStartWithFmt0)
{
    for (uint8_t fmt : {1, 2, 3}) {
        Bytes b;
        b.fmt0(3, 0, 1, msg_type::audio, 1).u8(0);
        if (fmt == 1) b.fmt1(5, 0, 1, msg_type::audio).u8(0);
        if (fmt == 2) b.fmt2(5, 0).u8(0);
        if (fmt == 3) b.fmt3(5).u8(0);
        Result r = feed_every_way(b.v);
        EXPECT_EQ(r.rc, Rc::error);
        EXPECT_EQ(r.reason, "fmt " + std::to_string(fmt) + " chunk on new csid 5");
        EXPECT_EQ(r.msgs.size(), 1u);
    }
}

TEST_F(ChunkTest, Fmt1OnNewCsid2IsAcceptedForLibrtmp)
{
    // librtmp's first ping on csid 2 comes with a fmt 1 header (SRS #98).
    Bytes b;
    b.fmt1(2, 0, 6, msg_type::user_control).be24(0x000006).be24(0x000d0f);
    Result r = feed_every_way(b.v);
    EXPECT_EQ(r.rc, Rc::again);
    ASSERT_EQ(r.msgs.size(), 1u);
    EXPECT_EQ(r.msgs[0].type, msg_type::user_control);
    EXPECT_EQ(r.msgs[0].msid, 0u);
}

TEST_F(ChunkTest, Fmt0InTheMiddleOfAMessageIsAnError)
{
    Bytes b;
    b.fmt0(4, 0, 200, msg_type::video, 1).fill(128, 0);
    b.fmt0(4, 0, 200, msg_type::video, 1).fill(72, 0);
    Result r = feed_every_way(b.v);
    EXPECT_EQ(r.rc, Rc::error);
    EXPECT_EQ(r.reason, "new header in the middle of a message (fmt 0 on csid 4)");
}

TEST_F(ChunkTest, LengthChangeMidMessageIsAnError)
{
    Bytes b;
    b.fmt0(4, 0, 200, msg_type::video, 1).fill(128, 0);
    b.fmt1(4, 0, 1000, msg_type::video).fill(128, 0);
    Result r = feed_every_way(b.v);
    EXPECT_EQ(r.rc, Rc::error);
    EXPECT_EQ(r.reason, "message length changed mid-message (csid 4: 200 -> 1000)");
}

TEST_F(ChunkTest, Fmt1Or2WithSameLengthMidMessageContinuesIt)
{
    // ffmpeg, librtmp and SRS tolerate it; the message keeps its first header.
    std::vector<uint8_t> p = pattern(400);
    Bytes b;
    b.fmt0(4, 50, 400, msg_type::video, 1).raw({p.begin(), p.begin() + 128});
    b.fmt1(4, 33, 400, msg_type::audio).raw({p.begin() + 128, p.begin() + 256});
    b.fmt2(4, 0xFFFFFF).be32(99).raw({p.begin() + 256, p.begin() + 384});
    b.fmt3(4).raw({p.begin() + 384, p.end()});
    b.fmt3(4).fill(128, 0).fmt3(4).fill(128, 0).fmt3(4).fill(128, 0).fmt3(4).fill(16, 0);
    Result r = feed_every_way(b.v);
    EXPECT_EQ(r.rc, Rc::again);
    ASSERT_EQ(r.msgs.size(), 2u);
    EXPECT_EQ(r.msgs[0], (Rec{msg_type::video, 4, 1, 50, 400, p}));
    EXPECT_EQ(r.msgs[1].ts, 100u);  // fmt 3 new message: delta 50 from the fmt 0 header
}

// ---------------------------------------------------------------------------------------
// Limits

TEST_F(ChunkTest, MessageTooBigFailsBeforeAllocating)
{
    limits.max_message = 1u << 20;
    Result r = feed_every_way(Bytes().fmt0(4, 0, 0xFFFFFF, msg_type::video, 1).fill(10, 0).v);
    EXPECT_EQ(r.rc, Rc::error);
    EXPECT_EQ(r.reason, "message too big (16777215 > max_message 1048576)");
    EXPECT_EQ(pool.cached(), 0u);  // not a single block was ever taken

    r = feed_whole(Bytes().fmt0(4, 0, (1u << 20) + 1, msg_type::video, 1).v);
    EXPECT_EQ(r.rc, Rc::error);
    r = feed_whole(Bytes().fmt0(4, 0, 1u << 20, msg_type::video, 1).fill(128, 0).v);
    EXPECT_EQ(r.rc, Rc::again);
    // fmt 1 declares a length too.
    r = feed_whole(Bytes().fmt0(4, 0, 1, msg_type::video, 1).u8(0).fmt1(4, 0, 0xFFFFFF, 9).v);
    EXPECT_EQ(r.rc, Rc::error);
}

TEST_F(ChunkTest, ChunkStreamFlood)
{
    limits.max_csids = 64;
    Bytes b;
    for (uint32_t csid = 2; csid < 2 + 64; ++csid) b.fmt0(csid, 0, 1, msg_type::audio, 1).u8(0);
    Result ok = feed_whole(b.v);
    EXPECT_EQ(ok.rc, Rc::again);
    EXPECT_EQ(ok.msgs.size(), 64u);
    b.fmt0(40000, 0, 1, msg_type::audio, 1).u8(0);
    Result r = feed_every_way(b.v);
    EXPECT_EQ(r.rc, Rc::error);
    EXPECT_EQ(r.reason, "too many chunk streams (csid 40000, max_csids 64)");
    EXPECT_EQ(r.msgs.size(), 64u);
}

TEST_F(ChunkTest, PartialBytesBudget)
{
    limits.max_partial_bytes = 300;
    Bytes b;
    b.fmt0(4, 0, 1000, msg_type::video, 1).fill(128, 0);
    b.fmt0(5, 0, 1000, msg_type::video, 1).fill(128, 0);
    b.fmt0(6, 0, 1000, msg_type::video, 1).fill(128, 0);
    Result r = feed_every_way(b.v);
    EXPECT_EQ(r.rc, Rc::error);
    EXPECT_EQ(r.reason, "unfinished messages over max_partial_bytes 300 (csid 6)");

    // Completed messages give their bytes back to the budget.
    Bytes c;
    for (int i = 0; i < 10; ++i)
        c.fmt0(4, 0, 200, msg_type::video, 1).fill(128, 0).fmt3(4).fill(72, 0);
    EXPECT_EQ(feed_whole(c.v).msgs.size(), 10u);
}

TEST_F(ChunkTest, PoolExhaustionIsAnError)
{
    BufPool tiny(64, 3);
    ChunkReader r(tiny, limits);
    Recorder rec;
    Bytes b;
    b.fmt0(4, 0, 300, msg_type::video, 1).fill(128, 0).fmt3(4).fill(128, 0);
    size_t used;
    EXPECT_EQ(r.feed(b.v.data(), b.v.size(), &used, rec), Rc::error);
    EXPECT_EQ(std::string(r.reason()), "buffer pool exhausted (csid 4, 128 of 300 bytes)");
    EXPECT_EQ(r.feed(b.v.data(), 1, &used, rec), Rc::error);  // errors are final
}

// ---------------------------------------------------------------------------------------
// The sink decides

class StopAfter : public MessageSink {
public:
    explicit StopAfter(size_t n) : left_(n) {}
    std::vector<uint32_t> ts;
    Rc on_message(Message& m) override
    {
        ts.push_back(m.timestamp);
        return --left_ == 0 ? Rc::done : Rc::ok;
    }

private:
    size_t left_;
};

TEST_F(ChunkTest, SinkStopsParsingAndFeedResumes)
{
    std::vector<uint8_t> in = spec_example1();
    ChunkReader r(pool, limits);
    StopAfter sink(2);
    size_t used = 0;
    EXPECT_EQ(r.feed(in.data(), in.size(), &used, sink), Rc::done);
    EXPECT_EQ(used, 12u + 32 + 4 + 32);  // right after the second message
    size_t used2 = 0;
    EXPECT_EQ(r.feed(in.data() + used, in.size() - used, &used2, sink), Rc::again);
    EXPECT_EQ(used + used2, in.size());
    EXPECT_EQ(sink.ts, (std::vector<uint32_t>{1000, 1020, 1040, 1060}));
}

// ---------------------------------------------------------------------------------------
// Writer

TEST_F(ChunkTest, WriterReaderRoundTripAtManyChunkSizes)
{
    // A payload of 5000 pool blocks, framed from the chain at an offset.
    std::vector<uint8_t> big = pattern(320000, 77);
    Chain src(pool);
    ASSERT_EQ(src.append(big.data(), big.size()), Rc::ok);
    BufRef chain = src.take();
    const size_t off = 1000, len = big.size() - off - 7;
    std::vector<uint8_t> want(big.begin() + off, big.begin() + off + len);
    for (uint32_t cs : {1u, 128u, 4096u, 65536u}) {
        BufRef set, msg;
        ASSERT_EQ(frame_control(pool, 128, Control::set_chunk_size(cs), &set), Rc::ok);
        MsgHeader h{7, msg_type::video, 1, 0x1000000 + cs};
        ASSERT_EQ(frame_message(pool, cs, h, chain.get(), off, len, &msg), Rc::ok);
        std::vector<uint8_t> in = flatten(set), m = flatten(msg);
        EXPECT_EQ(m.size(), framed_size(cs, 7, h.timestamp, len));
        in.insert(in.end(), m.begin(), m.end());
        set.reset();
        msg.reset();
        std::vector<size_t> cuts;  // uneven pieces, and byte by byte for the smaller streams
        for (size_t i = 1; i < in.size(); i += 1 + i % 5000) cuts.push_back(i);
        Result a = feed_whole(in), b = feed_pieces(in, cuts);
        ASSERT_EQ(a.msgs.size(), 2u) << cs;
        EXPECT_EQ(a.msgs[1], (Rec{msg_type::video, 7, 1, h.timestamp, uint32_t(len), want})) << cs;
        EXPECT_EQ(b.msgs, a.msgs) << cs;
        if (cs >= 4096) {
            std::vector<size_t> all;
            for (size_t i = 1; i < in.size(); ++i) all.push_back(i);
            EXPECT_EQ(feed_pieces(in, all).msgs, a.msgs) << cs;
        }
    }
}

TEST_F(ChunkTest, WriterFromChainEqualsWriterFromBytes)
{
    std::vector<uint8_t> p = pattern(1000);
    Chain src(pool);
    ASSERT_EQ(src.append(p.data(), p.size()), Rc::ok);
    BufRef chain = src.take();
    BufRef a, b;
    MsgHeader h{3, msg_type::command_amf0, 0, 0};
    ASSERT_EQ(frame_message(pool, 128, h, chain.get(), 64, 500, &a), Rc::ok);  // block edge
    ASSERT_EQ(frame_message(pool, 128, h, p.data() + 64, 500, &b), Rc::ok);
    EXPECT_EQ(flatten(a), flatten(b));
    Message m;
    m.type = h.type;
    m.csid = 3;
    m.length = 1000;
    m.payload = chain;
    BufRef c;
    ASSERT_EQ(frame_message(pool, 128, m, &c), Rc::ok);
    EXPECT_EQ(flatten(c), flatten(frame(128, h, p)));
}

TEST_F(ChunkTest, WriterRejectsBadArguments)
{
    std::vector<uint8_t> p(10);
    BufRef out;
    EXPECT_EQ(frame_message(pool, 0, MsgHeader{3, 8, 1, 0}, p.data(), 10, &out), Rc::error);
    EXPECT_EQ(frame_message(pool, 0x80000000, MsgHeader{3, 8, 1, 0}, p.data(), 10, &out),
              Rc::error);
    EXPECT_EQ(frame_message(pool, 128, MsgHeader{1, 8, 1, 0}, p.data(), 10, &out), Rc::error);
    EXPECT_EQ(frame_message(pool, 128, MsgHeader{65600, 8, 1, 0}, p.data(), 10, &out), Rc::error);
    EXPECT_EQ(frame_message(pool, 128, MsgHeader{3, 8, 1, 0}, p.data(), 0x1000000, &out),
              Rc::error);
    Chain src(pool);
    ASSERT_EQ(src.append(p.data(), 10), Rc::ok);
    BufRef chain = src.take();
    EXPECT_EQ(frame_message(pool, 128, MsgHeader{3, 8, 1, 0}, chain.get(), 5, 6, &out), Rc::error);
    EXPECT_EQ(frame_message(pool, 128, MsgHeader{3, 8, 1, 0}, chain.get(), 5, 5, &out), Rc::ok);
    EXPECT_FALSE(!out);
}

TEST_F(ChunkTest, WriterPoolExhaustedLeavesNothingBehind)
{
    BufPool tiny(64, 4);
    std::vector<uint8_t> p(1000);
    BufRef out;
    EXPECT_EQ(frame_message(tiny, 128, MsgHeader{3, 8, 1, 0}, p.data(), p.size(), &out), Rc::error);
    EXPECT_FALSE(out);
    EXPECT_EQ(tiny.outstanding(), 0u);
}

TEST_F(ChunkTest, FramedMessageIsSharedNotCopied)
{
    BufRef out = frame(128, MsgHeader{6, msg_type::audio, 1, 0}, pattern(100));
    size_t blocks = pool.outstanding();
    std::vector<BufRef> queues(50, out);  // fifty players' out-queues
    EXPECT_EQ(pool.outstanding(), blocks);
    EXPECT_EQ(out->refs, 51u);
}

// ---------------------------------------------------------------------------------------
// Control messages

TEST_F(ChunkTest, ControlMessagesGoldenBytes)
{
    struct Case {
        Control c;
        std::vector<uint8_t> body;
    } cases[] = {
        {Control::set_chunk_size(4096), {0, 0, 0x10, 0}},
        {Control::abort(7), {0, 0, 0, 7}},
        {Control::ack(0x01020304), {1, 2, 3, 4}},
        {Control::window_ack_size(2500000), {0x00, 0x26, 0x25, 0xa0}},
        {Control::set_peer_bandwidth(2500000, 2), {0x00, 0x26, 0x25, 0xa0, 2}},
        {Control::stream_begin(1), {0, 0, 0, 0, 0, 1}},
        {Control::stream_eof(1), {0, 1, 0, 0, 0, 1}},
        {Control::stream_dry(1), {0, 2, 0, 0, 0, 1}},
        {Control::set_buffer_length(1, 3000), {0, 3, 0, 0, 0, 1, 0, 0, 0x0b, 0xb8}},
        {Control::stream_is_recorded(1), {0, 4, 0, 0, 0, 1}},
        {Control::ping_request(0xdeadbeef), {0, 6, 0xde, 0xad, 0xbe, 0xef}},
        {Control::ping_response(0xdeadbeef), {0, 7, 0xde, 0xad, 0xbe, 0xef}},
    };
    for (const Case& k : cases) {
        BufRef out;
        ASSERT_EQ(frame_control(pool, 128, k.c, &out), Rc::ok);
        Bytes want;
        want.fmt0(2, 0, uint32_t(k.body.size()), k.c.type, 0).raw(k.body);
        EXPECT_EQ(flatten(out), want.v) << int(k.c.type) << "/" << k.c.event;
        Result r = feed_whole(want.v);
        ASSERT_EQ(r.msgs.size(), 1u);
        Message m;
        m.type = k.c.type;
        m.length = uint32_t(k.body.size());
        Chain c(pool);
        ASSERT_EQ(c.append(k.body.data(), k.body.size()), Rc::ok);
        m.payload = c.take();
        Control back;
        const char* why = "";
        ASSERT_EQ(parse_control(m, &back, &why), Rc::ok);
        EXPECT_EQ(back.type, k.c.type);
        EXPECT_EQ(back.event, k.c.event);
        EXPECT_EQ(back.value, k.c.value);
        EXPECT_EQ(back.value2, k.c.value2);
    }
    BufRef out;
    EXPECT_EQ(frame_control(pool, 128, Control{msg_type::audio, 0, 0, 0}, &out), Rc::error);
}

TEST_F(ChunkTest, ControlParseRejectsShortPayloads)
{
    auto parse = [&](uint8_t type, std::vector<uint8_t> body, Control* c, const char** why) {
        Message m;
        m.type = type;
        m.length = uint32_t(body.size());
        Chain ch(pool);
        EXPECT_EQ(ch.append(body.data(), body.size()), Rc::ok);
        m.payload = ch.take();
        return parse_control(m, c, why);
    };
    Control c;
    const char* why = "";
    EXPECT_EQ(parse(msg_type::ack, {1, 2, 3}, &c, &why), Rc::error);
    EXPECT_STREQ(why, "control message too short");
    EXPECT_EQ(parse(msg_type::set_peer_bandwidth, {1, 2, 3, 4}, &c, &why), Rc::error);
    EXPECT_EQ(parse(msg_type::user_control, {0}, &c, &why), Rc::error);
    EXPECT_EQ(parse(msg_type::user_control, {0, 3, 0, 0, 0, 1, 0, 0}, &c, &why), Rc::error);
    EXPECT_STREQ(why, "user control event too short");
    EXPECT_EQ(parse(msg_type::user_control, {0, 6, 1, 2}, &c, &why), Rc::error);
    // An unknown event (26, SWF verification request) needs only its type.
    ASSERT_EQ(parse(msg_type::user_control, {0, 26}, &c, &why), Rc::ok);
    EXPECT_EQ(c.event, 26u);
    EXPECT_EQ(parse(msg_type::video, {1, 2, 3, 4}, &c, &why), Rc::declined);
    EXPECT_STREQ(msg_type_name(msg_type::command_amf0), "command_amf0");
    EXPECT_STREQ(msg_type_name(200), "unknown");
}

// ---------------------------------------------------------------------------------------
// Aggregate messages

Bytes& sub_tag(Bytes& b, uint8_t type, const std::vector<uint8_t>& data, uint32_t ts,
               bool back_pointer = true)
{
    b.u8(type).be24(uint32_t(data.size())).be24(ts & 0xFFFFFF).u8(ts >> 24).be24(0).raw(data);
    if (back_pointer) b.be32(uint32_t(11 + data.size()));
    return b;
}

class AggregateTest : public ChunkTest {
protected:
    Message make(const std::vector<uint8_t>& body, uint32_t ts)
    {
        Message m;
        m.type = msg_type::aggregate;
        m.csid = 6;
        m.msid = 1;
        m.timestamp = ts;
        m.length = uint32_t(body.size());
        Chain c(pool);
        EXPECT_EQ(c.append(body.data(), body.size()), Rc::ok);
        m.payload = c.take();
        return m;
    }
};

TEST_F(AggregateTest, SplitsAndRebasesTimestamps)
{
    std::vector<uint8_t> a = pattern(100, 1), v = pattern(300, 2), d = pattern(20, 3);
    Bytes b;
    sub_tag(b, msg_type::video, v, 0x01000010);  // FLV ts with the upper byte set
    sub_tag(b, msg_type::audio, a, 0x01000030);
    sub_tag(b, 4, {1, 2, 3, 4, 5, 6}, 0x01000031);          // not audio/video/data: skipped
    sub_tag(b, msg_type::data_amf0, d, 0x01000040, false);  // last back pointer omitted
    Message m = make(b.v, 5000);
    Recorder rec;
    const char* why = "";
    ASSERT_EQ(split_aggregate(pool, m, rec, &why), Rc::ok);
    ASSERT_EQ(rec.msgs.size(), 3u);
    EXPECT_EQ(rec.msgs[0], (Rec{msg_type::video, 6, 1, 5000, 300, v}));
    EXPECT_EQ(rec.msgs[1], (Rec{msg_type::audio, 6, 1, 5032, 100, a}));
    EXPECT_EQ(rec.msgs[2], (Rec{msg_type::data_amf0, 6, 1, 5048, 20, d}));
}

TEST_F(AggregateTest, RebasingWrapsMod32)
{
    Bytes b;
    sub_tag(b, msg_type::audio, {1}, 0xFFFFFFF0);
    sub_tag(b, msg_type::audio, {2}, 0x00000010);
    Message m = make(b.v, 100);
    Recorder rec;
    const char* why = "";
    ASSERT_EQ(split_aggregate(pool, m, rec, &why), Rc::ok);
    ASSERT_EQ(rec.msgs.size(), 2u);
    EXPECT_EQ(rec.msgs[1].ts, 100u + 0x20);
}

TEST_F(AggregateTest, MalformedAggregatesDeliverNothing)
{
    struct Case {
        std::vector<uint8_t> body;
        const char* reason;
    };
    std::vector<Case> cases;
    {
        Bytes b;
        sub_tag(b, msg_type::video, pattern(50), 0);
        b.u8(msg_type::audio).be24(1000).be24(0).u8(0).be24(0).fill(20, 0);  // size overflow
        cases.push_back({b.v, "aggregate: sub-message larger than the aggregate"});
    }
    {
        Bytes b;
        sub_tag(b, msg_type::video, pattern(50), 0);
        b.fill(5, 0);
        cases.push_back({b.v, "aggregate: truncated sub-message header"});
    }
    {
        Bytes b;
        sub_tag(b, msg_type::video, pattern(50), 0, false).u8(0).u8(0);
        cases.push_back({b.v, "aggregate: truncated back pointer"});
    }
    {
        Bytes b;
        sub_tag(b, msg_type::aggregate, pattern(20), 0);
        cases.push_back({b.v, "aggregate: nested aggregate"});
    }
    {
        Bytes b;
        b.u8(msg_type::video).be24(0xFFFFFF).be24(0).u8(0).be24(0);
        cases.push_back({b.v, "aggregate: sub-message larger than the aggregate"});
    }
    for (const Case& c : cases) {
        Message m = make(c.body, 0);
        Recorder rec;
        const char* why = "";
        EXPECT_EQ(split_aggregate(pool, m, rec, &why), Rc::error);
        EXPECT_STREQ(why, c.reason);
        EXPECT_TRUE(rec.msgs.empty());
    }
    Message empty = make({}, 0);
    Recorder rec;
    const char* why = "";
    EXPECT_EQ(split_aggregate(pool, empty, rec, &why), Rc::ok);
    EXPECT_TRUE(rec.msgs.empty());
}

TEST_F(AggregateTest, ReceivedThroughTheChunkReader)
{
    Bytes body;
    sub_tag(body, msg_type::video, pattern(200), 10);
    sub_tag(body, msg_type::audio, pattern(30), 20);
    BufRef framed = frame(128, MsgHeader{6, msg_type::aggregate, 1, 1000}, body.v);
    std::vector<uint8_t> in = flatten(framed);
    framed.reset();

    struct Splitter : MessageSink {
        BufPool* pool;
        Recorder out;
        Rc on_message(Message& m) override
        {
            const char* why = "";
            return split_aggregate(*pool, m, out, &why);
        }
    } s;
    s.pool = &pool;
    {
        ChunkReader r(pool, limits);
        size_t used;
        EXPECT_EQ(r.feed(in.data(), in.size(), &used, s), Rc::again);
    }
    ASSERT_EQ(s.out.msgs.size(), 2u);
    EXPECT_EQ(s.out.msgs[0].ts, 1000u);
    EXPECT_EQ(s.out.msgs[1].ts, 1010u);
    s.out.msgs.clear();
}

TEST_F(AggregateTest, PoolExhaustionWhileSplitting)
{
    Bytes b;
    sub_tag(b, msg_type::video, pattern(300), 0);
    Message m = make(b.v, 0);
    size_t held = pool.outstanding();
    pool.set_max_blocks(held + 2);
    Recorder rec;
    const char* why = "";
    EXPECT_EQ(split_aggregate(pool, m, rec, &why), Rc::error);
    EXPECT_STREQ(why, "aggregate: buffer pool exhausted");
    EXPECT_EQ(pool.outstanding(), held);
}

// ---------------------------------------------------------------------------------------
// Acknowledgement bookkeeping

TEST(AckWindow, DueWhenTheWindowPasses)
{
    AckWindow w;
    EXPECT_FALSE(w.add(1000000));  // no window announced yet
    w.acked();
    w.set_window(2500);
    EXPECT_FALSE(w.add(2499));
    EXPECT_TRUE(w.add(1));
    EXPECT_EQ(w.sequence(), 1002500u);
    w.acked();
    EXPECT_FALSE(w.due());
    EXPECT_TRUE(w.add(10000));
}

TEST(AckWindow, SequenceWrapsMod32)
{
    AckWindow w;
    w.set_window(0x1000);
    w.add(0xFFFFF800u);
    w.acked();
    EXPECT_FALSE(w.add(0x900));  // crosses 2^32
    EXPECT_EQ(w.sequence(), 0x100u);
    EXPECT_TRUE(w.add(0x700));
    EXPECT_EQ(w.sequence(), 0x800u);
}

}  // namespace
