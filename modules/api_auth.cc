#include "modules/api_auth.h"

#include "core/ascii.h"
#include "core/json_writer.h"
#include "core/log.h"
#include "http/http_session.h"

namespace strom::mod {

namespace {

bool token68_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

// Constant time in the secret: walks the whole of `secret` whatever `given` is, and the
// length difference joins the same accumulator instead of returning early.
bool same_token(std::string_view given, std::string_view secret)
{
    unsigned diff = given.size() == secret.size() ? 0u : 1u;
    for (size_t i = 0; i < secret.size(); ++i) {
        unsigned char g = i < given.size() ? uint8_t(given[i]) : 0;
        diff |= unsigned(g ^ uint8_t(secret[i]));
    }
    return diff == 0;
}

// RFC 7235 2.1 / RFC 6750 2.1: `Bearer 1*SP token68`, the scheme case-insensitive. False
// when the value is not of that shape.
bool bearer_credentials(std::string_view v, std::string_view* token)
{
    v = trim_ows(v);
    size_t sp = v.find(' ');
    if (sp == std::string_view::npos || !iequals(v.substr(0, sp), "Bearer")) return false;
    std::string_view t = v.substr(sp);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    if (!valid_api_token(t)) return false;
    *token = t;
    return true;
}

}  // namespace

ApiScope api_scope_needed(std::string_view method)
{
    return method == "GET" || method == "HEAD" ? ApiScope::read : ApiScope::control;
}

bool parse_api_scope(std::string_view word, ApiScope* out)
{
    if (word == "read") {
        *out = ApiScope::read;
    } else if (word == "control") {
        *out = ApiScope::control;
    } else {
        return false;
    }
    return true;
}

bool valid_api_token(std::string_view t)
{
    size_t n = 0;
    while (n < t.size() && token68_char(t[n])) ++n;
    size_t body = n;
    while (n < t.size() && t[n] == '=') ++n;
    return body > 0 && n == t.size();
}

ApiAuthResult api_auth_check(const std::vector<ApiToken>& tokens, std::string_view authorization,
                             ApiScope needed)
{
    if (tokens.empty()) return {};
    if (authorization.empty()) return {401, "", "no bearer token"};
    std::string_view given;
    if (!bearer_credentials(authorization, &given)) {
        return {401, "invalid_request", "malformed Authorization header"};
    }
    const ApiToken* found = nullptr;
    for (const ApiToken& t : tokens) {  // no early exit: every token is compared
        if (same_token(given, t.token) && !found) found = &t;
    }
    if (!found) return {401, "invalid_token", "unknown bearer token"};
    if (needed == ApiScope::control && found->scope != ApiScope::control) {
        return {403, "insufficient_scope", "the token is read-only"};
    }
    return {};
}

bool api_authorize(http::HttpSession& s, const std::vector<ApiToken>& tokens, const char* what)
{
    const http::Request& r = s.request();
    ApiAuthResult a = api_auth_check(tokens, r.header("Authorization"), api_scope_needed(r.method));
    if (a.status == 200) return true;
    STROM_LOG(notice, s.id(), "%s: %.*s %.*s from %s: %d, %s", what, int(r.method.size()),
              r.method.data(), int(r.target.size()), r.target.data(), s.peer(), a.status, a.why);
    std::string body;
    JsonWriter w(&body);
    w.begin_object();
    w.member("error", a.why);
    if (*a.error) w.member("code", a.error);
    w.end_object();
    body.push_back('\n');
    std::string extra = "Cache-Control: no-store\r\nWWW-Authenticate: Bearer realm=\"strom\"";
    if (*a.error) {
        extra += ", error=\"";
        extra += a.error;
        extra += '"';
        if (a.status == 403) extra += ", scope=\"control\"";
    }
    extra += "\r\n";
    s.respond(a.status, "application/json", body, extra);
    return false;
}

}  // namespace strom::mod
