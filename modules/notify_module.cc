#include "modules/notify_module.h"

#include <cinttypes>
#include <ctime>

#include "core/cidr.h"
#include "core/conf_block.h"
#include "core/conf_context.h"
#include "core/conf_node.h"
#include "core/conf_setters.h"
#include "core/log.h"
#include "modules/live_module.h"
#include "modules/notify_form.h"
#include "modules/record_module.h"
#include "modules/relay_target.h"
#include "rtmp/rtmp_core_module.h"
#include "rtmp/session.h"

namespace strom::mod {

using rtmp::ConnectCmd;
using rtmp::NetStream;
using rtmp::Next;
using rtmp::PlayCmd;
using rtmp::PublishCmd;
using rtmp::Session;
using rtmp::Status;

NotifyModule notify_module;

namespace {

constexpr size_t kMaxNameLen = 1024;
// notify_cache entries per worker: a flood of distinct names cannot grow it further.
constexpr size_t kMaxCacheEntries = 10000;

// Per session (Session::ctx): the call the suspended chain waits for, and on_update.
struct NotifySession {
    enum class Gate : uint8_t { none, connect, publish, play };
    Session* s = nullptr;
    HttpCall* gate_call = nullptr;
    Gate gate = Gate::none;
    ConnectCmd* connect_cmd = nullptr;  // the session's pending event while suspended
    PublishCmd* publish_cmd = nullptr;
    PlayCmd* play_cmd = nullptr;
    Next<ConnectCmd> next_connect;
    Next<PublishCmd> next_publish;
    Next<PlayCmd> next_play;
    HttpCall* update_call = nullptr;
    Timer update_timer;
    std::string cache_key;  // of the gate call, when notify_cache is on
};

template <auto M>
const char* set_url(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<NotifyConf*>(conf);
    if (!c) return "is not allowed here";
    std::optional<HttpUrl>& f = c->*M;
    if (f) return "is duplicate";
    HttpUrl u;
    if (d.args[0] != "off") {
        std::string err;
        if (!parse_http_url(d.args[0], &u, &err)) return cx.invalid(d, 0, err.c_str());
    }
    f = std::move(u);
    return nullptr;
}

inline constexpr ConfEnum<NotifyMethod> kMethods[] = {{"get", NotifyMethod::get},
                                                      {"post", NotifyMethod::post}};
inline constexpr ConfEnum<bool> kFail[] = {{"closed", false}, {"open", true}};

using C = NotifyConf;
constexpr Directive kDirectives[] = {
    {"on_connect", kCtxRtmpAny, ArgShape::n(1), set_url<&C::on_connect>},
    {"on_publish", kCtxRtmpAny, ArgShape::n(1), set_url<&C::on_publish>},
    {"on_play", kCtxRtmpAny, ArgShape::n(1), set_url<&C::on_play>},
    {"on_done", kCtxRtmpAny, ArgShape::n(1), set_url<&C::on_done>},
    {"on_publish_done", kCtxRtmpAny, ArgShape::n(1), set_url<&C::on_publish_done>},
    {"on_play_done", kCtxRtmpAny, ArgShape::n(1), set_url<&C::on_play_done>},
    {"on_update", kCtxRtmpAny, ArgShape::n(1), set_url<&C::on_update>},
    {"on_record_done", kCtxRtmpAny, ArgShape::n(1), set_url<&C::on_record_done>},
    {"notify_method", kCtxRtmpAny, ArgShape::n(1), set_enum<&C::method, kMethods>},
    {"notify_timeout", kCtxRtmpAny, ArgShape::n(1), set_msec<&C::timeout, 1>},
    {"notify_fail", kCtxRtmpAny, ArgShape::n(1), set_enum<&C::fail_open, kFail>},
    {"notify_update_timeout", kCtxRtmpAny, ArgShape::n(1), set_msec<&C::update_timeout, 1000>},
    {"notify_update_strict", kCtxRtmpAny, ArgShape::flag(), set_flag<&C::update_strict>},
    {"notify_cache", kCtxRtmpAny, ArgShape::n(1), set_msec<&C::cache>},
    {"notify_relay_redirect", kCtxRtmpAny, ArgShape::flag(), set_flag<&C::relay_redirect>},
};

const NotifyConf* conf_of(const Session& s)
{
    return s.app() ? &s.app()->conf<NotifyConf>(notify_module) : nullptr;
}

bool url_on(const std::optional<HttpUrl>& u)
{
    return u && !u->host.empty();
}

NotifySession& state_of(Session& s)
{
    void*& slot = s.ctx().raw(notify_module);
    if (!slot) {
        auto* n = new NotifySession;
        n->s = &s;
        slot = n;
    }
    return *static_cast<NotifySession*>(slot);
}

// nginx-rtmp's fields of every call about a session (ngx_rtmp_notify_create_request).
void add_common(NotifyForm& f, Session& s)
{
    const ConnectCmd& c = s.connect_info();
    f.add("app", c.app);
    f.add("flashver", c.flash_ver);
    f.add("swfurl", c.swf_url);
    f.add("tcurl", c.tc_url);
    f.add("pageurl", c.page_url);
    IpAddr ip;
    std::string addr =
        ip_from_sockaddr(s.client_addr(), s.client_addr_len(), &ip) ? ip_text(ip) : s.peer();
    f.add("addr", addr);
    f.add_num("clientid", int64_t(s.id()));
}

HttpCall* send_call(ConnectionTable& table, const NotifyConf& c, const HttpUrl& url,
                    const NotifyForm& f, HttpCall::DoneFn done, void* arg, const char** err)
{
    std::string req =
        *c.method == NotifyMethod::post
            ? http_request("POST", url, {}, "application/x-www-form-urlencoded", f.str())
            : http_request("GET", url, f.str(), {}, {});
    HttpCallLimits lim;
    lim.connect_timeout_ms = *c.timeout;
    lim.timeout_ms = *c.timeout;
    return HttpCall::start(table, url, req, lim, done, arg, err);
}

HttpCall* send_call(Session& s, const NotifyConf& c, const HttpUrl& url, const NotifyForm& f,
                    HttpCall::DoneFn done, void* arg, const char** err)
{
    return send_call(s.conn().table(), c, url, f, done, arg, err);
}

// Fire and forget: the answer is only logged (the session may be gone by then).
void on_oneway_done(void* arg, const HttpResult& r)
{
    auto id = uint64_t(reinterpret_cast<uintptr_t>(arg));
    if (r.rc != Rc::ok) {
        STROM_LOG(warn, id, "notify call failed: %s", r.error);
    } else if (r.status / 100 != 2) {
        STROM_LOG(info, id, "notify call answered %d", r.status);
    }
}

void send_oneway(ConnectionTable& table, uint64_t id, const NotifyConf& c, const HttpUrl& url,
                 const NotifyForm& f)
{
    const char* err = "";
    void* arg = reinterpret_cast<void*>(uintptr_t(id));
    if (!send_call(table, c, url, f, on_oneway_done, arg, &err)) {
        STROM_LOG(warn, id, "notify call to %s not sent: %s", url.addr.text.c_str(), err);
    }
}

enum class Verdict : uint8_t { allow, rename, relay, reject };

// 2xx allows, 3xx with a usable Location renames (publish and play only) or, with
// notify_relay_redirect on and an rtmp:// Location, relays; anything else rejects; a
// failed call follows notify_fail. Logged here, once (a relay by the caller, which knows
// what it started).
// Who a call is about, for its log lines: the connection id and the client's address.
struct Who {
    uint64_t id;
    const char* peer;
};

Verdict judge(Who s, const NotifyConf& c, const char* call, const HttpResult& r, bool may_rename,
              std::string* name, std::string* args, RelayTarget* relay)
{
    if (r.rc != Rc::ok) {
        bool open = *c.fail_open;
        STROM_LOG(warn, s.id, "notify %s for %s failed: %s; %s by notify_fail %s", call, s.peer,
                  r.error, open ? "allowed" : "rejected", open ? "open" : "closed");
        return open ? Verdict::allow : Verdict::reject;
    }
    if (r.status / 100 == 2) return Verdict::allow;
    bool url = is_rtmp_url(r.location);
    if (r.status / 100 == 3 && may_rename && url && *c.relay_redirect) {
        const char* why = "";
        if (parse_relay_url(r.location, kMaxNameLen, relay, &why)) return Verdict::relay;
        STROM_LOG(notice, s.id,
                  "notify %s for %s: %d with an unusable rtmp:// Location (%s), rejected", call,
                  s.peer, r.status, why);
        return Verdict::reject;
    }
    if (r.status / 100 == 3 && may_rename && !r.location.empty() &&
        notify_location_name(r.location, kMaxNameLen, name, args)) {
        STROM_LOG(info, s.id, "notify %s for %s: %d, renamed to \"%s\"%s", call, s.peer, r.status,
                  name->c_str(),
                  url ? " (the name of an rtmp:// Location: notify_relay_redirect is off)" : "");
        return Verdict::rename;
    }
    STROM_LOG(notice, s.id, "notify %s for %s: rejected by answer %d", call, s.peer, r.status);
    return Verdict::reject;
}

Verdict judge(Session& s, const NotifyConf& c, const char* call, const HttpResult& r,
              bool may_rename, std::string* name, std::string* args, RelayTarget* relay)
{
    return judge(Who{s.id(), s.peer()}, c, call, r, may_rename, name, args, relay);
}

// The fields add_common gives an RTMP client, for a client of another protocol.
void add_common(NotifyForm& f, const media::ClientRequest& q)
{
    f.add("app", q.app_name);
    f.add("flashver", "");
    f.add("swfurl", "");
    f.add("tcurl", "");
    f.add("pageurl", "");
    IpAddr ip;
    f.add("addr", ip_from_sockaddr(q.addr, q.addr_len, &ip) ? ip_text(ip) : std::string(q.peer));
    f.add_num("clientid", int64_t(q.id));
    f.add("proto", q.protocol);
}

// The end of a stream: its own call (publish_done / play_done), then on_done, each when
// configured. `who` is an RTMP session or a client of another protocol (add_common).
template <class Who>
void send_done(ConnectionTable& table, uint64_t id, const NotifyConf& c,
               const std::optional<HttpUrl>& specific, const char* call, Who& who,
               const std::string& name, std::string_view args)
{
    const HttpUrl* urls[2] = {url_on(specific) ? &*specific : nullptr,
                              url_on(c.on_done) ? &*c.on_done : nullptr};
    const char* calls[2] = {call, "done"};
    for (int i = 0; i < 2; ++i) {
        if (!urls[i]) continue;
        NotifyForm f;
        f.add("call", calls[i]);
        add_common(f, who);
        f.add("name", name);
        f.add_args(args);
        send_oneway(table, id, c, *urls[i], f);
    }
}

void play_gate_done(void* arg, const HttpResult& r)
{
    auto* g = static_cast<NotifyModule::PlayGate*>(arg);
    NotifyModule::PlayVerdict v;
    Verdict k =
        judge(Who{g->id, g->peer.c_str()}, *g->conf, "play", r, true, &v.name, &v.args, &v.target);
    v.allow = k != Verdict::reject;
    v.relay = k == Verdict::relay;
    g->done(g->arg, v);
}

void arm_update(Session& s, const NotifyConf& c);

}  // namespace

// --- directives and configuration ------------------------------------------------------------

std::span<const Directive> NotifyModule::directives() const
{
    return kDirectives;
}

std::unique_ptr<ConfBase> NotifyModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    return std::make_unique<NotifyConf>();
}

