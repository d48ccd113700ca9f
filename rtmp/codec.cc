#include "rtmp/codec.h"

#include <cstring>
#include <iterator>

#include "core/buf.h"
#include "core/bytes.h"

namespace strom::rtmp {

namespace {

// Byte sources: the parser is written once, over a span or over a block chain.
class SpanSrc {
public:
    explicit SpanSrc(std::span<const uint8_t> s) : s_(s) {}
    size_t size() const { return s_.size(); }
    bool read(size_t off, uint8_t* out, size_t n) const
    {
        if (off > s_.size() || n > s_.size() - off) return false;
        std::memcpy(out, s_.data() + off, n);
        return true;
    }

private:
    std::span<const uint8_t> s_;
};

class ChainSrc {
public:
    explicit ChainSrc(const Block* b) : b_(b), size_(chain_size(b)) {}
    size_t size() const { return size_; }
    bool read(size_t off, uint8_t* out, size_t n) const
    {
        if (off > size_ || n > size_ - off) return false;
        return chain_copy(b_, off, out, n) == n;
    }

private:
    const Block* b_;
    size_t size_;
};

// A bounds-checked read position in [pos, end) of a source. A failed read leaves `ok`
// false for good, so a parse can read several fields and check once.
template <class Src>
class Cursor {
public:
    Cursor(const Src& s, size_t pos, size_t end) : s_(s), pos_(pos), end_(end) {}

