// The notify module and the HTTP client under it: form fields (encoding, no injection),
// Location renames, URL parsing, the client against a small HTTP server on a thread of
// the test (Content-Length, chunked, timeout, refused, oversized), and the module over
// socketpair sessions: allow, reject, rename, fail closed / open, done calls, on_update.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/http_client.h"
#include "core/http_parser.h"
#include "modules/live_module.h"
#include "modules/notify_form.h"
#include "modules/notify_module.h"
#include "modules/relay_target.h"
#include "t/lib/rtmp_test_peer.h"

using namespace strom;
using namespace strom::test;
using rtmp::AmfValue;

namespace {

using Form = std::map<std::string, std::string>;

Form parse_form(std::string_view s)
{
    Form f;
    while (!s.empty()) {
        size_t amp = s.find('&');
        std::string_view pair = s.substr(0, amp);
        s = amp == std::string_view::npos ? std::string_view() : s.substr(amp + 1);
        size_t eq = pair.find('=');
        f[form_decode(pair.substr(0, eq))] =
            eq == std::string_view::npos ? "" : form_decode(pair.substr(eq + 1));
    }
    return f;
}

// A tiny HTTP server on its own thread: answers every complete request with `answer`
// (nothing when it is empty: a slow service) and keeps the requests it saw.
class FakeHttp {
public:
    FakeHttp()
    {
        lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        (void)bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
        (void)listen(lfd_, 64);
        socklen_t len = sizeof(a);
        getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        th_ = std::thread([this] { run(); });
    }
    ~FakeHttp()
    {
        stop_ = true;
        th_.join();
        for (auto& c : conns_) ::close(c.fd);
        ::close(lfd_);
    }
    int port() const { return port_; }
    std::string url(std::string_view path) const
    {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
    }
    void set_answer(std::string a)
    {
        std::lock_guard<std::mutex> g(mu_);
        answer_ = std::move(a);
    }
    std::vector<std::string> requests()
    {
        std::lock_guard<std::mutex> g(mu_);
        return requests_;
    }
    size_t count()
    {
        std::lock_guard<std::mutex> g(mu_);
        return requests_.size();
    }
    // The form of request i: the body of a POST, the query of a GET.
    Form form(size_t i)
    {
        std::string r = requests().at(i);
        size_t hend = r.find("\r\n\r\n");
        if (r.starts_with("GET ")) {
            std::string line = r.substr(0, r.find("\r\n"));
            size_t q = line.find('?');
            size_t sp = line.rfind(' ');
            return q == std::string::npos ? Form() : parse_form(line.substr(q + 1, sp - q - 1));
        }
        return parse_form(r.substr(hend + 4));
    }

private:
    struct Conn {
        int fd;
        std::string in;
        bool answered = false;
    };
    static size_t content_length(const std::string& head)
    {
        std::string low;
        for (char ch : head) low += char(tolower(static_cast<unsigned char>(ch)));
        size_t p = low.find("content-length:");
        return p == std::string::npos ? 0 : size_t(atol(low.c_str() + p + 15));
    }
    void run()
    {
        while (!stop_) {
            std::vector<pollfd> pf{{lfd_, POLLIN, 0}};
            for (auto& c : conns_) pf.push_back({c.fd, POLLIN, 0});
            poll(pf.data(), pf.size(), 5);
            int fd;
            while ((fd = accept4(lfd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0)
                conns_.push_back({fd, {}});
            for (auto& c : conns_) serve(c);
        }
    }
    void serve(Conn& c)
    {
        char buf[4096];
        ssize_t n = recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) c.in.append(buf, size_t(n));
        size_t hend = c.in.find("\r\n\r\n");
        if (c.answered || hend == std::string::npos) return;
        if (c.in.size() < hend + 4 + content_length(c.in.substr(0, hend))) return;
        c.answered = true;
        std::lock_guard<std::mutex> g(mu_);
        requests_.push_back(c.in);
        if (!answer_.empty()) {
            (void)send(c.fd, answer_.data(), answer_.size(), MSG_NOSIGNAL);
            shutdown(c.fd, SHUT_WR);
        }
    }

    int lfd_ = -1;
    int port_ = 0;
    std::thread th_;
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::string answer_ = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    std::vector<std::string> requests_;
    std::vector<Conn> conns_;
};

const char* const kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const char* const kForbidden = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";

}  // namespace

// --- form and URL helpers -----------------------------------------------------------------------

TEST(NotifyForm, EncodesEveryValueSoNothingCanAddAField)
{
    mod::NotifyForm f;
    f.add("call", "publish");
    f.add("name", "a&call=play\r\nX: y");
    f.add("flashver", "FMLE/3.0 (x; y)");
    EXPECT_EQ(f.str(),
              "call=publish&name=a%26call%3Dplay%0D%0AX%3A+y&flashver=FMLE%2F3.0+%28x%3B+y%29");
    Form got = parse_form(f.str());
    EXPECT_EQ(got.size(), 3u);
    EXPECT_EQ(got["name"], "a&call=play\r\nX: y");
}

TEST(NotifyForm, ClientArgsAreReencodedAndCannotSpoofServerFields)
{
    mod::NotifyForm f;
    f.add("call", "publish");
    f.add("addr", "10.0.0.1");
    f.add_args("token=a%20b&addr=1.2.3.4&call=x&bad=%zz&raw=%0d%0a&&=v&flag");
    Form got = parse_form(f.str());
    EXPECT_EQ(got["call"], "publish");
    EXPECT_EQ(got["addr"], "10.0.0.1");
    EXPECT_EQ(got["token"], "a b");
    EXPECT_EQ(got["bad"], "%zz");
    EXPECT_EQ(got["raw"], "\r\n");
    EXPECT_EQ(got.count("flag"), 1u);
    EXPECT_EQ(got.count(""), 0u);
    EXPECT_EQ(f.str().find('\r'), std::string::npos);
}

TEST(NotifyForm, LocationNamesTheNewStream)
{
    std::string n, a;
    EXPECT_TRUE(mod::notify_location_name("other", 256, &n, &a));
    EXPECT_EQ(n, "other");
    EXPECT_TRUE(mod::notify_location_name("other?k=1", 256, &n, &a));
    EXPECT_EQ(n, "other");
    EXPECT_EQ(a, "k=1");
    EXPECT_TRUE(mod::notify_location_name("rtmp://h:1935/app/cam2?x=y", 256, &n, &a));
    EXPECT_EQ(n, "cam2");
    EXPECT_EQ(a, "x=y");
    EXPECT_FALSE(mod::notify_location_name("", 256, &n, &a));
    EXPECT_FALSE(mod::notify_location_name("a\r\nb", 256, &n, &a));
    EXPECT_FALSE(mod::notify_location_name(std::string(300, 'x'), 256, &n, &a));
}

TEST(RelayUrl, SplitsHostPortAppAndName)
{
    mod::RelayTarget t;
    const char* why = "";
    ASSERT_TRUE(mod::parse_relay_url("rtmp://127.0.0.1:1936/live/y", 256, &t, &why)) << why;
    EXPECT_EQ(t.host, "127.0.0.1");
    EXPECT_EQ(t.port, 1936);
    EXPECT_EQ(t.app, "live");
    EXPECT_EQ(t.name, "y");
    EXPECT_EQ(t.args, "");
    EXPECT_EQ(t.url(), "rtmp://127.0.0.1:1936/live/y");

    ASSERT_TRUE(mod::parse_relay_url("RTMP://Origin.example:1935/live/cam?token=a/b&x=1", 256, &t,
                                     &why)) << why;
    EXPECT_EQ(t.host, "Origin.example");
    EXPECT_EQ(t.port, 1935);
    EXPECT_EQ(t.name, "cam");
    EXPECT_EQ(t.args, "token=a/b&x=1");
    EXPECT_EQ(t.url(), "rtmp://Origin.example:1935/live/cam") << "no args (tokens) in logs";
    rtmp::ClientParams p = t.client_params(false);
    EXPECT_EQ(p.app, "live");
    EXPECT_EQ(p.tc_url, "rtmp://Origin.example/live");
    EXPECT_EQ(p.stream, "cam?token=a/b&x=1");
    EXPECT_FALSE(p.publish);
    EXPECT_TRUE(t.client_params(true).publish);

    // Everything between the host and the last segment is the app (nginx-rtmp).
    ASSERT_TRUE(mod::parse_relay_url("rtmp://[::1]:1937/app/inst/name", 256, &t, &why)) << why;
    EXPECT_EQ(t.host, "::1");
    EXPECT_EQ(t.port, 1937);
    EXPECT_EQ(t.app, "app/inst");
    EXPECT_EQ(t.name, "name");
    EXPECT_EQ(t.url(), "rtmp://[::1]:1937/app/inst/name");
    EXPECT_EQ(t.client_params(true).tc_url, "rtmp://[::1]:1937/app/inst");

    ASSERT_TRUE(mod::parse_relay_url("rtmp://localhost/live/x", 256, &t, &why)) << why;
    EXPECT_EQ(t.port, 1935);
}

TEST(RelayUrl, RefusesWhatIsNotAStreamUrl)
{
    mod::RelayTarget t;
    for (const char* bad : {"renamed", "http://h/live/a", "rtmp://", "rtmp://host", "rtmp://host/",
                            "rtmp://host/live", "rtmp://host/live/", "rtmp://host/live/?a=1",
                            "rtmp:///live/a", "rtmp://host:0/live/a", "rtmp://host:65536/live/a",
                            "rtmp://host:99999999999/live/a", "rtmp://host:/live/a",
                            "rtmp://host:x/live/a", "rtmp://user@host/live/a", "rtmp://[::1/live/a",
                            "rtmp://[::1]x/live/a", "rtmp://[zz]/live/a", "rtmp://host//a",
                            "rtmp://host/a//b/c", "rtmp://host/li ve/a", "rtmp://h\r\nX: 1/live/a",
                            "rtmp://host/live/a\r\nX: 1"}) {
        const char* why = nullptr;
        EXPECT_FALSE(mod::parse_relay_url(bad, 256, &t, &why)) << bad;
        EXPECT_NE(why, nullptr) << bad;
    }
    const char* why = nullptr;
    EXPECT_FALSE(mod::parse_relay_url("rtmp://h/live/" + std::string(300, 'x'), 256, &t, &why));
    EXPECT_TRUE(mod::is_rtmp_url("Rtmp://h/a/b"));
    EXPECT_FALSE(mod::is_rtmp_url("rtmps://h/a/b"));
}

TEST(HttpUrl, ParsesPlainHttpOnly)
{
    HttpUrl u;
    std::string err;
    ASSERT_TRUE(parse_http_url("http://127.0.0.1:8080/auth?k=v", &u, &err)) << err;
    EXPECT_EQ(u.host, "127.0.0.1:8080");
    EXPECT_EQ(u.path, "/auth?k=v");
    EXPECT_EQ(u.addr.port(), 8080);
    ASSERT_TRUE(parse_http_url("HTTP://127.0.0.1", &u, &err)) << err;
    EXPECT_EQ(u.path, "/");
    EXPECT_EQ(u.addr.port(), 80);
    ASSERT_TRUE(parse_http_url("http://[::1]:81?x", &u, &err)) << err;
    EXPECT_EQ(u.path, "/?x");
    EXPECT_FALSE(parse_http_url("https://127.0.0.1/", &u, &err));
    EXPECT_FALSE(parse_http_url("http://user@127.0.0.1/", &u, &err));
    EXPECT_FALSE(parse_http_url("http:///x", &u, &err));
    EXPECT_FALSE(parse_http_url("http://127.0.0.1/a b", &u, &err));
    EXPECT_FALSE(parse_http_url("http://127.0.0.1:99999/", &u, &err));
}

TEST(HttpUrl, RequestHasHostLengthAndClose)
{
    HttpUrl u;
    std::string err;
    ASSERT_TRUE(parse_http_url("http://127.0.0.1:81/cb?k=v", &u, &err));
    EXPECT_EQ(http_request("POST", u, {}, "application/x-www-form-urlencoded", "a=1"),
              "POST /cb?k=v HTTP/1.1\r\nHost: 127.0.0.1:81\r\nUser-Agent: strom\r\n"
              "Connection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n"
              "Content-Length: 3\r\n\r\na=1");
    EXPECT_EQ(http_request("GET", u, "a=1", {}, {}),
              "GET /cb?k=v&a=1 HTTP/1.1\r\nHost: 127.0.0.1:81\r\nUser-Agent: strom\r\n"
              "Connection: close\r\n\r\n");
}

// --- the HTTP client on the event loop ---------------------------------------------------------

namespace {

struct CallProbe {
    int calls = 0;
    HttpResult r;
    static void done(void* arg, const HttpResult& r)
    {
        auto* p = static_cast<CallProbe*>(arg);
        ++p->calls;
        p->r = r;
    }
};

class HttpClientTest : public ::testing::Test {
protected:
    void TearDown() override
    {
        table.close_all("test end");
        for (int i = 0; i < 3; ++i) (void)loop.run_once(1);
        EXPECT_EQ(table.active(), 0u);
        EXPECT_EQ(loop.small_pool().outstanding(), 0u);
        EXPECT_EQ(loop.timer_count(), 0u);
    }
    HttpCall* start(const std::string& url_text, CallProbe* p, HttpCallLimits lim = {})
    {
        HttpUrl u;
        std::string err;
        EXPECT_TRUE(parse_http_url(url_text, &u, &err)) << err;
        const char* e = "";
        HttpCall* c = HttpCall::start(table, u, http_request("GET", u, "x=1", {}, {}), lim,
                                      CallProbe::done, p, &e);
        EXPECT_NE(c, nullptr) << e;
        return c;
    }
    bool wait(CallProbe& p, int ms = 3000)
    {
        for (int i = 0; i < ms && p.calls == 0; ++i) (void)loop.run_once(1);
        return p.calls == 1;
    }