const char* NotifyModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel)
{
    auto& c = *static_cast<NotifyConf*>(child);
    auto& p = *static_cast<const NotifyConf*>(parent);
    merge_value(c.on_connect, p.on_connect, HttpUrl());
    merge_value(c.on_publish, p.on_publish, HttpUrl());
    merge_value(c.on_play, p.on_play, HttpUrl());
    merge_value(c.on_done, p.on_done, HttpUrl());
    merge_value(c.on_publish_done, p.on_publish_done, HttpUrl());
    merge_value(c.on_play_done, p.on_play_done, HttpUrl());
    merge_value(c.on_update, p.on_update, HttpUrl());
    merge_value(c.on_record_done, p.on_record_done, HttpUrl());
    merge_value(c.method, p.method, NotifyMethod::post);
    merge_value(c.timeout, p.timeout, uint64_t(3000));
    merge_value(c.fail_open, p.fail_open, false);
    merge_value(c.update_timeout, p.update_timeout, uint64_t(30000));
    merge_value(c.update_strict, p.update_strict, false);
    merge_value(c.cache, p.cache, uint64_t(0));
    merge_value(c.relay_redirect, p.relay_redirect, false);
    return nullptr;
}

Rc NotifyModule::postconfiguration(Cycle& cycle)
{
    rtmp::Hooks& h = rtmp::hooks(cycle);
    h.connect.add<&NotifyModule::on_connect>(this);
    h.publish.add<&NotifyModule::on_publish>(this);
    h.play.add<&NotifyModule::on_play>(this);
    h.close_stream.push_back(
        rtmp::Notify<Session&, NetStream&>::bind<&NotifyModule::on_close_stream>(this));
    h.disconnect.push_back(rtmp::Notify<Session&>::bind<&NotifyModule::on_disconnect>(this));
    stream_events(cycle).record_done.push_back(
        media::Listener<const RecordDone&>::bind<&NotifyModule::on_record_done>(this));
    return Rc::ok;
}

