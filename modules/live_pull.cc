#include "modules/live_pull.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "core/log.h"
#include "core/process.h"
#include "modules/live_stream.h"

namespace strom::mod {

using rtmp::Session;

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
    WorkerContext* w = current_worker();
    if (!w) {
        *err = "not in a worker";
        return nullptr;
    }
    sockaddr_un sun;
    socklen_t len = internal_address(getppid(), owner.pid, owner.server, &sun);
    rtmp::ClientParams p;
    p.app = app;
    p.tc_url = "rtmp://internal/" + app;
    p.stream = name;
    p.publish = false;
    p.flash_ver = "strom-internal";
    p.complex_handshake = false;
    p.buffer_ms = 0;
    auto* pull = new LivePull(st);
    Session* s = Session::connect_to(*w->conns, reinterpret_cast<sockaddr*>(&sun), len, p, pull, err);
    if (!s) {
        delete pull;
        return nullptr;
    }
    pull->s_ = s;
    return pull;
}

void LivePull::stop()
{
    if (s_) s_->close("pull no longer needed");
}

void LivePull::on_ready(Session& s)
{
    ready_ = true;
    STROM_LOG(info, s.id(), "pulling \"%s\" from worker %s", st_->key().c_str(), s.peer());
    st_->attach_source(s);
}

void LivePull::on_status(Session& s, std::string_view level, std::string_view code, std::string_view)
{
    STROM_LOG(debug, s.id(), "pull of \"%s\": %.*s %.*s", st_->key().c_str(), int(level.size()), level.data(),
              int(code.size()), code.data());
    if (level == "error") s.close("pull rejected");
}

void LivePull::on_media(Session&, rtmp::Message& m)
{
    if (!ready_) return;
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
    (void)st_->on_media(mm);
}

void LivePull::on_close(Session& s, const char* reason)
{
    STROM_LOG(info, s.id(), "pull of \"%s\" ended: %s", st_->key().c_str(), reason);
    LiveStream* st = st_;
    s_ = nullptr;
    st->pull_closed(this);
    delete this;
}

}  // namespace strom::mod
