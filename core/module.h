// A module: a directive table, per-level conf factories and merges, and process hooks
// (the nginx ngx_modules[] idea without C macros). Module objects are static singletons
// listed once in modules/module_list.cc; they hold no configuration themselves: every
// configuration generation (Cycle) owns its conf objects, so two cycles coexist.
#pragma once

#include <memory>
#include <span>

#include "core/conf_directive.h"
#include "core/rc.h"

namespace strom {

class Cycle;

// Every virtual is inline on purpose: with no key function the typeinfo is emitted
// wherever a subclass is compiled, so tests (built with RTTI) can derive from Module
// although the library is built with -fno-rtti.
class Module {
public:
    virtual ~Module() = default;
    virtual const char* name() const = 0;
    virtual std::span<const Directive> directives() const { return {}; }
    // One conf object per level the module keeps (nullptr: none at that level). The
    // same type is typically used at proto/server/app and merged top-down.
    virtual std::unique_ptr<ConfBase> create_conf(ConfLevel) { return nullptr; }
    // The protocol block (its name: "rtmp", "http") whose proto/server/app levels the
    // module keeps confs in; create_conf is asked for those levels only inside that
    // block (main-level confs are asked of every module). nginx's module types.
    virtual const char* conf_block() const { return "rtmp"; }
    // Fills child's unset (std::optional) fields from parent, then defaults. The parent
    // is never null: at the top of a chain (main, proto) it is a fresh, empty conf of the
    // same level. Returns nullptr or a static error message (e.g. inconsistent values),
    // which the builder reports with the block's file:line.
    virtual const char* merge(ConfBase* /*child*/, const ConfBase* /*parent*/, ConfLevel)
    {
        return nullptr;
    }
    // After the whole configuration is parsed and merged: attach hooks, validate across
    // blocks. On error, describe it with cycle.fail(...).
    virtual Rc postconfiguration(Cycle&) { return Rc::ok; }
    virtual Rc init_process(Cycle&) { return Rc::ok; }  // in each worker after fork
    virtual void exit_process(Cycle&) {}

    // Position in the module list, set by Cycle::load. A cycle checks it against its own
    // list before use, so cycles built from different lists (tests) stay correct.
    int index = -1;
};

}  // namespace strom
