// The live module: `application NAME { live on; }`. One publisher per stream feeds any
// number of players on this worker: every media message is framed once into shared
// blocks and queued by reference on each player's bounded out-queue. Metadata, codec
// sequence headers and the current GOP are cached so a late joiner starts on a
// keyframe at once. Slow players lose frames up to the next keyframe; a publisher that
// comes back (reconnect, takeover) continues the same stream for attached players.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/cycle.h"
#include "core/listener.h"
#include "core/module.h"
#include "media/frame.h"
#include "media/listeners.h"
#include "modules/merge_flusher.h"
#include "modules/stream_registry.h"
#include "rtmp/command.h"
#include "rtmp/hooks.h"
#include "rtmp/session.h"

namespace strom::mod {

class LiveStream;
class LivePlayer;
class LiveSource;

// What record_done listeners hear when a recording file is closed cleanly (unpublish,
// rotation, stop, worker exit) and is all on disk. The strings live only during the call.
struct RecordDone {
    uint64_t session_id = 0;  // the source's log id (0 for a pull)
    std::string_view app;
    std::string_view name;      // stream name
    std::string_view recorder;  // "" for the application's own
    std::string_view path;
    uint64_t bytes = 0;
    uint32_t duration_ms = 0;
};

// The stream-level events of a configuration generation, whatever brought the media in
// (an RTMP publisher, a pull from another worker or server) and whatever takes it out:
// recording, notify, and later HLS and the API, listen here instead of to RTMP sessions.
// Streams exist for their listeners with `live off` too (no players then): a recorder
// is a sink of the stream whatever the application relays.
struct StreamEvents {
    // A source attached: a local publisher, or a pull from another worker or server.
    std::vector<media::Listener<LiveStream&>> published;
    // Each frame of the source as it sent it (source timestamps), after the players got it.
    std::vector<media::Listener<LiveStream&, const media::Frame&>> frame;
    // The source left (before the stream forgets its headers).
    std::vector<media::Listener<LiveStream&>> unpublished;
    std::vector<media::Listener<LiveStream&, LivePlayer&>> player_started;
    std::vector<media::Listener<LiveStream&, LivePlayer&>> player_stopped;
    // A recorder of a stream closed a file (raised by the record module).
    std::vector<media::Listener<const RecordDone&>> record_done;
};

// The cycle's: its stream events and the registry of its streams (dies with the cycle,
// the registry first).
struct LiveMainConf : ConfBase {
    StreamEvents events;
    std::unique_ptr<StreamRegistry> registry;
};

struct LiveConf : ConfBase {
    std::optional<bool> live;
    std::optional<bool> gop_cache;
    std::optional<uint32_t> gop_cache_max_frames;
    std::optional<uint64_t> gop_cache_max_bytes;
    std::optional<bool> publisher_takeover;
    std::optional<uint64_t> drop_idle_publisher;   // ms, 0 = off
    std::optional<bool> idle_streams;
    std::optional<bool> publish_notify;
    std::optional<bool> play_restart;
    std::optional<bool> wait_key;
    std::optional<bool> wait_video;
    std::optional<uint64_t> sync;                  // ms (see README: absolute timestamps)
    std::optional<bool> interleave;
    std::optional<uint64_t> send_merge;            // ms, 0 = flush every iteration
    std::optional<uint64_t> play_timeout;          // ms a lagging player may stay stalled
    const StreamEvents* events = nullptr;          // the cycle's (set after parsing)
    const AppBlock* app = nullptr;                 // the block this conf belongs to
    StreamRegistry* registry = nullptr;            // the cycle's (set after parsing)
};

class LiveModule final : public Module {
public:
    const char* name() const override { return "live"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;
    Rc init_process(Cycle& cycle) override;
    void exit_process(Cycle& cycle) override;

    Rc on_publish(rtmp::Session& s, rtmp::PublishCmd& cmd, rtmp::Next<rtmp::PublishCmd> next);
    Rc on_play(rtmp::Session& s, rtmp::PlayCmd& cmd, rtmp::Next<rtmp::PlayCmd> next);
    Rc on_media(rtmp::Session& s, rtmp::NetStream& ns, rtmp::MediaMsg& m);
    void on_close_stream(rtmp::Session& s, rtmp::NetStream& ns);

private:
    std::vector<std::unique_ptr<Listener>> internal_;   // other workers pull here
    std::vector<int> internal_fds_;
};

extern LiveModule live_module;

inline StreamEvents& stream_events(const Cycle& c) { return c.main_conf<LiveMainConf>(live_module).events; }
// The streams of the cycle c, or of the cycle the rtmp application `app` belongs to.
inline StreamRegistry& stream_registry(const Cycle& c)
{
    return *c.main_conf<LiveMainConf>(live_module).registry;
}
inline StreamRegistry& stream_registry(const AppBlock& app)
{
    return *app.conf<LiveConf>(live_module).registry;
}

}  // namespace strom::mod
