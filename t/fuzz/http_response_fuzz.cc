// Fuzzes strom::HttpResponseParser. Layout: [0] feed size (0: all at once), [1] body
// limit in KiB (0..255), then the server's bytes. Checks: consumed <= offered, Rc::again
// consumes everything, the body never exceeds the limit, a reason on Rc::error, and a
// response parsed in pieces equals the one parsed whole (status, body, Location).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/http_parser.h"

using strom::HttpResponseParser;
using strom::Rc;

#define CHECK(x)                \
    do {                        \
        if (!(x)) std::abort(); \
    } while (0)

namespace {

struct Outcome {
    Rc rc;
    int status;
    std::string body;
    std::string location;
};

Outcome run(const uint8_t* p, size_t n, size_t step, size_t limit)
{
    HttpResponseParser parser(limit, 4096);
    size_t off = 0;
    Rc rc = Rc::again;
    while (off < n) {
        size_t k = step && step < n - off ? step : n - off;
        size_t used = 0;
        rc = parser.feed(p + off, k, &used);
        CHECK(used <= k);
        if (rc == Rc::again) CHECK(used == k);
        if (rc == Rc::error) CHECK(parser.reason()[0] != '\0');
        CHECK(parser.body().size() <= limit);
        off += used;
        if (rc != Rc::again) break;
    }
    if (rc == Rc::again) rc = parser.finish();
    return {rc, parser.status(), parser.body(), parser.location()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 2) return 0;
    size_t step = data[0];
    size_t limit = size_t(data[1]) * 1024 + 16;
    Outcome whole = run(data + 2, size - 2, 0, limit);
    Outcome pieces = run(data + 2, size - 2, step, limit);
    CHECK(whole.rc == pieces.rc);
    if (whole.rc == Rc::ok) {
        CHECK(whole.status == pieces.status && whole.body == pieces.body &&
              whole.location == pieces.location);
        CHECK(whole.status >= 200 && whole.status <= 999);
    }
    return 0;
}
