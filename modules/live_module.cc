#include "modules/live_module.h"

#include <sys/un.h>
#include <unistd.h>

#include "core/conf_block.h"
#include "core/conf_context.h"
#include "core/conf_node.h"
#include "core/conf_setters.h"
#include "core/conf_value.h"
#include "core/listener.h"
#include "core/log.h"
#include "core/process.h"
#include "modules/live_pull.h"
#include "modules/live_push.h"
#include "modules/live_stream.h"
#include "modules/stream_directory.h"
#include "rtmp/media_frame.h"
#include "rtmp/rtmp_core_module.h"

namespace strom::mod {

using rtmp::Next;
using rtmp::NetStream;
using rtmp::PlayCmd;
using rtmp::PublishCmd;
using rtmp::Session;
using rtmp::Status;

LiveModule live_module;

namespace {

// gop_cache_max FRAMES [BYTES]
const char* set_gop_cache_max(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<LiveConf*>(conf);
    if (c->gop_cache_max_frames) return "is duplicate";
    uint64_t frames = 0, bytes = 0;
    if (!parse_uint(d.args[0], &frames) || frames == 0 || frames > 1000000) return cx.invalid(d, 0);
    c->gop_cache_max_frames = uint32_t(frames);
    if (d.args.size() > 1) {
        if (!parse_size(d.args[1], &bytes) || bytes == 0) return cx.invalid(d, 1);
        c->gop_cache_max_bytes = bytes;
    }
    return nullptr;
}

using L = LiveConf;
constexpr uint32_t kAny = kCtxRtmpAny;

constexpr Directive kDirectives[] = {
    {"live", kAny, ArgShape::flag(), set_flag<&L::live>},
    {"gop_cache", kAny, ArgShape::flag(), set_flag<&L::gop_cache>},
    {"gop_cache_max", kAny, ArgShape::range(1, 2), set_gop_cache_max},
    {"publisher_takeover", kAny, ArgShape::flag(), set_flag<&L::publisher_takeover>},
    {"drop_idle_publisher", kAny, ArgShape::n(1), set_msec<&L::drop_idle_publisher>},
    {"idle_streams", kAny, ArgShape::flag(), set_flag<&L::idle_streams>},
    {"publish_notify", kAny, ArgShape::flag(), set_flag<&L::publish_notify>},
    {"play_restart", kAny, ArgShape::flag(), set_flag<&L::play_restart>},
    {"wait_key", kAny, ArgShape::flag(), set_flag<&L::wait_key>},
    {"wait_video", kAny, ArgShape::flag(), set_flag<&L::wait_video>},
    {"sync", kAny, ArgShape::n(1), set_msec<&L::sync>},
    {"interleave", kAny, ArgShape::flag(), set_flag<&L::interleave>},
    {"send_merge", kAny, ArgShape::n(1), set_msec<&L::send_merge, 0, 1000>},
    {"play_timeout", kAny, ArgShape::n(1), set_msec<&L::play_timeout>},
};

// Pause on a live stream: no frames while paused, and resume on a keyframe.
class LivePlayControl final : public rtmp::PlayControl {
public:
    void pause(Session&, NetStream& ns, bool paused, double) override
    {
        auto* p = ns.ctx.get<RtmpPlayer>(live_module);
        if (p && !paused) p->waiting_key = true;
    }
    Rc seek(Session&, NetStream&, double) override { return Rc::declined; }
};
LivePlayControl live_control;

const LiveConf& conf_of(const Session& s) { return s.app()->conf<LiveConf>(live_module); }

std::string stream_key(const Session& s, const std::string& name) { return s.app_name() + "/" + name; }

// The index of the application's server block in the running cycle (directory entries
// name it so a puller connects to the owner's listener for the same server); -1 outside
// a worker.
int server_index(const AppBlock& app)
{
    WorkerContext* w = current_worker();
    if (!w) return -1;
    const auto& servers = rtmp::rtmp_servers(*w->cycle);
    for (size_t i = 0; i < servers.size(); ++i) {
        if (servers[i].get() == app.server) return int(i);
    }
    return -1;
}

}  // namespace

std::span<const Directive> LiveModule::directives() const { return kDirectives; }

std::unique_ptr<ConfBase> LiveModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return std::make_unique<LiveMainConf>();
    return std::make_unique<LiveConf>();
}

