// strom-client bench: one process, one event loop, thousands of connections. S
// publishers loop an FLV file (paced), N players spread round robin over the streams are
// started at a given rate, and after a warm-up a measured window gives delivered Mbit/s,
// continuity, added latency, time to first frame, the server's CPU per GB and memory
// (with --server-pid) and the bench's own CPU. Optional idle connections (connect only)
// measure the server's memory per idle connection first. Players speak RTMP, or with
// --http-port HTTP-FLV (the publishers and idle connections stay RTMP).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tools/bench_player.h"
#include "tools/client_args.h"
#include "tools/client_loop.h"
#include "tools/flv_file.h"
#include "tools/histogram.h"
#include "tools/proc_stats.h"
#include "tools/publisher.h"
#include "tools/sent_log.h"

namespace strom::tools {

struct BenchResult {
    uint32_t publishers_ok = 0;
    uint32_t players_ok = 0;        // reached Play.Start
    uint32_t players_failed = 0;    // never played
    uint32_t players_dropped = 0;   // closed by the server while playing
    uint32_t players_no_frame = 0;  // played but saw no keyframe
    uint32_t idle_ok = 0, idle_failed = 0;
    double window_s = 0;
    uint64_t window_bytes = 0;
    double mbps = 0;
    uint64_t lost = 0, duplicated = 0, reordered = 0, unknown = 0, frames = 0;
    uint32_t players_with_loss = 0;
    uint64_t max_lost_per_player = 0;
    Histogram latency_us;
    Histogram ttff_us;
    double server_cpu_s = 0;
    double server_cpu_per_gb = 0;
    uint64_t rss_base = 0, rss_idle = 0, rss_publishing = 0, rss_players = 0;
    double rss_per_idle = 0, rss_per_player = 0;
    bool server_sampled = false;
    double self_cpu_pct = 0;       // of one core, over the window
    uint64_t publisher_waits = 0;  // times a publisher's queue was full
    std::string error;             // a fatal setup error
};

class Bench {
public:
    explicit Bench(const BenchArgs& a) : a_(a) {}
    ~Bench();
    // Runs the whole benchmark. False when it could not run (then r.error says why).
    bool run(BenchResult* r);
    static void print_text(const BenchArgs& a, const BenchResult& r);
    static void print_json(const BenchArgs& a, const BenchResult& r);

private:
    bool setup(BenchResult* r);
    void measure_idle(BenchResult* r);
    bool start_publishers(BenchResult* r);
    void ramp_players(BenchResult* r);
    void measure_window(BenchResult* r);
    void collect(BenchResult* r);
    // Starts connections [from, to) of `conns` at the ramp rate; idle connections when
    // `idle`. Returns when all are settled or the timeout passed.
    void ramp(std::vector<std::unique_ptr<BenchPlayer>>& conns, uint32_t count, bool idle);
    // A player of `log`'s stream in the protocol asked for; idle connections are RTMP.
    std::unique_ptr<BenchPlayer> make_player(const SentLog* log, bool idle);
    void wait_ms(uint64_t ms);
    ProcSample server_sample() const;
    bool stop_requested() const { return cl_->interrupted(); }

    BenchArgs a_;
    Target target_;
    Target http_target_;  // target_ with the --http-port
    FlvFile file_;
    std::unique_ptr<ClientLoop> cl_;
    BenchShared shared_;
    std::vector<std::unique_ptr<SentLog>> logs_;
    std::vector<std::unique_ptr<Publisher>> publishers_;
    std::vector<std::unique_ptr<BenchPlayer>> players_;
    std::vector<std::unique_ptr<BenchPlayer>> idle_;
};

}  // namespace strom::tools
