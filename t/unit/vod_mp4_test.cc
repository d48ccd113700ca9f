// VOD of MP4 files: a recording made by the MP4 writer (plain after its clean close, and
// fragmented as a crash leaves it) read back through the player's source: the RTMP
// headers (onMetaData, AVC/HEVC/AAC sequence headers), every message's header and bytes,
// seeks to the keyframe at or before a position, the shared index read on the helper
// thread, the mvhd-only duration, and name resolution.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/event_loop.h"
#include "modules/mp4_reader.h"
#include "modules/mp4_writer.h"
#include "modules/play_module.h"
#include "modules/play_vod.h"
#include "rtmp/amf0.h"
#include "t/lib/codec_records.h"

using namespace strom;
using namespace strom::mod;

namespace {

using Bytes = std::vector<uint8_t>;
using test::kAvcHigh720;
using test::kAscLc44Stereo;

Bytes frame(uint32_t k, bool key)
{
    Bytes s = {0, 0, 0, 8, uint8_t(key ? 0x65 : 0x41)};
    s.insert(s.end(), 7, uint8_t(k));
    return s;
}

class VodMp4 : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/strom-vodmp4-XXXXXX";
        dir_ = mkdtemp(tmpl);
    }
    void TearDown() override
    {
        std::string cmd = "rm -rf '" + dir_ + "'";
        ASSERT_EQ(system(cmd.c_str()), 0);
    }

    // 6 s at 25 fps, keyframe every 2 s, composition offset 80 ms on every other frame,
    // AAC every 23 ms; finished as the recorder finishes a file (patches applied) unless
    // `crash`, which keeps the bytes of the first `crash` fragments only.
    std::string write_file(const std::string& name, size_t crash = 0)
    {
        Mp4Writer w;
        EXPECT_EQ(w.set_video(rtmp::VideoCodec::avc, kAvcHigh720), Rc::ok);
        EXPECT_EQ(w.set_audio_aac(kAscLc44Stereo), Rc::ok);
        Bytes f;
        EXPECT_EQ(w.init_segment(&f), Rc::ok);
        std::vector<size_t> ends;
        uint32_t a = 0;
        for (uint32_t k = 0; k < 150; ++k) {
            uint32_t dts = k * 40;
            while (a * 23 <= dts) {
                w.add_audio(a * 23, Bytes{0x21, uint8_t(a), 0x33}, &f);
                ++a;
            }
            size_t before = f.size();
            w.add_video(dts, k % 2 ? 80 : 0, k % 50 == 0, frame(k, k % 50 == 0), &f);
            if (f.size() != before) ends.push_back(f.size());   // a fragment was written
        }
        if (crash) {
            f.resize(ends.at(crash - 1) + 100);   // and a cut-off piece of the next fragment
        } else {
            w.finish(&f);
            for (const auto& p : w.close_patches()) store_be32(&f[p.offset], uint32_t(p.value));
        }
        audio_ = a;
        std::string path = dir_ + "/" + name;
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(f.data()), std::streamsize(f.size()));
        return path;
    }

    std::unique_ptr<VodSource> open_source(const std::string& path)
    {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        EXPECT_GE(fd, 0);
        struct stat st;
        EXPECT_EQ(fstat(fd, &st), 0);
        auto src = make_vod_source(VodFormat::mp4, UniqueFd(fd), st);
        const char* why = "";
        EXPECT_EQ(src->open(&why), Rc::ok) << why;
        return src;
    }

    std::string dir_;
    uint32_t audio_ = 0;
};

