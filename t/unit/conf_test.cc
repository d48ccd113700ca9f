// Configuration: lexer/parser (grammar, quotes, comments, includes, limits), value
// syntaxes, the cycle builder (contexts, shapes, setters, inheritance and merge,
// duplicates) and the core module, with test modules of our own.
#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/conf_parser.h"
#include "core/conf_setters.h"
#include "core/conf_value.h"
#include "core/connection.h"
#include "core/core_module.h"
#include "core/cycle.h"
#include "core/module.h"

using namespace strom;
using std::chrono::milliseconds;

namespace {

// --- test modules -----------------------------------------------------------------

enum class Mode { fast, safe };
inline constexpr ConfEnum<Mode> kModes[] = {{"fast", Mode::fast}, {"safe", Mode::safe}};

struct TestConf : ConfBase {
    std::optional<bool> live;
    std::optional<uint32_t> chunk_size;
    std::optional<milliseconds> timeout;
    std::optional<uint64_t> idle_ms;
    std::optional<int> count;
    std::optional<std::string> label;
    std::optional<std::string> path;
    std::optional<Mode> mode;
    std::vector<std::string> allow;  // a list directive, accumulated
};

struct TestMain : ConfBase {
    std::optional<bool> enabled;
    bool postconfigured = false;
};

struct TagFactory final : ConnHandlerFactory {
    ConnHandler* create(Connection&, void*) override { return nullptr; }
} g_tag;  // our protocol
bool g_fail_postconfiguration = false;

const char* set_listen(ConfContext& cx, ConfBase*, const ConfNode& d)
{
    ListenSpec ls;
    std::string err;
    if (!parse_listen_address(d.args[0], &ls.addr, &err, 1935)) {
        return cx.fail("%s of the \"listen\" directive", err.c_str());
    }
    if (d.args.size() > 1) {
        if (d.args[1] != "reuseport") return cx.invalid(d, 1);
        ls.reuseport = true;
    }
    ls.proto = &g_tag;
    ls.server = cx.server;
    ls.file = d.file;
    ls.line = d.line;
    if (!cx.cycle.add_listen(std::move(ls), &err)) return cx.fail("%s", err.c_str());
    return nullptr;
}

const char* set_allow(ConfContext&, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<TestConf*>(conf);
    c->allow.insert(c->allow.end(), d.args.begin(), d.args.end());
    return nullptr;
}

constexpr Directive kTestDirectives[] = {
    {"live", kCtxRtmpAny, ArgShape::flag(), set_flag<&TestConf::live>},
    {"chunk_size", kCtxRtmpAny, ArgShape::n(1), set_size<&TestConf::chunk_size, 128, 65536>},
    {"timeout", kCtxRtmpAny, ArgShape::n(1), set_msec<&TestConf::timeout>},
    {"idle", kCtxRtmpAny, ArgShape::n(1), set_msec<&TestConf::idle_ms>},
    {"count", kCtxRtmpAny, ArgShape::n(1), set_num<&TestConf::count>},
    {"label", kCtxRtmpAny, ArgShape::n(1), set_str<&TestConf::label>},
    {"record_path", kCtxRtmpAny, ArgShape::n(1), set_path<&TestConf::path>},
    {"mode", kCtxRtmpAny, ArgShape::n(1), set_enum<&TestConf::mode, kModes>},
    {"allow", kCtxApp, ArgShape::at_least(1), set_allow},
    {"listen", kCtxServer, ArgShape::range(1, 2), set_listen},
    {"test_main", kCtxMain, ArgShape::flag(), set_flag<&TestMain::enabled>},
};

class TestModule final : public Module {
public:
    const char* name() const override { return "test"; }
    std::span<const Directive> directives() const override { return kTestDirectives; }
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override
    {
        if (level == ConfLevel::main) return std::make_unique<TestMain>();
        return std::make_unique<TestConf>();
    }
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override
    {
        if (level == ConfLevel::main) {
            auto* c = static_cast<TestMain*>(child);
            merge_value(c->enabled, static_cast<const TestMain*>(parent)->enabled, false);
            return nullptr;
        }
        auto* c = static_cast<TestConf*>(child);
        auto* p = static_cast<const TestConf*>(parent);
        merge_value(c->live, p->live, false);
        merge_value(c->chunk_size, p->chunk_size, 4096u);
        merge_value(c->timeout, p->timeout, milliseconds(60000));
        merge_value(c->idle_ms, p->idle_ms, 0u);
        merge_value(c->count, p->count, 7);
        merge_value(c->label, p->label, "none");
        merge_value(c->path, p->path, "");
        merge_value(c->mode, p->mode, Mode::safe);
        if (c->idle_ms != 0u && milliseconds(*c->idle_ms) > *c->timeout) {
            return "\"idle\" must not be longer than \"timeout\"";
        }
        return nullptr;
    }
    Rc postconfiguration(Cycle& cycle) override
    {
        if (g_fail_postconfiguration) return cycle.fail("test module refuses this configuration");
        cycle.main_conf<TestMain>(*this).postconfigured = true;
        return Rc::ok;
    }
};

TestModule test_module;
Module* const kModules[] = {&core_module, &test_module};

std::unique_ptr<Cycle> load(const std::string& text, std::string* err)
{
    return Cycle::load_string(kModules, text, "/p/strom.conf", "/p/", err);
}

// Loads text that must fail; returns the message.
std::string load_error(const std::string& text)
{
    std::string err;
    auto c = load(text, &err);
    EXPECT_EQ(c, nullptr) << text;
    return err;
}

std::vector<ConfNode> parse(const std::string& text, std::string* err = nullptr,
                            const ConfParseOptions& opt = {})
{
    std::vector<ConfNode> nodes;
    std::string e;
    bool ok = parse_conf_string(text, "/p/strom.conf", &nodes, &e, opt);
    if (err) {
        *err = e;
    } else {
        EXPECT_TRUE(ok) << e;
    }
    return nodes;
}

std::string parse_error(const std::string& text, const ConfParseOptions& opt = {})
{
    std::vector<ConfNode> nodes;
    std::string e;
    EXPECT_FALSE(parse_conf_string(text, "/p/strom.conf", &nodes, &e, opt)) << text;
    return e;
}

// A scratch directory, removed with its files at the end of the test.
class TempDir {
public:
    TempDir()
    {
        char tmpl[] = "/tmp/strom-conf-XXXXXX";
        path_ = mkdtemp(tmpl);
    }
    ~TempDir() { remove_tree(path_); }
    const std::string& path() const { return path_; }
    std::string write(const std::string& rel, const std::string& text) const
    {
        std::string p = path_ + "/" + rel;
        for (size_t slash = path_.size() + 1; (slash = p.find('/', slash)) != std::string::npos;
             ++slash) {
            mkdir(p.substr(0, slash).c_str(), 0755);
        }
        std::ofstream(p) << text;
        return p;
    }

private:
    static void remove_tree(const std::string& p)
    {
        if (DIR* d = opendir(p.c_str())) {
            while (dirent* e = readdir(d)) {
                std::string n = e->d_name;
                if (n != "." && n != "..") remove_tree(p + "/" + n);
            }
            closedir(d);
            rmdir(p.c_str());
        } else {
            unlink(p.c_str());
        }
    }
    std::string path_;
};

const TestConf& app_conf(const Cycle& c, size_t server, const char* app)
{
    const AppBlock* a = c.proto("rtmp")->servers.at(server)->find_app(app);
    EXPECT_NE(a, nullptr) << app;
    return a->conf<TestConf>(test_module);
}

}  // namespace

