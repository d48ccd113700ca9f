// One live stream of a worker: its publisher (absent while players wait for one), its
// players, and what a late joiner needs (metadata, sequence headers, the current GOP),
// each kept once as the received payload plus its framing at the server's chunk size.
// Owned by the LiveModule's registry; dies when it has neither publisher nor players.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/buf.h"
#include "core/event_loop.h"
#include "core/timer.h"
#include "modules/live_module.h"
#include "modules/relay_target.h"
#include "rtmp/session.h"

namespace strom::mod {

// A message as cached and relayed: the payload (for re-framing and recording) and the
// shared framing every player with the usual chunk size and stream id 1 gets.
struct LiveMsg {
    uint8_t type = 0;
    bool key = false;         // video keyframe (a GOP starts here)
    bool seq = false;         // codec sequence header (or E-RTMP video metadata)
    uint16_t slot = 0;        // which header: type, track, kind (see LiveStream::cache)
    uint32_t ts = 0;          // rebased, as players see it
    uint32_t len = 0;
    BufRef payload;
    BufRef framed;
};

// A player's place in a stream: kept in NetStream::ctx[live].
struct LivePlayer {
    rtmp::Session* s = nullptr;
    rtmp::NetStream* ns = nullptr;
    LiveStream* stream = nullptr;
    bool waiting_key = true;      // drop video until a keyframe (start, after a drop)
    bool sent_video_seq = false;
    bool sent_audio_seq = false;
    bool got_media = false;
    uint64_t stalled_since = 0;   // first failed enqueue of the current stall
    Timer merge_timer;            // send_merge: deferred flush
};

class LiveStream {
public:
    LiveStream(LiveModule& m, std::string key, const LiveConf& conf, uint32_t chunk_size);
    ~LiveStream();

    const std::string& key() const { return key_; }
    bool has_publisher() const { return publisher_ != nullptr; }
    rtmp::Session* publisher() const { return publisher_; }
    bool unused() const { return !publisher_ && live_players_ == 0 && walking_ == 0; }
    size_t player_count() const { return live_players_; }

    // A local publisher (ns set) or a pull from another worker (ns null).
    void attach_publisher(rtmp::Session& s, rtmp::NetStream* ns);
    void attach_source(rtmp::Session& s) { attach_publisher(s, nullptr); }
    void detach_publisher();
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
    LiveModule& module() { return module_; }
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
    Rc on_media(rtmp::MediaMsg& m);
    void set_conf(const LiveConf& c) { conf_ = &c; }

private:
    // Runs f on every player. A send may close a player's session, which removes (and
    // frees) it: removal during the walk only clears its slot; the walk compacts after.
    template <class F> void each_player(F&& f);
    bool cache(LiveMsg& lm, const rtmp::MediaMsg& m);
    bool frame(LiveMsg& lm, uint32_t msid, uint32_t chunk_size, BufRef* out);
    void deliver(LiveMsg& lm);
    bool enqueue(LivePlayer& p, LiveMsg& lm, bool droppable);
    void send_cached_start(LivePlayer& p);
    void flush(LivePlayer& p);
    uint32_t rebase(uint32_t ts);
    static void on_idle_check(Timer& t);
    static void on_lookup(Timer& t);
    static void on_merge_flush(Timer& t);
    void stop_pushes();
    void fail_players(const std::string& why);
    void pull_relay_again();
    uint64_t retry_delay() const;

    LiveModule& module_;
    std::string key_;
    std::string app_;
    std::string name_;
    EventLoop* loop_ = nullptr;
    class LivePull* pull_ = nullptr;
    std::unique_ptr<RelayTarget> relay_;   // pulled again while players wait
    bool relay_ran_ = false;               // media came from relay_ at least once
    unsigned relay_failures_ = 0;          // attempts in a row that brought nothing
    uint64_t relay_retry_at_ = 0;          // loop time of the next attempt
    std::vector<class LivePush*> pushes_;
    Timer lookup_timer_;
    const LiveConf* conf_;
    uint32_t chunk_size_;
    rtmp::Session* publisher_ = nullptr;
    rtmp::NetStream* publisher_ns_ = nullptr;
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
};

}  // namespace strom::mod
