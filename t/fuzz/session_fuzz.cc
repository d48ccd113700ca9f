// Fuzzes a whole server Session (chunk stream, control messages, commands, the live
// module) fed arbitrary bytes after a valid handshake. One configuration and event loop
// per process; per input a socketpair, a Session adopted on one end, our client-side
// Handshake on the other (C0C1, S0S1S2 read, C2), then the input written in pieces with
// the loop turned between them. Layout of an input:
//   [0]     flags: 1 the client sends a complex (digest) C1; 2 the client never reads and
//           the socket buffers are small, so the server's out-queue fills up
//   [1..4]  piece sizes, cycled (0: all that is left)
//   [5..]   the bytes the client sends after C2
// Checks after each input: every connection closed, every pool block back, no live
// stream left in the module's registry (leaks no sanitizer sees); crashes and UB abort.
// No t/lib helpers: the replayer links only this file and the library.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>

#include "core/connection.h"
#include "core/cycle.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "modules/live_module.h"
#include "rtmp/handshake.h"
#include "rtmp/session.h"

namespace strom {
std::span<Module* const> strom_modules();
}

using namespace strom;

namespace {

constexpr const char* kConf = R"(
rtmp {
    server {
        chunk_size 4096;
        max_message 1m;
        max_partial 4m;
        max_streams 8;
        out_queue 64;
        out_queue_bytes 256k;
        application live {
            live on;
        }
        application takeover {
            live on;
            publisher_takeover on;
            play_restart on;
        }
        application nogop {
            live on;
            gop_cache off;
            wait_key off;
            publish_notify on;
            interleave on;
        }
    }
}
)";

#define CHECK(x)                \
    do {                        \
        if (!(x)) std::abort(); \
    } while (0)

struct World {
    EventLoop loop;
    std::unique_ptr<Cycle> cycle;
    std::unique_ptr<ConnectionTable> table;
};

World& world()
{
    static World* w = [] {
        // Silent, unless STROM_FUZZ_LOG=debug|info|... asks (to see what a seed reaches).
        LogLevel level = LogLevel::emerg;
        if (const char* env = getenv("STROM_FUZZ_LOG"))
            (void)parse_log_level(env, strlen(env), &level);
        Log::set_level(level);
        signal(SIGPIPE, SIG_IGN);
        rtmp::Handshake::seed_random(0x5e55);
        auto* nw = new World;
        std::string err;
        nw->cycle = Cycle::load_string(strom_modules(), kConf, "fuzz.conf", "/tmp/", &err, false);
        CHECK(nw->cycle && !nw->cycle->proto("rtmp")->servers.empty());
        nw->table = std::make_unique<ConnectionTable>(nw->loop, 4);
        return nw;
    }();
    return *w;
}

// The client end of the pair.
struct Client {
    int fd = -1;
    bool reading = true;
    bool gone = false;  // the server closed: nothing more to write

    ~Client()
    {
        if (fd >= 0) ::close(fd);
    }
    // Reads and throws away what the server sent, or hands it to `hs`.
    void drain(rtmp::Handshake* hs)
    {
        if (!reading && !hs) return;
        uint8_t buf[16384];
        for (;;) {
            ssize_t n = ::read(fd, buf, sizeof(buf));
            if (n > 0) {
                if (hs && !hs->done()) {
                    size_t used = 0;
                    CHECK(hs->feed(buf, size_t(n), &used) != Rc::error);
                }
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) gone = true;
            return;
        }
    }
    // Writes all of p[0..n) unless the server goes away, turning the loop when the socket
    // is full (a bounded number of times: a server that stopped reading is fine too).
    void write_all(EventLoop& loop, const uint8_t* p, size_t n)
    {
        int stalls = 0;
        while (n > 0 && !gone) {
            ssize_t k = ::write(fd, p, n);
            if (k > 0) {
                p += k;
                n -= size_t(k);
                continue;
            }
            if (k < 0 && errno == EINTR) continue;
            if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && ++stalls < 8) {
                (void)loop.run_once(0);
                drain(nullptr);
                continue;
            }
            gone = true;
        }
    }
};

void turn(World& w, Client& c, int n)
{
    for (int i = 0; i < n; ++i) {
        (void)w.loop.run_once(0);
        c.drain(nullptr);
    }
}

void run(const uint8_t* data, size_t size)
{
    World& w = world();
    int fds[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    Client c;
    c.fd = fds[0];
    if (data[0] & 2) {
        // A client that never reads: small socket buffers, so the server's out-queue
        // fills within one input and the "does not fit" paths run.
        int small = 4096;
        setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    }
    sockaddr_storage ss{};
    ss.ss_family = AF_UNIX;
    ServerBlock* srv = w.cycle->proto("rtmp")->servers[0].get();
    Connection* conn =
        w.table->adopt(fds[1], reinterpret_cast<sockaddr*>(&ss), sizeof(sa_family_t), srv);
    CHECK(conn);
    conn->set_handler(new rtmp::Session(*conn, srv));

    // A valid handshake: it must complete, whatever the input.
    rtmp::Handshake hs(rtmp::Handshake::Role::client, data[0] & 1);
    for (int i = 0; i < 50 && !hs.done(); ++i) {
        auto out = hs.output();
        c.write_all(w.loop, out.data(), out.size());
        hs.sent(out.size());
        (void)w.loop.run_once(0);
        c.drain(&hs);
    }
    CHECK(hs.done());
    auto c2 = hs.output();
    c.write_all(w.loop, c2.data(), c2.size());
    hs.sent(c2.size());
    c.reading = !(data[0] & 2);

    const uint8_t* sizes = data + 1;
    size_t pos = 5, step = 0;
    while (pos < size && !c.gone) {
        size_t want = sizes[step++ % 4];
        size_t n = want == 0 || want > size - pos ? size - pos : want;
        c.write_all(w.loop, data + pos, n);
        pos += n;
        turn(w, c, 2);
    }
    turn(w, c, 3);
    ::close(c.fd);  // the client leaves; the server reads EOF
    c.fd = -1;
    (void)w.loop.run_once(0);
    w.table->close_all("fuzz input done");
    w.loop.reap();

    CHECK(w.table->active() == 0);
    CHECK(w.loop.pool().outstanding() == 0);
    CHECK(mod::stream_registry(*w.cycle).stream_count() == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 5) return 0;
    run(data, size);
    return 0;
}
