#include "modules/api_module.h"

#include <unistd.h>

#include <algorithm>
#include <map>

#include "core/ascii.h"
#include "core/conf_setters.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/version.h"
#include "http/http_core_module.h"
#include "modules/api_auth.h"
#include "modules/api_query.h"
#include "modules/events_module.h"
#include "modules/http_access_module.h"

namespace strom::mod {

ApiModule api_module;

namespace {

constexpr uint64_t kDefaultLimit = 100;
constexpr uint64_t kMaxLimit = 1000;

const char* source_name(SourceKind k)
{
    switch (k) {
        case SourceKind::local:
            return "local-publisher";
        case SourceKind::worker_pull:
            return "worker-pull";
        case SourceKind::relay_pull:
            return "relay-pull";
        default:
            return "none";
    }
}

std::string_view app_of(std::string_view key)
{
    return key.substr(0, key.find('/'));
}
std::string_view name_of(std::string_view key)
{
    size_t slash = key.find('/');
    return slash == std::string_view::npos ? std::string_view() : key.substr(slash + 1);
}

double seconds_since(int64_t now_ms, int64_t then_ms)
{
    return then_ms > 0 && now_ms > then_ms ? double(now_ms - then_ms) / 1000.0 : 0.0;
}

std::string error_body(const char* why)
{
    std::string out;
    JsonWriter w(&out);
    w.begin_object();
    w.member("error", why);
    w.end_object();
    out.push_back('\n');
    return out;
}

// The part that knows the codecs: the owner, else any part that saw a sequence header.
const StreamFigures* codec_part(const StreamView& v)
{
    if (v.owner && (v.owner->video_codec[0] || v.owner->audio_codec[0])) return v.owner;
    for (const StreamFigures* f : v.parts) {
        if (f->video_codec[0] || f->audio_codec[0]) return f;
    }
    return v.owner;
}

void write_players(JsonWriter& w, uint32_t rtmp, uint32_t flv, uint32_t ws)
{
    w.begin_object();
    w.member("total", rtmp + flv + ws);
    w.member("rtmp", rtmp);
    w.member("http_flv", flv);
    w.member("ws_flv", ws);
    w.end_object();
}

void write_stream(JsonWriter& w, const StreamView& v, int64_t now)
{
    const StreamFigures* o = v.owner;
    uint32_t rtmp = 0, flv = 0, ws = 0;
    uint64_t dropped = 0;
    for (const StreamFigures* f : v.parts) {
        rtmp += f->players_rtmp;
        flv += f->players_http_flv;
        ws += f->players_ws_flv;
        dropped += f->dropped;
    }
    w.begin_object();
    w.member("app", app_of(v.key));
    w.member("name", name_of(v.key));
    w.member("source", source_name(o ? o->source : SourceKind::none));
    w.key("worker");
    if (o) {
        w.num(int64_t(o->pid));
    } else {
        w.null();
    }
    w.key("publisher");
    if (o && o->source == SourceKind::local) {
        w.begin_object();
        w.member("id", o->publisher_id);
        w.member("address", std::string_view(o->publisher_addr));
        w.member("protocol", std::string_view(o->publisher_proto));
        w.member("encoder", std::string_view(o->encoder));
        w.end_object();
    } else if (o) {
        w.begin_object();
        w.member("address", std::string_view(o->publisher_addr));
        w.member("protocol", std::string_view(o->publisher_proto));
        w.member("encoder", std::string_view(o->encoder));
        w.end_object();
    } else {
        w.null();
    }
    const StreamFigures* c = codec_part(v);
    w.key("video");
    if (c && c->video_codec[0]) {
        w.begin_object();
        w.member("codec", std::string_view(c->video_codec));
        w.member("profile", std::string_view(c->video_profile));
        w.member("level", std::string_view(c->video_level));
        w.member("width", c->width);
        w.member("height", c->height);
        w.key("fps");
        w.num(c->fps_milli / 1000.0);
        w.end_object();
    } else {
        w.null();
    }
    w.key("audio");
    if (c && c->audio_codec[0]) {
        w.begin_object();
        w.member("codec", std::string_view(c->audio_codec));
        w.member("profile", std::string_view(c->audio_profile));
        w.member("sample_rate", c->sample_rate);
        w.member("channels", c->channels);
        w.end_object();
    } else {
        w.null();
    }
    w.member("bytes_in", o ? o->bytes_in : uint64_t(0));
    w.member("bitrate", o ? o->bitrate : uint64_t(0));
    w.key("uptime");
    w.num(o ? seconds_since(now, o->started_ms) : 0.0, 1);
    w.key("players");
    write_players(w, rtmp, flv, ws);
    w.member("dropped", dropped);
    w.key("workers");
    w.begin_array();
    for (const StreamFigures* f : v.parts) {
        w.begin_object();
        w.member("pid", int64_t(f->pid));
        w.member("source", source_name(f->source));
        w.key("players");
        write_players(w, f->players_rtmp, f->players_http_flv, f->players_ws_flv);
        w.member("worker_pulls", f->worker_pulls);
        w.member("relay_pushes", f->relay_pushes);
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

uint64_t left_out(const StatsBoard::Snapshot& snap, bool clients)
{
    uint64_t n = 0;
    for (const WorkerFigures& f : snap.workers)
        n += clients ? f.clients_left_out : f.streams_left_out;
    return n;
}

void write_summary(JsonWriter& w, const StatsBoard::Snapshot& snap, int64_t now)
{
    uint32_t gen = 0;
    uint64_t rtmp = 0, http = 0, internal = 0, outgoing = 0, in = 0, out = 0, rin = 0, rout = 0;
    for (const WorkerFigures& f : snap.workers) {
        gen = std::max(gen, f.generation);
        rtmp += f.conns_rtmp;
        http += f.conns_http;
        internal += f.conns_internal;
        outgoing += f.conns_outgoing;
        in += f.bytes_in;
        out += f.bytes_out;
        rin += f.rate_in;
        rout += f.rate_out;
    }
    w.begin_object();
    w.member("version", kStromVersion);
    w.member("answered_by", int64_t(getpid()));
    w.key("uptime");
    w.num(seconds_since(now, snap.started_ms), 1);
    w.member("started", snap.started_ms / 1000);
    w.member("generation", gen);
    w.key("connections");
    w.begin_object();
    w.member("rtmp", rtmp);
    w.member("http", http);
    w.member("internal", internal);
    w.member("outgoing", outgoing);
    w.end_object();
    w.key("bandwidth");
    w.begin_object();
    w.member("in", rin * 8);
    w.member("out", rout * 8);
    w.end_object();
    w.member("bytes_in", in + snap.retired_bytes_in);
    w.member("bytes_out", out + snap.retired_bytes_out);
    w.member("workers_exited", snap.workers_exited);
    size_t streams = group_streams(snap).size();
    w.member("streams", uint64_t(streams));
    w.member("streams_left_out", left_out(snap, false));
    w.key("workers");
    w.begin_array();
    for (const WorkerFigures& f : snap.workers) {
        w.begin_object();
        w.member("pid", int64_t(f.pid));
        w.member("index", int64_t(f.index));
        w.member("generation", f.generation);
        w.member("state", f.draining ? "draining" : "running");
        w.member("started", f.started_ms / 1000);
        w.key("uptime");
        w.num(seconds_since(now, f.started_ms), 1);
        w.key("connections");
        w.begin_object();
        w.member("rtmp", f.conns_rtmp);
        w.member("http", f.conns_http);
        w.member("internal", f.conns_internal);
        w.member("outgoing", f.conns_outgoing);
        w.end_object();
        w.member("bytes_in", f.bytes_in);
        w.member("bytes_out", f.bytes_out);
        w.key("bandwidth");
        w.begin_object();
        w.member("in", f.rate_in * 8);
        w.member("out", f.rate_out * 8);
        w.end_object();
        w.key("cpu_seconds");
        w.num(f.cpu_ms / 1000.0, 2);
        w.member("rss_bytes", f.rss_bytes);
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

void write_client(JsonWriter& w, const ClientFigures& c, int64_t now)
{
    w.begin_object();
    w.member("id", c.id);
    w.member("worker", int64_t(c.pid));
    w.member("address", std::string_view(c.addr));
    w.member("protocol", std::string_view(c.protocol));
    w.member("role", c.role == ClientRole::publisher ? "publisher" : "player");
    w.member("app", app_of(c.key_view()));
    w.member("name", name_of(c.key_view()));
    w.member("bytes_in", c.bytes_in);
    w.member("bytes_out", c.bytes_out);
    w.member("started", c.started_ms / 1000);
    w.key("duration");
    w.num(seconds_since(now, c.started_ms), 1);
    w.member("dropped", c.dropped);
    w.end_object();
}

// Percent-decodes one path segment; false on a bad escape.
bool decode_segment(std::string_view in, std::string* out)
{
    out->clear();
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out->push_back(in[i]);
            continue;
        }
        int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
        int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
        if (hi < 0 || lo < 0) return false;
        out->push_back(char(hi * 16 + lo));
        i += 2;
    }
    return true;
}

// offset= and limit= of the clients list; nullptr, or why the query is refused.
const char* parse_paging(std::string_view q, uint64_t* offset, uint64_t* limit)
{
    *offset = 0;
    *limit = kDefaultLimit;
    const char* why = each_query_param(q, [&](std::string_view k, std::string_view v) {
        uint64_t* dst = k == "offset" ? offset : k == "limit" ? limit : nullptr;
        if (!dst) return "unknown query parameter";
        return parse_count(v, 9, dst) ? nullptr : "offset and limit must be numbers";
    });
    if (why) return why;
    if (*limit < 1 || *limit > kMaxLimit) return "limit must be 1 to 1000";
    return nullptr;
}

}  // namespace

std::string api_answer(const StatsBoard::Snapshot& snap, std::string_view path,
                       std::string_view query, int* status)
{
    int64_t now = unix_ms();
    std::string out;
    JsonWriter w(&out);
    *status = 200;
    if (path == "v1/summary" || path == "v1/streams") {
        if (!query.empty()) {
            *status = 400;
            return error_body("this resource takes no query");
        }
        if (path == "v1/summary") {
            write_summary(w, snap, now);
        } else {
            w.begin_object();
            w.key("streams");
            w.begin_array();
            for (const StreamView& v : group_streams(snap)) write_stream(w, v, now);
            w.end_array();
            w.member("left_out", left_out(snap, false));
            w.end_object();
        }
    } else if (path.substr(0, 11) == "v1/streams/") {
        std::string_view rest = path.substr(11);
        size_t slash = rest.find('/');
        std::string app, name;
        if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
            *status = 404;
            return error_body("the stream path is v1/streams/APP/NAME");
        }
        if (!decode_segment(rest.substr(0, slash), &app) ||
            !decode_segment(rest.substr(slash + 1), &name)) {
            *status = 400;
            return error_body("bad percent escape in the stream path");
        }
        std::string key = app + "/" + name;
        for (const StreamView& v : group_streams(snap)) {
            if (v.key == key) {
                write_stream(w, v, now);
                out.push_back('\n');
                return out;
            }
        }
        *status = 404;
        return error_body("no such stream");
    } else if (path == "v1/clients") {
        uint64_t offset = 0, limit = 0;
        if (const char* why = parse_paging(query, &offset, &limit)) {
            *status = 400;
            return error_body(why);
        }
        std::vector<const ClientFigures*> list;
        for (const ClientFigures& c : snap.clients) list.push_back(&c);
        std::sort(list.begin(), list.end(), [](const ClientFigures* a, const ClientFigures* b) {
            return a->pid != b->pid ? a->pid < b->pid : a->id < b->id;
        });
        w.begin_object();
        w.member("total", uint64_t(list.size()));
        w.member("offset", offset);
        w.member("limit", limit);
        w.key("clients");
        w.begin_array();
        for (uint64_t i = offset; i < list.size() && i < offset + limit; ++i) {
            write_client(w, *list[i], now);
        }
        w.end_array();
        w.member("left_out", left_out(snap, true));
        w.end_object();
    } else {
        *status = 404;
        return error_body("no such API resource");
    }
    out.push_back('\n');
    return out;
}

// --- the module -------------------------------------------------------------------------------

namespace {

using C = ApiConf;
constexpr Directive kDirectives[] = {
    {"api", kCtxLocation, ArgShape::flag(), set_flag<&C::api>},
    {"metrics", kCtxLocation, ArgShape::flag(), set_flag<&C::metrics>},
    {"metrics_max_streams", kCtxHttpAny, ArgShape::n(1),
     set_num<&C::metrics_max_streams, 0, 100000>},
};

void answer_json(http::HttpSession& s, int status, const std::string& body)
{
    s.respond(status, "application/json", body, "Cache-Control: no-store\r\n");
}

}  // namespace

std::span<const Directive> ApiModule::directives() const
{
    return kDirectives;
}

std::unique_ptr<ConfBase> ApiModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    return std::make_unique<ApiConf>();
}

const char* ApiModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel)
{
    auto& c = *static_cast<ApiConf*>(child);
    auto& p = *static_cast<const ApiConf*>(parent);
    merge_value(c.api, p.api, false);
    merge_value(c.metrics, p.metrics, false);
    merge_value(c.metrics_max_streams, p.metrics_max_streams, 100u);
    return nullptr;
}

