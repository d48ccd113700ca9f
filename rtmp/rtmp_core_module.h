// The rtmp core module: the `rtmp {}`, `server {}` and `application {}` protocol
// settings (listen, chunk size, limits, timeouts), the factory that turns an accepted
// connection into a Session, and the cycle's module chain (Hooks) that feature modules
// attach to in their postconfiguration. Protocol only: no policy lives here.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/cidr.h"
#include "core/conf_directive.h"
#include "core/cycle.h"
#include "core/connection.h"
#include "core/module.h"
#include "rtmp/hooks.h"

namespace strom::rtmp {

// Per rtmp{} / server{} / application{}; sessions read the merged server-level values.
struct RtmpCoreConf : ConfBase {
    std::optional<uint32_t> chunk_size;          // ours, outgoing (default 4096)
    std::optional<uint32_t> max_message;         // largest incoming message (8m)
    std::optional<uint32_t> max_chunk_streams;   // distinct incoming csids (64)
    std::optional<uint64_t> max_partial;         // bytes in unfinished messages (32m)
    std::optional<uint32_t> max_streams;         // NetStreams per connection (16)
    std::optional<uint32_t> max_name;            // app / stream name length (256)
    std::optional<uint64_t> handshake_timeout;   // ms, absolute: handshake + connect (10s)
    std::optional<uint64_t> timeout;             // ms without input before close (60s)
    std::optional<uint64_t> ping;                // ms idle before a ping (60s)
    std::optional<uint64_t> ping_timeout;        // ms to answer a ping (30s)
    std::optional<uint32_t> ack_window;          // our window ack size (5000000)
    std::optional<uint32_t> out_queue;           // queued messages per connection (256)
    std::optional<uint64_t> out_queue_bytes;     // queued bytes per connection (8m)
    // Proxies whose PROXY protocol header is believed (set_real_ip_from, repeatable);
    // a listen with proxy_protocol refuses a header from any other address.
    std::optional<std::vector<Cidr>> real_ip_from;
    const Hooks* hooks = nullptr;                // the cycle's chain (set after parsing)
};

struct RtmpMainConf : ConfBase {
    Hooks hooks;
};

class RtmpCoreModule final : public Module {
public:
    const char* name() const override { return "rtmp_core"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;
};

extern RtmpCoreModule rtmp_core_module;

// Makes server Sessions for accepted connections; `internal` ones serve other workers of
// this server (cross-worker pulls) and end when the stream they play loses its publisher.
ConnHandlerFactory& session_factory(bool internal);

inline Hooks& hooks(const Cycle& c) { return c.main_conf<RtmpMainConf>(rtmp_core_module).hooks; }
// The rtmp {} block and its servers.
inline ProtoBlock& rtmp_block(const Cycle& c) { return *c.proto("rtmp"); }
inline const std::vector<std::unique_ptr<ServerBlock>>& rtmp_servers(const Cycle& c)
{
    return rtmp_block(c).servers;
}
inline const RtmpCoreConf& rtmp_conf(const ServerBlock& s)
{
    return s.conf<RtmpCoreConf>(rtmp_core_module);
}

}  // namespace strom::rtmp
