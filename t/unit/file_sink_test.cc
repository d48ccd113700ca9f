// FileSink: appends (pool chains and handed-over bytes) and patches reach the file in the
// order queued, off the loop thread; the byte bound refuses appends while a writer is
// stuck; a close after pending writes completes once they are written, even with the sink
// object gone; a failing write is reported once; without a loop everything is at once.
#include "core/file_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "core/buf.h"
#include "core/event_loop.h"

using namespace strom;

namespace {

struct Closed final : FileSinkClosed {
    int calls = 0;
    int err = -1;
    void on_sink_closed(int e, const char*) override
    {
        ++calls;
        err = e;
    }
};

struct Errors final : FileSinkHandler {
    int calls = 0;
    int err = 0;
    std::string what;
    void on_sink_error(FileSink&, int e, const char* w) override
    {
        ++calls;
        err = e;
        what = w;
    }
};

template <class F>
bool run_until(EventLoop& loop, F done, int ms)
{
    loop.update_time();
    uint64_t end = loop.now() + uint64_t(ms);
    while (!done()) {
        if (loop.now() >= end) return false;
        (void)loop.run_once(10);
    }
    return true;
}

std::string slurp(const std::string& p)
{
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

BufRef chain_of(BufPool& pool, const std::string& s, uint32_t piece)
{
    Chain c(pool);
    for (size_t i = 0; i < s.size(); i += piece) {
        size_t n = std::min<size_t>(piece, s.size() - i);
        EXPECT_EQ(c.append(s.data() + i, n), Rc::ok);
        // force a new block per piece
        if (i + n < s.size()) (void)c.reserve(pool.block_size());
    }
    return c.take();
}

std::span<const uint8_t> bytes(const std::string& s)
{
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

class FileSinkTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/strom-sink-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/out";
    }
    void TearDown() override
    {
        EXPECT_EQ(file_sink_pending(), 0u);
        unlink(path_.c_str());
        rmdir(dir_.c_str());
    }
    UniqueFd create()
    {
        return UniqueFd(::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    }

    std::string dir_, path_;
};

}  // namespace

TEST_F(FileSinkTest, AppendsAndPatchesKeepTheirOrder)
{
    EventLoop loop(4096);
    std::string want;
    {
        FileSink s;
        s.open(create(), &loop, 0, nullptr);
        ASSERT_TRUE(s.async());
        const char* what = "";
        for (int i = 0; i < 500; ++i) {
            std::string body(size_t(100 + i * 37 % 9000), char('a' + i % 26));
            std::string head = "<" + std::to_string(i) + ">";
            std::string tail = "|";
            if (i % 3 == 0) {
                std::vector<uint8_t> v(body.begin(), body.end());
                ASSERT_EQ(s.append(std::move(v), &what), Rc::ok);
                want += body;
            } else {
                BufRef c = chain_of(loop.pool(), body, 1000);
                ASSERT_EQ(s.append(bytes(head), c.get(), bytes(tail), &what), Rc::ok);
                want += head + body + tail;
            }
            if (i % 50 == 0) (void)loop.run_once(0);
        }
        // A patch queued after the appends lands on them, not before them.
        ASSERT_EQ(s.pwrite(0, bytes("PATCH"), &what), Rc::ok);
        want.replace(0, 5, "PATCH");
        std::vector<uint8_t> end = {'E', 'N', 'D'};
        ASSERT_EQ(s.append(std::move(end), &what), Rc::ok);
        want += "END";
        Closed c;
        ASSERT_EQ(s.close(&c, &what), Rc::ok);
        EXPECT_FALSE(s.is_open());
        ASSERT_TRUE(run_until(
            loop, [&] { return c.calls > 0; }, 10000));
        EXPECT_EQ(c.calls, 1);
        EXPECT_EQ(c.err, 0);
    }
    EXPECT_EQ(slurp(path_), want);
    EXPECT_EQ(loop.pool().outstanding(), 0u);  // every chain reference dropped
}

TEST_F(FileSinkTest, BoundRefusesAppendsWhileTheWriterIsStuckAndCloseWaitsForPendingWrites)
{
    EventLoop loop(4096);
    int p[2];
    ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    fcntl(p[1], F_SETPIPE_SZ, 4096);  // the writer blocks after ~4 KiB: a disk that stalls
    Errors errors;
    Closed closed;
    std::string accepted;
    const size_t kBound = 64 * 1024;
    {
        FileSink s;
        s.open(UniqueFd(p[1]), &loop, kBound, &errors);
        const char* what = "";
        int refused = 0;
        for (int i = 0; i < 200; ++i) {
            std::string body(1000, char('A' + i % 26));
            BufRef c = chain_of(loop.pool(), body, 512);
            Rc rc = s.append({}, c.get(), {}, &what);
            if (rc == Rc::again) {
                ++refused;
                EXPECT_TRUE(s.full(1000));
            } else {
                ASSERT_EQ(rc, Rc::ok);
                accepted += body;
            }
            EXPECT_LE(s.queued_bytes(), kBound);
            (void)loop.run_once(0);
        }
        EXPECT_GT(refused, 100);  // the loop was never blocked: it was told "again"
        EXPECT_GT(s.queued_bytes(), kBound - 1000);
        const char* ignored = "";
        ASSERT_EQ(s.close(&closed, &ignored), Rc::ok);
    }  // the sink object is gone; its queue is not
    EXPECT_EQ(file_sink_pending(), 1u);
    EXPECT_EQ(closed.calls, 0);
    std::string got;
    std::thread reader([&] {
        char buf[8192];
        for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;) got.append(buf, size_t(n));
    });
    bool ok = run_until(
        loop, [&] { return closed.calls > 0; }, 10000);
    reader.join();  // EOF: the writer closed its end after the last byte
    close(p[0]);
    ASSERT_TRUE(ok);
    EXPECT_EQ(closed.err, 0);
    EXPECT_EQ(errors.calls, 0);
    EXPECT_EQ(got, accepted);  // everything accepted, in order, and nothing refused
    EXPECT_EQ(loop.pool().outstanding(), 0u);
}

