// The blocks of one configuration generation below main: each protocol block (rtmp {},
// http {}), its server blocks and their application (location) blocks, each with one conf object per module
// (indexed by the module's position; nullptr where the module keeps none), already
// merged top-down. Owned by the Cycle through unique_ptrs, so pointers to a block stay
// valid for the cycle's life (listeners and sessions keep them).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/module.h"

namespace strom {

using ModuleConfs = std::vector<std::unique_ptr<ConfBase>>;

struct ProtoBlock;
struct ServerBlock;

// The module's conf in `confs`, after checking that `m` sits at m.index in `modules`;
// aborts with a log line when the module has none (a programming error, not a config one).
ConfBase* module_conf(const ModuleConfs& confs, const std::vector<Module*>& modules,
                      const Module& m);

struct AppBlock {
    std::string name;
    std::string file;
    int line = 0;
    ServerBlock* server = nullptr;
    ModuleConfs confs;

    template <class C>
    C& conf(const Module& m) const;
};

struct ServerBlock {
    std::string file;
    int line = 0;
    ProtoBlock* proto = nullptr;
    ModuleConfs confs;
    std::vector<std::unique_ptr<AppBlock>> apps;  // in file order

    template <class C>
    C& conf(const Module& m) const;
    const AppBlock* find_app(std::string_view name) const;  // exact, case-sensitive
    // The sub-block whose name is the longest prefix of `path` (http locations).
    const AppBlock* find_prefix(std::string_view path) const;
};

struct ProtoBlock {
    std::string name;  // "rtmp", "http": the block directive that opens it
    std::string file;  // where the block was opened; empty (line 0) when the config
    int line = 0;      // has none: its confs then hold the defaults and no servers
    const std::vector<Module*>* modules = nullptr;  // the cycle's list
    ModuleConfs confs;
    std::vector<std::unique_ptr<ServerBlock>> servers;  // in file order

    bool present() const { return line != 0 || !file.empty(); }
    template <class C>
    C& conf(const Module& m) const
    {
        return *static_cast<C*>(module_conf(confs, *modules, m));
    }
};

template <class C>
C& ServerBlock::conf(const Module& m) const
{
    return *static_cast<C*>(module_conf(confs, *proto->modules, m));
}

template <class C>
C& AppBlock::conf(const Module& m) const
{
    return *static_cast<C*>(module_conf(confs, *server->proto->modules, m));
}

}  // namespace strom
