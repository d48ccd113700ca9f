// One fragmented MP4 file being recorded: RTMP audio/video messages (FLV tag bodies) go in,
// an Mp4Writer turns them into an init segment and fragments, and each piece is one append
// to a FileSink (written behind the loop, or at once without one), whole, so after a crash or `kill -9` the file plays up to its last
// complete fragment. Sequence headers received before the first coded frame choose the
// tracks; the init segment is written with that frame. A clean close writes the last
// fragment and a complete moov, then retypes the moofs and the init moov to 'free' in
// place (queued pwrites, after every fragment): a normal seekable MP4, no media moved
// (Mp4Writer::finish). The queue bound is checked before a sample enters the muxer, so
// every byte the index counts reaches the file.
// Owned by a Recorder; one per open file. Same surface as FlvFileWriter.
#pragma once

#include <cstdint>
#include <string>

#include "core/buf.h"
#include "core/file_sink.h"
#include "core/rc.h"
#include "modules/mp4_writer.h"

namespace strom::mod {

class Mp4FileWriter {
public:
    struct Options {
        bool audio = true;  // tracks wanted
        bool video = true;
        EventLoop* loop = nullptr;          // write behind this loop; null: synchronous
        size_t max_queue = 0;               // bytes queued at most (0: no bound)
        FileSinkHandler* handler = nullptr; // told of a queued write that failed
    };

    Mp4FileWriter() = default;
    Mp4FileWriter(const Mp4FileWriter&) = delete;
    Mp4FileWriter& operator=(const Mp4FileWriter&) = delete;
    ~Mp4FileWriter();  // an open file is closed without finalizing

    // Creates (truncates) `path`. Rc::error with errno set and *what naming the step.
    Rc open(const std::string& path, const Options& o, const char** what);
    // One RTMP message of `type` (8 audio, 9 video; others are ignored), `ts` ms from the
    // file start. Codecs other than H.264/HEVC/AAC, and a track whose sequence header
    // came after the init segment, are left out. Rc::error with errno set on a failed write;
    // Rc::again when the sink's queue is full (the sample is left out).
    Rc write(uint8_t type, uint32_t ts, const Block* payload, bool keyframe, const char** what);
    // Closes the file; with finalize, first the last fragment, the final moov and patches.
    // Queues the last fragment, the final moov and the patches (once; close(true) does it
    // if not done yet). size() then counts them.
    Rc finish(const char** what);
    // `done`, if given, is told when the file is really closed.
    Rc close(bool finalize, const char** what, FileSinkClosed* done = nullptr);

    bool is_open() const { return sink_.is_open(); }
    size_t queued_bytes() const { return sink_.queued_bytes(); }
    const std::string& path() const { return path_; }
    // Written bytes plus the media of the fragment being collected (rotation by size).
    uint64_t size() const { return mux_.bytes() + mux_.pending_bytes(); }
    uint32_t last_ts() const { return last_ts_; }
    uint32_t append_base() const { return 0; }  // fragmented MP4 is never appended to

private:
    Rc set_config(uint8_t type, const Block* payload);
    Rc start(const char** what);
    Rc put(const char** what);
    bool full(const Block* payload, const char** what) const;

    FileSink sink_;
    std::string path_;
    Options o_;
    Mp4Writer mux_;
    Mp4Writer::Out out_;  // bytes to write (capacity reused)
    bool failed_start_ = false;
    bool finished_ = false;
    uint32_t last_ts_ = 0;
};

}  // namespace strom::mod
