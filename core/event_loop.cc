#include "core/event_loop.h"

#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "core/log.h"

namespace strom {

Rc IoReg::add(EventLoop& loop, int fd, uint32_t events, IoHandler* h)
{
    reset();
    uint32_t slot = loop.alloc_slot(h);
    epoll_event ev{};
    ev.events = events | EPOLLET;
    ev.data.u64 = uint64_t(loop.slots_[slot].gen) << 32 | slot;
    if (epoll_ctl(loop.ep_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
        loop.free_slot(slot);
        return Rc::error;
    }
    loop_ = &loop;
    fd_ = fd;
    slot_ = slot;
    return Rc::ok;
}

void IoReg::reset()
{
    if (!loop_) return;
    // The fd may already be closed by its owner (then the kernel dropped it); either
    // way the slot's generation moves on so queued events for it are ignored.
    epoll_ctl(loop_->ep_.get(), EPOLL_CTL_DEL, fd_, nullptr);
    loop_->free_slot(slot_);
    loop_ = nullptr;
    fd_ = -1;
}

EventLoop::EventLoop(uint32_t block_size, size_t max_blocks)
    : pool_(block_size, max_blocks),
      small_pool_(kSmallBlockSize, max_blocks),
      scratch_(new uint8_t[block_size]),
      ep_(epoll_create1(EPOLL_CLOEXEC)),
      events_(512)
{
    update_time();
}

EventLoop::~EventLoop()
{
    run_deletes();
    sigreg_.reset();
}

void EventLoop::update_time()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_ = uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

uint32_t EventLoop::alloc_slot(IoHandler* h)
{
    uint32_t s;
    if (free_head_ != UINT32_MAX) {
        s = free_head_;
        free_head_ = slots_[s].next_free;
    } else {
        s = uint32_t(slots_.size());
        slots_.push_back(Slot{});
    }
    slots_[s].h = h;
    return s;
}

void EventLoop::free_slot(uint32_t s)
{
    slots_[s].h = nullptr;
    ++slots_[s].gen;
    slots_[s].next_free = free_head_;
    free_head_ = s;
}

void EventLoop::post(Posted& p)
{
    if (p.queued) return;
    p.queued = true;
    p.prev = posted_tail_;
    p.next = nullptr;
    if (posted_tail_) {
        posted_tail_->next = &p;
    } else {
        posted_head_ = &p;
    }
    posted_tail_ = &p;
}

void EventLoop::cancel_post(Posted& p)
{
    if (!p.queued) return;
    if (p.prev) {
        p.prev->next = p.next;
    } else {
        posted_head_ = p.next;
    }
    if (p.next) {
        p.next->prev = p.prev;
    } else {
        posted_tail_ = p.prev;
    }
    p.queued = false;
    p.prev = p.next = nullptr;
}

void EventLoop::defer_delete(Deletable* d)
{
    d->next_dead_ = dead_;
    dead_ = d;
}

Rc EventLoop::watch_signals(const sigset_t& mask, SignalHandler* h)
{
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return Rc::error;
    sigreg_.reset();
    sigfd_.reset(signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!sigfd_) return Rc::error;
    sigh_ = h;
    return sigreg_.add(*this, sigfd_.get(), EPOLLIN, this);
}

void EventLoop::on_io(uint32_t)
{
    signalfd_siginfo si;
    while (read(sigfd_.get(), &si, sizeof(si)) == ssize_t(sizeof(si))) {
        if (sigh_) sigh_->on_signal(int(si.ssi_signo));
    }
}

void EventLoop::run_posted()
{
    // Events posted while running are run in the same pass (a flush posted by a resumed
    // chain still goes out in this iteration); each runs at most once per post(). An
    // event is unlinked before it runs, so it may post itself again or be cancelled.
    while (posted_head_) {
        Posted* p = posted_head_;
        cancel_post(*p);
        p->fn(*p);
    }
}

void EventLoop::run_deletes()
{
    while (dead_) {
        Deletable* d = dead_;
        dead_ = d->next_dead_;
        d->destroy();
    }
}

Rc EventLoop::run_once(int max_wait_ms)
{
    update_time();
    int wait = timers_.next_timeout(now_);
    if (max_wait_ms >= 0 && (wait < 0 || wait > max_wait_ms)) wait = max_wait_ms;
    if (posted_head_ || dead_) wait = 0;
    int n = epoll_wait(ep_.get(), events_.data(), int(events_.size()), wait);
    if (n < 0 && errno != EINTR) return Rc::error;
    update_time();
    ++iterations_;
    for (int i = 0; i < n; ++i) {
        uint32_t slot = uint32_t(events_[i].data.u64);
        uint32_t gen = uint32_t(events_[i].data.u64 >> 32);
        if (slot >= slots_.size() || slots_[slot].gen != gen || !slots_[slot].h) continue;   // stale
        slots_[slot].h->on_io(events_[i].events);
    }
    timers_.expire(now_);
    run_posted();
    run_deletes();
    return Rc::ok;
}

void EventLoop::abandon_after_fork()
{
    sigreg_.abandon();
    sigfd_.reset();
    ep_.reset();
    sigh_ = nullptr;
}

void EventLoop::run()
{
    while (!stopping_) {
        if (run_once() != Rc::ok) {
            STROM_LOG(alert, 0, "epoll_wait() failed (%d)", errno);
            break;
        }
    }
}

}  // namespace strom
