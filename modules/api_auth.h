// Bearer-token protection of the HTTP API and metrics (`api_token TOKEN [read|control]`).
// The rule is one pure function that every API endpoint, present and future, goes through:
// GET/HEAD need the read scope, anything else the control scope; a control token has both.
// Tokens are plain values in the location's conf (owned by the cycle's confs).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strom::http {
class HttpSession;
}

namespace strom::mod {

enum class ApiScope : uint8_t { read = 1, control = 2 };

struct ApiToken {
    std::string token;
    ApiScope scope = ApiScope::control;
    std::string where;  // " in file:line", for -t errors
};

// The scope a request of this method needs: read for GET/HEAD, control otherwise.
ApiScope api_scope_needed(std::string_view method);
// "read" / "control"; false for any other word.
bool parse_api_scope(std::string_view word, ApiScope* out);
// RFC 6750 2.1 token68 characters; false for an empty or ill-formed token.
bool valid_api_token(std::string_view token);

struct ApiAuthResult {
    int status = 200;        // 200, 401 or 403
    const char* error = "";  // RFC 6750 3.1 error code ("" when no credentials were sent)
    const char* why = "";    // for the log and the JSON body
};

// The decision for a request with this Authorization header value ("" when absent). No
// tokens configured: 200. The tokens are compared in constant time (every token, every
// byte of the longer of the two), so the answer time tells nothing about a token.
ApiAuthResult api_auth_check(const std::vector<ApiToken>& tokens, std::string_view authorization,
                             ApiScope needed);

// Applies api_auth_check to the session's request; on a refusal answers 401 (with
// WWW-Authenticate) or 403 in JSON, logs one line naming the client and the URI and returns
// false. `what` names the feature in the log ("api", "metrics").
bool api_authorize(http::HttpSession& s, const std::vector<ApiToken>& tokens, const char* what);

}  // namespace strom::mod