    EventLoop loop;
    ConnectionTable table{loop, 16};
    FakeHttp http;
};

}  // namespace

TEST_F(HttpClientTest, ContentLengthAnswer)
{
    http.set_answer("HTTP/1.1 302 Found\r\nLocation: cam2\r\nContent-Length: 5\r\n\r\nhello");
    CallProbe p;
    start(http.url("/a"), &p);
    ASSERT_TRUE(wait(p));
    EXPECT_EQ(p.r.rc, Rc::ok) << p.r.error;
    EXPECT_EQ(p.r.status, 302);
    EXPECT_EQ(p.r.location, "cam2");
    ASSERT_EQ(http.count(), 1u);
    EXPECT_TRUE(http.requests()[0].starts_with("GET /a?x=1 HTTP/1.1\r\n"));
}

TEST_F(HttpClientTest, ChunkedAnswer)
{
    http.set_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    CallProbe p;
    start(http.url("/"), &p);
    ASSERT_TRUE(wait(p));
    EXPECT_EQ(p.r.rc, Rc::ok) << p.r.error;
    EXPECT_EQ(p.r.status, 200);
}

TEST_F(HttpClientTest, BodyUntilCloseAnswer)
{
    http.set_answer("HTTP/1.0 204 No Content\r\n\r\n");
    CallProbe p;
    start(http.url("/"), &p);
    ASSERT_TRUE(wait(p));
    EXPECT_EQ(p.r.rc, Rc::ok) << p.r.error;
    EXPECT_EQ(p.r.status, 204);
}

TEST_F(HttpClientTest, OversizedBodyFails)
{
    http.set_answer("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'x'));
    CallProbe p;
    HttpCallLimits lim;
    lim.max_body = 1024;
    start(http.url("/"), &p, lim);
    ASSERT_TRUE(wait(p));
    EXPECT_EQ(p.r.rc, Rc::error);
}

TEST_F(HttpClientTest, SlowServerTimesOut)
{
    http.set_answer("");
    CallProbe p;
    HttpCallLimits lim;
    lim.timeout_ms = 100;
    uint64_t t0 = loop.now();
    start(http.url("/"), &p, lim);
    ASSERT_TRUE(wait(p));
    EXPECT_EQ(p.r.rc, Rc::error);
    EXPECT_STREQ(p.r.error, "timed out");
    EXPECT_GE(loop.now() - t0, 100u);
}

TEST_F(HttpClientTest, RefusedConnectionFails)
{
    int port;
    {
        // A port that was just free: nobody listens there now.
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
        socklen_t len = sizeof(a);
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
        ::close(fd);
    }
    CallProbe p;
    HttpUrl u;
    std::string err;
    ASSERT_TRUE(parse_http_url("http://127.0.0.1:" + std::to_string(port) + "/", &u, &err));
    const char* e = "";
    HttpCall* c = HttpCall::start(table, u, "GET / HTTP/1.1\r\n\r\n", {}, CallProbe::done, &p, &e);
    if (c) {
        ASSERT_TRUE(wait(p));
        EXPECT_EQ(p.r.rc, Rc::error);
    } else {
        EXPECT_STREQ(e, "connection refused");
    }
}

TEST_F(HttpClientTest, CancelledCallNeverCallsBack)
{
    http.set_answer("");
    CallProbe p;
    HttpCall* c = start(http.url("/"), &p);
    for (int i = 0; i < 20; ++i) (void)loop.run_once(1);
    c->cancel();
    for (int i = 0; i < 20; ++i) (void)loop.run_once(1);
    EXPECT_EQ(p.calls, 0);
    EXPECT_EQ(table.active(), 0u);
}

// --- the module over sessions -----------------------------------------------------------------

namespace {

class Notify : public ::testing::Test {
protected:
    void SetUp() override {}
    void TearDown() override
    {
        if (!srv) return;
        srv->shutdown();
        EXPECT_EQ(srv->outstanding(), 0u);
        EXPECT_EQ(mod::stream_registry(srv->cycle()).stream_count(), 0u);
    }
    // A server whose application "live" has `directives` (URLs name the fake server).
    void start(const std::string& directives)
    {
        std::string conf = "rtmp { server { application live { live on; " + directives + " } } }";
        srv = std::make_unique<TestServer>(conf);
        ASSERT_TRUE(srv->ok()) << srv->error();
    }
    std::string url(std::string_view path) { return http.url(path); }
    bool wait_requests(size_t n)
    {
        return srv->run_until([&] { return http.count() >= n; }, 3000);
    }

    FakeHttp http;
    std::unique_ptr<TestServer> srv;
};

}  // namespace

TEST_F(Notify, PublishAllowedSendsNginxRtmpFields)
{
    start("on_publish " + url("/pub") + ";");
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv->open(p, &msid));
    EXPECT_EQ(srv->publish(p, msid, "cam&1?token=t%20x&call=evil"), "NetStream.Publish.Start");
    ASSERT_EQ(http.count(), 1u);
    std::string req = http.requests()[0];
    EXPECT_TRUE(req.starts_with("POST /pub HTTP/1.1\r\n"));
    EXPECT_NE(req.find("Content-Type: application/x-www-form-urlencoded\r\n"), std::string::npos);
    Form f = http.form(0);
    EXPECT_EQ(f["call"], "publish");
    EXPECT_EQ(f["app"], "live");
    EXPECT_EQ(f["name"], "cam&1");
    EXPECT_EQ(f["type"], "live");
    EXPECT_EQ(f["addr"], "unix:") << "a socketpair has no IP address";
    EXPECT_EQ(f["flashver"], "FMLE/3.0 (compatible; strom-test)");
    EXPECT_EQ(f["tcurl"], "rtmp://127.0.0.1/live");
    EXPECT_EQ(f["token"], "t x");
    EXPECT_FALSE(f["clientid"].empty());
}

TEST_F(Notify, PublishRejectedByAnswer)
{
    http.set_answer(kForbidden);
    start("on_publish " + url("/pub") + ";");
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv->open(p, &msid));
    EXPECT_EQ(srv->publish(p, msid, "cam"), "NetStream.Publish.Denied");
    EXPECT_TRUE(srv->run_until([&] { return p.eof(); }));
}

