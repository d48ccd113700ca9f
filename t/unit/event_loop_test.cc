#include "core/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/connection.h"

using namespace strom;

namespace {

// A test protocol: records input, optionally echoes it, optionally closes on "quit".
struct Recorder : ConnHandler {
    std::string got;
    std::string close_reason;
    int drains = 0;
    bool* closed_flag = nullptr;
    void on_read(Connection& c) override
    {
        auto in = c.input();
        got.append(reinterpret_cast<const char*>(in.data()), in.size());
        c.consume(in.size());
        if (got.find("quit") != std::string::npos) {
            c.close("quit requested");   // closing inside our own callback
            return;
        }
    }
    void on_drain(Connection&) override { ++drains; }
    void on_close(Connection&, const char* reason) override
    {
        close_reason = reason;
        if (closed_flag) *closed_flag = true;
    }
};

struct Pair {
    int a = -1, b = -1;
    Pair()
    {
        int fds[2];
        EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
        a = fds[0];
        b = fds[1];
    }
    ~Pair()
    {
        if (b >= 0) close(b);
    }
};

Connection* adopt(ConnectionTable& t, int fd, ConnHandler* r)
{
    sockaddr_storage ss{};
    ss.ss_family = AF_UNIX;
    Connection* c = t.adopt(fd, reinterpret_cast<sockaddr*>(&ss), sizeof(sa_family_t), nullptr);
    if (c) c->set_handler(r);
    return c;
}

void turn(EventLoop& loop, int n = 3)
{
    for (int i = 0; i < n; ++i) ASSERT_EQ(loop.run_once(10), Rc::ok);
}

BufRef make_msg(BufPool& pool, const std::string& s)
{
    Chain ch(pool);
    EXPECT_EQ(ch.append(s.data(), s.size()), Rc::ok);
    return ch.take();
}

}  // namespace

TEST(EventLoop, ReadsIntoPooledBlocksAndDeliversToHandler)
{
    EventLoop loop(4096, 64);
    {
        ConnectionTable table(loop, 4);
        Pair p;
        auto* r = new Recorder;
        Connection* c = adopt(table, p.a, r);
        ASSERT_NE(c, nullptr);
        ASSERT_EQ(write(p.b, "hello", 5), 5);
        turn(loop);
        EXPECT_EQ(r->got, "hello");
        EXPECT_EQ(c->bytes_in(), 5u);
        EXPECT_EQ(loop.pool().outstanding(), 0u);   // consumed input holds no block
        EXPECT_EQ(table.active(), 1u);
    }
    EXPECT_EQ(loop.pool().outstanding(), 0u);
}

TEST(EventLoop, PeerCloseClosesConnectionAndFreesSlot)
{
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    Pair p;
    auto* r = new Recorder;
    bool closed = false;
    r->closed_flag = &closed;
    ASSERT_NE(adopt(table, p.a, r), nullptr);
    close(p.b);
    p.b = -1;
    turn(loop);
    EXPECT_TRUE(closed);
    EXPECT_EQ(table.active(), 0u);
}

TEST(EventLoop, CloseInsideCallbackIsDeferred)
{
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    Pair p;
    auto* r = new Recorder;
    bool closed = false;
    r->closed_flag = &closed;
    ASSERT_NE(adopt(table, p.a, r), nullptr);
    ASSERT_EQ(write(p.b, "abc quit more", 13), 13);
    turn(loop);
    EXPECT_TRUE(closed);
    EXPECT_EQ(table.active(), 0u);
    char buf[8];
    EXPECT_EQ(read(p.b, buf, sizeof(buf)), 0);   // our side closed the fd
}

TEST(EventLoop, SlotsExhaustedRefusesOnlyTheNewConnection)
{
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 1);
    Pair p1, p2;
    auto* r = new Recorder;
    ASSERT_NE(adopt(table, p1.a, r), nullptr);
    sockaddr_storage ss{};
    ss.ss_family = AF_UNIX;
    EXPECT_EQ(table.adopt(p2.a, reinterpret_cast<sockaddr*>(&ss), sizeof(sa_family_t), nullptr), nullptr);
    char buf[4];
    EXPECT_EQ(read(p2.b, buf, sizeof(buf)), 0);   // refused one is closed
    ASSERT_EQ(write(p1.b, "ok", 2), 2);
    turn(loop);
    EXPECT_EQ(r->got, "ok");                      // the first goes on
}