Rc ApiModule::postconfiguration(Cycle& cycle)
{
    StatsBoard::get();
    http::content_handlers(cycle).push_back(http::ContentHandler::bind<&ApiModule::handle>(this));
    return Rc::ok;
}

Rc ApiModule::handle(http::HttpSession& s, const AppBlock& location)
{
    const ApiConf& c = location.conf<ApiConf>(*this);
    if (!*c.api && !*c.metrics) return Rc::declined;
    if (!api_authorize(s, api_tokens(location), *c.api ? "api" : "metrics")) return Rc::done;
    const http::Request& r = s.request();
    std::string_view rel = r.path.substr(std::min(r.path.size(), location.name.size()));
    while (!rel.empty() && rel[0] == '/') rel.remove_prefix(1);
    if (r.method != "GET" && r.method != "HEAD") {
        STROM_LOG(info, s.id(), "api: %.*s %.*s from %s: method not allowed", int(r.method.size()),
                  r.method.data(), int(r.path.size()), r.path.data(), s.peer());
        answer_json(s, 405, error_body("only GET and HEAD"));
        return Rc::done;
    }
    if (*c.api && rel == "v1/events/stream") {
        events_module.open_stream(s);
        return Rc::done;
    }
    StatsBoard::Snapshot snap;
    if (*c.metrics) {
        if (!rel.empty()) {
            STROM_LOG(info, s.id(), "metrics: %.*s from %s: not found", int(r.path.size()),
                      r.path.data(), s.peer());
            answer_json(s, 404, error_body("the metrics are at the location itself"));
            return Rc::done;
        }
        StatsBoard::get()->snapshot(&snap, false);
        s.respond(200, "text/plain; version=0.0.4; charset=utf-8",
                  metrics_answer(snap, *c.metrics_max_streams), "Cache-Control: no-store\r\n");
        return Rc::done;
    }
    int status = 200;
    std::string body;
    if (rel == "v1/events") {
        body = events_answer(*EventRing::get(), r.query, &status);
    } else {
        StatsBoard::get()->snapshot(&snap, rel == "v1/clients");
        body = api_answer(snap, rel, r.query, &status);
    }
    if (status != 200) {
        STROM_LOG(info, s.id(), "api: GET %.*s from %s: %d", int(r.target.size()), r.target.data(),
                  s.peer(), status);
    }
    answer_json(s, status, body);
    return Rc::done;
}

}  // namespace strom::mod