TEST_F(VodMp4, ARecordingPlaysBackAsTheMessagesThatWentIn)
{
    auto src = open_source(write_file("m.mp4"));
    const VodHeaders& h = src->headers();
    EXPECT_NEAR(h.duration_s, 6.0, 0.05);
    // sequence headers as RTMP carries them
    Bytes vseq = {0x17, 0, 0, 0, 0};
    vseq.insert(vseq.end(), kAvcHigh720.begin(), kAvcHigh720.end());
    EXPECT_EQ(Bytes(h.video_seq.begin(), h.video_seq.end()), vseq);
    EXPECT_EQ(h.audio_seq, std::string("\xaf\x00\x12\x10", 4));
    // onMetaData with the duration and the size of the picture
    std::vector<rtmp::AmfValue> meta;
    rtmp::AmfDecodeState st{rtmp::AmfLimits()};
    const char* why = "";
    ASSERT_EQ(rtmp::amf0_decode_all(reinterpret_cast<const uint8_t*>(h.meta.data()), h.meta.size(), &meta, st, &why),
              Rc::ok);
    ASSERT_EQ(meta.size(), 2u);
    EXPECT_EQ(meta[0].str(), "onMetaData");
    EXPECT_NEAR(meta[1].get_num("duration", 0), 6.0, 0.05);
    EXPECT_EQ(meta[1].get_num("width", 0), 1280);
    EXPECT_EQ(meta[1].get_num("videocodecid", 0), 7);
    EXPECT_EQ(meta[1].get_num("audiocodecid", 0), 10);

    uint32_t ts = 99;
    ASSERT_EQ(src->seek(0, &ts), Rc::ok);
    EXPECT_EQ(ts, 0u);
    uint32_t video = 0, audio = 0, last = 0;
    VodItem it;
    Bytes body;
    while (src->peek(&it) == Rc::ok) {
        ASSERT_EQ(src->read(&body), Rc::ok);
        ASSERT_GE(body.size(), it.size);
        body.resize(it.size);
        EXPECT_GE(it.ts, last);
        last = it.ts;
        if (it.type == 9) {
            bool key = video % 50 == 0;
            Bytes want = {uint8_t(key ? 0x17 : 0x27), 1, 0, 0, uint8_t(video % 2 ? 80 : 0)};
            Bytes f = frame(video, key);
            want.insert(want.end(), f.begin(), f.end());
            EXPECT_EQ(body, want) << "frame " << video;
            EXPECT_EQ(it.ts, video * 40);
            ++video;
        } else {
            ASSERT_EQ(it.type, 8);
            EXPECT_EQ(body, (Bytes{0xaf, 0x01, 0x21, uint8_t(audio), 0x33})) << "audio " << audio;
            EXPECT_EQ(it.ts, audio * 23);
            ++audio;
        }
        src->next();
    }
    EXPECT_EQ(video, 150u);
    EXPECT_EQ(audio, audio_);
}

TEST_F(VodMp4, SeekGoesToTheKeyframeAtOrBeforeThePosition)
{
    auto src = open_source(write_file("m.mp4"));
    struct {
        uint32_t target, key_ts;
    } cases[] = {{1, 0}, {1999, 0}, {2000, 2000}, {3500, 2000}, {4100, 4000}, {60000, 4000}};
    for (auto c : cases) {
        uint32_t ts = 0;
        ASSERT_EQ(src->seek(c.target, &ts), Rc::ok);
        EXPECT_EQ(ts, c.key_ts) << c.target;
        VodItem it;
        ASSERT_EQ(src->peek(&it), Rc::ok);
        Bytes body;
        ASSERT_EQ(src->read(&body), Rc::ok);
        body.resize(it.size);
        EXPECT_EQ(it.type, 9);
        EXPECT_EQ(it.ts, c.key_ts);
        EXPECT_EQ(body[0], 0x17) << c.target;   // a keyframe
    }
}

TEST_F(VodMp4, ACrashedFragmentedRecordingPlaysItsCompleteFragments)
{
    auto src = open_source(write_file("crash.mp4", 2));   // two whole GOPs and a cut third
    uint32_t video = 0;
    VodItem it;
    Bytes body;
    while (src->peek(&it) == Rc::ok) {
        ASSERT_EQ(src->read(&body), Rc::ok);
        video += it.type == 9;
        src->next();
    }
    EXPECT_EQ(video, 100u);
}

