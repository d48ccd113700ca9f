// The recording state of one published stream (RecordStream, kept in the LiveStream's
// ctx[record]) and one recorder writing it to files (Recorder). The stream caches what every new
// file must start with (metadata, sequence headers); each recorder filters by its `record` flags,
// opens a file on the first frame it can start on (a keyframe when there is video), and rotates at
// the first keyframe after a size, frame or interval limit. Both die when the stream's source
// leaves (the unpublished event), which closes every file cleanly. Files are written behind the
// loop (FileSink): a disk that cannot keep up fills the recorder's queue (record_max_queue) and
// stops that recorder, never the live stream; "done" (and record_done, exec_record_done) come once
// a closed file is all on disk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/buf.h"
#include "media/frame.h"
#include "modules/flv_file_writer.h"
#include "modules/mp4_file_writer.h"
#include "modules/record_module.h"
#include "rtmp/session.h"

namespace strom::mod {

class RecordStream;

// Pure rotation rule, shared with the tests: is a new file due before a frame at
// `rel_ms` (ms since the file start) given the file's size and frame count so far?
struct RotationLimits {
    uint64_t max_size = 0;     // 0 = none
    uint64_t max_frames = 0;
    uint64_t interval = 0;     // ms
};
bool rotation_due(const RotationLimits& l, uint64_t size, uint64_t frames, uint32_t rel_ms);

class Recorder final : private FileSinkHandler {
public:
    Recorder(RecordStream& st, const RecordConf& conf) : st_(st), c_(conf) {}
    ~Recorder();

    // Arms the recorder: the file opens on the next frame it can start on.
    void start();
    // Closes the current file cleanly (record done) and disarms.
    void stop();
    void on_frame(const media::Frame& f);

    const RecordConf& conf() const { return c_; }
    bool armed() const { return state_ == State::waiting || state_ == State::recording; }
    const std::string& file() const { return path_; }
    unsigned files() const { return files_; }

private:
    enum class State : uint8_t { idle, waiting, recording, failed };

    bool make_path(std::string* out);
    bool open_file(uint32_t ts);
    void close_file();
    void fail(const char* what);
    void overflow();
    void on_sink_error(FileSink& s, int err, const char* what) override;
    bool write(uint8_t type, uint32_t ts, const Block* payload, bool key);
    uint32_t rel(uint32_t ts) const;
    void notify(const char* code);
    // record_format: the FLV writer or the fragmented-MP4 one, same surface.
    bool mp4() const { return *c_.format == RecordFormat::mp4; }
    bool file_open() const { return mp4() ? mp4_.is_open() : flv_.is_open(); }
    uint64_t file_size() const { return mp4() ? mp4_.size() : flv_.size(); }
    uint32_t file_last_ts() const { return mp4() ? mp4_.last_ts() : flv_.last_ts(); }
    size_t file_queued() const { return mp4() ? mp4_.queued_bytes() : flv_.queued_bytes(); }
    Rc file_close(bool finalize, const char** what, FileSinkClosed* done = nullptr)
    {
        return mp4() ? mp4_.close(finalize, what, done) : flv_.close(finalize, what, done);
    }

    RecordStream& st_;
    const RecordConf& c_;
    State state_ = State::idle;
    FlvFileWriter flv_;
    Mp4FileWriter mp4_;
    std::string path_;
    uint32_t base_ts_ = 0;     // stream timestamp of the file's first frame
    uint32_t ts_offset_ = 0;   // where that frame goes in the file (appending: after the end)
    uint64_t frames_ = 0;
    unsigned files_ = 0;
};

// The recordings of one published stream. Its source is a local RTMP publisher (which
// also hears record_notify statuses) or a pull from another worker or server (publisher
// null): the frames are the same.
class RecordStream {
public:
    RecordStream(EventLoop& loop, uint64_t log_id, std::string app, std::string name,
                 rtmp::Session* publisher, rtmp::NetStream* ns, bool append);
    ~RecordStream();

    void add(const RecordConf& conf);
    void on_frame(const media::Frame& f);
    Recorder* find(std::string_view recorder);
    void stop_all();

    EventLoop& loop() { return *loop_; }
    uint64_t log_id() const { return log_id_; }
    rtmp::Session* publisher() { return s_; }        // nullptr for a pull
    rtmp::NetStream* stream() { return ns_; }
    const std::string& app() const { return app_; }
    const std::string& name() const { return name_; }
    bool append() const { return append_; }
    std::string_view meta() const { return meta_; }
    const BufRef& video_seq() const { return vseq_; }
    const BufRef& audio_seq() const { return aseq_; }
    // The stream carries video (seen, or announced by onMetaData).
    bool has_video() const { return video_seen_ || meta_video_; }

private:
    EventLoop* loop_;
    uint64_t log_id_;
    rtmp::Session* s_;
    rtmp::NetStream* ns_;
    std::string app_;
    std::string name_;
    bool append_;
    std::string meta_;    // the onMetaData body (rare and small: copied)
    BufRef vseq_;
    BufRef aseq_;
    bool video_seen_ = false;
    bool meta_video_ = false;
    std::vector<std::unique_ptr<Recorder>> recorders_;
};

}  // namespace strom::mod
