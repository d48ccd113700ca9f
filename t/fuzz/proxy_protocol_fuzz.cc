// Fuzzes rtmp::parse_proxy_header. Input: the peer's first bytes. Checks the contract:
// *used <= n on Rc::ok (and > 0), a reason on Rc::error; the result does not depend on
// bytes past the header (parsing the header alone gives the same answer), and a prefix
// of a complete header never completes early.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "rtmp/proxy_protocol.h"

using strom::Rc;
using strom::rtmp::parse_proxy_header;
using strom::rtmp::ProxyHeader;

#define CHECK(x)                \
    do {                        \
        if (!(x)) std::abort(); \
    } while (0)

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    ProxyHeader h;
    size_t used = 0;
    const char* why = nullptr;
    Rc rc = parse_proxy_header(data, size, &h, &used, &why);
    if (rc == Rc::error) {
        CHECK(why != nullptr && why[0] != '\0');
        return 0;
    }
    if (rc == Rc::again) return 0;
    CHECK(rc == Rc::ok);
    CHECK(used > 0 && used <= size);
    if (!h.local) {
        CHECK(h.src_len > 0 && h.src_len <= sizeof(h.src));
        CHECK(h.src.ss_family == h.dst.ss_family);
    }
    ProxyHeader again;
    size_t used2 = 0;
    const char* why2 = nullptr;
    CHECK(parse_proxy_header(data, used, &again, &used2, &why2) == Rc::ok);
    CHECK(used2 == used && again.local == h.local);
    if (used > 1) {
        size_t u3 = 0;
        const char* w3 = nullptr;
        ProxyHeader shorter;
        CHECK(parse_proxy_header(data, used - 1, &shorter, &u3, &w3) != Rc::ok);
    }
    return 0;
}