TEST(EventLoop, PartialWritesAndEagainResumeOnWritable)
{
    EventLoop loop(16384, 4096);
    ConnectionTable table(loop, 2);
    Pair p;
    int small = 4096;
    setsockopt(p.a, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    auto* r = new Recorder;
    Connection* c = adopt(table, p.a, r);
    ASSERT_NE(c, nullptr);
    std::string payload;
    for (int i = 0; i < 200000; ++i) payload.push_back(char('a' + i % 26));
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(c->send(make_msg(loop.pool(), payload)));
    c->request_drain();
    c->flush_soon();
    std::string received;
    char buf[65536];
    for (int round = 0; round < 10000 && received.size() < payload.size() * 10; ++round) {
        turn(loop, 1);
        ssize_t n;
        while ((n = read(p.b, buf, sizeof(buf))) > 0) received.append(buf, size_t(n));
    }
    turn(loop, 2);
    ASSERT_EQ(received.size(), payload.size() * 10);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(0, memcmp(received.data() + i * payload.size(), payload.data(), payload.size()));
    EXPECT_EQ(c->out().count(), 0u);
    EXPECT_EQ(r->drains, 1);
    EXPECT_EQ(loop.pool().outstanding(), 0u);
}

TEST(EventLoop, OutQueueIsBounded)
{
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    table.out_queue_msgs = 3;
    Pair p;
    auto* r = new Recorder;
    Connection* c = adopt(table, p.a, r);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(c->send(make_msg(loop.pool(), "x")));
    EXPECT_FALSE(c->send(make_msg(loop.pool(), "y")));
    EXPECT_TRUE(c->out().full());
    c->flush_now();
    EXPECT_TRUE(c->out().empty());
    char buf[8];
    EXPECT_EQ(read(p.b, buf, sizeof(buf)), 3);
}

TEST(EventLoop, PostedEventsRunAfterIoOncePerPost)
{
    EventLoop loop;
    int runs = 0;
    Posted ev{[](Posted& p) { ++*static_cast<int*>(p.arg); }, &runs};
    loop.post(ev);
    loop.post(ev);
    ASSERT_EQ(loop.run_once(0), Rc::ok);
    EXPECT_EQ(runs, 1);
    loop.post(ev);
    loop.cancel_post(ev);
    ASSERT_EQ(loop.run_once(0), Rc::ok);
    EXPECT_EQ(runs, 1);
}

namespace {
// A posted event that logs its id when run and may cancel or post others from its run.
struct LoggedEvent {
    Posted ev{&LoggedEvent::run, this};
    int id = 0;
    std::vector<int>* log = nullptr;
    EventLoop* loop = nullptr;
    LoggedEvent* cancels = nullptr;
    LoggedEvent* posts = nullptr;
    static void run(Posted& p)
    {
        auto* e = static_cast<LoggedEvent*>(p.arg);
        e->log->push_back(e->id);
        if (e->cancels) e->loop->cancel_post(e->cancels->ev);
        if (e->posts) e->loop->post(e->posts->ev);
    }
};

std::vector<LoggedEvent> logged_events(size_t n, EventLoop& loop, std::vector<int>& log)
{
    std::vector<LoggedEvent> evs(n);
    for (size_t i = 0; i < n; ++i) {
        evs[i].ev.arg = &evs[i];
        evs[i].id = int(i);
        evs[i].log = &log;
        evs[i].loop = &loop;
    }
    return evs;
}
}  // namespace

TEST(EventLoop, CancelledPostAtHeadMiddleOrTailLeavesTheOthersInOrder)
{
    EventLoop loop;
    std::vector<int> log;
    auto evs = logged_events(5, loop, log);
    for (auto& e : evs) loop.post(e.ev);
    loop.cancel_post(evs[0].ev);
    loop.cancel_post(evs[2].ev);
    loop.cancel_post(evs[4].ev);
    loop.cancel_post(evs[4].ev);   // not queued any more: no-op
    ASSERT_EQ(loop.run_once(0), Rc::ok);
    EXPECT_EQ(log, (std::vector<int>{1, 3}));
    // The queue is whole again after those unlinks: post in a new order, cancel the
    // only tail, post it back.
    log.clear();
    loop.post(evs[4].ev);
    loop.post(evs[0].ev);
    loop.cancel_post(evs[0].ev);
    loop.post(evs[2].ev);
    loop.post(evs[0].ev);
    loop.post(evs[4].ev);   // already queued: stays where it is
    ASSERT_EQ(loop.run_once(0), Rc::ok);
    EXPECT_EQ(log, (std::vector<int>{4, 2, 0}));
    log.clear();
    loop.post(evs[1].ev);
    loop.cancel_post(evs[1].ev);   // the only one: head and tail at once
    loop.post(evs[3].ev);
    ASSERT_EQ(loop.run_once(0), Rc::ok);
    EXPECT_EQ(log, (std::vector<int>{3}));
}

TEST(EventLoop, EventsCancelledOrPostedWhilePostedEventsRun)
{
    EventLoop loop;
    std::vector<int> log;
    auto evs = logged_events(5, loop, log);
    evs[0].cancels = &evs[2];   // queued after it: never runs
    evs[0].posts = &evs[3];     // not queued: runs later in the same pass
    evs[1].cancels = &evs[1];   // itself, while running: no-op
    evs[1].posts = &evs[4];     // already queued: stays in its place
    evs[4].cancels = &evs[0];   // already ran: no-op
    for (int i : {0, 1, 2, 4}) loop.post(evs[size_t(i)].ev);
    ASSERT_EQ(loop.run_once(0), Rc::ok);
    EXPECT_EQ(log, (std::vector<int>{0, 1, 4, 3}));
    log.clear();
    ASSERT_EQ(loop.run_once(0), Rc::ok);
    EXPECT_TRUE(log.empty()) << "every event ran once per post";
}

TEST(EventLoop, TenThousandPostsCancelledInReverseOrder)
{
    EventLoop loop;
    std::vector<int> log;
    auto evs = logged_events(10000, loop, log);
    for (auto& e : evs) loop.post(e.ev);
    for (size_t i = evs.size(); i-- > 0;) loop.cancel_post(evs[i].ev);
    ASSERT_EQ(loop.run_once(0), Rc::ok);
    EXPECT_TRUE(log.empty());
    // Every other one cancelled, from the back: the rest run in posting order.
    for (auto& e : evs) loop.post(e.ev);
    for (size_t i = evs.size(); i-- > 0;) {
        if (i % 2) loop.cancel_post(evs[i].ev);
    }
    ASSERT_EQ(loop.run_once(0), Rc::ok);
    ASSERT_EQ(log.size(), evs.size() / 2);
    for (size_t i = 0; i < log.size(); ++i) EXPECT_EQ(log[i], int(2 * i));
}

TEST(EventLoop, TimersFireFromLoopWithCachedClock)
{
    EventLoop loop;
    int fired = 0;
    Timer t;
    t.fn = [](Timer& tt) { ++*static_cast<int*>(tt.arg); };
    t.arg = &fired;
    uint64_t start = loop.now();
    loop.add_timer(t, 30);
    while (fired == 0) ASSERT_EQ(loop.run_once(), Rc::ok);
    EXPECT_GE(loop.now() - start, 30u);
    EXPECT_EQ(loop.timer_count(), 0u);
}

namespace {
struct SigCatcher : SignalHandler {
    int last = 0;
    void on_signal(int s) override { last = s; }
};
}  // namespace

TEST(EventLoop, SignalsArriveThroughTheLoop)
{
    EventLoop loop;
    SigCatcher h;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR2);
    ASSERT_EQ(loop.watch_signals(mask, &h), Rc::ok);
    kill(getpid(), SIGUSR2);
    for (int i = 0; i < 10 && h.last == 0; ++i) ASSERT_EQ(loop.run_once(50), Rc::ok);
    EXPECT_EQ(h.last, SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &mask, nullptr);
}

