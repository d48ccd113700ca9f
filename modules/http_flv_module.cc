#include "modules/http_flv_module.h"

#include "core/ascii.h"
#include "core/conf_setters.h"
#include "core/log.h"
#include "http/http_core_module.h"
#include "http/websocket.h"
#include "modules/events_module.h"
#include "modules/live_module.h"
#include "modules/live_stream.h"
#include "modules/notify_module.h"
#include "modules/stream_gate.h"
#include "rtmp/flv.h"
#include "rtmp/rtmp_core_module.h"

namespace strom::mod {

HttpFlvModule http_flv_module;

namespace {

using http::HttpSession;

// One HTTP-FLV or WebSocket-FLV player: a sink of a live stream that owns nothing but its
// place there; its HttpSession owns it and tells it when the connection closes.
class FlvPlayer final : public LivePlayer, public http::HttpStream {
public:
    FlvPlayer(HttpSession& s, bool ws, const media::ClientRequest& q, bool wait)
        : s_(s), ws_(ws), q_(q), wait_(wait), key_(q.app_name + "/" + q.name)
    {
    }
    ~FlvPlayer() override
    {
        if (call_) call_->cancel();
        notify_module.stop_update(update_);
    }

    Connection& conn() override { return s_.conn(); }
    uint64_t log_id() const override { return s_.id(); }

    bool frame(LiveStream& st, LiveMsg& m, BufRef* out, size_t* size) override
    {
        BufRef& cached = ws_ ? m.ws_flv : m.flv;
        uint32_t& cached_size = ws_ ? m.ws_flv_size : m.flv_size;
        if (!cached && !build(st, m, &cached, &cached_size)) return false;
        *out = cached;
        *size = cached_size;
        return true;
    }

    void publisher_ended(LiveStream&) override { end("stream unpublished"); }
    void fail(const std::string&) override { end("relay failed"); }

    void on_http_close(HttpSession&, const char* reason) override
    {
        if (call_) {
            call_->cancel();  // it left while on_play was asked
            call_ = nullptr;
        }
        notify_module.stop_update(update_);
        if (!joined_) return;
        STROM_LOG(info, s_.id(),
                  "%s player of \"%s\" from %s closed: %s (%llu bytes, %llu dropped)",
                  ws_ ? "ws-flv" : "http-flv", key_.c_str(), s_.peer(), reason,
                  (unsigned long long)bytes, (unsigned long long)dropped);
        if (stream) stream->registry().remove_player(*this);
        notify_module.play_done(q_, s_.conn().table());
    }

    // on_play of the application, when it has one: true when the answer is awaited (the
    // session is suspended with this player as its owner).
    bool ask_notify(bool* refused)
    {
        bool none = false;
        call_ = notify_module.gate_play(q_, s_.conn().table(), gate_, &FlvPlayer::on_verdict, this,
                                        &none);
        *refused = !call_ && !none;
        return call_ != nullptr;
    }

    // Joins the stream: the answer's head, the FLV header, then the stream's cached start.
    // `owned`: this player, when the session does not own it yet. The request is answered
    // (or the connection closed) when this returns.
    void begin(std::unique_ptr<FlvPlayer> owned);

    // The FLV file header (and PreviousTagSize0), flags from what the stream carries.
    bool send_header(LiveStream* st)
    {
        bool audio = true, video = true;
        if (st && st->has_publisher()) st->tracks(&audio, &video);
        uint8_t buf[http::ws::kMaxFrameHeader + rtmp::kFlvFileStartSize];
        size_t n = 0;
        if (ws_)
            n = http::ws::write_frame_header(buf, http::ws::kBinary, true, rtmp::kFlvFileStartSize);
        rtmp::flv_write_header(buf + n, audio, video);
        n += rtmp::kFlvFileStartSize;
        return s_.send_copy(std::string_view(reinterpret_cast<char*>(buf), n));
    }

private:
    // The tag built once per message and format: [WebSocket header] tag header, payload,
    // PreviousTagSize, copied once into pool blocks shared by every player of the format.
    bool build(LiveStream& st, LiveMsg& m, BufRef* out, uint32_t* size)
    {
        if (m.len > rtmp::kFlvMaxDataSize) return false;
        Chain ch(st.loop()->pool());
        if (ws_) {
            uint8_t hdr[http::ws::kMaxFrameHeader];
            uint64_t len = rtmp::kFlvTagHeaderSize + uint64_t(m.len) + rtmp::kFlvBackPointerSize;
            size_t n = http::ws::write_frame_header(hdr, http::ws::kBinary, true, len);
            if (ch.append(hdr, n) != Rc::ok) return false;
        }
        if (rtmp::flv_append_tag(ch, m.type, m.ts, m.payload.get()) != Rc::ok) return false;
        *size = uint32_t(ch.size());
        *out = ch.take();
        return true;
    }

