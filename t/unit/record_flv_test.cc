// The FLV recording file: valid at every tag, onMetaData rewritten in place on a clean close
// (duration, filesize, keyframe index that points at keyframe tags), append, index thinning,
// disk errors; the rotation rule; and the record directives with recorder blocks.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/buf.h"
#include "core/conf_block.h"
#include "core/core_module.h"
#include "core/cycle.h"
#include "modules/flv_file_writer.h"
#include "modules/live_module.h"
#include "modules/record_module.h"
#include "modules/record_recorder.h"
#include "rtmp/amf0.h"
#include "rtmp/flv.h"
#include "rtmp/rtmp_core_module.h"

using namespace strom;
using namespace strom::mod;
using rtmp::AmfValue;

namespace {

std::string slurp(const std::string& p)
{
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct Tag {
    uint8_t type;
    uint32_t ts;
    uint64_t offset;
    std::string data;
};

std::vector<Tag> read_tags(const std::string& bytes, bool* clean)
{
    rtmp::FlvReader r;
    std::span<const uint8_t> in(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    std::vector<Tag> out;
    rtmp::FlvTag t;
    while (r.next(in, &t) == Rc::ok) {
        out.push_back({t.type, t.timestamp, t.offset, std::string(t.data.begin(), t.data.end())});
    }
    if (clean) *clean = r.finish() == Rc::ok && r.bad_back_pointers() == 0 && !r.reason();
    return out;
}

AmfValue meta_of(const Tag& t)
{
    std::vector<AmfValue> v;
    rtmp::AmfLimits lim;
    lim.max_nodes = 100000;   // the padding is one null per byte
    rtmp::AmfDecodeState st(lim);
    const char* why = nullptr;
    EXPECT_EQ(rtmp::amf0_decode_all(reinterpret_cast<const uint8_t*>(t.data.data()), t.data.size(), &v, st, &why),
              Rc::ok);
    EXPECT_EQ(v.size(), 2u);
    return v.size() == 2 ? v[1] : AmfValue();
}

std::string publisher_meta()
{
    std::string b;
    AmfValue name("onMetaData");
    AmfValue obj = AmfValue::ecma_array({{"width", 320.0}, {"height", 240.0}, {"duration", 99.0},
                                         {"videocodecid", 7.0}, {"encoder", "Lavf"}});
    rtmp::amf0_encode(name, &b);
    rtmp::amf0_encode(obj, &b);
    return b;
}

class FlvWriterTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/strom-recflv-XXXXXX";
        dir_ = mkdtemp(tmpl);
        path_ = dir_ + "/a.flv";
    }
    void TearDown() override
    {
        unlink(path_.c_str());
        rmdir(dir_.c_str());
        EXPECT_EQ(pool_.outstanding(), 0u);
    }
    BufRef payload(const std::string& s)
    {
        Chain c(pool_);
        EXPECT_EQ(c.append(s.data(), s.size()), Rc::ok);
        return c.take();
    }
    // AVC: key or inter frame, with a frame number in the body.
    void video(FlvFileWriter& w, uint32_t ts, bool key, int n = 0)
    {
        std::string p = {char(key ? 0x17 : 0x27), 1, 0, 0, 0};
        p += std::string(size_t(100 + n % 50), char(n));
        const char* what = "";
        ASSERT_EQ(w.write(9, ts, payload(p).get(), key, &what), Rc::ok) << what;
    }
    BufPool pool_{256, 1000};   // small blocks: payloads span several
    std::string dir_, path_;
};

}  // namespace

