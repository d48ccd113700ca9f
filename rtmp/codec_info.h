// Human-facing details of codec configuration records, for the probe tool and for logs:
// AVCDecoderConfigurationRecord + SPS, HEVCDecoderConfigurationRecord + SPS,
// AV1CodecConfigurationRecord + sequence header OBU, VPCodecConfigurationRecord, AAC
// AudioSpecificConfig, Opus ID header, FLAC STREAMINFO. Never on the media path: the
// server relays payloads as they are. Pure functions, plain-value results; every bit read
// is bounds-checked, and a record that does not parse gives Rc::error (the fields read
// before the problem stay filled).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/rc.h"
#include "rtmp/codec.h"

namespace strom::rtmp {

struct VideoConfig {
    VideoCodec codec = VideoCodec::unknown;
    // The codec's own numbers: AVC profile_idc / level_idc (31 = 3.1), HEVC
    // general_profile_idc / general_level_idc (93 = 3.1), AV1 seq_profile /
    // seq_level_idx (5 = 3.1), VP9 profile / level (31 = 3.1).
    uint8_t profile = 0;
    uint8_t level = 0;
    uint8_t constraints = 0;      // AVC constraint_set0..5 flags byte (Constrained Baseline, 1b)
    bool high_tier = false;       // HEVC general_tier_flag, AV1 seq_tier_0
    bool interlaced = false;      // AVC frame_mbs_only_flag == 0
    uint8_t bit_depth = 0;        // luma
    uint8_t chroma_format = 0;    // chroma_format_idc: 0 mono, 1 4:2:0, 2 4:2:2, 3 4:4:4
    uint8_t nal_length_size = 0;  // AVC/HEVC NALU length field size, 1..4
    uint32_t width = 0;           // display size after cropping; 0 when not known
    uint32_t height = 0;
    uint32_t fps_num = 0;  // from AVC VUI / AV1 timing info; 0 when not signalled
    uint32_t fps_den = 0;
};

// AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.3.3.1) and its first SPS.
Rc parse_avc_config(std::span<const uint8_t> record, VideoConfig* out);
// One SPS NAL unit (header byte included, emulation prevention bytes still in).
Rc parse_avc_sps(std::span<const uint8_t> nal, VideoConfig* out);
// HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 8.3.3.1) and its first SPS.
Rc parse_hevc_config(std::span<const uint8_t> record, VideoConfig* out);
Rc parse_hevc_sps(std::span<const uint8_t> nal, VideoConfig* out);
// AV1CodecConfigurationRecord (AV1-ISOBMFF 2.3.3) and its sequence header OBU.
Rc parse_av1_config(std::span<const uint8_t> record, VideoConfig* out);
// VPCodecConfigurationRecord (VP Codec ISO Media File Format 2.2), with or without the
// 4-byte FullBox version/flags that the 'vpcC' box puts in front (ffmpeg's FLV muxer
// sends it without).
Rc parse_vp_config(std::span<const uint8_t> record, VideoConfig* out);
// Dispatches on the codec of an E-RTMP SequenceStart / legacy AVC sequence header body.
Rc parse_video_config(VideoCodec codec, std::span<const uint8_t> body, VideoConfig* out);

struct AudioConfig {
    AudioCodec codec = AudioCodec::unknown;
    uint8_t object_type = 0;       // AAC audioObjectType as signalled (2 LC, 5 SBR, 29 PS, ...)
    uint8_t core_object_type = 0;  // the AAC core under SBR/PS (usually 2), else = object_type
    bool sbr = false;
    bool ps = false;
    uint32_t sample_rate = 0;       // output rate (the SBR rate for HE-AAC)
    uint32_t core_sample_rate = 0;  // AAC core rate; Opus: the original input rate
    uint8_t channels = 0;           // 0 when only a program config element would say
    uint8_t bits = 0;               // FLAC bits per sample
};

// AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1), including the 24-bit explicit frequency,
// explicit hierarchical SBR/PS and backward-compatible sync extensions (0x2b7, 0x548).
Rc parse_aac_config(std::span<const uint8_t> asc, AudioConfig* out);
// Opus identification header "OpusHead" (RFC 7845 5.1).
Rc parse_opus_head(std::span<const uint8_t> head, AudioConfig* out);
// FLAC STREAMINFO, bare (34 bytes) or behind "fLaC" and/or a metadata block header.
Rc parse_flac_streaminfo(std::span<const uint8_t> data, AudioConfig* out);
Rc parse_audio_config(AudioCodec codec, std::span<const uint8_t> body, AudioConfig* out);

const char* avc_profile_name(uint8_t profile_idc, uint8_t constraints);  // "High", ...
const char* hevc_profile_name(uint8_t profile_idc);                      // "Main 10", ...
const char* av1_profile_name(uint8_t seq_profile);                       // "Main", ...
const char* aac_object_name(uint8_t object_type);                        // "LC", "HE", ...
// Level as text ("3.1", "1b", "4"); out holds 8 bytes.
const char* video_level_str(const VideoConfig& c, char out[8]);

// One line for logs and the probe tool, e.g. "H.264 High 3.1 1280x720 30fps 4:2:0 8bit" or
// "AAC LC 48000Hz 2ch". Returns snprintf's count (the line is truncated to n - 1).
int format_video_config(const VideoConfig& c, char* out, size_t n);
int format_audio_config(const AudioConfig& c, char* out, size_t n);

}  // namespace strom::rtmp