TEST_F(Notify, RedirectRenamesTheStream)
{
    http.set_answer("HTTP/1.1 302 Found\r\nLocation: renamed\r\nContent-Length: 0\r\n\r\n");
    start("on_publish " + url("/pub") + ";");
    RtmpTestPeer p;
    uint32_t msid = 0;
    rtmp::Session* s = srv->open(p, &msid);
    ASSERT_TRUE(s);
    EXPECT_EQ(srv->publish(p, msid, "cam"), "NetStream.Publish.Start");
    ASSERT_NE(s->stream(msid), nullptr);
    EXPECT_EQ(s->stream(msid)->name, "renamed");
    // A player of the new name finds the stream.
    http.set_answer(kOk);
    RtmpTestPeer q;
    uint32_t qs = 0;
    ASSERT_TRUE(srv->open(q, &qs));
    EXPECT_EQ(srv->play(q, qs, "renamed"), "NetStream.Play.Start");
}

TEST_F(Notify, RtmpLocationRenamesWhenRelayRedirectIsOff)
{
    http.set_answer("HTTP/1.1 302 Found\r\nLocation: rtmp://127.0.0.1:1/live/other?k=v\r\n"
                    "Content-Length: 0\r\n\r\n");
    start("on_publish " + url("/pub") + ";");
    RtmpTestPeer p;
    uint32_t msid = 0;
    rtmp::Session* s = srv->open(p, &msid);
    ASSERT_TRUE(s);
    EXPECT_EQ(srv->publish(p, msid, "cam"), "NetStream.Publish.Start");
    ASSERT_NE(s->stream(msid), nullptr);
    EXPECT_EQ(s->stream(msid)->name, "other");
    EXPECT_EQ(s->stream(msid)->args, "k=v");
}

