// api_token's rule (modules/api_auth.h): scopes per method, missing and malformed
// Authorization headers, the case of "Bearer", tokens that differ in length; and the
// http access rules' first-match order (modules/http_access_module.h).
#include "modules/api_auth.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "modules/http_access_module.h"

namespace strom::mod {
namespace {

std::vector<ApiToken> tokens()
{
    return {{"r3ad", ApiScope::read, ""}, {"ctl-Token_1", ApiScope::control, ""}};
}

int check(std::string_view header, std::string_view method)
{
    return api_auth_check(tokens(), header, api_scope_needed(method)).status;
}

TEST(ApiAuth, NoTokensAllowsEverything)
{
    EXPECT_EQ(api_auth_check({}, "", ApiScope::control).status, 200);
    EXPECT_EQ(api_auth_check({}, "Bearer junk", ApiScope::control).status, 200);
}

TEST(ApiAuth, ScopeByMethod)
{
    EXPECT_EQ(api_scope_needed("GET"), ApiScope::read);
    EXPECT_EQ(api_scope_needed("HEAD"), ApiScope::read);
    EXPECT_EQ(api_scope_needed("POST"), ApiScope::control);
    EXPECT_EQ(api_scope_needed("DELETE"), ApiScope::control);
    EXPECT_EQ(api_scope_needed("get"), ApiScope::control);  // methods are case-sensitive
}

TEST(ApiAuth, ReadAndControlTokens)
{
    EXPECT_EQ(check("Bearer r3ad", "GET"), 200);
    EXPECT_EQ(check("Bearer r3ad", "HEAD"), 200);
    ApiAuthResult a = api_auth_check(tokens(), "Bearer r3ad", ApiScope::control);
    EXPECT_EQ(a.status, 403);
    EXPECT_STREQ(a.error, "insufficient_scope");
    EXPECT_EQ(check("Bearer ctl-Token_1", "GET"), 200);
    EXPECT_EQ(check("Bearer ctl-Token_1", "POST"), 200);
    EXPECT_EQ(check("Bearer ctl-Token_1", "DELETE"), 200);
}

TEST(ApiAuth, MissingAndMalformed)
{
    ApiAuthResult a = api_auth_check(tokens(), "", ApiScope::read);
    EXPECT_EQ(a.status, 401);
    EXPECT_STREQ(a.error, "");
    for (const char* h : {"Bearer", "Bearer ", "r3ad", "Basic r3ad", "Bearerr3ad", "Bearer r3 ad",
                          "Bearer r3ad,", "Bearer \"r3ad\"", "Token r3ad"}) {
        ApiAuthResult m = api_auth_check(tokens(), h, ApiScope::read);
        EXPECT_EQ(m.status, 401) << h;
        EXPECT_STREQ(m.error, "invalid_request") << h;
    }
}

TEST(ApiAuth, SchemeCaseAndSpaces)
{
    EXPECT_EQ(check("bearer r3ad", "GET"), 200);
    EXPECT_EQ(check("BEARER r3ad", "GET"), 200);
    EXPECT_EQ(check("  Bearer   r3ad  ", "GET"), 200);
    EXPECT_EQ(check("Bearer R3AD", "GET"), 401);  // the token itself is case-sensitive
}

TEST(ApiAuth, TokensDifferingInLength)
{
    for (const char* t : {"r3a", "r3ad0", "r3adr3ad", "r", "ctl-Token_", "ctl-Token_12"}) {
        ApiAuthResult a = api_auth_check(tokens(), std::string("Bearer ") + t, ApiScope::read);
        EXPECT_EQ(a.status, 401) << t;
        EXPECT_STREQ(a.error, "invalid_token") << t;
    }
}

TEST(ApiAuth, ConfWords)
{
    ApiScope s = ApiScope::read;
    EXPECT_TRUE(parse_api_scope("control", &s));
    EXPECT_EQ(s, ApiScope::control);
    EXPECT_TRUE(parse_api_scope("read", &s));
    EXPECT_EQ(s, ApiScope::read);
    EXPECT_FALSE(parse_api_scope("admin", &s));
    EXPECT_FALSE(parse_api_scope("Read", &s));
    EXPECT_TRUE(valid_api_token("abc-._~+/=="));
    EXPECT_FALSE(valid_api_token(""));
    EXPECT_FALSE(valid_api_token("=="));
    EXPECT_FALSE(valid_api_token("a=b"));
    EXPECT_FALSE(valid_api_token("a b"));
    EXPECT_FALSE(valid_api_token("a\"b"));
}

HttpAccessRule rule(bool allow, const char* cidr)
{
    HttpAccessRule r;
    r.allow = allow;
    const char* why = "";
    if (std::string_view(cidr) == "unix:") {
        r.unix_socket = true;
    } else {
        EXPECT_TRUE(parse_cidr(cidr, &r.cidr, &why)) << cidr << why;
    }
    r.text = cidr;
    return r;
}

TEST(HttpAccess, FirstMatchWins)
{
    std::vector<HttpAccessRule> rules = {rule(true, "127.0.0.1"), rule(true, "unix:"),
                                         rule(false, "127.0.0.0/8"), rule(false, "all")};
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
    auto* sa = reinterpret_cast<const sockaddr*>(&v4);
    EXPECT_TRUE(http_access_match(rules, sa, sizeof v4)->allow);
    inet_pton(AF_INET, "127.0.0.2", &v4.sin_addr);
    EXPECT_EQ(http_access_match(rules, sa, sizeof v4)->text, "127.0.0.0/8");
    sockaddr_in6 v6{};
    v6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &v6.sin6_addr);  // a dual-stack socket's v4 client
    EXPECT_TRUE(http_access_match(rules, reinterpret_cast<const sockaddr*>(&v6), sizeof v6)->allow);
    sockaddr un{};
    un.sa_family = AF_UNIX;
    EXPECT_TRUE(http_access_match(rules, &un, sizeof un)->allow);
    rules.erase(rules.begin(), rules.begin() + 3);
    EXPECT_FALSE(http_access_match(rules, &un, sizeof un)->allow);  // `all` includes unix:
    EXPECT_EQ(http_access_match({}, &un, sizeof un), nullptr);
}

}  // namespace
}  // namespace strom::mod
