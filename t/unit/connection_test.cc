// Connection's read path over socketpairs: a read that returns less than asked ends the
// wakeup (no read() that only says EAGAIN), yet every byte and the peer's close still
// arrive, in bursts, through kept input, a small read budget and a pause. The read()
// calls are counted from /proc/self/io (syscr), which counts this process's reads.
// Also send() with a length the caller knows.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "core/connection.h"

using namespace strom;

namespace {

// What a handler saw; outlives the handler, which dies with its connection.
struct Seen {
    std::string got;
    const char* close_reason = nullptr;
};

// Keeps input after its last '\n' unconsumed when `whole_lines`, so later reads go into
// the connection's own block rather than the loop's scratch.
struct Sink : ConnHandler {
    Seen& seen;
    bool whole_lines = false;
    bool pause_once = false;
    explicit Sink(Seen& s) : seen(s) {}
    void on_read(Connection& c) override
    {
        auto in = c.input();
        size_t n = in.size();
        if (whole_lines) {
            while (n > 0 && in[n - 1] != '\n') --n;
        }
        seen.got.append(reinterpret_cast<const char*>(in.data()), n);
        c.consume(n);
        if (pause_once) {
            pause_once = false;
            c.pause_reading(true);
        }
    }
    void on_close(Connection&, const char* reason) override { seen.close_reason = reason; }
};

struct Pair {
    int a = -1, b = -1;
    explicit Pair(int type = SOCK_STREAM)
    {
        int fds[2];
        EXPECT_EQ(socketpair(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
        a = fds[0];
        b = fds[1];
    }
    ~Pair() { close_peer(); }
    void close_peer()
    {
        if (b >= 0) ::close(b);
        b = -1;
    }
    void write_all(const std::string& s)
    {
        ASSERT_EQ(::write(b, s.data(), s.size()), ssize_t(s.size()));
    }
};

Connection* adopt(ConnectionTable& t, int fd, ConnHandler* h)
{
    sockaddr_storage ss{};
    ss.ss_family = AF_UNIX;
    Connection* c = t.adopt(fd, reinterpret_cast<sockaddr*>(&ss), sizeof(sa_family_t), nullptr);
    if (c) c->set_handler(h);
    return c;
}

// This process's read()-family syscalls so far. The read of /proc/self/io itself is
// counted after its value is produced, so two samples in a row differ by one.
long read_syscalls()
{
    char buf[512];
    int fd = ::open("/proc/self/io", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
    ::close(fd);
    if (n <= 0) return -1;
    buf[n] = '\0';
    const char* p = strstr(buf, "syscr:");
    return p ? atol(p + 6) : -1;
}

// The read() calls one loop iteration makes.
long reads_in_one_turn(EventLoop& loop)
{
    long before = read_syscalls();
    EXPECT_EQ(loop.run_once(10), Rc::ok);
    long after = read_syscalls();
    return before < 0 || after < 0 ? -1 : after - before - 1;
}

std::string pattern(size_t n, char salt)
{
    std::string s(n, ' ');
    for (size_t i = 0; i < n; ++i) s[i] = char('a' + (i * 7 + size_t(salt)) % 26);
    return s;
}

}  // namespace

TEST(Connection, ShortReadEndsTheWakeupWithoutAnEagainRead)
{
    if (read_syscalls() < 0) GTEST_SKIP() << "no /proc/self/io";
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    Pair p;
    Seen seen;
    auto* h = new Sink(seen);
    ASSERT_NE(adopt(table, p.a, h), nullptr);
    p.write_all("hello");
    EXPECT_EQ(reads_in_one_turn(loop), 1) << "5 bytes of 4096 asked: the socket is empty";
    EXPECT_EQ(seen.got, "hello");
    // 4096 + 4096 + 1808: two full reads and a short one, still no EAGAIN read.
    std::string big = pattern(10000, 1);
    p.write_all(big);
    EXPECT_EQ(reads_in_one_turn(loop), 3);
    EXPECT_EQ(seen.got, "hello" + big);
    EXPECT_EQ(loop.pool().outstanding(), 0u);
}

TEST(Connection, DataInSeveralBurstsIsAllDelivered)
{
    EventLoop loop(4096, 64);
    {
        ConnectionTable table(loop, 2);
        Pair p;
        Seen seen;
        auto* h = new Sink(seen);
        h->whole_lines = true;   // a tail kept between bursts: reads into the own block
        ASSERT_NE(adopt(table, p.a, h), nullptr);
        std::string sent;
        for (int burst = 0; burst < 40; ++burst) {
            // A line ends every 1000 bytes at most: the kept tail stays well under a block.
            std::string s = pattern(size_t(burst) * 397 % 5000 + 1, char(burst));
            for (size_t i = size_t(burst) % 1000; i < s.size(); i += 1000) s[i] = '\n';
            p.write_all(s);
            sent += s;
            ASSERT_EQ(loop.run_once(10), Rc::ok);
        }
        p.write_all("\n");
        sent += '\n';
        for (int i = 0; i < 3; ++i) ASSERT_EQ(loop.run_once(10), Rc::ok);
        EXPECT_EQ(seen.got, sent);
        EXPECT_EQ(seen.close_reason, nullptr);
    }
    EXPECT_EQ(loop.pool().outstanding(), 0u);
}

TEST(Connection, PeerCloseRightAfterDataIsSeen)
{
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    Pair p;
    Seen seen;
    auto* h = new Sink(seen);
    ASSERT_NE(adopt(table, p.a, h), nullptr);
    // Data and FIN in one wakeup: the short read must not end it, or no edge is left.
    p.write_all("bye");
    p.close_peer();
    long reads = reads_in_one_turn(loop);
    EXPECT_EQ(seen.got, "bye");
    EXPECT_STREQ(seen.close_reason, "closed by peer");
    if (reads >= 0) {
        EXPECT_EQ(reads, 2) << "the data, then 0";
    }
    EXPECT_EQ(table.active(), 0u);
}

TEST(Connection, PeerCloseAfterADrainedReadIsSeen)
{
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    Pair p;
    Seen seen;
    auto* h = new Sink(seen);
    ASSERT_NE(adopt(table, p.a, h), nullptr);
    p.write_all("one");
    ASSERT_EQ(loop.run_once(10), Rc::ok);
    EXPECT_EQ(seen.got, "one");
    EXPECT_EQ(seen.close_reason, nullptr);
    p.write_all("two");
    p.close_peer();
    for (int i = 0; i < 3 && !seen.close_reason; ++i) ASSERT_EQ(loop.run_once(10), Rc::ok);
    EXPECT_EQ(seen.got, "onetwo");
    EXPECT_STREQ(seen.close_reason, "closed by peer");
}

TEST(Connection, SmallReadBudgetStillDeliversEverything)
{
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    table.read_budget = 1000;   // less than one read: every read is the last of its turn
    Pair p;
    Seen seen;
    auto* h = new Sink(seen);
    ASSERT_NE(adopt(table, p.a, h), nullptr);
    std::string sent = pattern(30000, 3);
    p.write_all(sent);
    for (int i = 0; i < 50 && seen.got.size() < sent.size(); ++i) {
        ASSERT_EQ(loop.run_once(10), Rc::ok);
    }
    EXPECT_EQ(seen.got, sent);
    p.close_peer();
    for (int i = 0; i < 3 && !seen.close_reason; ++i) ASSERT_EQ(loop.run_once(10), Rc::ok);
    EXPECT_STREQ(seen.close_reason, "closed by peer");
}

TEST(Connection, DataAndCloseArrivingWhilePausedComeOnResume)
{
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    Pair p;
    Seen seen;
    auto* h = new Sink(seen);
    h->pause_once = true;
    Connection* c = adopt(table, p.a, h);
    ASSERT_NE(c, nullptr);
    p.write_all("first");
    ASSERT_EQ(loop.run_once(10), Rc::ok);
    EXPECT_EQ(seen.got, "first");
    // Paused: these and the FIN raise their edges now and are not read.
    std::string rest = pattern(9000, 4);
    p.write_all(rest);
    p.close_peer();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(loop.run_once(10), Rc::ok);
    EXPECT_EQ(seen.got, "first");
    EXPECT_EQ(seen.close_reason, nullptr);
    c->pause_reading(false);   // no edge is left: the resume must read to the end
    for (int i = 0; i < 3 && !seen.close_reason; ++i) ASSERT_EQ(loop.run_once(10), Rc::ok);
    EXPECT_EQ(seen.got, "first" + rest);
    EXPECT_STREQ(seen.close_reason, "closed by peer");
}

TEST(Connection, PausedWithDataLeftInTheSocketGetsItOnResume)
{
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    Pair p;
    Seen seen;
    auto* h = new Sink(seen);
    h->pause_once = true;
    Connection* c = adopt(table, p.a, h);
    ASSERT_NE(c, nullptr);
    std::string sent = pattern(12000, 5);   // the pause comes after the first 4096
    p.write_all(sent);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(loop.run_once(10), Rc::ok);
    EXPECT_EQ(seen.got, sent.substr(0, 4096));
    c->pause_reading(false);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(loop.run_once(10), Rc::ok);
    EXPECT_EQ(seen.got, sent);
    EXPECT_EQ(seen.close_reason, nullptr);
}

TEST(Connection, MessageSocketIsReadUntilEagain)
{
    // A read on a SOCK_SEQPACKET socket returns one message: short, yet more may wait.
    EventLoop loop(4096, 64);
    ConnectionTable table(loop, 2);
    Pair p(SOCK_SEQPACKET);
    Seen seen;
    auto* h = new Sink(seen);
    ASSERT_NE(adopt(table, p.a, h), nullptr);
    p.write_all("ab");
    p.write_all("cd");
    p.write_all("ef");
    long reads = reads_in_one_turn(loop);
    EXPECT_EQ(seen.got, "abcdef");
    if (reads >= 0) {
        EXPECT_EQ(reads, 4) << "three messages, then EAGAIN";
    }
}

TEST(Connection, SendWithAKnownLengthQueuesTheSameBytes)
{
    EventLoop loop(4096, 64);
    {
        ConnectionTable table(loop, 2);
        Pair p;
        Seen seen;
        auto* h = new Sink(seen);
        Connection* c = adopt(table, p.a, h);
        ASSERT_NE(c, nullptr);
        std::string s = pattern(10000, 6);   // three blocks
        Chain ch(loop.pool());
        ASSERT_EQ(ch.append(s.data(), s.size()), Rc::ok);
        ASSERT_TRUE(c->send(ch.take(), s.size(), 7));
        EXPECT_EQ(c->out().bytes(), s.size());
        EXPECT_EQ(c->out().back_tag(), 7);
        c->flush_now();
        EXPECT_TRUE(c->out().empty());
        std::string got(s.size() + 1, '\0');
        ASSERT_EQ(::read(p.b, got.data(), got.size()), ssize_t(s.size()));
        got.resize(s.size());
        EXPECT_EQ(got, s);
    }
    EXPECT_EQ(loop.pool().outstanding(), 0u);
}