// --- parser -------------------------------------------------------------------------

TEST(ConfParser, DirectivesBlocksFileAndLine)
{
    auto nodes = parse(
        "daemon off;\n"
        "rtmp {\n"
        "    server {\n"
        "        listen 1935 reuseport;\n"
        "        application live { live on; }\n"
        "    }\n"
        "}\n");
    ASSERT_EQ(nodes.size(), 2u);
    EXPECT_EQ(nodes[0].name, "daemon");
    EXPECT_EQ(nodes[0].args, std::vector<std::string>{"off"});
    EXPECT_FALSE(nodes[0].is_block);
    EXPECT_EQ(nodes[0].file, "/p/strom.conf");
    EXPECT_EQ(nodes[0].line, 1);
    const ConfNode& rtmp = nodes[1];
    EXPECT_TRUE(rtmp.is_block);
    EXPECT_EQ(rtmp.line, 2);
    ASSERT_EQ(rtmp.children.size(), 1u);
    const ConfNode& server = rtmp.children[0];
    ASSERT_EQ(server.children.size(), 2u);
    EXPECT_EQ(server.children[0].name, "listen");
    EXPECT_EQ(server.children[0].args, (std::vector<std::string>{"1935", "reuseport"}));
    EXPECT_EQ(server.children[0].line, 4);
    const ConfNode& app = server.children[1];
    EXPECT_EQ(app.args, std::vector<std::string>{"live"});
    ASSERT_EQ(app.children.size(), 1u);
    EXPECT_EQ(app.children[0].name, "live");
    EXPECT_EQ(app.children[0].line, 5);
}

TEST(ConfParser, EmptyInputAndEmptyBlocks)
{
    EXPECT_TRUE(parse("").empty());
    EXPECT_TRUE(parse("  \n\t\r\n# only a comment").empty());
    auto nodes = parse("a{}b {\n}");
    ASSERT_EQ(nodes.size(), 2u);
    EXPECT_TRUE(nodes[0].is_block);
    EXPECT_TRUE(nodes[0].children.empty());
    EXPECT_EQ(nodes[1].name, "b");
}

TEST(ConfParser, QuotesKeepSeparatorsAndSpaces)
{
    auto nodes = parse("d \"a;b{c}#d e\" 'x \"y\"' \"\" '';");
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].args, (std::vector<std::string>{"a;b{c}#d e", "x \"y\"", "", ""}));
}

TEST(ConfParser, Escapes)
{
    auto nodes = parse(R"(d "q\"q" 's\'s' "b\\s" "t\tn\nr\r" "\d" plain\;semi a\ b;)");
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].args, (std::vector<std::string>{"q\"q", "s's", "b\\s", "t\tn\nr\r", "\\d",
                                                       "plain\\;semi", "a\\ b"}));
}

TEST(ConfParser, QuotedNameAndBlockArgument)
{
    auto nodes = parse("\"my name\" 'x y' { inner; }");
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].name, "my name");
    EXPECT_EQ(nodes[0].args, std::vector<std::string>{"x y"});
    EXPECT_EQ(nodes[0].children.size(), 1u);
}

TEST(ConfParser, Comments)
{
    auto nodes = parse(
        "# first\n"
        "a 1; # trailing ; { }\n"
        "b x#y;   # a # inside a word is not a comment\n"
        "#c 2;\n"
        "d \"#not\";\n");
    ASSERT_EQ(nodes.size(), 3u);
    EXPECT_EQ(nodes[0].name, "a");
    EXPECT_EQ(nodes[1].args, std::vector<std::string>{"x#y"});
    EXPECT_EQ(nodes[2].args, std::vector<std::string>{"#not"});
    EXPECT_EQ(nodes[2].line, 5);
}

