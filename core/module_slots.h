// Per-module context slots of a session or a stream: one pointer for each module of the
// configuration, reached through the module object (never a bare index) and checked
// against the list's size, which Cycle::load bounds by kMaxModules. The slot owner
// (a module) creates and frees what it puts there; the slots never own anything.
#pragma once

#include <cstddef>

#include "core/module.h"

namespace strom {

inline constexpr size_t kMaxModules = 32;

class ModuleSlots {
public:
    template <class T>
    T* get(const Module& m) const
    {
        return static_cast<T*>(slots_[check(m)]);
    }
    template <class T>
    void set(const Module& m, T* p)
    {
        slots_[check(m)] = p;
    }
    void*& raw(const Module& m) { return slots_[check(m)]; }
    void clear()
    {
        for (void*& p : slots_) p = nullptr;
    }

private:
    // The module's index; aborts with a log line on a module not loaded by a cycle or
    // beyond the slots (a programming error: Cycle::load refuses longer module lists).
    static size_t check(const Module& m);

    void* slots_[kMaxModules] = {};
};

}  // namespace strom
