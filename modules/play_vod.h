// One VOD player: an FLV file sent to one NetStream in real time with a small lead
// (play_buffer), from a start position (the keyframe at or before it), for an optional
// duration, with pause and seek. File reads are pread()s bounded per loop iteration (a
// byte and tag budget), and continue from a timer, so a large file on a slow disk never
// holds up the live streams of the worker. Each player has its own fd and read buffer; the
// file is never loaded whole. Owned by the play module through NetStream::ctx[play];
// dies when the stream ends (on_close_stream).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/buf.h"
#include "core/rc.h"
#include "core/timer.h"
#include "core/unique_fd.h"
#include "rtmp/session.h"

namespace strom::mod {

// The keyframe index of an FLV file: (timestamp ms, tag offset), ascending.
using FlvKeyIndex = std::vector<std::pair<uint32_t, uint64_t>>;

// What the first tags of an FLV file say: metadata, sequence headers, the first tag's
// offset, duration and keyframe index from onMetaData when present. Pure over bytes, for
// the tests and the fuzz target: `head` is the start of the file (any length).
struct FlvFileInfo {
    uint64_t first_tag = 0;      // offset of the first tag header
    uint64_t media_start = 0;    // offset of the first audio/video tag that is not a seq header
    std::string meta;            // onMetaData body, empty if none
    std::string video_seq;       // sequence header payloads, empty if none
    std::string audio_seq;
    double duration_s = 0;       // from onMetaData
    FlvKeyIndex index;           // from onMetaData keyframes {times, filepositions}
};
Rc flv_probe_head(std::span<const uint8_t> head, uint64_t file_size, FlvFileInfo* out, const char** why);

class VodPlayer final : public rtmp::PlayControl {
public:
    VodPlayer(rtmp::Session& s, rtmp::NetStream& ns, UniqueFd fd, uint64_t size, uint64_t lead_ms);
    ~VodPlayer();
    VodPlayer(const VodPlayer&) = delete;
    VodPlayer& operator=(const VodPlayer&) = delete;

    // Reads the head of the file. Rc::error with *why when it is not a playable FLV file.
    Rc open(const char** why);
    // Starts at start_ms (< 0: the beginning) for duration_ms (< 0: to the end).
    void start(double start_ms, double duration_ms);
    double duration_s() const { return info_.duration_s; }

    void pause(rtmp::Session& s, rtmp::NetStream& ns, bool paused, double ms) override;
    Rc seek(rtmp::Session& s, rtmp::NetStream& ns, double ms) override;

private:
    enum class State : uint8_t { idle, scanning, playing, done };
    struct TagHead {
        uint8_t type = 0;
        uint32_t size = 0;
        uint32_t ts = 0;
        uint8_t first = 0;   // first body byte (video: frame type and codec)
    };

    bool read_head(uint64_t off, TagHead* h);
    void go_to(uint32_t target_ms);
    void begin_at(uint64_t off, uint32_t ts);
    void scan();
    void pump();
    bool send(uint8_t type, uint32_t ts, const uint8_t* p, size_t n);
    bool send_string(uint8_t type, uint32_t ts, const std::string& body);
    void finish();
    void arm(uint64_t ms);
    static void on_timer(Timer& t);

    rtmp::Session& s_;
    rtmp::NetStream& ns_;
    UniqueFd fd_;
    uint64_t size_;
    uint64_t lead_ms_;
    FlvFileInfo info_;
    State state_ = State::idle;
    uint64_t pos_ = 0;            // next tag to send (or to scan)
    uint32_t target_ = 0;         // scanning: the seek target
    uint64_t best_key_ = 0;       // scanning: last keyframe at or before the target
    uint32_t best_ts_ = 0;
    uint32_t clock_ts_ = 0;       // file time at clock_ms_
    uint64_t clock_ms_ = 0;
    uint32_t last_ts_ = 0;
    double end_ms_ = -1;          // stop after this file time (play duration)
    uint64_t bytes_ = 0;
    bool paused_ = false;
    std::vector<uint8_t> buf_;    // one tag body
    Timer timer_;
};

}  // namespace strom::mod
