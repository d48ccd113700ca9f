// The limit module: how many clients one worker takes, in all and per server block, and
// how many one client address may hold at once. The defaults protect a public server:
//   max_connections N|auto;     rtmp{}: per worker, every server (default auto: 3/4 of
//                               worker_connections, so a flood of clients always leaves a
//                               quarter of the slots to what the worker opens or accepts
//                               itself: pulls between workers, relays, notify calls)
//                               server{}: per worker, that server's clients (default 0 =
//                               none of its own); 0 = no limit at either level
//   max_connections_per_ip N;   rtmp{} or server{}, per worker (default 64; 0 = off)
// Counted when a session starts (after a PROXY header: the real client), before the
// handshake, so clients that never finish one count too. A refused client is closed at
// once; the log says so once per refusal, and at most once a second per address.
// Internal sessions (other workers pulling a stream) are never counted.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "core/cidr.h"
#include "core/module.h"
#include "rtmp/hooks.h"

namespace strom {
struct ServerBlock;
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

class LimitModule final : public Module {
public:
    const char* name() const override { return "limit"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;

    Rc on_start(rtmp::Session& s);
    void on_disconnect(rtmp::Session& s);

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
    // Logs one refusal unless this address was already logged in the last second.
    void log_refusal(rtmp::Session& s, IpEntry* e, const char* what, uint32_t limit);

    uint32_t total_ = 0;
    std::unordered_map<const ServerBlock*, uint32_t> per_server_;
    std::unordered_map<IpAddr, IpEntry, IpAddrHash> per_ip_;
    uint64_t last_total_log_ = 0;
};

extern LimitModule limit_module;

}  // namespace strom::mod
