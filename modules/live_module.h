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

struct LiveMainConf : ConfBase {
    StreamEvents events;
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
};

class LiveStream;
class LivePlayer;
struct RelayTarget;

// What relay_pull did for a play (notify_relay_redirect).
enum class RelayPull : uint8_t { started, joined, local, failed };

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

    // True when a publish of `name` by s would be refused as a duplicate (the stream
    // has a publisher on this or another worker and takeover is off). Modules earlier in
    // the chain (notify) use it so a refused duplicate causes no callback.
    bool publish_taken(const rtmp::Session& s, const std::string& name);

    // A source of any protocol feeding `name` of the rtmp application `app`. First
    // admit: nullptr when it may (a local publisher it takes over from under
    // publisher_takeover has been dropped; with `live on` the stream directory names this
    // worker as its owner), else why not (logged here, with the source's log id and peer).
    // Then, once the protocol has accepted it, attach; detach when it ends (and unadmit
    // when the protocol refused it after admit). With `live off` the stream serves its
    // event listeners only (recording without live).
    const char* admit(const AppBlock& app, const std::string& name, uint64_t log_id,
                      const char* peer);
    void unadmit(const AppBlock& app, const std::string& name);
    LiveStream& attach(const AppBlock& app, const std::string& name, LiveSource& src);
    void detach(LiveSource& src);

    // This worker's streams ("app/name"), for stats and the cross-worker relay.
    LiveStream* find(const std::string& key);
    size_t stream_count() const { return streams_.size(); }
    void release_if_unused(LiveStream* st);
    // Starts pulling st from the worker that has its publisher, if another one has.
    void try_pull(LiveStream& st, EventLoop& loop);

    // notify_relay_redirect, before the play of `name` by s goes on: the stream's local
    // players are fed from the server `t` (one pull per stream, shared). Nothing to start
    // when the stream has a publisher (here or on another worker) or already a pull.
    // The caller offers the stream to release_if_unused(key) once the play is decided.
    RelayPull relay_pull(rtmp::Session& s, const std::string& name, const RelayTarget& t,
                         const char** err);
    // The same for a player of another protocol of the rtmp application `app`.
    RelayPull relay_pull(const AppBlock& app, const std::string& name, const RelayTarget& t,
                         EventLoop& loop, const char** err);
    // notify_relay_redirect, after the publish of `name` by s was accepted: the stream
    // is also pushed to `t` for as long as that publisher publishes.
    bool relay_push(rtmp::Session& s, const std::string& name, const RelayTarget& t,
                    const char** err);
    void release_if_unused(const std::string& key) { release_if_unused(find(key)); }
    MergeFlusher& merge_flusher() { return merge_flusher_; }

    // Why a player of another protocol (HTTP-FLV, WebSocket-FLV) may not join `name` of
    // the rtmp application `app` now (live off; not published on any worker, unless
    // `wait` and the application keeps idle streams), or nullptr.
    const char* play_refusal(const AppBlock& app, const std::string& name, bool wait);
    // It joins (after play_refusal said nothing): at once when published here, pulled from
    // the worker that has it, or waiting for its publisher. nullptr, or why not.
    const char* add_player(const AppBlock& app, const std::string& name, LivePlayer& p,
                           EventLoop& loop);
    // It leaves (and the stream goes when nothing else holds it).
    void remove_player(LivePlayer& p);

private:
    LiveStream& get_or_create(const AppBlock& app, const std::string& key, const LiveConf& lc);
    LiveStream& get_or_create(rtmp::Session& s, const std::string& key, const LiveConf& lc)
    {
        return get_or_create(*s.app(), key, lc);
    }

    std::unordered_map<std::string, std::unique_ptr<LiveStream>> streams_;
    MergeFlusher merge_flusher_;   // send_merge: one timer per interval for all players
    std::vector<std::unique_ptr<Listener>> internal_;   // other workers pull here
    std::vector<int> internal_fds_;
};

extern LiveModule live_module;

inline StreamEvents& stream_events(const Cycle& c) { return c.main_conf<LiveMainConf>(live_module).events; }

}  // namespace strom::mod
