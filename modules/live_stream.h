// One live stream of a worker: its source (absent while players wait for one: an RTMP
// publisher, a pull from another worker or server, later a WebSocket publisher or a
// playlist), its players (sinks of any protocol: RTMP, HTTP-FLV, WebSocket-FLV, relay
// pushes), and what a late joiner needs (metadata, sequence headers, the current GOP),
// each kept once as the received payload plus its framing per output format (media::Frame).
// Owned by its cycle's StreamRegistry; dies when it has neither source nor players.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/backoff.h"
#include "core/buf.h"
#include "core/event_loop.h"
#include "core/module_slots.h"
#include "core/timer.h"
#include "media/frame.h"
#include "modules/live_module.h"
#include "modules/stream_registry.h"
#include "modules/relay_target.h"
#include "rtmp/session.h"

namespace strom::mod {

using LiveMsg = media::Frame;

class RtmpPublisher;

// Who feeds a live stream, whatever its protocol: what the stream, the modules listening
// to its events and the logs need of it. Owned by whoever made it (the publishing
// NetStream's slot, a LivePull); it leaves the stream before it dies (a publisher through
// StreamRegistry::detach, a pull through LiveStream::pull_closed).
class LiveSource {
public:
    enum class Kind : uint8_t {
        publisher,    // a client publishing here (RTMP today)
        worker_pull,  // the stream of another worker of this server, pulled for our players
        relay_pull,   // another server's stream (notify_relay_redirect)
    };
    virtual Kind kind() const = 0;
    // The id in log lines (the connection's), 0 when it has none yet.
    virtual uint64_t log_id() const = 0;
    // For logs and the API: "rtmp", and the peer ("127.0.0.1:5000", "worker 1234",
    // "rtmp://origin/live/x").
    virtual const char* protocol() const = 0;
    virtual const char* peer() const = 0;
    virtual EventLoop& loop() const = 0;
    // Stops it feeding the stream: a publisher's publish ends (it is told, where its
    // protocol can) and its connection closes once that is written; a pull stops. The
    // stream hears of it (detach), possibly before this returns.
    virtual void drop(const char* reason) = 0;
    // The RTMP publisher it is, for what only RTMP can do (record_notify statuses, the
    // publish type "append"), or nullptr.
    virtual RtmpPublisher* rtmp_publisher() { return nullptr; }

    LiveStream* stream = nullptr;  // set by attach, cleared by detach

protected:
    ~LiveSource() = default;
};

// An RTMP publisher: a publishing NetStream of a server session (its ctx[live]).
class RtmpPublisher final : public LiveSource {
public:
    RtmpPublisher(rtmp::Session& session, rtmp::NetStream& netstream) : s(&session), ns(&netstream)
    {
    }
    Kind kind() const override { return Kind::publisher; }
    uint64_t log_id() const override { return s->id(); }
    const char* protocol() const override { return "rtmp"; }
    const char* peer() const override { return s->peer(); }
    EventLoop& loop() const override { return s->loop(); }
    void drop(const char* reason) override;
    RtmpPublisher* rtmp_publisher() override { return this; }

    rtmp::Session* s;
    rtmp::NetStream* ns;
};

// A player of a live stream, whatever its protocol: the stream's state for it (keyframe
// wait, sequence headers sent, stall) and what the protocol does with frames and with the
// publisher's comings and goings. Owned by whoever made it (a NetStream's slot, an HTTP
// session, a relay push); it leaves the stream with remove_player before it dies.
class LivePlayer {
public:
    virtual ~LivePlayer() = default;

