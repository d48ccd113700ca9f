// The version strom reports with -v and in its fmsVer / server strings.
#pragma once

namespace strom {
inline constexpr const char* kStromVersion = "0.1.0";
}  // namespace strom
