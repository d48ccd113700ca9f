// A JSON string literal for the --json outputs of probe and bench (quotes, backslashes
// and control characters escaped).
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace strom::tools {

inline std::string json_str(std::string_view s)
{
    std::string o = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            o += '\\';
            o += ch;
        } else if (uint8_t(ch) < 0x20) {
            char b[8];
            snprintf(b, sizeof(b), "\\u%04x", unsigned(uint8_t(ch)));
            o += b;
        } else {
            o += ch;
        }
    }
    return o + "\"";
}

}  // namespace strom::tools