    void end(const char* reason)
    {
        if (ws_ && !s_.conn().closing()) {
            uint8_t frame[http::ws::kMaxCloseFrame];
            size_t n = http::ws::write_close_frame(frame, http::ws::kCloseNormal, reason);
            (void)s_.send_copy(std::string_view(reinterpret_cast<char*>(frame), n));
        }
        s_.end_stream(reason);
    }

    static void on_verdict(void* arg, const NotifyModule::PlayVerdict& v);
    static void on_update_refused(void* arg)
    {
        static_cast<FlvPlayer*>(arg)->end("ended by notify update");
    }
    void refuse(int status, const char* why, bool async)
    {
        if (async) {
            s_.fail(status, why);
        } else {
            s_.respond_error(status, why);
        }
    }

    HttpSession& s_;
    bool ws_;
    media::ClientRequest q_;
    bool wait_;
    std::string key_;
    NotifyModule::PlayGate gate_;
    HttpCall* call_ = nullptr;
    NotifyModule::Update update_;  // on_update while it plays
    bool joined_ = false;
};

void FlvPlayer::on_verdict(void* arg, const NotifyModule::PlayVerdict& v)
{
    auto* p = static_cast<FlvPlayer*>(arg);
    p->call_ = nullptr;
    if (!v.allow) {
        events_module.refused(p->q_, "rejected by on_play");
        p->s_.fail(403, "rejected by on_play");
        return;
    }
    if (!v.name.empty() && !v.relay) {  // a 3xx renamed the stream
        p->q_.name = v.name;
        p->q_.args = v.args;
        p->key_ = p->q_.app_name + "/" + v.name;
    }
    if (v.relay) {
        const char* err = "";
        RelayPull rp =
            stream_registry(*p->q_.app).relay_pull(*p->q_.app, p->q_.name, v.target, p->s_.conn().loop(), &err);
        if (rp == RelayPull::failed) {
            STROM_LOG(warn, p->s_.id(), "notify play relay: cannot pull \"%s\" from %s: %s",
                      p->key_.c_str(), v.target.url().c_str(), err);
            p->s_.fail(502, "relay failed");
            return;
        }
        STROM_LOG(info, p->s_.id(), "notify play relay: %s \"%s\" from %s",
                  rp == RelayPull::started ? "pulling" : "joining", p->key_.c_str(),
                  v.target.url().c_str());
    }
    p->begin(nullptr);
}

void FlvPlayer::begin(std::unique_ptr<FlvPlayer> owned)
{
    bool async = !owned;
    const char* proto = q_.protocol;
    if (const char* why = stream_registry(*q_.app).play_refusal(*q_.app, q_.name, wait_)) {
        STROM_LOG(info, s_.id(), "%s play \"%s\" from %s: %s", proto, key_.c_str(), s_.peer(), why);
        stream_registry(*q_.app).release_if_unused(key_);
        events_module.refused(q_, why);
        refuse(404, "stream not found", async);
        return;
    }
    HttpSession& s = s_;  // a start that fails has destroyed the player it was given
    bool started =
        ws_ ? s.upgrade_websocket(std::move(owned))
            : s.start_stream(200, "video/x-flv", "Cache-Control: no-cache\r\n", std::move(owned));
    if (!started) {
        if (!s.conn().closing()) s.conn().close_after_flush("cannot start the stream");
        return;
    }
    // The slow-player policy of the application's RTMP players: the same out-queue bounds.
    const rtmp::RtmpCoreConf& rc = rtmp::rtmp_conf(*q_.app->server);
    s_.conn().out().configure(*rc.out_queue, *rc.out_queue_bytes);
    LiveStream* st = stream_registry(*q_.app).find(key_);
    if (!send_header(st)) {
        s_.conn().close("cannot queue the FLV header");
        return;
    }
    STROM_LOG(info, s_.id(), "%s play \"%s\" from %s%s", proto, key_.c_str(), s_.peer(),
              st && st->has_publisher() ? "" : ", waiting for the publisher");
    joined_ = true;
    if (const char* why = stream_registry(*q_.app).add_player(*q_.app, q_.name, *this, s_.conn().loop())) {
        s_.conn().close(why);
        return;
    }
    notify_module.start_update(q_, s_.conn().table(), update_, &FlvPlayer::on_update_refused, this);
}

// Percent-decodes a path segment; false on a bad escape or a decoded control character.
bool path_decode(std::string_view in, std::string* out)
{
    out->clear();
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '%') {
            int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
            int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) return false;
            c = char(hi * 16 + lo);
            i += 2;
        }
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
        *out += c;
    }
    return true;
}

