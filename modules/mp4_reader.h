// An MP4 (ISO/IEC 14496-12) reader for VOD playback: it reads the box headers of a file
// and its moov (and every moof of a fragmented file) through a pread-like callback, never
// the media, and returns a sample index: one entry per H.264/HEVC/AAC sample, both tracks
// merged in send order, with decoder configurations and keyframe positions. Pure apart
// from the callback; the index is a plain value owned by the caller (one per open file).
// Files are user-supplied: every count and size is checked against its box, the file size
// and Mp4Limits before use, and a truncated recording yields what it completely holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/rc.h"
#include "rtmp/codec.h"

namespace strom::mod {

struct Mp4Sample {
    uint64_t offset = 0;  // of the sample data in the file
    uint32_t size = 0;    // never 0: empty samples are skipped
    uint32_t dts_ms = 0;  // decode time on the common timeline (below), never negative
    int32_t cts_ms = 0;   // composition offset, pts - dts, may be negative
    uint8_t type = 0;     // rtmp::msg_type::audio (8) or video (9)
    bool key = false;     // video sync sample; audio samples are all key
};

// Timeline. Each track's times are its decode times converted to ms, shifted by its edit
// list (14496-12 8.6.6): leading empty edits delay the track by their duration, and the
// first non-empty edit's media_time M is presented at that point, so M is subtracted (a
// libx264 B-frame track has M = its first composition offset, and its pts then starts at
// 0). Rates and later edits are ignored. Then one global offset is added to every track
// so that the smallest dts over all tracks is 0: pts relations between the tracks are
// kept, and a track that would start before 0 (video dts with B-frames) delays the other
// instead of going negative. dts never decreases within a track (clamped).
struct Mp4Index {
    rtmp::VideoCodec video = rtmp::VideoCodec::unknown;  // unknown: no video track
    std::vector<uint8_t> video_config;  // avcC / hvcC body (the decoder configuration record)
    uint32_t width = 0, height = 0;     // sample entry, else tkhd
    bool audio = false;                 // an AAC track
    std::vector<uint8_t> asc;           // AudioSpecificConfig (esds DecoderSpecificInfo)
    uint32_t sample_rate = 0;           // from the ASC (output rate), else the sample entry
    uint8_t channels = 0;
    double duration_s = 0;           // end of the last sample of any track; mvhd if no sample
    std::vector<Mp4Sample> samples;  // by dts_ms, then offset
    std::vector<uint32_t> keys;      // indices in samples of video sync samples, ascending
    bool fragmented = false;         // some samples came from movie fragments
};

struct Mp4Limits {
    uint64_t max_moov = 64u << 20;   // the moov is loaded whole
    uint64_t max_moof = 16u << 20;   // so is each moof
    size_t max_samples = 16u << 20;  // both tracks, empty ones too (24 bytes each indexed)
    size_t max_boxes = 1u << 20;     // top-level boxes walked (one pread each)
};

// Reads n bytes at off into p; returns the bytes read (fewer only at end of file), or -1.
struct Mp4ReadAt {
    int64_t (*read)(void* ctx, uint64_t off, uint8_t* p, size_t n) = nullptr;
    void* ctx = nullptr;
};
// A Mp4ReadAt::read over a file descriptor: ctx points to the int fd (pread, EINTR retried).
int64_t mp4_pread_fd(void* ctx, uint64_t off, uint8_t* p, size_t n);

// Builds the index of the first video track (H.264 avc1/avc3, HEVC hvc1/hev1) and the
// first AAC track (mp4a) of the file; other tracks are skipped. Samples come from the
// first moov's sample tables and, when it has mvex, from every moof in the file; a moof
// that is cut short or whose data runs past the end of the file ends the walk, keeping
// the fragments before it. Samples past the end of the file are dropped; a chunk that
// starts past it ends its track. Only the first sample description is used.
// Rc::error with *why (a static string): no moov, moov too large or truncated, no
// supported track ("no H.264, HEVC or AAC track"), malformed sample tables, no sample,
// more than max_samples. *out is reset first.
Rc mp4_read_index(Mp4ReadAt read, uint64_t file_size, const Mp4Limits& lim, Mp4Index* out,
                  const char** why);
// The duration in mvhd only (getStreamLength): the top-level box headers up to the
// first moov and the start of that moov are read, never its sample tables. Rc::error
// when there is no moov or no mvhd in its first 4 KiB; *seconds 0 when it says none.
Rc mp4_read_duration(Mp4ReadAt read, uint64_t file_size, const Mp4Limits& lim, double* seconds);
// The same over a whole file in memory (tests, fuzz target).
Rc mp4_read_index(std::span<const uint8_t> file, const Mp4Limits& lim, Mp4Index* out,
                  const char** why);

}  // namespace strom::mod
