#include "modules/events_module.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "core/connection.h"
#include "core/event_loop.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "core/process.h"
#include "http/http_session.h"
#include "media/client_request.h"
#include "modules/live_module.h"
#include "modules/api_query.h"
#include "modules/live_stream.h"
#include "modules/record_module.h"
#include "modules/stats_board.h"
#include "rtmp/hooks.h"
#include "rtmp/rtmp_core_module.h"
#include "rtmp/session.h"

namespace strom::mod {

EventsModule events_module;

namespace {

constexpr size_t kDefaultLimit = 100;
constexpr size_t kMaxLimit = 1000;

ActivityEvent blank(const char* type, pid_t pid)
{
    ActivityEvent e{};
    set_text(e.type, type);
    e.pid = pid;
    return e;
}

void set_key(ActivityEvent& e, std::string_view key)
{
    size_t slash = key.find('/');
    set_text(e.app, key.substr(0, slash));
    set_text(e.stream,
             slash == std::string_view::npos ? std::string_view() : key.substr(slash + 1));
}

// "2026-12-03T16:45:12.345Z"
void iso_time(int64_t ms, char (&out)[64])
{
    time_t sec = time_t(ms / 1000);
    tm t;
    gmtime_r(&sec, &t);
    snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1,
             t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, int(ms % 1000));
}

// A number of up to 19 digits; false on anything else.
bool parse_id(std::string_view v, uint64_t* out)
{
    return parse_count(v, 19, out);
}

const char* parse_query(std::string_view q, uint64_t* since, uint64_t* limit)
{
    *since = 0;
    *limit = kDefaultLimit;
    const char* why = each_query_param(q, [&](std::string_view k, std::string_view v) {
        uint64_t* dst = k == "since" ? since : k == "limit" ? limit : nullptr;
        if (!dst) return "unknown query parameter";
        return parse_id(v, dst) ? nullptr : "since and limit must be numbers";
    });
    if (why) return why;
    if (*limit < 1 || *limit > kMaxLimit) return "limit must be 1 to 1000";
    return nullptr;
}

std::string error_json(const char* why)
{
    std::string out;
    JsonWriter w(&out);
    w.begin_object();
    w.member("error", why);
    w.end_object();
    out.push_back('\n');
    return out;
}

// How a player reaches its stream; nullptr for the ones that are not clients (another
// worker pulling, a relay push this worker opened).
const char* player_protocol(LivePlayer& p, const char** addr)
{
    Connection& c = p.conn();
    auto* srv = static_cast<const ServerBlock*>(c.server());
    if (!srv) return nullptr;
    if (srv->proto && srv->proto->name == "http") {
        *addr = c.peer_text();
        auto* h = static_cast<http::HttpSession*>(c.handler());
        return h && h->websocket() ? "ws-flv" : "http-flv";
    }
    auto& rp = static_cast<RtmpPlayer&>(p);
    if (rp.s->internal()) return nullptr;
    *addr = rp.s->peer();
    return "rtmp";
}

}  // namespace

void write_event(JsonWriter& w, const ActivityEvent& e)
{
    char iso[64];
    iso_time(e.time_ms, iso);
    w.begin_object();
    w.member("id", e.id);
    w.member("time", e.time_ms);
    w.member("iso_time", std::string_view(iso));
    w.member("type", std::string_view(e.type));
    w.member("worker", int64_t(e.pid));
    w.member("client", e.client);
    w.member("address", std::string_view(e.addr));
    w.member("protocol", std::string_view(e.protocol));
    w.member("app", std::string_view(e.app));
    w.member("stream", std::string_view(e.stream));
    w.member("detail", std::string_view(e.detail));
    w.end_object();
}

std::string events_answer(const EventRing& ring, std::string_view query, int* status)
{
    uint64_t since = 0, limit = 0;
    if (const char* why = parse_query(query, &since, &limit)) {
        *status = 400;
        return error_json(why);
    }
    *status = 200;
    EventRing::Batch b;
    ring.read(since, size_t(limit), &b);
    std::string out;
    JsonWriter w(&out);
    w.begin_object();
    w.member("next", b.next);
    w.member("last", ring.last_id());
    w.member("lost", b.lost);
    w.key("events");
    w.begin_array();
    for (const ActivityEvent& e : b.events) write_event(w, e);
    w.end_array();
    w.end_object();
    out.push_back('\n');
    return out;
}

// --- the SSE feed -----------------------------------------------------------------------------

