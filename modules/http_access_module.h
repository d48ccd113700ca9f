// The access rules of the http {} side: `allow|deny ADDRESS|CIDR|all|unix:` in http{},
// server{} and location{} (nginx's ngx_http_access_module: checked in file order, the
// first match wins, no match allows; a level with rules replaces the inherited list), and
// `api_token TOKEN [read|control]` for the locations with `api on` / `metrics on` (checked
// by the api module through api_auth.h). A denied request gets 403 before any content
// handler runs. Rules and tokens live in the cycle's confs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/cidr.h"
#include "core/module.h"
#include "http/http_session.h"
#include "modules/api_auth.h"

namespace strom::mod {

struct HttpAccessRule {
    bool allow = false;
    bool unix_socket = false;  // `unix:`: clients of a unix-domain listener
    Cidr cidr;
    std::string text;   // "deny 10.0.0.0/8", for the log
    std::string where;  // " in file:line"
};

struct HttpAccessConf : ConfBase {
    std::optional<std::vector<HttpAccessRule>> rules;
    std::optional<std::vector<ApiToken>> tokens;
};

// The first rule that matches the client, or nullptr (no rule: allowed).
const HttpAccessRule* http_access_match(const std::vector<HttpAccessRule>& rules,
                                        const sockaddr* sa, socklen_t len);

class HttpAccessModule final : public Module {
public:
    const char* name() const override { return "http_access"; }
    const char* conf_block() const override { return "http"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;

    // A content handler that runs first: 403 (Rc::done) for a denied client, else declined.
    Rc handle(http::HttpSession& s, const AppBlock& location);
};

extern HttpAccessModule http_access_module;

// The api_token list of a location (empty when none applies).
const std::vector<ApiToken>& api_tokens(const AppBlock& location);

}  // namespace strom::mod