TEST_F(VodMp4, PlayersOfOneFileShareItsIndex)
{
    std::string path = write_file("m.mp4");
    int a = ::open(path.c_str(), O_RDONLY), b = ::open(path.c_str(), O_RDONLY);
    struct stat sa, sb;
    ASSERT_EQ(fstat(a, &sa), 0);
    ASSERT_EQ(fstat(b, &sb), 0);
    const char* why = "";
    auto ia = mp4_shared_index(a, sa, &why);
    auto ib = mp4_shared_index(b, sb, &why);
    ASSERT_TRUE(ia);
    EXPECT_EQ(ia.get(), ib.get());
    // a rewritten file is read again
    write_file("m.mp4");
    int c = ::open(path.c_str(), O_RDONLY);
    struct stat sc;
    ASSERT_EQ(fstat(c, &sc), 0);
    sc.st_mtim.tv_nsec ^= 1;   // same size and inode: the time tells
    auto ic = mp4_shared_index(c, sc, &why);
    ASSERT_TRUE(ic);
    EXPECT_NE(ic.get(), ia.get());
    ::close(a);
    ::close(b);
    ::close(c);
}

struct Waiter final : Mp4IndexWaiter {
    int calls = 0;
    std::shared_ptr<const Mp4Index> idx;
    std::string why;
    void index_ready(std::shared_ptr<const Mp4Index> i, const char* w) override
    {
        ++calls;
        idx = std::move(i);
        why = w ? w : "";
    }
};

TEST_F(VodMp4, TheHelperThreadReadsTheIndexAndEveryWaiterIsTold)
{
    EventLoop loop;
    std::string path = write_file("async.mp4");
    std::ofstream(dir_ + "/junk.mp4") << std::string(5000, 'j');
    int fd = ::open(path.c_str(), O_RDONLY), junk = ::open((dir_ + "/junk.mp4").c_str(), O_RDONLY);
    struct stat st, sj;
    ASSERT_EQ(fstat(fd, &st), 0);
    ASSERT_EQ(fstat(junk, &sj), 0);
    Waiter a, b, gone, bad;
    std::shared_ptr<const Mp4Index> out;
    const char* why = "";
    ASSERT_EQ(mp4_index_async(loop, fd, st, &a, &out, &why), Rc::again);
    ASSERT_EQ(mp4_index_async(loop, fd, st, &b, &out, &why), Rc::again);      // the same job
    ASSERT_EQ(mp4_index_async(loop, fd, st, &gone, &out, &why), Rc::again);
    mp4_index_cancel(&gone);                                                   // its player left
    ASSERT_EQ(mp4_index_async(loop, junk, sj, &bad, &out, &why), Rc::again);
    for (int i = 0; i < 500 && (!a.calls || !bad.calls); ++i) ASSERT_EQ(loop.run_once(20), Rc::ok);
    ASSERT_EQ(a.calls, 1);
    ASSERT_EQ(b.calls, 1);
    EXPECT_EQ(gone.calls, 0);
    ASSERT_TRUE(a.idx);
    EXPECT_EQ(a.idx.get(), b.idx.get());
    EXPECT_EQ(a.idx->samples.size(), 150u + audio_);
    EXPECT_EQ(bad.calls, 1);
    EXPECT_FALSE(bad.idx);
    EXPECT_FALSE(bad.why.empty());
    // held by a player: the next one gets it at once, and so does getStreamLength
    ASSERT_EQ(mp4_index_async(loop, fd, st, &gone, &out, &why), Rc::ok);
    EXPECT_EQ(out.get(), a.idx.get());
    EXPECT_EQ(mp4_cached_index(st).get(), a.idx.get());
    ::close(fd);
    ::close(junk);
}