TEST_F(Notify, RelayRedirectRejectsAnUnusableRtmpLocation)
{
    http.set_answer("HTTP/1.1 302 Found\r\nLocation: rtmp://host-only\r\nContent-Length: 0\r\n\r\n");
    start("on_publish " + url("/pub") + "; notify_relay_redirect on;");
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv->open(p, &msid));
    EXPECT_EQ(srv->publish(p, msid, "cam"), "NetStream.Publish.Denied");
}

TEST_F(Notify, RelayRedirectKeepsTheLocalNameAndAFailedPushLeavesThePublisher)
{
    // Outside a worker no push can start: the publisher must not notice.
    http.set_answer("HTTP/1.1 302 Found\r\nLocation: rtmp://127.0.0.1:1/live/other\r\n"
                    "Content-Length: 0\r\n\r\n");
    start("on_publish " + url("/pub") + "; notify_relay_redirect on;");
    RtmpTestPeer p;
    uint32_t msid = 0;
    rtmp::Session* s = srv->open(p, &msid);
    ASSERT_TRUE(s);
    EXPECT_EQ(srv->publish(p, msid, "cam"), "NetStream.Publish.Start");
    ASSERT_NE(s->stream(msid), nullptr);
    EXPECT_EQ(s->stream(msid)->name, "cam");
    http.set_answer(kOk);
    RtmpTestPeer q;
    uint32_t qs = 0;
    ASSERT_TRUE(srv->open(q, &qs));
    EXPECT_EQ(srv->play(q, qs, "cam"), "NetStream.Play.Start");
}

