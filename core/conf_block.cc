#include "core/conf_block.h"

#include <cstdlib>

#include "core/log.h"

namespace strom {

ConfBase* module_conf(const ModuleConfs& confs, const std::vector<Module*>& modules,
                      const Module& m)
{
    size_t i = size_t(m.index);
    // m.index is where the last Cycle::load put the module; a cycle built from another
    // list (tests) finds it by address instead.
    if (m.index < 0 || i >= modules.size() || modules[i] != &m) {
        for (i = 0; i < modules.size() && modules[i] != &m; ++i) {
        }
    }
    if (i < modules.size() && i < confs.size() && confs[i]) return confs[i].get();
    STROM_LOG(alert, 0, "module \"%s\" has no configuration at this level", m.name());
    abort();
}

const AppBlock* ServerBlock::find_app(std::string_view name) const
{
    for (const auto& a : apps) {
        if (a->name == name) return a.get();
    }
    return nullptr;
}

const AppBlock* ServerBlock::find_prefix(std::string_view path) const
{
    const AppBlock* best = nullptr;
    for (const auto& a : apps) {
        if (path.substr(0, a->name.size()) != a->name) continue;
        if (!best || a->name.size() > best->name.size()) best = a.get();
    }
    return best;
}

}  // namespace strom