TEST(ConfParser, MultiLineDirectivesAndQuotesCountLines)
{
    auto nodes = parse(
        "a\n  1\n  2;\n"
        "b \"x\ny\nz\";\n"
        "c;\n");
    ASSERT_EQ(nodes.size(), 3u);
    EXPECT_EQ(nodes[0].line, 1);
    EXPECT_EQ(nodes[1].line, 4);
    EXPECT_EQ(nodes[1].args[0], "x\ny\nz");
    EXPECT_EQ(nodes[2].line, 7);
}

TEST(ConfParser, SyntaxErrorsInNginxWording)
{
    EXPECT_EQ(parse_error("a;\n}\n"), "unexpected \"}\" in /p/strom.conf:2");
    EXPECT_EQ(parse_error("a {\n  b c }\n"), "unexpected \"}\" in /p/strom.conf:2");
    EXPECT_EQ(parse_error("a;\n;\n"), "unexpected \";\" in /p/strom.conf:2");
    EXPECT_EQ(parse_error("a { ; }"), "unexpected \";\" in /p/strom.conf:1");
    EXPECT_EQ(parse_error("\n\n{ }"), "unexpected \"{\" in /p/strom.conf:3");
    EXPECT_EQ(parse_error("a \"x\"y;"), "unexpected \"y\" in /p/strom.conf:1");
    EXPECT_EQ(parse_error("a \"x\n\n"),
              "unexpected end of file, expecting closing quote in /p/strom.conf:3");
}

TEST(ConfParser, UnexpectedEndOfFile)
{
    std::string text = "rtmp {\n";
    for (int i = 2; i < 30; ++i) text += "    # line " + std::to_string(i) + "\n";
    EXPECT_EQ(parse_error(text), "unexpected end of file, expecting \"}\" in /p/strom.conf:30");
    EXPECT_EQ(parse_error("a {\n b {\n c;\n }\n"),
              "unexpected end of file, expecting \"}\" in /p/strom.conf:5");
    EXPECT_EQ(parse_error("daemon off"),
              "unexpected end of file, expecting \";\" or \"}\" in /p/strom.conf:1");
    EXPECT_EQ(parse_error("a {\n daemon"),
              "unexpected end of file, expecting \";\" or \"}\" in /p/strom.conf:2");
}

TEST(ConfParser, TokenLengthLimit)
{
    std::string ok(kConfMaxToken, 'x');
    auto nodes = parse("a " + ok + ";");
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0].args[0].size(), kConfMaxToken);
    EXPECT_EQ(parse_error("\na " + ok + "y;"), "too long parameter in /p/strom.conf:2");
    EXPECT_EQ(parse_error("a \"" + ok + "y\";"), "too long parameter in /p/strom.conf:1");
    // An unterminated quote that runs on is cut at the limit, not at the end of memory.
    EXPECT_EQ(parse_error("a '" + std::string(200000, 'q')),
              "too long parameter in /p/strom.conf:1");
}

TEST(ConfParser, NestingLimit)
{
    std::string deep_ok, deep_bad;
    for (int i = 0; i < kConfMaxNesting; ++i) deep_ok += "b {";
    deep_ok += std::string(size_t(kConfMaxNesting), '}');
    EXPECT_EQ(parse(deep_ok).size(), 1u);
    for (int i = 0; i <= kConfMaxNesting; ++i) deep_bad += "b {\n";
    EXPECT_EQ(parse_error(deep_bad),
              "too deep nesting of blocks (more than 16) in /p/strom.conf:17");
    // Far deeper input fails the same way instead of recursing.
    std::string huge;
    for (int i = 0; i < 100000; ++i) huge += "b{";
    EXPECT_EQ(parse_error(huge), "too deep nesting of blocks (more than 16) in /p/strom.conf:1");
}

TEST(ConfParser, IncludesOffKeepsTheNode)
{
    ConfParseOptions opt;
    opt.includes = false;
    std::string err;
    auto nodes = parse("include /nonexistent/*.conf;\ninclude a b { }", &err, opt);
    EXPECT_EQ(err, "");
    ASSERT_EQ(nodes.size(), 2u);
    EXPECT_EQ(nodes[0].name, "include");
    EXPECT_TRUE(nodes[1].is_block);
}

TEST(ConfParser, IncludeRelativeToConfDirectoryExpandsInPlace)
{
    TempDir t;
    t.write("conf/inner.conf", "b 2;\nc 3;\n");
    std::string main = t.write("conf/strom.conf", "a 1;\nx {\n    include inner.conf;\n}\nd 4;\n");
    ConfParseOptions opt;
    opt.include_dir = t.path() + "/conf";
    std::vector<ConfNode> nodes;
    std::string err;
    ASSERT_TRUE(parse_conf_file(main, &nodes, &err, opt)) << err;
    ASSERT_EQ(nodes.size(), 3u);
    ASSERT_EQ(nodes[1].children.size(), 2u);
    EXPECT_EQ(nodes[1].children[1].name, "c");
    EXPECT_EQ(nodes[1].children[1].file, t.path() + "/conf/inner.conf");
    EXPECT_EQ(nodes[1].children[1].line, 2);
    EXPECT_EQ(nodes[2].file, main);
    EXPECT_EQ(nodes[2].line, 5);
}

TEST(ConfParser, IncludeGlobIsSortedAndMayMatchNothing)
{
    TempDir t;
    t.write("d/20-b.conf", "second;\n");
    t.write("d/10-a.conf", "first;\n");
    t.write("d/skip.txt", "nope;\n");
    ConfParseOptions opt;
    opt.include_dir = t.path();
    std::vector<ConfNode> nodes;
    std::string err;
    ASSERT_TRUE(parse_conf_string(
        "include d/*.conf;\ninclude none/*.conf;\ninclude " + t.path() + "/d/1?-*.conf;",
        "/p/strom.conf", &nodes, &err, opt))
        << err;
    ASSERT_EQ(nodes.size(), 3u);
    EXPECT_EQ(nodes[0].name, "first");
    EXPECT_EQ(nodes[1].name, "second");
    EXPECT_EQ(nodes[2].name, "first");
}

