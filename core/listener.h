// Listening sockets. The master opens them (bound before forking, inherited by every
// worker generation; a reload keeps a socket whose address is unchanged); each
// worker registers them with EPOLLEXCLUSIVE so one worker wakes per connection, and
// hands accepted fds to its ConnectionTable. A draining worker stops accepting by
// dropping its registrations; the sockets stay open in the master.
#pragma once

#include <sys/socket.h>

#include <cstdint>

#include "core/connection.h"
#include "core/event_loop.h"

namespace strom {

// Opens, binds and listens (non-blocking, close-on-exec). For unix: paths a stale
// socket file is removed first. Returns the fd or -1 with *err naming the failed call.
int open_listen_socket(const sockaddr* addr, socklen_t len, int backlog, bool reuseport,
                       const char** err);

class Listener final : private IoHandler {
public:
    Listener(ConnectionTable& table, int fd, ConnHandlerFactory* factory, void* server)
        : table_(table), fd_(fd), factory_(factory), server_(server)
    {
    }
    Rc start();              // register with EPOLLEXCLUSIVE
    void stop() { reg_.reset(); }
    int fd() const { return fd_; }
    uint64_t accepted() const { return accepted_; }

private:
    void on_io(uint32_t events) override;

    ConnectionTable& table_;
    int fd_;   // owned by the master's listening set, not by us
    ConnHandlerFactory* factory_;
    void* server_;
    IoReg reg_;
    uint64_t accepted_ = 0;
};

}  // namespace strom