TEST_F(Notify, RelayRedirectIsAFlag)
{
    TestServer bad("rtmp { server { application live { notify_relay_redirect maybe; } } }");
    EXPECT_FALSE(bad.ok());
    EXPECT_NE(bad.error().find("notify_relay_redirect"), std::string::npos) << bad.error();
}

TEST_F(Notify, SlowServiceFailsClosed)
{
    http.set_answer("");
    start("on_play " + url("/play") + "; notify_timeout 200ms;");
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv->open(p, &msid));
    p.play(msid, "cam");
    ASSERT_TRUE(srv->run_until([&] { return p.find_status("NetStream.Play.Failed"); }, 3000));
    EXPECT_EQ(p.find_status("NetStream.Play.Start"), nullptr);
    EXPECT_TRUE(srv->run_until([&] { return p.eof(); }));
}

TEST_F(Notify, SlowServiceFailsOpen)
{
    http.set_answer("");
    start("on_publish " + url("/pub") + "; notify_timeout 200ms; notify_fail open;");
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv->open(p, &msid));
    p.publish(msid, "cam");
    ASSERT_TRUE(srv->run_until([&] { return p.find_status("NetStream.Publish.Start"); }, 3000));
}

TEST_F(Notify, OtherSessionsGoOnWhileACallIsInFlight)
{
    http.set_answer("");
    start("on_connect " + url("/c") + "; notify_timeout 2s;");
    RtmpTestPeer slow;
    srv->adopt(slow);
    ASSERT_TRUE(srv->handshake(slow));
    slow.connect("live");
    ASSERT_TRUE(wait_requests(1));
    // A second client, in the same loop, is answered while the first one waits.
    http.set_answer(kOk);
    RtmpTestPeer fast;
    srv->adopt(fast);
    ASSERT_TRUE(srv->handshake(fast));
    fast.connect("live", 1);
    ASSERT_TRUE(srv->run_until([&] { return fast.find_result(1); }, 3000));
    EXPECT_EQ(fast.find_result(1)->name(), "_result");
    EXPECT_EQ(slow.find_result(1), nullptr);
    ASSERT_TRUE(srv->run_until([&] { return slow.find_result(1); }, 3000));
    EXPECT_EQ(slow.find_result(1)->name(), "_error");
}