TEST(ConfParser, MissingIncludeIsAnErrorWithTheIncludesLine)
{
    TempDir t;
    ConfParseOptions opt;
    opt.include_dir = t.path();
    std::string err = parse_error("a;\n\ninclude x.conf;\n", opt);
    EXPECT_EQ(err, "open() \"" + t.path() +
                       "/x.conf\" failed (2: No such file or directory) in /p/strom.conf:3");
}

TEST(ConfParser, IncludeErrorsNameTheIncludedFile)
{
    TempDir t;
    std::string bad = t.write("bad.conf", "ok;\n}\n");
    t.write("unterminated.conf", "x {\n");
    ConfParseOptions opt;
    opt.include_dir = t.path();
    EXPECT_EQ(parse_error("include bad.conf;", opt), "unexpected \"}\" in " + bad + ":2");
    // An included file cannot close the block it is included in.
    EXPECT_EQ(parse_error("a { include bad.conf; }", opt), "unexpected \"}\" in " + bad + ":2");
    EXPECT_EQ(parse_error("include unterminated.conf;", opt),
              "unexpected end of file, expecting \"}\" in " + t.path() + "/unterminated.conf:2");
    EXPECT_EQ(parse_error("include a b;", opt),
              "invalid number of arguments in \"include\" directive in /p/strom.conf:1");
    EXPECT_EQ(parse_error("\ninclude a { }", opt),
              "directive \"include\" is not terminated by \";\" in /p/strom.conf:2");
}

TEST(ConfParser, SelfIncludeStopsAtTheDepthLimit)
{
    TempDir t;
    std::string self = t.write("self.conf", "a;\ninclude self.conf;\n");
    ConfParseOptions opt;
    opt.include_dir = t.path();
    std::vector<ConfNode> nodes;
    std::string err;
    EXPECT_FALSE(parse_conf_file(self, &nodes, &err, opt));
    EXPECT_EQ(err, "too deep nesting of includes (more than 16) in " + self + ":2");
}

TEST(ConfParser, MissingMainFile)
{
    std::vector<ConfNode> nodes;
    std::string err;
    EXPECT_FALSE(parse_conf_file("/nonexistent/strom.conf", &nodes, &err));
    EXPECT_EQ(err, "open() \"/nonexistent/strom.conf\" failed (2: No such file or directory)");
}

// --- values -------------------------------------------------------------------------

TEST(ConfValue, Sizes)
{
    uint64_t v = 0;
    struct {
        const char* s;
        uint64_t v;
    } good[] = {
        {"0", 0},
        {"4096", 4096},
        {"64k", 65536},
        {"64K", 65536},
        {"1m", 1 << 20},
        {"1M", 1 << 20},
        {"1g", 1ull << 30},
        {"3G", 3ull << 30},
        {"007", 7},
        {"9223372036854775807", 9223372036854775807ull},
        {"8589934591g", 8589934591ull << 30},
    };
    for (auto& g : good) {
        EXPECT_TRUE(parse_size(g.s, &v)) << g.s;
        EXPECT_EQ(v, g.v) << g.s;
    }
    for (const char* s :
         {"", "k", "-1", "+1", "1.5m", "1kb", "1t", " 1", "1 ", "0x10", "1mk",
          "9223372036854775808", "99999999999999999999", "8589934592g", "18014398509481984k"}) {
        v = 12345;
        EXPECT_FALSE(parse_size(s, &v)) << s;
        EXPECT_EQ(v, 12345u) << s;
    }
}

TEST(ConfValue, Times)
{
    int64_t v = 0;
    struct {
        const char* s;
        int64_t v;
    } good[] = {
        {"0", 0},           {"500ms", 500},  {"30s", 30000},
        {"5m", 300000},     {"1h", 3600000}, {"1d", 86400000},
        {"2w", 1209600000}, {"30", 30000},   {"10s500ms", 10500},
        {"1h30m", 5400000}, {"1m30", 90000}, {"1d2h3m4s5ms", 93784005},
    };
    for (auto& g : good) {
        EXPECT_TRUE(parse_msec(g.s, &v)) << g.s;
        EXPECT_EQ(v, g.v) << g.s;
    }
    for (const char* s : {"", "s", "ms", "-1s", "1.5s", "10x", "1sec", "30m1h", "1s1s", "5ms1s",
                          "1m2m", "1 s", "30s10", "9223372036854775808ms", "9223372036854776s",
                          "99999999999999999999", "15250284452472w"}) {
        v = 42;
        EXPECT_FALSE(parse_msec(s, &v)) << s;
        EXPECT_EQ(v, 42) << s;
    }
}

TEST(ConfValue, FlagsNumbersAndAuto)
{
    bool b = false;
    EXPECT_TRUE(parse_flag("on", &b));
    EXPECT_TRUE(b);
    EXPECT_TRUE(parse_flag("OFF", &b));
    EXPECT_FALSE(b);
    for (const char* s : {"", "yes", "1", "onn", "of"}) EXPECT_FALSE(parse_flag(s, &b)) << s;

    uint64_t u = 0;
    EXPECT_TRUE(parse_uint("18446744073709551615", &u));
    EXPECT_EQ(u, UINT64_MAX);
    EXPECT_FALSE(parse_uint("18446744073709551616", &u));
    EXPECT_FALSE(parse_uint("-1", &u));
    int64_t i = 0;
    EXPECT_TRUE(parse_int("-9223372036854775808", &i));
    EXPECT_EQ(i, INT64_MIN);
    EXPECT_TRUE(parse_int("9223372036854775807", &i));
    EXPECT_FALSE(parse_int("9223372036854775808", &i));
    EXPECT_FALSE(parse_int("-", &i));

    bool is_auto = false;
    uint64_t n = 0;
    EXPECT_TRUE(parse_num_or_auto("auto", &n, &is_auto));
    EXPECT_TRUE(is_auto);
    EXPECT_TRUE(parse_num_or_auto("4", &n, &is_auto));
    EXPECT_FALSE(is_auto);
    EXPECT_EQ(n, 4u);
    EXPECT_FALSE(parse_num_or_auto("Auto", &n, &is_auto));
}

