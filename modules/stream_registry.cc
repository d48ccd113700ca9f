#include "modules/stream_registry.h"

#include <unistd.h>

#include "core/log.h"
#include "core/process.h"
#include "modules/live_module.h"
#include "modules/live_pull.h"
#include "modules/live_push.h"
#include "modules/live_stream.h"
#include "modules/stream_directory.h"
#include "rtmp/rtmp_core_module.h"

namespace strom::mod {

using rtmp::Session;

namespace {

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

// Published on another worker (the cross-worker directory; never outside a worker).
bool published_elsewhere(const std::string& key)
{
    StreamOwner owner;
    return current_worker() && StreamDirectory::get()->lookup(key, &owner) && owner.pid != getpid();
}

}  // namespace

StreamRegistry::StreamRegistry(LiveModule& m, StreamEvents& events) : module_(m), events_(events) {}

StreamRegistry::~StreamRegistry() { clear(); }

const LiveConf& StreamRegistry::conf_of(const AppBlock& app) const
{
    return app.conf<LiveConf>(module_);
}

void StreamRegistry::clear() { streams_.clear(); }

LiveStream* StreamRegistry::find(const std::string& key)
{
    auto it = streams_.find(key);
    return it == streams_.end() ? nullptr : it->second.get();
}

void StreamRegistry::release_if_unused(LiveStream* st)
{
    if (st && st->unused()) streams_.erase(st->key());
}

LiveStream& StreamRegistry::get_or_create(const AppBlock& app, const std::string& key,
                                          const LiveConf& lc)
{
    LiveStream* st = find(key);
    if (!st) {
        auto owned = std::make_unique<LiveStream>(*this, key, lc,
                                                  rtmp::rtmp_conf(*app.server).chunk_size.value());
        st = owned.get();
        streams_.emplace(key, std::move(owned));
    }
    return *st;
}

void StreamRegistry::try_pull(LiveStream& st, EventLoop&)
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

bool StreamRegistry::publish_taken(const Session& s, const std::string& name)
{
    if (!s.app()) return false;
    const LiveConf& lc = conf_of(*s.app());
    if (*lc.publisher_takeover) return false;
    std::string key = s.app_name() + "/" + name;
    LiveStream* st = find(key);
    if (st && st->has_local_publisher()) return true;
    if (!*lc.live) return false;
    return published_elsewhere(key);
}

const char* StreamRegistry::admit(const AppBlock& app, const std::string& name, uint64_t log_id,
                                  const char* peer)
{
    const LiveConf& lc = conf_of(app);
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

void StreamRegistry::unadmit(const AppBlock& app, const std::string& name)
{
    if (*conf_of(app).live && server_index(app) >= 0) {
        StreamDirectory::get()->release(app.name + "/" + name, getpid());
    }
}

LiveStream& StreamRegistry::attach(const AppBlock& app, const std::string& name, LiveSource& src)
{
    const LiveConf& lc = conf_of(app);
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

void StreamRegistry::detach(LiveSource& src)
{
    LiveStream* st = src.stream;
    if (!st) return;
    st->detach_source();
    if (st->live()) StreamDirectory::get()->release(st->key(), getpid());
    release_if_unused(st);
}

RelayPull StreamRegistry::relay_pull(Session& s, const std::string& name, const RelayTarget& t,
                                     const char** err)
{
    return relay_pull(*s.app(), name, t, s.loop(), err);
}

RelayPull StreamRegistry::relay_pull(const AppBlock& app, const std::string& name,
                                     const RelayTarget& t, EventLoop& loop, const char** err)
{
    const LiveConf& lc = conf_of(app);
    if (!*lc.live) {
        *err = "live is off in this application";
        return RelayPull::failed;
    }
    std::string key = app.name + "/" + name;
    bool elsewhere = published_elsewhere(key);
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

bool StreamRegistry::relay_push(Session& s, const std::string& name, const RelayTarget& t,
                                const char** err)
{
    LiveStream* st = find(s.app_name() + "/" + name);
    RtmpPublisher* pub =
        st && st->live() && st->source() ? st->source()->rtmp_publisher() : nullptr;
    if (!pub || pub->s != &s) {
        *err = "the stream is not published by this session (live off?)";
        return false;
    }
    return LivePush::start(*st, t, s.id(), err) != nullptr;
}

const char* StreamRegistry::play_refusal(const AppBlock& app, const std::string& name, bool wait)
{
    const LiveConf& lc = conf_of(app);
    if (!*lc.live) return "live is off in this application";
    std::string key = app.name + "/" + name;
    LiveStream* st = find(key);
    bool elsewhere = published_elsewhere(key);
    bool fed = st && (st->has_publisher() || st->pulling() || st->relay_waiting());
    if (!fed && !elsewhere && !(wait && *lc.idle_streams)) return "not published";
    return nullptr;
}

const char* StreamRegistry::add_player(const AppBlock& app, const std::string& name,
                                       LivePlayer& p, EventLoop& loop)
{
    const LiveConf& lc = conf_of(app);
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

void StreamRegistry::remove_player(LivePlayer& p)
{
    LiveStream* st = p.stream;
    if (!st) return;
    st->remove_player(&p);
    p.stream = nullptr;
    release_if_unused(st);
}

}  // namespace strom::mod
