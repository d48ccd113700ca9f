// Stream and app names never leave the configured root: each hostile variant is escaped
// into one plain component (or refused), and creating the file really lands in the root.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>

#include "modules/safe_path.h"

using strom::mod::append_safe_name;
using strom::mod::expand_name_vars;
using strom::mod::safe_join;

namespace {

std::string esc(std::string_view n)
{
    std::string out;
    EXPECT_TRUE(append_safe_name(n, &out)) << n;
    return out;
}

std::set<std::string> list(const std::string& dir)
{
    std::set<std::string> r;
    DIR* d = opendir(dir.c_str());
    if (!d) return r;
    while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") r.insert(n);
    }
    closedir(d);
    return r;
}

// A temporary tree: outer/ holds root/, and nothing else may appear in outer/ or above.
class SafePathFs : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/strom-safepath-XXXXXX";
        outer_ = mkdtemp(tmpl);
        root_ = outer_ + "/root";
        ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    }
    void TearDown() override
    {
        for (const auto& n : list(root_)) unlink((root_ + "/" + n).c_str());
        rmdir(root_.c_str());
        rmdir(outer_.c_str());
    }
    // Creates the file a recorder would create for `name`; checks it is a direct child of root.
    void create_and_check(std::string_view name)
    {
        std::string p;
        if (!safe_join(root_, name, ".flv", &p)) return;   // refused is fine too
        ASSERT_EQ(p.compare(0, root_.size() + 1, root_ + "/"), 0);
        std::string comp = p.substr(root_.size() + 1);
        EXPECT_EQ(comp.find('/'), std::string::npos) << comp;
        EXPECT_NE(comp[0], '.') << comp;
        int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd, 0) << p;
        close(fd);
        EXPECT_TRUE(list(root_).count(comp)) << comp;
        EXPECT_EQ(list(outer_), std::set<std::string>{"root"});
    }
    std::string outer_, root_;
};

}  // namespace

TEST(SafePath, PlainNamesStayReadable)
{
    EXPECT_EQ(esc("cam1"), "cam1");
    EXPECT_EQ(esc("Stream_2-b.x"), "Stream_2-b.x");
}

TEST(SafePath, DotDotSegmentsBecomePlainText)
{
    EXPECT_EQ(esc(".."), "%2E.");
    EXPECT_EQ(esc("."), "%2E");
    EXPECT_EQ(esc("../../etc/passwd"), "%2E.%2F..%2Fetc%2Fpasswd");
    EXPECT_EQ(esc(".hidden"), "%2Ehidden");
}

TEST(SafePath, AbsolutePathIsOneComponent) { EXPECT_EQ(esc("/etc/passwd"), "%2Fetc%2Fpasswd"); }

TEST(SafePath, PercentEncodedSlashAndDotAreNotDecoded)
{
    EXPECT_EQ(esc("%2f"), "%252f");
    EXPECT_EQ(esc("%2e%2e%2fx"), "%252e%252e%252fx");
    EXPECT_EQ(esc("%2E%2E"), "%252E%252E");
}

TEST(SafePath, BackslashNulNewlineEscaped)
{
    EXPECT_EQ(esc("a\\b"), "a%5Cb");
    EXPECT_EQ(esc(std::string_view("a\0b", 3)), "a%00b");
    EXPECT_EQ(esc("a\nb\r"), "a%0Ab%0D");
    EXPECT_EQ(esc("a b"), "a%20b");
    EXPECT_EQ(esc("\xff"), "%FF");
}

TEST(SafePath, EmptyAndVeryLongNamesRefused)
{
    std::string out = "keep";
    EXPECT_FALSE(append_safe_name("", &out));
    EXPECT_FALSE(append_safe_name(std::string(161, 'a'), &out));
    EXPECT_FALSE(append_safe_name(std::string(60, '/'), &out));   // 180 escaped
    EXPECT_EQ(out, "keep");
    EXPECT_TRUE(append_safe_name(std::string(160, 'a'), &out));
}

TEST(SafePath, JoinAddsSuffixUnderRoot)
{
    std::string p;
    ASSERT_TRUE(safe_join("/rec", "../x", ".flv", &p));
    EXPECT_EQ(p, "/rec/%2E.%2Fx.flv");
    ASSERT_TRUE(safe_join("/rec/", "x", ".flv", &p));
    EXPECT_EQ(p, "/rec/x.flv");
    EXPECT_FALSE(safe_join("/rec", "", ".flv", &p));
}

TEST(SafePath, AppAndNameVariablesAreEscaped)
{
    std::string p;
    ASSERT_TRUE(expand_name_vars("/rec/$app/$name", "../..", "a/b", &p));
    EXPECT_EQ(p, "/rec/%2E.%2F../a%2Fb");
    EXPECT_FALSE(expand_name_vars("/rec/$app", "", "x", &p));
    ASSERT_TRUE(expand_name_vars("/rec/plain", "", "", &p));
    EXPECT_EQ(p, "/rec/plain");
}

TEST_F(SafePathFs, DotDot) { create_and_check("../escaped"); }
TEST_F(SafePathFs, DotDotAlone) { create_and_check(".."); }
TEST_F(SafePathFs, Absolute) { create_and_check("/tmp/strom-safepath-abs"); }
TEST_F(SafePathFs, PercentSlash) { create_and_check("..%2f..%2fx"); }
TEST_F(SafePathFs, PercentDot) { create_and_check("%2e%2e"); }
TEST_F(SafePathFs, Backslash) { create_and_check("..\\..\\x"); }
TEST_F(SafePathFs, Nul) { create_and_check(std::string_view("../x\0y", 6)); }
TEST_F(SafePathFs, Newline) { create_and_check("a\n../b"); }
TEST_F(SafePathFs, VeryLong)
{
    std::string p;
    EXPECT_FALSE(safe_join(root_, std::string(4000, 'x'), ".flv", &p));
    create_and_check(std::string(160, '.'));
    EXPECT_EQ(list(outer_), std::set<std::string>{"root"});
}