    // The connection frames are queued on.
    virtual Connection& conn() = 0;
    // The id in log lines (the connection's).
    virtual uint64_t log_id() const = 0;
    // False while the player does not want messages of this type (paused, receiveAudio).
    virtual bool wants(uint8_t /*type*/) const { return true; }
    // The framing of m for this player's format (*size: its bytes), shared through m's
    // cache where the format allows; false when the pool is exhausted.
    virtual bool frame(LiveStream& st, LiveMsg& m, BufRef* out, size_t* size) = 0;
    // A (new) publisher started feeding the stream the player waited on or played.
    virtual void publisher_started(LiveStream&) {}
    // The publisher left. The player may close itself (and be removed and freed).
    virtual void publisher_ended(LiveStream&) = 0;
    // The stream cannot be had (a relay failed): tell the player why and close.
    virtual void fail(const std::string& why) = 0;
    // Counters: payload bytes queued, messages dropped for slowness.
    virtual void count_sent(uint32_t len) { bytes += len; }
    virtual void count_dropped() { ++dropped; }

    LiveStream* stream = nullptr;
    bool waiting_key = true;      // drop video until a keyframe (start, after a drop)
    bool sent_video_seq = false;
    bool sent_audio_seq = false;
    bool got_media = false;
    uint64_t stalled_since = 0;   // first failed enqueue of the current stall
    uint64_t bytes = 0;
    uint64_t dropped = 0;
    size_t merge_slot = 0;        // send_merge: 1 + index in its interval's list, 0: none
    void* merge_interval = nullptr;
};

// An RTMP player: a NetStream of a server session (or of a relay push's client session).
class RtmpPlayer final : public LivePlayer {
public:
    Connection& conn() override { return s->conn(); }
    uint64_t log_id() const override { return s->id(); }
    bool wants(uint8_t type) const override;
    bool frame(LiveStream& st, LiveMsg& m, BufRef* out, size_t* size) override;
    void publisher_started(LiveStream& st) override;
    void publisher_ended(LiveStream& st) override;
    void fail(const std::string& why) override;
    void count_sent(uint32_t len) override { ns->bytes += len; }
    void count_dropped() override { ++ns->dropped; }

    rtmp::Session* s = nullptr;
    rtmp::NetStream* ns = nullptr;
};

class LiveStream {
public:
    LiveStream(StreamRegistry& r, std::string key, const LiveConf& conf, uint32_t chunk_size);
    ~LiveStream();

    const std::string& key() const { return key_; }
    // Fed by a source of any kind (a pull too).
    bool has_publisher() const { return source_ != nullptr; }
    LiveSource* source() const { return source_; }
    // Media payload bytes its sources have fed it (all of them, over its life).
    uint64_t bytes_in() const { return bytes_in_; }
    // Fed by a client publishing here (not a pull).
    bool has_local_publisher() const
    {
        return source_ && source_->kind() == LiveSource::Kind::publisher;
    }
    bool unused() const { return !source_ && live_players_ == 0 && walking_ == 0; }
    size_t player_count() const { return live_players_; }

    // src starts feeding the stream (StreamRegistry::attach), or stops (StreamRegistry::detach).
    void attach_source(LiveSource& src);
    void detach_source();
    bool pulling() const { return pull_ != nullptr; }
    void set_pull(class LivePull* p) { pull_ = p; }
    // Stops the pull (a local publisher replaces it, or nobody plays any more).
    void drop_pull();
    // The pull p ended. False when it was no longer this stream's (stopped by us);
    // true when it was: the caller then offers the stream to release_if_unused.
    bool pull_closed(class LivePull* p);
    // Pushes to other servers (notify_relay_redirect on a publish) live while the
    // publisher does: detach_publisher and the destructor stop them.
    void add_push(class LivePush* p) { pushes_.push_back(p); }
    void push_closed(class LivePush* p);
    size_t push_count() const { return pushes_.size(); }
    StreamRegistry& registry() { return registry_; }
    // Players wait for a publisher that may appear on another worker: look again later.
    void arm_lookup(EventLoop& loop);
    // The other server this stream is relayed from (notify_relay_redirect). Once a pull
    // from it has started, its end (the remote stream ended, the connection dropped) is
    // followed by pulls again while players wait, as nginx-rtmp's pull_reconnect.
    void set_relay(const RelayTarget& t, EventLoop& loop);
    // Its relay has run and is being tried again: a new player waits for that.
    bool relay_waiting() const { return relay_ && relay_ran_ && !pull_; }
    const std::string& app() const { return app_; }
    const std::string& name() const { return name_; }
    void add_player(LivePlayer* p);
    void remove_player(LivePlayer* p);
    // One frame of the source, in its input form (source timestamps, no framing).
    void on_frame(const LiveMsg& in);
    void set_conf(const LiveConf& c) { conf_ = &c; }
    const LiveConf& conf() const { return *conf_; }
    EventLoop* loop() const { return loop_; }
    uint32_t chunk_size() const { return chunk_size_; }
    // What the stream carries now (its sequence headers), for an FLV header's flags;
    // both true while nothing is known.
    void tracks(bool* audio, bool* video) const;
    // The source is a pull from another worker of this server (whose own stream is the
    // original: it records it, counts it, ...), not a local publisher or another server.
    bool fed_by_worker() const
    {
        return source_ && source_->kind() == LiveSource::Kind::worker_pull;
    }
    // `live off` in its application: the stream exists for its event listeners (a
    // recorder) only: no players, no cache, not announced to other workers.
    bool live() const { return *conf_->live; }
    // Per-stream state of other modules (a recording), reached through the module.
    ModuleSlots ctx;

