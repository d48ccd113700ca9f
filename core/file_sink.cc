#include "core/file_sink.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>

#include "core/log.h"

namespace strom {

// One queued operation. Built and destroyed on the loop thread (it holds pool
// references, whose counts are not atomic); the writer thread only reads its bytes and
// fills err/what.
struct SinkOp {
    enum class Kind : uint8_t { append, pwrite, close };
    Kind kind = Kind::append;
    SinkState* st = nullptr;
    uint64_t offset = 0;  // pwrite
    size_t bytes = 0;     // appended bytes, counted against the bound
    uint8_t small[FileSink::kSmallMax];
    uint8_t head_len = 0;
    uint8_t tail_len = 0;
    BufRef chain;
    std::vector<uint8_t> data;
    int err = 0;
    const char* what = nullptr;
};

// A sink's shared half. Loop-thread fields, writer-thread fields and the op queue
// (under the writer's mutex); a state is run by at most one writer thread at a time
// (`scheduled`), so its ops run in order. Freed by the loop once its close op is done.
struct SinkState {
    // loop thread
    FileSink* owner = nullptr;  // null once closing
    FileSinkHandler* handler = nullptr;
    FileSinkClosed* closed = nullptr;
    size_t queued = 0;
    bool error_told = false;
    int close_err = 0;
    const char* close_what = nullptr;
    // the writer thread running it
    int fd = -1;
    bool failed = false;
    // under Writer::mu_
    std::deque<SinkOp*> ops;
    bool scheduled = false;
};

namespace {

Rc write_all(int fd, const struct iovec* iov, int n, size_t total)
{
    size_t done = 0;
    while (done < total) {
        size_t skip = done;  // what an earlier short write already took
        int i = 0;
        while (i < n && skip >= iov[i].iov_len) skip -= iov[i++].iov_len;
        struct iovec local[1024];  // IOV_MAX on Linux
        int k = 0;
        for (; i < n && k < 1024; ++i, ++k) {
            local[k] = iov[i];
            if (k == 0) {
                local[0].iov_base = static_cast<char*>(iov[i].iov_base) + skip;
                local[0].iov_len -= skip;
            }
        }
        ssize_t w = ::writev(fd, local, k);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = ENOSPC;
            return Rc::error;
        }
        done += size_t(w);
    }
    return Rc::ok;
}

Rc pwrite_all(int fd, const uint8_t* p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t w = ::pwrite(fd, p, n, off_t(off));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = ENOSPC;
            return Rc::error;
        }
        p += w;
        n -= size_t(w);
        off += uint64_t(w);
    }
    return Rc::ok;
}

void collect_iov(const SinkOp& op, std::vector<struct iovec>* iov, size_t* total)
{
    auto add = [&](const void* p, size_t n) {
        if (!n) return;
        iov->push_back({const_cast<void*>(p), n});
        *total += n;
    };
    if (!op.data.empty()) {
        add(op.data.data(), op.data.size());
    } else {
        add(op.small, op.head_len);
        for (const Block* b = op.chain.get(); b; b = b->next) add(b->data() + b->start, b->size());
        add(op.small + op.head_len, op.tail_len);
    }
}

// Consecutive appends go to the kernel in one writev: a disk that is slow per request
// (network, FUSE) then costs one wait per batch, not one per tag.
void run_appends(int fd, bool* failed, SinkOp* const* ops, size_t n)
{
    if (*failed) return;
    std::vector<struct iovec> iov;
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) collect_iov(*ops[i], &iov, &total);
    if (total && write_all(fd, iov.data(), int(iov.size()), total) != Rc::ok) {
        ops[0]->err = errno;  // reported once: on the first op of the batch
        ops[0]->what = "write";
        *failed = true;
    }
}

// Runs one op on a sink's fd (writer thread, or the caller's in synchronous mode).
// After a failed write the sink takes no more data: a later append would leave a hole
// or a torn tag in the middle of the file.
void run_op(int* fd, bool* failed, SinkOp& op)
{
    switch (op.kind) {
        case SinkOp::Kind::append: {
            SinkOp* one = &op;
            run_appends(*fd, failed, &one, 1);
            return;
        }
        case SinkOp::Kind::pwrite:
            if (*failed) return;
            if (pwrite_all(*fd, op.data.data(), op.data.size(), op.offset) != Rc::ok) {
                op.err = errno;
                op.what = "pwrite";
                *failed = true;
            }
            return;
        case SinkOp::Kind::close:
            if (*fd >= 0 && ::close(*fd) != 0 && errno != EINTR) {
                op.err = errno;
                op.what = "close";
            }
            *fd = -1;
            return;
    }
}

