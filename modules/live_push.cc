#include "modules/live_push.h"

#include "core/log.h"
#include "core/process.h"

namespace strom::mod {

using rtmp::Session;

namespace {
constexpr uint64_t kResolveTimeoutMs = 10000;
}  // namespace

LivePush* LivePush::start(LiveStream& st, const RelayTarget& t, uint64_t by, const char** err)
{
    WorkerContext* w = current_worker();
    if (!w) {
        *err = "not in a worker";
        return nullptr;
    }
    auto* push = new LivePush(st);
    push->params_ = t.client_params(true);
    push->target_ = t.url();
    push->by_ = by;
    sockaddr_storage ss;
    socklen_t len = 0;
    bool ok =
        numeric_host_addr(t.host, t.port, &ss, &len)
            ? push->connect(reinterpret_cast<sockaddr*>(&ss), len, err)
            : (push->resolve_ = Resolve::start(w->conns->loop(), t.host, t.port, kResolveTimeoutMs,
                                               &LivePush::on_resolved, push, err)) != nullptr;
    if (!ok) {
        delete push;
        return nullptr;
    }
    st.add_push(push);
    return push;
}

bool LivePush::connect(const sockaddr* sa, socklen_t len, const char** err)
{
    s_ = Session::connect_to(*current_worker()->conns, sa, len, params_, this, err);
    return s_ != nullptr;
}

void LivePush::on_resolved(void* arg, const sockaddr* sa, socklen_t len, const char* err)
{
    auto* push = static_cast<LivePush*>(arg);
    push->resolve_ = nullptr;
    if (sa && push->connect(sa, len, &err)) return;
    push->ended(0, err);
    delete push;
}

void LivePush::stop()
{
    if (s_) {
        s_->close("publisher ended");
    } else {
        if (resolve_) resolve_->cancel();
        st_->push_closed(this);
        delete this;
    }
}

void LivePush::on_ready(Session& s)
{
    STROM_LOG(info, s.id(), "relay push of \"%s\" to %s started (publisher *%llu)",
              st_->key().c_str(), target_.c_str(), (unsigned long long)by_);
    ns_.msid = s.client_msid();
    ns_.role = rtmp::NetStream::Role::playing;
    ns_.name = st_->name();
    ns_.started_ms = s.loop().now();
    player_.s = &s;
    player_.ns = &ns_;
    added_ = true;
    st_->add_player(&player_);  // sends metadata, sequence headers and the GOP
}

void LivePush::on_status(Session& s, std::string_view level, std::string_view code,
                         std::string_view description)
{
    if (level != "error") return;
    STROM_LOG(warn, s.id(), "relay push of \"%s\" to %s refused: %.*s (%.*s)", st_->key().c_str(),
              target_.c_str(), int(code.size()), code.data(), int(description.size()),
              description.data());
    s.close("push refused");
}

void LivePush::on_close(Session& s, const char* reason)
{
    ended(s.id(), reason);
    delete this;
}

void LivePush::ended(uint64_t id, const char* reason)
{
    if (added_) {
        added_ = false;
        STROM_LOG(info, id,
                  "relay push of \"%s\" to %s ended: %s (%llu bytes, %llu frames dropped)",
                  st_->key().c_str(), target_.c_str(), reason, (unsigned long long)ns_.bytes,
                  (unsigned long long)ns_.dropped);
        st_->remove_player(&player_);
    } else {
        STROM_LOG(warn, id, "relay push of \"%s\" to %s failed: %s", st_->key().c_str(),
                  target_.c_str(), reason);
    }
    st_->push_closed(this);
    s_ = nullptr;
}

}  // namespace strom::mod
