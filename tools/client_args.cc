#include "tools/client_args.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace strom::tools {

namespace {

constexpr uint64_t kDayMs = 24ull * 3600 * 1000;

bool parse_number(std::string_view s, double* out)
{
    if (s.empty() || s.size() > 32) return false;
    char buf[40];
    memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    char* end = nullptr;
    double v = strtod(buf, &end);
    if (end != buf + s.size() || !std::isfinite(v)) return false;
    // strtod takes "1e3", "0x10", "inf": only plain decimals are meant here.
    for (char ch : s) {
        if (!(ch >= '0' && ch <= '9') && ch != '.') return false;
    }
    *out = v;
    return true;
}

bool parse_uint(std::string_view s, uint64_t max, uint64_t* out)
{
    if (s.empty() || s.size() > 19) return false;
    uint64_t v = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9') return false;
        v = v * 10 + uint64_t(ch - '0');
    }
    if (v > max) return false;
    *out = v;
    return true;
}

// Walks "--name value", "--name=value", "-o value" and positional arguments.
class Walker {
public:
    Walker(const std::vector<std::string_view>& a, std::string* err) : a_(a), err_(err) {}

    bool done() const { return i_ >= a_.size(); }
    // The next argument: an option (name set, value maybe inline) or a positional.
    bool next(std::string_view* name, std::string_view* positional)
    {
        std::string_view s = a_[i_++];
        *name = {};
        *positional = {};
        inline_ = false;
        if (s.size() > 1 && s[0] == '-' && !(s[1] >= '0' && s[1] <= '9')) {
            size_t eq = s.find('=');
            if (eq != std::string_view::npos) {
                inline_ = true;
                value_ = s.substr(eq + 1);
                s = s.substr(0, eq);
            }
            *name = s;
            return true;
        }
        *positional = s;
        return true;
    }
    bool value(std::string_view name, std::string_view* v)
    {
        if (inline_) {
            *v = value_;
            inline_ = false;
            return true;
        }
        if (i_ >= a_.size()) {
            *err_ = "option " + std::string(name) + " needs a value";
            return false;
        }
        *v = a_[i_++];
        return true;
    }
    bool no_value(std::string_view name)
    {
        if (!inline_) return true;
        *err_ = "option " + std::string(name) + " takes no value";
        return false;
    }
    bool bad(std::string_view name, std::string_view v, const char* expect)
    {
        *err_ = "invalid value \"" + std::string(v) + "\" for " + std::string(name) + " (" +
                expect + ")";
        return false;
    }

private:
    const std::vector<std::string_view>& a_;
    std::string* err_;
    size_t i_ = 0;
    bool inline_ = false;
    std::string_view value_;
};

enum class Opt { taken, unknown, bad };

Opt common_option(Walker& w, std::string_view name, CommonArgs* c)
{
    std::string_view v;
    if (name == "--timeout") {
        if (!w.value(name, &v)) return Opt::bad;
        if (!parse_duration_ms(v, &c->timeout_ms) || c->timeout_ms == 0) {
            w.bad(name, v, "a duration such as 10s or 500ms");
            return Opt::bad;
        }
        return Opt::taken;
    }
    if (name == "-q" || name == "--quiet")
        return w.no_value(name) ? (c->quiet = true, Opt::taken) : Opt::bad;
    if (name == "-v" || name == "--verbose")
        return w.no_value(name) ? (c->verbose = true, Opt::taken) : Opt::bad;
    return Opt::unknown;
}

bool unknown_option(std::string_view name, std::string_view cmd, std::string* err)
{
    *err = "unknown option " + std::string(name) + " for \"" + std::string(cmd) + "\"";
    return false;
}

bool duration_option(Walker& w, std::string_view name, uint64_t* out, bool allow_zero)
{
    std::string_view v;
    if (!w.value(name, &v)) return false;
    if (!parse_duration_ms(v, out) || (!allow_zero && *out == 0)) {
        return w.bad(name, v, "a duration such as 10s, 500ms or 2m");
    }
    return true;
}

bool count_option(Walker& w, std::string_view name, uint64_t max, uint32_t* out)
{
    std::string_view v;
    uint64_t n = 0;
    if (!w.value(name, &v)) return false;
    if (!parse_uint(v, max, &n))
        return w.bad(name, v, ("a whole number up to " + std::to_string(max)).c_str());
    *out = uint32_t(n);
    return true;
}

}  // namespace

bool parse_duration_ms(std::string_view s, uint64_t* out)
{
    double mult = 1000;
    if (s.size() > 2 && s.substr(s.size() - 2) == "ms") {
        mult = 1;
        s.remove_suffix(2);
    } else if (!s.empty() && (s.back() == 's' || s.back() == 'm' || s.back() == 'h')) {
        mult = s.back() == 's' ? 1000 : s.back() == 'm' ? 60000 : 3600000;
        s.remove_suffix(1);
    }
    double v = 0;
    if (!parse_number(s, &v) || v < 0) return false;
    double ms = v * mult;
    if (ms > double(kDayMs)) return false;
    *out = uint64_t(std::llround(ms));
    return true;
}

