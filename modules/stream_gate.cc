#include "modules/stream_gate.h"

namespace strom::mod {

StreamGateModule stream_gate_module;

}  // namespace strom::mod
