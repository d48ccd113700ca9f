// Fuzzes the notify callback form (modules/notify_form.h): client-supplied strings and
// query arguments go in, an application/x-www-form-urlencoded body comes out. Layout:
// [0] where the input splits into a value and a query (as a fraction of the rest), then
// the bytes. Checks: the body holds only unreserved bytes, '%XX', '+', '&' and '=';
// every added value decodes back to itself; the Location parsers (a plain name, or an
// rtmp:// relay target) never accept a name with control characters or longer than its
// limit, nor a relay host or app with control characters or spaces.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/http_parser.h"
#include "modules/notify_form.h"
#include "modules/relay_target.h"
#include "rtmp/url.h"

#define CHECK(x)                \
    do {                        \
        if (!(x)) std::abort(); \
    } while (0)

namespace {

bool form_safe(const std::string& s)
{
    for (unsigned char ch : s) {
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '*' ||
                  ch == '%' || ch == '+' || ch == '&' || ch == '=';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size < 1) return 0;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    size_t cut = in.size() * data[0] / 256;
    std::string_view value = in.substr(0, cut);
    std::string_view query = in.substr(cut);

    strom::mod::NotifyForm f;
    f.add("call", "publish");
    f.add("name", value);
    f.add_args(query);
    CHECK(form_safe(f.str()));
    // "call=publish&name=<value>" comes first and decodes back to the value.
    std::string_view body = f.str();
    constexpr std::string_view kHead = "call=publish&name=";
    CHECK(body.substr(0, kHead.size()) == kHead);
    std::string_view enc = body.substr(kHead.size());
    enc = enc.substr(0, enc.find('&'));
    CHECK(strom::form_decode(enc) == value);

    std::string name, args;
    if (strom::mod::notify_location_name(in, 64, &name, &args)) {
        CHECK(!name.empty());
        CHECK(name.size() + args.size() <= 64);
        for (unsigned char ch : name + args) CHECK(ch >= 0x20 && ch != 0x7f);
    }
    strom::mod::RelayTarget t;
    const char* why = nullptr;
    if (strom::mod::parse_relay_url(in, 64, &t, &why)) {
        CHECK(!t.host.empty() && !t.app.empty() && !t.name.empty() && t.port > 0);
        CHECK(t.name.size() + t.args.size() <= 64);
        for (unsigned char ch : t.host + t.app) CHECK(ch > 0x20 && ch != 0x7f);
        for (unsigned char ch : t.name + t.args) CHECK(ch >= 0x20 && ch != 0x7f);
        CHECK(t.url().compare(0, 7, "rtmp://") == 0);
    } else {
        CHECK(why != nullptr);
    }
    strom::rtmp::RtmpUrl u;
    std::string err;
    if (strom::rtmp::parse_rtmp_url(in, true, &u, &err)) CHECK(!u.host.empty() && !u.app.empty() && !u.stream.empty());
    return 0;
}
