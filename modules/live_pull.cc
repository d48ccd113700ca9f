#include "modules/live_pull.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "core/log.h"
#include "core/process.h"
#include "modules/live_stream.h"
#include "rtmp/media_frame.h"

namespace strom::mod {

using rtmp::Session;

namespace {
// A remote host name that takes longer than this to look up fails the pull.
constexpr uint64_t kResolveTimeoutMs = 10000;
}  // namespace

socklen_t internal_address(pid_t master, pid_t worker, uint32_t server, sockaddr_un* out)
{
    memset(out, 0, sizeof(*out));
    out->sun_family = AF_UNIX;
    int n = snprintf(out->sun_path + 1, sizeof(out->sun_path) - 1, "strom.%d.%d.%u", int(master),
                     int(worker), server);
    return socklen_t(offsetof(sockaddr_un, sun_path) + 1 + size_t(n));
}

LivePull* LivePull::start(LiveStream& st, const std::string& app, const std::string& name,
                          const StreamOwner& owner, const char** err)
{
    if (!current_worker()) {
        *err = "not in a worker";
        return nullptr;
    }
    sockaddr_un sun;
    socklen_t len = internal_address(getppid(), owner.pid, owner.server, &sun);
    auto* pull = new LivePull(st);
    pull->params_.app = app;
    pull->params_.tc_url = "rtmp://internal/" + app;
    pull->params_.stream = name;
    pull->params_.publish = false;
    pull->params_.flash_ver = "strom-internal";
    pull->params_.complex_handshake = false;
    pull->params_.buffer_ms = 0;
    pull->source_ = "worker " + std::to_string(owner.pid);
    if (!pull->connect(reinterpret_cast<sockaddr*>(&sun), len, err)) {
        delete pull;
        return nullptr;
    }
    return pull;
}

LivePull* LivePull::start_remote(LiveStream& st, const RelayTarget& t, const char** err)
{
    WorkerContext* w = current_worker();
    if (!w) {
        *err = "not in a worker";
        return nullptr;
    }
    auto* pull = new LivePull(st);
    pull->remote_ = true;
    pull->params_ = t.client_params(false);
    pull->source_ = t.url();
    sockaddr_storage ss;
    socklen_t len = 0;
    if (numeric_host_addr(t.host, t.port, &ss, &len)) {
        if (!pull->connect(reinterpret_cast<sockaddr*>(&ss), len, err)) {
            delete pull;
            return nullptr;
        }
        return pull;
    }
    pull->resolve_ = Resolve::start(w->conns->loop(), t.host, t.port, kResolveTimeoutMs,
                                    &LivePull::on_resolved, pull, err);
    if (!pull->resolve_) {
        delete pull;
        return nullptr;
    }
    return pull;
}

bool LivePull::connect(const sockaddr* sa, socklen_t len, const char** err)
{
    s_ = Session::connect_to(*current_worker()->conns, sa, len, params_, this, err);
    return s_ != nullptr;
}

void LivePull::on_resolved(void* arg, const sockaddr* sa, socklen_t len, const char* err)
{
    auto* pull = static_cast<LivePull*>(arg);
    pull->resolve_ = nullptr;
    if (sa && pull->connect(sa, len, &err)) return;
    pull->ended(err);
    delete pull;
}

void LivePull::stop()
{
    if (s_) {
        s_->close("pull no longer needed");
    } else {
        // Still looking the host up: no session, so no on_close to delete us.
        if (resolve_) resolve_->cancel();
        delete this;
    }
}

void LivePull::on_ready(Session& s)
{
    ready_ = true;
    if (remote_) {
        STROM_LOG(info, s.id(), "relay pull of \"%s\" from %s started", st_->key().c_str(),
                  source_.c_str());
    } else {
        STROM_LOG(info, s.id(), "pulling \"%s\" from %s", st_->key().c_str(), source_.c_str());
    }
    st_->attach_source(*this);
}

void LivePull::on_status(Session& s, std::string_view level, std::string_view code,
                         std::string_view description)
{
    // A refusal by another server is worth an info line; internal pulls chat at debug.
    LogLevel lvl = remote_ && level == "error" ? LogLevel::info : LogLevel::debug;
    if (Log::enabled(lvl)) {
        Log::write(lvl, s.id(), "pull of \"%s\" from %s: %.*s %.*s (%.*s)", st_->key().c_str(),
                   source_.c_str(), int(level.size()), level.data(), int(code.size()), code.data(),
                   int(description.size()), description.data());
    }
    if (level == "error") {
        s.close("pull rejected");
    } else if (code == "NetStream.Play.UnpublishNotify" || code == "NetStream.Play.Stop" ||
               code == "NetStream.Play.Complete") {
        on_stream_eof(s);
    }
}

// Another server keeps the connection when its publisher leaves (a worker closes it):
// the end of its stream ends the pull, and the local players hear the unpublish.
void LivePull::on_stream_eof(Session& s)
{
    if (remote_ && ready_) s.close("remote stream ended");
}

void LivePull::on_media(Session&, rtmp::Message& m)
{
    if (!ready_) return;
    fed_ = true;
    rtmp::MediaMsg mm{&m};
    if (m.type == rtmp::msg_type::video) {
        mm.is_video = true;
        mm.video = rtmp::parse_video(m.payload.get());
    } else if (m.type == rtmp::msg_type::audio) {
        mm.is_audio = true;
        mm.audio = rtmp::parse_audio(m.payload.get());
    } else {
        // Data: only onMetaData is relayed (|RtmpSampleAccess and the like are ours).
        static constexpr char kOnMetaData[] = "\x02\x00\x0aonMetaData";
        uint8_t head[13];
        if (chain_copy(m.payload.get(), 0, head, sizeof(head)) != sizeof(head) ||
            memcmp(head, kOnMetaData, sizeof(head)) != 0) {
            return;
        }
        mm.is_meta = true;
    }
    st_->on_frame(rtmp::frame_of(mm));
}

void LivePull::on_close(Session&, const char* reason)
{
    ended(reason);
    delete this;
}

// The stream hears of the end while session() still names the source it attached.
void LivePull::ended(const char* reason)
{
    uint64_t id = s_ ? s_->id() : 0;
    LogLevel lvl = quiet_ ? LogLevel::debug : LogLevel::info;
    if (Log::enabled(lvl)) {
        Log::write(lvl, id, "%s of \"%s\" from %s ended: %s", remote_ ? "relay pull" : "pull",
                   st_->key().c_str(), source_.c_str(), reason);
    }
    LiveStream* st = st_;
    if (st->pull_closed(this)) st->registry().release_if_unused(st);
    s_ = nullptr;
}

}  // namespace strom::mod
