// The stats collector: fills this worker's slots of the StatsBoard. Stream and client
// slots are written on the live streams' events (a source attached or left, a player
// joined or left, a sequence header or onMetaData arrived); byte counts, bitrates,
// dropped frames, connections by protocol, CPU and RSS are sampled by one timer a second
// from counters the sessions already keep, never per message. One instance per process;
// its state lives from init_process to exit_process of a worker.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/module.h"
#include "core/timer.h"
#include "media/frame.h"
#include "modules/stats_board.h"

namespace strom::mod {

class LiveStream;
class StreamRegistry;
class LivePlayer;

class StatsModule final : public Module {
public:
    static constexpr int kRateWindow = 5;  // seconds a stream's bitrate is measured over

    const char* name() const override { return "stats"; }
    Rc postconfiguration(Cycle& cycle) override;
    Rc init_process(Cycle& cycle) override;
    void exit_process(Cycle& cycle) override;

    void on_published(LiveStream& st);
    void on_unpublished(LiveStream& st);
    void on_frame(LiveStream& st, const media::Frame& fr);
    void on_player_started(LiveStream& st, LivePlayer& p);
    void on_player_stopped(LiveStream& st, LivePlayer& p);

    // How a player reaches the stream, from its connection (set when it joins).
    enum class PlayerKind : uint8_t { rtmp, http_flv, ws_flv, worker_pull, relay_push };

private:
    struct TrackedStream {
        LiveStream* st = nullptr;
        std::string key;
        StreamRegistry* registry = nullptr;  // the stream's (its cycle's)
        int slot = -1;
        StreamFigures f{};
        uint64_t hist[kRateWindow + 1] = {};  // bytes_in, one sample a second
        int samples = 0;
    };
    struct TrackedClient {
        LivePlayer* player = nullptr;  // or a publisher's session
        void* publisher = nullptr;
        PlayerKind kind = PlayerKind::rtmp;
        int slot = -1;
        ClientFigures f{};
    };

    TrackedStream& track(LiveStream& st);
    void untrack(LiveStream* st);
    void untrack_if_unused(LiveStream& st);
    void write_stream(TrackedStream& t);
    void write_client(TrackedClient& c);
    void fill_source(TrackedStream& t);
    void add_publisher_client(TrackedStream& t);
    void sample_streams();
    void sample_clients();
    void sample_worker();
    static void on_tick(Timer& t);

    pid_t pid_ = 0;
    int worker_slot_ = -1;
    WorkerFigures worker_{};
    uint64_t last_in_ = 0, last_out_ = 0;
    Timer tick_;
    std::unordered_map<LiveStream*, std::unique_ptr<TrackedStream>> streams_;
    std::unordered_map<const void*, std::unique_ptr<TrackedClient>> clients_;
};

extern StatsModule stats_module;

}  // namespace strom::mod