// --- on_connect / on_publish / on_play: the chain waits for the answer --------------------------

namespace {

// notify_relay_redirect on a play: the stream is pulled from the remote server for the
// local players (unless it has a publisher here), then the play goes on as usual.
Rc relay_stream(Session& s, PlayCmd& cmd, Next<PlayCmd> next, const RelayTarget& t)
{
    std::string key = s.app_name() + "/" + cmd.name;
    std::string url = t.url();
    const char* err = "";
    switch (stream_registry(*s.app()).relay_pull(s, cmd.name, t, &err)) {
        case RelayPull::started:
            STROM_LOG(info, s.id(), "notify play relay: pulling \"%s\" from %s", key.c_str(),
                      url.c_str());
            break;
        case RelayPull::joined:
            STROM_LOG(info, s.id(),
                      "notify play relay: \"%s\" is pulled already, joining (asked for %s)",
                      key.c_str(), url.c_str());
            break;
        case RelayPull::local:
            STROM_LOG(info, s.id(),
                      "notify play relay: \"%s\" is published here, playing it (not %s)",
                      key.c_str(), url.c_str());
            break;
        case RelayPull::failed:
            STROM_LOG(warn, s.id(), "notify play relay: cannot pull \"%s\" from %s: %s",
                      key.c_str(), url.c_str(), err);
            Rc rc = s.reject(cmd, Status::play_failed, "Relay failed.");
            s.conn().close_after_flush("relay failed");
            return rc;
    }
    Rc rc = next(s, cmd);
    stream_registry(*s.app()).release_if_unused(key);  // a play refused after all leaves no idle pull
    return rc;
}

// notify_relay_redirect on a publish: accepted here as usual, and also pushed there.
Rc relay_stream(Session& s, PublishCmd& cmd, Next<PublishCmd> next, const RelayTarget& t)
{
    Rc rc = next(s, cmd);
    NetStream* ns = s.stream(cmd.msid);
    if (s.conn().closing() || !ns || ns->role != NetStream::Role::publishing) return rc;
    std::string key = s.app_name() + "/" + cmd.name;
    std::string url = t.url();
    const char* err = "";
    if (stream_registry(*s.app()).relay_push(s, cmd.name, t, &err)) {
        STROM_LOG(info, s.id(), "notify publish relay: pushing \"%s\" to %s", key.c_str(),
                  url.c_str());
    } else {
        STROM_LOG(warn, s.id(), "notify publish relay: cannot push \"%s\" to %s: %s", key.c_str(),
                  url.c_str(), err);
    }
    return rc;
}

// The answer to on_publish / on_play: reject (and close), rename or relay, and go on.
template <class Cmd>
Rc decide_stream(Session& s, const NotifyConf& c, const HttpResult& r, Cmd& cmd, Next<Cmd> next,
                 const char* call, Status denied, const char* description)
{
    std::string name, args;
    RelayTarget relay;
    Verdict v = judge(s, c, call, r, true, &name, &args, &relay);
    if (v == Verdict::reject) {
        Rc rc = s.reject(cmd, denied, description);
        s.conn().close_after_flush("rejected by notify");
        return rc;
    }
    if (v == Verdict::rename) {
        cmd.name = name;
        cmd.args = args;
        if (NetStream* ns = s.stream(cmd.msid)) {
            ns->name = name;
            ns->args = args;
        }
    }
    Rc rc = v == Verdict::relay ? relay_stream(s, cmd, next, relay) : next(s, cmd);
    if (!s.conn().closing() && url_on(c.on_update)) arm_update(s, c);
    return rc;
}

void gate_done(void* arg, const HttpResult& r)
{
    auto& n = *static_cast<NotifySession*>(arg);
    Session& s = *n.s;
    const NotifyConf& c = *conf_of(s);
    n.gate_call = nullptr;
    NotifySession::Gate gate = std::exchange(n.gate, NotifySession::Gate::none);
    if (*c.cache && r.rc == Rc::ok && r.status / 100 == 2 && !n.cache_key.empty()) {
        notify_module.cache_put(n.cache_key, s.loop().now() + *c.cache, s.loop().now());
    }
    Rc rc = Rc::done;
    // `n` may be freed by what follows (a close runs on_disconnect): no use of it after.
    if (gate == NotifySession::Gate::connect) {
        std::string name, args;
        ConnectCmd& cmd = *n.connect_cmd;
        Next<ConnectCmd> next = n.next_connect;
        RelayTarget unused;
        Verdict v = judge(s, c, "connect", r, false, &name, &args, &unused);
        rc = v == Verdict::allow ? next(s, cmd) : s.reject(cmd, Status::connect_rejected);
    } else if (gate == NotifySession::Gate::publish) {
        rc = decide_stream(s, c, r, *n.publish_cmd, n.next_publish, "publish",
                           Status::publish_denied, "Publishing is not allowed.");
    } else if (gate == NotifySession::Gate::play) {
        rc = decide_stream(s, c, r, *n.play_cmd, n.next_play, "play", Status::play_denied,
                           "Playing is not allowed.");
    }
    s.resume(rc);
}

// Starts the gate call: true when it is in flight (the chain suspends). False when it
// could not even start; the caller then answers by notify_fail at once.
bool start_gate(Session& s, const NotifyConf& c, const HttpUrl& url, const NotifyForm& f,
                NotifySession& n)
{
    const char* err = "";
    n.gate_call = send_call(s, c, url, f, gate_done, &n, &err);
    if (n.gate_call) return true;
    n.gate = NotifySession::Gate::none;
    STROM_LOG(warn, s.id(), "notify call to %s for %s not sent: %s; notify_fail %s",
              url.addr.text.c_str(), s.peer(), err,
              *c.fail_open ? "open allows" : "closed rejects");
    return false;
}

// notify_cache: true when an earlier 2xx for the same call, app, name and args still
// stands (no call is made). Otherwise the key waits in `n` for the answer.
bool cached_allow(Session& s, const NotifyConf& c, const HttpUrl& url, const char* call,
                  std::string_view name, std::string_view args, NotifySession& n)
{
    n.cache_key.clear();
    if (!*c.cache) return false;
    std::string key = url.host + url.path;
    for (std::string_view part :
         {std::string_view(call), std::string_view(s.app_name()), name, args}) {
        key += '\n';
        key += part;
    }
    if (notify_module.cache_hit(key, s.loop().now())) {
        STROM_LOG(info, s.id(), "notify %s for %s: allowed by notify_cache", call, s.peer());
        return true;
    }
    n.cache_key = std::move(key);
    return false;
}

}  // namespace

