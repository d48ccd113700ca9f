// MP4 reader: hand-built movies (every sample table form, chunk runs, edit lists) give the
// index the tables describe; Mp4Writer's files (fragmented, finalized, cut short) read back
// to exactly the samples that went in; hostile files give an error or a partial index,
// never a crash or a sample outside the file; real ffmpeg files when ffmpeg is present.
// STROM_MP4_CORPUS=dir writes the small files made here as fuzz seeds.
#include "modules/mp4_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "modules/mp4_writer.h"
#include "rtmp/message.h"
#include "t/lib/mp4_boxes.h"
#include "t/lib/codec_records.h"

namespace strom::mod {
namespace {

using Bytes = std::vector<uint8_t>;
using test::kAvcHigh720;
using test::kAscLc44Stereo;
constexpr uint8_t kVideo = rtmp::msg_type::video;
constexpr uint8_t kAudio = rtmp::msg_type::audio;

void write_seed(const char* name, const Bytes& b)
{
    const char* dir = getenv("STROM_MP4_CORPUS");
    if (!dir) return;
    std::string path = std::string(dir) + "/" + name;
    FILE* f = fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr) << path;
    fwrite(b.data(), 1, b.size(), f);
    fclose(f);
}

// --- a little box builder ------------------------------------------------------------------

struct W {
    Bytes b;
    void u8(uint8_t v) { b.push_back(v); }
    void u16(uint16_t v) { u8(uint8_t(v >> 8)), u8(uint8_t(v)); }
    void u32(uint32_t v) { u16(uint16_t(v >> 16)), u16(uint16_t(v)); }
    void u64(uint64_t v) { u32(uint32_t(v >> 32)), u32(uint32_t(v)); }
    void tag(const char* t) { b.insert(b.end(), t, t + 4); }
    void zeros(size_t n) { b.insert(b.end(), n, 0); }
    void put(const Bytes& x) { b.insert(b.end(), x.begin(), x.end()); }
    size_t open(const char* t)
    {
        size_t at = b.size();
        u32(0);
        tag(t);
        return at;
    }
    size_t full(const char* t, uint8_t version, uint32_t flags)
    {
        size_t at = open(t);
        u32(uint32_t(version) << 24 | flags);
        return at;
    }
    void close(size_t at) { store_be32(&b[at], uint32_t(b.size() - at)); }
};

struct TSample {
    uint32_t size;
    uint32_t duration;
    int32_t cto;
    bool key;
};

struct TTrack {
    bool video = true;
    uint32_t id = 1;
    uint32_t timescale = 90000;
    std::vector<TSample> s;
    std::vector<uint32_t> per_chunk;  // samples in each chunk
    bool co64 = false, stss = true, ctts = true, constant_size = false, stz2 = false;
    uint8_t ctts_version = 0;
    std::vector<std::pair<int64_t, uint32_t>> edits;  // (media_time, duration in movie ts)
    // Filled by build(): the file offset of every sample.
    std::vector<uint64_t> off;
};

uint8_t fill_byte(size_t track, size_t k)
{
    return uint8_t(track * 64 + k * 7 + 1);
}

void write_stbl(W& w, const TTrack& t, const std::vector<uint64_t>& chunk_off)
{
    size_t stbl = w.open("stbl");
    size_t at = w.full("stsd", 0, 0);
    w.u32(1);
    size_t e = w.open(t.video ? "avc1" : "mp4a");
    w.zeros(6);
    w.u16(1);
    if (t.video) {
        w.zeros(16);
        w.u16(320);
        w.u16(240);
        w.u32(0x00480000), w.u32(0x00480000), w.u32(0), w.u16(1);
        w.zeros(32);
        w.u16(0x18), w.u16(0xffff);
        size_t c = w.open("avcC");
        w.put(kAvcHigh720);
        w.close(c);
    } else {
        w.zeros(8);
        w.u16(2), w.u16(16), w.u32(0), w.u32(44100u << 16);
        size_t c = w.full("esds", 0, 0);
        // 1-byte descriptor lengths (the writer uses the 4-byte form)
        w.u8(0x03), w.u8(3 + 2 + 13 + 2 + 2 + 3), w.u16(2), w.u8(0);
        w.u8(0x04), w.u8(13 + 2 + 2), w.u8(0x40), w.u8(0x15), w.zeros(11);
        w.u8(0x05), w.u8(2), w.put(kAscLc44Stereo);
        w.u8(0x06), w.u8(1), w.u8(2);
        w.close(c);
    }
    w.close(e);
    w.close(at);

    at = w.full("stts", 0, 0);
    size_t n_at = w.b.size();
    w.u32(0);
    uint32_t runs = 0;
    for (size_t i = 0, j; i < t.s.size(); i = j, ++runs) {
        for (j = i + 1; j < t.s.size() && t.s[j].duration == t.s[i].duration;) ++j;
        w.u32(uint32_t(j - i)), w.u32(t.s[i].duration);
    }
    store_be32(&w.b[n_at], runs);
    w.close(at);
    if (t.ctts) {
        at = w.full("ctts", t.ctts_version, 0);
        w.u32(uint32_t(t.s.size()));
        for (const TSample& x : t.s) w.u32(1), w.u32(uint32_t(x.cto));  // runs of 1
        w.close(at);
    }
    if (t.stss) {
        at = w.full("stss", 0, 0);
        n_at = w.b.size();
        w.u32(0);
        uint32_t n = 0;
        for (size_t i = 0; i < t.s.size(); ++i) {
            if (t.s[i].key) w.u32(uint32_t(i + 1)), ++n;
        }
        store_be32(&w.b[n_at], n);
        w.close(at);
    }
    if (t.stz2) {
        at = w.full("stz2", 0, 0);
        w.u32(16);  // reserved(24) field_size 16
        w.u32(uint32_t(t.s.size()));
        for (const TSample& x : t.s) w.u16(uint16_t(x.size));
        w.close(at);
    } else {
        at = w.full("stsz", 0, 0);
        w.u32(t.constant_size ? t.s[0].size : 0);
        w.u32(uint32_t(t.s.size()));
        if (!t.constant_size) {
            for (const TSample& x : t.s) w.u32(x.size);
        }
        w.close(at);
    }
    at = w.full("stsc", 0, 0);
    n_at = w.b.size();
    w.u32(0);
    runs = 0;
    for (size_t c = 0; c < t.per_chunk.size(); ++c) {
        if (c > 0 && t.per_chunk[c] == t.per_chunk[c - 1]) continue;
        w.u32(uint32_t(c + 1)), w.u32(t.per_chunk[c]), w.u32(1), ++runs;
    }
    store_be32(&w.b[n_at], runs);
    w.close(at);
    at = w.full(t.co64 ? "co64" : "stco", 0, 0);
    w.u32(uint32_t(chunk_off.size()));
    for (uint64_t o : chunk_off) t.co64 ? w.u64(o) : w.u32(uint32_t(o));
    w.close(at);
    w.close(stbl);
}

void write_trak(W& w, const TTrack& t, const std::vector<uint64_t>& chunk_off)
{
    size_t trak = w.open("trak");
    size_t at = w.full("tkhd", 0, 3);
    w.u32(0), w.u32(0), w.u32(t.id), w.u32(0), w.u32(0);
    w.zeros(8 + 8 + 36);
    w.u32(t.video ? 320u << 16 : 0), w.u32(t.video ? 240u << 16 : 0);
    w.close(at);
    if (!t.edits.empty()) {
        size_t edts = w.open("edts");
        at = w.full("elst", 0, 0);
        w.u32(uint32_t(t.edits.size()));
        for (auto [mt, d] : t.edits) w.u32(d), w.u32(uint32_t(mt)), w.u32(0x00010000);
        w.close(at);
        w.close(edts);
    }
    size_t mdia = w.open("mdia");
    at = w.full("mdhd", 0, 0);
    w.u32(0), w.u32(0), w.u32(t.timescale), w.u32(0), w.u32(0);
    w.close(at);
    at = w.full("hdlr", 0, 0);
    w.u32(0), w.tag(t.video ? "vide" : "soun"), w.zeros(13);
    w.close(at);
    size_t minf = w.open("minf");
    write_stbl(w, t, chunk_off);
    w.close(minf);
    w.close(mdia);
    w.close(trak);
}

// ftyp, mdat with the tracks' chunks interleaved, then moov (as a non-faststart file).
Bytes build(std::vector<TTrack>& tracks)
{
    W w;
    size_t at = w.open("ftyp");
    w.tag("isom"), w.u32(0x200), w.tag("isom");
    w.close(at);
    size_t mdat = w.open("mdat");
    std::vector<std::vector<uint64_t>> chunk_off(tracks.size());
    std::vector<size_t> next(tracks.size());
    size_t most = 0;
    for (TTrack& t : tracks) most = std::max(most, t.per_chunk.size());
    for (size_t c = 0; c < most; ++c) {
        for (size_t ti = 0; ti < tracks.size(); ++ti) {
            TTrack& t = tracks[ti];
            if (c >= t.per_chunk.size()) continue;
            chunk_off[ti].push_back(w.b.size());
            for (uint32_t k = 0; k < t.per_chunk[c]; ++k, ++next[ti]) {
                t.off.push_back(w.b.size());
                w.b.insert(w.b.end(), t.s[next[ti]].size, fill_byte(ti, next[ti]));
            }
        }
    }
    w.close(mdat);
    at = w.open("moov");
    size_t mvhd = w.full("mvhd", 0, 0);
    w.u32(0), w.u32(0), w.u32(1000), w.u32(0);
    w.zeros(80);
    w.close(mvhd);
    for (size_t ti = 0; ti < tracks.size(); ++ti) write_trak(w, tracks[ti], chunk_off[ti]);
    w.close(at);
    return w.b;
}

TTrack video_track()
{
    TTrack v;
    // 40 ms frames, then 80 ms; B-frame-like composition offsets; keys at 1 and 5.
    uint32_t cto[8] = {7200, 0, 3600, 7200, 0, 3600, 3600, 0};
    for (uint32_t i = 0; i < 8; ++i)
        v.s.push_back(
            TSample{100 + 13 * i, i < 5 ? 3600u : 7200u, int32_t(cto[i]), i == 0 || i == 4});
    v.per_chunk = {3, 3, 2};  // stsc runs (1,3) (3,2)
    v.co64 = true;
    return v;
}

TTrack audio_track()
{
    TTrack a;
    a.video = false;
    a.id = 2;
    a.timescale = 44100;
    for (int i = 0; i < 10; ++i) a.s.push_back(TSample{32, 1024, 0, true});
    a.per_chunk = {4, 4, 2};
    a.constant_size = true;
    a.ctts = a.stss = false;
    return a;
}

int64_t ms(int64_t ticks, uint32_t ts)
{
    return ticks / ts * 1000 + ticks % ts * 1000 / ts;
}

// The index the tables describe, computed the simple way (see Mp4Index's timeline).
std::vector<Mp4Sample> expected(const std::vector<TTrack>& tracks, uint32_t movie_ts = 1000)
{
    std::vector<Mp4Sample> r;
    std::vector<int64_t> start;
    for (const TTrack& t : tracks) {
        int64_t empty = 0, media = 0;
        for (auto [mt, d] : t.edits) {
            if (mt == -1) {
                empty += d;
                continue;
            }
            media = mt;
            break;
        }
        start.push_back(ms(empty, movie_ts) - ms(media, t.timescale));
    }
    int64_t lowest = *std::min_element(start.begin(), start.end());
    for (size_t ti = 0; ti < tracks.size(); ++ti) {
        const TTrack& t = tracks[ti];
        int64_t dts = 0;
        for (size_t i = 0; i < t.s.size(); ++i) {
            const TSample& x = t.s[i];
            int64_t d = ms(dts, t.timescale);
            r.push_back(Mp4Sample{t.off[i], x.size, uint32_t(d + start[ti] - lowest),
                                  int32_t(ms(dts + x.cto, t.timescale) - d),
                                  t.video ? kVideo : kAudio, !t.video || !t.stss || x.key});
            dts += x.duration;
        }
    }
    std::stable_sort(r.begin(), r.end(), [](const Mp4Sample& a, const Mp4Sample& b) {
        return a.dts_ms < b.dts_ms || (a.dts_ms == b.dts_ms && a.offset < b.offset);
    });
    return r;
}

std::string show(const Mp4Sample& s)
{
    char b[128];
    snprintf(b, sizeof b, "{off %llu size %u dts %u cts %d type %u key %d}",
             (unsigned long long)s.offset, s.size, s.dts_ms, s.cts_ms, s.type, s.key);
    return b;
}

void expect_samples(const std::vector<Mp4Sample>& got, const std::vector<Mp4Sample>& want)
{
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
        EXPECT_EQ(show(got[i]), show(want[i])) << "sample " << i;
}

void expect_keys(const Mp4Index& x)
{
    std::vector<uint32_t> keys;
    for (size_t i = 0; i < x.samples.size(); ++i) {
        if (x.samples[i].type == kVideo && x.samples[i].key) keys.push_back(uint32_t(i));
    }
    EXPECT_EQ(x.keys, keys);
}

Rc read(const Bytes& f, Mp4Index* x, const char** why, const Mp4Limits& lim = Mp4Limits{})
{
    *why = "";
    return mp4_read_index(f, lim, x, why);
}

// Offset of the size field of the n-th box of this type (a plain search: the test
// files' sample bytes never spell a box type).
size_t find_box(const Bytes& f, const char* type, int nth = 0)
{
    for (size_t i = 4; i + 4 <= f.size(); ++i) {
        if (memcmp(&f[i], type, 4) == 0 && nth-- == 0) return i - 4;
    }
    ADD_FAILURE() << "no " << type;
    return 0;
}

// --- hand-built movies ---------------------------------------------------------------------

TEST(Mp4Reader, HandBuiltMovieGivesTheSamplesItsTablesDescribe)
{
    std::vector<TTrack> tracks = {video_track(), audio_track()};
    Bytes f = build(tracks);
    write_seed("tables_avc_aac.mp4", f);
    Mp4Index x;
    const char* why;
    ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
    EXPECT_EQ(x.video, rtmp::VideoCodec::avc);
    EXPECT_EQ(x.video_config, kAvcHigh720);
    EXPECT_EQ(x.width, 320u);
    EXPECT_EQ(x.height, 240u);
    EXPECT_TRUE(x.audio);
    EXPECT_EQ(x.asc, kAscLc44Stereo);
    EXPECT_EQ(x.sample_rate, 44100u);
    EXPECT_EQ(x.channels, 2);
    EXPECT_FALSE(x.fragmented);
    expect_samples(x.samples, expected(tracks));
    expect_keys(x);
    ASSERT_EQ(x.keys.size(), 2u);
    EXPECT_EQ(x.samples[x.keys[1]].dts_ms, 160u);
    // video ends at 5 * 40 + 3 * 80 ms; audio at 10 * 1024 / 44.1 = 232 ms
    EXPECT_DOUBLE_EQ(x.duration_s, 0.44);
    for (const Mp4Sample& s : x.samples) {
        ASSERT_LE(s.offset + s.size, f.size());
        size_t ti = s.type == kVideo ? 0 : 1;
        size_t k = std::find(tracks[ti].off.begin(), tracks[ti].off.end(), s.offset) -
                   tracks[ti].off.begin();
        EXPECT_EQ(f[s.offset], fill_byte(ti, k));
        EXPECT_EQ(f[s.offset + s.size - 1], fill_byte(ti, k));
    }
}

TEST(Mp4Reader, OtherTableFormsGiveTheSameIndex)
{
    // stco instead of co64, ctts v1 with a negative offset, stz2, no stss, one chunk run.
    TTrack v = video_track();
    v.co64 = false;
    v.ctts_version = 1;
    v.s[1].cto = -3600;
    v.stss = false;
    v.stz2 = true;
    v.per_chunk = {4, 4};
    TTrack a = audio_track();
    a.constant_size = false;
    a.per_chunk = {1, 2, 3, 4};
    std::vector<TTrack> tracks = {v, a};
    Bytes f = build(tracks);
    Mp4Index x;
    const char* why;
    ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
    expect_samples(x.samples, expected(tracks));
    expect_keys(x);
    EXPECT_EQ(x.keys.size(), 8u);  // no stss: every sample is a sync sample
}

TEST(Mp4Reader, EditListMediaTimeDelaysTheOtherTrackInsteadOfGoingNegative)
{
    TTrack v = video_track();
    v.edits = {{7200, 440}};  // libx264 with B-frames: pts of the first frame is 80 ms
    TTrack a = audio_track();
    a.edits = {{1024, 440}};  // AAC priming: 23 ms
    std::vector<TTrack> tracks = {v, a};
    Bytes f = build(tracks);
    write_seed("edit_list.mp4", f);
    Mp4Index x;
    const char* why;
    ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
    expect_samples(x.samples, expected(tracks));
    // video dts starts at 0 and its first pts is 80; audio (presented from 23 ms of its
    // media at the first video pts) starts at 80 - 23.
    ASSERT_EQ(x.samples[0].type, kVideo);
    EXPECT_EQ(x.samples[0].dts_ms, 0u);
    EXPECT_EQ(x.samples[0].cts_ms, 80);
    auto first_audio = std::find_if(x.samples.begin(), x.samples.end(),
                                    [](const Mp4Sample& s) { return s.type == kAudio; });
    EXPECT_EQ(first_audio->dts_ms, 57u);
}

TEST(Mp4Reader, EmptyEditDelaysItsTrack)
{
    TTrack v = video_track();
    TTrack a = audio_track();
    a.edits = {{-1, 500}, {0, 232}};
    std::vector<TTrack> tracks = {v, a};
    Bytes f = build(tracks);
    Mp4Index x;
    const char* why;
    ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
    expect_samples(x.samples, expected(tracks));
    EXPECT_EQ(x.samples.back().type, kAudio);
    EXPECT_EQ(x.samples.back().dts_ms, 500u + 9 * 1024 * 1000 / 44100);
}

TEST(Mp4Reader, AudioOnlyAndVideoOnlyFiles)
{
    for (bool video : {true, false}) {
        std::vector<TTrack> tracks = {video ? video_track() : audio_track()};
        Bytes f = build(tracks);
        Mp4Index x;
        const char* why;
        ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
        EXPECT_EQ(x.video != rtmp::VideoCodec::unknown, video);
        EXPECT_EQ(x.audio, !video);
        expect_samples(x.samples, expected(tracks));
        EXPECT_EQ(x.keys.size(), video ? 2u : 0u);
    }
}

// --- Mp4Writer round trips -----------------------------------------------------------------

struct In {
    uint8_t type;
    uint32_t dts;
    int32_t cts;
    bool key;
    Bytes data;
};

// 3 s of 25 fps video (GOP 1 s, cts 0/80/40) and AAC frames every 23 ms from 10 ms on.
std::vector<In> program(int seconds = 3)
{
    std::vector<In> r;
    uint32_t a = 10;
    for (uint32_t f = 0; f < uint32_t(seconds) * 25; ++f) {
        uint32_t dts = f * 40;
        for (; a < dts + 40; a += 23) {
            Bytes d(20 + a % 7, uint8_t(a));
            d[0] = 0x21;
            r.push_back(In{kAudio, a, 0, true, d});
        }
        Bytes d = {0, 0, 0, uint8_t(30 + f % 9), uint8_t(f % 25 == 0 ? 0x65 : 0x41)};
        d.insert(d.end(), 30 + f % 9 - 1, uint8_t(f));
        int32_t cts = f % 25 == 0 ? 40 : f % 3 == 1 ? 80 : 0;
        r.push_back(In{kVideo, dts, cts, f % 25 == 0, d});
    }
    return r;
}

Bytes write_program(const std::vector<In>& in, const Mp4Writer::Options& o, bool finish, bool patch)
{
    Mp4Writer w(o);
    EXPECT_EQ(w.set_video(rtmp::VideoCodec::avc, kAvcHigh720), Rc::ok);
    EXPECT_EQ(w.set_audio_aac(kAscLc44Stereo), Rc::ok);
    Bytes out;
    EXPECT_EQ(w.init_segment(&out), Rc::ok);
    for (const In& s : in) {
        if (s.type == kVideo)
            w.add_video(s.dts, s.cts, s.key, s.data, &out);
        else
            w.add_audio(s.dts, s.data, &out);
    }
    if (!finish) return out;
    w.finish(&out);
    if (patch) {
        for (const Mp4Writer::Patch& p : w.close_patches()) {
            if (p.size == 4)
                store_be32(&out[p.offset], uint32_t(p.value));
            else
                store_be64(&out[p.offset], p.value);
        }
    }
    return out;
}

// Every sample as it went in, in the reader's order, with its data at its offset.
void expect_program(const Bytes& f, const Mp4Index& x, const std::vector<In>& in, size_t count)
{
    ASSERT_EQ(x.samples.size(), count);
    size_t vi = 0, ai = 0;
    std::vector<const In*> vin, ain;
    for (const In& s : in) (s.type == kVideo ? vin : ain).push_back(&s);
    for (size_t i = 0; i < x.samples.size(); ++i) {
        const Mp4Sample& s = x.samples[i];
        const In* w = s.type == kVideo ? vin[vi++] : ain[ai++];
        ASSERT_LE(s.offset + s.size, f.size());
        EXPECT_EQ(Bytes(f.begin() + s.offset, f.begin() + s.offset + s.size), w->data) << i;
        EXPECT_EQ(s.dts_ms, w->dts) << i;
        EXPECT_EQ(s.cts_ms, w->cts) << i;
        EXPECT_EQ(s.key, w->key) << i;
        if (i > 0) {
            EXPECT_GE(s.dts_ms, x.samples[i - 1].dts_ms);
        }
    }
    expect_keys(x);
}

TEST(Mp4Reader, WriterFragmentedFileReadsBackExactly)
{
    std::vector<In> in = program();
    for (bool finalize : {true, false}) {
        Mp4Writer::Options o;
        o.finalize_moov = finalize;  // unpatched: the init moov is first, with mvex
        Bytes f = write_program(in, o, true, false);
        Mp4Index x;
        const char* why;
        ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
        EXPECT_TRUE(x.fragmented);
        EXPECT_EQ(x.video, rtmp::VideoCodec::avc);
        EXPECT_EQ(x.width, 1280u);
        EXPECT_EQ(x.asc, kAscLc44Stereo);
        expect_program(f, x, in, in.size());
        EXPECT_EQ(x.keys.size(), 3u);
        EXPECT_NEAR(x.duration_s, 3.0, 0.05);
    }
}

TEST(Mp4Reader, WriterFinalizedFileReadsBackFromItsSampleTables)
{
    std::vector<In> in = program();
    Bytes f = write_program(in, Mp4Writer::Options{}, true, true);
    Mp4Index x;
    const char* why;
    ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
    EXPECT_FALSE(x.fragmented);  // the moofs are 'free' now; audio's 10 ms is an empty edit
    expect_program(f, x, in, in.size());
}

TEST(Mp4Reader, CutRecordingKeepsItsCompleteFragments)
{
    std::vector<In> in = program();
    Bytes full = write_program(in, Mp4Writer::Options{}, true, false);
    std::vector<test::Mp4Box> boxes;
    ASSERT_TRUE(test::mp4_walk(full, &boxes));
    std::vector<test::Mp4Box> moofs = test::mp4_find(boxes, "moof");
    std::vector<test::Mp4Box> mdats = test::mp4_find(boxes, "mdat");
    ASSERT_EQ(moofs.size(), 3u);
    Mp4Index whole;
    const char* why;
    ASSERT_EQ(read(full, &whole, &why), Rc::ok);
    size_t before_last = 0;
    for (const Mp4Sample& s : whole.samples) before_last += s.offset < moofs.back().off;
    ASSERT_GT(before_last, 0u);
    ASSERT_LT(before_last, in.size());
    const test::Mp4Box& last = mdats.back();
    // Mid mdat, just after its header, mid moof, one byte short of the end of the mdat.
    for (size_t cut : {last.off + last.size / 2, last.off + 8, moofs.back().off + 20,
                       last.off + last.size - 1}) {
        Bytes f(full.begin(), full.begin() + cut);
        Mp4Index x;
        ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
        EXPECT_TRUE(x.fragmented);
        expect_program(f, x, in, before_last);
    }
    // Cut before the first fragment is complete: nothing to play.
    Bytes f(full.begin(), full.begin() + mdats[0].off + 10);
    Mp4Index x;
    EXPECT_EQ(read(f, &x, &why), Rc::error);
    EXPECT_STREQ(why, "no samples");
}

TEST(Mp4Reader, SmallWriterFilesForTheFuzzSeeds)
{
    std::vector<In> in = program(1);
    in.resize(24);
    for (auto& s : in) s.data.resize(std::min<size_t>(s.data.size(), 8));
    Mp4Writer::Options o;
    o.max_fragment_ms = 150;
    Bytes frag = write_program(in, o, true, false);
    Bytes flat = write_program(in, o, true, true);
    for (const Bytes* f : {&frag, &flat}) {
        Mp4Index x;
        const char* why;
        ASSERT_EQ(read(*f, &x, &why), Rc::ok) << why;
        EXPECT_EQ(x.samples.size(), in.size());
        EXPECT_LT(f->size(), 4096u);
    }
    write_seed("writer_fragmented.mp4", frag);
    write_seed("writer_finalized.mp4", flat);
    // cut in the middle of the last fragment's mdat
    std::vector<test::Mp4Box> boxes;
    ASSERT_TRUE(test::mp4_walk(frag, &boxes));
    std::vector<test::Mp4Box> mdats = test::mp4_find(boxes, "mdat");
    ASSERT_GE(mdats.size(), 2u);
    Bytes cut(frag.begin(), frag.begin() + mdats.back().off + mdats.back().size / 2);
    Mp4Index x;
    const char* why;
    ASSERT_EQ(read(cut, &x, &why), Rc::ok) << why;
    EXPECT_LT(x.samples.size(), in.size());
    write_seed("writer_cut.mp4", cut);
}

// --- hostile files -------------------------------------------------------------------------

Bytes plain_file()
{
    std::vector<TTrack> tracks = {video_track(), audio_track()};
    return build(tracks);
}

Rc read_err(const Bytes& f, const char** why, const Mp4Limits& lim = Mp4Limits{})
{
    Mp4Index x;
    Rc rc = read(f, &x, why, lim);
    if (rc == Rc::ok) {
        for (const Mp4Sample& s : x.samples) EXPECT_LE(s.offset + s.size, f.size());
    }
    return rc;
}

TEST(Mp4Reader, TopLevelBoxSizesZeroOneAndHuge)
{
    const char* why;
    // moov of size 0 runs to the end of the file
    Bytes f = plain_file();
    size_t moov = find_box(f, "moov");
    store_be32(&f[moov], 0);
    EXPECT_EQ(read_err(f, &why), Rc::ok) << why;
    // an mdat of size 0 before the moov hides it
    f = plain_file();
    store_be32(&f[find_box(f, "mdat")], 0);
    EXPECT_EQ(read_err(f, &why), Rc::error);
    EXPECT_STREQ(why, "no moov box");
    // size 1: a 64-bit size, here huge, then too small
    for (uint64_t large : {uint64_t(1) << 62, uint64_t(4)}) {
        f = plain_file();
        size_t mdat = find_box(f, "mdat");
        store_be32(&f[mdat], 1);
        f.insert(f.begin() + mdat + 8, 8, 0);
        store_be64(&f[mdat + 8], large);
        EXPECT_EQ(read_err(f, &why), Rc::error);
        EXPECT_STREQ(why, "no moov box");
    }
    // a size below the header
    f = plain_file();
    store_be32(&f[find_box(f, "ftyp")], 7);
    EXPECT_EQ(read_err(f, &why), Rc::error);
    // moov larger than the limit, moov cut short
    f = plain_file();
    Mp4Limits lim;
    lim.max_moov = 100;
    EXPECT_EQ(read_err(f, &why, lim), Rc::error);
    EXPECT_STREQ(why, "moov larger than max_moov");
    f.resize(f.size() - 1);
    EXPECT_EQ(read_err(f, &why), Rc::error);
    EXPECT_STREQ(why, "moov truncated");
    EXPECT_EQ(read_err(Bytes{}, &why), Rc::error);
    EXPECT_STREQ(why, "no moov box");
}

TEST(Mp4Reader, SampleCountsBeyondTheBoxOrTheLimit)
{
    const char* why;
    Bytes f = plain_file();
    store_be32(&f[find_box(f, "stsz") + 16], 0x40000000);  // video: per-sample sizes
    EXPECT_EQ(read_err(f, &why), Rc::error);
    EXPECT_STREQ(why, "stsz truncated");
    f = plain_file();
    store_be32(&f[find_box(f, "stsz", 1) + 16], 0xffffffff);  // audio: constant size
    EXPECT_EQ(read_err(f, &why), Rc::error);
    EXPECT_STREQ(why, "too many samples");
    f = plain_file();
    Mp4Limits lim;
    lim.max_samples = 17;
    EXPECT_EQ(read_err(f, &why, lim), Rc::error);
    EXPECT_STREQ(why, "too many samples");
    lim.max_samples = 18;
    EXPECT_EQ(read_err(f, &why, lim), Rc::ok);
    // entry counts past their boxes
    for (const char* box : {"stts", "ctts", "stss", "stsc", "co64", "stco"}) {
        f = plain_file();
        store_be32(&f[find_box(f, box) + 12], 0x20000000);
        EXPECT_EQ(read_err(f, &why), Rc::error) << box;
        EXPECT_NE(strstr(why, box), nullptr) << why;
    }
}

TEST(Mp4Reader, FragmentSampleCountsAreBoundedEvenForEmptySamples)
{
    // A trun with no per-sample fields claims 2^32 - 1 samples of the default size, 0:
    // they take no bytes, so only the sample limit stops them (found by the fuzzer).
    Bytes f = write_program(program(1), Mp4Writer::Options{}, true, false);
    size_t trun = find_box(f, "trun");
    store_be32(&f[trun + 8], 0x000001);  // version 0, data-offset only
    store_be32(&f[trun + 12], 0xffffffff);
    Mp4Limits lim;
    lim.max_samples = 1000;
    const char* why;
    EXPECT_EQ(read_err(f, &why, lim), Rc::error);
    EXPECT_STREQ(why, "too many samples");
    // A trun whose per-sample fields do not fit its box ends the walk before its moof.
    f = write_program(program(), Mp4Writer::Options{}, true, false);
    store_be32(&f[find_box(f, "trun", 2) + 12], 0x10000000);
    Mp4Index x;
    ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
    EXPECT_TRUE(x.fragmented);
    EXPECT_GT(x.samples.size(), 0u);
    for (const Mp4Sample& s : x.samples) EXPECT_LT(s.offset, find_box(f, "moof", 1));
}

TEST(Mp4Reader, StscFirstChunkZeroOrDecreasingIsRefused)
{
    const char* why;
    for (uint32_t first : {0u, 1u}) {  // second entry's first_chunk: 0, or not above 1
        Bytes f = plain_file();
        store_be32(&f[find_box(f, "stsc") + 16 + 12], first);
        EXPECT_EQ(read_err(f, &why), Rc::error);
        EXPECT_STREQ(why, "stsc first_chunk invalid");
    }
    // a huge samples_per_chunk is bounded by the sample count
    Bytes f = plain_file();
    store_be32(&f[find_box(f, "stsc") + 16 + 4], 0xffffffff);
    Mp4Index x;
    ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
    EXPECT_EQ(x.samples.size(), 18u);
}

TEST(Mp4Reader, ChunkOffsetsPastTheEndEndTheTrack)
{
    const char* why;
    Bytes f = plain_file();
    size_t co64 = find_box(f, "co64");
    store_be64(&f[co64 + 16 + 8], f.size() + 1);  // video chunk 2 of 3
    Mp4Index x;
    ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
    EXPECT_EQ(x.samples.size(), 3u + 10u);
    // a chunk inside the file whose samples run past its end: those samples are dropped
    f = plain_file();
    store_be64(&f[co64 + 16], f.size() - 150);  // chunk 1: 100, 113, 126 bytes
    ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
    EXPECT_EQ(x.samples.size(), 1u + 5u + 10u);
    for (const Mp4Sample& s : x.samples) EXPECT_LE(s.offset + s.size, f.size());
    // every chunk past the end: the track is empty; an empty only track is an error
    std::vector<TTrack> tracks = {video_track()};
    f = build(tracks);
    co64 = find_box(f, "co64");
    for (int i = 0; i < 3; ++i) store_be64(&f[co64 + 16 + 8 * i], uint64_t(1) << 40);
    EXPECT_EQ(read_err(f, &why), Rc::error);
    EXPECT_STREQ(why, "no samples");
}

TEST(Mp4Reader, TracksWithoutUsableDescriptionsAreSkipped)
{
    const char* why;
    Bytes f = plain_file();
    memcpy(&f[find_box(f, "stsd") + 4], "free", 4);  // video loses its stsd
    Mp4Index x;
    ASSERT_EQ(read(f, &x, &why), Rc::ok) << why;
    EXPECT_EQ(x.video, rtmp::VideoCodec::unknown);
    EXPECT_EQ(x.samples.size(), 10u);
    memcpy(&f[find_box(f, "mp4a") + 4], "ac-3", 4);
    EXPECT_EQ(read_err(f, &why), Rc::error);
    EXPECT_STREQ(why, "no H.264, HEVC or AAC track");
    // avcC of a wrong version; esds with another objectTypeIndication
    f = plain_file();
    f[find_box(f, "avcC") + 8] = 2;
    size_t esds = find_box(f, "esds");
    f[esds + 12 + 2 + 3 + 2] = 0x6b;  // MP3
    EXPECT_EQ(read_err(f, &why), Rc::error);
    EXPECT_STREQ(why, "no H.264, HEVC or AAC track");
}

TEST(Mp4Reader, DeepNestingAndJunkBoxesAreHarmless)
{
    // moov holding 2000 nested boxes (trak in trak ...), then a real file's moov body.
    Bytes f = plain_file();
    size_t moov = find_box(f, "moov");
    Bytes body(f.begin() + moov + 8, f.end());
    W w;
    w.put(Bytes(f.begin(), f.begin() + moov));
    size_t at = w.open("moov");
    std::vector<size_t> open;
    for (int i = 0; i < 2000; ++i) open.push_back(w.open(i % 2 ? "trak" : "mdia"));
    for (size_t i = open.size(); i-- > 0;) w.close(open[i]);
    w.put(body);
    w.close(at);
    Mp4Index x;
    const char* why;
    ASSERT_EQ(read(w.b, &x, &why), Rc::ok) << why;
    EXPECT_EQ(x.samples.size(), 18u);
}

TEST(Mp4Reader, EveryPrefixAndEveryByteFlipIsSafe)
{
    Bytes f = plain_file();
    std::vector<In> in = program(1);
    in.resize(30);
    Bytes g = write_program(in, Mp4Writer::Options{}, true, false);
    size_t ok = 0;
    for (const Bytes* base : {&f, &g}) {
        for (size_t n = 0; n <= base->size(); ++n) {
            const char* why;
            ok += read_err(Bytes(base->begin(), base->begin() + n), &why) == Rc::ok;
        }
        for (size_t i = 0; i < base->size(); ++i) {
            for (uint8_t flip : {0x01, 0x80, 0xff}) {
                Bytes h = *base;
                h[i] ^= flip;
                const char* why;
                ok += read_err(h, &why) == Rc::ok;
            }
        }
    }
    EXPECT_GT(ok, 0u);
}

TEST(Mp4Reader, FileDescriptorReader)
{
    Bytes f = plain_file();
    char path[] = "/tmp/mp4_reader_test_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, f.data(), f.size()), ssize_t(f.size()));
    unlink(path);
    Mp4Index x;
    const char* why;
    ASSERT_EQ(mp4_read_index(Mp4ReadAt{mp4_pread_fd, &fd}, f.size(), Mp4Limits{}, &x, &why), Rc::ok)
        << why;
    EXPECT_EQ(x.samples.size(), 18u);
    // a file that shrank since its size was taken: the moov read comes up short
    ASSERT_EQ(ftruncate(fd, off_t(find_box(f, "moov") + 100)), 0);
    EXPECT_EQ(mp4_read_index(Mp4ReadAt{mp4_pread_fd, &fd}, f.size(), Mp4Limits{}, &x, &why),
              Rc::error);
    EXPECT_STREQ(why, "read error");
    close(fd);
}

// --- real files ----------------------------------------------------------------------------

class Ffmpeg : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (system("which ffmpeg > /dev/null 2>&1") != 0) GTEST_SKIP() << "no ffmpeg";
        char tmpl[] = "/tmp/mp4_reader_XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override
    {
        if (!dir_.empty()) (void)!system(("rm -rf " + dir_).c_str());
    }
    // Runs ffmpeg with the test source and `args`; returns the file.
    Bytes make(const std::string& args, const std::string& name)
    {
        std::string path = dir_ + "/" + name;
        std::string cmd =
            "ffmpeg -nostdin -loglevel error -f lavfi -i testsrc=d=2:s=160x120:r=25 "
            "-f lavfi -i sine=d=2 " +
            args + " -y " + path;
        EXPECT_EQ(system(cmd.c_str()), 0) << cmd;
        Bytes b;
        FILE* f = fopen(path.c_str(), "rb");
        if (!f) return b;
        uint8_t buf[65536];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) b.insert(b.end(), buf, buf + n);
        fclose(f);
        return b;
    }
    void check(const Bytes& f, rtmp::VideoCodec codec, bool fragmented)
    {
        Mp4Index x;
        const char* why = "";
        ASSERT_EQ(mp4_read_index(f, Mp4Limits{}, &x, &why), Rc::ok) << why;
        EXPECT_EQ(x.video, codec);
        EXPECT_EQ(x.width, 160u);
        EXPECT_EQ(x.height, 120u);
        EXPECT_EQ(x.fragmented, fragmented);
        ASSERT_TRUE(x.audio);
        EXPECT_EQ(x.sample_rate, 44100u);
        EXPECT_EQ(x.channels, 1);
        std::vector<size_t> video;
        size_t audio = 0;
        for (size_t i = 0; i < x.samples.size(); ++i) {
            const Mp4Sample& s = x.samples[i];
            EXPECT_LE(s.offset + s.size, f.size());
            if (i > 0) {
                EXPECT_GE(s.dts_ms, x.samples[i - 1].dts_ms);
            }
            if (s.type == kVideo) video.push_back(i);
            audio += s.type == kAudio;
        }
        ASSERT_EQ(video.size(), 50u);
        EXPECT_TRUE(x.samples[video[0]].key);
        ASSERT_EQ(x.keys.size(), 2u);
        EXPECT_EQ(x.keys[0], video[0]);
        // The second key is shown 1 s after the first; with x264's closed GOPs it is also
        // the 26th frame decoded (x265's open GOP decodes it before the last B-frames).
        auto pts = [&](uint32_t i) { return int64_t(x.samples[i].dts_ms) + x.samples[i].cts_ms; };
        EXPECT_EQ(pts(x.keys[1]) - pts(x.keys[0]), 1000);
        if (codec == rtmp::VideoCodec::avc) {
            EXPECT_EQ(x.keys[1], video[25]);
        }
        EXPECT_GT(audio, 80u);  // 2 s of 1024-sample frames at 44.1 kHz: 87
        // B-frames: the first frame is shown two frames after its decode time.
        EXPECT_EQ(x.samples[0].dts_ms, 0u);
        EXPECT_EQ(x.samples[video[0]].cts_ms, 80);
        // With edit lists, audio media time 1024 (AAC priming, 23 ms) is shown with the
        // first frame, so audio starts 23 ms before it. ffmpeg's fragments have no edit
        // list: audio starts at 0 with a first frame stretched to 80 ms.
        size_t a = 0;
        while (x.samples[a].type != kAudio) ++a;
        EXPECT_EQ(x.samples[a].dts_ms, fragmented ? 0u : 80u - 23u);
        EXPECT_NEAR(x.duration_s, 2.0, 0.1);
    }
    std::string dir_;
};

TEST_F(Ffmpeg, H264AacWithBFramesAndEditLists)
{
    Bytes f = make("-c:v libx264 -bf 2 -g 25 -c:a aac", "out.mp4");
    check(f, rtmp::VideoCodec::avc, false);
}

TEST_F(Ffmpeg, FragmentedH264Aac)
{
    Bytes f =
        make("-c:v libx264 -bf 2 -g 25 -c:a aac -movflags frag_keyframe+empty_moov", "frag.mp4");
    check(f, rtmp::VideoCodec::avc, true);
}

TEST_F(Ffmpeg, HevcAac)
{
    if (system("ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libx265") != 0)
        GTEST_SKIP() << "no libx265";
    Bytes f = make(
        "-c:v libx265 -tag:v hvc1 -x265-params log-level=none:bframes=2:keyint=25:"
        "min-keyint=25:scenecut=0 -c:a aac",
        "hevc.mp4");
    check(f, rtmp::VideoCodec::hevc, false);
}

}  // namespace
}  // namespace strom::mod
