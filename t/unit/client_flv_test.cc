// strom-client's FLV paths: FlvFile indexing and looping (publish), FlvOut writing
// (play -o), and a round trip through both.
// The Makefile links unit tests with the core/rtmp/modules library only, not with
// tools/: the client code under test is compiled into this test directly.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/buf.h"
#include "rtmp/flv.h"
#include "tools/flv_file.h"
#include "tools/flv_out.h"
#include "tools/histogram.h"
#include "tools/sent_log.h"

using namespace strom;
using namespace strom::tools;

namespace {

// AVC sequence header, key frame, inter frame; AAC sequence header and raw frame.
const std::vector<uint8_t> kAvcSeq = {0x17, 0x00, 0, 0, 0, 0x01, 0x42, 0xc0, 0x1e, 0xff};
const std::vector<uint8_t> kAvcKey = {0x17, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x65};
const std::vector<uint8_t> kAvcInter = {0x27, 0x01, 0, 0, 0, 0, 0, 0, 1, 0x41};
const std::vector<uint8_t> kAacSeq = {0xaf, 0x00, 0x12, 0x10};
const std::vector<uint8_t> kAacRaw = {0xaf, 0x01, 0x21, 0x00, 0x49};

struct Tag {
    uint8_t type;
    uint32_t ts;
    std::vector<uint8_t> data;
};

std::vector<uint8_t> make_flv(const std::vector<Tag>& tags)
{
    std::vector<uint8_t> out(rtmp::kFlvFileStartSize);
    rtmp::flv_write_header(out.data(), true, true);
    for (const Tag& t : tags) {
        size_t at = out.size();
        out.resize(at + rtmp::kFlvTagHeaderSize);
        rtmp::flv_write_tag_header(out.data() + at, t.type, uint32_t(t.data.size()), t.ts);
        out.insert(out.end(), t.data.begin(), t.data.end());
        at = out.size();
        out.resize(at + rtmp::kFlvBackPointerSize);
        rtmp::flv_write_prev_size(out.data() + at, uint32_t(t.data.size()));
    }
    return out;
}

std::vector<Tag> sample_tags()
{
    return {{9, 0, kAvcSeq},    {8, 0, kAacSeq},  {9, 0, kAvcKey},   {8, 10, kAacRaw},
            {9, 40, kAvcInter}, {8, 33, kAacRaw}, {9, 80, kAvcInter}};
}

std::string temp_path(const char* name)
{
    return std::string(testing::TempDir()) + "strom-client-" + std::to_string(getpid()) + "-" +
           name;
}

std::vector<uint8_t> read_all(const std::string& path)
{
    std::vector<uint8_t> v;
    FILE* f = fopen(path.c_str(), "rb");
    if (!f) return v;
    uint8_t buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) v.insert(v.end(), buf, buf + n);
    fclose(f);
    return v;
}

}  // namespace

TEST(ClientFlvFile, IndexesAndClassifiesTags)
{
    auto bytes = make_flv(sample_tags());
    FlvFile f;
    std::string err;
    ASSERT_TRUE(f.load_bytes(bytes, &err)) << err;
    ASSERT_EQ(f.tags().size(), 7u);
    EXPECT_TRUE(f.tags()[0].config);
    EXPECT_TRUE(f.tags()[1].config);
    EXPECT_TRUE(f.tags()[2].key);
    EXPECT_FALSE(f.tags()[2].config);
    EXPECT_FALSE(f.tags()[4].key);
    EXPECT_EQ(f.video_frames(), 3u);
    EXPECT_EQ(f.audio_frames(), 2u);
    EXPECT_EQ(f.loop_span_ms(), 80u + 40u);  // span + one video frame interval
    auto p = f.payload(f.tags()[2]);
    EXPECT_EQ(std::vector<uint8_t>(p.begin(), p.end()), kAvcKey);
    EXPECT_FALSE(f.truncated());
}

