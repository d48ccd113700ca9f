// Fragmented MP4 writer: the boxes it makes are parsed back (every child box tiles its
// parent exactly), fragments are cut per GOP with exact sample durations, trun data
// offsets land on the sample bytes, and the mfra / duration patches point where they say;
// with finalize_moov (the default) finish() and its patches leave a plain MP4 whose sample
// tables lead to every sample's bytes.
#include "modules/mp4_writer.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/buf.h"
#include "core/bytes.h"
#include "t/lib/mp4_boxes.h"
#include "t/lib/codec_records.h"

namespace strom::mod {
namespace {

using Bytes = std::vector<uint8_t>;
using test::kAvcHigh720;
using test::kHevcMain720;
using test::kAscLc44Stereo;

using test::mp4_find;
using Box = test::Mp4Box;

bool walk(const Bytes& b, size_t begin, size_t end, const std::string& parent,
          std::vector<Box>* out)
{
    return test::mp4_walk(b.data(), begin, end, parent, out);
}

std::vector<Box> find(const std::vector<Box>& boxes, const std::string& path)
{
    return mp4_find(boxes, path);
}

Bytes init_avc_aac(Mp4Writer& w)
{
    EXPECT_EQ(w.set_video(rtmp::VideoCodec::avc, kAvcHigh720), Rc::ok);
    EXPECT_EQ(w.set_audio_aac(kAscLc44Stereo), Rc::ok);
    Bytes out;
    EXPECT_EQ(w.init_segment(&out), Rc::ok);
    return out;
}

// Video sample k: 4-byte NAL length + NAL of type 5 (IDR) or 1, filled with k.
Bytes video_sample(uint32_t k, bool key)
{
    Bytes s = {0, 0, 0, 12, uint8_t(key ? 0x65 : 0x41)};
    s.insert(s.end(), 11, uint8_t(k));
    return s;
}

TEST(Mp4Writer, InitSegmentIsAConsistentBoxTreeWithAvcAndAac)
{
    Mp4Writer w;
    Bytes init = init_avc_aac(w);
    std::vector<Box> boxes;
    ASSERT_TRUE(walk(init, 0, init.size(), "", &boxes));
    EXPECT_EQ(boxes[0].path, "ftyp");
    EXPECT_EQ(std::string(init.begin() + 8, init.begin() + 12), "isom");
    EXPECT_EQ(find(boxes, "moov/mvhd").size(), 1u);
    EXPECT_EQ(find(boxes, "moov/mvex/mehd").size(), 1u);
    EXPECT_EQ(find(boxes, "moov/mvex/trex").size(), 2u);
    EXPECT_EQ(find(boxes, "moov/trak").size(), 2u);
    auto avcc = find(boxes, "moov/trak/mdia/minf/stbl/stsd/avc1/avcC");
    ASSERT_EQ(avcc.size(), 1u);
    EXPECT_EQ(Bytes(init.begin() + avcc[0].body, init.begin() + avcc[0].off + avcc[0].size),
              kAvcHigh720);
    auto esds = find(boxes, "moov/trak/mdia/minf/stbl/stsd/mp4a/esds");
    ASSERT_EQ(esds.size(), 1u);
    // The ASC is the DecoderSpecificInfo (tag 5) at the end, before the SLConfig (6 bytes).
    size_t esds_end = esds[0].off + esds[0].size;
    EXPECT_EQ(Bytes(init.begin() + esds_end - 6 - 2, init.begin() + esds_end - 6), kAscLc44Stereo);
    EXPECT_EQ(init[esds_end - 6 - 2 - 5], 0x05);
    // tkhd width/height (16.16) from the SPS; the handler types.
    auto tkhd = find(boxes, "moov/trak/tkhd");
    ASSERT_EQ(tkhd.size(), 2u);
    EXPECT_EQ(load_be32(&init[tkhd[0].off + tkhd[0].size - 8]), 1280u << 16);
    EXPECT_EQ(load_be32(&init[tkhd[0].off + tkhd[0].size - 4]), 720u << 16);
    auto hdlr = find(boxes, "moov/trak/mdia/hdlr");
    ASSERT_EQ(hdlr.size(), 2u);
    EXPECT_EQ(std::string(init.begin() + hdlr[0].off + 16, init.begin() + hdlr[0].off + 20),
              "vide");
    EXPECT_EQ(std::string(init.begin() + hdlr[1].off + 16, init.begin() + hdlr[1].off + 20),
              "soun");
    EXPECT_EQ(w.bytes(), init.size());
}

TEST(Mp4Writer, HevcUsesHvc1AndHvcC)
{
    Mp4Writer w;
    ASSERT_EQ(w.set_video(rtmp::VideoCodec::hevc, kHevcMain720), Rc::ok);
    Bytes init;
    ASSERT_EQ(w.init_segment(&init), Rc::ok);
    std::vector<Box> boxes;
    ASSERT_TRUE(walk(init, 0, init.size(), "", &boxes));
    EXPECT_EQ(find(boxes, "moov/trak/mdia/minf/stbl/stsd/hvc1/hvcC").size(), 1u);
    EXPECT_EQ(find(boxes, "moov/trak").size(), 1u);
    EXPECT_TRUE(find(boxes, "moov/trak/mdia/minf/stbl/stsd/mp4a").empty());
}

TEST(Mp4Writer, UnsupportedCodecsAndBadRecordsAreRefused)
{
    Mp4Writer w;
    EXPECT_EQ(w.set_video(rtmp::VideoCodec::av1, kAvcHigh720), Rc::declined);
    EXPECT_EQ(w.set_video(rtmp::VideoCodec::avc, Bytes{0x01, 0x64}), Rc::error);
    EXPECT_EQ(w.set_video(rtmp::VideoCodec::avc, Bytes{}), Rc::error);
    EXPECT_EQ(w.set_audio_aac(Bytes{}), Rc::error);
    EXPECT_EQ(w.set_audio_aac(Bytes{0x00}), Rc::error);
    Bytes out;
    EXPECT_EQ(w.init_segment(&out), Rc::error);  // no track
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(w.set_audio_aac(kAscLc44Stereo), Rc::ok);
    EXPECT_EQ(w.init_segment(&out), Rc::ok);
    EXPECT_EQ(w.set_video(rtmp::VideoCodec::avc, kAvcHigh720), Rc::error);  // tracks fixed
    EXPECT_EQ(w.init_segment(&out), Rc::error);
}

TEST(Mp4Writer, SamplesBeforeInitAreIgnored)
{
    Mp4Writer w;
    ASSERT_EQ(w.set_video(rtmp::VideoCodec::avc, kAvcHigh720), Rc::ok);
    Bytes out;
    w.add_video(0, 0, true, video_sample(0, true), &out);
    w.finish(&out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(w.bytes(), 0u);
}

struct Fragment {
    uint32_t seq = 0;
    std::map<uint32_t, uint64_t> tfdt;              // track -> base decode time
    std::map<uint32_t, std::vector<uint32_t>> dur;  // track -> sample durations
    std::map<uint32_t, std::vector<uint32_t>> flags;
    std::map<uint32_t, size_t> first_data;  // track -> file offset of sample 1
};

// Reads back the moof boxes of a whole file: mfhd, tfhd/tfdt/trun of each traf.
std::vector<Fragment> fragments(const Bytes& file, const std::vector<Box>& boxes)
{
    std::vector<Fragment> r;
    size_t moof_off = 0;
    uint32_t track = 0;
    for (const Box& b : boxes) {
        const uint8_t* p = &file[b.off];
        if (b.path == "moof") {
            r.emplace_back();
            moof_off = b.off;
        } else if (b.path == "moof/mfhd") {
            r.back().seq = load_be32(p + 12);
        } else if (b.path == "moof/traf/tfhd") {
            EXPECT_EQ(load_be24(p + 9), 0x020000u);  // default-base-is-moof
            track = load_be32(p + 12);
        } else if (b.path == "moof/traf/tfdt") {
            EXPECT_EQ(p[8], 1);
            r.back().tfdt[track] = load_be64(p + 12);
        } else if (b.path == "moof/traf/trun") {
            uint32_t fl = load_be24(p + 9);
            uint32_t n = load_be32(p + 12);
            r.back().first_data[track] = moof_off + load_be32(p + 16);
            size_t each = 8 + ((fl & 0x400) ? 4 : 0) + ((fl & 0x800) ? 4 : 0);
            EXPECT_EQ(b.size, 20 + n * each);
            for (uint32_t i = 0; i < n; ++i) {
                const uint8_t* s = p + 20 + i * each;
                r.back().dur[track].push_back(load_be32(s));
                if (fl & 0x400) r.back().flags[track].push_back(load_be32(s + 8));
            }
        }
    }
    return r;
}

Mp4Writer::Options fragmented_only()
{
    Mp4Writer::Options o;
    o.finalize_moov = false;
    return o;
}

TEST(Mp4Writer, OneFragmentPerGopWithExactDurationsAndDataOffsets)
{
    Mp4Writer w(fragmented_only());
    Bytes file = init_avc_aac(w);
    size_t init_size = file.size();
    // 3 GOPs of 30 frames at 30 fps (ms timestamps as RTMP has them), AAC every 23 ms.
    uint32_t a = 0;
    for (uint32_t k = 0; k < 90; ++k) {
        uint64_t dts = k * 1000 / 30;
        while (a * 23 <= dts) {
            w.add_audio(a * 23, Bytes{0x21, uint8_t(a)}, &file);
            ++a;
        }
        w.add_video(dts, 0, k % 30 == 0, video_sample(k, k % 30 == 0), &file);
    }
    EXPECT_EQ(w.fragments(), 2u);  // the third GOP waits for its end
    w.finish(&file);
    EXPECT_EQ(w.bytes(), file.size());
    std::vector<Box> boxes;
    ASSERT_TRUE(walk(file, 0, file.size(), "", &boxes));
    auto fr = fragments(file, boxes);
    ASSERT_EQ(fr.size(), 3u);
    EXPECT_EQ(find(boxes, "mdat").size(), 3u);
    for (size_t i = 0; i < fr.size(); ++i) {
        EXPECT_EQ(fr[i].seq, i + 1);
        ASSERT_EQ(fr[i].dur[1].size(), 30u);
        EXPECT_EQ(fr[i].tfdt[1], i * 1000);
        EXPECT_EQ(fr[i].flags[1][0], 0x02000000u);
        EXPECT_EQ(fr[i].flags[1][1], 0x01010000u);
        // sample 1 of the video track is frame 30*i, an IDR, where trun says
        size_t at = fr[i].first_data[1];
        EXPECT_EQ(file[at + 4], 0x65);
        EXPECT_EQ(file[at + 5], uint8_t(30 * i));
        EXPECT_EQ(file[fr[i].first_data[2]], 0x21);
        if (i + 1 < fr.size()) {
            uint64_t sum = 0;
            for (uint32_t d : fr[i].dur[1]) sum += d;
            EXPECT_EQ(fr[i].tfdt[1] + sum, fr[i + 1].tfdt[1]);  // no gap, no overlap
        }
    }
    // mfra: one tfra entry per fragment (each starts on a keyframe), mfro = mfra size.
    auto mfra = find(boxes, "mfra");
    ASSERT_EQ(mfra.size(), 1u);
    EXPECT_EQ(mfra[0].off + mfra[0].size, file.size());
    EXPECT_EQ(load_be32(&file[file.size() - 4]), mfra[0].size);
    auto tfra = find(boxes, "mfra/tfra");
    ASSERT_EQ(tfra.size(), 1u);
    const uint8_t* t = &file[tfra[0].off];
    EXPECT_EQ(load_be32(t + 12), 1u);  // the video track
    ASSERT_EQ(load_be32(t + 20), 3u);
    auto moofs = find(boxes, "moof");
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(load_be64(t + 24 + i * 19), i * 1000);
        EXPECT_EQ(load_be64(t + 24 + i * 19 + 8), moofs[i].off);
    }
    EXPECT_EQ(moofs[0].off, init_size);
}

TEST(Mp4Writer, DurationPatchesPointAtMvhdAndMehd)
{
    Mp4Writer w(fragmented_only());
    Bytes file = init_avc_aac(w);
    for (uint32_t k = 0; k < 100; ++k)
        w.add_video(k * 40, 80, k % 25 == 0, video_sample(k, k % 25 == 0), &file);
    w.finish(&file);
    EXPECT_EQ(w.duration_ms(), 4000u);  // 100 frames of 40 ms, the last one's estimated
    std::vector<Box> boxes;
    ASSERT_TRUE(walk(file, 0, file.size(), "", &boxes));
    auto mvhd = find(boxes, "moov/mvhd")[0];
    auto mehd = find(boxes, "moov/mvex/mehd")[0];
    auto patches = w.close_patches();
    ASSERT_EQ(patches.size(), 2u);
    EXPECT_EQ(patches[0].offset, mvhd.off + 24);  // v0: after creation, modification, timescale
    EXPECT_EQ(load_be32(&file[mvhd.off + 20]), 1000u);
    EXPECT_EQ(patches[1].offset, mehd.off + 12);
    for (const auto& p : patches) {
        EXPECT_EQ(p.size, 4);
        EXPECT_EQ(p.value, 4000u);
    }
    // signed composition offsets (trun v1) kept
    auto fr = fragments(file, boxes);
    ASSERT_EQ(fr.size(), 4u);
    auto trun = find(boxes, "moof/traf/trun")[0];
    EXPECT_EQ(file[trun.off + 8], 1);
    EXPECT_EQ(load_be32(&file[trun.off + 20 + 12]), 80u);
}

TEST(Mp4Writer, AudioOnlyIsCutByTime)
{
    Mp4Writer::Options o = fragmented_only();
    o.audio_fragment_ms = 1000;
    Mp4Writer w(o);
    ASSERT_EQ(w.set_audio_aac(kAscLc44Stereo), Rc::ok);
    Bytes file;
    ASSERT_EQ(w.init_segment(&file), Rc::ok);
    for (uint32_t a = 0; a * 23 < 5000; ++a) w.add_audio(a * 23, Bytes{0x21, 0x10, 0x04}, &file);
    w.finish(&file);
    std::vector<Box> boxes;
    ASSERT_TRUE(walk(file, 0, file.size(), "", &boxes));
    auto fr = fragments(file, boxes);
    ASSERT_EQ(fr.size(), 5u);
    for (size_t i = 1; i < fr.size(); ++i) EXPECT_GE(fr[i].tfdt[1] - fr[i - 1].tfdt[1], 1000u);
    EXPECT_EQ(find(boxes, "mfra/tfra").size(), 1u);
}

TEST(Mp4Writer, LongGopIsCutAtTheFragmentLimit)
{
    Mp4Writer::Options o = fragmented_only();
    o.max_fragment_ms = 2000;
    Mp4Writer w(o);
    Bytes file = init_avc_aac(w);
    for (uint32_t k = 0; k < 300; ++k)
        w.add_video(k * 33, 0, k == 0, video_sample(k, k == 0), &file);
    w.finish(&file);
    std::vector<Box> boxes;
    ASSERT_TRUE(walk(file, 0, file.size(), "", &boxes));
    auto fr = fragments(file, boxes);
    EXPECT_GE(fr.size(), 4u);
    EXPECT_EQ(fr[1].flags[1][0], 0x01010000u);  // a fragment that starts without a keyframe
    // only the first one is a random access point
    EXPECT_EQ(load_be32(&file[find(boxes, "mfra/tfra")[0].off + 20]), 1u);
}

TEST(Mp4Writer, TimestampsGoingBackAreClamped)
{
    Mp4Writer w;
    Bytes file = init_avc_aac(w);
    uint64_t ts[] = {0, 40, 30, 80, 120};
    for (size_t k = 0; k < 5; ++k)
        w.add_video(ts[k], 0, k == 0, video_sample(uint32_t(k), k == 0), &file);
    w.add_video(160, 0, true, video_sample(5, true), &file);
    std::vector<Box> boxes;
    ASSERT_TRUE(walk(file, 0, file.size(), "", &boxes));
    auto fr = fragments(file, boxes);
    ASSERT_EQ(fr.size(), 1u);
    EXPECT_EQ(fr[0].dur[1], (std::vector<uint32_t>{40, 0, 40, 40, 40}));
}

TEST(Mp4Writer, ChainInputGivesTheSameBytesAsASpan)
{
    BufPool pool(64, 64);
    {
        Mp4Writer a, b;
        Bytes fa = init_avc_aac(a);
        Bytes fb = init_avc_aac(b);
        for (uint32_t k = 0; k < 60; ++k) {
            Bytes s = video_sample(k, k % 30 == 0);
            s.resize(150, uint8_t(k));  // spans several 64-byte blocks
            Bytes msg = {0x17, 0x01, 0, 0, 0};
            msg.insert(msg.end(), s.begin(), s.end());
            Chain c(pool);
            ASSERT_EQ(c.append(msg.data(), msg.size()), Rc::ok);
            BufRef ref = c.take();
            a.add_video(k * 33, 0, k % 30 == 0, s, &fa);
            b.add_video(k * 33, 0, k % 30 == 0, ref.get(), 5, s.size(), &fb);
            a.add_audio(k * 33, Bytes{0x21, uint8_t(k)}, &fa);
            Bytes am = {0xaf, 0x01, 0x21, uint8_t(k)};
            Chain ca(pool);
            ASSERT_EQ(ca.append(am.data(), am.size()), Rc::ok);
            BufRef ar = ca.take();
            b.add_audio(k * 33, ar.get(), 2, 2, &fb);
        }
        a.finish(&fa);
        b.finish(&fb);
        EXPECT_EQ(fa, fb);
    }
    EXPECT_EQ(pool.outstanding(), 0u);
}

// The sample tables of one trak of a plain MP4, expanded: per sample its offset, size,
// duration, composition offset and sync flag.
struct FlatSample {
    uint64_t offset;
    uint32_t size, duration;
    int32_t cts;
    bool key;
};
std::vector<FlatSample> flatten(const Bytes& f, const std::vector<Box>& boxes, size_t trak)
{
    auto one = [&](const char* name) -> const uint8_t* {
        auto v = find(boxes, std::string("moov/trak/mdia/minf/stbl/") + name);
        return trak < v.size() ? &f[v[trak].off] : nullptr;
    };
    const uint8_t* stsz = one("stsz");
    const uint8_t* stts = one("stts");
    const uint8_t* stsc = one("stsc");
    const uint8_t* stco = one("stco");
    const uint8_t* ctts = one("ctts");
    const uint8_t* stss = one("stss");
    std::vector<FlatSample> r(stsz ? load_be32(stsz + 16) : 0);
    if (!stsz || !stts || !stsc || !stco) return {};
    for (size_t i = 0; i < r.size(); ++i) {
        r[i].size = load_be32(stsz + 20 + 4 * i);
        r[i].key = !stss;
    }
    size_t i = 0;
    for (uint32_t e = 0, n = load_be32(stts + 12); e < n; ++e) {
        for (uint32_t k = 0; k < load_be32(stts + 16 + 8 * e); ++k) r.at(i++).duration = load_be32(stts + 20 + 8 * e);
    }
    EXPECT_EQ(i, r.size());
    if (ctts) {
        i = 0;
        for (uint32_t e = 0, n = load_be32(ctts + 12); e < n; ++e) {
            for (uint32_t k = 0; k < load_be32(ctts + 16 + 8 * e); ++k) r.at(i++).cts = int32_t(load_be32(ctts + 20 + 8 * e));
        }
    }
    if (stss) {
        for (uint32_t e = 0, n = load_be32(stss + 12); e < n; ++e) r.at(load_be32(stss + 16 + 4 * e) - 1).key = true;
    }
    uint32_t chunks = load_be32(stco + 12), runs = load_be32(stsc + 12);
    i = 0;
    for (uint32_t c = 0; c < chunks; ++c) {
        uint32_t per = 0;
        for (uint32_t e = 0; e < runs; ++e) {
            if (load_be32(stsc + 16 + 12 * e) <= c + 1) per = load_be32(stsc + 20 + 12 * e);
        }
        uint64_t at = load_be32(stco + 16 + 4 * c);
        for (uint32_t k = 0; k < per; ++k) {
            r.at(i).offset = at;
            at += r[i++].size;
        }
    }
    EXPECT_EQ(i, r.size());
    return r;
}

void apply_patches(Bytes* f, const std::vector<Mp4Writer::Patch>& patches)
{
    for (const auto& p : patches) {
        ASSERT_LE(p.offset + p.size, f->size());
        if (p.size == 8)
            store_be64(&(*f)[p.offset], p.value);
        else
            store_be32(&(*f)[p.offset], uint32_t(p.value));
    }
}

TEST(Mp4Writer, FinishLeavesAPlainMp4WhoseTablesFindEverySample)
{
    Mp4Writer w;
    Bytes file = init_avc_aac(w);
    uint32_t a = 0;
    for (uint32_t k = 0; k < 90; ++k) {
        uint64_t dts = k * 1000 / 30;
        while (a * 23 <= dts) {
            w.add_audio(a * 23, Bytes{0x21, uint8_t(a)}, &file);
            ++a;
        }
        w.add_video(dts, k % 3 ? 33 : 66, k % 30 == 0, video_sample(k, k % 30 == 0), &file);
    }
    w.finish(&file);
    EXPECT_TRUE(w.final_moov());
    EXPECT_EQ(w.bytes(), file.size());
    auto patches = w.close_patches();
    ASSERT_EQ(patches.size(), 4u);  // three moofs, then the init moov
    for (const auto& p : patches) EXPECT_EQ(std::string(&file[p.offset], &file[p.offset] + 4), p.offset == patches.back().offset ? "moov" : "moof");
    apply_patches(&file, patches);

    std::vector<Box> boxes;
    ASSERT_TRUE(walk(file, 0, file.size(), "", &boxes));
    std::string top;
    for (const Box& b : boxes) {
        if (b.path.find('/') == std::string::npos) top += b.path + " ";
    }
    EXPECT_EQ(top, "ftyp free free mdat free mdat free mdat moov ");
    EXPECT_TRUE(find(boxes, "moov/mvex").empty());
    auto mvhd = find(boxes, "moov/mvhd");
    ASSERT_EQ(mvhd.size(), 1u);
    uint32_t duration = load_be32(&file[mvhd[0].off + 24]);
    EXPECT_GE(duration, 89u * 1000 / 30);
    EXPECT_LE(duration, 3000u + 23);

    auto video = flatten(file, boxes, 0);
    ASSERT_EQ(video.size(), 90u);
    uint64_t dts = 0;
    for (uint32_t k = 0; k < 90; ++k) {
        const FlatSample& s = video[k];
        EXPECT_EQ(s.key, k % 30 == 0) << k;
        EXPECT_EQ(s.cts, k % 3 ? 33 : 66) << k;
        EXPECT_EQ(dts, k * 1000 / 30) << k;
        ASSERT_LE(s.offset + s.size, file.size());
        EXPECT_EQ(Bytes(&file[s.offset], &file[s.offset] + s.size), video_sample(k, k % 30 == 0)) << k;
        dts += s.duration;
    }
    auto audio = flatten(file, boxes, 1);
    ASSERT_EQ(audio.size(), a);
    dts = 0;
    for (uint32_t i = 0; i < a; ++i) {
        EXPECT_EQ(dts, i * 23) << i;
        EXPECT_EQ(file[audio[i].offset + 1], uint8_t(i)) << i;
        EXPECT_TRUE(audio[i].key);
        dts += audio[i].duration;
    }
    EXPECT_TRUE(find(boxes, "moov/trak/edts").empty());  // both tracks start at 0
}

TEST(Mp4Writer, ATrackThatStartsLateGetsAnEmptyEdit)
{
    Mp4Writer w;
    Bytes file = init_avc_aac(w);
    for (uint32_t k = 0; k < 40; ++k) w.add_audio(k * 23, Bytes{0x21, uint8_t(k)}, &file);
    for (uint32_t k = 0; k < 10; ++k) w.add_video(500 + k * 40, 0, k == 0, video_sample(k, k == 0), &file);
    w.finish(&file);
    apply_patches(&file, w.close_patches());
    std::vector<Box> boxes;
    ASSERT_TRUE(walk(file, 0, file.size(), "", &boxes));
    auto elst = find(boxes, "moov/trak/edts/elst");
    ASSERT_EQ(elst.size(), 1u);  // video only
    const uint8_t* e = &file[elst[0].off];
    EXPECT_EQ(load_be32(e + 12), 2u);
    EXPECT_EQ(load_be32(e + 16), 500u);
    EXPECT_EQ(load_be32(e + 20), 0xffffffffu);
    EXPECT_EQ(load_be32(e + 32), 0u);
    EXPECT_EQ(flatten(file, boxes, 0).size(), 10u);
}

TEST(Mp4Writer, PastTheTableLimitTheFileStaysFragmentedWithMfra)
{
    Mp4Writer::Options o;
    o.max_table_samples = 50;
    Mp4Writer w(o);
    Bytes file = init_avc_aac(w);
    for (uint32_t k = 0; k < 90; ++k) w.add_video(k * 33, 0, k % 30 == 0, video_sample(k, k % 30 == 0), &file);
    w.finish(&file);
    EXPECT_FALSE(w.final_moov());
    std::vector<Box> boxes;
    ASSERT_TRUE(walk(file, 0, file.size(), "", &boxes));
    EXPECT_EQ(find(boxes, "mfra").size(), 1u);
    EXPECT_EQ(find(boxes, "moov").size(), 1u);
    EXPECT_EQ(w.close_patches().size(), 2u);  // the durations
}

}  // namespace
}  // namespace strom::mod
