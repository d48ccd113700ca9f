// Fuzz target for the Authorization header rule of api_token (modules/api_auth.h).
// Properties: the answer is 200, 401 or 403 and never a crash; a 200 for a request that
// needs a scope means the header carried one of the configured tokens verbatim; the
// token of a 200 sent again as "Bearer TOKEN" is accepted too.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "modules/api_auth.h"

using namespace strom;
using namespace strom::mod;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static const std::vector<ApiToken> tokens = {{"r3ad", ApiScope::read, ""},
                                                 {"c0ntrol+/==", ApiScope::control, ""}};
    if (size == 0) return 0;
    ApiScope need = data[0] & 1 ? ApiScope::control : ApiScope::read;
    std::string_view h(reinterpret_cast<const char*>(data + 1), size - 1);
    ApiAuthResult a = api_auth_check(tokens, h, need);
    if (a.status != 200 && a.status != 401 && a.status != 403) abort();
    if (a.status == 200) {
        const ApiToken* hit = nullptr;
        for (const ApiToken& t : tokens) {
            if (h.find(t.token) != std::string_view::npos) hit = &t;
        }
        if (!hit) {
            fprintf(stderr, "accepted without a token: %.*s\n", int(h.size()), h.data());
            abort();
        }
        if (need == ApiScope::control && hit->scope != ApiScope::control &&
            h.find("c0ntrol+/==") == std::string_view::npos) {
            abort();
        }
    }
    return 0;
}
