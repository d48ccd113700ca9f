// Fuzzes the API's path and query parsing (modules/api_module.cc, modules/events_module.cc,
// modules/api_query.h): the input is a request target "PATH[?QUERY]" as a client sends
// it after /api/. Checks: the status is 200, 400 or 404, and the answer is one JSON
// object and a newline (an error names why) whatever the bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "modules/api_module.h"
#include "modules/event_ring.h"
#include "modules/events_module.h"

#define CHECK(x)                \
    do {                        \
        if (!(x)) std::abort(); \
    } while (0)

namespace {

void check_answer(const std::string& body, int status)
{
    CHECK(status == 200 || status == 400 || status == 404);
    std::string_view b(body);
    if (!b.empty() && b.back() == '\n') b.remove_suffix(1);  // answers end with a newline
    CHECK(b.size() >= 2 && b.front() == '{' && b.back() == '}');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view in(reinterpret_cast<const char*>(data), size);
    size_t q = in.find('?');
    std::string_view path = in.substr(0, q);
    std::string_view query = q == std::string_view::npos ? std::string_view() : in.substr(q + 1);

    static const strom::mod::StatsBoard::Snapshot snap;
    int status = 0;
    std::string body = strom::mod::api_answer(snap, path, query, &status);
    check_answer(body, status);

    static strom::mod::EventRing* ring = strom::mod::EventRing::create();
    status = 0;
    body = strom::mod::events_answer(*ring, query, &status);
    check_answer(body, status);
    return 0;
}
