// What a directive setter sees besides its conf object: the cycle being built, where the
// directive stands (context bit, level, enclosing blocks), and a way to report an error
// with a message of its own. Lives on the builder's stack for one setter call.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/conf_directive.h"

namespace strom {

class Cycle;
class Module;
struct ProtoBlock;
struct ServerBlock;
struct AppBlock;

// Returned by ConfContext::fail(): "cx.error holds the whole message". Compared by address.
extern const char kConfError[];

struct ConfContext {
    Cycle& cycle;
    const Module* module = nullptr;  // owner of the directive being set
    uint32_t ctx = kCtxMain;         // the kCtx* bit of the enclosing block
    ConfLevel level = ConfLevel::main;
    ProtoBlock* proto = nullptr;  // the enclosing blocks, nullptr above them
    ServerBlock* server = nullptr;
    AppBlock* app = nullptr;
    std::string error;

    // Formats a complete message (the builder appends " in file:line") and returns
    // kConfError for the setter to return.
    const char* fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    // `"name" directive invalid value: "arg"` plus `, hint` when given.
    const char* invalid(const ConfNode& d, size_t arg, const char* hint = nullptr);
    // A relative path resolved against the cycle's prefix.
    std::string full_path(std::string_view path) const;
};

// printf into a std::string (error messages; not for hot paths).
std::string conf_sprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string conf_vsprintf(const char* fmt, va_list ap) __attribute__((format(printf, 1, 0)));

}  // namespace strom