// --- builder errors -------------------------------------------------------------------

TEST(ConfBuilder, UnknownDirective)
{
    EXPECT_EQ(load_error("daemon off;\nfoo bar;\n"),
              "unknown directive \"foo\" in /p/strom.conf:2");
    EXPECT_EQ(load_error("rtmp {\n server {\n  application a {\n   foo { }\n  }\n }\n}\n"),
              "unknown directive \"foo\" in /p/strom.conf:4");
}

TEST(ConfBuilder, NotAllowedHere)
{
    EXPECT_EQ(load_error("\nlive on;"),
              "\"live\" directive is not allowed here in /p/strom.conf:2");
    EXPECT_EQ(load_error("rtmp {\n  listen 1935;\n}"),
              "\"listen\" directive is not allowed here in /p/strom.conf:2");
    EXPECT_EQ(load_error("rtmp { server { worker_processes 2; } }"),
              "\"worker_processes\" directive is not allowed here in /p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp {\n application a { }\n}"),
              "\"application\" directive is not allowed here in /p/strom.conf:2");
    EXPECT_EQ(load_error("server { }"),
              "\"server\" directive is not allowed here in /p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp { rtmp { } }"),
              "\"rtmp\" directive is not allowed here in /p/strom.conf:1");
    EXPECT_EQ(load_error("events { daemon off; }"),
              "\"daemon\" directive is not allowed here in /p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp { server { application a { application b { } } } }"),
              "\"application\" directive is not allowed here in /p/strom.conf:1");
}

TEST(ConfBuilder, InvalidNumberOfArguments)
{
    EXPECT_EQ(load_error("rtmp {\n server {\n  listen;\n }\n}"),
              "invalid number of arguments in \"listen\" directive in /p/strom.conf:3");
    EXPECT_EQ(load_error("rtmp { server { listen 1 2 3; } }"),
              "invalid number of arguments in \"listen\" directive in /p/strom.conf:1");
    EXPECT_EQ(load_error("daemon;"),
              "invalid number of arguments in \"daemon\" directive in /p/strom.conf:1");
    EXPECT_EQ(load_error("daemon on off;"),
              "invalid number of arguments in \"daemon\" directive in /p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp { server { application { } } }"),
              "invalid number of arguments in \"application\" directive in /p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp x { }"),
              "invalid number of arguments in \"rtmp\" directive in /p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp { server { application a { allow; } } }"),
              "invalid number of arguments in \"allow\" directive in /p/strom.conf:1");
}

TEST(ConfBuilder, BlockShapeMismatch)
{
    EXPECT_EQ(load_error("\nrtmp;"), "directive \"rtmp\" has no opening \"{\" in /p/strom.conf:2");
    EXPECT_EQ(load_error("daemon off { }"),
              "directive \"daemon\" is not terminated by \";\" in /p/strom.conf:1");
}

TEST(ConfBuilder, InvalidValues)
{
    EXPECT_EQ(load_error("rtmp {\n\n chunk_size 12x;\n}"),
              "\"chunk_size\" directive invalid value: \"12x\" in /p/strom.conf:3");
    EXPECT_EQ(load_error("rtmp { chunk_size 64; }"),
              "\"chunk_size\" directive invalid value: \"64\", it must be between 128 and 65536 in "
              "/p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp { chunk_size 1g; }"),
              "\"chunk_size\" directive invalid value: \"1g\", it must be between 128 and 65536 in "
              "/p/strom.conf:1");
    EXPECT_EQ(
        load_error("rtmp { chunk_size 99999999999999999999; }"),
        "\"chunk_size\" directive invalid value: \"99999999999999999999\" in /p/strom.conf:1");
    EXPECT_EQ(load_error("daemon yes;"),
              "\"daemon\" directive invalid value: \"yes\", it must be \"on\" or \"off\" in "
              "/p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp { timeout 5x; }"),
              "\"timeout\" directive invalid value: \"5x\" in /p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp { count -1; }"),
              "\"count\" directive invalid value: \"-1\" in /p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp { count 2147483648; }"),
              "\"count\" directive invalid value: \"2147483648\" in /p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp { mode turbo; }"),
              "\"mode\" directive invalid value: \"turbo\", it must be \"fast\" or \"safe\" in "
              "/p/strom.conf:1");
    EXPECT_EQ(load_error("worker_processes many;"),
              "\"worker_processes\" directive invalid value: \"many\", it must be a number or "
              "\"auto\" in /p/strom.conf:1");
    EXPECT_EQ(load_error("worker_processes 0;"),
              "\"worker_processes\" directive invalid value: \"0\", it must be between 1 and 1024 "
              "in /p/strom.conf:1");
    EXPECT_EQ(load_error("events { worker_connections 0; }"),
              "\"worker_connections\" directive invalid value: \"0\", it must be between 1 and "
              "1048576 in /p/strom.conf:1");
    EXPECT_EQ(load_error("error_log x.log loud;"),
              "\"error_log\" directive invalid value: \"loud\", it must be debug, info, notice, "
              "warn, error, crit, "
              "alert or emerg in /p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp { server { application \"\" { } } }"),
              "\"application\" directive invalid value: \"\" in /p/strom.conf:1");
}

