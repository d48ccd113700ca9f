// What a module declares about its configuration: context bits, the level a conf object
// lives at, the base class of conf objects, and the directive table entry
// {name, contexts, argument shape, setter}. Tables are constexpr arrays in each module;
// the cycle builder (core/conf_builder) reads them and calls the setters.
#pragma once

#include <cstdint>

namespace strom {

struct ConfNode;
struct ConfContext;

// Contexts as bit flags: where a directive may appear. A directive of a lower context
// that may also appear in upper ones lists them all, and is inherited downwards by the
// module's merge(). New protocols add bits here and a row in conf_builder.cc's block
// table (http: http, http_server, location), nothing else.
inline constexpr uint32_t kCtxMain = 1u << 0;    // top level of the file
inline constexpr uint32_t kCtxEvents = 1u << 1;  // events { }
inline constexpr uint32_t kCtxRtmp = 1u << 2;    // rtmp { }
inline constexpr uint32_t kCtxServer = 1u << 3;  // rtmp { server { } }
inline constexpr uint32_t kCtxApp = 1u << 4;     // rtmp { server { application NAME { } } }
inline constexpr uint32_t kCtxRtmpAny = kCtxRtmp | kCtxServer | kCtxApp;
inline constexpr uint32_t kCtxHttp = 1u << 5;        // http { }
inline constexpr uint32_t kCtxHttpServer = 1u << 6;  // http { server { } }
inline constexpr uint32_t kCtxLocation = 1u << 7;    // http { server { location PREFIX { } } }
inline constexpr uint32_t kCtxHttpAny = kCtxHttp | kCtxHttpServer | kCtxLocation;

// The level a conf object belongs to. main: one per cycle (events {} is part of it);
// proto: the protocol block (rtmp {}, http {}); server and app (application, location):
// one per block. The same conf type
// is typically used at proto/server/app and merged top-down.
enum class ConfLevel { main, proto, server, app };

// Base of every module conf object. No RTTI: the owning module static_casts.
struct ConfBase {
    virtual ~ConfBase() = default;
};

// How many arguments a directive takes, and whether it opens a block.
struct ArgShape {
    static constexpr uint8_t kMany = 255;  // no upper bound
    uint8_t min = 0;
    uint8_t max = 0;
    bool block = false;

    static constexpr ArgShape n(uint8_t k) { return {k, k, false}; }
    static constexpr ArgShape range(uint8_t lo, uint8_t hi) { return {lo, hi, false}; }
    static constexpr ArgShape at_least(uint8_t lo) { return {lo, kMany, false}; }
    static constexpr ArgShape flag() { return {1, 1, false}; }
    // A module's own block (`name args { ... }`): its setter reads d.children itself.
    static constexpr ArgShape block_of(uint8_t lo, uint8_t hi) { return {lo, hi, true}; }
    constexpr bool accepts(unsigned count) const
    {
        return count >= min && (max == kMany || count <= max);
    }
};

// Sets a directive on `conf` (the owning module's conf at the current level, nullptr
// when the module keeps none there). Returns nullptr on success; a static detail that
// the builder prints as `"name" directive DETAIL in file:line` (e.g. "is duplicate",
// "invalid value"); or the result of cx.fail(...), a complete message to which only
// the location is appended.
using Setter = const char* (*)(ConfContext& cx, ConfBase* conf, const ConfNode& d);

// Every context in `contexts` must map to a level where the module's conf object has
// the type the setter expects: a main-level conf usually differs from the rtmp-level
// one, so a directive rarely spans kCtxMain and kCtxRtmp.
struct Directive {
    const char* name;
    uint32_t contexts;  // kCtx* bits where the directive is allowed
    ArgShape args;
    Setter set;
};

}  // namespace strom
