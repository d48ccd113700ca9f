// Recognises what an RTMP audio or video message carries (= an FLV audio/video tag body):
// codec, keyframe, sequence header, end of sequence, Enhanced RTMP (v1 and v2) FourCC
// headers with ModEx and multitrack. Pure functions over bytes; results are plain values
// (offsets, never pointers), so they outlive nothing. Payloads may be one span or a chain
// of pooled blocks. Nothing here reads past the payload: a short or malformed payload
// comes back with codec = unknown and `malformed` set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace strom {
struct Block;
}

namespace strom::rtmp {

// 'avc1' -> 0x61766331: a FourCC is the big-endian value of its four ASCII bytes
// (Enhanced RTMP, "Enhancing onMetaData").
constexpr uint32_t fourcc(const char (&s)[5])
{
    return uint32_t(uint8_t(s[0])) << 24 | uint32_t(uint8_t(s[1])) << 16 |
           uint32_t(uint8_t(s[2])) << 8 | uint32_t(uint8_t(s[3]));
}

enum class VideoCodec : uint8_t {
    unknown,
    h263,       // legacy CodecID 2, Sorenson H.263
    screen,     // 3
    vp6,        // 4
    vp6_alpha,  // 5
    screen2,    // 6
    avc,        // 7, or FourCC 'avc1'
    hevc,       // FourCC 'hvc1', or the de facto legacy CodecID 12
    av1,        // 'av01'
    vp8,        // 'vp08'
    vp9,        // 'vp09'
};

// FLV VideoTagHeader FrameType (E-RTMP VideoFrameType).
enum class VideoFrameType : uint8_t {
    reserved = 0,
    key = 1,  // seekable frame
    inter = 2,
    disposable = 3,     // H.263 only
    generated_key = 4,  // reserved for server use
    command = 5,        // video info/command frame: a UI8 command, no picture
};

// E-RTMP VideoPacketType. Legacy AVC/HEVC AVCPacketType 0/1/2 map onto
// sequence_start/coded_frames/sequence_end; other legacy codecs report coded_frames.
enum class VideoPacketType : uint8_t {
    sequence_start = 0,
    coded_frames = 1,
    sequence_end = 2,
    coded_frames_x = 3,  // coded frames with an implied composition time of 0
    metadata = 4,        // AMF-encoded [name, value] pairs (colorInfo), no picture
    mpeg2ts_sequence_start = 5,
    multitrack = 6,
    mod_ex = 7,
    none = 0xff,  // command frames
};

enum class AvMultitrackType : uint8_t {
    one_track = 0,
    many_tracks = 1,
    many_tracks_many_codecs = 2
};

struct VideoInfo {
    VideoCodec codec = VideoCodec::unknown;
    VideoFrameType frame_type = VideoFrameType::reserved;
    VideoPacketType packet_type = VideoPacketType::none;
    bool malformed = false;  // too short, reserved value, or inconsistent sizes
    bool enhanced = false;   // IsExHeader (E-RTMP)
    // A key *picture*: frame type key and coded frames. Sequence headers are sent with
    // frame type key too, but they are reported by sequence_header only, so a GOP cache
    // can treat "keyframe" as "a new GOP starts here".
    bool keyframe = false;
    bool sequence_header = false;  // AVC/HEVC seq header, E-RTMP SequenceStart / MPEG2TS start
    bool sequence_end = false;
    bool metadata = false;  // E-RTMP VideoPacketType.Metadata
    bool command = false;   // frame type 5: body is one UI8 command
    bool multitrack = false;
    AvMultitrackType multitrack_type = AvMultitrackType::one_track;
    uint8_t legacy_codec_id = 0;         // low nibble of byte 0 when !enhanced
    uint8_t command_value = 0;           // the UI8 of a command frame
    uint8_t track_id = 0;                // first track (multitrack only)
    uint16_t track_count = 0;            // tracks in the message (1 when not multitrack)
    uint32_t fourcc = 0;                 // E-RTMP FourCC of the first track, 0 when legacy
    int32_t composition_time = 0;        // SI24, AVC/HEVC coded frames of the first track
    uint32_t timestamp_nano_offset = 0;  // E-RTMP ModEx TimestampOffsetNano, 0 if absent
    // The first track's codec payload within the message (configuration record, coded
    // data, or AMF metadata), after every header byte and the composition time.
    uint32_t body_offset = 0;
    uint32_t body_size = 0;
};

// One track of a (possibly multitrack) video message.
struct VideoTrack {
    uint8_t id = 0;
    VideoCodec codec = VideoCodec::unknown;
    uint32_t fourcc = 0;
    int32_t composition_time = 0;
    uint32_t body_offset = 0;
    uint32_t body_size = 0;
};

VideoInfo parse_video(std::span<const uint8_t> payload);
// The same over a chain of pooled blocks (a reassembled RTMP message), without copying it.
VideoInfo parse_video(const Block* chain);
// Fills up to out.size() tracks; returns the number of tracks in the message (which may be
// more than out.size()), or -1 when the message is malformed.
int parse_video_tracks(std::span<const uint8_t> payload, std::span<VideoTrack> out);

enum class AudioCodec : uint8_t {
    unknown,
    pcm,             // SoundFormat 0, platform endian
    adpcm,           // 1
    mp3,             // 2, or FourCC '.mp3'
    pcm_le,          // 3
    nellymoser_16k,  // 4
    nellymoser_8k,   // 5
    nellymoser,      // 6
    g711a,           // 7
    g711u,           // 8
    aac,             // 10, or FourCC 'mp4a'
    speex,           // 11
    mp3_8k,          // 14
    device,          // 15, device-specific
    opus,            // FourCC 'Opus'
    flac,            // 'fLaC'
    ac3,             // 'ac-3'
    eac3,            // 'ec-3'
};

// E-RTMP AudioPacketType. Legacy AAC AACPacketType 0/1 map onto sequence_start/coded_frames;
// other legacy formats report coded_frames.
enum class AudioPacketType : uint8_t {
    sequence_start = 0,
    coded_frames = 1,
    sequence_end = 2,
    multichannel_config = 4,
    multitrack = 5,
    mod_ex = 7,
};

struct AudioInfo {
    AudioCodec codec = AudioCodec::unknown;
    AudioPacketType packet_type = AudioPacketType::coded_frames;
    bool malformed = false;
    bool enhanced = false;         // SoundFormat 9 (ExHeader)
    bool sequence_header = false;  // AAC packet type 0 / E-RTMP SequenceStart
    bool sequence_end = false;
    bool multichannel_config = false;
    bool multitrack = false;
    AvMultitrackType multitrack_type = AvMultitrackType::one_track;
    uint8_t sound_format = 0;  // high nibble of byte 0
    // Legacy flags, as sent (FLV AudioTagHeader): SoundRate 0..3, SoundSize 0..1,
    // SoundType 0..1. Zero in enhanced mode, where these bits are the packet type.
    uint8_t sound_rate = 0;
    uint8_t sound_size = 0;
    uint8_t sound_type = 0;
    // The flags decoded, with the formats whose rate is fixed by the FLV spec (Nellymoser
    // 8/16 kHz, G.711, Speex, MP3 8 kHz) corrected. For AAC the real values are in the
    // AudioSpecificConfig (see codec_info.h); 0 when unknown (enhanced).
    uint32_t rate_hz = 0;
    uint8_t bits = 0;
    uint8_t channels = 0;
    uint8_t track_id = 0;
    uint16_t track_count = 0;
    uint32_t fourcc = 0;
    uint32_t timestamp_nano_offset = 0;
    uint32_t body_offset = 0;  // first track's payload (ASC, coded frames, ...)
    uint32_t body_size = 0;
};

AudioInfo parse_audio(std::span<const uint8_t> payload);
AudioInfo parse_audio(const Block* chain);

const char* video_codec_name(VideoCodec c);  // "H.264", "HEVC", "AV1", ...
const char* audio_codec_name(AudioCodec c);  // "AAC", "MP3", "Opus", ...
const char* video_packet_type_name(VideoPacketType t);
// A FourCC as text for logs ("hvc1"; non-printable bytes as '?'); out must hold 5 bytes.
const char* fourcc_str(uint32_t fourcc, char out[5]);

}  // namespace strom::rtmp