    uint32_t be(size_t n)  // n = 1..4 bytes, big-endian
    {
        uint8_t b[4] = {};
        if (!ok_ || n > end_ - pos_ || !s_.read(pos_, b, n)) {
            ok_ = false;
            return 0;
        }
        pos_ += n;
        uint32_t v = 0;
        for (size_t i = 0; i < n; ++i) v = v << 8 | b[i];
        return v;
    }
    uint8_t u8() { return uint8_t(be(1)); }
    void skip(size_t n)
    {
        if (!ok_ || n > end_ - pos_) {
            ok_ = false;
            return;
        }
        pos_ += n;
    }
    void fail() { ok_ = false; }
    bool ok() const { return ok_; }
    size_t pos() const { return pos_; }
    size_t end() const { return end_; }
    size_t left() const { return end_ - pos_; }

private:
    const Src& s_;
    size_t pos_;
    size_t end_;
    bool ok_ = true;
};

int32_t sign_extend24(uint32_t v)
{
    return int32_t(v << 8) >> 8;
}

VideoCodec legacy_video_codec(uint8_t id)
{
    switch (id) {
        case 2:
            return VideoCodec::h263;
        case 3:
            return VideoCodec::screen;
        case 4:
            return VideoCodec::vp6;
        case 5:
            return VideoCodec::vp6_alpha;
        case 6:
            return VideoCodec::screen2;
        case 7:
            return VideoCodec::avc;
        // Not in any Adobe spec: the CodecID 12 extension for HEVC that SRS, Tencent, and
        // patched ffmpeg/OBS builds send. Same layout as AVC (packet type + SI24 CTS).
        case 12:
            return VideoCodec::hevc;
        default:
            return VideoCodec::unknown;
    }
}

VideoCodec video_codec_of(uint32_t fcc)
{
    switch (fcc) {
        case fourcc("avc1"):
            return VideoCodec::avc;
        case fourcc("hvc1"):
            return VideoCodec::hevc;
        case fourcc("av01"):
            return VideoCodec::av1;
        case fourcc("vp08"):
            return VideoCodec::vp8;
        case fourcc("vp09"):
            return VideoCodec::vp9;
        default:
            return VideoCodec::unknown;
    }
}

AudioCodec legacy_audio_codec(uint8_t fmt)
{
    static constexpr AudioCodec kByFormat[16] = {
        AudioCodec::pcm,
        AudioCodec::adpcm,
        AudioCodec::mp3,
        AudioCodec::pcm_le,
        AudioCodec::nellymoser_16k,
        AudioCodec::nellymoser_8k,
        AudioCodec::nellymoser,
        AudioCodec::g711a,
        AudioCodec::g711u,
        AudioCodec::unknown,
        AudioCodec::aac,
        AudioCodec::speex,
        AudioCodec::unknown,
        AudioCodec::unknown,
        AudioCodec::mp3_8k,
        AudioCodec::device,
    };
    return kByFormat[fmt & 15];
}

AudioCodec audio_codec_of(uint32_t fcc)
{
    switch (fcc) {
        case fourcc("mp4a"):
            return AudioCodec::aac;
        case fourcc(".mp3"):
            return AudioCodec::mp3;
        case fourcc("Opus"):
            return AudioCodec::opus;
        case fourcc("fLaC"):
            return AudioCodec::flac;
        case fourcc("ac-3"):
            return AudioCodec::ac3;
        case fourcc("ec-3"):
            return AudioCodec::eac3;
        default:
            return AudioCodec::unknown;
    }
}

// The part of ExVideoTagHeader / ExAudioTagHeader that audio and video share: the ModEx
// loop, the multitrack switch and the FourCC (E-RTMP v2, "Enhanced Audio"/"Enhanced Video").
struct ExHeader {
    uint8_t packet_type = 0;
    bool multitrack = false;
    AvMultitrackType multitrack_type = AvMultitrackType::one_track;
    uint32_t fourcc = 0;
    uint32_t nano_offset = 0;
};

constexpr uint8_t kModEx = 7;  // same value for audio and video packet types

// E-RTMP v2 ModEx: modExDataSize = UI8 + 1, or UI16 + 1 when that gives 256; then the
// data, then UB[4] ModExType and UB[4] the next packet type. Type 0 is
// TimestampOffsetNano, a UI24 at the start of the data.
template <class Src>
uint8_t read_mod_ex(Cursor<Src>& c, uint8_t packet_type, uint32_t* nano)
{
    while (packet_type == kModEx && c.ok()) {
        size_t size = size_t(c.u8()) + 1;
        if (size == 256) size = size_t(c.be(2)) + 1;
        if (size > c.left()) c.fail();
        if (!c.ok()) return 0;
        uint32_t first = size >= 3 ? c.be(3) : 0;
        c.skip(size >= 3 ? size - 3 : size);
        uint8_t b = c.u8();
        if (b >> 4 == 0 && size >= 3) *nano = first;
        packet_type = b & 15;
    }
    return packet_type;
}

// Reads from just after byte 0 up to the first track. `multitrack_value` is the packet type
// that switches multitrack on (video 6, audio 5). False when malformed.
template <class Src>
bool read_ex_header(Cursor<Src>& c, uint8_t packet_type, uint8_t multitrack_value, ExHeader* h)
{
    packet_type = read_mod_ex(c, packet_type, &h->nano_offset);
    if (!c.ok()) return false;
    if (packet_type == multitrack_value) {
        uint8_t b = c.u8();
        h->multitrack = true;
        if (b >> 4 > 2) return false;  // AvMultitrackType 3..15 reserved
        h->multitrack_type = AvMultitrackType(b >> 4);
        packet_type = b & 15;
        // "This fetch MUST not result in a Multitrack"; a ModEx here is not defined either.
        if (packet_type == multitrack_value || packet_type == kModEx) return false;
        if (h->multitrack_type != AvMultitrackType::many_tracks_many_codecs) h->fourcc = c.be(4);
    } else {
        h->fourcc = c.be(4);
    }
    h->packet_type = packet_type;
    return c.ok();
}

struct TrackSpan {
    uint8_t id = 0;
    uint32_t fourcc = 0;
    size_t begin = 0;
    size_t end = 0;
};

// Walks the ExVideoTagBody / ExAudioTagBody track loop, calling on_track(TrackSpan) for each
// track. Returns the number of tracks, or -1 when a size or field runs past the payload.
template <class Src, class F>
int walk_tracks(Cursor<Src>& c, const ExHeader& h, F&& on_track)
{
    int count = 0;
    for (;;) {
        TrackSpan t;
        t.fourcc = h.fourcc;
        size_t end = c.end();
        if (h.multitrack) {
            if (h.multitrack_type == AvMultitrackType::many_tracks_many_codecs) t.fourcc = c.be(4);
            t.id = c.u8();
            if (h.multitrack_type != AvMultitrackType::one_track) {
                size_t size = c.be(3);
                if (!c.ok() || size > c.left()) return -1;
                end = c.pos() + size;
            }
        }
        if (!c.ok()) return -1;
        t.begin = c.pos();
        t.end = end;
        if (!on_track(t)) return -1;
        ++count;
        c.skip(end - c.pos());
        bool more = h.multitrack && h.multitrack_type != AvMultitrackType::one_track;
        if (!more || c.left() == 0) return count;
    }
}

template <class Src>
class VideoParser {
public:
    VideoParser(const Src& s, std::span<VideoTrack> out) : s_(s), out_(out) {}

