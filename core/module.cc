#include "core/module.h"

namespace strom {

// Out of line so the vtable is emitted once, here.
Module::~Module() = default;

}  // namespace strom
