// A TCP or Unix-domain connection of a worker: a preallocated slot holding the fd,
// its single edge-triggered registration, the input block, the bounded out-queue and
// the protocol handler that gives it meaning. Core knows nothing of that protocol:
// a ConnHandlerFactory (chosen by the listener's config) makes the handler on accept.
// A connection dies through close(reason): I/O stops at once, the handler hears
// on_close, and the slot returns to the table at the end of the loop iteration.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/event_loop.h"
#include "core/out_queue.h"

namespace strom {

class Connection;
class ConnectionTable;

class ConnHandler : public Deletable {
public:
    // Bytes arrived: c.input() holds everything not yet consumed. Consume what you
    // can; close the connection yourself on a protocol error.
    virtual void on_read(Connection& c) = 0;
    // The out-queue was emptied by a write (only after request_drain()).
    virtual void on_drain(Connection&) {}
    // An outgoing connect finished (ok=false: failed; on_close follows).
    virtual void on_connected(Connection&, bool /*ok*/) {}
    // The connection is closing; after this call the handler is destroyed (deferred).
    virtual void on_close(Connection& c, const char* reason) = 0;
    // Idle between requests (an HTTP keep-alive connection): a draining worker closes it
    // instead of waiting for it, as nginx closes idle connections at a graceful stop.
    virtual bool idle() const { return false; }
};

class ConnHandlerFactory {
public:
    virtual ConnHandler* create(Connection& c, void* server_ctx) = 0;

protected:
    ~ConnHandlerFactory() = default;
};

class Connection final : private IoHandler, public Deletable {
public:
    uint64_t id() const { return id_; }
    int fd() const { return fd_.get(); }
    EventLoop& loop() const { return *loop_; }
    ConnectionTable& table() const { return *table_; }
    const char* peer_text() const { return peer_text_; }
    const sockaddr_storage& peer() const { return peer_; }
    bool closing() const { return closing_; }
    uint64_t started_ms() const { return started_; }
    uint64_t bytes_in() const { return bytes_in_; }
    uint64_t bytes_out() const { return bytes_out_; }
    void* server() const { return server_; }

    void set_handler(ConnHandler* h) { handler_ = h; }
    ConnHandler* handler() const { return handler_; }

    // --- input: what was read and not yet consumed, in one contiguous span
    std::span<const uint8_t> input() const;
    void consume(size_t n);
    // Stop/resume reading (back-pressure of a suspended chain, a slow relay).
    void pause_reading(bool paused);

    // --- output
    OutQueue& out() { return out_; }
    // Queues a framed message; false when the out-queue is full (nothing queued).
    // This form walks the chain for its length.
    bool send(BufRef msg, uint8_t tag = 0) { return out_.push(std::move(msg), tag); }
    // The same when the caller knows the chain's length (`len` must be exactly that):
    // the hot path of a message enqueued for many players does not walk it each time.
    bool send(BufRef msg, size_t len, uint8_t tag) { return out_.push(std::move(msg), len, tag); }
    // Writes the queue at the end of this loop iteration (one writev batch per
    // connection per iteration, however many messages were queued).
    void flush_soon();
    // Writes now (after queuing a final message before close, for instance).
    void flush_now();
    void request_drain() { want_drain_ = true; }
    uint64_t last_write_ms() const { return last_write_; }   // last progress

    // Stops I/O, tells the handler, releases the slot at the end of the iteration.
    // The reason is a static string for logs ("closed by peer", "timeout", ...).
    void close(const char* reason);
    // Closes after the out-queue has been written (or `linger_ms` passed).
    void close_after_flush(const char* reason);

private:
    friend class ConnectionTable;
    Connection() = default;
    void on_io(uint32_t events) override;
    void do_read();
    bool read_into_scratch(size_t* budget);
    bool drained(size_t n, size_t asked) const;
    void do_write();
    static void on_flush_posted(Posted& p);
    static void on_read_posted(Posted& p);
    void destroy() override;
    bool ensure_input_room();

    ConnectionTable* table_ = nullptr;
    EventLoop* loop_ = nullptr;
    UniqueFd fd_;
    IoReg reg_;   // after fd_: unregistered before the fd closes
    ConnHandler* handler_ = nullptr;
    void* server_ = nullptr;
    uint64_t id_ = 0;
    sockaddr_storage peer_{};
    char peer_text_[64] = {};
    BufRef in_;            // unconsumed input kept between reads
    const uint8_t* scratch_ = nullptr;   // during on_read: input in the loop's scratch
    uint32_t s_start_ = 0;
    uint32_t s_end_ = 0;
    OutQueue out_;
    Posted flush_ev_;
    Posted read_ev_;
    uint64_t started_ = 0;
    uint64_t last_write_ = 0;
    uint64_t bytes_in_ = 0;
    uint64_t bytes_out_ = 0;
    const char* close_reason_ = nullptr;
    bool closing_ = false;
    bool connecting_ = false;
    bool write_blocked_ = false;
    bool read_paused_ = false;
    bool read_pending_ = false;   // data may be left in the socket (budget or pause)
    bool pending_eof_ = false;    // FIN, hang-up or error reported: read to the end
    bool stream_ = false;         // SOCK_STREAM: a short read leaves the socket empty
    bool want_drain_ = false;
    bool close_when_flushed_ = false;
    bool in_use_ = false;

public:
    ~Connection() override = default;
    Connection* next_free_ = nullptr;
};

// The worker's preallocated connection slots (worker_connections).
class ConnectionTable {
public:
    ConnectionTable(EventLoop& loop, uint32_t slots);
    ~ConnectionTable();

    // Takes ownership of an accepted fd; nullptr (fd closed, one log line per burst)
    // when every slot is in use.
    Connection* adopt(int fd, const sockaddr* peer, socklen_t peer_len, void* server);
    // Starts a non-blocking connect; the handler hears on_connected(). nullptr with
    // *err set when no slot or the socket call failed.
    Connection* connect(const sockaddr* addr, socklen_t len, ConnHandler* h, const char** err);

    uint32_t active() const { return active_; }
    uint32_t capacity() const { return capacity_; }
    // Bytes of the connections released so far (the open ones' are theirs): the totals
    // the stats module adds up once a second.
    uint64_t closed_bytes_in() const { return closed_bytes_in_; }
    uint64_t closed_bytes_out() const { return closed_bytes_out_; }
    EventLoop& loop() { return loop_; }
    // Closes every connection (fast stop).
    void close_all(const char* reason);
    template <class F> void for_each(F&& f)
    {
        for (uint32_t i = 0; i < capacity_; ++i) {
            if (slots_[i].in_use_ && !slots_[i].closing_) f(slots_[i]);
        }
    }

    // Per-connection input/output limits applied to new connections.
    uint32_t out_queue_msgs = 256;
    size_t out_queue_bytes = size_t(16) << 20;
    size_t read_budget = 1 << 20;   // bytes read per connection per iteration

private:
    friend class Connection;
    Connection* take_slot();
    void release(Connection* c);

    EventLoop& loop_;
    std::unique_ptr<Connection[]> slots_;
    Connection* free_ = nullptr;
    uint32_t capacity_;
    uint32_t active_ = 0;
    uint64_t next_id_ = 1;
    uint64_t last_full_log_ = 0;
    uint64_t closed_bytes_in_ = 0;
    uint64_t closed_bytes_out_ = 0;
};

// Formats a peer address: "127.0.0.1:50312", "[::1]:50312", "unix:".
void format_sockaddr(const sockaddr* sa, socklen_t len, char* out, size_t out_len);

}  // namespace strom
