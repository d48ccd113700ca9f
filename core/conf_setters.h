// Typed directive setters, templates on pointers-to-member so the compiler checks the
// field type: set_flag<&LiveConf::live>, set_size<&X::max_message>, set_msec<&X::timeout>,
// set_num<&X::n>, set_str<&X::name>, set_path<&X::file>, set_enum<&X::mode, kModes>.
// Fields are std::optional<T> in a class derived from ConfBase: unset means "inherit",
// and a second occurrence at the same level is "is duplicate". merge_value() fills what a
// lower level left unset. Optional Lo/Hi bounds are checked at parse time, with the line.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "core/conf_context.h"
#include "core/conf_directive.h"
#include "core/conf_node.h"
#include "core/conf_value.h"

namespace strom {

template <class T>
struct ConfEnum {
    const char* name;
    T value;
};

namespace conf_detail {

template <class P>
struct Member;
template <class C, class F>
struct Member<F C::*> {
    using Class = C;
    using Field = F;
};
template <class F>
struct Opt {
    static constexpr bool ok = false;
    using type = void;
};
template <class T>
struct Opt<std::optional<T>> {
    static constexpr bool ok = true;
    using type = T;
};

template <auto M>
using Class = typename Member<decltype(M)>::Class;
template <auto M>
using Value = typename Opt<typename Member<decltype(M)>::Field>::type;

template <class T>
inline constexpr bool is_int = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// The field M in `conf`, or nullptr when the module keeps no conf at this level.
template <auto M>
std::optional<Value<M>>* field(ConfBase* conf)
{
    static_assert(Opt<typename Member<decltype(M)>::Field>::ok,
                  "the field must be std::optional<T>");
    static_assert(std::is_base_of_v<ConfBase, Class<M>>,
                  "the conf class must derive from ConfBase");
    return conf ? &(static_cast<Class<M>*>(conf)->*M) : nullptr;
}

// What every single-argument setter checks first.
template <class F>
const char* prologue(const F* f, const ConfNode& d)
{
    if (!f) return "is not allowed here";
    if (d.args.size() != 1) return "takes exactly one argument";
    if (f->has_value()) return "is duplicate";
    return nullptr;
}

template <class T>
constexpr bool fits(uint64_t v)
{
    return v <= uint64_t(std::numeric_limits<T>::max());
}

// `"name" directive invalid value: "arg", it must be between LO and HI`.
const char* range_error(ConfContext& cx, const ConfNode& d, uint64_t lo, uint64_t hi);
// `"name" directive invalid value: "arg", it must be "a", "b" or "c"`.
const char* enum_error(ConfContext& cx, const ConfNode& d, const char* const* names, size_t n);

}  // namespace conf_detail

template <auto M>
const char* set_flag(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    static_assert(std::is_same_v<conf_detail::Value<M>, bool>,
                  "set_flag needs std::optional<bool>");
    auto* f = conf_detail::field<M>(conf);
    if (const char* e = conf_detail::prologue(f, d)) return e;
    bool v;
    if (!parse_flag(d.args[0], &v)) return cx.invalid(d, 0, "it must be \"on\" or \"off\"");
    *f = v;
    return nullptr;
}

template <auto M, uint64_t Lo = 0, uint64_t Hi = UINT64_MAX>
const char* set_size(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    using T = conf_detail::Value<M>;
    static_assert(conf_detail::is_int<T>, "set_size needs std::optional<integer>");
    auto* f = conf_detail::field<M>(conf);
    if (const char* e = conf_detail::prologue(f, d)) return e;
    uint64_t v;
    if (!parse_size(d.args[0], &v) || !conf_detail::fits<T>(v)) return cx.invalid(d, 0);
    if (v < Lo || v > Hi) return conf_detail::range_error(cx, d, Lo, Hi);
    *f = T(v);
    return nullptr;
}

template <auto M, uint64_t Lo = 0, uint64_t Hi = UINT64_MAX>
const char* set_num(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    using T = conf_detail::Value<M>;
    static_assert(conf_detail::is_int<T>, "set_num needs std::optional<integer>");
    auto* f = conf_detail::field<M>(conf);
    if (const char* e = conf_detail::prologue(f, d)) return e;
    uint64_t v;
    if (!parse_uint(d.args[0], &v) || !conf_detail::fits<T>(v)) return cx.invalid(d, 0);
    if (v < Lo || v > Hi) return conf_detail::range_error(cx, d, Lo, Hi);
    *f = T(v);
    return nullptr;
}

// Field: std::optional<std::chrono::milliseconds> or std::optional<integer> (ms).
// Lo/Hi in milliseconds.
template <auto M, uint64_t Lo = 0, uint64_t Hi = UINT64_MAX>
const char* set_msec(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    using T = conf_detail::Value<M>;
    constexpr bool is_ms = std::is_same_v<T, std::chrono::milliseconds>;
    static_assert(is_ms || conf_detail::is_int<T>,
                  "set_msec needs std::optional<std::chrono::milliseconds> or <integer>");
    auto* f = conf_detail::field<M>(conf);
    if (const char* e = conf_detail::prologue(f, d)) return e;
    int64_t v;
    if (!parse_msec(d.args[0], &v)) return cx.invalid(d, 0);
    if constexpr (!is_ms) {
        if (!conf_detail::fits<T>(uint64_t(v))) return cx.invalid(d, 0);
    }
    if (uint64_t(v) < Lo || uint64_t(v) > Hi) return conf_detail::range_error(cx, d, Lo, Hi);
    *f = T(v);
    return nullptr;
}

template <auto M>
const char* set_str(ConfContext&, ConfBase* conf, const ConfNode& d)
{
    static_assert(std::is_same_v<conf_detail::Value<M>, std::string>,
                  "set_str needs std::optional<std::string>");
    auto* f = conf_detail::field<M>(conf);
    if (const char* e = conf_detail::prologue(f, d)) return e;
    *f = d.args[0];
    return nullptr;
}

// A file or directory name; a relative one is resolved against the cycle's prefix.
template <auto M>
const char* set_path(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    static_assert(std::is_same_v<conf_detail::Value<M>, std::string>,
                  "set_path needs std::optional<std::string>");
    auto* f = conf_detail::field<M>(conf);
    if (const char* e = conf_detail::prologue(f, d)) return e;
    if (d.args[0].empty()) return cx.invalid(d, 0);
    *f = cx.full_path(d.args[0]);
    return nullptr;
}

// Table: a constexpr array of ConfEnum<T> with static storage, e.g.
//   inline constexpr ConfEnum<Mode> kModes[] = {{"fast", Mode::fast}, {"safe", Mode::safe}};
template <auto M, const auto& Table>
const char* set_enum(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    using T = conf_detail::Value<M>;
    static_assert(std::is_same_v<std::remove_cvref_t<decltype(Table[0].value)>, T>,
                  "set_enum: the table's values must have the field's type");
    auto* f = conf_detail::field<M>(conf);
    if (const char* e = conf_detail::prologue(f, d)) return e;
    for (const auto& e : Table) {
        if (d.args[0] == e.name) {
            *f = e.value;
            return nullptr;
        }
    }
    constexpr size_t n = std::extent_v<std::remove_cvref_t<decltype(Table)>>;
    const char* names[n];
    for (size_t i = 0; i < n; ++i) names[i] = Table[i].name;
    return conf_detail::enum_error(cx, d, names, n);
}

// Fills an unset field: the parent's value if it has one, else the default.
template <class T, class D>
void merge_value(std::optional<T>& child, const std::optional<T>& parent, D&& def)
{
    if (child) return;
    if (parent) {
        child = parent;
    } else {
        child = T(std::forward<D>(def));
    }
}

}  // namespace strom
