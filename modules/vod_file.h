// A VOD file as one player reads it, without waiting for the disk on the worker's thread:
// bytes come from the page cache (preadv2 with RWF_NOWAIT) or from a read-ahead window
// that the helper thread (core/helper_thread.h) filled. A read that finds neither starts
// the helper's read of the window there and returns Rc::again; the waiter is told when it
// is in. Owned by the player's source; a read in flight when it dies finishes unseen.
#pragma once

#include <cstdint>
#include <vector>

#include "core/event_loop.h"
#include "core/rc.h"
#include "core/unique_fd.h"

namespace strom::mod {

class VodFileWaiter {
public:
    // From the event loop: the read that returned Rc::again can be asked again.
    virtual void file_ready() = 0;

protected:
    ~VodFileWaiter() = default;
};

class VodFile {
public:
    static constexpr size_t kWindow = 256 * 1024;   // what one helper read brings in

    VodFile(UniqueFd fd, uint64_t size) : fd_(std::move(fd)), size_(size) {}
    ~VodFile();
    VodFile(const VodFile&) = delete;
    VodFile& operator=(const VodFile&) = delete;

    // Reads that miss memory go to the helper thread of `loop` and are told to `w`.
    // Unattached (tools, tests), or when no helper runs, reads wait for the disk.
    void attach(EventLoop* loop, VodFileWaiter* w)
    {
        loop_ = loop;
        waiter_ = w;
    }

    // n bytes at off into p. Rc::again: not in memory; w is told when they are.
    // Rc::error: past the end of the file (as it was at open) or a read error.
    Rc read(uint64_t off, uint8_t* p, size_t n);

    uint64_t size() const { return size_; }
    bool waiting() const { return job_ != nullptr; }

private:
    struct Job;
    Rc fetch(uint64_t off, uint8_t* p, size_t n);

    UniqueFd fd_;
    uint64_t size_;
    EventLoop* loop_ = nullptr;
    VodFileWaiter* waiter_ = nullptr;
    Job* job_ = nullptr;         // the helper's read in flight
    bool nowait_ = true;         // the file system answers RWF_NOWAIT
    bool failed_ = false;        // the helper's read failed: so does every later read
    // Bytes [win_off_, win_off_ + win_len_) of the file, the last helper read: held only
    // while this player's reads miss the page cache (the helper allocates the next one).
    std::vector<uint8_t> win_;
    uint64_t win_off_ = 0;
    size_t win_len_ = 0;
};

}  // namespace strom::mod