// One open v1/events/stream answer; owned by its HttpSession, listed by the module until
// the connection closes.
class SseClient final : public http::HttpStream {
public:
    SseClient(http::HttpSession& s, uint64_t last, uint64_t now) : s_(s), last_(last), wrote_(now)
    {
    }
    void on_http_close(http::HttpSession&, const char*) override
    {
        events_module.close_stream(this);
    }

    http::HttpSession& s_;
    uint64_t last_;   // the id of the last event sent
    uint64_t wrote_;  // loop ms of the last write
    bool ended_ = false;
};

void EventsModule::open_stream(http::HttpSession& s)
{
    uint64_t last = EventRing::get()->last_id();
    std::string_view h = s.request().header("Last-Event-ID");
    if (!h.empty() && !parse_id(h, &last)) {
        STROM_LOG(info, s.id(), "api: events stream from %s: bad Last-Event-ID", s.peer());
        s.respond(400, "application/json", error_json("Last-Event-ID must be an event id"),
                  "Cache-Control: no-store\r\n");
        return;
    }
    if (s.head_only()) {
        s.respond(200, "text/event-stream", {}, "Cache-Control: no-store\r\n");
        return;
    }
    auto c = std::make_unique<SseClient>(s, last, s.conn().loop().now());
    SseClient* p = c.get();
    if (!s.start_stream(200, "text/event-stream", "Cache-Control: no-store\r\n", std::move(c))) {
        if (!s.conn().closing()) s.conn().close_after_flush("cannot start the event stream");
        return;
    }
    clients_.push_back(p);
    // retry: the reconnection delay EventSource waits (HTML, 9.2.6).
    if (!s.send_copy("retry: 2000\n\n")) {
        p->ended_ = true;
        s.end_stream("event stream not writable");  // may destroy p
        return;
    }
    feed(*p, s.conn().loop().now());  // what happened after Last-Event-ID
}

void EventsModule::close_stream(SseClient* c)
{
    std::erase(clients_, c);
}

void EventsModule::feed(SseClient& c, uint64_t now)
{
    if (c.ended_) return;
    EventRing::Batch b;
    EventRing::get()->read(c.last_, kSseBatch, &b);
    std::string out;
    if (b.lost) out += ": " + std::to_string(b.lost) + " events lost\n\n";
    char head[64];
    for (const ActivityEvent& e : b.events) {
        snprintf(head, sizeof head, "id: %llu\nevent: %s\ndata: ", (unsigned long long)e.id,
                 e.type);
        out += head;
        JsonWriter w(&out);  // one line: the writer escapes newlines inside strings
        write_event(w, e);
        out += "\n\n";
    }
    c.last_ = b.next;
    if (out.empty() && now - c.wrote_ >= kKeepAliveMs) out = ": keep-alive\n\n";
    if (out.empty()) return;
    c.wrote_ = now;
    if (!c.s_.send_copy(out)) {
        // Its queue is full: a client that does not read loses the feed, not the worker.
        // end_stream may destroy c: nothing of it is touched after.
        STROM_LOG(info, c.s_.id(), "api: events stream to %s: cannot queue, closing", c.s_.peer());
        c.ended_ = true;
        c.s_.end_stream("event stream client too slow");
    }
}

void EventsModule::on_poll(Timer& t)
{
    auto* m = static_cast<EventsModule*>(t.arg);
    WorkerContext* w = current_worker();
    if (!w) return;
    uint64_t now = w->loop->now();
    std::vector<SseClient*> list = m->clients_;  // a close while feeding edits clients_
    for (SseClient* c : list) {
        if (w->draining) {
            if (c->ended_) continue;
            c->ended_ = true;  // before: end_stream may destroy c (the session's close)
            c->s_.end_stream("worker shutting down");
        } else {
            m->feed(*c, now);
        }
    }
    w->loop->add_timer(t, kPollMs);
}

// --- the writers ------------------------------------------------------------------------------

Rc EventsModule::postconfiguration(Cycle& cycle)
{
    EventRing::get();  // mapped in the master, before any worker is forked
    StreamEvents& ev = stream_events(cycle);
    ev.published.push_back(media::Listener<LiveStream&>::bind<&EventsModule::on_published>(this));
    ev.unpublished.push_back(
        media::Listener<LiveStream&>::bind<&EventsModule::on_unpublished>(this));
    ev.player_started.push_back(
        media::Listener<LiveStream&, LivePlayer&>::bind<&EventsModule::on_player_started>(this));
    ev.player_stopped.push_back(
        media::Listener<LiveStream&, LivePlayer&>::bind<&EventsModule::on_player_stopped>(this));
    rtmp::hooks(cycle).refused.push_back(
        rtmp::Notify<rtmp::Session&, const char*, const std::string&, const char*,
                     std::string_view>::bind<&EventsModule::on_rtmp_refused>(this));
    ev.record_done.push_back(
        media::Listener<const RecordDone&>::bind<&EventsModule::on_record_done>(this));
    return Rc::ok;
}