TEST_F(FileSinkTest, AFailingWriteIsReportedOnce)
{
    if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
    EventLoop loop(4096);
    Errors errors;
    FileSink s;
    s.open(UniqueFd(::open("/dev/full", O_WRONLY | O_CLOEXEC)), &loop, 0, &errors);
    const char* what = "";
    for (int i = 0; i < 5; ++i) {
        std::vector<uint8_t> v(100, 'x');
        (void)s.append(std::move(v), &what);
    }
    ASSERT_TRUE(run_until(
        loop, [&] { return errors.calls > 0 && s.queued_bytes() == 0; }, 5000));
    (void)loop.run_once(10);
    EXPECT_EQ(errors.calls, 1);
    EXPECT_EQ(errors.err, ENOSPC);
    EXPECT_EQ(errors.what, "write");
    std::vector<uint8_t> more(10, 'y');
    EXPECT_EQ(s.append(std::move(more), &what), Rc::error);  // failed: takes nothing more
    Closed closed;
    ASSERT_EQ(s.close(&closed, &what), Rc::ok);
    ASSERT_TRUE(run_until(
        loop, [&] { return closed.calls > 0; }, 5000));
    EXPECT_EQ(closed.err, 0);  // already told: not again
    EXPECT_EQ(errors.calls, 1);
}

TEST_F(FileSinkTest, AFailureAfterCloseGoesToTheCloseCallback)
{
    if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
    EventLoop loop(4096);
    Errors errors;
    Closed closed;
    {
        FileSink s;
        s.open(UniqueFd(::open("/dev/full", O_WRONLY | O_CLOEXEC)), &loop, 0, &errors);
        const char* what = "";
        std::vector<uint8_t> v(100, 'x');
        ASSERT_EQ(s.append(std::move(v), &what), Rc::ok);
        ASSERT_EQ(s.close(&closed, &what), Rc::ok);
    }
    ASSERT_TRUE(run_until(
        loop, [&] { return closed.calls > 0; }, 5000));
    EXPECT_EQ(errors.calls, 0);
    EXPECT_EQ(closed.calls, 1);
    EXPECT_EQ(closed.err, ENOSPC);
}

TEST_F(FileSinkTest, WithoutALoopEverythingHappensAtOnce)
{
    BufPool pool(4096);
    FileSink s;
    s.open(create(), nullptr, 16, nullptr);
    EXPECT_FALSE(s.async());
    const char* what = "";
    BufRef c = chain_of(pool, std::string(5000, 'z'), 3000);
    ASSERT_EQ(s.append(bytes("["), c.get(), bytes("]"), &what), Rc::ok);  // no bound: nothing waits
    EXPECT_EQ(slurp(path_).size(), 5002u);
    ASSERT_EQ(s.pwrite(1, bytes("Q"), &what), Rc::ok);
    Closed closed;
    ASSERT_EQ(s.close(&closed, &what), Rc::ok);
    EXPECT_EQ(closed.calls, 1);  // before close() returned
    std::string got = slurp(path_);
    EXPECT_EQ(got.substr(0, 3), "[Qz");
    c.reset();
    EXPECT_EQ(pool.outstanding(), 0u);

    if (access("/dev/full", W_OK) == 0) {
        FileSink f;
        f.open(UniqueFd(::open("/dev/full", O_WRONLY | O_CLOEXEC)), nullptr, 0, nullptr);
        std::vector<uint8_t> v(10, 'x');
        EXPECT_EQ(f.append(std::move(v), &what), Rc::error);
        EXPECT_EQ(errno, ENOSPC);
        EXPECT_STREQ(what, "write");
    }
}
