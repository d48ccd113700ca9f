// The per-worker reactor: epoll (edge-triggered, each fd registered once), a timer
// heap, posted events run after I/O, deferred destruction, signals through signalfd,
// and a monotonic clock cached once per iteration. One EventLoop per process; it owns
// the worker's buffer pool. Nothing is freed inside its own callback: objects that die
// are handed to defer_delete() and destroyed at the end of the iteration.
#pragma once

#include <signal.h>
#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/buf.h"
#include "core/rc.h"
#include "core/timer.h"
#include "core/unique_fd.h"

namespace strom {

class EventLoop;

class IoHandler {
public:
    virtual void on_io(uint32_t events) = 0;   // EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits

protected:
    ~IoHandler() = default;
};

// An fd's registration, removed in the destructor. The epoll_data carries slot and
// generation, so an event still queued for a registration that died (or whose slot
// was reused in the same iteration) is recognised and dropped.
class IoReg {
public:
    IoReg() = default;
    IoReg(const IoReg&) = delete;
    IoReg& operator=(const IoReg&) = delete;
    ~IoReg() { reset(); }

    Rc add(EventLoop& loop, int fd, uint32_t events, IoHandler* h);
    void reset();
    bool active() const { return loop_ != nullptr; }
    // In a forked child: forget the registration without touching the epoll set,
    // which the child shares with its parent.
    void abandon() { loop_ = nullptr; }

private:
    EventLoop* loop_ = nullptr;
    int fd_ = -1;
    uint32_t slot_ = 0;
};

// An event run after the current iteration's I/O (a deferred flush, a resumed chain).
// Embedded in its owner; posting twice runs it once. The queue is intrusive and doubly
// linked, so post and cancel are O(1) (a closing connection cancels two of them).
// An owner must cancel a queued event before it dies or is reassigned.
struct Posted {
    using Callback = void (*)(Posted&);
    Callback fn = nullptr;
    void* arg = nullptr;
    Posted* prev = nullptr;
    Posted* next = nullptr;
    bool queued = false;
};

class Deletable {
public:
    virtual ~Deletable() = default;
    // Called at the end of the iteration in which the object died.
    virtual void destroy() { delete this; }
    Deletable* next_dead_ = nullptr;
};

class SignalHandler {
public:
    virtual void on_signal(int signo) = 0;

protected:
    ~SignalHandler() = default;
};

class EventLoop : private IoHandler {
public:
    EventLoop(uint32_t block_size = BufPool::kDefaultBlockSize, size_t max_blocks = 65536);
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    bool ok() const { return bool(ep_); }
    uint64_t now() const { return now_; }           // ms, CLOCK_MONOTONIC, cached
    void update_time();
    BufPool& pool() { return pool_; }
    // Small blocks for the control path (handshake, commands, statuses): a burst of
    // thousands of new connections then costs 2 KiB each in flight, not a media block.
    BufPool& small_pool() { return small_pool_; }
    static constexpr uint32_t kSmallBlockSize = 2048;
    // One block-sized buffer every connection of this loop reads into first, so an idle
    // connection (or one whose input is always consumed whole) holds no block at all.
    uint8_t* read_scratch() { return scratch_.get(); }
    uint32_t read_scratch_size() const { return pool_.block_size(); }

    void add_timer(Timer& t, uint64_t delay_ms) { timers_.add(t, now_ + delay_ms); }
    void cancel_timer(Timer& t) { timers_.cancel(t); }
    size_t timer_count() const { return timers_.size(); }

    void post(Posted& p);          // no-op when already queued
    void cancel_post(Posted& p);   // no-op when not queued (or already running)
    void defer_delete(Deletable* d);
    // Destroys what died now (normally the end of each iteration does it).
    void reap() { run_deletes(); }

    // Blocks `mask` for the process and delivers those signals to h from the loop.
    Rc watch_signals(const sigset_t& mask, SignalHandler* h);

    // One iteration: wait for I/O (at most max_wait_ms, -1 = until a timer), dispatch
    // I/O, expire timers, run posted events, destroy what died.
    Rc run_once(int max_wait_ms = -1);
    void run();
    // In a forked child: close this loop's fds without deregistering anything (the
    // epoll instance is shared with the parent). The object must not be used after.
    void abandon_after_fork();
    void stop() { stopping_ = true; }
    bool stopping() const { return stopping_; }
    uint64_t iterations() const { return iterations_; }

private:
    friend class IoReg;
    struct Slot {
        IoHandler* h = nullptr;
        uint32_t gen = 0;
        uint32_t next_free = 0;
    };
    uint32_t alloc_slot(IoHandler* h);
    void free_slot(uint32_t slot);
    void run_posted();
    void run_deletes();
    void on_io(uint32_t events) override;   // the signalfd

    BufPool pool_;
    BufPool small_pool_;
    std::unique_ptr<uint8_t[]> scratch_;
    UniqueFd ep_;
    UniqueFd sigfd_;
    IoReg sigreg_;
    SignalHandler* sigh_ = nullptr;
    std::vector<Slot> slots_;
    uint32_t free_head_ = UINT32_MAX;
    TimerHeap timers_;
    Posted* posted_head_ = nullptr;
    Posted* posted_tail_ = nullptr;
    Deletable* dead_ = nullptr;
    uint64_t now_ = 0;
    uint64_t iterations_ = 0;
    bool stopping_ = false;
    std::vector<epoll_event> events_;
};

}  // namespace strom