const char* LiveModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    auto& c = *static_cast<LiveConf*>(child);
    auto& p = *static_cast<const LiveConf*>(parent);
    merge_value(c.live, p.live, false);
    merge_value(c.gop_cache, p.gop_cache, true);
    merge_value(c.gop_cache_max_frames, p.gop_cache_max_frames, 2500u);
    merge_value(c.gop_cache_max_bytes, p.gop_cache_max_bytes, uint64_t(32) << 20);
    merge_value(c.publisher_takeover, p.publisher_takeover, false);
    merge_value(c.drop_idle_publisher, p.drop_idle_publisher, uint64_t(0));
    merge_value(c.idle_streams, p.idle_streams, true);
    merge_value(c.publish_notify, p.publish_notify, false);
    merge_value(c.play_restart, p.play_restart, false);
    merge_value(c.wait_key, p.wait_key, true);
    merge_value(c.wait_video, p.wait_video, false);
    merge_value(c.sync, p.sync, uint64_t(300));
    merge_value(c.interleave, p.interleave, false);
    merge_value(c.send_merge, p.send_merge, uint64_t(0));
    merge_value(c.play_timeout, p.play_timeout, uint64_t(10000));
    return nullptr;
}

Rc LiveModule::postconfiguration(Cycle& cycle)
{
    StreamDirectory::get();   // mapped in the master, before any worker is forked
    rtmp::Hooks& h = rtmp::hooks(cycle);
    h.publish.add<&LiveModule::on_publish>(this);
    h.play.add<&LiveModule::on_play>(this);
    h.media.push_back(rtmp::MediaHandler::bind<&LiveModule::on_media>(this));
    h.close_stream.push_back(rtmp::Notify<Session&, NetStream&>::bind<&LiveModule::on_close_stream>(this));
    const StreamEvents* ev = &stream_events(cycle);
    for (const auto& srv : rtmp::rtmp_servers(cycle)) {
        for (const auto& app : srv->apps) {
            auto& lc = app->conf<LiveConf>(*this);
            lc.events = ev;
            lc.app = app.get();
        }
    }
    return Rc::ok;
}

Rc LiveModule::init_process(Cycle& cycle)
{
    WorkerContext* w = current_worker();
    if (!w) return Rc::ok;
    // One internal listener per server block: workers of any generation pull from it.
    for (size_t i = 0; i < rtmp::rtmp_servers(cycle).size(); ++i) {
        sockaddr_un sun;
        socklen_t len = internal_address(getppid(), getpid(), uint32_t(i), &sun);
        const char* what = "";
        int fd = open_listen_socket(reinterpret_cast<sockaddr*>(&sun), len, 511, false, &what);
        if (fd < 0) {
            STROM_LOG(alert, 0, "internal listener: %s failed (%d)", what, errno);
            return Rc::error;
        }
        auto l = std::make_unique<Listener>(*w->conns, fd, &rtmp::session_factory(true), rtmp::rtmp_servers(cycle)[i].get());
        if (l->start() != Rc::ok) {
            ::close(fd);
            return Rc::error;
        }
        internal_fds_.push_back(fd);
        internal_.push_back(std::move(l));
    }
    return Rc::ok;
}

void LiveModule::exit_process(Cycle&)
{
    internal_.clear();
    for (int fd : internal_fds_) ::close(fd);
    internal_fds_.clear();
    streams_.clear();
}

