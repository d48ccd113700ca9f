#include "core/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/log.h"

namespace strom {

namespace {
constexpr int kMaxIov = 256;
constexpr size_t kMaxWriteBatch = size_t(2) << 20;
}  // namespace

void format_sockaddr(const sockaddr* sa, socklen_t len, char* out, size_t out_len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET && len >= socklen_t(sizeof(sockaddr_in))) {
        auto* in = reinterpret_cast<const sockaddr_in*>(sa);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        snprintf(out, out_len, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6 && len >= socklen_t(sizeof(sockaddr_in6))) {
        auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        snprintf(out, out_len, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (sa->sa_family == AF_UNIX) {
        snprintf(out, out_len, "unix:");
    } else {
        snprintf(out, out_len, "?");
    }
}

// --- Connection ---------------------------------------------------------------------

std::span<const uint8_t> Connection::input() const
{
    if (scratch_) return {scratch_ + s_start_, size_t(s_end_ - s_start_)};
    if (!in_) return {};
    return {in_->data() + in_->start, in_->size()};
}

void Connection::consume(size_t n)
{
    if (scratch_) {
        s_start_ += uint32_t(n < s_end_ - s_start_ ? n : s_end_ - s_start_);
        return;
    }
    if (!in_) return;
    if (n > in_->size()) n = in_->size();
    in_->start += uint32_t(n);
    if (in_->start == in_->end) in_.reset();   // idle connections hold no block
}

bool Connection::ensure_input_room()
{
    if (!in_) {
        in_ = BufRef(loop_->pool().alloc());
        return bool(in_);
    }
    if (in_->room() > 0) return true;
    if (in_->start == 0) return false;   // full of unconsumed bytes
    uint32_t n = in_->size();
    memmove(in_->data(), in_->data() + in_->start, n);
    in_->start = 0;
    in_->end = n;
    return true;
}

void Connection::pause_reading(bool paused)
{
    if (read_paused_ == paused) return;
    read_paused_ = paused;
    // Edge-triggered: data that arrived while paused raised no new edge, so look again.
    if (!paused && !closing_) loop_->post(read_ev_);
}

void Connection::on_read_posted(Posted& p)
{
    auto* c = static_cast<Connection*>(p.arg);
    if (c->closing_ || c->read_paused_) return;
    // Input kept while reading was paused (a suspended chain) is offered again first:
    // no new bytes may ever arrive to trigger it.
    if (c->in_ && c->in_->size() > 0) {
        c->handler_->on_read(*c);
        if (c->closing_ || c->read_paused_) return;
        if (c->in_ && c->in_->size() > 0 && c->in_->room() == 0 && c->in_->start == 0) return;
    }
    c->do_read();
}

void Connection::on_io(uint32_t events)
{
    if (closing_) return;
    if (connecting_) {
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        connecting_ = false;
        handler_->on_connected(*this, err == 0);
        if (err != 0) {
            close("connect failed");
            return;
        }
        if (closing_) return;
    }
    if (events & EPOLLOUT) {
        write_blocked_ = false;
        if (!out_.empty()) do_write();
    }
    if (closing_) return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
        // The peer's FIN (or an error) is reported once and raises no later edge: from
        // now on every read goes on to 0 or EAGAIN, or the close would be missed.
        if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) pending_eof_ = true;
        read_pending_ = true;
        if (!read_paused_) do_read();
    }
}

// A read of n bytes out of `asked` left the socket empty, so the read loop can stop
// without the read() that would only return EAGAIN (nginx's ngx_unix_recv does the same
// with EPOLLRDHUP). True for a stream socket, TCP or Unix-domain: its read returns less
// than asked only when the receive queue ran dry, and bytes queued after that raise a
// new edge. Not once the peer's FIN or an error was seen (no edge follows those), nor
// for a socket of another type or an fd that is no socket (a read per datagram).
// A few cases end a read early with data left: TCP urgent data, and on a Unix socket
// passed fds (SCM_RIGHTS) or SO_PASSCRED with several writers. We use none of them; a
// peer that sends urgent data only stalls itself until its next bytes.
bool Connection::drained(size_t n, size_t asked) const
{
    return n < asked && stream_ && !pending_eof_;
}

// Reads into the loop's scratch buffer and hands it to the handler; only what the
// handler leaves unconsumed is copied into a pooled block of the connection's own.
// Returns false when the read loop must stop (closed, EAGAIN, drained, paused).
bool Connection::read_into_scratch(size_t* budget)
{
    uint8_t* buf = loop_->read_scratch();
    uint32_t size = loop_->read_scratch_size();
    ssize_t n = ::read(fd_.get(), buf, size);
    if (n <= 0) {
        if (n == 0) {
            close("closed by peer");
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            read_pending_ = false;
        } else if (errno == EINTR) {
            return true;
        } else {
            close(errno == ECONNRESET ? "connection reset by peer" : "read error");
        }
        return false;
    }
    bytes_in_ += uint64_t(n);
    *budget = size_t(n) >= *budget ? 0 : *budget - size_t(n);
    scratch_ = buf;
    s_start_ = 0;
    s_end_ = uint32_t(n);
    handler_->on_read(*this);
    uint32_t left = s_end_ - s_start_;
    const uint8_t* rest = buf + s_start_;
    scratch_ = nullptr;
    if (closing_) return false;
    if (left > 0) {
        in_ = BufRef(loop_->pool().alloc());
        if (!in_) {
            close("out of buffers");
            return false;
        }
        memcpy(in_->data(), rest, left);
        in_->end = left;
    }
    if (drained(size_t(n), size)) {
        read_pending_ = false;
        return false;
    }
    return true;
}

void Connection::do_read()
{
    size_t budget = table_->read_budget;
    while (!closing_ && !read_paused_) {
        if (budget == 0) {   // fairness: let other connections run, continue next iteration
            loop_->post(read_ev_);
            return;
        }
        if (!in_) {
            if (!read_into_scratch(&budget)) return;
            continue;
        }
        if (!ensure_input_room()) {
            if (!in_) {
                close("out of buffers");
            } else {
                close("input not consumed");
            }
            return;
        }
        size_t room = in_->room();
        ssize_t n = ::read(fd_.get(), in_->data() + in_->end, room);
        if (n > 0) {
            in_->end += uint32_t(n);
            bytes_in_ += uint64_t(n);
            budget = size_t(n) >= budget ? 0 : budget - size_t(n);
            handler_->on_read(*this);
            if (!closing_ && drained(size_t(n), room)) {
                read_pending_ = false;
                return;
            }
            continue;
        }
        if (n == 0) {
            close("closed by peer");
            return;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            read_pending_ = false;
            if (in_ && in_->size() == 0) in_.reset();
            return;
        }
        close(errno == ECONNRESET ? "connection reset by peer" : "read error");
        return;
    }
}

void Connection::flush_soon()
{
    if (!closing_ && !write_blocked_ && !connecting_) loop_->post(flush_ev_);
}

void Connection::flush_now()
{
    if (!closing_ && !write_blocked_ && !connecting_) do_write();
}

void Connection::on_flush_posted(Posted& p)
{
    auto* c = static_cast<Connection*>(p.arg);
    if (!c->closing_ && !c->write_blocked_) c->do_write();
}

void Connection::do_write()
{
    iovec iov[kMaxIov];
    while (!out_.empty()) {
        int n = out_.gather(iov, kMaxIov, kMaxWriteBatch);
        ssize_t k = ::writev(fd_.get(), iov, n);
        if (k > 0) {
            out_.advance(size_t(k));
            bytes_out_ += uint64_t(k);
            last_write_ = loop_->now();
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            write_blocked_ = true;   // EPOLLOUT (edge) resumes us
            return;
        }
        close(errno == EPIPE || errno == ECONNRESET ? "connection reset by peer" : "write error");
        return;
    }
    if (close_when_flushed_) {
        close(close_reason_);
        return;
    }
    if (want_drain_) {
        want_drain_ = false;
        handler_->on_drain(*this);
    }
}

void Connection::close_after_flush(const char* reason)
{
    if (closing_) return;
    close_reason_ = reason;
    close_when_flushed_ = true;
    pause_reading(true);
    if (out_.empty()) {
        close(reason);
    } else {
        flush_soon();
    }
}

void Connection::close(const char* reason)
{
    if (closing_) return;
    closing_ = true;
    close_reason_ = reason;
    loop_->cancel_post(flush_ev_);
    loop_->cancel_post(read_ev_);
    reg_.reset();
    if (handler_) {
        handler_->on_close(*this, reason);
        loop_->defer_delete(handler_);
        handler_ = nullptr;
    }
    loop_->defer_delete(this);
}

void Connection::destroy()
{
    table_->release(this);
}

// --- ConnectionTable -------------------------------------------------------------------

ConnectionTable::ConnectionTable(EventLoop& loop, uint32_t slots)
    : loop_(loop), slots_(new Connection[slots]), capacity_(slots)
{
    for (uint32_t i = slots; i-- > 0;) {
        slots_[i].table_ = this;
        slots_[i].loop_ = &loop;
        slots_[i].next_free_ = free_;
        free_ = &slots_[i];
    }
}

ConnectionTable::~ConnectionTable()
{
    close_all("worker exiting");
    loop_.reap();   // runs the deferred releases while the slots still exist
}

Connection* ConnectionTable::take_slot()
{
    Connection* c = free_;
    if (!c) return nullptr;
    free_ = c->next_free_;
    c->next_free_ = nullptr;
    c->in_use_ = true;
    c->closing_ = c->connecting_ = c->write_blocked_ = c->read_paused_ = false;
    c->read_pending_ = c->want_drain_ = c->close_when_flushed_ = false;
    c->pending_eof_ = c->stream_ = false;
    c->close_reason_ = nullptr;
    c->handler_ = nullptr;
    c->server_ = nullptr;
    c->bytes_in_ = c->bytes_out_ = 0;
    c->id_ = next_id_++;
    c->started_ = c->last_write_ = loop_.now();
    c->flush_ev_ = Posted{&Connection::on_flush_posted, c};
    c->read_ev_ = Posted{&Connection::on_read_posted, c};
    c->out_.configure(out_queue_msgs, out_queue_bytes);
    ++active_;
    return c;
}

void ConnectionTable::release(Connection* c)
{
    closed_bytes_in_ += c->bytes_in_;
    closed_bytes_out_ += c->bytes_out_;
    c->in_.reset();
    c->out_.clear();
    c->fd_.reset();
    c->in_use_ = false;
    c->next_free_ = free_;
    free_ = c;
    --active_;
}

Connection* ConnectionTable::adopt(int fd, const sockaddr* peer, socklen_t peer_len, void* server)
{
    Connection* c = take_slot();
    if (!c) {
        ::close(fd);
        // One line per second at most: a flood of refused clients must not flood the log.
        if (loop_.now() - last_full_log_ >= 1000 || last_full_log_ == 0) {
            last_full_log_ = loop_.now();
            STROM_LOG(alert, 0, "%u worker_connections are not enough, connection refused",
                      capacity_);
        }
        return nullptr;
    }
    c->fd_.reset(fd);
    c->server_ = server;
    // Whether a short read means drained (see drained()): a listener's sockets are
    // streams, a caller's fd may be anything.
    int type = 0;
    socklen_t type_len = sizeof(type);
    c->stream_ = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0 && type == SOCK_STREAM;
    memset(&c->peer_, 0, sizeof(c->peer_));
    memcpy(&c->peer_, peer, peer_len < socklen_t(sizeof(c->peer_)) ? peer_len : sizeof(c->peer_));
    format_sockaddr(peer, peer_len, c->peer_text_, sizeof(c->peer_text_));
    if (peer->sa_family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (c->reg_.add(loop_, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, c) != Rc::ok) {
        STROM_LOG(error, c->id_, "epoll_ctl() failed (%d)", errno);
        c->closing_ = true;
        release(c);
        return nullptr;
    }
    return c;
}

Connection* ConnectionTable::connect(const sockaddr* addr, socklen_t len, ConnHandler* h,
                                     const char** err)
{
    int fd = ::socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = "socket() failed";
        return nullptr;
    }
    Connection* c = take_slot();
    if (!c) {
        ::close(fd);
        *err = "worker_connections are not enough";
        return nullptr;
    }
    c->fd_.reset(fd);
    c->stream_ = true;
    memset(&c->peer_, 0, sizeof(c->peer_));
    memcpy(&c->peer_, addr, len < socklen_t(sizeof(c->peer_)) ? len : sizeof(c->peer_));
    format_sockaddr(addr, len, c->peer_text_, sizeof(c->peer_text_));
    c->handler_ = h;
    if (addr->sa_family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    int rc = ::connect(fd, addr, len);
    if (rc != 0 && errno != EINPROGRESS) {
        *err = errno == ECONNREFUSED ? "connection refused" : "connect() failed";
        c->handler_ = nullptr;
        c->closing_ = true;
        release(c);
        return nullptr;
    }
    c->connecting_ = true;
    if (c->reg_.add(loop_, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP, c) != Rc::ok) {
        *err = "epoll_ctl() failed";
        c->handler_ = nullptr;
        c->closing_ = true;
        release(c);
        return nullptr;
    }
    return c;
}

void ConnectionTable::close_all(const char* reason)
{
    // A handler's close may open another connection (a final HTTP callback) in a slot
    // this walk has passed: walk again until a pass finds nothing open.
    for (int pass = 0; pass < 8; ++pass) {
        bool any = false;
        for (uint32_t i = 0; i < capacity_; ++i) {
            if (slots_[i].in_use_ && !slots_[i].closing_) {
                slots_[i].close(reason);
                any = true;
            }
        }
        if (!any) return;
    }
}

}  // namespace strom