TEST_F(Notify, ConnectFieldsAreEncoded)
{
    start("on_connect " + url("/c") + "; notify_method get;");
    RtmpTestPeer p;
    srv->adopt(p);
    ASSERT_TRUE(srv->handshake(p));
    AmfValue obj = AmfValue::object();
    obj.set("app", AmfValue("live?k=v"));
    obj.set("flashVer", AmfValue("LNX\r\nX-Evil: 1&call=play"));
    obj.set("pageUrl", AmfValue("http://x/?a=b&c=d"));
    obj.set("tcUrl", AmfValue("rtmp://127.0.0.1/live"));
    p.command(0, {"connect", 1.0, obj});
    ASSERT_TRUE(srv->run_until([&] { return p.find_result(1); }, 3000));
    EXPECT_EQ(p.find_result(1)->name(), "_result");
    ASSERT_EQ(http.count(), 1u);
    std::string req = http.requests()[0];
    EXPECT_EQ(req.find("X-Evil"), req.find("X-Evil%")) << req;
    EXPECT_EQ(req.find("\r\n"), req.find(" HTTP/1.1\r\n") + 9) << "one request line";
    Form f = http.form(0);
    EXPECT_EQ(f["call"], "connect");
    EXPECT_EQ(f["flashver"], "LNX\r\nX-Evil: 1&call=play");
    EXPECT_EQ(f["pageurl"], "http://x/?a=b&c=d");
    EXPECT_EQ(f["k"], "v");
}