TEST(ClientFlvFile, LoopingCursorKeepsTimestampsIncreasing)
{
    auto bytes = make_flv(sample_tags());
    FlvFile f;
    std::string err;
    ASSERT_TRUE(f.load_bytes(bytes, &err)) << err;
    FlvCursor c(f, true);
    std::vector<uint32_t> video_ts;
    for (int i = 0; i < 21; ++i) {
        const FlvFileTag* t = nullptr;
        uint32_t ts = 0;
        ASSERT_TRUE(c.peek(&t, &ts));
        if (t->type == 9 && !t->config) video_ts.push_back(ts);
        c.advance();
    }
    EXPECT_EQ(c.loops(), 3u);
    std::vector<uint32_t> want = {0, 40, 80, 120, 160, 200, 240, 280, 320};
    EXPECT_EQ(video_ts, want);
}

TEST(ClientFlvFile, CursorWithoutLoopEnds)
{
    auto bytes = make_flv(sample_tags());
    FlvFile f;
    std::string err;
    ASSERT_TRUE(f.load_bytes(bytes, &err));
    FlvCursor c(f, false);
    int n = 0;
    const FlvFileTag* t = nullptr;
    uint32_t ts = 0;
    while (c.peek(&t, &ts)) {
        c.advance();
        ++n;
    }
    EXPECT_EQ(n, 7);
    EXPECT_EQ(c.loops(), 0u);
}

TEST(ClientFlvFile, TruncatedFileKeepsCompleteTags)
{
    auto bytes = make_flv(sample_tags());
    bytes.resize(bytes.size() - 6);  // cut inside the last tag
    FlvFile f;
    std::string err;
    ASSERT_TRUE(f.load_bytes(bytes, &err)) << err;
    EXPECT_TRUE(f.truncated());
    EXPECT_EQ(f.tags().size(), 6u);
}

TEST(ClientFlvFile, Errors)
{
    std::string err;
    {
        FlvFile f;
        std::vector<uint8_t> junk(100, 'x');
        EXPECT_FALSE(f.load_bytes(junk, &err));
        EXPECT_NE(err.find("FLV"), std::string::npos) << err;
    }
    {
        FlvFile f;
        auto only_header = make_flv({});
        EXPECT_FALSE(f.load_bytes(only_header, &err));
        EXPECT_NE(err.find("no audio or video"), std::string::npos) << err;
    }
    {
        FlvFile f;
        EXPECT_FALSE(f.load("/nonexistent/dir/x.flv", &err));
        EXPECT_NE(err.find("cannot open \"/nonexistent/dir/x.flv\""), std::string::npos) << err;
    }
    {
        FlvFile f;
        EXPECT_FALSE(f.load("/", &err));
        EXPECT_NE(err.find("not a regular file"), std::string::npos) << err;
    }
}

TEST(ClientFlvOut, WritesReadableFileWithRelativeTimestamps)
{
    std::string path = temp_path("out.flv");
    BufPool pool(64);
    {
        FlvOut out;
        std::string err;
        ASSERT_TRUE(out.open(path, &err)) << err;
        // Video only, starting at 5000 ms; payload spread over several 64-byte blocks.
        std::vector<uint8_t> big(200);
        for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i);
        big[0] = 0x17;
        big[1] = 0x01;
        Chain ch(pool);
        ASSERT_EQ(ch.append(big.data(), big.size()), Rc::ok);
        BufRef payload = ch.take();
        ASSERT_TRUE(out.write_tag(9, 5000, kAvcSeq.data(), kAvcSeq.size(), &err)) << err;
        ASSERT_TRUE(out.write_tag(9, 5000, payload.get(), big.size(), &err)) << err;
        ASSERT_TRUE(out.write_tag(9, 5033, kAvcInter.data(), kAvcInter.size(), &err)) << err;
        ASSERT_TRUE(out.write_tag(9, 4990, kAvcInter.data(), kAvcInter.size(), &err))
            << err;  // before ts0
        EXPECT_EQ(out.tags(), 4u);
        ASSERT_TRUE(out.close(&err)) << err;
    }
    EXPECT_EQ(pool.outstanding(), 0u);
    auto bytes = read_all(path);
    unlink(path.c_str());
    ASSERT_GE(bytes.size(), 13u);
    EXPECT_EQ(bytes[4], 0x01) << "video-only flags patched at close";
    rtmp::FlvReader r;
    std::span<const uint8_t> in(bytes);
    rtmp::FlvTag t;
    std::vector<uint32_t> ts;
    std::vector<size_t> sizes;
    while (r.next(in, &t) == Rc::ok) {
        ts.push_back(t.timestamp);
        sizes.push_back(t.data.size());
        EXPECT_FALSE(t.bad_back_pointer);
    }
    EXPECT_EQ(r.finish(), Rc::ok);
    EXPECT_EQ(ts, (std::vector<uint32_t>{0, 0, 33, 0}));
    EXPECT_EQ(sizes,
              (std::vector<size_t>{kAvcSeq.size(), 200, kAvcInter.size(), kAvcInter.size()}));
}