bool parse_speed(std::string_view s, double* out)
{
    if (s == "max") {
        *out = 0;
        return true;
    }
    double v = 0;
    if (!parse_number(s, &v) || v < 0.01 || v > 1000) return false;
    *out = v;
    return true;
}

bool parse_publish_args(const std::vector<std::string_view>& args, PublishArgs* out,
                        std::string* err)
{
    PublishArgs p;
    Walker w(args, err);
    std::vector<std::string_view> pos;
    while (!w.done()) {
        std::string_view name, positional, v;
        w.next(&name, &positional);
        if (name.empty()) {
            pos.push_back(positional);
            continue;
        }
        Opt o = common_option(w, name, &p.common);
        if (o == Opt::bad) return false;
        if (o == Opt::taken) continue;
        if (name == "--loop") {
            if (!w.no_value(name)) return false;
            p.loop = true;
        } else if (name == "--speed") {
            if (!w.value(name, &v)) return false;
            if (!parse_speed(v, &p.speed))
                return w.bad(name, v, "1 for real time, max, or a factor 0.01..1000");
        } else if (name == "--duration") {
            if (!duration_option(w, name, &p.duration_ms, false)) return false;
        } else {
            return unknown_option(name, "publish", err);
        }
    }
    if (pos.size() != 2) {
        *err = pos.size() < 2 ? "publish needs a FILE.flv and an rtmp:// URL"
                              : "publish takes one file and one URL";
        return false;
    }
    p.file = std::string(pos[0]);
    if (!parse_rtmp_url(pos[1], true, &p.url, err)) return false;
    *out = std::move(p);
    return true;
}

bool parse_play_args(const std::vector<std::string_view>& args, PlayArgs* out, std::string* err)
{
    PlayArgs p;
    Walker w(args, err);
    std::vector<std::string_view> pos;
    while (!w.done()) {
        std::string_view name, positional, v;
        w.next(&name, &positional);
        if (name.empty()) {
            pos.push_back(positional);
            continue;
        }
        Opt o = common_option(w, name, &p.common);
        if (o == Opt::bad) return false;
        if (o == Opt::taken) continue;
        if (name == "-o" || name == "--output") {
            if (!w.value(name, &v)) return false;
            if (v.empty()) return w.bad(name, v, "a file name, or - for standard output");
            p.out = std::string(v);
        } else if (name == "--duration" || name == "-t") {
            if (!duration_option(w, name, &p.duration_ms, false)) return false;
        } else if (name == "--idle-timeout") {
            if (!duration_option(w, name, &p.idle_ms, true)) return false;
        } else {
            return unknown_option(name, "play", err);
        }
    }
    if (pos.size() != 1) {
        *err = pos.empty() ? "play needs an rtmp:// URL" : "play takes one URL";
        return false;
    }
    if (!parse_rtmp_url(pos[0], true, &p.url, err)) return false;
    *out = std::move(p);
    return true;
}

bool parse_probe_args(const std::vector<std::string_view>& args, ProbeArgs* out, std::string* err)
{
    ProbeArgs p;
    Walker w(args, err);
    std::vector<std::string_view> pos;
    while (!w.done()) {
        std::string_view name, positional;
        w.next(&name, &positional);
        if (name.empty()) {
            pos.push_back(positional);
            continue;
        }
        Opt o = common_option(w, name, &p.common);
        if (o == Opt::bad) return false;
        if (o == Opt::taken) continue;
        if (name == "--duration" || name == "-t") {
            if (!duration_option(w, name, &p.duration_ms, false)) return false;
        } else if (name == "--json") {
            if (!w.no_value(name)) return false;
            p.json = true;
        } else {
            return unknown_option(name, "probe", err);
        }
    }
    if (pos.size() != 1) {
        *err = pos.empty() ? "probe needs an rtmp:// URL" : "probe takes one URL";
        return false;
    }
    if (!parse_rtmp_url(pos[0], true, &p.url, err)) return false;
    *out = std::move(p);
    return true;
}

