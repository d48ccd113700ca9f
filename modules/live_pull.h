// A pull of one live stream from the worker process that has its publisher, over that
// worker's internal Unix socket, with the same client Session a relay uses. One pull
// serves every local player of the stream; it ends when the last of them leaves, or when
// the owner closes it (the publisher went away). Owned by its LiveStream; deletes
// itself when its session closes.
#pragma once

#include <sys/un.h>

#include <string>

#include "modules/stream_directory.h"
#include "rtmp/session.h"

namespace strom::mod {

class LiveStream;

class LivePull final : public rtmp::ClientObserver {
public:
    // Connects to the owner's internal socket; nullptr (and *err) when that fails.
    static LivePull* start(LiveStream& st, const std::string& app, const std::string& name,
                           const StreamOwner& owner, const char** err);
    // Ends the pull; on_close follows within this iteration and deletes the object.
    void stop();
    rtmp::Session* session() const { return s_; }

    void on_ready(rtmp::Session& s) override;
    void on_status(rtmp::Session& s, std::string_view level, std::string_view code,
                   std::string_view description) override;
    void on_media(rtmp::Session& s, rtmp::Message& m) override;
    void on_close(rtmp::Session& s, const char* reason) override;

private:
    explicit LivePull(LiveStream& st) : st_(&st) {}
    LiveStream* st_;
    rtmp::Session* s_ = nullptr;
    bool ready_ = false;
};

// The abstract Unix socket address of a worker's internal listener for server block
// `server`: "\0strom.<master pid>.<worker pid>.<server>".
socklen_t internal_address(pid_t master, pid_t worker, uint32_t server, sockaddr_un* out);

}  // namespace strom::mod
