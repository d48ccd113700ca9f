#include "tools/bench.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdio>

#include "tools/bench_http_player.h"
#include "tools/bench_rtmp_player.h"
#include "tools/json_text.h"

namespace strom::tools {

namespace {
constexpr uint64_t kSettleMs = 1000;         // after a phase, before sampling memory
constexpr uint64_t kPublisherWarmMs = 1500;  // a keyframe in the server's cache
constexpr double kSaturatedPct = 85;

Target with_port(const Target& t, int port)
{
    Target o = t;
    if (o.ss.ss_family == AF_INET6) {
        reinterpret_cast<sockaddr_in6*>(&o.ss)->sin6_port = htons(uint16_t(port));
    } else {
        reinterpret_cast<sockaddr_in*>(&o.ss)->sin_port = htons(uint16_t(port));
    }
    size_t colon = o.text.rfind(':');
    o.text = (colon == std::string::npos ? o.text : o.text.substr(0, colon)) + ":" +
             std::to_string(port);
    return o;
}
}  // namespace

Bench::~Bench()
{
    if (cl_) cl_->close_all("bench done");
}

ProcSample Bench::server_sample() const
{
    return a_.server_pid > 0 ? sample_process_tree(a_.server_pid) : ProcSample{};
}

std::unique_ptr<BenchPlayer> Bench::make_player(const SentLog* log, bool idle)
{
    if (a_.http_port && !idle)
        return std::make_unique<HttpFlvBenchPlayer>(shared_, log, a_.http_port);
    return std::make_unique<RtmpBenchPlayer>(shared_, log);
}

void Bench::wait_ms(uint64_t ms)
{
    uint64_t until = cl_->loop().now() + ms;
    while (cl_->loop().now() < until && !stop_requested()) cl_->turn(20);
}

bool Bench::setup(BenchResult* r)
{
    std::string err;
    if (!a_.no_publish && !file_.load(a_.file, &err)) {
        r->error = err;
        return false;
    }
    if (!resolve_target(a_.url, &target_, &err)) {
        r->error = err;
        return false;
    }
    if (a_.http_port) http_target_ = with_port(target_, a_.http_port);
    uint64_t need = uint64_t(a_.players) + a_.idle + a_.streams + 64;
    uint64_t have = ClientLoop::raise_fd_limit();
    if (have < need) {
        r->error = "the open file limit (" + std::to_string(have) + ") is below the " +
                   std::to_string(need) + " connections asked for: raise it (ulimit -n)";
        return false;
    }
    cl_ = std::make_unique<ClientLoop>(uint32_t(need), a_.common.verbose);
    if (!cl_->ok()) {
        r->error = "cannot set up the event loop";
        return false;
    }
    if (a_.server_pid > 0) {
        ProcSample s = server_sample();
        if (!s.ok) {
            r->error = "no process " + std::to_string(a_.server_pid) + " (--server-pid)";
            return false;
        }
        r->server_sampled = true;
        r->rss_base = s.rss_bytes;
    }
    return true;
}

void Bench::ramp(std::vector<std::unique_ptr<BenchPlayer>>& conns, uint32_t count, bool idle)
{
    EventLoop& loop = cl_->loop();
    uint64_t t0 = loop.now(), deadline = 0;
    uint32_t started = 0;
    while (!stop_requested()) {
        uint64_t now = loop.now();
        uint64_t due = a_.ramp <= 0 ? count
                                    : std::min<uint64_t>(
                                          count, uint64_t(double(now - t0) * a_.ramp / 1000) + 1);
        while (started < due) {
            uint32_t stream = started % a_.streams;
            const SentLog* log = idle || logs_.empty() ? nullptr : logs_[stream].get();
            conns.push_back(make_player(log, idle));
            RtmpUrl u = a_.url;
            u.stream = idle ? "" : a_.stream_prefix + "-" + std::to_string(stream);
            (void)conns.back()->start(*cl_, a_.http_port && !idle ? http_target_ : target_, u);
            ++started;
        }
        if (started == count) {
            if (!deadline) deadline = now + a_.common.timeout_ms;
            bool all = std::all_of(conns.begin(), conns.end(), [idle](const auto& p) {
                return p->settled() &&
                       (idle || p->first_key_us() || p->state() != BenchPlayer::State::playing);
            });
            if (all || now >= deadline) break;
        }
        cl_->turn(started < count ? 2 : 20);
    }
}

void Bench::measure_idle(BenchResult* r)
{
    if (!a_.idle) return;
    ramp(idle_, a_.idle, true);
    wait_ms(kSettleMs);
    for (const auto& c : idle_) {
        if (c->state() == BenchPlayer::State::playing) {
            ++r->idle_ok;
        } else {
            ++r->idle_failed;
        }
    }
    ProcSample s = server_sample();
    r->rss_idle = s.rss_bytes;
    if (s.ok && r->idle_ok)
        r->rss_per_idle = (double(s.rss_bytes) - double(r->rss_base)) / r->idle_ok;
    for (auto& c : idle_) c->close();
    wait_ms(kSettleMs);
}

bool Bench::start_publishers(BenchResult* r)
{
    if (a_.no_publish) return true;
    for (uint32_t i = 0; i < a_.streams; ++i) {
        logs_.push_back(std::make_unique<SentLog>());
        Publisher::Options o;
        o.loop = true;
        o.speed = 1;
        o.timeout_ms = a_.common.timeout_ms;
        o.log = logs_.back().get();
        RtmpUrl u = a_.url;
        u.stream = a_.stream_prefix + "-" + std::to_string(i);
        publishers_.push_back(std::make_unique<Publisher>(*cl_, file_, target_, u, o));
        if (!publishers_.back()->start()) {
            r->error = publishers_.back()->error();
            return false;
        }
    }
    uint64_t deadline = cl_->loop().now() + a_.common.timeout_ms;
    while (!stop_requested() && cl_->loop().now() < deadline) {
        bool all = std::all_of(publishers_.begin(), publishers_.end(), [](const auto& p) {
            return p->state() != Publisher::State::connecting;
        });
        if (all) break;
        cl_->turn(20);
    }
    for (const auto& p : publishers_) {
        if (p->state() != Publisher::State::publishing) {
            r->error = "publisher: " +
                       (p->error().empty() ? std::string("not publishing in time") : p->error());
            return false;
        }
        ++r->publishers_ok;
    }
    wait_ms(kPublisherWarmMs);
    r->rss_publishing = server_sample().rss_bytes;
    return true;
}

void Bench::measure_window(BenchResult* r)
{
    wait_ms(a_.warmup_ms);
    auto delivered = [this] {
        uint64_t b = 0;
        for (const auto& p : players_) b += p->bytes_in();
        return b;
    };
    uint64_t b0 = delivered(), t0 = mono_us();
    ProcSample s0 = server_sample();
    double c0 = self_cpu_seconds();
    shared_.latency_us.reset();
    shared_.measuring = true;
    wait_ms(a_.duration_ms);
    shared_.measuring = false;
    uint64_t b1 = delivered(), t1 = mono_us();
    ProcSample s1 = server_sample();
    double c1 = self_cpu_seconds();
    r->window_s = double(t1 - t0) / 1e6;
    r->window_bytes = b1 - b0;
    r->mbps = r->window_s > 0 ? double(r->window_bytes) * 8 / 1e6 / r->window_s : 0;
    r->self_cpu_pct = r->window_s > 0 ? (c1 - c0) / r->window_s * 100 : 0;
    if (s0.ok && s1.ok) {
        r->server_cpu_s = s1.cpu_s - s0.cpu_s;
        if (r->window_bytes)
            r->server_cpu_per_gb = r->server_cpu_s / (double(r->window_bytes) / 1e9);
        r->rss_players = s1.rss_bytes;
    }
    r->latency_us = shared_.latency_us;
}

void Bench::collect(BenchResult* r)
{
    for (const auto& p : players_) {
        switch (p->state()) {
            case BenchPlayer::State::playing:
            case BenchPlayer::State::closed:
                ++r->players_ok;
                break;
            case BenchPlayer::State::dropped:
                ++r->players_ok;
                ++r->players_dropped;
                break;
            default:
                ++r->players_failed;
                continue;
        }
        if (p->first_key_us()) {
            r->ttff_us.record(p->first_key_us() - p->connect_us());
        } else {
            ++r->players_no_frame;
        }
        r->lost += p->lost();
        r->duplicated += p->duplicated();
        r->reordered += p->reordered();
        r->unknown += p->unknown();
        r->frames += p->frames();
        if (p->lost()) ++r->players_with_loss;
        r->max_lost_per_player = std::max(r->max_lost_per_player, p->lost());
    }
    if (r->rss_players && r->players_ok) {
        r->rss_per_player = (double(r->rss_players) - double(r->rss_publishing)) / r->players_ok;
    }
    for (const auto& p : publishers_) r->publisher_waits += p->queue_full_waits();
}

bool Bench::run(BenchResult* r)
{
    if (!setup(r)) return false;
    measure_idle(r);
    if (!start_publishers(r)) return false;
    if (a_.players) {
        ramp(players_, a_.players, false);
        measure_window(r);
    }
    collect(r);
    if (stop_requested()) r->error = "interrupted";
    cl_->close_all("bench done");
    return r->error.empty() || r->error == "interrupted";
}

void Bench::print_text(const BenchArgs& a, const BenchResult& r)
{
    auto ms = [](uint64_t us) { return double(us) / 1000.0; };
    printf("bench %s  streams %u  players %u%s  idle %u  ramp %s/s%s%s\n", a.url.text().c_str(),
           a.streams, a.players,
           a.http_port ? ("  http-flv :" + std::to_string(a.http_port)).c_str() : "", a.idle,
           a.ramp > 0 ? std::to_string(int(a.ramp)).c_str() : "all",
           a.label.empty() ? "" : "  label ", a.label.c_str());
    if (a.idle) {
        printf("idle conns     %u connected, %u failed", r.idle_ok, r.idle_failed);
        if (r.server_sampled)
            printf(", server RSS +%.1f KiB per idle connection", r.rss_per_idle / 1024);
        printf("\n");
    }
    if (!a.players) return;
    printf(
        "players        %u playing, %u failed, %u dropped by the server, %u without a keyframe\n",
        r.players_ok, r.players_failed, r.players_dropped, r.players_no_frame);
    printf("delivered      %.1f Mbit/s over %.1fs (%.1f MB)\n", r.mbps, r.window_s,
           double(r.window_bytes) / 1e6);
    printf(
        "frames         %llu checked, lost %llu (%u players, max %llu), duplicated %llu, reordered "
        "%llu, "
        "unknown %llu\n",
        (unsigned long long)r.frames, (unsigned long long)r.lost, r.players_with_loss,
        (unsigned long long)r.max_lost_per_player, (unsigned long long)r.duplicated,
        (unsigned long long)r.reordered, (unsigned long long)r.unknown);
    printf("latency        p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%llu frames)\n",
           ms(r.latency_us.percentile(50)), ms(r.latency_us.percentile(99)), ms(r.latency_us.max()),
           (unsigned long long)r.latency_us.count());
    printf("first frame    p50 %.1f ms  p99 %.1f ms  max %.1f ms  (first keyframe after connect)\n",
           ms(r.ttff_us.percentile(50)), ms(r.ttff_us.percentile(99)), ms(r.ttff_us.max()));
    if (r.server_sampled) {
        printf(
            "server         %.2f CPU-s in the window = %.3f CPU-s/GB; RSS %.1f MB (%.1f MB before "
            "players, "
            "%+.1f KiB per player)\n",
            r.server_cpu_s, r.server_cpu_per_gb, double(r.rss_players) / 1e6,
            double(r.rss_publishing) / 1e6, r.rss_per_player / 1024);
    }
    printf("load generator %.0f%% of one core%s; publisher queue-full waits %llu\n", r.self_cpu_pct,
           r.self_cpu_pct >= kSaturatedPct
               ? " (SATURATED: figures are bounded by the bench, not the server)"
               : "",
           (unsigned long long)r.publisher_waits);
}

void Bench::print_json(const BenchArgs& a, const BenchResult& r)
{
    auto ms = [](uint64_t us) { return double(us) / 1000.0; };
    printf("{\"label\":%s,\"url\":%s,\"streams\":%u,\"players\":%u,\"idle\":%u,\"ramp\":%.0f,",
           json_str(a.label).c_str(), json_str(a.url.text()).c_str(), a.streams, a.players, a.idle,
           a.ramp);
    if (a.http_port) printf("\"players_protocol\":\"http-flv\",\"http_port\":%d,", a.http_port);
    printf(
        "\"players_ok\":%u,\"players_failed\":%u,\"players_dropped\":%u,\"players_no_frame\":%u,",
        r.players_ok, r.players_failed, r.players_dropped, r.players_no_frame);
    printf("\"idle_ok\":%u,\"idle_failed\":%u,\"window_s\":%.3f,\"bytes\":%llu,\"mbps\":%.2f,",
           r.idle_ok, r.idle_failed, r.window_s, (unsigned long long)r.window_bytes, r.mbps);
    printf(
        "\"frames\":%llu,\"lost\":%llu,\"players_with_loss\":%u,\"max_lost_per_player\":%llu,"
        "\"duplicated\":%llu,"
        "\"reordered\":%llu,\"unknown\":%llu,",
        (unsigned long long)r.frames, (unsigned long long)r.lost, r.players_with_loss,
        (unsigned long long)r.max_lost_per_player, (unsigned long long)r.duplicated,
        (unsigned long long)r.reordered, (unsigned long long)r.unknown);
    printf(
        "\"latency_p50_ms\":%.3f,\"latency_p99_ms\":%.3f,\"latency_max_ms\":%.3f,\"latency_"
        "samples\":%llu,",
        ms(r.latency_us.percentile(50)), ms(r.latency_us.percentile(99)), ms(r.latency_us.max()),
        (unsigned long long)r.latency_us.count());
    printf("\"ttff_p50_ms\":%.2f,\"ttff_p99_ms\":%.2f,\"ttff_max_ms\":%.2f,",
           ms(r.ttff_us.percentile(50)), ms(r.ttff_us.percentile(99)), ms(r.ttff_us.max()));
    printf(
        "\"server_sampled\":%s,\"server_cpu_s\":%.3f,\"server_cpu_s_per_gb\":%.4f,\"rss_base\":%"
        "llu,"
        "\"rss_idle\":%llu,\"rss_publishing\":%llu,\"rss_players\":%llu,\"rss_per_idle\":%.0f,"
        "\"rss_per_player\":%.0f,",
        r.server_sampled ? "true" : "false", r.server_cpu_s, r.server_cpu_per_gb,
        (unsigned long long)r.rss_base, (unsigned long long)r.rss_idle,
        (unsigned long long)r.rss_publishing, (unsigned long long)r.rss_players, r.rss_per_idle,
        r.rss_per_player);
    printf("\"self_cpu_pct\":%.1f,\"saturated\":%s,\"publisher_waits\":%llu,\"error\":%s}\n",
           r.self_cpu_pct, r.self_cpu_pct >= kSaturatedPct ? "true" : "false",
           (unsigned long long)r.publisher_waits, json_str(r.error).c_str());
}

}  // namespace strom::tools
