#include "core/conf_context.h"

#include <cstdarg>
#include <cstdio>

#include "core/conf_node.h"
#include "core/conf_setters.h"
#include "core/cycle.h"

namespace strom {

const char kConfError[] = "(see ConfContext::error)";

namespace {

}  // namespace

std::string conf_vsprintf(const char* fmt, va_list ap)
{
    char buf[512];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    std::string s;
    if (n < 0) {
        s = fmt;
    } else if (size_t(n) < sizeof(buf)) {
        s.assign(buf, size_t(n));
    } else {
        s.resize(size_t(n));
        vsnprintf(s.data(), size_t(n) + 1, fmt, ap2);
    }
    va_end(ap2);
    return s;
}

namespace {

// Quoted argument for a message, cut so one huge token cannot make a huge message.
std::string quoted_arg(const ConfNode& d, size_t i)
{
    constexpr size_t kMax = 256;
    const std::string& a = i < d.args.size() ? d.args[i] : d.name;
    std::string s = "\"" + a.substr(0, kMax);
    if (a.size() > kMax) s += "...";
    return s + "\"";
}

}  // namespace

std::string conf_sprintf(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::string s = conf_vsprintf(fmt, ap);
    va_end(ap);
    return s;
}

std::string conf_where(const std::string& file, int line)
{
    if (line <= 0) return " in " + file;
    return " in " + file + ":" + std::to_string(line);
}

const char* ConfContext::fail(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error = conf_vsprintf(fmt, ap);
    va_end(ap);
    return kConfError;
}

const char* ConfContext::invalid(const ConfNode& d, size_t arg, const char* hint)
{
    error = "\"" + d.name + "\" directive invalid value: " + quoted_arg(d, arg);
    if (hint) {
        error += ", ";
        error += hint;
    }
    return kConfError;
}

std::string ConfContext::full_path(std::string_view path) const
{
    return cycle.full_path(path);
}

namespace conf_detail {

const char* range_error(ConfContext& cx, const ConfNode& d, uint64_t lo, uint64_t hi)
{
    using ull = unsigned long long;
    std::string hint = hi == UINT64_MAX ? conf_sprintf("it must be at least %llu", ull(lo))
                       : lo == 0
                           ? conf_sprintf("it must be at most %llu", ull(hi))
                           : conf_sprintf("it must be between %llu and %llu", ull(lo), ull(hi));
    return cx.invalid(d, 0, hint.c_str());
}

const char* enum_error(ConfContext& cx, const ConfNode& d, const char* const* names, size_t n)
{
    std::string hint = "it must be ";
    for (size_t i = 0; i < n; ++i) {
        if (i > 0) hint += i + 1 == n ? " or " : ", ";
        hint += "\"";
        hint += names[i];
        hint += "\"";
    }
    return cx.invalid(d, 0, hint.c_str());
}

}  // namespace conf_detail

}  // namespace strom
