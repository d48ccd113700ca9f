#include "modules/record_recorder.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/log.h"
#include "modules/safe_path.h"
#include "rtmp/message.h"

namespace strom::mod {

namespace frame_type = media::frame_type;
namespace msg_type = rtmp::msg_type;

bool rotation_due(const RotationLimits& l, uint64_t size, uint64_t frames, uint32_t rel_ms)
{
    return (l.max_size && size >= l.max_size) || (l.max_frames && frames >= l.max_frames) ||
           (l.interval && rel_ms >= l.interval);
}

// --- Recorder ---------------------------------------------------------------------------------

Recorder::~Recorder() { close_file(); }

void Recorder::start()
{
    if (state_ == State::waiting || state_ == State::recording) return;
    state_ = State::waiting;
}

void Recorder::stop()
{
    close_file();
    state_ = State::idle;
}

uint32_t Recorder::rel(uint32_t ts) const
{
    // Audio may come a little before the first video frame: never go below the start.
    int32_t d = int32_t(ts - base_ts_);
    return ts_offset_ + uint32_t(d > 0 ? d : 0);
}

void Recorder::on_frame(const media::Frame& f)
{
    if (state_ != State::waiting && state_ != State::recording) return;
    uint32_t mode = *c_.mode;
    bool want_video = mode & (record_mode::video | record_mode::keyframes);
    bool want_audio = mode & record_mode::audio;
    bool is_video = f.type == frame_type::video;
    uint32_t ts = f.ts;
    if (f.type == frame_type::data) {
        // Before the file opens it goes into the reserved header; later ones inline.
        if (state_ == State::recording) write(f.type, rel(ts), f.payload.get(), false);
        return;
    }
    if ((is_video && !want_video) || (f.type == frame_type::audio && !want_audio)) return;
    if (f.config) {
        // A new file gets the cached one; an open file takes a codec change inline.
        if (state_ == State::recording) write(f.type, rel(ts), f.payload.get(), false);
        return;
    }
    bool key = is_video && f.key;
    if (is_video && !(mode & record_mode::video) && !key) return;  // keyframes only
    bool video = want_video && st_.has_video();
    if (state_ == State::waiting) {
        if (video && !key) return;   // every file starts on a keyframe
        if (!open_file(ts)) return;
    } else {
        RotationLimits l{*c_.max_size, *c_.max_frames, *c_.interval};
        if ((key || !video) && rotation_due(l, file_size(), frames_, rel(ts) - ts_offset_)) {
            close_file();
            state_ = State::waiting;
            if (!open_file(ts)) return;
        }
    }
    if (!write(f.type, rel(ts), f.payload.get(), key)) return;
    if (is_video || !video) ++frames_;
}

bool Recorder::write(uint8_t type, uint32_t ts, const Block* payload, bool key)
{
    const char* what = "write";
    Rc rc = mp4() ? mp4_.write(type, ts, payload, key, &what) : flv_.write(type, ts, payload, key, &what);
    if (rc == Rc::ok) return true;
    if (rc == Rc::again) {
        overflow();
    } else {
        fail(what);
    }
    return false;
}

bool Recorder::make_path(std::string* out)
{
    std::string root;
    if (!expand_name_vars(*c_.path, st_.app(), st_.name(), &root)) return false;
    char sfx[256];
    time_t now = time(nullptr);
    struct tm tmv;
    localtime_r(&now, &tmv);
    size_t n = c_.suffix->empty() ? 0 : strftime(sfx, sizeof sfx, c_.suffix->c_str(), &tmv);
    std::string suffix(sfx, n);
    std::string stamp = *c_.unique ? "-" + std::to_string((long long)now) : std::string();
    if (!safe_join(root, st_.name(), stamp + suffix, out)) return false;
    // A rotation must not overwrite the file it just closed (same second, no strftime).
    // MP4 files are never appended to: an append request gets a new name instead.
    bool append = *c_.append || st_.append();
    bool fresh = files_ > 0 || (append && mp4());
    if (mp4()) append = false;
    for (unsigned k = 1; fresh && !append && access(out->c_str(), F_OK) == 0 && k < 10000; ++k) {
        if (!safe_join(root, st_.name(), stamp + "-" + std::to_string(k) + suffix, out)) return false;
    }
    return true;
}

bool Recorder::open_file(uint32_t ts)
{
    std::string path;
    if (!make_path(&path)) {
        STROM_LOG(error, st_.log_id(), "record \"%s/%s\": the name cannot be made a file name, recorder \"%s\" stopped",
                  st_.app().c_str(), st_.name().c_str(), c_.name.c_str());
        state_ = State::failed;
        return false;
    }
    uint32_t mode = *c_.mode;
    FlvFileWriter::Options o;
    o.audio = mode & record_mode::audio;
    o.video = mode & (record_mode::video | record_mode::keyframes);
    o.append = *c_.append || st_.append();
    path_ = path;
    o.loop = &st_.loop();
    o.max_queue = size_t(*c_.max_queue);
    o.handler = this;
    Mp4FileWriter::Options mo{o.audio, o.video, o.loop, o.max_queue, o.handler};
    const char* what = "open";
    Rc rc = mp4() ? mp4_.open(path, mo, &what) : flv_.open(path, o, st_.meta(), &what);
    if (rc != Rc::ok) {
        fail(what);
        return false;
    }
    state_ = State::recording;
    base_ts_ = ts;
    ts_offset_ = mp4() ? 0 : flv_.append_base();
    frames_ = 0;
    ++files_;
    if (o.video && st_.video_seq() && !write(msg_type::video, ts_offset_, st_.video_seq().get(), false)) return false;
    if (o.audio && st_.audio_seq() && !write(msg_type::audio, ts_offset_, st_.audio_seq().get(), false)) return false;
    STROM_LOG(info, st_.log_id(), "record \"%s/%s\"%s%s%s to \"%s\"", st_.app().c_str(), st_.name().c_str(),
              c_.name.empty() ? "" : " (recorder \"", c_.name.c_str(), c_.name.empty() ? "" : "\")", path.c_str());
    notify("NetStream.Record.Start");
    return true;
}

namespace {

// A closed file on its way to the disk: when the writer has written all of it, the
// "done" line and the record_done event (exec_record_done), with what they need copied,
// as the recorder and its session may be gone by then.
class RecordClosed final : public FileSinkClosed {
public:
    RecordClosed(const RecordConf& c, const RecordDone& ev, EventLoop& loop)
        : c_(c), app_(ev.app), name_(ev.name), recorder_(ev.recorder), path_(ev.path), ev_(ev), loop_(loop)
    {
        ev_.app = app_;
        ev_.name = name_;
        ev_.recorder = recorder_;
        ev_.path = path_;
    }