const AppBlock* find_rtmp_app(const Cycle& cycle, const std::string& app)
{
    for (const auto& srv : rtmp::rtmp_servers(cycle)) {
        if (const AppBlock* a = srv->find_app(app)) return a;
    }
    return nullptr;
}

using C = HttpFlvConf;
constexpr Directive kDirectives[] = {
    {"flv_live", kCtxHttpAny, ArgShape::flag(), set_flag<&C::flv_live>},
    {"flv_live_wait", kCtxHttpAny, ArgShape::flag(), set_flag<&C::flv_live_wait>},
};

}  // namespace

std::span<const Directive> HttpFlvModule::directives() const
{
    return kDirectives;
}

std::unique_ptr<ConfBase> HttpFlvModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    return std::make_unique<HttpFlvConf>();
}

const char* HttpFlvModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel)
{
    auto& c = *static_cast<HttpFlvConf*>(child);
    auto& p = *static_cast<const HttpFlvConf*>(parent);
    merge_value(c.flv_live, p.flv_live, false);
    merge_value(c.flv_live_wait, p.flv_live_wait, false);
    return nullptr;
}

Rc HttpFlvModule::postconfiguration(Cycle& cycle)
{
    http::content_handlers(cycle).push_back(
        http::ContentHandler::bind<&HttpFlvModule::handle>(this));
    for (auto& srv : cycle.proto("http")->servers) {
        for (auto& loc : srv->apps) loc->conf<HttpFlvConf>(*this).cycle = &cycle;
    }
    return Rc::ok;
}

Rc HttpFlvModule::handle(HttpSession& s, const AppBlock& location)
{
    const HttpFlvConf& fc = location.conf<HttpFlvConf>(*this);
    if (!*fc.flv_live) return Rc::declined;
    const http::Request& r = s.request();
    // The URL's shape: /APP/NAME.flv, NAME may hold further slashes.
    std::string_view path = r.path;
    if (path.size() < 7 || path[0] != '/' || path.substr(path.size() - 4) != ".flv") {
        return Rc::declined;
    }
    std::string_view inner = path.substr(1, path.size() - 5);
    size_t slash = inner.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == inner.size()) {
        return Rc::declined;
    }
    if (r.method != "GET" && r.method != "HEAD") {
        s.respond_error(405);
        return Rc::done;
    }
    std::string app, name;
    if (!path_decode(inner.substr(0, slash), &app) ||
        !path_decode(inner.substr(slash + 1), &name)) {
        s.respond_error(400, "bad escape in the stream path");
        return Rc::done;
    }
    const AppBlock* a = fc.cycle ? find_rtmp_app(*fc.cycle, app) : nullptr;
    bool ws = r.upgrade_websocket;
    const char* proto = ws ? "ws-flv" : "http-flv";
    if (!a || !*a->conf<LiveConf>(live_module).live) {
        STROM_LOG(info, s.id(), "%s play \"%s/%s\" from %s: no live application \"%s\"", proto,
                  app.c_str(), name.c_str(), s.peer(), app.c_str());
        s.respond_error(404, "no such live application");
        return Rc::done;
    }
    media::ClientRequest q;
    q.action = media::Action::play;
    q.protocol = proto;
    q.id = s.id();
    q.addr = reinterpret_cast<const sockaddr*>(&s.conn().peer());
    q.addr_len = sizeof(sockaddr_storage);
    q.peer = s.peer();
    q.app = a;
    q.app_name = app;
    q.name = name;
    q.args = std::string(r.query);
    if (const char* why = run_stream_checks(*fc.cycle, q)) {
        events_module.refused(q, why);
        s.respond_error(403, why);
        return Rc::done;
    }
    if (s.head_only()) {
        if (stream_registry(*a).play_refusal(*a, name, *fc.flv_live_wait)) {
            s.respond_error(404, "stream not found");
        } else {
            s.respond(200, "video/x-flv", {}, "Cache-Control: no-cache\r\n");
        }
        return Rc::done;
    }
    auto owned = std::make_unique<FlvPlayer>(s, ws, q, *fc.flv_live_wait);
    FlvPlayer* p = owned.get();
    bool refused = false;
    if (p->ask_notify(&refused)) {
        s.suspend(std::move(owned));
        return Rc::again;
    }
    if (refused) {
        events_module.refused(q, "on_play could not be asked (notify_fail closed)");
        s.respond_error(403, "on_play could not be asked (notify_fail closed)");
        return Rc::done;
    }
    p->begin(std::move(owned));
    return Rc::done;
}

}  // namespace strom::mod