    const VideoTrack& first() const { return first_; }

    // Fills info and returns the track count (-1 when malformed).
    int parse(VideoInfo* info)
    {
        Cursor<Src> c(s_, 0, s_.size());
        uint8_t b0 = c.u8();
        if (!c.ok()) return -1;
        info->frame_type = VideoFrameType((b0 >> 4) & 7);
        if (b0 & 0x80) return parse_enhanced(c, b0, info);
        return parse_legacy(c, b0, info);
    }

private:
    int parse_legacy(Cursor<Src>& c, uint8_t b0, VideoInfo* info)
    {
        info->legacy_codec_id = b0 & 15;
        VideoCodec codec = legacy_video_codec(b0 & 15);
        // FLV 10.1 E.4.3.1: a command frame carries one UI8 instead of the packet.
        if (info->frame_type == VideoFrameType::command) return parse_command(c, codec, info);
        VideoTrack t;
        t.codec = codec;
        uint8_t pt = uint8_t(VideoPacketType::coded_frames);
        if (codec == VideoCodec::avc || codec == VideoCodec::hevc) {
            pt = c.u8();
            if (!c.ok() || pt > 2) return -1;
            // The SI24 is always present, but an end of sequence cut to 2 bytes is harmless.
            uint32_t cts = c.left() >= 3 || pt != 2 ? c.be(3) : 0;
            if (!c.ok()) return -1;
            if (pt == 1) t.composition_time = sign_extend24(cts);
        }
        t.body_offset = uint32_t(c.pos());
        t.body_size = uint32_t(c.left());
        set_flags(info, pt);
        store(t, 0);
        return 1;
    }

    int parse_command(Cursor<Src>& c, VideoCodec codec, VideoInfo* info)
    {
        info->command_value = c.u8();
        if (!c.ok()) return -1;
        info->command = true;
        info->codec = codec;
        info->packet_type = VideoPacketType::none;
        info->track_count = 1;
        info->body_offset = uint32_t(c.pos());
        return 1;
    }

    int parse_enhanced(Cursor<Src>& c, uint8_t b0, VideoInfo* info)
    {
        info->enhanced = true;
        ExHeader h;
        uint8_t pt = read_mod_ex(c, b0 & 15, &h.nano_offset);
        if (!c.ok() || pt > kModEx) return -1;
        info->timestamp_nano_offset = h.nano_offset;
        bool ft_ok =
            info->frame_type >= VideoFrameType::key && info->frame_type <= VideoFrameType::command;
        if (pt != uint8_t(VideoPacketType::metadata) && !ft_ok) return -1;
        if (pt != uint8_t(VideoPacketType::metadata) &&
            info->frame_type == VideoFrameType::command) {
            return parse_command(c, VideoCodec::unknown, info);
        }
        if (!read_ex_header(c, pt, uint8_t(VideoPacketType::multitrack), &h)) return -1;
        if (h.packet_type > uint8_t(VideoPacketType::mpeg2ts_sequence_start)) return -1;
        info->multitrack = h.multitrack;
        info->multitrack_type = h.multitrack_type;
        set_flags(info, h.packet_type);
        bool with_cts = h.packet_type == uint8_t(VideoPacketType::coded_frames);
        return walk_tracks(c, h, [&](const TrackSpan& ts) { return on_track(ts, with_cts); });
    }

    bool on_track(const TrackSpan& ts, bool with_cts)
    {
        VideoTrack t;
        t.id = ts.id;
        t.fourcc = ts.fourcc;
        t.codec = video_codec_of(ts.fourcc);
        Cursor<Src> c(s_, ts.begin, ts.end);
        // E-RTMP: only AVC and HEVC CodedFrames carry the SI24 composition time offset.
        if (with_cts && (t.codec == VideoCodec::avc || t.codec == VideoCodec::hevc)) {
            t.composition_time = sign_extend24(c.be(3));
            if (!c.ok()) return false;
        }
        t.body_offset = uint32_t(c.pos());
        t.body_size = uint32_t(c.left());
        store(t, count_++);
        return true;
    }

