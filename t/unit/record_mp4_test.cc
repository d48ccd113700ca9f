// The MP4 recording file: RTMP messages in, a fragmented MP4 on disk that is whole boxes
// after every write (what a kill -9 leaves), a plain MP4 (final moov, fragments retyped) on a
// clean close, one clear error when no track can be written or the disk fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/buf.h"
#include "modules/mp4_file_writer.h"
#include "rtmp/message.h"
#include "t/lib/mp4_boxes.h"
#include "t/lib/codec_records.h"

using namespace strom;
using namespace strom::mod;
using Bytes = std::vector<uint8_t>;
using test::kAvcHigh720;
using test::kHevcMain720;

namespace {

Bytes slurp(const std::string& p)
{
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    std::string s = ss.str();
    return Bytes(s.begin(), s.end());
}

class Mp4File : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/strom-mp4-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/t.mp4";
    }
    void TearDown() override
    {
        unlink(path_.c_str());
        rmdir(dir_.c_str());
    }

    BufRef msg(const Bytes& b)
    {
        Chain c(pool_);
        EXPECT_EQ(c.append(b.data(), b.size()), Rc::ok);
        return c.take();
    }
    // FLV VideoTagHeader (legacy AVC): frame type/codec, AVCPacketType, composition time.
    BufRef video(bool key, uint8_t packet_type, const Bytes& body)
    {
        Bytes b = {uint8_t(key ? 0x17 : 0x27), packet_type, 0, 0, 0};
        b.insert(b.end(), body.begin(), body.end());
        return msg(b);
    }
    BufRef audio(uint8_t packet_type, const Bytes& body)
    {
        Bytes b = {0xaf, packet_type};  // AAC, 44 kHz, 16 bit, stereo
        b.insert(b.end(), body.begin(), body.end());
        return msg(b);
    }
    Rc put(Mp4FileWriter& w, uint8_t type, uint32_t ts, const BufRef& m)
    {
        const char* what = "";
        return w.write(type, ts, m.get(), false, &what);
    }

    BufPool pool_{256, 1024};
    std::string dir_;
    std::string path_;
};

TEST_F(Mp4File, IsWholeBoxesAfterEveryWriteAndGetsDurationAndIndexOnClose)
{
    {
        Mp4FileWriter w;
        const char* what = "";
        ASSERT_EQ(w.open(path_, {}, &what), Rc::ok);
        ASSERT_EQ(put(w, rtmp::msg_type::video, 0, video(true, 0, kAvcHigh720)), Rc::ok);
        ASSERT_EQ(put(w, rtmp::msg_type::audio, 0, audio(0, {0x12, 0x10})), Rc::ok);
        ASSERT_EQ(put(w, rtmp::msg_type::data_amf0, 0, msg({0x02, 0x00, 0x00})),
                  Rc::ok);                   // ignored
        EXPECT_EQ(slurp(path_).size(), 0u);  // nothing until the first frame
        size_t last = 0;
        int grew = 0;
        for (uint32_t k = 0; k < 100; ++k) {
            bool key = k % 25 == 0;
            Bytes nal = {0, 0, 0, 3, uint8_t(key ? 0x65 : 0x41), uint8_t(k), 0};
            ASSERT_EQ(put(w, rtmp::msg_type::video, k * 40, video(key, 1, nal)), Rc::ok);
            ASSERT_EQ(put(w, rtmp::msg_type::audio, k * 40, audio(1, {0x21, uint8_t(k)})), Rc::ok);
            Bytes f = slurp(path_);
            std::vector<test::Mp4Box> boxes;
            ASSERT_TRUE(test::mp4_walk(f, &boxes)) << "after frame " << k;
            if (f.size() != last) ++grew;
            last = f.size();
        }
        EXPECT_EQ(grew, 4);  // the init segment with frame 0, then a fragment per GOP
        EXPECT_EQ(w.last_ts(), 99u * 40);
        ASSERT_EQ(w.close(true, &what), Rc::ok);
        EXPECT_EQ(w.size(), slurp(path_).size());
    }
    Bytes f = slurp(path_);
    std::vector<test::Mp4Box> boxes;
    ASSERT_TRUE(test::mp4_walk(f, &boxes));
    // A clean close leaves a plain MP4: moofs and the init moov retyped 'free', one moov
    // (at the end) with complete sample tables and durations, no mvex, no mfra.
    EXPECT_TRUE(test::mp4_find(boxes, "moof").empty());
    EXPECT_EQ(test::mp4_find(boxes, "free").size(), 5u);
    EXPECT_EQ(test::mp4_find(boxes, "mdat").size(), 4u);
    ASSERT_EQ(test::mp4_find(boxes, "moov").size(), 1u);
    EXPECT_EQ(test::mp4_find(boxes, "moov")[0].off + test::mp4_find(boxes, "moov")[0].size, f.size());
    EXPECT_TRUE(test::mp4_find(boxes, "moov/mvex").empty());
    EXPECT_TRUE(test::mp4_find(boxes, "mfra").empty());
    EXPECT_EQ(test::mp4_find(boxes, "moov/trak").size(), 2u);
    auto mvhd = test::mp4_find(boxes, "moov/mvhd")[0];
    EXPECT_EQ(test::mp4_be32(&f[mvhd.off + 24]), 4000u);
    auto stsz = test::mp4_find(boxes, "moov/trak/mdia/minf/stbl/stsz");
    ASSERT_EQ(stsz.size(), 2u);
    EXPECT_EQ(test::mp4_be32(&f[stsz[0].off + 16]), 100u);  // video samples
    EXPECT_EQ(test::mp4_be32(&f[stsz[1].off + 16]), 100u);  // audio samples
    EXPECT_EQ(pool_.outstanding(), 0u);
}