HttpCall* NotifyModule::gate_play(const media::ClientRequest& q, ConnectionTable& table,
                                  PlayGate& g, PlayDone done, void* arg, bool* none)
{
    const NotifyConf& c = q.app->conf<NotifyConf>(*this);
    *none = !url_on(c.on_play);
    if (*none) return nullptr;
    NotifyForm f;
    f.add("call", "play");
    add_common(f, q);
    f.add("name", q.name);
    f.add_num("start", -2);  // live, as an RTMP player's default
    f.add_num("duration", -1);
    f.add_num("reset", 0);
    f.add_args(q.args);
    g = PlayGate{&c, q.id, q.peer, done, arg};
    const char* err = "";
    HttpCall* call = send_call(table, c, *c.on_play, f, play_gate_done, &g, &err);
    if (call) return call;
    STROM_LOG(warn, q.id, "notify call to %s for %s not sent: %s; notify_fail %s",
              c.on_play->addr.text.c_str(), q.peer, err,
              *c.fail_open ? "open allows" : "closed rejects");
    *none = *c.fail_open;
    return nullptr;
}

void NotifyModule::play_done(const media::ClientRequest& q, ConnectionTable& table)
{
    const NotifyConf& c = q.app->conf<NotifyConf>(*this);
    send_done(table, q.id, c, c.on_play_done, "play_done", q, q.name, q.args);
}

