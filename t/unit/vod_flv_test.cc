// VOD side: what the head of an FLV file tells the player (metadata, sequence headers,
// where media starts, the keyframe index our recorder writes), robustness of that probe
// on cut and corrupted files, and name resolution in the play directories.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "core/buf.h"
#include "modules/flv_file_writer.h"
#include "modules/play_module.h"
#include "modules/play_vod.h"
#include "rtmp/amf0.h"

using namespace strom;
using namespace strom::mod;

namespace {

std::string slurp(const std::string& p)
{
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

class VodFlv : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/strom-vodflv-XXXXXX";
        dir_ = mkdtemp(tmpl);
        path_ = dir_ + "/m.flv";
    }
    void TearDown() override
    {
        std::string cmd = "rm -rf '" + dir_ + "'";
        ASSERT_EQ(system(cmd.c_str()), 0);
        EXPECT_EQ(pool_.outstanding(), 0u);
    }
    void put(FlvFileWriter& w, uint8_t type, uint32_t ts, const std::string& p, bool key)
    {
        Chain c(pool_);
        ASSERT_EQ(c.append(p.data(), p.size()), Rc::ok);
        BufRef r = c.take();
        const char* what = "";
        ASSERT_EQ(w.write(type, ts, r.get(), key, &what), Rc::ok);
    }
    // A recording as the record module makes it: metadata, AVC + AAC sequence headers,
    // 6 s of frames with a keyframe every 2 s.
    std::vector<uint64_t> make_recording()
    {
        std::string meta;
        rtmp::amf0_encode(rtmp::AmfValue("onMetaData"), &meta);
        rtmp::amf0_encode(rtmp::AmfValue::ecma_array({{"width", 640.0}, {"videocodecid", 7.0}}), &meta);
        FlvFileWriter w;
        const char* what = "";
        EXPECT_EQ(w.open(path_, {}, meta, &what), Rc::ok);
        put(w, 9, 0, std::string("\x17\x00\x00\x00\x00\x01\x64\x00\x1f", 9), false);
        put(w, 8, 0, std::string("\xaf\x00\x12\x10", 4), false);
        std::vector<uint64_t> keys;
        for (int i = 0; i < 150; ++i) {
            bool key = i % 50 == 0;
            if (key) keys.push_back(w.size());
            put(w, 9, uint32_t(i * 40), std::string(key ? "\x17\x01" : "\x27\x01", 2) + std::string(3 + i, 'v'), key);
            put(w, 8, uint32_t(i * 40 + 5), std::string("\xaf\x01", 2) + std::string(20, 'a'), false);
        }
        EXPECT_EQ(w.close(true, &what), Rc::ok);
        return keys;
    }
    std::span<const uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

    BufPool pool_{512, 1000};
    std::string dir_, path_;
};

}  // namespace

TEST_F(VodFlv, ProbeFindsMetadataSequenceHeadersAndIndex)
{
    auto keys = make_recording();
    std::string file = slurp(path_);
    FlvFileInfo info;
    const char* why = nullptr;
    ASSERT_EQ(flv_probe_head(bytes(file), file.size(), &info, &why), Rc::ok) << why;
    EXPECT_EQ(info.first_tag, 13u);
    EXPECT_EQ(info.media_start, keys[0]);
    EXPECT_EQ(info.video_seq.size(), 9u);
    EXPECT_EQ(info.audio_seq.size(), 4u);
    EXPECT_FALSE(info.meta.empty());
    EXPECT_NEAR(info.duration_s, 149 * 0.04 + 0.005, 1e-9);
    ASSERT_EQ(info.index.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(info.index[i].first, i * 2000);
        EXPECT_EQ(info.index[i].second, keys[i]);
    }
}

TEST_F(VodFlv, ProbeOfEveryPrefixNeverFailsBadly)
{
    make_recording();
    std::string file = slurp(path_);
    for (size_t n = 0; n < file.size(); n += (n < 400 ? 1 : 97)) {
        FlvFileInfo info;
        const char* why = nullptr;
        Rc rc = flv_probe_head(bytes(file).first(n), file.size(), &info, &why);
        if (n >= 13) {
            EXPECT_EQ(rc, Rc::ok) << n;
        }
        EXPECT_LE(info.media_start, file.size());
        for (auto& e : info.index) {
            EXPECT_LT(e.second, file.size());
        }
    }
}

TEST_F(VodFlv, ProbeSurvivesCorruption)
{
    make_recording();
    std::string file = slurp(path_);
    std::mt19937 rng(5);
    for (int k = 0; k < 3000; ++k) {
        std::string f = file.substr(0, 4096);
        int flips = 1 + int(rng() % 8);
        for (int i = 0; i < flips; ++i) f[rng() % f.size()] = char(rng());
        FlvFileInfo info;
        const char* why = nullptr;
        (void)flv_probe_head(bytes(f), f.size(), &info, &why);
        for (auto& e : info.index) {
            EXPECT_LT(e.second, f.size());
        }
    }
}

TEST_F(VodFlv, NotAnFlvFileIsRefused)
{
    FlvFileInfo info;
    const char* why = nullptr;
    std::string junk = "GIF89a and more bytes here";
    EXPECT_EQ(flv_probe_head(bytes(junk), junk.size(), &info, &why), Rc::error);
    EXPECT_TRUE(why);
}

TEST_F(VodFlv, NamesResolveInOrderAndNeverLeaveTheDirectories)
{
    ASSERT_EQ(mkdir((dir_ + "/a").c_str(), 0755), 0);
    ASSERT_EQ(mkdir((dir_ + "/b").c_str(), 0755), 0);
    std::ofstream(dir_ + "/b/movie.flv") << "x";
    std::ofstream(dir_ + "/a/both.flv") << "a";
    std::ofstream(dir_ + "/b/both.flv") << "b";
    std::ofstream(dir_ + "/secret.flv") << "s";
    ASSERT_EQ(mkdir((dir_ + "/a/sub.flv").c_str(), 0755), 0);   // a directory is not a file
    std::vector<std::string> dirs = {dir_ + "/a", dir_ + "/b"};
    std::string p;
    int fd = vod_open(dirs, "movie", &p);
    ASSERT_GE(fd, 0);
    close(fd);
    EXPECT_EQ(p, dir_ + "/b/movie.flv");
    fd = vod_open(dirs, "both", &p);
    ASSERT_GE(fd, 0);
    close(fd);
    EXPECT_EQ(p, dir_ + "/a/both.flv");
    fd = vod_open(dirs, "flv:movie.flv", &p);
    ASSERT_GE(fd, 0);
    close(fd);
    for (const char* bad : {"../secret", "..%2fsecret", "%2e%2e/secret", "/tmp/../secret", "..\\secret", "..",
                            "sub", ""}) {
        EXPECT_LT(vod_open(dirs, bad, &p), 0) << bad;
    }
    std::string abs = dir_ + "/secret";
    EXPECT_LT(vod_open(dirs, abs, &p), 0);
}