TEST_F(Notify, DonesFireOnlyForStreamsThatRan)
{
    start("on_publish " + url("/pub") + "; on_publish_done " + url("/pubdone") + "; on_done " +
          url("/done") + "; on_play_done " + url("/playdone") + ";");
    RtmpTestPeer a;
    uint32_t am = 0;
    ASSERT_TRUE(srv->open(a, &am));
    EXPECT_EQ(srv->publish(a, am, "cam"), "NetStream.Publish.Start");
    // A duplicate publisher, refused by live: no on_publish is sent for it (the stream
    // is taken), and so no publish_done either (issue 6, item 6).
    RtmpTestPeer b;
    uint32_t bm = 0;
    ASSERT_TRUE(srv->open(b, &bm));
    EXPECT_EQ(srv->publish(b, bm, "cam"), "NetStream.Publish.BadName");
    b.close();
    srv->settle(20);
    ASSERT_EQ(http.count(), 1u);
    a.close();
    ASSERT_TRUE(wait_requests(3));
    srv->settle(20);
    auto reqs = http.requests();
    ASSERT_EQ(reqs.size(), 3u);
    std::map<std::string, int> calls;
    for (size_t i = 0; i < reqs.size(); ++i) calls[http.form(i)["call"]]++;
    EXPECT_EQ(calls["publish"], 1);
    EXPECT_EQ(calls["publish_done"], 1);
    EXPECT_EQ(calls["done"], 1);
}

TEST_F(Notify, UpdateRejectionEndsTheSession)
{
    start("on_update " + url("/upd") + "; notify_update_timeout 1s;");
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv->open(p, &msid));
    EXPECT_EQ(srv->publish(p, msid, "cam"), "NetStream.Publish.Start");
    ASSERT_TRUE(wait_requests(1));
    EXPECT_EQ(http.form(0)["call"], "update_publish");
    EXPECT_FALSE(p.eof());
    http.set_answer(kForbidden);
    ASSERT_TRUE(srv->run_until([&] { return p.eof(); }, 4000));
    EXPECT_EQ(http.count(), 2u);
}

