// UTF-8 validation shared by the writers that must escape or repair text from the network
// (JSON, XML): Unicode's table 3-7, no overlongs, no surrogates, nothing over U+10FFFF.
#pragma once

#include <cstddef>
#include <string_view>

namespace strom {

// The length of the valid UTF-8 sequence at s[i] (2..4), or 0 with *bad set to the number
// of bytes of the maximal ill-formed subpart to replace by one U+FFFD.
inline size_t utf8_sequence(std::string_view s, size_t i, size_t* bad)
{
    auto c = static_cast<unsigned char>(s[i]);
    size_t need = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c == 0xe0) lo = 0xa0;  // overlong
        if (c == 0xed) hi = 0x9f;  // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c == 0xf0) lo = 0x90;  // overlong
        if (c == 0xf4) hi = 0x8f;  // over U+10FFFF
    } else {
        *bad = 1;
        return 0;
    }
    for (size_t k = 1; k <= need; ++k) {
        if (i + k >= s.size()) {
            *bad = k;
            return 0;
        }
        auto t = static_cast<unsigned char>(s[i + k]);
        unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xbf;
        if (t < l || t > h) {
            *bad = k;
            return 0;
        }
    }
    return need + 1;
}

}  // namespace strom