TEST_F(FlvWriterTest, CleanCloseRewritesDurationSizeAndIndex)
{
    FlvFileWriter w;
    const char* what = "";
    ASSERT_EQ(w.open(path_, {}, publisher_meta(), &what), Rc::ok);
    for (int i = 0; i < 90; ++i) video(w, uint32_t(i * 40), i % 30 == 0, i);
    ASSERT_EQ(w.close(true, &what), Rc::ok);
    std::string bytes = slurp(path_);
    bool clean = false;
    auto tags = read_tags(bytes, &clean);
    EXPECT_TRUE(clean);
    ASSERT_EQ(tags.size(), 91u);
    ASSERT_EQ(tags[0].type, 18);
    AmfValue m = meta_of(tags[0]);
    EXPECT_DOUBLE_EQ(m.get_num("duration"), 89 * 0.04);
    EXPECT_DOUBLE_EQ(m.get_num("filesize"), double(bytes.size()));
    EXPECT_DOUBLE_EQ(m.get_num("width"), 320);   // the publisher's properties stay
    EXPECT_EQ(m.get_str("encoder"), "Lavf");
    const AmfValue* kf = m.get("keyframes");
    ASSERT_TRUE(kf);
    const AmfValue* times = kf->get("times");
    const AmfValue* pos = kf->get("filepositions");
    ASSERT_TRUE(times && pos);
    ASSERT_EQ(times->items().size(), 3u);
    ASSERT_EQ(pos->items().size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_DOUBLE_EQ(times->items()[i].num(), i * 30 * 0.04);
        uint64_t off = uint64_t(pos->items()[i].num());
        const Tag* hit = nullptr;
        for (const Tag& t : tags) {
            if (t.offset == off) hit = &t;
        }
        ASSERT_TRUE(hit) << off;
        EXPECT_EQ(uint8_t(hit->data[0]), 0x17);
    }
}

TEST_F(FlvWriterTest, ReadableAfterCrashWithoutClose)
{
    {
        FlvFileWriter w;
        const char* what = "";
        ASSERT_EQ(w.open(path_, {}, {}, &what), Rc::ok);
        for (int i = 0; i < 10; ++i) video(w, uint32_t(i * 40), i == 0, i);
        // destroyed without finalizing: what kill -9 leaves, every tag already written
    }
    bool clean = false;
    auto tags = read_tags(slurp(path_), &clean);
    EXPECT_TRUE(clean);
    EXPECT_EQ(tags.size(), 11u);
    EXPECT_DOUBLE_EQ(meta_of(tags[0]).get_num("duration", -1), 0);
}

TEST_F(FlvWriterTest, EveryPrefixEndingAtATagIsComplete)
{
    FlvFileWriter w;
    const char* what = "";
    ASSERT_EQ(w.open(path_, {}, {}, &what), Rc::ok);
    std::vector<uint64_t> ends;
    for (int i = 0; i < 5; ++i) {
        video(w, uint32_t(i * 40), i == 0, i);
        ends.push_back(w.size());
    }
    ASSERT_EQ(w.close(true, &what), Rc::ok);
    std::string bytes = slurp(path_);
    for (size_t i = 0; i < ends.size(); ++i) {
        bool clean = false;
        EXPECT_EQ(read_tags(bytes.substr(0, ends[i]), &clean).size(), i + 2);
        EXPECT_TRUE(clean);
    }
}

TEST_F(FlvWriterTest, AppendContinuesTimestamps)
{
    const char* what = "";
    {
        FlvFileWriter w;
        ASSERT_EQ(w.open(path_, {}, {}, &what), Rc::ok);
        for (int i = 0; i < 5; ++i) video(w, uint32_t(i * 100), i == 0, i);
        ASSERT_EQ(w.close(true, &what), Rc::ok);
    }
    FlvFileWriter w;
    FlvFileWriter::Options o;
    o.append = true;
    ASSERT_EQ(w.open(path_, o, {}, &what), Rc::ok);
    EXPECT_EQ(w.append_base(), 400u);
    video(w, w.append_base() + 40, true, 7);
    ASSERT_EQ(w.close(true, &what), Rc::ok);
    bool clean = false;
    auto tags = read_tags(slurp(path_), &clean);
    EXPECT_TRUE(clean);
    ASSERT_EQ(tags.size(), 7u);   // one header, one metadata tag
    EXPECT_EQ(tags.back().ts, 440u);
}

TEST_F(FlvWriterTest, AppendRefusesANonFlvFile)
{
    {
        std::ofstream f(path_);
        f << "not a video file at all";
    }
    FlvFileWriter w;
    FlvFileWriter::Options o;
    o.append = true;
    const char* what = "";
    EXPECT_EQ(w.open(path_, o, {}, &what), Rc::error);
    EXPECT_STREQ(what, "read");
}