TEST_F(Notify, ShutdownWhileSuspendedCancelsTheCall)
{
    http.set_answer("");
    start("on_publish " + url("/pub") + "; notify_timeout 5s;");
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv->open(p, &msid));
    p.publish(msid, "cam");
    ASSERT_TRUE(wait_requests(1));
    // The session goes while its chain waits: the call is cancelled, never calls back
    // into the dead session (ASan would tell), and its connection and timers go too.
    srv->shutdown();
    EXPECT_EQ(srv->loop().timer_count(), 0u);
}

TEST_F(Notify, PlayAllowedWithGetFields)
{
    start("on_play " + url("/play?static=1") + "; notify_method get;");
    RtmpTestPeer pub;
    uint32_t pm = 0;
    ASSERT_TRUE(srv->open(pub, &pm));
    EXPECT_EQ(srv->publish(pub, pm, "cam"), "NetStream.Publish.Start");
    RtmpTestPeer p;
    uint32_t msid = 0;
    ASSERT_TRUE(srv->open(p, &msid));
    EXPECT_EQ(srv->play(p, msid, "cam?x=1"), "NetStream.Play.Start");
    ASSERT_EQ(http.count(), 1u);
    EXPECT_TRUE(http.requests()[0].starts_with("GET /play?static=1&call=play&"))
        << http.requests()[0];
    Form f = http.form(0);
    EXPECT_EQ(f["name"], "cam");
    EXPECT_EQ(f["start"], "-2");
    EXPECT_EQ(f["duration"], "-1");
    EXPECT_EQ(f["reset"], "1");
    EXPECT_EQ(f["x"], "1");
}

TEST_F(Notify, BadUrlIsAConfigError)
{
    TestServer bad("rtmp { server { application live { on_publish https://x/; } } }");
    EXPECT_FALSE(bad.ok());
    EXPECT_NE(bad.error().find("on_publish"), std::string::npos) << bad.error();
}

TEST_F(Notify, CacheRemembersAllowAnswers)
{
    start("on_play " + url("/play") + "; notify_cache 10s;");
    RtmpTestPeer pub;
    uint32_t pm = 0;
    ASSERT_TRUE(srv->open(pub, &pm));
    EXPECT_EQ(srv->publish(pub, pm, "cam"), "NetStream.Publish.Start");
    RtmpTestPeer a, b, c;
    uint32_t am = 0, bm = 0, cm = 0;
    ASSERT_TRUE(srv->open(a, &am));
    ASSERT_TRUE(srv->open(b, &bm));
    ASSERT_TRUE(srv->open(c, &cm));
    EXPECT_EQ(srv->play(a, am, "cam?k=1"), "NetStream.Play.Start");
    EXPECT_EQ(srv->play(b, bm, "cam?k=1"), "NetStream.Play.Start");
    EXPECT_EQ(http.count(), 1u) << "the second play is answered from the cache";
    // Other args are another question; a refusal is never cached.
    http.set_answer(kForbidden);
    EXPECT_EQ(srv->play(c, cm, "cam?k=2"), "NetStream.Play.Failed");
    EXPECT_EQ(http.count(), 2u);
}

TEST_F(Notify, ShutdownWithRunningStreamsLeavesNothingBehind)
{
    start("on_publish_done " + url("/pd") + "; on_play_done " + url("/yd") + "; on_done " +
          url("/d") + ";");
    RtmpTestPeer pub, player;
    uint32_t pm = 0, ym = 0;
    ASSERT_TRUE(srv->open(pub, &pm));
    ASSERT_TRUE(srv->open(player, &ym));
    EXPECT_EQ(srv->publish(pub, pm, "cam"), "NetStream.Publish.Start");
    EXPECT_EQ(srv->play(player, ym, "cam"), "NetStream.Play.Start");
    // The done calls made while the table closes everything must not outlive it.
    srv->shutdown();
    EXPECT_EQ(srv->loop().timer_count(), 0u);
}