TEST(ConfBuilder, Duplicates)
{
    EXPECT_EQ(load_error("rtmp {\n chunk_size 4096;\n server { }\n chunk_size 8192;\n}"),
              "\"chunk_size\" directive is duplicate in /p/strom.conf:4");
    EXPECT_EQ(load_error("daemon on;\ndaemon on;"),
              "\"daemon\" directive is duplicate in /p/strom.conf:2");
    // main and events {} are the same level for worker_connections.
    EXPECT_EQ(load_error("worker_connections 10;\nevents {\n worker_connections 20;\n}"),
              "\"worker_connections\" directive is duplicate in /p/strom.conf:3");
    EXPECT_EQ(load_error("rtmp { }\n\nrtmp { }"),
              "\"rtmp\" directive is duplicate in /p/strom.conf:3");
    EXPECT_EQ(load_error("events { }\nevents { }"),
              "\"events\" directive is duplicate in /p/strom.conf:2");
    EXPECT_EQ(load_error("rtmp { server {\n application live { }\n application live { }\n} }"),
              "duplicate application \"live\" in /p/strom.conf:3");
    EXPECT_EQ(load_error("pid a.pid;\npid b.pid;"),
              "\"pid\" directive is duplicate in /p/strom.conf:2");
    EXPECT_EQ(load_error("error_log stderr;\nerror_log stderr;"),
              "\"error_log\" directive is duplicate in /p/strom.conf:2");
}

TEST(ConfBuilder, SameDirectiveAtEveryLevelIsNotDuplicate)
{
    std::string err;
    auto c = load("rtmp { live on; server { live off; application a { live on; } } }", &err);
    ASSERT_NE(c, nullptr) << err;
}

TEST(ConfBuilder, DuplicateListen)
{
    EXPECT_EQ(
        load_error("rtmp {\n server { listen 1935; }\n server {\n  listen 0.0.0.0:1935;\n }\n}"),
        "duplicate listen 0.0.0.0:1935 in /p/strom.conf:4");
    EXPECT_EQ(load_error("rtmp { server { listen 127.0.0.1:1935; listen 127.0.0.1:1935; } }"),
              "duplicate listen 127.0.0.1:1935 in /p/strom.conf:1");
    EXPECT_EQ(load_error("rtmp { server { listen 127.0.0.1:99999; } }"),
              "invalid port in \"127.0.0.1:99999\" of the \"listen\" directive in /p/strom.conf:1");
}

TEST(ConfBuilder, ListenSpecsKeepTheirServer)
{
    std::string err;
    auto c = load(
        "rtmp {\n"
        "  server { listen 127.0.0.1:1935; listen [::1]:1935 reuseport; }\n"
        "  server { listen 1936; listen unix:/tmp/strom.sock; }\n"
        "}\n",
        &err);
    ASSERT_NE(c, nullptr) << err;
    ASSERT_EQ(c->listens.size(), 4u);
    ASSERT_EQ(c->proto("rtmp")->servers.size(), 2u);
    EXPECT_EQ(c->listens[0].addr.text, "127.0.0.1:1935");
    EXPECT_EQ(c->listens[0].server, c->proto("rtmp")->servers[0].get());
    EXPECT_EQ(c->listens[0].proto, &g_tag);
    EXPECT_FALSE(c->listens[0].reuseport);
    EXPECT_EQ(c->listens[0].backlog, 511);
    EXPECT_EQ(c->listens[1].addr.text, "[::1]:1935");
    EXPECT_TRUE(c->listens[1].reuseport);
    EXPECT_EQ(c->listens[2].addr.text, "0.0.0.0:1936");
    EXPECT_EQ(c->listens[2].server, c->proto("rtmp")->servers[1].get());
    EXPECT_EQ(c->listens[2].line, 3);
    EXPECT_EQ(c->listens[3].addr.text, "unix:/tmp/strom.sock");
}

TEST(ConfBuilder, MergeErrorNamesTheBlock)
{
    EXPECT_EQ(
        load_error("rtmp {\n timeout 10s;\n server {\n  application a {\n   idle 20s;\n  }\n }\n}"),
        "\"idle\" must not be longer than \"timeout\" in /p/strom.conf:4");
}

TEST(ConfBuilder, PostconfigurationError)
{
    g_fail_postconfiguration = true;
    EXPECT_EQ(load_error(""), "test module refuses this configuration");
    g_fail_postconfiguration = false;
}

TEST(ConfBuilder, ModuleListedTwice)
{
    Module* const twice[] = {&core_module, &test_module, &core_module};
    std::string err;
    EXPECT_EQ(Cycle::load_string(twice, "", "/p/x.conf", "/p/", &err), nullptr);
    EXPECT_EQ(err, "module \"core\" is listed twice");
}

// --- inheritance ------------------------------------------------------------------------

