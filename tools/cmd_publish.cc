// strom-client publish FILE.flv URL: one Publisher, a live status line on a terminal,
// a summary at the end.
#include <cstdio>

#include "tools/client_args.h"
#include "tools/client_loop.h"
#include "tools/commands.h"
#include "tools/flv_file.h"
#include "tools/publisher.h"

namespace strom::tools {

namespace {

constexpr uint64_t kStopGraceMs = 3000;

void status_line(const Publisher& p, uint64_t* last_bytes, uint64_t* last_ms, uint64_t now)
{
    uint64_t b = p.bytes();
    double secs = double(now - *last_ms) / 1000.0;
    double kbps = secs > 0 ? double(b - *last_bytes) * 8 / 1000.0 / secs : 0;
    *last_bytes = b;
    *last_ms = now;
    uint64_t t = p.publishing_ms() / 1000;
    fprintf(stderr, "\r  %02llu:%02llu  %8.0f kbit/s  video %-7llu audio %-7llu media %.1fs",
            (unsigned long long)(t / 60), (unsigned long long)(t % 60), kbps,
            (unsigned long long)p.frames(1), (unsigned long long)p.frames(0),
            p.media_ms() / 1000.0);
    if (p.loops()) fprintf(stderr, "  loop %llu", (unsigned long long)p.loops());
    fputs("   ", stderr);
    fflush(stderr);
}

void summary(const Publisher& p, const PublishArgs& a)
{
    double secs = p.publishing_ms() / 1000.0;
    double mbps = secs > 0 ? double(p.bytes()) * 8 / 1e6 / secs : 0;
    printf(
        "published %s to %s: %llu video + %llu audio frames, %.1fs of media in %.1fs, "
        "%.2f Mbit/s, %llu bytes sent",
        a.file.c_str(), a.url.text().c_str(), (unsigned long long)p.frames(1),
        (unsigned long long)p.frames(0), p.media_ms() / 1000.0, secs, mbps,
        (unsigned long long)p.wire_bytes());
    if (p.loops()) printf(", %llu loops", (unsigned long long)p.loops());
    printf("\n");
}

}  // namespace

int cmd_publish(const Args& args)
{
    if (wants_help(args, "publish")) return kExitOk;
    PublishArgs a;
    std::string err;
    if (!parse_publish_args(args, &a, &err)) {
        print_error(err);
        fputs(client_usage("publish"), stderr);
        return kExitUsage;
    }
    FlvFile file;
    if (!file.load(a.file, &err)) {
        print_error(err);
        return kExitFile;
    }
    if (file.truncated())
        print_error("warning: \"" + a.file + "\" ends inside a tag; publishing what is complete");
    Target target;
    if (!resolve_target(a.url, &target, &err)) {
        print_error(err);
        return kExitFailed;
    }
    ClientLoop cl(16, a.common.verbose);
    if (!cl.ok()) {
        print_error("cannot set up the event loop");
        return kExitFailed;
    }
    Publisher::Options o;
    o.speed = a.speed;
    o.loop = a.loop;
    o.duration_ms = a.duration_ms;
    o.timeout_ms = a.common.timeout_ms;
    Publisher p(cl, file, target, a.url, o);
    if (!p.start()) {
        print_error(p.error());
        return kExitFailed;
    }
    bool tty = stderr_is_tty() && !a.common.quiet, drew = false, stopping = false;
    uint64_t last_bytes = 0, last_ms = cl.loop().now(), next_status = cl.loop().now() + 1000;
    uint64_t stop_deadline = 0;
    while (!p.finished()) {
        cl.turn(100);
        uint64_t now = cl.loop().now();
        if (cl.interrupted() && !stopping) {
            stopping = true;
            stop_deadline = now + kStopGraceMs;
            p.stop();
        }
        if (stopping && now >= stop_deadline) break;
        if (tty && p.state() == Publisher::State::publishing && now >= next_status) {
            status_line(p, &last_bytes, &last_ms, now);
            drew = true;
            next_status = now + 1000;
        }
    }
    if (drew) fputs("\n", stderr);
    cl.close_all("exiting");
    if (p.state() == Publisher::State::failed) {
        print_error(p.error());
        if (p.frames(0) + p.frames(1)) summary(p, a);
        return kExitFailed;
    }
    if (!a.common.quiet) summary(p, a);
    return kExitOk;
}

}  // namespace strom::tools
