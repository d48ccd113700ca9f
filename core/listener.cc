#include "core/listener.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>

#include "core/log.h"

namespace strom {

int open_listen_socket(const sockaddr* addr, socklen_t len, int backlog, bool reuseport,
                       const char** err)
{
    int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = "socket()";
        return -1;
    }
    int one = 1;
    if (addr->sa_family == AF_UNIX) {
        auto* un = reinterpret_cast<const sockaddr_un*>(addr);
        if (un->sun_path[0] != '\0') ::unlink(un->sun_path);
    } else {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        if (addr->sa_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (::bind(fd, addr, len) != 0) {
        *err = "bind()";
        int e = errno;
        ::close(fd);
        errno = e;
        return -1;
    }
    if (::listen(fd, backlog) != 0) {
        *err = "listen()";
        int e = errno;
        ::close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

Rc Listener::start()
{
    return reg_.add(table_.loop(), fd_, EPOLLIN | EPOLLEXCLUSIVE, this);
}

void Listener::on_io(uint32_t)
{
    // Edge-triggered: accept until the queue is empty. With EPOLLEXCLUSIVE only some
    // workers wake; each drains what it can.
    for (;;) {
        sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EMFILE || errno == ENFILE) {
                STROM_LOG(alert, 0, "accept4() failed: too many open files");
                return;
            }
            STROM_LOG(error, 0, "accept4() failed (%d)", errno);
            return;
        }
        ++accepted_;
        Connection* c = table_.adopt(fd, reinterpret_cast<sockaddr*>(&ss), len, server_);
        if (!c) continue;
        ConnHandler* h = factory_->create(*c, server_);
        if (!h) {
            c->close("no handler");
            continue;
        }
        c->set_handler(h);
        // Data may already be waiting (pipelined C0C1): the edge for it has passed.
        c->pause_reading(true);
        c->pause_reading(false);
    }
}

}  // namespace strom
