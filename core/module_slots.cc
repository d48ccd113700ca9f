#include "core/module_slots.h"

#include <cstdlib>

#include "core/log.h"

namespace strom {

size_t ModuleSlots::check(const Module& m)
{
    if (m.index < 0 || size_t(m.index) >= kMaxModules) {
        STROM_LOG(alert, 0, "module \"%s\" has no context slot (index %d of %zu)", m.name(),
                  m.index, kMaxModules);
        abort();
    }
    return size_t(m.index);
}

}  // namespace strom