bool NotifyModule::cache_hit(const std::string& key, uint64_t now)
{
    auto it = cache_.find(key);
    if (it == cache_.end()) return false;
    if (it->second > now) return true;
    cache_.erase(it);
    return false;
}

void NotifyModule::cache_put(const std::string& key, uint64_t expires, uint64_t now)
{
    if (cache_.size() >= kMaxCacheEntries) {
        std::erase_if(cache_, [now](const auto& e) { return e.second <= now; });
        if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    }
    cache_[key] = expires;
}

Rc NotifyModule::on_connect(Session& s, ConnectCmd& cmd, Next<ConnectCmd> next)
{
    const NotifyConf* c = conf_of(s);
    if (!c || s.internal() || !url_on(c->on_connect)) return next(s, cmd);
    NotifyForm f;
    f.add("call", "connect");
    add_common(f, s);
    f.add_num("epoch", int64_t(time(nullptr)));
    f.add_args(cmd.app_args);
    NotifySession& n = state_of(s);
    if (cached_allow(s, *c, *c->on_connect, "connect", {}, cmd.app_args, n)) return next(s, cmd);
    n.gate = NotifySession::Gate::connect;
    n.connect_cmd = &cmd;
    n.next_connect = next;
    if (start_gate(s, *c, *c->on_connect, f, n)) return Rc::again;
    if (*c->fail_open) return next(s, cmd);
    return s.reject(cmd, Status::connect_rejected);
}

