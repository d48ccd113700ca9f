// One FLV file being recorded. Every tag is one append to a FileSink: written behind the
// loop by a writer thread (or at once without a loop) in one writev, never split, so
// after a crash or `kill -9` the file is valid up to its last complete tag. The file opens with an onMetaData tag of a fixed, reserved size; on a
// clean close that tag is rewritten in place (pwrite) with the duration, the file size and
// a keyframe index {times, filepositions}, so players seek without an indexing tool
// (the idea of yamdi, without rewriting the file). Owned by a Recorder; one per open file.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/buf.h"
#include "core/file_sink.h"
#include "core/rc.h"

namespace strom::mod {

// Keyframe index entries kept in a file's reserved metadata; beyond that the index is
// thinned evenly (every 2nd, 4th, ... keyframe), so memory and header size stay bounded.
inline constexpr uint32_t kFlvIndexCapacity = 1024;

// The onMetaData body written into a recording: the publisher's own properties (from its
// onMetaData body, AMF0 "onMetaData" + object or ECMA array; empty or undecodable means
// none) minus the ones we own, then duration (s), filesize (bytes) and keyframes
// {times (s), filepositions (tag offsets)}. With pad_to != 0 the body is padded to exactly
// pad_to bytes with a "padding" array of nulls (pad_to must be >= the natural size + 14).
std::string flv_meta_body(std::string_view publisher_meta, double duration_s, double filesize,
                          std::span<const double> times, std::span<const double> positions,
                          size_t pad_to = 0);
// The body size to reserve so an index of `capacity` entries fits later.
size_t flv_meta_reserve(std::string_view publisher_meta, uint32_t capacity);

class FlvFileWriter {
public:
    struct Options {
        bool audio = true;     // header TypeFlags
        bool video = true;
        bool append = false;   // continue an existing file (its timestamps go on)
        uint32_t index_capacity = kFlvIndexCapacity;
        EventLoop* loop = nullptr;          // write behind this loop; null: synchronous
        size_t max_queue = 0;               // bytes queued at most (0: no bound)
        FileSinkHandler* handler = nullptr; // told of a queued write that failed
    };

    FlvFileWriter() = default;
    FlvFileWriter(const FlvFileWriter&) = delete;
    FlvFileWriter& operator=(const FlvFileWriter&) = delete;
    ~FlvFileWriter();   // an open file is closed without finalizing

    // Creates (truncates) or, with o.append, extends `path`. Rc::error with errno set and
    // *what naming the failed step ("open", "write", "read").
    Rc open(const std::string& path, const Options& o, std::string_view publisher_meta,
            const char** what);
    // One tag; `ts` is relative to the file start (append_base() already added by the caller
    // when appending). Rc::error with errno set when the write fails; Rc::again when the
    // sink's queue is full (the tag is not in the file).
    Rc write(uint8_t type, uint32_t ts, const Block* payload, bool keyframe, const char** what);
    Rc write(uint8_t type, uint32_t ts, std::span<const uint8_t> payload, bool keyframe,
             const char** what);
    // Closes the file; with finalize, first rewrites the reserved onMetaData (after every
    // queued tag). `done`, if given, is told when the file is really closed.
    Rc close(bool finalize, const char** what, FileSinkClosed* done = nullptr);

    bool is_open() const { return sink_.is_open(); }
    size_t queued_bytes() const { return sink_.queued_bytes(); }
    const std::string& path() const { return path_; }
    uint64_t size() const { return size_; }
    uint32_t last_ts() const { return last_ts_; }
    // When appending: the last timestamp already in the file (new tags go after it).
    uint32_t append_base() const { return append_base_; }
    size_t keyframes() const { return kf_times_.size(); }

private:
    Rc read_append_base(int fd, const char** what);
    void note_keyframe(uint32_t ts, uint64_t pos);
    Rc append(std::span<const uint8_t> head, const Block* chain, std::span<const uint8_t> tail,
              const char** what);

    FileSink sink_;
    std::string path_;
    std::string publisher_meta_;
    uint64_t size_ = 0;
    uint64_t meta_offset_ = 0;   // offset of the reserved tag's body; 0 = none (append)
    size_t meta_reserve_ = 0;
    uint32_t capacity_ = kFlvIndexCapacity;
    uint32_t stride_ = 1;        // keep every stride-th keyframe in the index
    uint32_t kf_seen_ = 0;
    uint32_t last_ts_ = 0;
    uint32_t append_base_ = 0;
    std::vector<double> kf_times_;
    std::vector<double> kf_pos_;
};

}  // namespace strom::mod
