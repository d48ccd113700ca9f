// Golden bytes for every legacy FLV and Enhanced RTMP (v1, v2) audio/video header form,
// built by hand from the specs, and configuration records taken from real encoder output
// (libx264, libx265, libaom, libvpx, ffmpeg's AAC encoder via ffmpeg 5.1).
#include "rtmp/codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/buf.h"
#include "core/bytes.h"
#include "rtmp/codec_info.h"
#include "t/lib/codec_records.h"

using namespace strom;
using namespace strom::rtmp;

namespace {

using Bytes = std::vector<uint8_t>;
using test::kAvcHigh720;
using test::kHevcMain720;

Bytes cat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

Bytes fcc(const char (&s)[5])
{
    return Bytes(s, s + 4);
}

Bytes u24(uint32_t v)
{
    return {uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
}

// av1C of libaom-av1, 640x360 Main, seq_level_idx 1 (2.1), 8-bit 4:2:0.
const Bytes kAv1Main360 = {0x81, 0x01, 0x0c, 0x00, 0x0a, 0x0b, 0x00, 0x00, 0x00,
                           0x0c, 0xc4, 0xff, 0x67, 0x36, 0xbe, 0x40, 0x10};

// VPCodecConfigurationRecord of libvpx-vp9 as ffmpeg's FLV muxer writes it (no FullBox
// header): profile 0, level 2.1, 8-bit, 4:2:0 colocated.
const Bytes kVp9Record = {0x00, 0x15, 0x82, 0x02, 0x02, 0x02, 0x00, 0x00};

const Bytes kOpusHead = {'O',  'p',  'u',  's',  'H',  'e',  'a',  'd',  0x01, 0x02,
                         0x38, 0x01, 0x80, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x00};

// Every prefix of a message parses without reading past it (ASan checks that: each prefix
// is its own allocation), and a well-formed result always lies inside it.
void expect_safe_prefixes(const Bytes& msg)
{
    for (size_t k = 0; k <= msg.size(); ++k) {
        Bytes cut(msg.begin(), msg.begin() + k);
        VideoInfo v = parse_video(cut);
        AudioInfo a = parse_audio(cut);
        if (k == 0) {
            EXPECT_TRUE(v.malformed);
            EXPECT_TRUE(a.malformed);
        }
        if (!v.malformed) {
            EXPECT_LE(size_t(v.body_offset) + v.body_size, k);
        } else {
            EXPECT_EQ(v.codec, VideoCodec::unknown);
            EXPECT_FALSE(v.keyframe || v.sequence_header);
        }
        if (!a.malformed) {
            EXPECT_LE(size_t(a.body_offset) + a.body_size, k);
        } else {
            EXPECT_EQ(a.codec, AudioCodec::unknown);
        }
    }
}

void expect_same(const VideoInfo& a, const VideoInfo& b)
{
    EXPECT_EQ(a.codec, b.codec);
    EXPECT_EQ(a.frame_type, b.frame_type);
    EXPECT_EQ(a.packet_type, b.packet_type);
    EXPECT_EQ(a.malformed, b.malformed);
    EXPECT_EQ(a.enhanced, b.enhanced);
    EXPECT_EQ(a.keyframe, b.keyframe);
    EXPECT_EQ(a.sequence_header, b.sequence_header);
    EXPECT_EQ(a.sequence_end, b.sequence_end);
    EXPECT_EQ(a.metadata, b.metadata);
    EXPECT_EQ(a.command, b.command);
    EXPECT_EQ(a.multitrack, b.multitrack);
    EXPECT_EQ(a.track_count, b.track_count);
    EXPECT_EQ(a.track_id, b.track_id);
    EXPECT_EQ(a.fourcc, b.fourcc);
    EXPECT_EQ(a.composition_time, b.composition_time);
    EXPECT_EQ(a.timestamp_nano_offset, b.timestamp_nano_offset);
    EXPECT_EQ(a.body_offset, b.body_offset);
    EXPECT_EQ(a.body_size, b.body_size);
}

// The chain overload gives the same answer as the span one whatever the block size.
void expect_chain_agrees(const Bytes& msg)
{
    for (uint32_t bs = 1; bs <= 9; ++bs) {
        BufPool pool(bs, 100000);
        {
            Chain ch(pool);
            ASSERT_EQ(ch.append(msg.data(), msg.size()), Rc::ok);
            BufRef ref = ch.take();
            expect_same(parse_video(ref.get()), parse_video(msg));
            AudioInfo x = parse_audio(ref.get()), y = parse_audio(msg);
            EXPECT_EQ(x.codec, y.codec);
            EXPECT_EQ(x.malformed, y.malformed);
            EXPECT_EQ(x.sequence_header, y.sequence_header);
            EXPECT_EQ(x.body_offset, y.body_offset);
            EXPECT_EQ(x.track_count, y.track_count);
        }
        EXPECT_EQ(pool.outstanding(), 0u);
    }
}

void check_everywhere(const Bytes& msg)
{
    expect_safe_prefixes(msg);
    expect_chain_agrees(msg);
}

}  // namespace

// ---- legacy video (FLV 10.1 E.4.3) ------------------------------------------------------

TEST(VideoLegacy, AvcSequenceHeader)
{
    Bytes msg = cat({{0x17, 0x00, 0x00, 0x00, 0x00}, kAvcHigh720});
    VideoInfo v = parse_video(msg);
    EXPECT_FALSE(v.malformed);
    EXPECT_FALSE(v.enhanced);
    EXPECT_EQ(v.codec, VideoCodec::avc);
    EXPECT_EQ(v.legacy_codec_id, 7);
    EXPECT_EQ(v.frame_type, VideoFrameType::key);
    EXPECT_TRUE(v.sequence_header);
    EXPECT_FALSE(v.keyframe);  // a sequence header is not a picture
    EXPECT_EQ(v.packet_type, VideoPacketType::sequence_start);
    EXPECT_EQ(v.body_offset, 5u);
    EXPECT_EQ(v.body_size, kAvcHigh720.size());
    EXPECT_EQ(v.track_count, 1);
    check_everywhere(msg);
}

TEST(VideoLegacy, AvcKeyframeAndInterWithSignedCompositionTime)
{
    Bytes key = {0x17, 0x01, 0x00, 0x00, 0x43, 0x00, 0x00, 0x00, 0x02, 0x65, 0x88};
    VideoInfo v = parse_video(key);
    EXPECT_TRUE(v.keyframe);
    EXPECT_FALSE(v.sequence_header);
    EXPECT_EQ(v.composition_time, 67);
    EXPECT_EQ(v.packet_type, VideoPacketType::coded_frames);
    EXPECT_EQ(v.body_offset, 5u);
    EXPECT_EQ(v.body_size, 6u);
    check_everywhere(key);

    Bytes inter = {0x27, 0x01, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x01, 0x41};
    v = parse_video(inter);
    EXPECT_FALSE(v.keyframe);
    EXPECT_EQ(v.frame_type, VideoFrameType::inter);
    EXPECT_EQ(v.composition_time, -2);
    check_everywhere(inter);
}

TEST(VideoLegacy, AvcEndOfSequenceFullAndShort)
{
    VideoInfo v = parse_video(Bytes{0x17, 0x02, 0x00, 0x00, 0x00});
    EXPECT_TRUE(v.sequence_end);
    EXPECT_FALSE(v.keyframe);
    EXPECT_EQ(v.body_size, 0u);
    v = parse_video(Bytes{0x17, 0x02});  // some muxers stop after the packet type
    EXPECT_FALSE(v.malformed);
    EXPECT_TRUE(v.sequence_end);
}

TEST(VideoLegacy, HevcCodecId12Extension)
{
    Bytes msg = cat({{0x1c, 0x00, 0x00, 0x00, 0x00}, kHevcMain720});
    VideoInfo v = parse_video(msg);
    EXPECT_EQ(v.codec, VideoCodec::hevc);
    EXPECT_TRUE(v.sequence_header);
    EXPECT_FALSE(v.enhanced);
    Bytes key = {0x1c, 0x01, 0x00, 0x00, 0x21, 0x00, 0x00, 0x00, 0x01, 0x26};
    v = parse_video(key);
    EXPECT_TRUE(v.keyframe);
    EXPECT_EQ(v.composition_time, 33);
    check_everywhere(key);
}

TEST(VideoLegacy, OtherCodecsHaveNoPacketType)
{
    struct Case {
        uint8_t b0;
        VideoCodec codec;
        bool key;
    };
    const Case cases[] = {
        {0x12, VideoCodec::h263, true},    {0x22, VideoCodec::h263, false},
        {0x32, VideoCodec::h263, false},   {0x13, VideoCodec::screen, true},
        {0x14, VideoCodec::vp6, true},     {0x25, VideoCodec::vp6_alpha, false},
        {0x16, VideoCodec::screen2, true}, {0x1f, VideoCodec::unknown, true},
    };
    for (const Case& c : cases) {
        Bytes msg = {c.b0, 0xaa, 0xbb};
        VideoInfo v = parse_video(msg);
        EXPECT_FALSE(v.malformed) << int(c.b0);
        EXPECT_EQ(v.codec, c.codec) << int(c.b0);
        EXPECT_EQ(v.keyframe, c.key) << int(c.b0);
        EXPECT_EQ(v.packet_type, VideoPacketType::coded_frames);
        EXPECT_EQ(v.body_offset, 1u);
        EXPECT_EQ(v.body_size, 2u);
    }
}

TEST(VideoLegacy, CommandFrameCarriesOneByte)
{
    VideoInfo v = parse_video(Bytes{0x57, 0x01});
    EXPECT_TRUE(v.command);
    EXPECT_EQ(v.command_value, 1);
    EXPECT_EQ(v.codec, VideoCodec::avc);
    EXPECT_FALSE(v.keyframe || v.sequence_header);
    EXPECT_EQ(v.packet_type, VideoPacketType::none);
    EXPECT_TRUE(parse_video(Bytes{0x57}).malformed);
}

TEST(VideoLegacy, ShortOrReservedIsUnknownNotACrash)
{
    for (const Bytes& msg : {Bytes{}, Bytes{0x17}, Bytes{0x17, 0x01}, Bytes{0x17, 0x01, 0x00, 0x00},
                             Bytes{0x17, 0x03, 0x00, 0x00, 0x00}, Bytes{0x1c, 0x00}}) {
        VideoInfo v = parse_video(msg);
        EXPECT_TRUE(v.malformed) << msg.size();
        EXPECT_EQ(v.codec, VideoCodec::unknown);
        EXPECT_FALSE(v.keyframe || v.sequence_header || v.sequence_end);
    }
}

// ---- Enhanced RTMP video (E-RTMP v1 / v2, "Enhanced Video") -----------------------------

TEST(VideoEnhanced, SequenceStartForEachFourCc)
{
    struct Case {
        const char* name;
        Bytes fourcc;
        VideoCodec codec;
        const Bytes* record;
    };
    const Case cases[] = {
        {"hvc1", fcc("hvc1"), VideoCodec::hevc, &kHevcMain720},
        {"av01", fcc("av01"), VideoCodec::av1, &kAv1Main360},
        {"vp09", fcc("vp09"), VideoCodec::vp9, &kVp9Record},
        {"avc1", fcc("avc1"), VideoCodec::avc, &kAvcHigh720},
    };
    for (const Case& c : cases) {
        // 0x90: IsExHeader | FrameType 1 (key) << 4 | PacketType 0 (SequenceStart)
        Bytes msg = cat({{0x90}, c.fourcc, *c.record});
        VideoInfo v = parse_video(msg);
        EXPECT_FALSE(v.malformed) << c.name;
        EXPECT_TRUE(v.enhanced);
        EXPECT_EQ(v.codec, c.codec) << c.name;
        EXPECT_EQ(v.fourcc, load_be32(c.fourcc.data()));
        EXPECT_TRUE(v.sequence_header);
        EXPECT_FALSE(v.keyframe);
        EXPECT_EQ(v.body_offset, 5u);
        EXPECT_EQ(v.body_size, c.record->size());
        check_everywhere(msg);
    }
}

TEST(VideoEnhanced, CodedFramesHaveCompositionTimeOnlyForAvcAndHevc)
{
    Bytes hevc = cat({{0x91}, fcc("hvc1"), u24(0xfffff6), {0x00, 0x00, 0x00, 0x01, 0x26}});
    VideoInfo v = parse_video(hevc);
    EXPECT_TRUE(v.keyframe);
    EXPECT_EQ(v.packet_type, VideoPacketType::coded_frames);
    EXPECT_EQ(v.composition_time, -10);
    EXPECT_EQ(v.body_offset, 8u);
    EXPECT_EQ(v.body_size, 5u);
    check_everywhere(hevc);

    Bytes av1 = cat({{0xa1}, fcc("av01"), {0x12, 0x00, 0x32}});  // inter, no SI24
    v = parse_video(av1);
    EXPECT_EQ(v.codec, VideoCodec::av1);
    EXPECT_FALSE(v.keyframe);
    EXPECT_EQ(v.frame_type, VideoFrameType::inter);
    EXPECT_EQ(v.composition_time, 0);
    EXPECT_EQ(v.body_offset, 5u);

    Bytes vp9 = cat({{0x91}, fcc("vp09"), {0x82, 0x49, 0x83}});
    EXPECT_TRUE(parse_video(vp9).keyframe);
    EXPECT_EQ(parse_video(vp9).codec, VideoCodec::vp9);
    EXPECT_EQ(parse_video(cat({{0x91}, fcc("vp08"), {0x10}})).codec, VideoCodec::vp8);
}

TEST(VideoEnhanced, CodedFramesXImpliesZeroCompositionTime)
{
    Bytes msg = cat({{0x93}, fcc("hvc1"), {0x00, 0x00, 0x00, 0x01, 0x26}});
    VideoInfo v = parse_video(msg);
    EXPECT_TRUE(v.keyframe);
    EXPECT_EQ(v.packet_type, VideoPacketType::coded_frames_x);
    EXPECT_EQ(v.composition_time, 0);
    EXPECT_EQ(v.body_offset, 5u);
    check_everywhere(msg);
}

TEST(VideoEnhanced, SequenceEndMetadataAndMpeg2tsStart)
{
    VideoInfo v = parse_video(cat({{0x92}, fcc("av01")}));
    EXPECT_TRUE(v.sequence_end);
    EXPECT_EQ(v.body_size, 0u);

    // Metadata: frame type ignored (0 here), AMF0 "colorInfo" follows.
    Bytes meta = cat({{0x84},
                      fcc("hvc1"),
                      {0x02, 0x00, 0x09},
                      Bytes{'c', 'o', 'l', 'o', 'r', 'I', 'n', 'f', 'o'},
                      {0x06}});
    v = parse_video(meta);
    EXPECT_FALSE(v.malformed);
    EXPECT_TRUE(v.metadata);
    EXPECT_FALSE(v.keyframe || v.sequence_header);
    EXPECT_EQ(v.body_offset, 5u);
    check_everywhere(meta);

    v = parse_video(cat({{0x95}, fcc("av01"), {0x80, 0x01}}));
    EXPECT_EQ(v.packet_type, VideoPacketType::mpeg2ts_sequence_start);
    EXPECT_TRUE(v.sequence_header);
}

TEST(VideoEnhanced, CommandFrameHasNoFourCc)
{
    // FrameType 5 with a non-Metadata packet type: one UI8 VideoCommand and nothing more.
    VideoInfo v = parse_video(Bytes{0xd1, 0x00});
    EXPECT_TRUE(v.enhanced);
    EXPECT_TRUE(v.command);
    EXPECT_EQ(v.command_value, 0);
    EXPECT_EQ(v.fourcc, 0u);
    EXPECT_FALSE(v.keyframe);
}

TEST(VideoEnhanced, ModExTimestampOffsetNano)
{
    // PacketType 7 (ModEx), modExDataSize = 2 + 1, data 01 02 03, then
    // ModExType 0 (TimestampOffsetNano) << 4 | PacketType 1 (CodedFrames).
    Bytes msg = cat({{0x97, 0x02, 0x01, 0x02, 0x03, 0x01}, fcc("avc1"), u24(5), {0xaa, 0xbb}});
    VideoInfo v = parse_video(msg);
    EXPECT_FALSE(v.malformed);
    EXPECT_EQ(v.timestamp_nano_offset, 0x010203u);
    EXPECT_TRUE(v.keyframe);
    EXPECT_EQ(v.codec, VideoCodec::avc);
    EXPECT_EQ(v.composition_time, 5);
    EXPECT_EQ(v.body_offset, 13u);
    check_everywhere(msg);
}

TEST(VideoEnhanced, ModExSixteenBitSizeAndChained)
{
    // UI8 0xff means 256: the size is then UI16 + 1 (here 0x0101 + 1 = 258 bytes), type 0
    // (TimestampOffsetNano) and the next packet type ModEx again: a second ModEx (unknown
    // type 3, one byte) follows before the SequenceStart.
    Bytes data(258, 0x5a);
    Bytes msg =
        cat({{0x97, 0xff, 0x01, 0x01}, data, {0x07, 0x00, 0x44, 0x30}, fcc("hvc1"), {0x01}});
    VideoInfo v = parse_video(msg);
    EXPECT_FALSE(v.malformed);
    EXPECT_TRUE(v.sequence_header);
    EXPECT_EQ(v.codec, VideoCodec::hevc);
    EXPECT_EQ(v.timestamp_nano_offset, 0x5a5a5au);
    EXPECT_EQ(v.body_offset, msg.size() - 1);
    expect_safe_prefixes(msg);
    // A ModEx size past the end of the message.
    EXPECT_TRUE(parse_video(Bytes{0x97, 0x10, 0x00, 0x01}).malformed);
}

TEST(VideoEnhanced, MultitrackOneTrack)
{
    // PacketType 6 (Multitrack); AvMultitrackType 0 (OneTrack) << 4 | SequenceStart;
    // FourCC; trackId; body to the end.
    Bytes msg = cat({{0x96, 0x00}, fcc("hvc1"), {0x02}, kHevcMain720});
    VideoInfo v = parse_video(msg);
    EXPECT_FALSE(v.malformed);
    EXPECT_TRUE(v.multitrack);
    EXPECT_EQ(v.multitrack_type, AvMultitrackType::one_track);
    EXPECT_TRUE(v.sequence_header);
    EXPECT_EQ(v.codec, VideoCodec::hevc);
    EXPECT_EQ(v.track_id, 2);
    EXPECT_EQ(v.track_count, 1);
    EXPECT_EQ(v.body_offset, 7u);
    EXPECT_EQ(v.body_size, kHevcMain720.size());
    check_everywhere(msg);
}

TEST(VideoEnhanced, MultitrackManyTracksKeyframe)
{
    // ManyTracks << 4 | CodedFrames, one FourCC, then per track: id, UI24 size, SI24 + NALUs.
    Bytes t0 = cat({u24(0), {0x00, 0x00, 0x00, 0x01, 0x65}});
    Bytes t1 = cat({u24(0x21), {0x00, 0x00, 0x00, 0x02, 0x65, 0x88}});
    Bytes msg = cat({{0x96, 0x11},
                     fcc("avc1"),
                     {0x00},
                     u24(uint32_t(t0.size())),
                     t0,
                     {0x01},
                     u24(uint32_t(t1.size())),
                     t1});
    VideoInfo v = parse_video(msg);
    EXPECT_FALSE(v.malformed);
    EXPECT_TRUE(v.keyframe);
    EXPECT_EQ(v.multitrack_type, AvMultitrackType::many_tracks);
    EXPECT_EQ(v.track_count, 2);
    EXPECT_EQ(v.track_id, 0);
    EXPECT_EQ(v.body_offset, 13u);
    EXPECT_EQ(v.body_size, 5u);

    VideoTrack tracks[4];
    ASSERT_EQ(parse_video_tracks(msg, tracks), 2);
    EXPECT_EQ(tracks[1].id, 1);
    EXPECT_EQ(tracks[1].codec, VideoCodec::avc);
    EXPECT_EQ(tracks[1].composition_time, 0x21);
    EXPECT_EQ(tracks[1].body_size, 6u);
    EXPECT_EQ(msg[tracks[1].body_offset + 4], 0x65);
    check_everywhere(msg);

    // A track size running past the message.
    Bytes bad = msg;
    bad[8] = 0x40;
    EXPECT_TRUE(parse_video(bad).malformed);
    EXPECT_EQ(parse_video_tracks(bad, tracks), -1);
}

TEST(VideoEnhanced, MultitrackManyTracksManyCodecs)
{
    // ManyTracksManyCodecs << 4 | SequenceStart: a FourCC per track, no shared one.
    Bytes msg = cat({{0x96, 0x20},
                     fcc("hvc1"),
                     {0x00},
                     u24(uint32_t(kHevcMain720.size())),
                     kHevcMain720,
                     fcc("av01"),
                     {0x01},
                     u24(uint32_t(kAv1Main360.size())),
                     kAv1Main360});
    VideoInfo v = parse_video(msg);
    EXPECT_FALSE(v.malformed);
    EXPECT_TRUE(v.sequence_header);
    EXPECT_EQ(v.codec, VideoCodec::hevc);
    EXPECT_EQ(v.track_count, 2);
    VideoTrack tracks[2];
    ASSERT_EQ(parse_video_tracks(msg, tracks), 2);
    EXPECT_EQ(tracks[1].codec, VideoCodec::av1);
    VideoConfig c;
    ASSERT_EQ(
        parse_video_config(
            tracks[1].codec,
            std::span<const uint8_t>(msg).subspan(tracks[1].body_offset, tracks[1].body_size), &c),
        Rc::ok);
    EXPECT_EQ(c.width, 640u);
    // Only the first track fits: the count still says 2.
    EXPECT_EQ(parse_video_tracks(msg, std::span<VideoTrack>(tracks, 1)), 2);
    check_everywhere(msg);
}

TEST(VideoEnhanced, ReservedValuesAreMalformed)
{
    const Bytes bad[] = {
        cat({{0x98}, fcc("hvc1")}),          // PacketType 8 reserved
        cat({{0x96, 0x30}, fcc("hvc1")}),    // AvMultitrackType 3 reserved
        cat({{0x96, 0x06}, fcc("hvc1")}),    // Multitrack inside Multitrack
        cat({{0x96, 0x07}, fcc("hvc1")}),    // ModEx inside Multitrack
        cat({{0x81}, fcc("hvc1"), u24(0)}),  // FrameType 0 with coded frames
        cat({{0xe1}, fcc("hvc1"), u24(0)}),  // FrameType 6 reserved
        Bytes{0x91, 'h', 'v', 'c'},          // FourCC cut short
        cat({{0x91}, fcc("hvc1"), {0x00}}),  // SI24 cut short
    };
    for (const Bytes& m : bad) {
        VideoInfo v = parse_video(m);
        EXPECT_TRUE(v.malformed) << int(m[0]) << " " << m.size();
        EXPECT_EQ(v.codec, VideoCodec::unknown);
        EXPECT_TRUE(v.enhanced);
    }
    // An unknown FourCC is not malformed: the message is relayed, codec unknown.
    VideoInfo v = parse_video(cat({{0x91}, fcc("vvc1"), {0x00}}));
    EXPECT_FALSE(v.malformed);
    EXPECT_EQ(v.codec, VideoCodec::unknown);
    EXPECT_TRUE(v.keyframe);
    char s[5];
    EXPECT_STREQ(fourcc_str(v.fourcc, s), "vvc1");
}

// ---- audio (FLV 10.1 E.4.2, E-RTMP "Enhanced Audio") -------------------------------------

TEST(AudioLegacy, AacSequenceHeaderVersusRaw)
{
    // 0xaf: SoundFormat 10 (AAC), SoundRate 3 (44 kHz), SoundSize 1 (16-bit), SoundType 1.
    Bytes seq = {0xaf, 0x00, 0x12, 0x10};
    AudioInfo a = parse_audio(seq);
    EXPECT_FALSE(a.malformed);
    EXPECT_EQ(a.codec, AudioCodec::aac);
    EXPECT_TRUE(a.sequence_header);
    EXPECT_EQ(a.rate_hz, 44100u);
    EXPECT_EQ(a.bits, 16);
    EXPECT_EQ(a.channels, 2);
    EXPECT_EQ(a.body_offset, 2u);
    EXPECT_EQ(a.body_size, 2u);
    check_everywhere(seq);

    Bytes raw = {0xaf, 0x01, 0x21, 0x10, 0x04};
    a = parse_audio(raw);
    EXPECT_FALSE(a.sequence_header);
    EXPECT_EQ(a.packet_type, AudioPacketType::coded_frames);
    EXPECT_EQ(a.body_offset, 2u);

    EXPECT_TRUE(parse_audio(Bytes{0xaf}).malformed);
    EXPECT_TRUE(parse_audio(Bytes{0xaf, 0x02}).malformed);
}

TEST(AudioLegacy, FormatsAndFixedRates)
{
    struct Case {
        uint8_t b0;
        AudioCodec codec;
        uint32_t rate;
        uint8_t ch;
    };
    const Case cases[] = {
        {0x2f, AudioCodec::mp3, 44100, 2},          {0x2a, AudioCodec::mp3, 22050, 1},
        {0x02, AudioCodec::pcm, 5512, 1},           {0x3f, AudioCodec::pcm_le, 44100, 2},
        {0x12, AudioCodec::adpcm, 5512, 1},         {0x42, AudioCodec::nellymoser_16k, 16000, 1},
        {0x52, AudioCodec::nellymoser_8k, 8000, 1}, {0x66, AudioCodec::nellymoser, 11025, 1},
        {0x72, AudioCodec::g711a, 8000, 1},         {0x82, AudioCodec::g711u, 8000, 1},
        {0xb2, AudioCodec::speex, 16000, 1},        {0xe2, AudioCodec::mp3_8k, 8000, 1},
        {0xf2, AudioCodec::device, 5512, 1},        {0xc2, AudioCodec::unknown, 5512, 1},
    };
    for (const Case& c : cases) {
        AudioInfo a = parse_audio(Bytes{c.b0, 0xff});
        EXPECT_FALSE(a.malformed) << int(c.b0);
        EXPECT_EQ(a.codec, c.codec) << int(c.b0);
        EXPECT_EQ(a.rate_hz, c.rate) << int(c.b0);
        EXPECT_EQ(a.channels, c.ch) << int(c.b0);
        EXPECT_FALSE(a.sequence_header);
        EXPECT_EQ(a.body_offset, 1u);
    }
}

TEST(AudioEnhanced, FourCcSequenceStartAndCodedFrames)
{
    // 0x90: SoundFormat 9 (ExHeader) << 4 | AudioPacketType 0 (SequenceStart).
    Bytes opus = cat({{0x90}, fcc("Opus"), kOpusHead});
    AudioInfo a = parse_audio(opus);
    EXPECT_FALSE(a.malformed);
    EXPECT_TRUE(a.enhanced);
    EXPECT_EQ(a.codec, AudioCodec::opus);
    EXPECT_TRUE(a.sequence_header);
    EXPECT_EQ(a.body_offset, 5u);
    EXPECT_EQ(a.rate_hz, 0u);  // no legacy flags in enhanced mode
    check_everywhere(opus);

    a = parse_audio(cat({{0x90}, fcc("mp4a"), {0x11, 0x90}}));
    EXPECT_EQ(a.codec, AudioCodec::aac);
    EXPECT_TRUE(a.sequence_header);
    EXPECT_EQ(a.body_size, 2u);

    const struct {
        const char* f;
        AudioCodec c;
    } coded[] = {
        {"fLaC", AudioCodec::flac}, {"ac-3", AudioCodec::ac3},  {"ec-3", AudioCodec::eac3},
        {".mp3", AudioCodec::mp3},  {"Opus", AudioCodec::opus}, {"xyzw", AudioCodec::unknown},
    };
    for (const auto& c : coded) {
        Bytes msg = {0x91, uint8_t(c.f[0]), uint8_t(c.f[1]), uint8_t(c.f[2]), uint8_t(c.f[3]),
                     0x55};
        a = parse_audio(msg);
        EXPECT_FALSE(a.malformed) << c.f;
        EXPECT_EQ(a.codec, c.c) << c.f;
        EXPECT_EQ(a.packet_type, AudioPacketType::coded_frames);
        EXPECT_FALSE(a.sequence_header);
    }
}

TEST(AudioEnhanced, SequenceEndAndMultichannelConfig)
{
    AudioInfo a = parse_audio(cat({{0x92}, fcc("mp4a")}));
    EXPECT_TRUE(a.sequence_end);
    // MultichannelConfig: AudioChannelOrder 1 (Native), channelCount 6, UI32 flags.
    a = parse_audio(cat({{0x94}, fcc("Opus"), {0x01, 0x06, 0x00, 0x00, 0x00, 0x3f}}));
    EXPECT_FALSE(a.malformed);
    EXPECT_TRUE(a.multichannel_config);
    EXPECT_EQ(a.body_size, 6u);
    EXPECT_TRUE(parse_audio(cat({{0x93}, fcc("Opus")})).malformed);  // 3 reserved
    EXPECT_TRUE(parse_audio(cat({{0x96}, fcc("Opus")})).malformed);  // 6 reserved
}

TEST(AudioEnhanced, MultitrackAsFfmpegWritesIt)
{
    // ffmpeg 7 for a second AAC track: Multitrack, OneTrack|SequenceStart, 'mp4a', trackId.
    Bytes msg = cat({{0x95, 0x00}, fcc("mp4a"), {0x01, 0x12, 0x10}});
    AudioInfo a = parse_audio(msg);
    EXPECT_FALSE(a.malformed);
    EXPECT_TRUE(a.multitrack);
    EXPECT_TRUE(a.sequence_header);
    EXPECT_EQ(a.codec, AudioCodec::aac);
    EXPECT_EQ(a.track_id, 1);
    EXPECT_EQ(a.body_offset, 7u);
    EXPECT_EQ(a.body_size, 2u);
    check_everywhere(msg);

    Bytes many = cat({{0x95, 0x21},
                      fcc("Opus"),
                      {0x00},
                      u24(2),
                      {0xaa, 0xbb},
                      fcc("mp4a"),
                      {0x01},
                      u24(1),
                      {0xcc}});
    a = parse_audio(many);
    EXPECT_FALSE(a.malformed);
    EXPECT_EQ(a.track_count, 2);
    EXPECT_EQ(a.codec, AudioCodec::opus);
    check_everywhere(many);
    many[8] = 9;  // first track's size past the end
    EXPECT_TRUE(parse_audio(many).malformed);
}

TEST(AudioEnhanced, ModExTimestampOffsetNano)
{
    Bytes msg = cat({{0x97, 0x02, 0x00, 0x00, 0x05, 0x01}, fcc("Opus"), {0xfc}});
    AudioInfo a = parse_audio(msg);
    EXPECT_FALSE(a.malformed);
    EXPECT_EQ(a.timestamp_nano_offset, 5u);
    EXPECT_EQ(a.codec, AudioCodec::opus);
    EXPECT_EQ(a.body_offset, 10u);
    check_everywhere(msg);
}

TEST(CodecNames, ForLogs)
{
    EXPECT_STREQ(video_codec_name(VideoCodec::hevc), "HEVC");
    EXPECT_STREQ(audio_codec_name(AudioCodec::eac3), "E-AC-3");
    EXPECT_STREQ(video_packet_type_name(VideoPacketType::coded_frames_x), "CodedFramesX");
    char s[5];
    EXPECT_STREQ(fourcc_str(0x61760001, s), "av??");
    static_assert(fourcc("av01") == 0x61763031);
}

// ---- configuration records (codec_info) -------------------------------------------------

namespace {

// MSB-first bit writer, to build AudioSpecificConfigs field by field from 14496-3.
class Bits {
public:
    Bits& put(uint32_t v, int n)
    {
        for (int i = n - 1; i >= 0; --i) {
            if (bit_ == 0) out_.push_back(0);
            out_.back() |= uint8_t(((v >> i) & 1) << (7 - bit_));
            bit_ = (bit_ + 1) & 7;
        }
        return *this;
    }
    Bytes bytes() const { return out_; }

private:
    Bytes out_;
    int bit_ = 0;
};

std::string line(const VideoConfig& c)
{
    char buf[128];
    format_video_config(c, buf, sizeof buf);
    return buf;
}

std::string line(const AudioConfig& c)
{
    char buf[128];
    format_audio_config(c, buf, sizeof buf);
    return buf;
}

// Every truncation of a record must parse without reading past it.
template <class F>
void expect_truncations_safe(const Bytes& rec, F parse)
{
    for (size_t k = 0; k < rec.size(); ++k) {
        Bytes cut(rec.begin(), rec.begin() + k);
        VideoConfig v;
        AudioConfig a;
        (void)parse(cut, &v, &a);
    }
}

}  // namespace

TEST(AvcConfig, X264High720p)
{
    VideoConfig c;
    ASSERT_EQ(parse_avc_config(kAvcHigh720, &c), Rc::ok);
    EXPECT_EQ(c.codec, VideoCodec::avc);
    EXPECT_EQ(c.profile, 100);
    EXPECT_EQ(c.level, 31);
    EXPECT_EQ(c.width, 1280u);
    EXPECT_EQ(c.height, 720u);
    EXPECT_EQ(c.chroma_format, 1);
    EXPECT_EQ(c.bit_depth, 8);
    EXPECT_EQ(c.nal_length_size, 4);
    EXPECT_FALSE(c.interlaced);
    EXPECT_EQ(c.fps_num / c.fps_den, 30u);
    EXPECT_STREQ(avc_profile_name(c.profile, c.constraints), "High");
    EXPECT_EQ(line(c), "H.264 High 3.1 1280x720 30fps 4:2:0 8bit");
}

TEST(AvcConfig, X264High444PredictiveReadsChromaFields)
{
    // Same source without -pix_fmt: libx264 picks 4:4:4 (profile_idc 244).
    const Bytes rec = {
        0x01, 0xf4, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0xf4, 0x00, 0x1f,
        0x91, 0x9b, 0x28, 0x0a, 0x00, 0xb7, 0x60, 0x22, 0x00, 0x00, 0x03, 0x00,
        0x02, 0x00, 0x00, 0x03, 0x00, 0x78, 0x1e, 0x30, 0x63, 0x2c, 0x01, 0x00,
        0x06, 0x68, 0xeb, 0xe3, 0xc4, 0x48, 0x44, 0xff, 0xf8, 0xf8, 0x00,
    };
    VideoConfig c;
    ASSERT_EQ(parse_avc_config(rec, &c), Rc::ok);
    EXPECT_EQ(c.profile, 244);
    EXPECT_EQ(c.chroma_format, 3);
    EXPECT_EQ(c.width, 1280u);
    EXPECT_EQ(c.height, 720u);
    EXPECT_EQ(line(c), "H.264 High 4:4:4 Predictive 3.1 1280x720 30fps 4:4:4 8bit");
}

TEST(AvcConfig, FrameCroppingAt1080p)
{
    // libx264 -profile:v main 1920x1080: coded 1920x1088, frame_crop_bottom_offset 4.
    const Bytes rec = {
        0x01, 0x4d, 0x40, 0x28, 0xff, 0xe1, 0x00, 0x1a, 0x67, 0x4d, 0x40, 0x28, 0xec, 0xa0,
        0x3c, 0x01, 0x13, 0xf2, 0xe0, 0x22, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03,
        0x00, 0x64, 0x1e, 0x30, 0x63, 0x2c, 0x01, 0x00, 0x05, 0x68, 0xeb, 0xe3, 0xcb, 0x20,
    };
    VideoConfig c;
    ASSERT_EQ(parse_avc_config(rec, &c), Rc::ok);
    EXPECT_EQ(line(c), "H.264 Main 4.0 1920x1080 25fps 4:2:0 8bit");
}

TEST(AvcConfig, InterlacedAndConstrainedBaseline)
{
    // libx264 -x264-params interlaced=1, 720x576: frame_mbs_only_flag 0.
    const Bytes interlaced = {
        0x01, 0x64, 0x00, 0x1e, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40,
        0xb4, 0x24, 0xd8, 0x08, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x19, 0x0f, 0x8a,
        0x14, 0xcb, 0x01, 0x00, 0x06, 0x68, 0xfb, 0xa3, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
    };
    VideoConfig c;
    ASSERT_EQ(parse_avc_config(interlaced, &c), Rc::ok);
    EXPECT_TRUE(c.interlaced);
    EXPECT_EQ(line(c), "H.264 High 3.0 720x576i 25fps 4:2:0 8bit");

    // libx264 -profile:v baseline 320x240 at 25 fps.
    const Bytes baseline = {
        0x01, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0x00, 0x18, 0x67, 0x42, 0xc0, 0x0d, 0xd9,
        0x01, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03,
        0x03, 0x20, 0xf1, 0x42, 0xa4, 0x80, 0x01, 0x00, 0x04, 0x68, 0xcb, 0x8c, 0xb2,
    };
    VideoConfig b;
    ASSERT_EQ(parse_avc_config(baseline, &b), Rc::ok);
    EXPECT_EQ(line(b), "H.264 Constrained Baseline 1.3 320x240 25fps 4:2:0 8bit");
    char level[8];
    b.level = 11;
    b.constraints |= 0x10;
    EXPECT_STREQ(video_level_str(b, level), "1b");
}

TEST(AvcConfig, MalformedRecordsAndSps)
{
    VideoConfig c;
    EXPECT_EQ(parse_avc_config(Bytes{0x00, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00}, &c), Rc::error);
    Bytes no_pps_count(kAvcHigh720.begin(), kAvcHigh720.begin() + 8 + 0x1a);
    EXPECT_EQ(parse_avc_config(no_pps_count, &c), Rc::error);
    Bytes sps_too_long = kAvcHigh720;
    sps_too_long[7] = 0xff;
    EXPECT_EQ(parse_avc_config(sps_too_long, &c), Rc::error);
    // An SPS whose ue(v) has more than 31 leading zeros.
    EXPECT_EQ(parse_avc_sps(Bytes{0x67, 0x64, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x00, 0x80}, &c),
              Rc::error);
    // A PPS is not an SPS.
    EXPECT_EQ(parse_avc_sps(Bytes{0x68, 0xeb, 0xe3, 0xcb}, &c), Rc::error);
    expect_truncations_safe(kAvcHigh720, [](const Bytes& b, VideoConfig* v, AudioConfig*) {
        return parse_avc_config(b, v);
    });
}

TEST(HevcConfig, X265Main720p)
{
    VideoConfig c;
    ASSERT_EQ(parse_hevc_config(kHevcMain720, &c), Rc::ok);
    EXPECT_EQ(c.profile, 1);
    EXPECT_EQ(c.level, 93);
    EXPECT_FALSE(c.high_tier);
    EXPECT_EQ(c.width, 1280u);
    EXPECT_EQ(c.height, 720u);
    EXPECT_EQ(c.nal_length_size, 4);
    EXPECT_EQ(line(c), "HEVC Main 3.1 1280x720 4:2:0 8bit");
    expect_truncations_safe(kHevcMain720, [](const Bytes& b, VideoConfig* v, AudioConfig*) {
        return parse_hevc_config(b, v);
    });
}

TEST(HevcConfig, SpsWithConformanceWindowMain10)
{
    // libx265 -pix_fmt yuv420p10le at 636x358: coded 640x360, conformance window 2+1.
    const Bytes sps = {
        0x42, 0x01, 0x01, 0x02, 0x20, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x03, 0x00, 0x3f, 0xa0, 0x05, 0x02, 0x01, 0x69, 0xdd, 0x36, 0x59, 0x59, 0xa4, 0x93, 0x2b,
        0xc0, 0x5a, 0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32, 0x10,
    };
    VideoConfig c;
    ASSERT_EQ(parse_hevc_sps(sps, &c), Rc::ok);
    EXPECT_EQ(c.width, 636u);
    EXPECT_EQ(c.height, 358u);
    EXPECT_EQ(c.bit_depth, 10);
    EXPECT_STREQ(hevc_profile_name(c.profile), "Main 10");
    char level[8];
    EXPECT_STREQ(video_level_str(c, level), "2.1");
    c.level = 120;
    EXPECT_STREQ(video_level_str(c, level), "4");
}

TEST(Av1Config, LibaomRecordAndSequenceHeader)
{
    VideoConfig c;
    ASSERT_EQ(parse_av1_config(kAv1Main360, &c), Rc::ok);
    EXPECT_EQ(c.profile, 0);
    EXPECT_EQ(c.level, 1);
    EXPECT_EQ(c.width, 640u);
    EXPECT_EQ(c.height, 360u);
    EXPECT_EQ(line(c), "AV1 Main 2.1 640x360 4:2:0 8bit");
    // The 4-byte record alone (no configOBUs) still gives profile and level.
    VideoConfig bare;
    ASSERT_EQ(parse_av1_config(Bytes(kAv1Main360.begin(), kAv1Main360.begin() + 4), &bare), Rc::ok);
    EXPECT_EQ(bare.width, 0u);
    EXPECT_EQ(parse_av1_config(Bytes{0x01, 0x01, 0x0c, 0x00}, &c), Rc::error);  // no marker
    expect_truncations_safe(kAv1Main360, [](const Bytes& b, VideoConfig* v, AudioConfig*) {
        return parse_av1_config(b, v);
    });
}

TEST(VpConfig, BareAndFullBoxForms)
{
    VideoConfig c;
    ASSERT_EQ(parse_video_config(VideoCodec::vp9, kVp9Record, &c), Rc::ok);
    EXPECT_EQ(c.profile, 0);
    EXPECT_EQ(c.level, 21);
    EXPECT_EQ(c.bit_depth, 8);
    EXPECT_EQ(c.chroma_format, 1);
    EXPECT_EQ(line(c), "VP9 Profile 0 2.1 4:2:0 8bit");
    // The body of an ISO 'vpcC' box (libvpx-vp9 in MP4): version 1, flags 0 in front.
    VideoConfig d;
    ASSERT_EQ(parse_vp_config(cat({{0x01, 0x00, 0x00, 0x00}, kVp9Record}), &d), Rc::ok);
    EXPECT_EQ(d.level, 21);
    EXPECT_EQ(parse_vp_config(Bytes{0x00, 0x15, 0x82, 0x02, 0x02, 0x02, 0x00, 0x05}, &d),
              Rc::error);
}

TEST(AacConfig, LcStereoAt44100And48000)
{
    AudioConfig a;
    ASSERT_EQ(parse_aac_config(Bytes{0x12, 0x10}, &a), Rc::ok);
    EXPECT_EQ(a.object_type, 2);
    EXPECT_EQ(a.sample_rate, 44100u);
    EXPECT_EQ(a.channels, 2);
    EXPECT_EQ(line(a), "AAC LC 44100Hz 2ch");
    // ffmpeg's encoder adds the explicit "no SBR" sync extension (0x2b7, AOT 5, flag 0).
    AudioConfig b;
    ASSERT_EQ(parse_aac_config(Bytes{0x11, 0x90, 0x56, 0xe5, 0x00}, &b), Rc::ok);
    EXPECT_EQ(b.sample_rate, 48000u);
    EXPECT_FALSE(b.sbr);
    EXPECT_EQ(line(b), "AAC LC 48000Hz 2ch");
}

TEST(AacConfig, ExplicitFrequencyEscapeAndHeAac)
{
    AudioConfig a;
    // LC, samplingFrequencyIndex 15 + 24-bit 44056 Hz, 1 channel.
    ASSERT_EQ(parse_aac_config(
                  Bits().put(2, 5).put(15, 4).put(44056, 24).put(1, 4).put(0, 3).bytes(), &a),
              Rc::ok);
    EXPECT_EQ(a.sample_rate, 44056u);
    EXPECT_EQ(a.channels, 1);
    // Explicit hierarchical HE-AAC v2: AOT 29, 24 kHz core, mono, extension 48 kHz, AOT 2.
    AudioConfig he;
    ASSERT_EQ(parse_aac_config(
                  Bits().put(29, 5).put(6, 4).put(1, 4).put(3, 4).put(2, 5).put(0, 3).bytes(), &he),
              Rc::ok);
    EXPECT_TRUE(he.sbr);
    EXPECT_TRUE(he.ps);
    EXPECT_EQ(he.core_sample_rate, 24000u);
    EXPECT_EQ(he.sample_rate, 48000u);
    EXPECT_EQ(he.core_object_type, 2);
    EXPECT_EQ(line(he), "AAC HEv2 48000Hz 2ch");
    // Backward-compatible SBR: LC 24 kHz stereo, GASpecificConfig, then 0x2b7 / AOT 5 /
    // sbrPresentFlag 1 / extension index 3, and 0x548 / psPresentFlag 0.
    AudioConfig bc;
    Bytes sync = Bits()
                     .put(2, 5)
                     .put(6, 4)
                     .put(2, 4)
                     .put(0, 3)
                     .put(0x2b7, 11)
                     .put(5, 5)
                     .put(1, 1)
                     .put(3, 4)
                     .put(0x548, 11)
                     .put(0, 1)
                     .bytes();
    ASSERT_EQ(parse_aac_config(sync, &bc), Rc::ok);
    EXPECT_TRUE(bc.sbr);
    EXPECT_FALSE(bc.ps);
    EXPECT_EQ(bc.sample_rate, 48000u);
    EXPECT_EQ(line(bc), "AAC HE 48000Hz 2ch");
    // Escape object type: 31 + 6 bits (42 = USAC), 7.1 channel configuration.
    AudioConfig usac;
    ASSERT_EQ(parse_aac_config(Bits().put(31, 5).put(10, 6).put(3, 4).put(7, 4).bytes(), &usac),
              Rc::ok);
    EXPECT_EQ(usac.object_type, 42);
    EXPECT_EQ(usac.channels, 8);
    EXPECT_STREQ(aac_object_name(42), "USAC");
}

TEST(AacConfig, TruncatedOrInvalid)
{
    AudioConfig a;
    EXPECT_EQ(parse_aac_config(Bytes{0x12}, &a), Rc::error);
    EXPECT_EQ(parse_aac_config(Bytes{}, &a), Rc::error);
    EXPECT_EQ(parse_aac_config(Bits().put(2, 5).put(13, 4).put(2, 4).bytes(), &a),
              Rc::error);  // reserved index
    EXPECT_EQ(parse_aac_config(Bits().put(2, 5).put(15, 4).put(1, 8).bytes(), &a),
              Rc::error);  // 24 bits cut
}

TEST(AudioConfigOther, OpusHeadAndFlacStreaminfo)
{
    AudioConfig o;
    ASSERT_EQ(parse_audio_config(AudioCodec::opus, kOpusHead, &o), Rc::ok);
    EXPECT_EQ(o.channels, 2);
    EXPECT_EQ(o.sample_rate, 48000u);
    EXPECT_EQ(o.core_sample_rate, 48000u);
    EXPECT_EQ(line(o), "Opus 48000Hz 2ch");
    EXPECT_EQ(parse_opus_head(Bytes(kOpusHead.begin(), kOpusHead.end() - 1), &o), Rc::error);

    // STREAMINFO: block sizes 4096/4096, frame sizes 0/0, 44100 Hz, 2 channels, 16 bits.
    Bytes si = cat({{0x10, 0x00, 0x10, 0x00, 0, 0, 0, 0, 0, 0},
                    Bits().put(44100, 20).put(1, 3).put(15, 5).put(0, 4).bytes(),
                    Bytes(20, 0)});
    ASSERT_EQ(si.size(), 34u);
    for (const Bytes& form : {si, cat({fcc("fLaC"), {0x80, 0x00, 0x00, 0x22}, si})}) {
        AudioConfig f;
        ASSERT_EQ(parse_flac_streaminfo(form, &f), Rc::ok);
        EXPECT_EQ(line(f), "FLAC 44100Hz 2ch 16bit");
    }
    EXPECT_EQ(parse_audio_config(AudioCodec::mp3, si, &o), Rc::declined);
}

TEST(VideoConfigDispatch, FromEnhancedSequenceStart)
{
    Bytes msg = cat({{0x90}, fcc("hvc1"), kHevcMain720});
    VideoInfo v = parse_video(msg);
    VideoConfig c;
    ASSERT_EQ(parse_video_config(
                  v.codec, std::span<const uint8_t>(msg).subspan(v.body_offset, v.body_size), &c),
              Rc::ok);
    EXPECT_EQ(c.width, 1280u);
    EXPECT_EQ(parse_video_config(VideoCodec::h263, msg, &c), Rc::declined);
}