Rc NotifyModule::on_publish(Session& s, PublishCmd& cmd, Next<PublishCmd> next)
{
    const NotifyConf* c = conf_of(s);
    if (!c || s.internal()) return next(s, cmd);
    if (url_on(c->on_record_done) && !recording_.count(s.id())) {
        sweep_recording(s.loop().now());
        RecordClient& rc = recording_[s.id()];
        rc.conf = c;
        rc.table = &s.conn().table();
        rc.form.add("call", "record_done");
        add_common(rc.form, s);
    }
    // A duplicate the live module will refuse gets no on_publish (and so no
    // on_publish_done): only accepted publishes are announced (issue 6, item 6).
    if (!url_on(c->on_publish) ||
        (s.app() && stream_registry(*s.app()).publish_taken(s, cmd.name))) {
        Rc rc = next(s, cmd);
        if (!s.conn().closing() && url_on(c->on_update)) arm_update(s, *c);
        return rc;
    }
    NotifyForm f;
    f.add("call", "publish");
    add_common(f, s);
    f.add("name", cmd.name);
    f.add("type", cmd.type);
    f.add_args(cmd.args);
    NotifySession& n = state_of(s);
    if (cached_allow(s, *c, *c->on_publish, "publish", cmd.name, cmd.args, n)) {
        Rc rc = next(s, cmd);
        if (!s.conn().closing() && url_on(c->on_update)) arm_update(s, *c);
        return rc;
    }
    n.gate = NotifySession::Gate::publish;
    n.publish_cmd = &cmd;
    n.next_publish = next;
    if (start_gate(s, *c, *c->on_publish, f, n)) return Rc::again;
    if (*c->fail_open) return next(s, cmd);
    Rc rc = s.reject(cmd, Status::publish_denied, "Publishing is not allowed.");
    s.conn().close_after_flush("publish rejected by notify");
    return rc;
}