LiveStream& LiveModule::get_or_create(const AppBlock& app, const std::string& key, const LiveConf& lc)
{
    LiveStream* st = find(key);
    if (!st) {
        auto owned = std::make_unique<LiveStream>(*this, key, lc, rtmp::rtmp_conf(*app.server).chunk_size.value());
        st = owned.get();
        streams_.emplace(key, std::move(owned));
    }
    return *st;
}

void LiveModule::try_pull(LiveStream& st, EventLoop&)
{
    if (st.has_publisher() || st.pulling()) return;
    StreamOwner owner;
    if (!StreamDirectory::get()->lookup(st.key(), &owner) || owner.pid == getpid()) return;
    const char* err = "";
    LivePull* p = LivePull::start(st, st.app(), st.name(), owner, &err);
    if (!p) {
        STROM_LOG(warn, 0, "cannot pull \"%s\" from worker %d: %s", st.key().c_str(), int(owner.pid), err);
        return;
    }
    st.set_pull(p);
}

RelayPull LiveModule::relay_pull(Session& s, const std::string& name, const RelayTarget& t,
                                 const char** err)
{
    return relay_pull(*s.app(), name, t, s.loop(), err);
}

RelayPull LiveModule::relay_pull(const AppBlock& app, const std::string& name, const RelayTarget& t,
                                 EventLoop& loop, const char** err)
{
    const LiveConf& lc = app.conf<LiveConf>(*this);
    if (!*lc.live) {
        *err = "live is off in this application";
        return RelayPull::failed;
    }
    std::string key = app.name + "/" + name;
    StreamOwner owner;
    bool elsewhere = current_worker() && StreamDirectory::get()->lookup(key, &owner) && owner.pid != getpid();
    LiveStream* st = find(key);
    if ((st && st->has_publisher() && !st->pulling()) || elsewhere) return RelayPull::local;
    if (st && (st->pulling() || st->relay_waiting())) return RelayPull::joined;
    st = &get_or_create(app, key, lc);
    LivePull* p = LivePull::start_remote(*st, t, err);
    if (!p) {
        release_if_unused(st);
        return RelayPull::failed;
    }
    st->set_pull(p);
    st->set_relay(t, loop);
    return RelayPull::started;
}

bool LiveModule::relay_push(Session& s, const std::string& name, const RelayTarget& t, const char** err)
{
    LiveStream* st = find(stream_key(s, name));
    RtmpPublisher* pub =
        st && st->live() && st->source() ? st->source()->rtmp_publisher() : nullptr;
    if (!pub || pub->s != &s) {
        *err = "the stream is not published by this session (live off?)";
        return false;
    }
    return LivePush::start(*st, t, s.id(), err) != nullptr;
}

LiveStream* LiveModule::find(const std::string& key)
{
    auto it = streams_.find(key);
    return it == streams_.end() ? nullptr : it->second.get();
}

void LiveModule::release_if_unused(LiveStream* st)
{
    if (st && st->unused()) streams_.erase(st->key());
}

bool LiveModule::publish_taken(const Session& s, const std::string& name)
{
    if (!s.app()) return false;
    const LiveConf& lc = conf_of(s);
    if (*lc.publisher_takeover) return false;
    std::string key = stream_key(s, name);
    LiveStream* st = find(key);
    if (st && st->has_local_publisher()) return true;
    if (!*lc.live) return false;
    StreamOwner owner;
    return current_worker() && StreamDirectory::get()->lookup(key, &owner) && owner.pid != getpid();
}

// The RTMP publisher: admitted before the rest of the chain (a duplicate gets BadName
// before any callback), attached once the publish is accepted.
Rc LiveModule::on_publish(Session& s, PublishCmd& cmd, Next<PublishCmd> next)
{
    if (admit(*s.app(), cmd.name, s.id(), s.peer())) {
        return s.reject(cmd, Status::publish_bad_name,
                        "Stream " + cmd.name + " is already publishing.");
    }
    Rc rc = next(s, cmd);
    NetStream* ns = s.stream(cmd.msid);
    if (!ns || ns->role != NetStream::Role::publishing) {
        unadmit(*s.app(), cmd.name);
        return rc;
    }
    auto* pub = new RtmpPublisher(s, *ns);
    ns->ctx.set(*this, pub);
    attach(*s.app(), cmd.name, *pub);
    return rc;
}