    void on_sink_closed(int err, const char* what) override
    {
        if (err) {
            STROM_LOG(warn, ev_.session_id,
                      "record \"%s/%s\": %s \"%s\" failed: %s (the file stays playable, without an index)",
                      app_.c_str(), name_.c_str(), what, path_.c_str(), strerror(err));
        }
        STROM_LOG(info, ev_.session_id, "record \"%s/%s\" done: \"%s\", %llu bytes, %ums", app_.c_str(),
                  name_.c_str(), path_.c_str(), (unsigned long long)ev_.bytes, ev_.duration_ms);
        record_module.record_done(c_, ev_, loop_);
        delete this;
    }

private:
    const RecordConf& c_;
    std::string app_, name_, recorder_, path_;
    RecordDone ev_;
    EventLoop& loop_;
};

}  // namespace

void Recorder::close_file()
{
    if (!file_open()) return;
    const char* what = "";
    // MP4: the last fragment and the index first, so the size counts them.
    Rc rc = mp4() ? mp4_.finish(&what) : Rc::ok;
    RecordDone ev;
    ev.session_id = st_.log_id();
    ev.app = st_.app();
    ev.name = st_.name();
    ev.recorder = c_.name;
    ev.path = path_;
    ev.bytes = file_size();
    ev.duration_ms = file_last_ts() - ts_offset_;
    if (rc != Rc::ok) {   // only without a writer thread: queued errors come to RecordClosed
        STROM_LOG(warn, st_.log_id(), "record \"%s/%s\": %s \"%s\" failed: %s (the file stays playable, without an index)",
                  st_.app().c_str(), st_.name().c_str(), what, path_.c_str(), strerror(errno));
    }
    (void)file_close(true, &what, new RecordClosed(c_, ev, st_.loop()));
    notify("NetStream.Record.Stop");
}

// A disk error: one line, this recorder stops, the stream and its players go on.
void Recorder::fail(const char* what)
{
    int err = errno;
    STROM_LOG(error, st_.log_id(), "record \"%s/%s\": %s \"%s\" failed: %s; recorder \"%s\" stopped",
              st_.app().c_str(), st_.name().c_str(), what, path_.c_str(), strerror(err), c_.name.c_str());
    const char* ignored = "";
    (void)file_close(true, &ignored);   // the index still fits in space already written
    state_ = State::failed;
    notify("NetStream.Record.Failed");
}

// The disk does not keep up: the queue is full. The file keeps what was queued (and its
// index, queued after it); this recorder stops; the live stream never waited.
void Recorder::overflow()
{
    STROM_LOG(error, st_.log_id(), "record \"%s/%s\": disk too slow, %.1f MiB queued, recording stopped",
              st_.app().c_str(), st_.name().c_str(), double(file_queued()) / (1024.0 * 1024.0));
    const char* ignored = "";
    (void)file_close(true, &ignored);
    state_ = State::failed;
    notify("NetStream.Record.Failed");
}

// A queued write failed on the writer thread, told here on the loop thread.
void Recorder::on_sink_error(FileSink&, int err, const char* what)
{
    if (state_ != State::recording) return;
    errno = err;
    fail(what);
}

void Recorder::notify(const char* code)
{
    rtmp::Session* s = st_.publisher();
    if (!*c_.notify || !s || !st_.stream() || s->conn().closing()) return;
    bool failed = strcmp(code, "NetStream.Record.Failed") == 0;
    rtmp::AmfValue info = rtmp::AmfValue::object({{"level", failed ? "error" : "status"},
                                                  {"code", code},
                                                  {"description", path_},
                                                  {"recorder", c_.name}});
    (void)s->send_status_raw(st_.stream()->msid, info);
}

// --- RecordStream -----------------------------------------------------------------------------

RecordStream::RecordStream(EventLoop& loop, uint64_t log_id, std::string app, std::string name,
                           rtmp::Session* publisher, rtmp::NetStream* ns, bool append)
    : loop_(&loop), log_id_(log_id), s_(publisher), ns_(ns), app_(std::move(app)),
      name_(std::move(name)), append_(append)
{
}

RecordStream::~RecordStream() { stop_all(); }

void RecordStream::add(const RecordConf& conf)
{
    recorders_.push_back(std::make_unique<Recorder>(*this, conf));
    if (!(*conf.mode & record_mode::manual)) recorders_.back()->start();
}

Recorder* RecordStream::find(std::string_view recorder)
{
    for (auto& r : recorders_) {
        if (r->conf().name == recorder) return r.get();
    }
    return nullptr;
}

void RecordStream::stop_all()
{
    for (auto& r : recorders_) r->stop();
}

void RecordStream::on_frame(const media::Frame& f)
{
    if (f.type == frame_type::data) {
        meta_.resize(f.len);
        chain_copy(f.payload.get(), 0, meta_.data(), meta_.size());
        static constexpr char kVideoCodecId[] = "\x00\x0cvideocodecid";
        meta_video_ = meta_.find(std::string_view(kVideoCodecId, 14)) != std::string::npos;
    } else if (f.type == frame_type::video) {
        video_seen_ = true;
        if (f.config) vseq_ = f.payload;
    } else if (f.type == frame_type::audio && f.config) {
        aseq_ = f.payload;
    }
    for (auto& r : recorders_) r->on_frame(f);
}

}  // namespace strom::mod