TEST(EventLoop, StaleEventForReusedSlotIsDropped)
{
    // Two connections readable in one iteration; the first closes the second from its
    // callback: the second's queued event must not reach a dead handler.
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 4);
    Pair p1, p2;
    struct Killer : Recorder {
        Connection* victim = nullptr;
        void on_read(Connection& c) override
        {
            c.consume(c.input().size());
            if (victim) victim->close("killed");
            victim = nullptr;
        }
    };
    auto* k = new Killer;
    auto* v = new Recorder;
    Connection* ck = adopt(table, p1.a, k);
    Connection* cv = adopt(table, p2.a, v);
    (void)ck;
    k->victim = cv;
    ASSERT_EQ(write(p2.b, "x", 1), 1);
    ASSERT_EQ(write(p1.b, "x", 1), 1);
    turn(loop);
    EXPECT_EQ(table.active(), 1u);
}

namespace {
// Consumes whole lines only: the rest of the input stays with the connection.
struct LineReader : ConnHandler {
    std::vector<std::string> lines;
    bool pause_after_first = false;
    void on_read(Connection& c) override
    {
        auto in = c.input();
        std::string s(reinterpret_cast<const char*>(in.data()), in.size());
        size_t used = 0, nl;
        while ((nl = s.find('\n', used)) != std::string::npos) {
            lines.push_back(s.substr(used, nl - used));
            used = nl + 1;
            if (pause_after_first) {
                pause_after_first = false;
                c.consume(used);
                c.pause_reading(true);
                return;
            }
        }
        c.consume(used);
    }
    void on_close(Connection&, const char*) override {}
};
}  // namespace

TEST(EventLoop, UnconsumedInputIsKeptUntilTheRestArrives)
{
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    Pair p;
    auto* r = new LineReader;
    Connection* c = adopt(table, p.a, r);
    ASSERT_EQ(write(p.b, "one\ntw", 6), 6);
    turn(loop);
    EXPECT_EQ(r->lines, (std::vector<std::string>{"one"}));
    EXPECT_EQ(loop.pool().outstanding(), 1u);   // "tw" waits in a block of its own
    ASSERT_EQ(write(p.b, "o\n", 2), 2);
    turn(loop);
    EXPECT_EQ(r->lines, (std::vector<std::string>{"one", "two"}));
    EXPECT_EQ(loop.pool().outstanding(), 0u);
    (void)c;
}

TEST(EventLoop, InputBufferedWhilePausedIsDeliveredOnResume)
{
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    Pair p;
    auto* r = new LineReader;
    r->pause_after_first = true;
    Connection* c = adopt(table, p.a, r);
    ASSERT_EQ(write(p.b, "a\nb\nc\n", 6), 6);
    turn(loop);
    EXPECT_EQ(r->lines, (std::vector<std::string>{"a"}));
    c->pause_reading(false);   // nothing new arrives: the kept "b\nc\n" must still come
    turn(loop);
    EXPECT_EQ(r->lines, (std::vector<std::string>{"a", "b", "c"}));
}