TEST_F(VodMp4, DurationFromMvhdAloneForGetStreamLength)
{
    for (size_t crash : {size_t(0), size_t(2)}) {
        std::string path = write_file("d.mp4", crash);
        int fd = ::open(path.c_str(), O_RDONLY);
        struct stat st;
        ASSERT_EQ(fstat(fd, &st), 0);
        Mp4ReadAt rd{&mp4_pread_fd, &fd};
        double seconds = -1;
        ASSERT_EQ(mp4_read_duration(rd, uint64_t(st.st_size), Mp4Limits(), &seconds), Rc::ok);
        EXPECT_NEAR(seconds, crash ? 0.0 : 6.0, 0.05);   // a crashed file has no duration yet
        ::close(fd);
    }
    std::ofstream(dir_ + "/junk.mp4") << std::string(100, 'j');
    int fd = ::open((dir_ + "/junk.mp4").c_str(), O_RDONLY);
    Mp4ReadAt rd{&mp4_pread_fd, &fd};
    double seconds = 0;
    EXPECT_EQ(mp4_read_duration(rd, 100, Mp4Limits(), &seconds), Rc::error);
    ::close(fd);
}

TEST_F(VodMp4, HevcAndNegativeOffsetsUseEnhancedRtmpHeaders)
{
    Mp4Index idx;
    idx.video = rtmp::VideoCodec::hevc;
    idx.video_config = {1, 2, 3};
    VodHeaders h = mp4_headers(idx);
    EXPECT_EQ(h.video_seq, std::string("\x90hvc1\x01\x02\x03", 8));
    uint8_t out[8];
    ASSERT_EQ(mp4_message_header(idx, 9, true, 40, out), 8u);   // CodedFrames with its offset
    EXPECT_EQ(Bytes(out, out + 8), (Bytes{0x91, 'h', 'v', 'c', '1', 0, 0, 40}));
    ASSERT_EQ(mp4_message_header(idx, 9, false, 0, out), 5u);   // CodedFramesX: implied 0
    EXPECT_EQ(Bytes(out, out + 5), (Bytes{0xa3, 'h', 'v', 'c', '1'}));
    idx.video = rtmp::VideoCodec::avc;
    ASSERT_EQ(mp4_message_header(idx, 9, false, -40, out), 5u);   // SI24
    EXPECT_EQ(Bytes(out, out + 5), (Bytes{0x27, 1, 0xff, 0xff, 0xd8}));
    ASSERT_EQ(mp4_message_header(idx, 8, true, 0, out), 2u);
    EXPECT_EQ(Bytes(out, out + 2), (Bytes{0xaf, 1}));
}

TEST_F(VodMp4, NamesChooseTheFormatAndFlvComesFirst)
{
    std::ofstream(dir_ + "/both.flv") << "f";
    std::ofstream(dir_ + "/both.mp4") << "m";
    std::ofstream(dir_ + "/only.mp4") << "m";
    std::vector<std::string> dirs = {dir_};
    struct {
        const char* name;
        const char* file;
        VodFormat format;
    } cases[] = {
        {"both", "both.flv", VodFormat::flv},     {"both.mp4", "both.mp4", VodFormat::mp4},
        {"mp4:both", "both.mp4", VodFormat::mp4}, {"mp4:both.mp4", "both.mp4", VodFormat::mp4},
        {"only", "only.mp4", VodFormat::mp4},     {"flv:only", nullptr, VodFormat::flv},
    };
    for (auto c : cases) {
        std::string p;
        VodFormat f = VodFormat::flv;
        int fd = vod_open(dirs, c.name, &p, &f);
        if (!c.file) {
            EXPECT_LT(fd, 0) << c.name;
            continue;
        }
        ASSERT_GE(fd, 0) << c.name;
        ::close(fd);
        EXPECT_EQ(p, dir_ + "/" + c.file) << c.name;
        EXPECT_EQ(f, c.format) << c.name;
    }
    std::string p;
    for (const char* bad : {"mp4:../x", "../only.mp4", "mp4:", "%2e%2e/only"}) EXPECT_LT(vod_open(dirs, bad, &p), 0) << bad;
}

}  // namespace