Rc NotifyModule::on_play(Session& s, PlayCmd& cmd, Next<PlayCmd> next)
{
    const NotifyConf* c = conf_of(s);
    if (!c || s.internal()) return next(s, cmd);
    if (!url_on(c->on_play)) {
        Rc rc = next(s, cmd);
        if (!s.conn().closing() && url_on(c->on_update)) arm_update(s, *c);
        return rc;
    }
    NotifyForm f;
    f.add("call", "play");
    add_common(f, s);
    f.add("name", cmd.name);
    f.add_num("start", int64_t(cmd.start));
    f.add_num("duration", int64_t(cmd.duration));
    f.add_num("reset", cmd.reset ? 1 : 0);
    f.add_args(cmd.args);
    NotifySession& n = state_of(s);
    if (cached_allow(s, *c, *c->on_play, "play", cmd.name, cmd.args, n)) {
        Rc rc = next(s, cmd);
        if (!s.conn().closing() && url_on(c->on_update)) arm_update(s, *c);
        return rc;
    }
    n.gate = NotifySession::Gate::play;
    n.play_cmd = &cmd;
    n.next_play = next;
    if (start_gate(s, *c, *c->on_play, f, n)) return Rc::again;
    if (*c->fail_open) return next(s, cmd);
    Rc rc = s.reject(cmd, Status::play_denied, "Playing is not allowed.");
    s.conn().close_after_flush("play rejected by notify");
    return rc;
}

// --- on_update: asked again while a stream runs ----------------------------------------------

namespace {

NetStream* active_stream(Session& s)
{
    for (auto& ns : s.streams()) {
        if (ns->role != NetStream::Role::idle) return ns.get();
    }
    return nullptr;
}

// Whether an on_update answer (or failure) ends the stream; logged here, once, for every
// protocol. nginx-rtmp's notify_update_strict: off (the default), a service that cannot be
// reached does not end running streams, only its answer does; on, a failure ends them too.
bool update_ends(Who w, const NotifyConf& c, const HttpResult& r)
{
    if (r.rc != Rc::ok) {
        if (!*c.update_strict) {
            STROM_LOG(warn, w.id, "notify update for %s failed: %s", w.peer, r.error);
            return false;
        }
        STROM_LOG(notice, w.id,
                  "notify update for %s failed: %s; ends the session (notify_update_strict on)",
                  w.peer, r.error);
        return true;
    }
    if (r.status / 100 == 2) return false;
    STROM_LOG(notice, w.id, "notify update for %s: answer %d ends the session", w.peer, r.status);
    return true;
}

// A call that could not even be sent, judged as a failed one.
HttpResult unsent(const char* err)
{
    HttpResult r;
    r.rc = Rc::error;
    r.error = err;
    return r;
}

void update_done(void* arg, const HttpResult& r)
{
    auto& n = *static_cast<NotifySession*>(arg);
    Session& s = *n.s;
    n.update_call = nullptr;
    const NotifyConf* c = conf_of(s);
    if (c && update_ends(Who{s.id(), s.peer()}, *c, r)) {
        s.close("ended by notify update");
        return;  // on_disconnect freed n
    }
    if (c && active_stream(s)) s.loop().add_timer(n.update_timer, *c->update_timeout);
}

void on_update_timer(Timer& t)
{
    auto& n = *static_cast<NotifySession*>(t.arg);
    Session& s = *n.s;
    const NotifyConf* c = conf_of(s);
    NetStream* ns = active_stream(s);
    if (!c || !ns || !url_on(c->on_update) || n.update_call) return;
    bool pub = ns->role == NetStream::Role::publishing;
    NotifyForm f;
    f.add("call", pub ? "update_publish" : "update_play");
    add_common(f, s);
    f.add("name", ns->name);
    uint64_t ms = s.loop().now() - ns->started_ms;
    f.add_num("time", int64_t(ms / 1000));
    f.add_num("timestamp", int64_t(ms));
    f.add_args(ns->args);
    const char* err = "";
    n.update_call = send_call(s, *c, *c->on_update, f, update_done, &n, &err);
    if (!n.update_call) update_done(&n, unsent(err));
}

// --- the same for players of other protocols (NotifyModule::Update)

void neutral_update_done(void* arg, const HttpResult& r)
{
    auto& u = *static_cast<NotifyModule::Update*>(arg);
    u.call = nullptr;
    if (update_ends(Who{u.q->id, u.q->peer}, *u.conf, r)) {
        u.drop(u.arg);  // the player ends; `u` may be gone
        return;
    }
    u.table->loop().add_timer(u.timer, *u.conf->update_timeout);
}

void on_neutral_update_timer(Timer& t)
{
    auto& u = *static_cast<NotifyModule::Update*>(t.arg);
    if (u.call) return;
    const media::ClientRequest& q = *u.q;
    NotifyForm f;
    f.add("call", q.action == media::Action::publish ? "update_publish" : "update_play");
    add_common(f, q);
    f.add("name", q.name);
    uint64_t ms = u.table->loop().now() - u.started_ms;
    f.add_num("time", int64_t(ms / 1000));
    f.add_num("timestamp", int64_t(ms));
    f.add_args(q.args);
    const char* err = "";
    u.call = send_call(*u.table, *u.conf, *u.conf->on_update, f, neutral_update_done, &u, &err);
    if (!u.call) neutral_update_done(&u, unsent(err));
}

void arm_update(Session& s, const NotifyConf& c)
{
    NotifySession& n = state_of(s);
    if (n.update_timer.armed() || n.update_call) return;
    n.update_timer.fn = on_update_timer;
    n.update_timer.arg = &n;
    s.loop().add_timer(n.update_timer, *c.update_timeout);
}

}  // namespace