const char* LiveModule::admit(const AppBlock& app, const std::string& name, uint64_t log_id,
                              const char* peer)
{
    const LiveConf& lc = app.conf<LiveConf>(*this);
    std::string key = app.name + "/" + name;
    LiveStream* st = find(key);
    if (st && st->has_local_publisher()) {
        LiveSource* old = st->source();
        unsigned long long old_id = old->log_id();
        if (!*lc.publisher_takeover || old_id == log_id) {
            STROM_LOG(error, log_id,
                      "publish \"%s\" from %s rejected: already publishing (session *%llu)",
                      key.c_str(), peer, old_id);
            return "already publishing";
        }
        STROM_LOG(info, log_id, "publish \"%s\" from %s takes over from session *%llu", key.c_str(),
                  peer, old_id);
        old->drop("publisher taken over");  // detaches it, and may free st
    }
    if (!*lc.live) return nullptr;  // a stream for its listeners only: not announced
    // One publisher per stream in the whole server, whichever worker it landed on.
    int srv = server_index(app);
    StreamOwner other;
    if (srv >= 0 && !StreamDirectory::get()->claim(key, getpid(), uint32_t(srv), &other)) {
        STROM_LOG(error, log_id, "publish \"%s\" from %s rejected: already publishing on worker %d",
                  key.c_str(), peer, int(other.pid));
        return "already publishing on another worker";
    }
    return nullptr;
}

void LiveModule::unadmit(const AppBlock& app, const std::string& name)
{
    if (*app.conf<LiveConf>(*this).live && server_index(app) >= 0) {
        StreamDirectory::get()->release(app.name + "/" + name, getpid());
    }
}

LiveStream& LiveModule::attach(const AppBlock& app, const std::string& name, LiveSource& src)
{
    const LiveConf& lc = app.conf<LiveConf>(*this);
    LiveStream& st = get_or_create(app, app.name + "/" + name, lc);
    if (st.pulling()) {
        // A relay pull from another server (notify_relay_redirect) gives way to a local
        // publisher; a pull from another worker cannot be here while the directory names
        // this worker as the owner.
        STROM_LOG(info, src.log_id(), "publish \"%s\" replaces a pull", st.key().c_str());
        st.drop_pull();
    }
    st.set_conf(lc);
    st.attach_source(src);
    return st;
}

void LiveModule::detach(LiveSource& src)
{
    LiveStream* st = src.stream;
    if (!st) return;
    st->detach_source();
    if (st->live()) StreamDirectory::get()->release(st->key(), getpid());
    release_if_unused(st);
}