// Enhanced RTMP HEVC: SequenceStart, CodedFrames (with composition time) and CodedFramesX.
TEST_F(Mp4File, EnhancedRtmpHevcBecomesHvc1)
{
    Mp4FileWriter w;
    const char* what = "";
    ASSERT_EQ(w.open(path_, {}, &what), Rc::ok);
    Bytes seq = {0x90, 'h', 'v', 'c', '1'};
    seq.insert(seq.end(), kHevcMain720.begin(), kHevcMain720.end());
    ASSERT_EQ(put(w, rtmp::msg_type::video, 0, msg(seq)), Rc::ok);
    for (uint32_t k = 0; k < 50; ++k) {
        Bytes m = k % 25 == 0 ? Bytes{0x91, 'h', 'v', 'c', '1', 0, 0, 40}
                              : Bytes{0xa3, 'h', 'v', 'c', '1'};
        Bytes nal = {0, 0, 0, 3, 0x26, 0x01, uint8_t(k)};
        m.insert(m.end(), nal.begin(), nal.end());
        ASSERT_EQ(put(w, rtmp::msg_type::video, k * 40, msg(m)), Rc::ok);
    }
    ASSERT_EQ(w.close(true, &what), Rc::ok);
    Bytes f = slurp(path_);
    std::vector<test::Mp4Box> boxes;
    ASSERT_TRUE(test::mp4_walk(f, &boxes));
    auto hvcc = test::mp4_find(boxes, "moov/trak/mdia/minf/stbl/stsd/hvc1/hvcC");
    ASSERT_EQ(hvcc.size(), 1u);
    EXPECT_EQ(Bytes(f.begin() + hvcc[0].body, f.begin() + hvcc[0].off + hvcc[0].size),
              kHevcMain720);
    // The final moov's tables: 50 samples of 7 bytes (the NAL with its length), the
    // keyframes' composition offset 40, CodedFramesX's implied 0, the first sample where
    // the first chunk offset says.
    std::string stbl = "moov/trak/mdia/minf/stbl/";
    auto stsz = test::mp4_find(boxes, stbl + "stsz");
    ASSERT_EQ(stsz.size(), 1u);
    EXPECT_EQ(test::mp4_be32(&f[stsz[0].off + 16]), 50u);
    EXPECT_EQ(test::mp4_be32(&f[stsz[0].off + 20]), 7u);
    auto ctts = test::mp4_find(boxes, stbl + "ctts");
    ASSERT_EQ(ctts.size(), 1u);
    const uint8_t* c = &f[ctts[0].off];
    EXPECT_EQ(test::mp4_be32(c + 12), 4u);  // runs: 1 x 40, 24 x 0, 1 x 40, 24 x 0
    EXPECT_EQ(test::mp4_be32(c + 16), 1u);
    EXPECT_EQ(test::mp4_be32(c + 20), 40u);
    EXPECT_EQ(test::mp4_be32(c + 24), 24u);
    EXPECT_EQ(test::mp4_be32(c + 28), 0u);
    auto stco = test::mp4_find(boxes, stbl + "stco");
    ASSERT_EQ(stco.size(), 1u);
    EXPECT_EQ(test::mp4_be32(&f[stco[0].off + 12]), 2u);  // a chunk per fragment
    EXPECT_EQ(f[test::mp4_be32(&f[stco[0].off + 16]) + 4], 0x26);
}

