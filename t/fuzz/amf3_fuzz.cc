// AMF3 decoder fuzz target. Property: a decoded value re-encodes (in AMF3, and in AMF0
// through the avmplus marker) to bytes that decode to the same value. Values holding a
// cycle reference are skipped (see amf0_fuzz.cc).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "rtmp/amf.h"
#include "rtmp/amf0.h"
#include "rtmp/amf3.h"
#include "rtmp/amf_decode_state.h"

using namespace strom;
using namespace strom::rtmp;

namespace {

bool has_reference(const AmfValue& v)
{
    if (v.is_reference()) return true;
    for (const auto& p : v.props()) {
        if (has_reference(p.value)) return true;
    }
    for (const auto& i : v.items()) {
        if (has_reference(i)) return true;
    }
    return false;
}

using DecodeFn = Rc (*)(const uint8_t*, size_t, size_t*, AmfValue*, AmfDecodeState&,
                        const char**);

void check_round_trip(const AmfValue& a, const std::string& enc, DecodeFn decode, const char* via)
{
    AmfDecodeState st;
    AmfValue b;
    size_t used = 0;
    const char* why = "";
    Rc rc = decode(reinterpret_cast<const uint8_t*>(enc.data()), enc.size(), &used, &b, st, &why);
    if (rc == Rc::ok && used == enc.size() && a == b) return;
    fprintf(stderr, "amf3 round trip via %s: rc %d used %zu/%zu (%s)\n  a: %s\n  b: %s\n", via,
            int(rc), used, enc.size(), why, a.dump().c_str(), b.dump().c_str());
    abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    AmfDecodeState st;
    AmfValue a;
    size_t used = 0;
    const char* why = nullptr;
    if (amf3_decode(data, size, &used, &a, st, &why) != Rc::ok) return 0;
    if (used > size) abort();
    if (has_reference(a)) return 0;
    std::string enc3;
    amf3_encode(a, &enc3);
    check_round_trip(a, enc3, amf3_decode, "amf3");
    std::string enc0;
    amf0_encode(a, &enc0);
    check_round_trip(a, enc0, amf0_decode, "amf0");
    return 0;
}
