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

}  // namespace

std::span<const Directive> LiveModule::directives() const { return kDirectives; }

std::unique_ptr<ConfBase> LiveModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) {
        auto mc = std::make_unique<LiveMainConf>();
        mc->registry = std::make_unique<StreamRegistry>(*this, mc->events);
        return mc;
    }
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
    StreamRegistry* reg = &stream_registry(cycle);
    for (const auto& srv : rtmp::rtmp_servers(cycle)) {
        for (const auto& app : srv->apps) {
            auto& lc = app->conf<LiveConf>(*this);
            lc.events = ev;
            lc.app = app.get();
            lc.registry = reg;
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

void LiveModule::exit_process(Cycle& cycle)
{
    internal_.clear();
    for (int fd : internal_fds_) ::close(fd);
    internal_fds_.clear();
    stream_registry(cycle).clear();
}

// The RTMP publisher: admitted before the rest of the chain (a duplicate gets BadName
// before any callback), attached once the publish is accepted.
Rc LiveModule::on_publish(Session& s, PublishCmd& cmd, Next<PublishCmd> next)
{
    StreamRegistry& reg = stream_registry(*s.app());
    if (reg.admit(*s.app(), cmd.name, s.id(), s.peer())) {
        return s.reject(cmd, Status::publish_bad_name,
                        "Stream " + cmd.name + " is already publishing.");
    }
    Rc rc = next(s, cmd);
    NetStream* ns = s.stream(cmd.msid);
    if (!ns || ns->role != NetStream::Role::publishing) {
        reg.unadmit(*s.app(), cmd.name);
        return rc;
    }
    auto* pub = new RtmpPublisher(s, *ns);
    ns->ctx.set(*this, pub);
    reg.attach(*s.app(), cmd.name, *pub);
    return rc;
}

Rc LiveModule::on_play(Session& s, PlayCmd& cmd, Next<PlayCmd> next)
{
    const LiveConf& lc = conf_of(s);
    if (!*lc.live) return next(s, cmd);
    StreamRegistry& reg = *lc.registry;
    std::string key = stream_key(s, cmd.name);
    LiveStream* st = reg.find(key);
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
    st = &reg.get_or_create(*s.app(), key, lc);
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
        reg.try_pull(*st, s.loop());        // published on another worker?
        if (!st->pulling()) st->arm_lookup(s.loop());   // or later
    }
    return Rc::done;
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
        if (pub->stream) pub->stream->registry().detach(*pub);
        delete pub;
    } else if (ns.role == NetStream::Role::playing) {
        auto* p = static_cast<RtmpPlayer*>(slot);
        LiveStream* st = p->stream;
        st->remove_player(p);
        delete p;
        st->registry().release_if_unused(st);
    }
    slot = nullptr;
}

}  // namespace strom::mod
