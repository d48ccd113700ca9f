#include "core/helper_thread.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>

#include "core/log.h"
#include "core/unique_fd.h"

namespace strom {

namespace {

// The loop side (submit, on_io) runs on the worker's thread; the helper only runs jobs.
// Jobs cross over in two queues under a mutex, and an eventfd wakes the loop. The loop
// registration is dropped when nothing is pending, so that a later submit from another
// loop (tests) can take it.
class HelperThread final : public IoHandler {
public:
    static HelperThread& get()
    {
        static HelperThread* h = new HelperThread;   // lives as long as the process
        return *h;
    }

    Rc submit(EventLoop& loop, HelperJob* job)
    {
        if (!ready(loop)) return Rc::declined;
        ++pending_;
        {
            std::lock_guard<std::mutex> lock(mu_);
            queued_.push_back(job);
        }
        cv_.notify_one();
        return Rc::ok;
    }

    unsigned pending() const { return pending_; }

    void on_io(uint32_t) override
    {
        uint64_t n;
        while (::read(efd_.get(), &n, sizeof n) == ssize_t(sizeof n)) {
        }
        std::deque<HelperJob*> done;
        {
            std::lock_guard<std::mutex> lock(mu_);
            done.swap(done_);
        }
        pending_ -= unsigned(done.size());
        if (!pending_) {
            reg_.reset();
            loop_ = nullptr;
        }
        for (HelperJob* j : done) j->done();
    }

private:
    HelperThread() = default;

    bool ready(EventLoop& loop)
    {
        if (!efd_) {
            efd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
            if (!efd_) return false;
        }
        if (!started_) {
            pthread_t t;
            pthread_attr_t attr;
            pthread_attr_init(&attr);
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            int err = pthread_create(&t, &attr, &HelperThread::main, this);
            pthread_attr_destroy(&attr);
            if (err != 0) {
                STROM_LOG(warn, 0, "helper thread not started: %s; file reads stay in the worker", strerror(err));
                return false;
            }
            started_ = true;
        }
        if (loop_ != &loop) {
            if (loop_) return false;   // busy for another loop (tests only)
            if (reg_.add(loop, efd_.get(), EPOLLIN, this) != Rc::ok) return false;
            loop_ = &loop;
        }
        return true;
    }

    static void* main(void* arg)
    {
        auto& h = *static_cast<HelperThread*>(arg);
        for (;;) {
            HelperJob* j;
            {
                std::unique_lock<std::mutex> lock(h.mu_);
                h.cv_.wait(lock, [&] { return !h.queued_.empty(); });
                j = h.queued_.front();
                h.queued_.pop_front();
            }
            j->run();
            {
                std::lock_guard<std::mutex> lock(h.mu_);
                h.done_.push_back(j);
            }
            uint64_t one = 1;
            (void)!::write(h.efd_.get(), &one, sizeof one);
        }
        return nullptr;
    }

    EventLoop* loop_ = nullptr;   // loop thread only
    unsigned pending_ = 0;
    IoReg reg_;
    UniqueFd efd_;
    bool started_ = false;
    std::mutex mu_;   // queued_ and done_
    std::condition_variable cv_;
    std::deque<HelperJob*> queued_;
    std::deque<HelperJob*> done_;
};

}  // namespace

Rc helper_submit(EventLoop& loop, HelperJob* job) { return HelperThread::get().submit(loop, job); }

unsigned helper_pending() { return HelperThread::get().pending(); }

}  // namespace strom