TEST(ClientFlvOut, RoundTripThroughFlvFile)
{
    std::string path = temp_path("rt.flv");
    std::string err;
    {
        FlvOut out;
        ASSERT_TRUE(out.open(path, &err)) << err;
        for (const Tag& t : sample_tags())
            ASSERT_TRUE(out.write_tag(t.type, t.ts + 100, t.data.data(), t.data.size(), &err));
        ASSERT_TRUE(out.close(&err)) << err;
    }
    FlvFile f;
    ASSERT_TRUE(f.load(path, &err)) << err;
    unlink(path.c_str());
    ASSERT_EQ(f.tags().size(), 7u);
    EXPECT_EQ(f.tags()[4].ts, 40u);
    auto p = f.payload(f.tags()[6]);
    EXPECT_EQ(std::vector<uint8_t>(p.begin(), p.end()), kAvcInter);
}

TEST(ClientFlvOut, ManyTagsFlushInPieces)
{
    std::string path = temp_path("many.flv");
    std::string err;
    FlvOut out;
    ASSERT_TRUE(out.open(path, &err));
    std::vector<uint8_t> frame(3000, 0x27);
    for (uint32_t i = 0; i < 100; ++i)
        ASSERT_TRUE(out.write_tag(9, i * 33, frame.data(), frame.size(), &err));
    ASSERT_TRUE(out.close(&err));
    auto bytes = read_all(path);
    unlink(path.c_str());
    EXPECT_EQ(bytes.size(), 13u + 100 * (11 + 3000 + 4));
}

TEST(ClientFlvOut, OpenFailsWithAMessage)
{
    FlvOut out;
    std::string err;
    EXPECT_FALSE(out.open("/nonexistent/dir/out.flv", &err));
    EXPECT_NE(err.find("cannot create \"/nonexistent/dir/out.flv\""), std::string::npos) << err;
    EXPECT_FALSE(out.write_tag(9, 0, kAvcKey.data(), kAvcKey.size(), &err));
}

TEST(ClientSentLog, FindsByTimestampAndForgetsOldFrames)
{
    SentLog log;
    for (uint32_t i = 0; i < SentLog::kRing + 100; ++i) log.record(1, i * 33, 1000 + i);
    const SentLog::Entry* e = log.find(1, 33 * (SentLog::kRing + 99));
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->seq, SentLog::kRing + 100);
    EXPECT_EQ(log.find(1, 0), nullptr) << "overwritten by the ring";
    EXPECT_EQ(log.find(1, 34), nullptr);
    EXPECT_EQ(log.find(0, 0), nullptr);
    e = log.find(1, 33 * 200);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->sent_us, 1200u);
}

TEST(ClientHistogram, PercentilesWithinOnePercent)
{
    Histogram h;
    for (uint64_t v = 1; v <= 100000; ++v) h.record(v);
    EXPECT_EQ(h.count(), 100000u);
    EXPECT_EQ(h.max(), 100000u);
    EXPECT_NEAR(double(h.percentile(50)), 50000, 500);
    EXPECT_NEAR(double(h.percentile(99)), 99000, 990);
    EXPECT_LE(h.percentile(100), 100000u);
    h.reset();
    EXPECT_EQ(h.percentile(50), 0u);
    h.record(7);
    EXPECT_EQ(h.percentile(50), 7u);
}