Rc EventsModule::init_process(Cycle&)
{
    WorkerContext* w = current_worker();
    if (!w) return Rc::ok;
    pid_ = getpid();
    ActivityEvent e = blank("worker-start", pid_);
    snprintf(e.detail, sizeof e.detail, "worker %d, generation %u", w->index, w->generation);
    (void)EventRing::get()->append(e);
    poll_.fn = &EventsModule::on_poll;
    poll_.arg = this;
    w->loop->add_timer(poll_, kPollMs);
    return Rc::ok;
}

void EventsModule::exit_process(Cycle&)
{
    WorkerContext* w = current_worker();
    if (!w) return;
    w->loop->cancel_timer(poll_);
    ActivityEvent e = blank("worker-exit", pid_);
    snprintf(e.detail, sizeof e.detail, "worker %d, generation %u", w->index, w->generation);
    (void)EventRing::get()->append(e);
}

void EventsModule::stream_event(const char* type, LiveStream& st)
{
    LiveSource* src = st.source();
    // pulls from another worker or server are not clients
    if (pid_ == 0 || !src || src->kind() != LiveSource::Kind::publisher) return;
    ActivityEvent e = blank(type, pid_);
    e.client = src->log_id();
    set_text(e.addr, src->peer());
    set_text(e.protocol, src->protocol());
    set_key(e, st.key());
    (void)EventRing::get()->append(e);
}

void EventsModule::on_published(LiveStream& st)
{
    stream_event("publish", st);
}
void EventsModule::on_unpublished(LiveStream& st)
{
    stream_event("unpublish", st);
}

void EventsModule::player_event(const char* type, LiveStream& st, LivePlayer& p)
{
    const char* addr = "";
    const char* proto = pid_ ? player_protocol(p, &addr) : nullptr;
    if (!proto) return;
    ActivityEvent e = blank(type, pid_);
    e.client = p.log_id();
    set_text(e.addr, addr);
    set_text(e.protocol, proto);
    set_key(e, st.key());
    (void)EventRing::get()->append(e);
}

void EventsModule::on_player_started(LiveStream& st, LivePlayer& p)
{
    player_event("play", st, p);
}
void EventsModule::on_player_stopped(LiveStream& st, LivePlayer& p)
{
    player_event("stop", st, p);
}

void EventsModule::on_rtmp_refused(rtmp::Session& s, const char* op, const std::string& name,
                                   const char* code, std::string_view description)
{
    if (pid_ == 0) return;
    ActivityEvent e = blank("refused", pid_);
    e.client = s.id();
    set_text(e.addr, s.peer());
    set_text(e.protocol, "rtmp");
    set_text(e.app, s.app_name());
    set_text(e.stream, name);
    std::string d = std::string(op) + ": " + code + ": " + std::string(description);
    set_text(e.detail, d);
    (void)EventRing::get()->append(e);
}

void EventsModule::refused(const media::ClientRequest& q, std::string_view why)
{
    if (pid_ == 0) return;
    ActivityEvent e = blank("refused", pid_);
    e.client = q.id;
    set_text(e.addr, q.peer);
    set_text(e.protocol, q.protocol);
    set_text(e.app, q.app_name);
    set_text(e.stream, q.name);
    std::string d = std::string(q.action == media::Action::publish ? "publish" : "play") + ": ";
    d += why;
    set_text(e.detail, d);
    (void)EventRing::get()->append(e);
}

void EventsModule::refused_connection(uint64_t id, const char* peer, const char* protocol,
                                      std::string_view why)
{
    if (pid_ == 0) return;
    ActivityEvent e = blank("refused", pid_);
    e.client = id;
    set_text(e.addr, peer);
    set_text(e.protocol, protocol);
    std::string d = "connect: ";
    d += why;
    set_text(e.detail, d);
    (void)EventRing::get()->append(e);
}

void EventsModule::on_record_done(const RecordDone& ev)
{
    if (pid_ == 0) return;
    ActivityEvent e = blank("record-done", pid_);
    e.client = ev.session_id;
    set_text(e.app, ev.app);
    set_text(e.stream, ev.name);
    set_text(e.detail, ev.path);
    (void)EventRing::get()->append(e);
}

}  // namespace strom::mod