Rc LiveModule::on_play(Session& s, PlayCmd& cmd, Next<PlayCmd> next)
{
    const LiveConf& lc = conf_of(s);
    if (!*lc.live) return next(s, cmd);
    std::string key = stream_key(s, cmd.name);
    LiveStream* st = find(key);
    StreamOwner owner;
    bool elsewhere = current_worker() && StreamDirectory::get()->lookup(key, &owner) && owner.pid != getpid();
    bool fed = st && (st->has_publisher() || st->pulling());   // a relay pull is coming
    if (!fed && !elsewhere && !(st && st->relay_waiting())) {
        // Not live anywhere: a recorded file of that name plays instead (`play DIR` in
        // the same application), else the player waits below.
        for (const auto& probe : rtmp::rtmp_conf(*s.server()).hooks->vod_exists) {
            if (probe.fn(probe.self, s, cmd.name)) {
                STROM_LOG(info, s.id(), "play \"%s\" from %s: not live, playing the file", key.c_str(), s.peer());
                return next(s, cmd);
            }
        }
    }
    if (!fed && !elsewhere && !*lc.idle_streams) {
        STROM_LOG(info, s.id(), "play \"%s\" from %s: not published (idle_streams off)", key.c_str(), s.peer());
        (void)s.reject(cmd, Status::play_stream_not_found);
        s.conn().close_after_flush("stream not found");
        return Rc::done;
    }
    NetStream* ns = s.stream(cmd.msid);
    if (!ns) return s.reject(cmd, Status::play_failed);
    st = &get_or_create(s, key, lc);
    auto* p = new RtmpPlayer;
    p->s = &s;
    p->ns = ns;
    p->stream = st;
    ns->role = NetStream::Role::playing;
    ns->type = "live";
    ns->started_ms = s.loop().now();
    ns->bytes = 0;
    ns->dropped = 0;
    ns->control = &live_control;
    ns->ctx.set(*this, p);
    STROM_LOG(info, s.id(), "play \"%s\" from %s%s", key.c_str(), s.peer(),
              st->has_publisher() ? "" : ", waiting for the publisher");
    s.send_play_start(*ns, cmd.reset);
    if (s.conn().closing()) return Rc::done;   // on_close_stream has freed the player
    st->add_player(p);
    if (!st->has_publisher() && current_worker()) {
        try_pull(*st, s.loop());        // published on another worker?
        if (!st->pulling()) st->arm_lookup(s.loop());   // or later
    }
    return Rc::done;
}

const char* LiveModule::play_refusal(const AppBlock& app, const std::string& name, bool wait)
{
    const LiveConf& lc = app.conf<LiveConf>(*this);
    if (!*lc.live) return "live is off in this application";
    std::string key = app.name + "/" + name;
    LiveStream* st = find(key);
    StreamOwner owner;
    bool elsewhere = current_worker() && StreamDirectory::get()->lookup(key, &owner) && owner.pid != getpid();
    bool fed = st && (st->has_publisher() || st->pulling() || st->relay_waiting());
    if (!fed && !elsewhere && !(wait && *lc.idle_streams)) return "not published";
    return nullptr;
}

const char* LiveModule::add_player(const AppBlock& app, const std::string& name, LivePlayer& p,
                                   EventLoop& loop)
{
    const LiveConf& lc = app.conf<LiveConf>(*this);
    if (!*lc.live) return "live is off in this application";
    std::string key = app.name + "/" + name;
    LiveStream* st = &get_or_create(app, key, lc);
    st->add_player(&p);
    if (!st->has_publisher() && current_worker()) {
        try_pull(*st, loop);
        if (!st->pulling()) st->arm_lookup(loop);
    }
    return nullptr;
}

void LiveModule::remove_player(LivePlayer& p)
{
    LiveStream* st = p.stream;
    if (!st) return;
    st->remove_player(&p);
    p.stream = nullptr;
    release_if_unused(st);
}

// The RTMP adaptor of the stream's input: a publisher's message as a neutral frame.
Rc LiveModule::on_media(Session&, NetStream& ns, rtmp::MediaMsg& m)
{
    if (ns.role != NetStream::Role::publishing) return Rc::ok;
    auto* pub = ns.ctx.get<RtmpPublisher>(*this);
    if (pub && pub->stream) pub->stream->on_frame(rtmp::frame_of(m));
    return Rc::ok;
}

void LiveModule::on_close_stream(Session&, NetStream& ns)
{
    void*& slot = ns.ctx.raw(*this);
    if (!slot) return;
    if (ns.role == NetStream::Role::publishing) {
        auto* pub = static_cast<RtmpPublisher*>(slot);
        detach(*pub);
        delete pub;
    } else if (ns.role == NetStream::Role::playing) {
        auto* p = static_cast<RtmpPlayer*>(slot);
        LiveStream* st = p->stream;
        st->remove_player(p);
        delete p;
        release_if_unused(st);
    }
    slot = nullptr;
}

}  // namespace strom::mod
