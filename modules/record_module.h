// The record module: what publishers send is written to disk, with nginx-rtmp's
// directives (record, record_path, record_suffix, record_unique, record_append,
// record_max_size, record_max_frames, record_interval, record_notify, recorder NAME {},
// exec_record_done) plus record_format and record_max_queue. The application's own settings form
// the unnamed recorder; each `recorder NAME { }` block is another, inheriting what it leaves unset.
// A recorder is a sink of the stream, whatever feeds it: the module listens to the stream
// events (StreamEvents: published, frame, unpublished, with `live on` or off) and keeps a
// RecordStream (the stream's ctx[record]) with one Recorder per active recorder; it
// raises record_done there. Recording never stops the live stream: a disk error is
// logged once and that recorder stops.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/child_process.h"
#include "core/module.h"
#include "media/frame.h"
#include "modules/live_module.h"

namespace strom {
class EventLoop;
}

namespace strom::mod {

// `record` flags (combinable); 0 is off.
namespace record_mode {
inline constexpr uint32_t audio = 1;
inline constexpr uint32_t video = 2;
inline constexpr uint32_t keyframes = 4;   // video keyframes only
inline constexpr uint32_t manual = 8;      // not started at publish (control API)
}  // namespace record_mode

enum class RecordFormat : uint8_t { flv, mp4 };

struct RecordConf : ConfBase {
    std::optional<uint32_t> mode;
    std::optional<std::string> path;       // may hold $app / $name (escaped)
    std::optional<std::string> suffix;     // strftime pattern, default ".flv" / ".mp4"
    std::optional<bool> unique;            // "-<unix time>" before the suffix
    std::optional<bool> append;
    std::optional<bool> notify;            // NetStream.Record.Start/Stop to the publisher
    std::optional<uint64_t> max_size;      // bytes, 0 = no limit
    std::optional<uint64_t> max_queue;     // bytes waiting for the disk; past it the recorder stops
    std::optional<uint64_t> max_frames;    // video frames (audio frames when no video)
    std::optional<uint64_t> interval;      // ms of media per file, 0 = no rotation
    std::optional<RecordFormat> format;
    // exec_record_done: each entry one command (argv, no shell); inherited when unset.
    std::vector<std::vector<std::string>> exec_done;
    bool exec_done_set = false;

    std::string name;                      // recorder name; "" for the application's own
    std::string file;                      // where the recorder block is (errors)
    int line = 0;
    std::vector<std::unique_ptr<RecordConf>> recorders;   // app level: recorder {} blocks
    const StreamEvents* events = nullptr;                 // the cycle's (postconfiguration)
};

class RecordStream;
class LiveStream;

class RecordModule final : public Module {
public:
    const char* name() const override { return "record"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;
    void exit_process(Cycle& cycle) override;

    // The stream events: whatever feeds the stream is recorded, pulls included.
    void on_stream_published(LiveStream& st);
    void on_stream_frame(LiveStream& st, const media::Frame& f);
    void on_stream_unpublished(LiveStream& st);

    // Control API (manual recorders): start or stop recorder `recorder` of a published
    // stream. Rc::declined when the stream has no such recorder.
    Rc start(LiveStream& st, std::string_view recorder);
    Rc stop(LiveStream& st, std::string_view recorder);

    // Called by recorders when a file is closed cleanly: the stream event record_done,
    // then exec_record_done.
    void record_done(const RecordConf& rc, const RecordDone& ev, EventLoop& loop);

private:
    // One exec_record_done program, reaped through the loop.
    struct Exec final : ChildHandler {
        explicit Exec(EventLoop& loop) : proc(loop) {}
        void on_child_exit(ChildProcess& c, int status) override;
        ChildProcess proc;
        pid_t pid = -1;
    };

    void spawn(const std::vector<std::string>& argv, const RecordDone& ev, EventLoop& loop);

    std::vector<std::unique_ptr<Exec>> children_;   // not reaped yet
};

extern RecordModule record_module;

}  // namespace strom::mod
