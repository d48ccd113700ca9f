// The module chain's mechanics (rtmp/hooks.h): pass on, finish, wrap around next, and
// suspend with a stored `next` resumed later from the event loop.
#include "rtmp/hooks.h"

#include <gtest/gtest.h>

#include <string>

#include "core/event_loop.h"

using namespace strom;
using namespace strom::rtmp;

namespace {

struct Ev {
    std::string trace;
};

struct Passer {
    char tag;
    Rc on(Session& s, Ev& ev, Next<Ev> next)
    {
        ev.trace += tag;
        return next(s, ev);
    }
};

struct Stopper {
    Rc on(Session&, Ev& ev, Next<Ev>)
    {
        ev.trace += 'X';
        return Rc::done;
    }
};

struct Wrapper {
    Rc on(Session& s, Ev& ev, Next<Ev> next)
    {
        ev.trace += '(';
        Rc rc = next(s, ev);
        ev.trace += ')';
        return rc;
    }
};

// Suspends: keeps next and the event, resumes from a posted event (as an HTTP
// callback would from its response).
struct Suspender {
    Next<Ev> saved;
    Ev* ev = nullptr;
    Session* s = nullptr;
    Rc resumed_rc = Rc::error;
    Posted resume_ev;
    Rc on(Session& ss, Ev& e, Next<Ev> next)
    {
        e.trace += 'S';
        saved = next;
        ev = &e;
        s = &ss;
        return Rc::again;
    }
    static void resume(Posted& p)
    {
        auto* self = static_cast<Suspender*>(p.arg);
        self->ev->trace += 'R';
        self->resumed_rc = self->saved(*self->s, *self->ev);
    }
};

Rc terminal(Session&, Ev& ev)
{
    ev.trace += 'T';
    return Rc::ok;
}

Session& fake_session()
{
    // The chain only passes the session through; these tests never touch it.
    return *reinterpret_cast<Session*>(alignof(std::max_align_t));
}

}  // namespace

TEST(Chain, LinksRunInOrderThenTheTerminal)
{
    HookChain<Ev> c(terminal);
    Passer a{'a'}, b{'b'};
    c.add<&Passer::on>(&a);
    c.add<&Passer::on>(&b);
    Ev ev;
    EXPECT_EQ(c.run(fake_session(), ev), Rc::ok);
    EXPECT_EQ(ev.trace, "abT");
}

TEST(Chain, ALinkThatFinishesStopsTheChain)
{
    HookChain<Ev> c(terminal);
    Passer a{'a'};
    Stopper x;
    Passer b{'b'};
    c.add<&Passer::on>(&a);
    c.add<&Stopper::on>(&x);
    c.add<&Passer::on>(&b);
    Ev ev;
    EXPECT_EQ(c.run(fake_session(), ev), Rc::done);
    EXPECT_EQ(ev.trace, "aX");
}

TEST(Chain, ALinkCanWrapAroundNext)
{
    HookChain<Ev> c(terminal);
    Wrapper w;
    Passer a{'a'};
    c.add<&Wrapper::on>(&w);
    c.add<&Passer::on>(&a);
    Ev ev;
    EXPECT_EQ(c.run(fake_session(), ev), Rc::ok);
    EXPECT_EQ(ev.trace, "(aT)");
}

TEST(Chain, SuspendedChainResumesFromTheLoopAndReachesTheTerminal)
{
    EventLoop loop;
    HookChain<Ev> c(terminal);
    Passer a{'a'}, b{'b'};
    Suspender sus;
    sus.resume_ev = Posted{&Suspender::resume, &sus};
    c.add<&Passer::on>(&a);
    c.add<&Suspender::on>(&sus);
    c.add<&Passer::on>(&b);
    Ev ev;
    EXPECT_EQ(c.run(fake_session(), ev), Rc::again);
    EXPECT_EQ(ev.trace, "aS");   // nothing after the suspender ran yet
    loop.post(sus.resume_ev);
    ASSERT_EQ(loop.run_once(0), Rc::ok);
    EXPECT_EQ(ev.trace, "aSRbT");
    EXPECT_EQ(sus.resumed_rc, Rc::ok);
}

TEST(Chain, EmptyChainWithoutTerminalIsOk)
{
    HookChain<Ev> c;
    Ev ev;
    EXPECT_EQ(c.run(fake_session(), ev), Rc::ok);
}
