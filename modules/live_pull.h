// A pull of one live stream into a LiveStream of this worker, with the same client
// Session a relay uses: from the worker process that has its publisher (over that
// worker's internal Unix socket), or from another server (notify_relay_redirect: a TCP
// address, its host name looked up first without blocking). One pull serves every local
// player of the stream; it ends when the last of them leaves, or when the source closes
// it (the publisher went away). Once the play is answered it is the stream's source
// (LiveSource: a worker pull or a relay pull). Owned by its LiveStream; deletes itself
// when its session closes (or when stopped while still looking the host up).
#pragma once

#include <sys/un.h>

#include <string>

#include "core/resolver.h"
#include "modules/live_stream.h"
#include "modules/relay_target.h"
#include "modules/stream_directory.h"
#include "rtmp/session.h"

namespace strom::mod {

class LivePull final : public rtmp::ClientObserver, public LiveSource {
public:
    // Connects to the owner's internal socket; nullptr (and *err) when that fails.
    static LivePull* start(LiveStream& st, const std::string& app, const std::string& name,
                           const StreamOwner& owner, const char** err);
    // Connects to another server (a numeric host at once, a name after its lookup);
    // nullptr (and *err) when that fails at once.
    static LivePull* start_remote(LiveStream& st, const RelayTarget& t, const char** err);
    // Ends the pull; on_close follows within this iteration and deletes the object.
    void stop();
    rtmp::Session* session() const { return s_; }
    bool remote() const { return remote_; }
    bool ready() const { return ready_; }
    // Media came through it (a Play.Start alone does not count: a server may accept the
    // play and then refuse).
    bool fed() const { return fed_; }
    // Its end is logged at debug (a relay tried again and again while an origin is down).
    void set_quiet() { quiet_ = true; }
    const std::string& source() const { return source_; }

    // LiveSource (attached once the play is answered, so the session exists).
    Kind kind() const override { return remote_ ? Kind::relay_pull : Kind::worker_pull; }
    uint64_t log_id() const override { return s_ ? s_->id() : 0; }
    const char* protocol() const override { return "rtmp"; }
    const char* peer() const override { return source_.c_str(); }
    EventLoop& loop() const override { return s_->loop(); }
    void drop(const char*) override { stop(); }

    void on_ready(rtmp::Session& s) override;
    void on_status(rtmp::Session& s, std::string_view level, std::string_view code,
                   std::string_view description) override;
    void on_media(rtmp::Session& s, rtmp::Message& m) override;
    void on_stream_eof(rtmp::Session& s) override;
    void on_close(rtmp::Session& s, const char* reason) override;

private:
    explicit LivePull(LiveStream& st) : st_(&st) {}
    bool connect(const sockaddr* sa, socklen_t len, const char** err);
    static void on_resolved(void* arg, const sockaddr* sa, socklen_t len, const char* err);
    void ended(const char* reason);

    LiveStream* st_;
    rtmp::Session* s_ = nullptr;
    Resolve* resolve_ = nullptr;  // a remote host name being looked up
    rtmp::ClientParams params_;
    std::string source_;  // for logs: "worker 1234" or rtmp://host:port/app/name
    bool remote_ = false;
    bool ready_ = false;
    bool fed_ = false;
    bool quiet_ = false;
};

// The abstract Unix socket address of a worker's internal listener for server block
// `server`: "\0strom.<master pid>.<worker pid>.<server>".
socklen_t internal_address(pid_t master, pid_t worker, uint32_t server, sockaddr_un* out);

}  // namespace strom::mod