TEST_F(Mp4File, WithoutASequenceHeaderItFailsOnceAndWritesNothing)
{
    Mp4FileWriter w;
    const char* what = "";
    ASSERT_EQ(w.open(path_, {}, &what), Rc::ok);
    errno = 0;
    what = "";
    EXPECT_EQ(
        w.write(rtmp::msg_type::video, 0, video(true, 1, {0, 0, 0, 1, 0x65}).get(), true, &what),
        Rc::error);
    EXPECT_EQ(errno, ENOTSUP);
    EXPECT_NE(std::string(what).find("mp4"), std::string::npos);
    EXPECT_EQ(put(w, rtmp::msg_type::video, 40, video(false, 1, {0, 0, 0, 1, 0x41})), Rc::ok);
    EXPECT_EQ(w.close(true, &what), Rc::ok);
    EXPECT_EQ(slurp(path_).size(), 0u);
}

TEST_F(Mp4File, AudioOnlyWhenVideoIsNotWanted)
{
    Mp4FileWriter w;
    const char* what = "";
    ASSERT_EQ(w.open(path_, Mp4FileWriter::Options{true, false}, &what), Rc::ok);
    ASSERT_EQ(put(w, rtmp::msg_type::video, 0, video(true, 0, kAvcHigh720)), Rc::ok);
    ASSERT_EQ(put(w, rtmp::msg_type::audio, 0, audio(0, {0x12, 0x10})), Rc::ok);
    for (uint32_t k = 0; k < 100; ++k) {
        ASSERT_EQ(put(w, rtmp::msg_type::video, k * 40, video(k == 0, 1, {0, 0, 0, 1, 0x65})),
                  Rc::ok);
        ASSERT_EQ(put(w, rtmp::msg_type::audio, k * 23, audio(1, {0x21, 0x00})), Rc::ok);
    }
    ASSERT_EQ(w.close(true, &what), Rc::ok);
    Bytes f = slurp(path_);
    std::vector<test::Mp4Box> boxes;
    ASSERT_TRUE(test::mp4_walk(f, &boxes));
    EXPECT_EQ(test::mp4_find(boxes, "moov/trak").size(), 1u);
    EXPECT_EQ(test::mp4_find(boxes, "moov/trak/mdia/minf/stbl/stsd/mp4a").size(), 1u);
    EXPECT_GE(test::mp4_find(boxes, "mdat").size(), 2u);  // cut by time (audio_fragment_ms)
    auto stsz = test::mp4_find(boxes, "moov/trak/mdia/minf/stbl/stsz");
    ASSERT_EQ(stsz.size(), 1u);
    EXPECT_EQ(test::mp4_be32(&f[stsz[0].off + 16]), 100u);
}

TEST_F(Mp4File, DiskFullIsAWriteError)
{
    if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
    Mp4FileWriter w;
    const char* what = "";
    ASSERT_EQ(w.open("/dev/full", {}, &what), Rc::ok);
    ASSERT_EQ(put(w, rtmp::msg_type::video, 0, video(true, 0, kAvcHigh720)), Rc::ok);
    errno = 0;
    EXPECT_EQ(
        w.write(rtmp::msg_type::video, 0, video(true, 1, {0, 0, 0, 1, 0x65}).get(), true, &what),
        Rc::error);
    EXPECT_EQ(errno, ENOSPC);
    EXPECT_STREQ(what, "write");
    EXPECT_EQ(w.close(false, &what), Rc::ok);
}

}  // namespace