    // RTMP chunks of lm for message stream msid at chunk_size (into *out, *size bytes).
    bool frame_rtmp(LiveMsg& lm, uint32_t msid, uint32_t chunk_size, BufRef* out, size_t* size);

private:
    // Runs f on every player. A send may close a player's session, which removes (and
    // frees) it: removal during the walk only clears its slot; the walk compacts after.
    template <class F> void each_player(F&& f);
    bool cache(LiveMsg& lm);
    void deliver(LiveMsg& lm);
    bool enqueue(LivePlayer& p, LiveMsg& lm, bool droppable);
    void send_cached_start(LivePlayer& p);
    void flush(LivePlayer& p);
    uint32_t rebase(uint32_t ts);
    static void on_idle_check(Timer& t);
    static void on_lookup(Timer& t);
    void stop_pushes();
    void fail_players(const std::string& why);
    void pull_relay_again();

    StreamRegistry& registry_;
    std::string key_;
    std::string app_;
    std::string name_;
    EventLoop* loop_ = nullptr;
    class LivePull* pull_ = nullptr;
    std::unique_ptr<RelayTarget> relay_;   // pulled again while players wait
    bool relay_ran_ = false;               // media came from relay_ at least once
    bool relay_failing_ = false;           // the last attempt brought nothing
    // After an attempt that brought nothing: 3 s, doubling up to 30 s (nginx-rtmp's
    // pull_reconnect); back to the start once media came.
    Backoff relay_backoff_{3000, 30000};
    uint64_t relay_retry_at_ = 0;          // loop time of the next attempt
    std::vector<class LivePush*> pushes_;
    Timer lookup_timer_;
    const LiveConf* conf_;
    uint32_t chunk_size_;
    LiveSource* source_ = nullptr;
    std::vector<LivePlayer*> players_;   // null: removed during a walk
    int walking_ = 0;
    size_t live_players_ = 0;

    LiveMsg meta_;
    // Sequence headers per media type and track (E-RTMP multitrack sends one per track)
    // and E-RTMP video metadata (HDR): what a late joiner needs before its first frame.
    std::vector<LiveMsg> seqs_;
    static constexpr size_t kMaxSeqs = 16;
    std::vector<LiveMsg> gop_;      // from the last keyframe; capacity reused
    uint64_t gop_bytes_ = 0;
    bool gop_overflow_ = false;     // over gop_cache_max: wait for the next keyframe

    // Timestamps players see stay monotonic across publishers: in + offset.
    uint32_t ts_offset_ = 0;
    uint32_t last_out_ts_ = 0;
    bool rebase_pending_ = false;
    bool any_out_ = false;

    uint64_t last_media_ms_ = 0;
    Timer idle_timer_;
    uint64_t frames_in_ = 0;
    uint64_t bytes_in_ = 0;   // payload bytes from every source so far
};

}  // namespace strom::mod
