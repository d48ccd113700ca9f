// Work a worker must not do on its event-loop thread: reads that may wait for a disk
// (an MP4 index, a VOD file's next bytes). One helper thread per process, started on
// first use and never stopped; jobs run there one at a time in submission order, and
// each comes back to the loop that submitted it through an eventfd. A job is owned by
// its submitter; it must stay alive until done() has been called.
#pragma once

#include "core/event_loop.h"
#include "core/rc.h"

namespace strom {

class HelperJob {
public:
    // On the helper thread: touches only the job's own data (its fd, buffers, result).
    virtual void run() = 0;
    // On the loop thread, after run() has returned. May delete the job.
    virtual void done() = 0;

protected:
    ~HelperJob() = default;
};

// Rc::ok: queued, done() will be called from `loop`. Rc::declined: no helper thread could
// be started (or it serves another loop, in tests): the caller does the work itself.
Rc helper_submit(EventLoop& loop, HelperJob* job);

// Jobs submitted and not yet done.
unsigned helper_pending();

}  // namespace strom
