// A push of a local live stream to another server (notify_relay_redirect on a publish):
// a client Session that publishes the stream there and is fed like a player of it
// (metadata and sequence headers first, then the GOP and the media as they come). Made
// once the local publisher is accepted; stopped by its LiveStream when that publisher
// ends; a refusal or failure of the remote ends only the push (logged; the publisher and
// its players go on). Listed by its LiveStream; deletes itself when its session closes.
#pragma once

#include <string>

#include "core/resolver.h"
#include "modules/live_stream.h"
#include "modules/relay_target.h"
#include "rtmp/session.h"

namespace strom::mod {

class LivePush final : public rtmp::ClientObserver {
public:
    // Starts connecting (a numeric host at once, a name after its lookup); nullptr (and
    // *err) when that fails at once. `by` is the publisher's session id, for logs.
    static LivePush* start(LiveStream& st, const RelayTarget& t, uint64_t by, const char** err);
    // Ends the push now (the session's on_close deletes it, or at once while resolving).
    void stop();
    const std::string& target() const { return target_; }

    void on_ready(rtmp::Session& s) override;
    void on_status(rtmp::Session& s, std::string_view level, std::string_view code,
                   std::string_view description) override;
    void on_media(rtmp::Session&, rtmp::Message&) override {}
    void on_close(rtmp::Session& s, const char* reason) override;

private:
    explicit LivePush(LiveStream& st) : st_(&st) {}
    bool connect(const sockaddr* sa, socklen_t len, const char** err);
    static void on_resolved(void* arg, const sockaddr* sa, socklen_t len, const char* err);
    void ended(uint64_t id, const char* reason);

    LiveStream* st_;
    rtmp::Session* s_ = nullptr;
    Resolve* resolve_ = nullptr;
    rtmp::ClientParams params_;
    std::string target_;  // rtmp://host:port/app/name, for logs
    uint64_t by_ = 0;
    rtmp::NetStream ns_;  // the stream the player side of LiveStream writes to
    RtmpPlayer player_;
    bool added_ = false;  // player_ is in the stream's players
};

}  // namespace strom::mod
