// The limit module: how many clients one worker takes, in all and per server block, and
// how many one client address may hold at once, whatever the protocol (RTMP sessions and
// HTTP connections are counted together). The defaults protect a public server:
//   max_connections N|auto;     rtmp{} / http{}: per worker, every client of the worker
//                               (RTMP and HTTP together) when one of that protocol comes
//                               (default auto: 3/4 of worker_connections, so a flood of
//                               clients always leaves a quarter of the slots to what the
//                               worker opens or accepts itself: pulls between workers,
//                               relays, notify calls)
//                               server{}: per worker, that server's clients (default 0 =
//                               none of its own); 0 = no limit at either level
//   max_connections_per_ip N;   rtmp{}, http{} or a server{} of either, per worker
//                               (default 64; 0 = off): the address's clients of both
//                               protocols, against the limit of the block it came in by
// Counted when a client starts (RTMP: after a PROXY header, the real client; HTTP: when
// accepted), before anything it sends, so clients that never finish a handshake or a
// request count too. A refused RTMP client is closed at once; a refused HTTP client's
// request is answered 503 (nginx's limit_conn status) and the connection closes. The log
// says so once per refusal, and at most once a second per address. Internal sessions
// (other workers pulling a stream) are never counted.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "core/cidr.h"
#include "core/module.h"
#include "rtmp/hooks.h"

namespace strom {
struct ServerBlock;
}

namespace strom::http {
class HttpSession;
}

namespace strom::mod {

struct LimitConf : ConfBase {
    // kAuto: worker_connections minus a reserve (kept_slots()).
    static constexpr uint32_t kAuto = UINT32_MAX;
    std::optional<uint32_t> max_connections;
    std::optional<uint32_t> max_connections_per_ip;
};

struct IpAddrHash {
    size_t operator()(const IpAddr& a) const;
};

// One client connection of any protocol, as the limits see it when it starts.
struct LimitClient {
    uint64_t id = 0;  // the connection id (of log lines), unique in the worker
    const sockaddr* addr = nullptr;
    socklen_t addr_len = 0;
    const char* peer = "";
    const ServerBlock* server = nullptr;
    const LimitConf* top = nullptr;   // the protocol block's (rtmp{}, http{})
    const LimitConf* conf = nullptr;  // the server block's
    uint32_t slots = 0;               // worker_connections
    uint64_t now = 0;                 // loop ms
};

class LimitModule final : public Module {
public:
    const char* name() const override { return "limit"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;

    Rc on_start(rtmp::Session& s);
    void on_disconnect(rtmp::Session& s);
    // HTTP connections (registered by http_limit_module).
    const char* on_http_start(http::HttpSession& s);
    void on_http_close(http::HttpSession& s);

    // Counts a client: nullptr when admitted, else the static name of the limit it
    // reached (the refusal is logged here). release() gives back what admit() counted.
    const char* admit(const LimitClient& c);
    void release(uint64_t id);

    // What max_connections auto allows with `slots` worker_connections.
    static uint32_t auto_limit(uint32_t slots) { return slots - slots / 4; }
    // This worker's counted clients (for tests and stats).
    uint32_t total() const { return total_; }
    uint32_t count_for(const IpAddr& a) const;

private:
    struct IpEntry {
        uint32_t count = 0;
        uint64_t last_log = 0;
        uint32_t suppressed = 0;
    };
    // What a counted client holds: which counters to give back.
    struct Counted {
        const ServerBlock* server;
        IpAddr ip;
        bool has_ip;
    };
    // Logs one refusal unless this address was already logged in the last second.
    void log_refusal(const LimitClient& c, IpEntry* e, const char* what, uint32_t limit);

    uint32_t total_ = 0;
    std::unordered_map<uint64_t, Counted> counted_;
    std::unordered_map<const ServerBlock*, uint32_t> per_server_;
    std::unordered_map<IpAddr, IpEntry, IpAddrHash> per_ip_;
    uint64_t last_total_log_ = 0;
};

// The same directives in http {} and its server {} blocks (a module has configuration in
// one protocol's blocks); the counters are limit_module's.
class HttpLimitModule final : public Module {
public:
    const char* name() const override { return "http_limit"; }
    const char* conf_block() const override { return "http"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;
};

extern LimitModule limit_module;
extern HttpLimitModule http_limit_module;

}  // namespace strom::mod
