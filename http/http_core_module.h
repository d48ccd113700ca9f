// The http core module: the `http {}`, `server {}` and `location PREFIX {}` blocks (listen,
// timeouts, limits, add_header), the factory that turns an accepted connection into an
// HttpSession, and the cycle's list of content handlers that feature modules register in
// their postconfiguration (flv_live, later api, console, hls). Protocol only: no policy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/conf_block.h"
#include "core/cycle.h"
#include "core/module.h"
#include "core/rc.h"

namespace strom::http {

class HttpSession;

// Per http{} / server{} / location{}; a request reads its location's merged values.
struct HttpCoreConf : ConfBase {
    std::optional<uint64_t> keepalive_timeout;      // ms idle between requests (75s)
    std::optional<uint64_t> client_header_timeout;  // ms to receive a request head (60s)
    std::optional<uint64_t> client_max_body_size;   // bytes of a request body (1m)
    std::optional<uint32_t> large_header_count;     // large_client_header_buffers N ...
    std::optional<uint64_t> large_header_size;      //   ... SIZE: line limit, N*SIZE in all
    std::optional<std::vector<std::pair<std::string, std::string>>> add_header;
    const std::vector<struct ContentHandler>* handlers =
        nullptr;  // the cycle's (set after parsing)
    const std::vector<struct ConnectionHook>* connection_hooks = nullptr;  // the same
};

// A content handler: Rc::declined when the request is not of its shape or the feature is
// off in this location; otherwise it answers (or starts a stream) and returns Rc::done.
struct ContentHandler {
    using Fn = Rc (*)(void* self, HttpSession& s, const AppBlock& location);
    Fn fn;
    void* self;
    template <auto Method, class M>
    static ContentHandler bind(M* m)
    {
        return ContentHandler{[](void* p, HttpSession& s, const AppBlock& loc) {
                                  return (static_cast<M*>(p)->*Method)(s, loc);
                              },
                              m};
    }
};

// A module that counts or bounds connections (limit): `start` runs when a connection is
// accepted and returns nullptr to admit it, else the static reason it is refused for (its
// first request is answered 503 with that reason, then it closes); `close` runs when any
// connection closes.
struct ConnectionHook {
    using Start = const char* (*)(void* self, HttpSession& s);
    using Close = void (*)(void* self, HttpSession& s);
    Start start;
    Close close;
    void* self;
    template <auto StartMethod, auto CloseMethod, class M>
    static ConnectionHook bind(M* m)
    {
        return ConnectionHook{
            [](void* p, HttpSession& s) { return (static_cast<M*>(p)->*StartMethod)(s); },
            [](void* p, HttpSession& s) { (static_cast<M*>(p)->*CloseMethod)(s); }, m};
    }
};

struct HttpMainConf : ConfBase {
    std::vector<ContentHandler> handlers;  // in module order; the first that answers wins
    std::vector<ConnectionHook> connection_hooks;
};

class HttpCoreModule final : public Module {
public:
    const char* name() const override { return "http_core"; }
    const char* conf_block() const override { return "http"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;
};

extern HttpCoreModule http_core_module;

inline std::vector<ContentHandler>& content_handlers(const Cycle& c)
{
    return c.main_conf<HttpMainConf>(http_core_module).handlers;
}
inline std::vector<ConnectionHook>& connection_hooks(const Cycle& c)
{
    return c.main_conf<HttpMainConf>(http_core_module).connection_hooks;
}
inline const HttpCoreConf& http_conf(const AppBlock& loc)
{
    return loc.conf<HttpCoreConf>(http_core_module);
}
inline const HttpCoreConf& http_conf(const ServerBlock& srv)
{
    return srv.conf<HttpCoreConf>(http_core_module);
}

}  // namespace strom::http