    void set_flags(VideoInfo* info, uint8_t pt)
    {
        auto type = VideoPacketType(pt);
        info->packet_type = type;
        info->sequence_header = type == VideoPacketType::sequence_start ||
                                type == VideoPacketType::mpeg2ts_sequence_start;
        info->sequence_end = type == VideoPacketType::sequence_end;
        info->metadata = type == VideoPacketType::metadata;
        info->keyframe =
            info->frame_type == VideoFrameType::key &&
            (type == VideoPacketType::coded_frames || type == VideoPacketType::coded_frames_x);
    }

    void store(const VideoTrack& t, int index)
    {
        if (index == 0) first_ = t;
        if (size_t(index) < out_.size()) out_[index] = t;
    }

    const Src& s_;
    std::span<VideoTrack> out_;
    int count_ = 0;
    VideoTrack first_;
};

template <class Src>
VideoInfo video_info(const Src& s)
{
    VideoInfo info;
    VideoParser<Src> p(s, {});
    int n = p.parse(&info);
    if (n < 0) {
        VideoInfo bad;
        bad.malformed = true;
        bad.enhanced = info.enhanced;
        bad.frame_type = info.frame_type;
        return bad;
    }
    if (info.command) return info;
    info.track_count = uint16_t(n > 0xffff ? 0xffff : n);
    info.codec = p.first().codec;
    info.fourcc = p.first().fourcc;
    info.track_id = p.first().id;
    info.composition_time = p.first().composition_time;
    info.body_offset = p.first().body_offset;
    info.body_size = p.first().body_size;
    return info;
}

uint32_t legacy_rate_hz(uint8_t rate_flag)
{
    static constexpr uint32_t kRates[4] = {5512, 11025, 22050, 44100};
    return kRates[rate_flag & 3];
}

// FLV 10.1 E.4.2.1: the formats whose rate is fixed whatever the flags say.
void fill_legacy_audio_format(AudioInfo* a)
{
    a->rate_hz = legacy_rate_hz(a->sound_rate);
    a->bits = a->sound_size ? 16 : 8;
    a->channels = a->sound_type ? 2 : 1;
    switch (a->codec) {
        case AudioCodec::nellymoser_16k:
            a->rate_hz = 16000;
            a->channels = 1;
            break;
        case AudioCodec::nellymoser_8k:
            a->rate_hz = 8000;
            a->channels = 1;
            break;
        case AudioCodec::g711a:
        case AudioCodec::g711u:
            a->rate_hz = 8000;
            break;
        case AudioCodec::speex:
            a->rate_hz = 16000;
            a->channels = 1;
            a->bits = 16;
            break;
        case AudioCodec::mp3_8k:
            a->rate_hz = 8000;
            break;
        default:
            break;
    }
}

template <class Src>
bool parse_legacy_audio(Cursor<Src>& c, uint8_t b0, AudioInfo* a)
{
    a->sound_rate = (b0 >> 2) & 3;
    a->sound_size = (b0 >> 1) & 1;
    a->sound_type = b0 & 1;
    a->codec = legacy_audio_codec(a->sound_format);
    fill_legacy_audio_format(a);
    a->packet_type = AudioPacketType::coded_frames;
    if (a->codec == AudioCodec::aac) {
        uint8_t pt = c.u8();  // AACPacketType: 0 sequence header, 1 raw
        if (!c.ok() || pt > 1) return false;
        a->packet_type = AudioPacketType(pt);
    }
    a->track_count = 1;
    a->body_offset = uint32_t(c.pos());
    a->body_size = uint32_t(c.left());
    return true;
}

template <class Src>
bool parse_enhanced_audio(Cursor<Src>& c, uint8_t b0, AudioInfo* a)
{
    a->enhanced = true;
    ExHeader h;
    if (!read_ex_header(c, b0 & 15, uint8_t(AudioPacketType::multitrack), &h)) return false;
    uint8_t pt = h.packet_type;
    // AudioPacketType 3 and 6 are reserved, 8..15 too.
    if (pt == 3 || pt == 6 || pt > kModEx) return false;
    a->packet_type = AudioPacketType(pt);
    a->multitrack = h.multitrack;
    a->multitrack_type = h.multitrack_type;
    a->timestamp_nano_offset = h.nano_offset;
    bool first = true;
    int n = walk_tracks(c, h, [&](const TrackSpan& t) {
        if (first) {
            a->fourcc = t.fourcc;
            a->codec = audio_codec_of(t.fourcc);
            a->track_id = t.id;
            a->body_offset = uint32_t(t.begin);
            a->body_size = uint32_t(t.end - t.begin);
            first = false;
        }
        return true;
    });
    if (n < 0) return false;
    a->track_count = uint16_t(n > 0xffff ? 0xffff : n);
    return true;
}

template <class Src>
AudioInfo audio_info(const Src& s)
{
    AudioInfo a;
    Cursor<Src> c(s, 0, s.size());
    uint8_t b0 = c.u8();
    bool ok = c.ok();
    if (ok) {
        a.sound_format = b0 >> 4;
        // E-RTMP: SoundFormat 9 (ExHeader) switches the low nibble to AudioPacketType.
        ok = a.sound_format == 9 ? parse_enhanced_audio(c, b0, &a) : parse_legacy_audio(c, b0, &a);
    }
    if (!ok) {
        AudioInfo bad;
        bad.malformed = true;
        bad.enhanced = a.enhanced;
        bad.sound_format = a.sound_format;
        return bad;
    }
    a.sequence_header = a.packet_type == AudioPacketType::sequence_start;
    a.sequence_end = a.packet_type == AudioPacketType::sequence_end;
    a.multichannel_config = a.packet_type == AudioPacketType::multichannel_config;
    return a;
}

}  // namespace

VideoInfo parse_video(std::span<const uint8_t> payload)
{
    return video_info(SpanSrc(payload));
}

VideoInfo parse_video(const Block* chain)
{
    return video_info(ChainSrc(chain));
}

int parse_video_tracks(std::span<const uint8_t> payload, std::span<VideoTrack> out)
{
    SpanSrc src(payload);
    VideoParser<SpanSrc> p(src, out);
    VideoInfo info;
    int n = p.parse(&info);
    if (n > 0 && info.command) return 0;  // a command frame has no track payload
    return n;
}

AudioInfo parse_audio(std::span<const uint8_t> payload)
{
    return audio_info(SpanSrc(payload));
}

AudioInfo parse_audio(const Block* chain)
{
    return audio_info(ChainSrc(chain));
}

const char* video_codec_name(VideoCodec c)
{
    static constexpr const char* kNames[] = {"unknown", "H.263", "Screen", "VP6", "VP6A", "Screen2",
                                             "H.264",   "HEVC",  "AV1",    "VP8", "VP9"};
    static_assert(std::size(kNames) == size_t(VideoCodec::vp9) + 1);
    return size_t(c) < std::size(kNames) ? kNames[size_t(c)] : "unknown";
}

const char* audio_codec_name(AudioCodec c)
{
    static constexpr const char* kNames[] = {
        "unknown",       "PCM",        "ADPCM",  "MP3",    "PCM-LE", "Nellymoser-16k",
        "Nellymoser-8k", "Nellymoser", "G.711A", "G.711U", "AAC",    "Speex",
        "MP3-8k",        "Device",     "Opus",   "FLAC",   "AC-3",   "E-AC-3"};
    static_assert(std::size(kNames) == size_t(AudioCodec::eac3) + 1);
    return size_t(c) < std::size(kNames) ? kNames[size_t(c)] : "unknown";
}

const char* video_packet_type_name(VideoPacketType t)
{
    static constexpr const char* kNames[] = {"SequenceStart", "CodedFrames", "SequenceEnd",
                                             "CodedFramesX",  "Metadata",    "MPEG2TSSequenceStart",
                                             "Multitrack",    "ModEx"};
    return size_t(t) < std::size(kNames) ? kNames[size_t(t)] : "none";
}

const char* fourcc_str(uint32_t fcc, char out[5])
{
    for (int i = 0; i < 4; ++i) {
        char ch = char(fcc >> (24 - 8 * i));
        out[i] = ch >= 0x20 && ch < 0x7f ? ch : '?';
    }
    out[4] = '\0';
    return out;
}

}  // namespace strom::rtmp