// The writer threads of this process and their way back to the loop (an eventfd). Up to
// kMaxThreads, started as sinks become busy: one slow disk holds one thread, the other
// recordings go on in the others. The registration is dropped when no sink is left, so a
// later sink of another loop (tests) can take it.
class Writer final : public IoHandler {
public:
    static constexpr unsigned kMaxThreads = 4;
    static constexpr size_t kBatchOps = 256;  // appends per writev at most
    static constexpr size_t kBatchBytes = 1024 * 1024;

    static Writer& get()
    {
        static Writer* w = new Writer;  // lives as long as the process: threads use it
        return *w;
    }

    bool bind(EventLoop& loop)
    {
        if (loop_ && loop_ != &loop) return false;  // serving another loop (tests only)
        if (!efd_) {
            efd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
            if (!efd_) return false;
        }
        if (threads_ == 0 && !start_thread()) return false;
        if (!loop_) {
            if (reg_.add(loop, efd_.get(), EPOLLIN, this) != Rc::ok) return false;
            loop_ = &loop;
        }
        return true;
    }

    void opened() { ++live_; }
    unsigned live() const { return live_; }

    void schedule(SinkOp* op)
    {
        bool more_threads = false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            op->st->ops.push_back(op);
            if (!op->st->scheduled) {
                op->st->scheduled = true;
                ready_.push_back(op->st);
                more_threads = idle_ < ready_.size() && threads_ < kMaxThreads;
            }
        }
        cv_.notify_one();
        if (more_threads) (void)start_thread();
    }

    void on_io(uint32_t) override
    {
        uint64_t n;
        while (::read(efd_.get(), &n, sizeof n) == ssize_t(sizeof n)) {
        }
        std::deque<SinkOp*> done;
        {
            std::lock_guard<std::mutex> lock(mu_);
            done.swap(done_);
        }
        for (SinkOp* op : done) complete(op);
        if (!live_) {
            reg_.reset();
            loop_ = nullptr;
        }
    }

private:
    Writer() = default;

    void complete(SinkOp* op)
    {
        SinkState* st = op->st;
        if (op->kind == SinkOp::Kind::append) st->queued -= op->bytes;
        if (op->err && !st->error_told) {
            st->error_told = true;
            if (st->handler) {
                st->handler->on_sink_error(*st->owner, op->err, op->what);
            } else {
                st->close_err = op->err;
                st->close_what = op->what;
            }
        }
        bool last = op->kind == SinkOp::Kind::close;
        delete op;  // drops its pool references, here on the loop thread
        if (!last) return;
        FileSinkClosed* cb = st->closed;
        int err = st->close_err;
        const char* what = st->close_what;
        delete st;
        --live_;
        if (cb) cb->on_sink_closed(err, what);
    }

    bool start_thread()
    {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int err = pthread_create(&t, &attr, &Writer::main, this);
        pthread_attr_destroy(&attr);
        if (err != 0) {
            STROM_LOG(warn, 0, "file writer thread not started: %s", strerror(err));
            return false;
        }
        std::lock_guard<std::mutex> lock(mu_);
        ++threads_;
        return true;
    }

    static void* main(void* arg)
    {
        auto& w = *static_cast<Writer*>(arg);
        std::unique_lock<std::mutex> lock(w.mu_);
        for (;;) {
            ++w.idle_;
            w.cv_.wait(lock, [&] { return !w.ready_.empty(); });
            --w.idle_;
            SinkState* st = w.ready_.front();
            w.ready_.pop_front();
            std::vector<SinkOp*> batch;
            for (bool more = true; more;) {
                batch.assign(1, st->ops.front());
                st->ops.pop_front();
                if (batch[0]->kind == SinkOp::Kind::append) {
                    size_t bytes = batch[0]->bytes;
                    while (!st->ops.empty() && st->ops.front()->kind == SinkOp::Kind::append &&
                           batch.size() < kBatchOps && bytes < kBatchBytes) {
                        bytes += st->ops.front()->bytes;
                        batch.push_back(st->ops.front());
                        st->ops.pop_front();
                    }
                }
                lock.unlock();
                if (batch[0]->kind == SinkOp::Kind::append) {
                    run_appends(st->fd, &st->failed, batch.data(), batch.size());
                } else {
                    run_op(&st->fd, &st->failed, *batch[0]);
                }
                lock.lock();
                for (SinkOp* op : batch) w.done_.push_back(op);
                more = !st->ops.empty();
                // Not scheduled any more: from here the loop may free st (after a close).
                if (!more) st->scheduled = false;
                lock.unlock();
                uint64_t one = 1;
                (void)!::write(w.efd_.get(), &one, sizeof one);
                lock.lock();
            }
        }
        return nullptr;
    }

    // loop thread
    EventLoop* loop_ = nullptr;
    unsigned live_ = 0;
    IoReg reg_;
    UniqueFd efd_;
    // under mu_
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<SinkState*> ready_;
    std::deque<SinkOp*> done_;
    unsigned threads_ = 0;
    size_t idle_ = 0;
};

}  // namespace