TEST(ConfInherit, RtmpValueReachesApplicationsAndAppsOverride)
{
    std::string err;
    auto c = load(
        "rtmp {\n"
        "    chunk_size 8k;\n"
        "    live on;\n"
        "    label rtmp;\n"
        "    server {\n"
        "        timeout 30s;\n"
        "        application a { }\n"
        "        application b { chunk_size 60000; live off; allow x y; allow z; }\n"
        "    }\n"
        "    server {\n"
        "        label srv2;\n"
        "        application a { mode fast; idle 500ms; record_path rec; }\n"
        "    }\n"
        "}\n",
        &err);
    ASSERT_NE(c, nullptr) << err;
    ASSERT_EQ(c->proto("rtmp")->servers.size(), 2u);

    const TestConf& a = app_conf(*c, 0, "a");
    EXPECT_EQ(*a.chunk_size, 8192u);  // from rtmp {}
    EXPECT_EQ(*a.live, true);
    EXPECT_EQ(*a.timeout, milliseconds(30000));  // from server {}
    EXPECT_EQ(*a.label, "rtmp");
    EXPECT_EQ(*a.count, 7);  // default
    EXPECT_EQ(*a.mode, Mode::safe);
    EXPECT_EQ(*a.idle_ms, 0u);
    EXPECT_EQ(*a.path, "");

    const TestConf& b = app_conf(*c, 0, "b");
    EXPECT_EQ(*b.chunk_size, 60000u);  // overridden in the application
    EXPECT_EQ(*b.live, false);
    EXPECT_EQ(b.allow, (std::vector<std::string>{"x", "y", "z"}));

    const TestConf& a2 = app_conf(*c, 1, "a");
    EXPECT_EQ(*a2.label, "srv2");
    EXPECT_EQ(*a2.timeout, milliseconds(60000));  // default: server 2 sets none
    EXPECT_EQ(*a2.mode, Mode::fast);
    EXPECT_EQ(*a2.idle_ms, 500u);
    EXPECT_EQ(*a2.path, "/p/rec");  // relative to the prefix

    const TestConf& s1 = c->proto("rtmp")->servers[0]->conf<TestConf>(test_module);
    EXPECT_EQ(*s1.chunk_size, 8192u);
    EXPECT_EQ(*s1.timeout, milliseconds(30000));
    const TestConf& r = (*c->proto("rtmp")).conf<TestConf>(test_module);
    EXPECT_EQ(*r.chunk_size, 8192u);
    EXPECT_EQ(*r.timeout, milliseconds(60000));
}

TEST(ConfInherit, BlocksKeepFileLineAndOrder)
{
    std::string err;
    auto c =
        load("\nrtmp {\n server {\n  application one { }\n  application two { }\n }\n}\n", &err);
    ASSERT_NE(c, nullptr) << err;
    const ProtoBlock& r = (*c->proto("rtmp"));
    EXPECT_TRUE(r.present());
    EXPECT_EQ(r.line, 2);
    const ServerBlock& s = *c->proto("rtmp")->servers[0];
    EXPECT_EQ(s.line, 3);
    EXPECT_EQ(s.file, "/p/strom.conf");
    ASSERT_EQ(s.apps.size(), 2u);
    EXPECT_EQ(s.apps[0]->name, "one");
    EXPECT_EQ(s.apps[1]->line, 5);
    EXPECT_EQ(s.apps[1]->server, &s);
    EXPECT_EQ(s.find_app("two"), s.apps[1].get());
    EXPECT_EQ(s.find_app("Two"), nullptr);
    EXPECT_EQ(s.find_app("three"), nullptr);
}

TEST(ConfInherit, NoRtmpBlockStillHasDefaults)
{
    std::string err;
    auto c = load("daemon off;", &err);
    ASSERT_NE(c, nullptr) << err;
    EXPECT_FALSE((*c->proto("rtmp")).present());
    EXPECT_TRUE(c->proto("rtmp")->servers.empty());
    EXPECT_EQ(*(*c->proto("rtmp")).conf<TestConf>(test_module).chunk_size, 4096u);
    EXPECT_EQ(c->proto("smtp"), nullptr);
    EXPECT_FALSE(c->proto("http")->present());
    EXPECT_TRUE(c->main_conf<TestMain>(test_module).postconfigured);
}

// --- core module ------------------------------------------------------------------------

TEST(CoreModule, Defaults)
{
    std::string err;
    auto c = load("", &err);
    ASSERT_NE(c, nullptr) << err;
    const CoreConf& cc = core_conf(*c);
    EXPECT_EQ(cc.worker_processes, 1);
    EXPECT_FALSE(cc.worker_processes_auto);
    EXPECT_EQ(cc.worker_connections, 1024u);
    EXPECT_EQ(cc.worker_shutdown_timeout, 0u);
    EXPECT_TRUE(cc.daemon);
    EXPECT_EQ(cc.pid, "/p/logs/strom.pid");
    EXPECT_EQ(cc.error_log, "/p/logs/error.log");
    EXPECT_EQ(cc.error_log_level, LogLevel::info);
    EXPECT_EQ(cc.access_log, "off");
}

TEST(CoreModule, ExplicitValues)
{
    std::string err;
    auto c = load(
        "worker_processes 3;\n"
        "events { worker_connections 4096; }\n"
        "worker_shutdown_timeout 1m;\n"
        "daemon off;\n"
        "pid run/s.pid;\n"
        "error_log /var/log/s.log debug;\n"
        "access_log logs/access.log;\n",
        &err);
    ASSERT_NE(c, nullptr) << err;
    const CoreConf& cc = core_conf(*c);
    EXPECT_EQ(cc.worker_processes, 3);
    EXPECT_EQ(cc.worker_connections, 4096u);
    EXPECT_EQ(cc.worker_shutdown_timeout, 60000u);
    EXPECT_FALSE(cc.daemon);
    EXPECT_EQ(cc.pid, "/p/run/s.pid");
    EXPECT_EQ(cc.error_log, "/var/log/s.log");
    EXPECT_EQ(cc.error_log_level, LogLevel::debug);
    EXPECT_EQ(cc.access_log, "/p/logs/access.log");
}

TEST(CoreModule, AutoStderrAndWorkerConnectionsInMain)
{
    std::string err;
    auto c = load("worker_processes auto;\nworker_connections 10;\nerror_log stderr warn;", &err);
    ASSERT_NE(c, nullptr) << err;
    const CoreConf& cc = core_conf(*c);
    EXPECT_TRUE(cc.worker_processes_auto);
    EXPECT_EQ(cc.worker_processes, int(sysconf(_SC_NPROCESSORS_ONLN)));
    EXPECT_EQ(cc.worker_connections, 10u);
    EXPECT_EQ(cc.error_log, "stderr");
    EXPECT_EQ(cc.error_log_level, LogLevel::warn);
}