TEST_F(FlvWriterTest, IndexIsThinnedToCapacityAndStillPointsAtKeyframes)
{
    FlvFileWriter w;
    FlvFileWriter::Options o;
    o.index_capacity = 4;
    const char* what = "";
    ASSERT_EQ(w.open(path_, o, {}, &what), Rc::ok);
    uint64_t meta_end = w.size();
    for (int i = 0; i < 50; ++i) video(w, uint32_t(i * 1000), true, i);
    ASSERT_EQ(w.close(true, &what), Rc::ok);
    std::string bytes = slurp(path_);
    bool clean = false;
    auto tags = read_tags(bytes, &clean);
    EXPECT_TRUE(clean);
    EXPECT_EQ(tags[1].offset + 0, meta_end);   // the rewrite kept the reserved size
    AmfValue m = meta_of(tags[0]);
    const AmfValue* kf = m.get("keyframes");
    ASSERT_TRUE(kf);
    const auto& t = kf->get("times")->items();
    const auto& p = kf->get("filepositions")->items();
    ASSERT_EQ(t.size(), 4u);
    ASSERT_EQ(p.size(), 4u);
    EXPECT_DOUBLE_EQ(t[0].num(), 0);
    for (size_t i = 0; i < 4; ++i) {
        bool found = false;
        for (const Tag& tg : tags) found |= tg.offset == uint64_t(p[i].num()) && tg.ts == uint32_t(t[i].num() * 1000);
        EXPECT_TRUE(found) << i;
        if (i) {
            EXPECT_GT(t[i].num(), t[i - 1].num());
        }
    }
}

TEST_F(FlvWriterTest, MissingDirectoryFailsAtOpen)
{
    FlvFileWriter w;
    const char* what = "";
    EXPECT_EQ(w.open(dir_ + "/no/such/dir/x.flv", {}, {}, &what), Rc::error);
    EXPECT_EQ(errno, ENOENT);
    EXPECT_STREQ(what, "open");
    EXPECT_FALSE(w.is_open());
}

TEST_F(FlvWriterTest, DiskFullFailsAtWrite)
{
    if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
    FlvFileWriter w;
    const char* what = "";
    EXPECT_EQ(w.open("/dev/full", {}, {}, &what), Rc::error);
    EXPECT_EQ(errno, ENOSPC);
    EXPECT_STREQ(what, "write");
}

TEST(FlvMeta, ReservedBodyHasExactSizeForAnyIndexUpToCapacity)
{
    std::string pm = publisher_meta();
    size_t reserve = flv_meta_reserve(pm, 16);
    for (size_t n = 0; n <= 16; ++n) {
        std::vector<double> t(n, 1.5), p(n, 1234);
        EXPECT_EQ(flv_meta_body(pm, 12.5, 9999, t, p, reserve).size(), reserve) << n;
    }
}

TEST(FlvMeta, UndecodablePublisherMetaIsIgnored)
{
    std::string body = flv_meta_body("\x02\x00\x05garb", 1, 2, {}, {}, 0);
    std::vector<AmfValue> v;
    rtmp::AmfDecodeState st;
    const char* why = nullptr;
    ASSERT_EQ(rtmp::amf0_decode_all(reinterpret_cast<const uint8_t*>(body.data()), body.size(), &v, st, &why), Rc::ok);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_DOUBLE_EQ(v[1].get_num("filesize"), 2);
}

TEST(RecordRotation, EachLimitTriggers)
{
    RotationLimits none;
    EXPECT_FALSE(rotation_due(none, 1u << 30, 1000000, 100000000));
    RotationLimits size{1000, 0, 0};
    EXPECT_FALSE(rotation_due(size, 999, 5, 5));
    EXPECT_TRUE(rotation_due(size, 1000, 0, 0));
    RotationLimits frames{0, 10, 0};
    EXPECT_FALSE(rotation_due(frames, 1u << 30, 9, 0));
    EXPECT_TRUE(rotation_due(frames, 0, 10, 0));
    RotationLimits interval{0, 0, 5000};
    EXPECT_FALSE(rotation_due(interval, 0, 0, 4999));
    EXPECT_TRUE(rotation_due(interval, 0, 0, 5000));
}

// --- configuration -------------------------------------------------------------------------------

