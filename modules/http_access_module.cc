#include "modules/http_access_module.h"

#include <sys/un.h>

#include "core/conf_block.h"
#include "core/conf_context.h"
#include "core/conf_node.h"
#include "core/conf_setters.h"
#include "core/log.h"
#include "http/http_core_module.h"

namespace strom::mod {

HttpAccessModule http_access_module;

namespace {

// allow|deny ADDRESS|CIDR|all|unix:
const char* set_rule(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<HttpAccessConf*>(conf);
    if (!c) return "is not allowed here";
    HttpAccessRule r;
    r.allow = d.name == "allow";
    const char* why = "";
    if (d.args[0] == "unix:") {
        r.unix_socket = true;
    } else if (!parse_cidr(d.args[0], &r.cidr, &why)) {
        return cx.fail("\"%s\" directive invalid value: \"%s\", %s", d.name.c_str(),
                       d.args[0].c_str(), why);
    }
    r.text = d.name + " " + d.args[0];
    r.where = conf_where(d);
    if (!c->rules) c->rules.emplace();
    c->rules->push_back(std::move(r));
    return nullptr;
}

// api_token TOKEN [read|control]
const char* set_token(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<HttpAccessConf*>(conf);
    if (!c) return "is not allowed here";
    ApiToken t;
    if (!valid_api_token(d.args[0])) {
        return cx.invalid(d, 0, "a token is 1 or more of A-Z a-z 0-9 - . _ ~ + / (then =)");
    }
    if (d.args.size() == 2 && !parse_api_scope(d.args[1], &t.scope)) {
        return cx.invalid(d, 1, "it must be \"read\" or \"control\"");
    }
    t.token = d.args[0];
    t.where = conf_where(d);
    if (!c->tokens) c->tokens.emplace();
    for (const ApiToken& o : *c->tokens) {
        if (o.token == t.token) return cx.fail("duplicate \"api_token\"%s", t.where.c_str());
    }
    c->tokens->push_back(std::move(t));
    return nullptr;
}

constexpr Directive kDirectives[] = {
    {"allow", kCtxHttpAny, ArgShape::n(1), set_rule},
    {"deny", kCtxHttpAny, ArgShape::n(1), set_rule},
    {"api_token", kCtxHttpAny, ArgShape::range(1, 2), set_token},
};

const std::vector<ApiToken> kNoTokens;

}  // namespace

const HttpAccessRule* http_access_match(const std::vector<HttpAccessRule>& rules,
                                        const sockaddr* sa, socklen_t len)
{
    bool is_unix = len >= sizeof(sa_family_t) && sa->sa_family == AF_UNIX;
    for (const HttpAccessRule& r : rules) {
        if (r.unix_socket ? is_unix : cidr_match(r.cidr, sa, len)) return &r;
    }
    return nullptr;
}

const std::vector<ApiToken>& api_tokens(const AppBlock& location)
{
    const auto& t = location.conf<HttpAccessConf>(http_access_module).tokens;
    return t ? *t : kNoTokens;
}

std::span<const Directive> HttpAccessModule::directives() const
{
    return kDirectives;
}

std::unique_ptr<ConfBase> HttpAccessModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    return std::make_unique<HttpAccessConf>();
}

const char* HttpAccessModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel)
{
    auto& c = *static_cast<HttpAccessConf*>(child);
    auto& p = *static_cast<const HttpAccessConf*>(parent);
    merge_value(c.rules, p.rules, std::vector<HttpAccessRule>());
    merge_value(c.tokens, p.tokens, std::vector<ApiToken>());
    return nullptr;
}

Rc HttpAccessModule::postconfiguration(Cycle& cycle)
{
    // Registered before every content module (module_list.cc order), so it runs first.
    http::content_handlers(cycle).push_back(
        http::ContentHandler::bind<&HttpAccessModule::handle>(this));
    return Rc::ok;
}

Rc HttpAccessModule::handle(http::HttpSession& s, const AppBlock& location)
{
    const auto& rules = *location.conf<HttpAccessConf>(*this).rules;
    if (rules.empty()) return Rc::declined;
    const sockaddr_storage& peer = s.conn().peer();
    const HttpAccessRule* r =
        http_access_match(rules, reinterpret_cast<const sockaddr*>(&peer), sizeof peer);
    if (!r || r->allow) return Rc::declined;
    const http::Request& q = s.request();
    STROM_LOG(notice, s.id(), "http %.*s %.*s from %s denied by \"%s\"%s", int(q.method.size()),
              q.method.data(), int(q.target.size()), q.target.data(), s.peer(), r->text.c_str(),
              r->where.c_str());
    s.respond_error(403);
    return Rc::done;
}

}  // namespace strom::mod
