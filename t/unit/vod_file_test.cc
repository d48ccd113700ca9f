// VodFile: reads served by the page cache at once, misses read by the helper thread
// (Rc::again, then the waiter), the read-ahead window, a player gone while its read is in
// flight, a file that shrank. The miss path needs pages the kernel can drop: when it
// keeps them (a tmpfs /tmp), those tests are skipped and say why.
#include "modules/vod_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/helper_thread.h"

namespace strom::mod {
namespace {

struct Waiter : VodFileWaiter {
    int calls = 0;
    void file_ready() override { ++calls; }
};

class VodFileTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/strom-vodfile-XXXXXX";
        dir_ = mkdtemp(tmpl);
        path_ = dir_ + "/f.bin";
        bytes_.resize(3 * VodFile::kWindow + 12345);
        for (size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = uint8_t(i * 131 + (i >> 9));
        int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ASSERT_EQ(::write(fd, bytes_.data(), bytes_.size()), ssize_t(bytes_.size()));
        ASSERT_EQ(fdatasync(fd), 0);
        ::close(fd);
    }
    void TearDown() override
    {
        for (int i = 0; i < 500 && helper_pending(); ++i) (void)loop_.run_once(20);
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }

    // A VodFile of the test file whose pages the kernel was asked to drop.
    std::unique_ptr<VodFile> cold()
    {
        int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        return std::make_unique<VodFile>(UniqueFd(fd), bytes_.size());
    }

    void run_until(const int& calls, int want)
    {
        for (int i = 0; i < 500 && calls < want; ++i) ASSERT_EQ(loop_.run_once(20), Rc::ok);
        ASSERT_EQ(calls, want);
    }

    bool same(const std::vector<uint8_t>& got, uint64_t off)
    {
        return std::equal(got.begin(), got.end(), bytes_.begin() + long(off));
    }

    EventLoop loop_;
    std::string dir_, path_;
    std::vector<uint8_t> bytes_;
};

TEST_F(VodFileTest, UnattachedReadsWaitForTheDisk)
{
    auto f = cold();
    std::vector<uint8_t> got(5000);
    ASSERT_EQ(f->read(1000, got.data(), got.size()), Rc::ok);
    EXPECT_TRUE(same(got, 1000));
    EXPECT_EQ(f->read(bytes_.size() - 10, got.data(), 11), Rc::error);   // past the end
    EXPECT_EQ(f->read(bytes_.size() + 1, got.data(), 0), Rc::error);
    EXPECT_EQ(f->read(bytes_.size(), got.data(), 0), Rc::ok);
    EXPECT_FALSE(f->waiting());
}

TEST_F(VodFileTest, AMissIsReadByTheHelperAndTheWindowServesWhatFollows)
{
    auto f = cold();
    Waiter w;
    f->attach(&loop_, &w);
    std::vector<uint8_t> got(5000);
    Rc rc = f->read(1000, got.data(), got.size());
    if (rc == Rc::ok) GTEST_SKIP() << "the kernel kept the pages of " << path_ << " (tmpfs?): no miss to test";
    ASSERT_EQ(rc, Rc::again);
    EXPECT_TRUE(f->waiting());
    EXPECT_EQ(f->read(700000, got.data(), 10), Rc::again);   // one read in flight at a time
    run_until(w.calls, 1);
    EXPECT_FALSE(f->waiting());
    ASSERT_EQ(f->read(1000, got.data(), got.size()), Rc::ok);
    EXPECT_TRUE(same(got, 1000));
    // the window [1000, 1000 + 256 KiB) answers without the disk, to its last byte
    got.resize(VodFile::kWindow - 7000);
    ASSERT_EQ(f->read(7000, got.data(), got.size()), Rc::ok);
    EXPECT_TRUE(same(got, 7000));
    EXPECT_EQ(w.calls, 1);
    // a read larger than the window is read whole
    auto g = cold();
    Waiter w2;
    g->attach(&loop_, &w2);
    got.resize(2 * VodFile::kWindow);
    if (g->read(VodFile::kWindow, got.data(), got.size()) == Rc::again) {
        run_until(w2.calls, 1);
        ASSERT_EQ(g->read(VodFile::kWindow, got.data(), got.size()), Rc::ok);
    }
    EXPECT_TRUE(same(got, VodFile::kWindow));
    // the window ends at the end of the file
    got.resize(100);
    uint64_t tail = bytes_.size() - 100;
    if (g->read(tail, got.data(), 100) == Rc::again) {
        run_until(w2.calls, 2);
        ASSERT_EQ(g->read(tail, got.data(), 100), Rc::ok);
    }
    EXPECT_TRUE(same(got, tail));
}

TEST_F(VodFileTest, AFileGoneWhileItsReadIsInFlightIsNeverTold)
{
    auto f = cold();
    Waiter w;
    f->attach(&loop_, &w);
    std::vector<uint8_t> got(100);
    if (f->read(0, got.data(), got.size()) == Rc::ok) GTEST_SKIP() << "the kernel kept the pages";
    f.reset();   // the player left
    for (int i = 0; i < 500 && helper_pending(); ++i) ASSERT_EQ(loop_.run_once(20), Rc::ok);
    EXPECT_EQ(helper_pending(), 0u);
    EXPECT_EQ(w.calls, 0);
}

TEST_F(VodFileTest, AFileThatShrankFailsItsReads)
{
    auto f = cold();
    Waiter w;
    f->attach(&loop_, &w);
    ASSERT_EQ(truncate(path_.c_str(), 1000), 0);   // size_ still says the old size
    std::vector<uint8_t> got(100);
    Rc rc = f->read(500000, got.data(), got.size());
    if (rc == Rc::again) {
        run_until(w.calls, 1);
        rc = f->read(500000, got.data(), got.size());
    }
    EXPECT_EQ(rc, Rc::error);
    EXPECT_EQ(f->read(0, got.data(), got.size()), Rc::error);   // and stays failed
}

}  // namespace
}  // namespace strom::mod
