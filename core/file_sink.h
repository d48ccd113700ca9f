// A file written behind the event loop (recordings now, HLS segments later). The loop
// thread queues appends (a pool chain taken by reference, or bytes handed over) and
// positioned patches; writer threads do the write(2)/pwrite(2)/close(2), in the order
// queued, so a slow disk never stalls the worker's streams. The queue is bounded in
// bytes: an append past the bound is refused (Rc::again) and the owner decides (a
// recording stops). Errors and the end of a close come back on the loop thread.
// Owned by its user (one per open file); a sink being closed lives on inside the writer
// until its queue is written, so the owner may die right after close().
// Without a loop (tests, tools; or when no writer thread can be had) every call writes
// at once on the caller's thread and returns the result, errno set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/buf.h"
#include "core/event_loop.h"
#include "core/rc.h"
#include "core/unique_fd.h"

namespace strom {

class FileSink;
struct SinkState;

class FileSinkHandler {
public:
    // A queued write failed: errno value and step ("write", "pwrite"). Told once; the
    // sink then drops every further write (a close still closes the fd).
    virtual void on_sink_error(FileSink& s, int err, const char* what) = 0;

protected:
    ~FileSinkHandler() = default;
};

class FileSinkClosed {
public:
    // Once, on the loop thread, when everything queued before close() has been written
    // and the fd closed. err 0, or the first failure the owner was not already told of
    // (errno value and step). May delete itself.
    virtual void on_sink_closed(int err, const char* what) = 0;

protected:
    ~FileSinkClosed() = default;
};

class FileSink {
public:
    static constexpr size_t kSmallMax = 32;  // head + tail bytes copied beside a chain

    FileSink() = default;
    ~FileSink();  // an open sink is closed (its queue still written), nobody told
    FileSink(const FileSink&) = delete;
    FileSink& operator=(const FileSink&) = delete;

    // Takes over `fd`, positioned where appends start. loop == nullptr: synchronous.
    // max_queue: bytes of appends waiting at most (0: no bound). h may be null.
    void open(UniqueFd fd, EventLoop* loop, size_t max_queue, FileSinkHandler* h);
    bool is_open() const { return sync_fd_ || st_; }
    bool async() const { return st_ != nullptr; }

    // Appends head, the bytes of every block of `chain`, then tail (head + tail at most
    // kSmallMax bytes, copied; the chain is kept by reference until written).
    // Rc::ok queued (or written); Rc::again: past the bound, nothing queued; Rc::error:
    // the write failed (synchronous: errno set, *what the step) or the sink has failed.
    Rc append(std::span<const uint8_t> head, const Block* chain, std::span<const uint8_t> tail,
              const char** what);
    // Appends bytes handed over (the vector is left empty). bounded = false: never
    // refused (the end of a file whose index already counts these bytes).
    Rc append(std::vector<uint8_t>&& bytes, const char** what, bool bounded = true);
    // Overwrites at `offset` once what is queued before it is written; copied, never
    // refused for the bound (headers patched at the end of a file are small).
    Rc pwrite(uint64_t offset, std::span<const uint8_t> bytes, const char** what);
    // Closes after every queued write. Synchronous: the result (and `done`, if given,
    // told before this returns). Queued: Rc::ok, and `done` told later. The sink is
    // free for another open() at once.
    Rc close(FileSinkClosed* done, const char** what);

    // Bytes of appends queued and not yet written.
    size_t queued_bytes() const;
    // Would a bounded append of n bytes be refused now?
    bool full(size_t n) const
    {
        return max_queue_ && queued_bytes() > 0 && queued_bytes() + n > max_queue_;
    }
    size_t max_queue() const { return max_queue_; }

private:
    Rc submit(struct SinkOp* op, bool bounded, const char** what);

    UniqueFd sync_fd_;         // synchronous mode
    SinkState* st_ = nullptr;  // queued mode; owned by the writer
    size_t max_queue_ = 0;
};

// Sinks open or closing, and their queued ops, in this process.
unsigned file_sink_pending();
// At worker exit: runs `loop` until every closing sink is written, at most timeout_ms.
// Returns how many sinks were still unfinished.
unsigned file_sink_drain(EventLoop& loop, uint64_t timeout_ms);

}  // namespace strom