FileSink::~FileSink()
{
    const char* ignored = "";
    if (is_open()) (void)close(nullptr, &ignored);
}

void FileSink::open(UniqueFd fd, EventLoop* loop, size_t max_queue, FileSinkHandler* h)
{
    const char* ignored = "";
    if (is_open()) (void)close(nullptr, &ignored);
    max_queue_ = max_queue;
    if (loop && Writer::get().bind(*loop)) {
        st_ = new SinkState;
        st_->owner = this;
        st_->handler = h;
        st_->fd = fd.release();
        Writer::get().opened();
        return;
    }
    sync_fd_ = std::move(fd);
}

size_t FileSink::queued_bytes() const
{
    return st_ ? st_->queued : 0;
}

Rc FileSink::submit(SinkOp* op, bool bounded, const char** what)
{
    if (st_) {
        if (st_->error_told) {
            delete op;
            errno = EIO;
            *what = "write";
            return Rc::error;
        }
        if (bounded && full(op->bytes)) {
            delete op;
            return Rc::again;
        }
        op->st = st_;
        st_->queued += op->bytes;
        Writer::get().schedule(op);
        return Rc::ok;
    }
    if (!sync_fd_) {
        delete op;
        errno = EBADF;
        *what = "write";
        return Rc::error;
    }
    int fd = sync_fd_.get();
    bool failed = false;
    run_op(&fd, &failed, *op);
    int err = op->err;
    const char* step = op->what;
    delete op;
    if (!err) return Rc::ok;
    errno = err;
    *what = step;
    return Rc::error;
}

Rc FileSink::append(std::span<const uint8_t> head, const Block* chain,
                    std::span<const uint8_t> tail, const char** what)
{
    if (head.size() + tail.size() > kSmallMax) {
        errno = EINVAL;
        *what = "write";
        return Rc::error;
    }
    auto* op = new SinkOp;
    if (!head.empty()) memcpy(op->small, head.data(), head.size());
    if (!tail.empty()) memcpy(op->small + head.size(), tail.data(), tail.size());
    op->head_len = uint8_t(head.size());
    op->tail_len = uint8_t(tail.size());
    op->bytes = head.size() + tail.size();
    if (chain) {
        op->chain = BufRef::share(chain);
        for (const Block* b = chain; b; b = b->next) op->bytes += b->size();
    }
    return submit(op, true, what);
}

Rc FileSink::append(std::vector<uint8_t>&& bytes, const char** what, bool bounded)
{
    auto* op = new SinkOp;
    op->data = std::move(bytes);
    bytes.clear();
    op->bytes = op->data.size();
    return submit(op, bounded, what);
}

Rc FileSink::pwrite(uint64_t offset, std::span<const uint8_t> bytes, const char** what)
{
    auto* op = new SinkOp;
    op->kind = SinkOp::Kind::pwrite;
    op->offset = offset;
    op->data.assign(bytes.begin(), bytes.end());
    return submit(op, false, what);
}

Rc FileSink::close(FileSinkClosed* done, const char** what)
{
    if (st_) {
        SinkState* st = std::exchange(st_, nullptr);
        st->owner = nullptr;
        st->handler = nullptr;
        st->closed = done;
        auto* op = new SinkOp;
        op->kind = SinkOp::Kind::close;
        op->st = st;
        Writer::get().schedule(op);
        return Rc::ok;
    }
    Rc rc = Rc::ok;
    int err = 0;
    const char* step = nullptr;
    if (sync_fd_ && ::close(sync_fd_.release()) != 0 && errno != EINTR) {
        err = errno;
        step = "close";
        *what = step;
        rc = Rc::error;
    }
    if (done) done->on_sink_closed(err, step);
    if (err) errno = err;
    return rc;
}

unsigned file_sink_pending()
{
    return Writer::get().live();
}

unsigned file_sink_drain(EventLoop& loop, uint64_t timeout_ms)
{
    loop.update_time();
    uint64_t deadline = loop.now() + timeout_ms;
    while (Writer::get().live() && loop.now() < deadline) {
        if (loop.run_once(50) != Rc::ok) break;
    }
    return Writer::get().live();
}

}  // namespace strom
