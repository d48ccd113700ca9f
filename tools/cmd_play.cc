// strom-client play URL [-o out.flv]: writes what arrives as an FLV file, or prints one
// line of figures per second.
#include <cstdio>

#include "tools/client_args.h"
#include "tools/client_loop.h"
#include "tools/commands.h"
#include "tools/flv_out.h"
#include "tools/media_stats.h"
#include "tools/play_client.h"

namespace strom::tools {

namespace {

constexpr uint64_t kStopGraceMs = 2000;

// Writes media to the FLV output (when there is one) and counts it.
class PlaySink final : public MediaHandler {
public:
    explicit PlaySink(FlvOut* out) : out_(out) {}

    void on_media(rtmp::Message& m, uint64_t now_us) override
    {
        stats.add(m, now_us);
        if (!out_ || !write_error.empty()) return;
        bool av = m.type == rtmp::msg_type::audio || m.type == rtmp::msg_type::video;
        bool meta = m.type == rtmp::msg_type::data_amf0 && is_metadata(m.payload.get(), m.length);
        if (!av && !meta) return;  // |RtmpSampleAccess and other data: not part of a file
        (void)out_->write_tag(m.type, m.timestamp, m.payload.get(), m.length, &write_error);
    }

    MediaStats stats;
    std::string write_error;

private:
    FlvOut* out_;
};

struct Snapshot {
    uint64_t bytes = 0, video = 0, audio = 0, keys = 0;
};

void per_second(const MediaStats& s, Snapshot* prev, uint64_t secs, bool to_stderr_line)
{
    Snapshot cur{s.bytes, s.video.frames, s.audio.frames, s.video.keyframes};
    double kbps = double(cur.bytes - prev->bytes) * 8 / 1000.0;
    FILE* f = to_stderr_line ? stderr : stdout;
    fprintf(
        f, "%s%5llus %8.0f kbit/s  video %3llu fps  audio %3llu/s  keyframes %llu  total %.1f MB%s",
        to_stderr_line ? "\r" : "", (unsigned long long)secs, kbps,
        (unsigned long long)(cur.video - prev->video),
        (unsigned long long)(cur.audio - prev->audio), (unsigned long long)(cur.keys - prev->keys),
        double(cur.bytes) / 1e6, to_stderr_line ? "   " : "\n");
    fflush(f);
    *prev = cur;
}

void summary(const PlayClient& c, const MediaStats& s, const PlayArgs& a, uint64_t ms,
             const FlvOut& out)
{
    double secs = double(ms) / 1000.0;
    FILE* f = a.out == "-" ? stderr : stdout;
    fprintf(f, "played %s: %llu video + %llu audio frames, %.1f MB in %.1fs (%.2f Mbit/s)",
            a.url.text().c_str(), (unsigned long long)s.video.frames,
            (unsigned long long)s.audio.frames, double(s.bytes) / 1e6, secs,
            secs > 0 ? double(s.bytes) * 8 / 1e6 / secs : 0.0);
    if (s.first_key_us) {
        fprintf(f, ", first keyframe after %.0f ms",
                double(s.first_key_us - c.connect_start_us()) / 1000.0);
    }
    if (out.tags() && a.out != "-")
        fprintf(f, "; wrote %llu tags to %s", (unsigned long long)out.tags(), a.out.c_str());
    fprintf(f, "\n");
}

// Turns the loop until the play ends: duration, Ctrl-C, idle, the server, a write
// error. Prints the per-second lines or the status line. Returns the ms played.
uint64_t run_play(ClientLoop& cl, PlayClient& c, PlaySink& sink, const PlayArgs& a,
                  const char** stop_why)
{
    bool stats_lines = a.out.empty() && !a.common.quiet;
    bool status_tty = !a.out.empty() && a.out != "-" && stderr_is_tty() && !a.common.quiet;
    bool drew = false, stopping = false;
    Snapshot prev;
    uint64_t play_start = 0, next_tick = 0, stop_deadline = 0;
    while (!c.finished()) {
        cl.turn(100);
        uint64_t now = cl.loop().now();
        if (!sink.write_error.empty()) {
            c.stop();
            break;
        }
        if (c.state() == PlayClient::State::playing && !play_start) {
            play_start = now;
            next_tick = now + 1000;
        }
        uint64_t last = c.last_media_ms() ? c.last_media_ms() : play_start;
        if (!*stop_why && cl.interrupted()) *stop_why = "interrupted";
        if (!*stop_why && play_start && a.duration_ms && now - play_start >= a.duration_ms)
            *stop_why = "duration";
        if (!*stop_why && play_start && a.idle_ms && now - last >= a.idle_ms) *stop_why = "idle";
        if (*stop_why && !stopping) {
            stopping = true;
            stop_deadline = now + kStopGraceMs;
            c.stop();
        }
        if (stopping && now >= stop_deadline) break;
        if (play_start && now >= next_tick && (stats_lines || status_tty)) {
            per_second(sink.stats, &prev, (now - play_start + 500) / 1000, status_tty);
            drew = drew || status_tty;
            next_tick += 1000;
        }
    }
    if (drew) fputs("\n", stderr);
    return play_start ? cl.loop().now() - play_start : 0;
}

}  // namespace

int cmd_play(const Args& args)
{
    if (wants_help(args, "play")) return kExitOk;
    PlayArgs a;
    std::string err;
    if (!parse_play_args(args, &a, &err)) {
        print_error(err);
        fputs(client_usage("play"), stderr);
        return kExitUsage;
    }
    Target target;
    if (!resolve_target(a.url, &target, &err)) {
        print_error(err);
        return kExitFailed;
    }
    FlvOut out;
    if (!a.out.empty() && !out.open(a.out, &err)) {
        print_error(err);
        return kExitFile;
    }
    ClientLoop cl(16, a.common.verbose);
    if (!cl.ok()) {
        print_error("cannot set up the event loop");
        return kExitFailed;
    }
    PlaySink sink(a.out.empty() ? nullptr : &out);
    PlayClient c(cl, target, a.url, a.common.timeout_ms, &sink);
    if (!c.start()) {
        print_error(c.error());
        return kExitFailed;
    }
    const char* stop_why = nullptr;
    uint64_t ms = run_play(cl, c, sink, a, &stop_why);
    cl.close_all("exiting");
    if (out.is_open() && !out.close(&err) && sink.write_error.empty()) sink.write_error = err;
    if (!sink.write_error.empty()) {
        print_error(sink.write_error);
        return kExitFile;
    }
    if (c.state() == PlayClient::State::failed) {
        print_error(c.error());
        return kExitFailed;
    }
    if (stop_why && std::string(stop_why) == "idle")
        print_error("no media for " + format_secs(a.idle_ms) + ", stopping");
    if (!a.common.quiet) summary(c, sink.stats, a, ms, out);
    if (sink.stats.bytes == 0 && c.stream_ended()) {
        print_error("the stream ended before any media arrived");
        return kExitFailed;
    }
    return kExitOk;
}

}  // namespace strom::tools