// --- loading from files -----------------------------------------------------------------------

TEST(CycleLoad, FileWithIncludesAndGlobalDirectives)
{
    TempDir t;
    t.write("conf/apps/live.conf", "application live { live on; }\n");
    t.write("conf/apps/vod.conf", "application vod { }\n");
    t.write("conf/strom.conf",
            "worker_processes 2;\n"
            "rtmp {\n"
            "    server {\n"
            "        listen 127.0.0.1:19350;\n"
            "        include apps/*.conf;\n"
            "    }\n"
            "}\n");
    std::string err;
    auto c = Cycle::load(kModules, "conf/strom.conf", t.path(), "daemon off; pid x.pid;", &err);
    ASSERT_NE(c, nullptr) << err;
    EXPECT_EQ(c->prefix(), t.path() + "/");
    EXPECT_EQ(c->conf_path(), t.path() + "/conf/strom.conf");
    EXPECT_EQ(c->conf_dir(), t.path() + "/conf");
    EXPECT_FALSE(core_conf(*c).daemon);
    EXPECT_EQ(core_conf(*c).pid, t.path() + "/x.pid");
    EXPECT_EQ(core_conf(*c).worker_processes, 2);
    ASSERT_EQ(c->proto("rtmp")->servers.size(), 1u);
    ASSERT_EQ(c->proto("rtmp")->servers[0]->apps.size(), 2u);
    EXPECT_EQ(c->proto("rtmp")->servers[0]->apps[0]->name, "live");
    EXPECT_EQ(c->proto("rtmp")->servers[0]->apps[0]->file, t.path() + "/conf/apps/live.conf");
    EXPECT_TRUE(*app_conf(*c, 0, "live").live);
}

TEST(CycleLoad, GlobalDirectiveErrorsSayCommandLine)
{
    TempDir t;
    t.write("strom.conf", "daemon on;\n");
    std::string err;
    EXPECT_EQ(Cycle::load(kModules, t.path() + "/strom.conf", t.path(), "daemon off;", &err),
              nullptr);
    EXPECT_EQ(err, "\"daemon\" directive is duplicate in " + t.path() + "/strom.conf:1");
    EXPECT_EQ(Cycle::load(kModules, t.path() + "/strom.conf", t.path(), "bogus;", &err), nullptr);
    EXPECT_EQ(err, "unknown directive \"bogus\" in command line");
    EXPECT_EQ(Cycle::load(kModules, t.path() + "/strom.conf", t.path(), "daemon off", &err),
              nullptr);
    EXPECT_EQ(err, "unexpected end of file, expecting \";\" or \"}\" in command line");
}

TEST(CycleLoad, MissingIncludeFromAFile)
{
    TempDir t;
    std::string conf = t.write("strom.conf", "daemon off;\n\ninclude x.conf;\n");
    std::string err;
    EXPECT_EQ(Cycle::load(kModules, conf, "/p/", "", &err), nullptr);
    EXPECT_EQ(err, "open() \"" + t.path() + "/x.conf\" failed (2: No such file or directory) in " +
                       conf + ":3");
}

TEST(CycleLoad, IncludesCanBeDisabled)
{
    std::string err;
    EXPECT_EQ(Cycle::load_string(kModules, "include /etc/passwd;", "/p/s.conf", "/p/", &err, false),
              nullptr);
    EXPECT_EQ(err, "unknown directive \"include\" in /p/s.conf:1");
}

TEST(CycleLoad, TwoCyclesInOneProcessAreIndependent)
{
    std::string err1, err2;
    auto c1 = load("daemon off;\nrtmp { chunk_size 1k; server { application a { } } }", &err1);
    auto c2 = load(
        "rtmp { chunk_size 2k; server { application a { live on; } application b { } } }", &err2);
    ASSERT_NE(c1, nullptr) << err1;
    ASSERT_NE(c2, nullptr) << err2;
    EXPECT_NE(c1->generation(), c2->generation());
    EXPECT_FALSE(core_conf(*c1).daemon);
    EXPECT_TRUE(core_conf(*c2).daemon);
    EXPECT_EQ(*app_conf(*c1, 0, "a").chunk_size, 1024u);
    EXPECT_EQ(*app_conf(*c2, 0, "a").chunk_size, 2048u);
    EXPECT_FALSE(*app_conf(*c1, 0, "a").live);
    EXPECT_TRUE(*app_conf(*c2, 0, "a").live);
    EXPECT_EQ(c1->proto("rtmp")->servers[0]->find_app("b"), nullptr);
    c2.reset();  // the old generation goes; the other stays intact
    EXPECT_EQ(*app_conf(*c1, 0, "a").chunk_size, 1024u);
}

TEST(CycleLoad, CyclesFromDifferentModuleListsFindTheirConfs)
{
    Module* const reversed[] = {&test_module, &core_module};
    std::string err;
    auto c1 = load("rtmp { chunk_size 1k; }", &err);
    ASSERT_NE(c1, nullptr) << err;
    auto c2 = Cycle::load_string(reversed, "rtmp { chunk_size 2k; }", "/p/x.conf", "/p/", &err);
    ASSERT_NE(c2, nullptr) << err;
    // test_module.index now says 0, which is core's slot in c1.
    EXPECT_EQ(*(*c1->proto("rtmp")).conf<TestConf>(test_module).chunk_size, 1024u);
    EXPECT_EQ(*(*c2->proto("rtmp")).conf<TestConf>(test_module).chunk_size, 2048u);
    EXPECT_EQ(core_conf(*c1).worker_connections, 1024u);
}
