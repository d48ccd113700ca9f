// The input cursor the AMF0 and AMF3 decoders share: bytes, position, the decode state
// (budgets, reference tables) and the reason of the first failure. Internal to
// amf0.cc / amf3.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/bytes.h"
#include "core/rc.h"
#include "rtmp/amf_decode_state.h"

namespace strom::rtmp::amf_detail {

struct Reader {
    const uint8_t* p;
    size_t n;
    size_t pos;
    AmfDecodeState& st;
    const char* reason;

    size_t left() const { return n - pos; }
    const uint8_t* at() const { return p + pos; }
};

inline Rc fail(Reader& r, const char* why)
{
    r.reason = why;
    return Rc::error;
}

// IEEE 754 double in network byte order (AMF0 2.2, AMF3 3.7).
inline double load_double(const uint8_t* p)
{
    uint64_t bits = load_be64(p);
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}

}  // namespace strom::rtmp::amf_detail