namespace {

Opt bench_option(Walker& w, std::string_view name, BenchArgs* b)
{
    std::string_view v;
    auto ok = [](bool r) { return r ? Opt::taken : Opt::bad; };
    if (name == "--file") {
        if (!w.value(name, &v)) return Opt::bad;
        b->file = std::string(v);
        return Opt::taken;
    }
    if (name == "--streams") {
        if (!count_option(w, name, 10000, &b->streams)) return Opt::bad;
        return b->streams ? Opt::taken : (w.bad(name, "0", "at least 1"), Opt::bad);
    }
    if (name == "--players") return ok(count_option(w, name, 200000, &b->players));
    if (name == "--idle") return ok(count_option(w, name, 200000, &b->idle));
    if (name == "--ramp") {
        if (!w.value(name, &v)) return Opt::bad;
        if (v == "0" || v == "all") {
            b->ramp = 0;
            return Opt::taken;
        }
        if (!parse_speed(v, &b->ramp))
            return (w.bad(name, v, "connections per second, or 0 for all at once"), Opt::bad);
        return Opt::taken;
    }
    if (name == "--warmup") return ok(duration_option(w, name, &b->warmup_ms, true));
    if (name == "--duration" || name == "-t")
        return ok(duration_option(w, name, &b->duration_ms, false));
    if (name == "--stream-prefix") {
        if (!w.value(name, &v)) return Opt::bad;
        if (v.empty() || v.find('/') != std::string_view::npos)
            return (w.bad(name, v, "a name without '/'"), Opt::bad);
        b->stream_prefix = std::string(v);
        return Opt::taken;
    }
    if (name == "--no-publish")
        return w.no_value(name) ? (b->no_publish = true, Opt::taken) : Opt::bad;
    if (name == "--json") return w.no_value(name) ? (b->json = true, Opt::taken) : Opt::bad;
    if (name == "--server-pid") {
        uint32_t pid = 0;
        if (!count_option(w, name, 0x3fffffff, &pid)) return Opt::bad;
        b->server_pid = int(pid);
        return Opt::taken;
    }
    if (name == "--http-port") {
        uint32_t port = 0;
        if (!count_option(w, name, 65535, &port)) return Opt::bad;
        if (!port) return (w.bad(name, "0", "a port from 1 to 65535"), Opt::bad);
        b->http_port = int(port);
        return Opt::taken;
    }
    if (name == "--label") {
        if (!w.value(name, &v)) return Opt::bad;
        b->label = std::string(v);
        return Opt::taken;
    }
    return Opt::unknown;
}

}  // namespace

bool parse_bench_args(const std::vector<std::string_view>& args, BenchArgs* out, std::string* err)
{
    BenchArgs b;
    Walker w(args, err);
    std::vector<std::string_view> pos;
    while (!w.done()) {
        std::string_view name, positional;
        w.next(&name, &positional);
        if (name.empty()) {
            pos.push_back(positional);
            continue;
        }
        Opt o = common_option(w, name, &b.common);
        if (o == Opt::unknown) o = bench_option(w, name, &b);
        if (o == Opt::bad) return false;
        if (o == Opt::unknown) return unknown_option(name, "bench", err);
    }
    if (pos.size() != 1) {
        *err = pos.empty() ? "bench needs an rtmp://host[:port]/app URL" : "bench takes one URL";
        return false;
    }
    if (!parse_rtmp_url(pos[0], false, &b.url, err)) return false;
    if (b.file.empty() && !b.no_publish) {
        *err = "bench needs --file FILE.flv for its publishers (or --no-publish)";
        return false;
    }
    if (b.players == 0 && b.idle == 0 && b.no_publish) {
        *err = "bench has nothing to do: give --players or --idle";
        return false;
    }
    *out = std::move(b);
    return true;
}

const char* client_usage(std::string_view name)
{
    if (name == "publish") {
        return "usage: strom-client publish FILE.flv rtmp://host[:port]/app/stream [--loop]\n"
               "           [--speed 1|max|FACTOR] [--duration 30s] [--timeout 10s] [-q] [-v]\n";
    }
    if (name == "play") {
        return "usage: strom-client play rtmp://host[:port]/app/stream [-o out.flv|-] [--duration "
               "10s]\n"
               "           [--idle-timeout 5s] [--timeout 10s] [-q] [-v]\n";
    }
    if (name == "probe") {
        return "usage: strom-client probe rtmp://host[:port]/app/stream [--duration 5s] [--json]\n"
               "           [--timeout 10s] [-v]\n";
    }
    if (name == "bench") {
        return "usage: strom-client bench rtmp://host[:port]/app --file FILE.flv [--streams S]\n"
               "           [--players N] [--idle N] [--ramp PER_SEC|0] [--warmup 3s] [--duration "
               "10s]\n"
               "           [--stream-prefix bench] [--no-publish] [--server-pid PID] [--json]\n"
               "           [--label TEXT] [--http-port PORT] [--timeout 10s]\n"
               "  --http-port PORT: the players are HTTP-FLV players of the same streams\n"
               "           (GET http://host:PORT/app/NAME.flv); publishers stay RTMP\n";
    }
    return "usage: strom-client COMMAND ...\n"
           "  publish FILE.flv URL [--loop] [--speed 1|max]   publish an FLV file, paced\n"
           "  play URL [-o out.flv] [--duration 10s]          play; write FLV or print stats\n"
           "  probe URL                                       codecs, rate, keyframes, latency\n"
           "  bench URL --file F [--players N] ...            load test (see bench --help)\n"
           "  token --secret S --app A --stream N --ttl 1h    print a signed URL (secure_token)\n"
           "URL: rtmp://host[:port]/app/stream (port 1935 by default)\n"
           "Run 'strom-client COMMAND --help' for a command's options.\n";
}

}  // namespace strom::tools
