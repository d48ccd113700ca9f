// The API's query strings: NAME=VALUE parts joined by '&' (empty parts skipped), whose
// values are decimal counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace strom::mod {

// v as a decimal number of 1 to max_digits digits.
inline bool parse_count(std::string_view v, size_t max_digits, uint64_t* out)
{
    if (v.empty() || v.size() > max_digits) return false;
    uint64_t n = 0;
    for (char ch : v) {
        if (ch < '0' || ch > '9') return false;
        n = n * 10 + uint64_t(ch - '0');
    }
    *out = n;
    return true;
}

// Calls on(name, value) for each part of q (value empty when the part has no '='); the
// first non-null answer (why the query is refused) ends the walk and is returned.
template <class F>
const char* each_query_param(std::string_view q, F&& on)
{
    while (!q.empty()) {
        size_t amp = q.find('&');
        std::string_view part = q.substr(0, amp);
        q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
        if (part.empty()) continue;
        size_t eq = part.find('=');
        std::string_view v =
            eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
        if (const char* why = on(part.substr(0, eq), v)) return why;
    }
    return nullptr;
}

}  // namespace strom::mod
