// AMF0 decoder fuzz target. Property: whatever decodes re-encodes to bytes that decode to
// the same values (decode(encode(decode(x))) == decode(x)), and encoding is stable. Values
// holding an unresolvable back reference (a cycle) are skipped: their index means
// something else once the copies before them are written out in full.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "rtmp/amf.h"
#include "rtmp/amf0.h"
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

[[noreturn]] void fail(const char* what, const std::vector<AmfValue>& a,
                       const std::vector<AmfValue>& b)
{
    fprintf(stderr, "amf0 round trip: %s\n", what);
    for (const auto& v : a) fprintf(stderr, "  a: %s\n", v.dump().c_str());
    for (const auto& v : b) fprintf(stderr, "  b: %s\n", v.dump().c_str());
    abort();
}

std::string encode_all(const std::vector<AmfValue>& values)
{
    std::string out;
    for (const auto& v : values) amf0_encode(v, &out);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    AmfDecodeState st;
    std::vector<AmfValue> a;
    const char* why = nullptr;
    if (amf0_decode_all(data, size, &a, st, &why) != Rc::ok) return 0;
    for (const auto& v : a) {
        if (has_reference(v)) return 0;
    }
    std::string enc = encode_all(a);
    AmfDecodeState st2;
    std::vector<AmfValue> b;
    if (amf0_decode_all(reinterpret_cast<const uint8_t*>(enc.data()), enc.size(), &b, st2, &why) !=
        Rc::ok) {
        fprintf(stderr, "re-decode failed: %s\n", why);
        fail("re-decode failed", a, b);
    }
    if (a != b) fail("values differ", a, b);
    if (encode_all(b) != enc) fail("encoding not stable", a, b);
    return 0;
}
