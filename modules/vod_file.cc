#include "modules/vod_file.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "core/helper_thread.h"
#include "core/log.h"

namespace strom::mod {

namespace {

// pread until n bytes or the end: the bytes read, -1 on an error.
ssize_t pread_full(int fd, uint8_t* p, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = ::pread(fd, p + got, n - got, off_t(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += size_t(r);
    }
    return ssize_t(got);
}

}  // namespace

// The helper's read of one window. It has its own dup of the fd and its own buffer, so
// that the player may go away while it runs: then `owner` is null and done() drops it.
struct VodFile::Job final : HelperJob {
    VodFile* owner = nullptr;          // loop thread only
    std::atomic<bool> gone{false};     // the owner died: skip the read if it has not begun
    UniqueFd fd;
    uint64_t off = 0;
    size_t len = 0;
    std::vector<uint8_t> buf;
    ssize_t got = 0;

    void run() override
    {
        if (gone.load(std::memory_order_relaxed)) return;
        if (buf.size() < len) buf.resize(len);
        got = pread_full(fd.get(), buf.data(), len, off);
    }

    void done() override
    {
        VodFile* f = owner;
        if (f) {
            f->job_ = nullptr;
            if (got == ssize_t(len)) {
                f->win_.swap(buf);   // the old window goes with the job
                f->win_off_ = off;
                f->win_len_ = len;
            } else {
                f->failed_ = true;   // the file shrank, or the disk failed
            }
        }
        delete this;
        if (f && f->waiter_) f->waiter_->file_ready();
    }
};

VodFile::~VodFile()
{
    if (job_) {
        job_->owner = nullptr;
        job_->gone.store(true, std::memory_order_relaxed);
    }
}

Rc VodFile::read(uint64_t off, uint8_t* p, size_t n)
{
    if (off > size_ || n > size_ - off || failed_) return Rc::error;
    if (n == 0) return Rc::ok;
    if (win_len_ && off >= win_off_ && off + n <= win_off_ + win_len_) {
        memcpy(p, win_.data() + (off - win_off_), n);
        return Rc::ok;
    }
    if (job_) return Rc::again;
    if (!loop_) return pread_full(fd_.get(), p, n, off) == ssize_t(n) ? Rc::ok : Rc::error;
    if (nowait_) {
        // Served by the page cache, or EAGAIN (a short count: only part of it is there).
        iovec iov{p, n};
        ssize_t r = ::preadv2(fd_.get(), &iov, 1, off_t(off), RWF_NOWAIT);
        if (r == ssize_t(n)) {
            // The page cache serves this player again: it holds no window meanwhile.
            if (win_len_ && off >= win_off_ + win_len_) {
                std::vector<uint8_t>().swap(win_);
                win_len_ = 0;
            }
            return Rc::ok;
        }
        if (r < 0 && (errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSYS)) {
            nowait_ = false;   // this file system cannot say: every miss goes to the helper
        } else if (r < 0 && errno != EAGAIN && errno != EINTR) {
            return Rc::error;
        }
    }
    return fetch(off, p, n);
}

Rc VodFile::fetch(uint64_t off, uint8_t* p, size_t n)
{
    auto* job = new Job;
    job->fd.reset(fcntl(fd_.get(), F_DUPFD_CLOEXEC, 0));
    job->off = off;
    job->len = size_t(std::min<uint64_t>(std::max(n, kWindow), size_ - off));
    if (!job->fd) {   // out of fds: the player ends rather than the worker waiting
        delete job;
        STROM_LOG(error, 0, "vod read: dup() failed (%d: %s)", errno, strerror(errno));
        return Rc::error;
    }
    if (helper_submit(*loop_, job) != Rc::ok) {
        delete job;
        loop_ = nullptr;   // no helper: from now on this file is read in the worker
        return pread_full(fd_.get(), p, n, off) == ssize_t(n) ? Rc::ok : Rc::error;
    }
    job->owner = this;
    job_ = job;
    return Rc::again;
}

}  // namespace strom::mod