namespace {

Module* const kModules[] = {&core_module, &rtmp::rtmp_core_module, &live_module, &record_module};

std::unique_ptr<Cycle> load(const std::string& app_body, std::string* err)
{
    std::string text = "rtmp { server { listen 127.0.0.1:19350; application live { " + app_body + " } } }";
    return Cycle::load_string(kModules, text, "/p/strom.conf", "/p/", err);
}

const RecordConf& app_conf(const Cycle& c)
{
    return c.proto("rtmp")->servers[0]->apps[0]->conf<RecordConf>(record_module);
}

}  // namespace

TEST(RecordConf, DefaultsAreOff)
{
    std::string err;
    auto c = load("live on;", &err);
    ASSERT_TRUE(c) << err;
    const RecordConf& rc = app_conf(*c);
    EXPECT_EQ(*rc.mode, 0u);
    EXPECT_EQ(*rc.suffix, ".flv");
    EXPECT_EQ(*rc.format, RecordFormat::flv);
}

TEST(RecordConf, FlagsCombineAndRecordersInherit)
{
    std::string err;
    auto c = load("record video keyframes; record_path rec; record_max_size 1m; record_interval 30s;"
                  "record_notify on; exec_record_done /bin/echo $path;"
                  "recorder audio { record audio; record_suffix -%Y.flv; record_format flv; }"
                  "recorder all { record all manual; record_path /abs; exec_record_done /bin/true; }",
                  &err);
    ASSERT_TRUE(c) << err;
    const RecordConf& rc = app_conf(*c);
    EXPECT_EQ(*rc.mode, record_mode::video | record_mode::keyframes);
    EXPECT_EQ(*rc.path, "/p/rec");
    EXPECT_EQ(*rc.max_size, 1u << 20);
    EXPECT_EQ(*rc.interval, 30000u);
    ASSERT_EQ(rc.recorders.size(), 2u);
    const RecordConf& a = *rc.recorders[0];
    EXPECT_EQ(a.name, "audio");
    EXPECT_EQ(*a.mode, record_mode::audio);
    EXPECT_EQ(*a.path, "/p/rec");        // inherited
    EXPECT_EQ(*a.suffix, "-%Y.flv");
    EXPECT_EQ(*a.max_size, 1u << 20);
    EXPECT_TRUE(*a.notify);
    ASSERT_EQ(a.exec_done.size(), 1u);
    EXPECT_EQ(a.exec_done[0][0], "/bin/echo");
    const RecordConf& b = *rc.recorders[1];
    EXPECT_EQ(*b.mode, record_mode::audio | record_mode::video | record_mode::manual);
    EXPECT_EQ(*b.path, "/abs");
    ASSERT_EQ(b.exec_done.size(), 1u);
    EXPECT_EQ(b.exec_done[0][0], "/bin/true");
    EXPECT_TRUE(rc.events && a.events);
}

TEST(RecordConf, Mp4FormatChangesTheDefaultSuffix)
{
    std::string err;
    auto c = load("record all; record_path /r; record_format mp4;", &err);
    ASSERT_TRUE(c) << err;
    EXPECT_EQ(*app_conf(*c).suffix, ".mp4");
}

TEST(RecordConf, ErrorsNameTheProblem)
{
    std::string err;
    EXPECT_FALSE(load("record sometimes; record_path /r;", &err));
    EXPECT_NE(err.find("\"record\" directive invalid value"), std::string::npos) << err;
    EXPECT_FALSE(load("record off all; record_path /r;", &err));
    EXPECT_FALSE(load("record all;", &err));
    EXPECT_NE(err.find("record_path"), std::string::npos) << err;
    EXPECT_FALSE(load("record_path /r; recorder a { live on; }", &err));
    EXPECT_NE(err.find("not allowed in a recorder block"), std::string::npos) << err;
    EXPECT_FALSE(load("record_path /r; recorder a { } recorder a { }", &err));
    EXPECT_NE(err.find("duplicate recorder"), std::string::npos) << err;
    EXPECT_FALSE(load("record_path /r; recorder a { record_unique maybe; }", &err));
    EXPECT_NE(err.find("record_unique"), std::string::npos) << err;
    EXPECT_FALSE(load("record_path /r; record_path /s;", &err));
    EXPECT_NE(err.find("duplicate"), std::string::npos) << err;
    EXPECT_FALSE(load("record_format avi; record_path /r;", &err));
}
