// The live streams of one cycle on this worker ("app/name" -> LiveStream), the send_merge
// flusher their players share, and the cycle's stream events. LiveModule creates one per
// cycle (in the cycle's LiveMainConf) and it dies with that cycle; every caller reaches
// it through its own cycle (stream_registry(app) / stream_registry(cycle)), so two cycles
// in one process never see each other's streams. LiveModule keeps directives and hooks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/conf_block.h"
#include "core/event_loop.h"
#include "modules/merge_flusher.h"

namespace strom::rtmp {
class Session;
}

namespace strom::mod {

class LiveModule;
class LiveStream;
class LivePlayer;
class LiveSource;
struct LiveConf;
struct RelayTarget;
struct StreamEvents;

// What relay_pull did for a play (notify_relay_redirect).
enum class RelayPull : uint8_t { started, joined, local, failed };

class StreamRegistry {
public:
    StreamRegistry(LiveModule& m, StreamEvents& events);
    ~StreamRegistry();
    StreamRegistry(const StreamRegistry&) = delete;
    StreamRegistry& operator=(const StreamRegistry&) = delete;

    StreamEvents& events() { return events_; }
    MergeFlusher& merge_flusher() { return merge_flusher_; }

    // The streams ("app/name"), for stats and the cross-worker relay.
    LiveStream* find(const std::string& key);
    size_t stream_count() const { return streams_.size(); }
    void release_if_unused(LiveStream* st);
    void release_if_unused(const std::string& key) { release_if_unused(find(key)); }
    // Forgets every stream (worker exit).
    void clear();
    LiveStream& get_or_create(const AppBlock& app, const std::string& key, const LiveConf& lc);
    // Starts pulling st from the worker that has its publisher, if another one has.
    void try_pull(LiveStream& st, EventLoop& loop);

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
    const LiveConf& conf_of(const AppBlock& app) const;

    LiveModule& module_;      // the key of the applications' LiveConf
    StreamEvents& events_;    // the cycle's (beside this registry in LiveMainConf)
    MergeFlusher merge_flusher_;   // send_merge: one timer per interval for all players
    // After the flusher: streams (and their players) go first.
    std::unordered_map<std::string, std::unique_ptr<LiveStream>> streams_;
};

}  // namespace strom::mod
