// One VOD player: an FLV or MP4 file sent to one NetStream in real time with a small lead
// (play_buffer), from a start position (the keyframe at or before it), for an optional
// duration, with pause and seek. The file format is behind a VodSource (FLV tags, MP4
// samples) that yields RTMP message bodies one at a time; the player paces them. File
// reads are bounded per loop iteration (a byte and item budget) and never wait for the
// disk on the worker's thread (what is not in memory is read by the helper thread, and
// the player goes on when it is in), so a large file on a slow disk never holds up the
// live streams of the worker. Each player has its own fd, position and one-message read buffer; the file is
// never loaded whole, and the players of one MP4 file share its parsed sample index.
// Owned by the play module through NetStream::ctx[play]; dies when the stream ends.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/buf.h"
#include "core/event_loop.h"
#include "core/rc.h"
#include "core/timer.h"
#include "core/unique_fd.h"
#include "modules/vod_file.h"
#include "rtmp/session.h"

namespace strom::mod {

struct Mp4Index;

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

// What a player sends before the media, from the file's head or index: onMetaData and
// the sequence headers as RTMP message bodies (empty when absent), and the duration.
struct VodHeaders {
    std::string meta;
    std::string video_seq;
    std::string audio_seq;
    double duration_s = 0;
};

// The next message of a file: RTMP type (8, 9, 18), timestamp, body size.
struct VodItem {
    uint8_t type = 0;
    uint32_t ts = 0;
    uint32_t size = 0;
};

// A file format as the player sees it: a cursor over messages. Its file reads never wait
// for the disk (modules/vod_file.h): Rc::again means "not in memory yet", and the waiter
// given to attach() is told when the call can be made again.
class VodSource {
public:
    virtual ~VodSource() = default;
    virtual void attach(EventLoop* loop, VodFileWaiter* w) = 0;
    virtual bool waiting() const = 0;   // a read is in flight: wait for the waiter
    // Reads what the file starts with (FLV head; an MP4 index is given). Rc::error with *why.
    virtual Rc open(const char** why) = 0;
    virtual const VodHeaders& headers() const = 0;
    // Moves to the keyframe at or before target_ms (the first message for 0); *ts is its
    // time. Rc::again: more work to do (bounded per call), call again next iteration.
    virtual Rc seek(uint32_t target_ms, uint32_t* ts) = 0;
    // The message at the cursor: Rc::ok, or Rc::done at the end of the file (or a
    // cut-off message), or Rc::again.
    virtual Rc peek(VodItem* it) = 0;
    // Its body (peek() first, VodItem::size bytes) into the start of *buf, which only
    // grows (no zero-filling per message): Rc::ok, Rc::again, or Rc::error.
    virtual Rc read(std::vector<uint8_t>* buf) = 0;
    virtual void next() = 0;
};

enum class VodFormat : uint8_t { flv, mp4 };

// The source for an open file; `st` is its fstat (MP4 indexes are shared by identity).
// An MP4 source uses `idx` when given, else the shared index of the file (read now if
// nobody holds it).
std::unique_ptr<VodSource> make_vod_source(VodFormat f, UniqueFd fd, const struct stat& st,
                                           std::shared_ptr<const Mp4Index> idx = nullptr);
std::unique_ptr<VodSource> make_mp4_source(UniqueFd fd, const struct stat& st,
                                           std::shared_ptr<const Mp4Index> idx);   // play_mp4.cc

// The sample index of an MP4 file, shared by every player of it in this worker while any
// holds it (keyed by device, inode, size and mtime). nullptr and *why when it cannot be
// read. When no player holds it yet, it is read here, synchronously: players go through
// mp4_index_async() first so that this finds it shared.
std::shared_ptr<const Mp4Index> mp4_shared_index(int fd, const struct stat& st, const char** why);

// The shared index of a file when some player holds it; nullptr otherwise.
std::shared_ptr<const Mp4Index> mp4_cached_index(const struct stat& st);

// Told, from the event loop, that an index read on the helper thread is ready (idx) or
// could not be read (nullptr, why).
class Mp4IndexWaiter {
public:
    virtual void index_ready(std::shared_ptr<const Mp4Index> idx, const char* why) = 0;

protected:
    ~Mp4IndexWaiter() = default;
};

// The index of the file open as fd without blocking the worker: Rc::ok with *out when it
// is shared already; Rc::again when it is being read (moov, moofs) on the worker's helper
// thread, one file at a time, every waiter of a file told once it is done, unless
// mp4_index_cancel(w) first; a file read synchronously when the helper cannot run (Rc::ok
// or Rc::error with *why).
Rc mp4_index_async(EventLoop& loop, int fd, const struct stat& st, Mp4IndexWaiter* w,
                   std::shared_ptr<const Mp4Index>* out, const char** why);
void mp4_index_cancel(Mp4IndexWaiter* w);

// An MP4 sample index as RTMP: onMetaData, AVC/HEVC (E-RTMP) and AAC sequence headers,
// and a sample's message header bytes (the body is that header + the sample data).
VodHeaders mp4_headers(const Mp4Index& idx);
size_t mp4_message_header(const Mp4Index& idx, uint8_t type, bool key, int32_t cts, uint8_t out[8]);

class VodPlayer final : public rtmp::PlayControl, VodFileWaiter {
public:
    // src has been opened.
    VodPlayer(rtmp::Session& s, rtmp::NetStream& ns, std::unique_ptr<VodSource> src, uint64_t lead_ms);
    ~VodPlayer();
    VodPlayer(const VodPlayer&) = delete;
    VodPlayer& operator=(const VodPlayer&) = delete;

    // Starts at start_ms (< 0: the beginning) for duration_ms (< 0: to the end).
    void start(double start_ms, double duration_ms);
    double duration_s() const { return src_->headers().duration_s; }

    void pause(rtmp::Session& s, rtmp::NetStream& ns, bool paused, double ms) override;
    Rc seek(rtmp::Session& s, rtmp::NetStream& ns, double ms) override;
    void file_ready() override { arm(0); }

private:
    enum class State : uint8_t { idle, seeking, playing, done };

    void go_to(uint32_t target_ms);
    void begin_at(uint32_t ts);
    void pump();
    bool send(uint8_t type, uint32_t ts, const uint8_t* p, size_t n);
    bool send_string(uint8_t type, uint32_t ts, const std::string& body);
    void finish();
    void arm(uint64_t ms);
    static void on_timer(Timer& t);

    rtmp::Session& s_;
    rtmp::NetStream& ns_;
    std::unique_ptr<VodSource> src_;
    uint64_t lead_ms_;
    State state_ = State::idle;
    uint32_t target_ = 0;         // seeking: the target
    uint32_t clock_ts_ = 0;       // file time at clock_ms_
    uint64_t clock_ms_ = 0;
    uint32_t last_ts_ = 0;
    double end_ms_ = -1;          // stop after this file time (play duration)
    uint64_t bytes_ = 0;
    bool paused_ = false;
    std::vector<uint8_t> buf_;    // one message body (sized for the largest so far)
    Timer timer_;
};

}  // namespace strom::mod
