// A fragmented-MP4 muxer (ISO/IEC 14496-12 8.8, "movie fragments"), pure: samples in,
// bytes out, no I/O. It makes an init segment (ftyp + moov with mvex and empty sample
// tables), then one moof + mdat per GOP (or per time/size limit). H.264 (avc1/avcC) and
// HEVC (hvc1/hvcC) video, AAC (mp4a/esds) audio; both tracks use a 1 kHz timescale since
// RTMP timestamps are ms.
// finish() turns the file into a normal, seekable MP4 without moving any media: it appends
// the last fragment and a complete moov (stts/ctts/stss/stsz/stsc/stco or co64 whose chunks
// are the fragments' runs of samples), and close_patches() then retypes the init moov and
// every moof to 'free' in place, leaving ftyp, free, (free mdat)*, moov. For that the sample
// table of the whole file is kept (16 bytes a sample, bounded by max_table_samples; past
// it, or with finalize_moov off, finish() writes an mfra index instead and the file stays
// fragmented, its durations patched into mvhd/mehd).
// Owned by whoever writes the bytes (a recording file, later HTTP playback); one per file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/rc.h"
#include "rtmp/codec.h"

namespace strom {
struct Block;
}

namespace strom::mod {

class Mp4Writer {
public:
    struct Options {
        uint32_t fragment_ms = 0;           // at least this long before cutting at a keyframe
        uint32_t audio_fragment_ms = 1000;  // fragment length without a video track
        uint32_t max_fragment_ms = 10000;   // cut even without a keyframe
        size_t max_fragment_bytes = 32u << 20;
        bool finalize_moov = true;                 // finish() makes a normal MP4
        size_t max_table_samples = size_t(4) << 20;  // ~64 MiB of tables, ~15 h at 75 samples/s
    };
    // A place already written to overwrite on a clean close (a duration, a box type).
    struct Patch {
        uint64_t offset;
        uint8_t size;  // 4 or 8
        uint64_t value;
    };
    using Out = std::vector<uint8_t>;

    Mp4Writer() = default;
    explicit Mp4Writer(const Options& o) : o_(o) {}

    // Track setup, before init_segment(). `record` is the AVC/HEVC decoder configuration
    // record (the body of an FLV sequence header), `asc` the AAC AudioSpecificConfig.
    // Rc::declined: codec not supported in MP4 here; Rc::error: the record does not parse
    // or the tracks are already fixed.
    Rc set_video(rtmp::VideoCodec codec, std::span<const uint8_t> record);
    Rc set_audio_aac(std::span<const uint8_t> asc);
    bool has_video() const { return video_.present; }
    bool has_audio() const { return audio_.present; }
    bool started() const { return started_; }

    // Appends ftyp + moov to `out` and fixes the tracks. Rc::error without any track.
    Rc init_segment(Out* out);

    // One sample: `dts_ms` from the file start (never goes back: earlier ones are clamped),
    // `cts_ms` the composition offset, data as in MP4 (AVC/HEVC: length-prefixed NAL units,
    // as FLV carries them; AAC: one raw access unit). When the sample completes a fragment,
    // that fragment (moof + mdat) is appended to `out` first. Ignored before init_segment()
    // and for a track that is not present.
    void add_video(uint64_t dts_ms, int32_t cts_ms, bool key, std::span<const uint8_t> data,
                   Out* out);
    void add_audio(uint64_t dts_ms, std::span<const uint8_t> data, Out* out);
    // The same with the data taken from `n` bytes at `off` of a chain of pooled blocks.
    void add_video(uint64_t dts_ms, int32_t cts_ms, bool key, const Block* chain, size_t off,
                   size_t n, Out* out);
    void add_audio(uint64_t dts_ms, const Block* chain, size_t off, size_t n, Out* out);

    // Appends the pending fragment, if any, then the final moov (or, without the sample
    // table, an mfra: random access index of the fragments that start with a sync sample)
    // to `out`. Nothing is accepted afterwards.
    void finish(Out* out);
    // What to overwrite once finish()'s bytes are written, in this order. With the final
    // moov: every moof's type, then the init moov's, become 'free' (the last patch is the
    // one that makes the file a plain MP4 to a reader that takes the first moov). Without:
    // mvhd duration and mehd fragment_duration (the durations of a fragmented file).
    std::vector<Patch> close_patches() const;
    bool final_moov() const { return final_moov_; }

    uint64_t duration_ms() const;              // end of the last sample of any track
    uint64_t bytes() const { return bytes_; }  // everything appended to outs so far
    size_t pending_bytes() const { return video_.data.size() + audio_.data.size(); }
    uint32_t fragments() const { return seq_; }

private:
    struct Sample {
        uint32_t size;
        uint32_t duration;
        int32_t cts;
        bool key;
    };
    // The samples of one fragment's run in a track: a chunk of the final moov.
    struct Chunk {
        uint64_t offset;  // of the first sample's data in the file
        uint32_t first;   // index in Track::table
    };
    struct Track {
        bool present = false;
        uint32_t id = 0;
        uint32_t fourcc = 0;          // sample entry type: avc1, hvc1, mp4a
        uint32_t config_box = 0;      // avcC, hvcC, esds
        std::vector<uint8_t> config;  // record / ASC
        uint32_t width = 0, height = 0;
        uint32_t sample_rate = 0;
        uint8_t channels = 0;
        // The fragment being collected: samples, their data, first and last dts.
        std::vector<Sample> samples;
        std::vector<uint8_t> data;
        uint64_t base_dts = 0;
        uint64_t last_dts = 0;
        uint32_t last_duration = 0;
        bool any = false;  // a sample was ever added (last_dts is valid)
        uint64_t end = 0;  // dts after the last sample flushed
        // Every flushed sample and the chunks they are in (final moov).
        std::vector<Sample> table;
        std::vector<Chunk> chunks;
        uint64_t first_dts = 0;
    };
    struct RandomAccess {
        uint64_t time;
        uint64_t moof_offset;
    };

    uint8_t* add_sample(Track& t, uint64_t dts, int32_t cts, bool key, size_t n, Out* out);
    bool fragment_due(const Track& t, uint64_t dts, bool key) const;
    void flush(Out* out);
    void write_trak(Out& b, const Track& t, bool final) const;
    void write_minf(Out& b, const Track& t, bool final) const;
    void write_stsd(Out& b, const Track& t) const;
    void write_tables(Out& b, const Track& t) const;
    void drop_tables();
    void write_final_moov(Out* out);
    void write_traf(Out& b, Track& t, std::vector<size_t>* offset_at) const;
    void write_mfra(Out* out) const;
    void emit(Out* out, const Out& bytes);

    Options o_;
    Track video_;
    Track audio_;
    bool started_ = false;
    bool finished_ = false;
    uint32_t seq_ = 0;  // mfhd sequence_number of the last fragment
    uint64_t bytes_ = 0;
    uint64_t mvhd_duration_at_ = 0;
    uint64_t mehd_duration_at_ = 0;
    uint64_t moov_at_ = 0;           // the init segment's moov
    bool tables_ = true;             // keeping the sample tables
    bool final_moov_ = false;        // finish() wrote the final moov
    std::vector<uint64_t> moofs_;    // every moof's offset (retyped on close)
    std::vector<RandomAccess> index_;
    uint32_t index_stride_ = 1;  // keep every stride-th fragment once the index is full
    uint32_t index_seen_ = 0;
};

}  // namespace strom::mod