void NotifyModule::start_update(const media::ClientRequest& q, ConnectionTable& table, Update& u,
                                void (*drop)(void* arg), void* arg)
{
    const NotifyConf& c = q.app->conf<NotifyConf>(*this);
    if (!url_on(c.on_update) || u.timer.armed() || u.call) return;
    u.q = &q;
    u.conf = &c;
    u.table = &table;
    u.started_ms = table.loop().now();
    u.drop = drop;
    u.arg = arg;
    u.timer.fn = on_neutral_update_timer;
    u.timer.arg = &u;
    table.loop().add_timer(u.timer, *c.update_timeout);
}

void NotifyModule::stop_update(Update& u)
{
    if (u.call) u.call->cancel();
    u.call = nullptr;
    if (u.table && u.timer.armed()) u.table->loop().cancel_timer(u.timer);
}

// --- the end of streams and sessions ---------------------------------------------------------

void NotifyModule::on_close_stream(Session& s, NetStream& ns)
{
    const NotifyConf* c = conf_of(s);
    if (!c || s.internal()) return;
    // Only a stream that really ran (role set by the module that took it): a publisher
    // refused by live after on_publish gets no on_publish_done.
    bool pub = ns.role == NetStream::Role::publishing;
    if (!pub && ns.role != NetStream::Role::playing) return;
    send_done(s.conn().table(), s.id(), *c, pub ? c->on_publish_done : c->on_play_done,
              pub ? "publish_done" : "play_done", s, ns.name, ns.args);
}

void NotifyModule::on_record_done(const RecordDone& ev)
{
    auto it = recording_.find(ev.session_id);
    // A file of a pull, or closed long after its publisher left, has no client to describe.
    if (it == recording_.end()) return;
    const RecordClient& rc = it->second;
    NotifyForm f = rc.form;
    f.add("recorder", ev.recorder);
    f.add("name", ev.name);
    f.add("path", ev.path);
    send_oneway(*rc.table, ev.session_id, *rc.conf, *rc.conf->on_record_done, f);
}

// Clients gone for a minute: their files are long done (or will not say whose they were).
void NotifyModule::sweep_recording(uint64_t now)
{
    std::erase_if(recording_, [now](const auto& e) {
        return e.second.gone_at != 0 && now - e.second.gone_at > 60000;
    });
}

void NotifyModule::on_disconnect(Session& s)
{
    auto rec = recording_.find(s.id());
    if (rec != recording_.end()) rec->second.gone_at = s.loop().now() ? s.loop().now() : 1;
    void*& slot = s.ctx().raw(*this);
    auto* n = static_cast<NotifySession*>(slot);
    if (!n) return;
    if (n->gate_call) n->gate_call->cancel();
    if (n->update_call) n->update_call->cancel();
    s.loop().cancel_timer(n->update_timer);
    delete n;
    slot = nullptr;
}

}  // namespace strom::mod
