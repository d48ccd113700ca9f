#include "http/http_core_module.h"

#include "core/conf_context.h"
#include "core/conf_node.h"
#include "core/conf_setters.h"
#include "core/conf_value.h"
#include "core/connection.h"
#include "core/net_addr.h"
#include "http/http_session.h"

namespace strom::http {

HttpCoreModule http_core_module;

namespace {

class HttpFactory final : public ConnHandlerFactory {
public:
    ConnHandler* create(Connection& c, void* server) override
    {
        return new HttpSession(c, static_cast<const ServerBlock*>(server));
    }
};
HttpFactory http_factory;

// listen ADDRESS [backlog=N] [reuseport]
const char* set_listen(ConfContext& cx, ConfBase*, const ConfNode& d)
{
    if (!cx.server) return "is not allowed here";
    ListenSpec ls;
    std::string err;
    if (!parse_listen_address(d.args[0], &ls.addr, &err, 80)) {
        return cx.fail("%s in \"listen\" directive", err.c_str());
    }
    for (size_t i = 1; i < d.args.size(); ++i) {
        const char* rv = apply_listen_option(d.args[i], &ls);
        if (rv && rv[0] == 'i') return cx.invalid(d, i);
        if (rv) return cx.invalid(d, i, "it must be \"backlog=N\" or \"reuseport\"");
    }
    ls.proto = &http_factory;
    ls.server = cx.server;
    ls.file = d.file;
    ls.line = d.line;
    if (!cx.cycle.add_listen(std::move(ls), &err)) return cx.fail("%s", err.c_str());
    return nullptr;
}

// large_client_header_buffers NUMBER SIZE (nginx's: SIZE bounds a line, NUMBER*SIZE the head)
const char* set_large_headers(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<HttpCoreConf*>(conf);
    if (c->large_header_count) return "is duplicate";
    uint64_t n = 0, size = 0;
    if (!parse_uint(d.args[0], &n) || n < 1 || n > 64)
        return cx.invalid(d, 0, "it must be 1 to 64");
    if (!parse_size(d.args[1], &size) || size < 256 || size > (1u << 20)) {
        return cx.invalid(d, 1, "it must be 256 to 1m");
    }
    c->large_header_count = uint32_t(n);
    c->large_header_size = size;
    return nullptr;
}

bool header_token(const std::string& s)
{
    if (s.empty()) return false;
    for (unsigned char ch : s) {
        if (ch <= 32 || ch >= 127 || ch == ':') return false;
    }
    return true;
}

// add_header NAME VALUE (repeatable; a level with its own replaces the inherited ones)
const char* set_add_header(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<HttpCoreConf*>(conf);
    if (!header_token(d.args[0])) return cx.invalid(d, 0, "it must be a header name");
    for (unsigned char ch : d.args[1]) {
        if (ch < 32 && ch != '\t') return cx.invalid(d, 1, "it must not hold control characters");
    }
    if (!c->add_header) c->add_header.emplace();
    c->add_header->emplace_back(d.args[0], d.args[1]);
    return nullptr;
}

using C = HttpCoreConf;
constexpr Directive kDirectives[] = {
    {"listen", kCtxHttpServer, ArgShape::range(1, 3), set_listen},
    {"keepalive_timeout", kCtxHttpAny, ArgShape::n(1), set_msec<&C::keepalive_timeout>},
    {"client_header_timeout", kCtxHttpAny, ArgShape::n(1), set_msec<&C::client_header_timeout, 1>},
    {"client_max_body_size", kCtxHttpAny, ArgShape::n(1), set_size<&C::client_max_body_size>},
    {"large_client_header_buffers", kCtxHttpAny, ArgShape::n(2), set_large_headers},
    {"add_header", kCtxHttpAny, ArgShape::n(2), set_add_header},
};

}  // namespace

std::span<const Directive> HttpCoreModule::directives() const
{
    return kDirectives;
}

std::unique_ptr<ConfBase> HttpCoreModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return std::make_unique<HttpMainConf>();
    return std::make_unique<HttpCoreConf>();
}

const char* HttpCoreModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    auto& c = *static_cast<HttpCoreConf*>(child);
    auto& p = *static_cast<const HttpCoreConf*>(parent);
    merge_value(c.keepalive_timeout, p.keepalive_timeout, uint64_t(75000));
    merge_value(c.client_header_timeout, p.client_header_timeout, uint64_t(60000));
    merge_value(c.client_max_body_size, p.client_max_body_size, uint64_t(1) << 20);
    if (!c.large_header_count && p.large_header_count) {
        c.large_header_count = p.large_header_count;
        c.large_header_size = p.large_header_size;
    }
    merge_value(c.large_header_count, p.large_header_count, 4u);
    merge_value(c.large_header_size, p.large_header_size, uint64_t(8192));
    merge_value(c.add_header, p.add_header, std::vector<std::pair<std::string, std::string>>());
    return nullptr;
}

Rc HttpCoreModule::postconfiguration(Cycle& cycle)
{
    // Modules after this one add their handlers in their own postconfiguration: the list
    // is complete before any request, and its address does not change.
    const std::vector<ContentHandler>* list = &content_handlers(cycle);
    ProtoBlock& http = *cycle.proto("http");
    http.conf<HttpCoreConf>(*this).handlers = list;
    for (auto& srv : http.servers) {
        srv->conf<HttpCoreConf>(*this).handlers = list;
        srv->conf<HttpCoreConf>(*this).connection_hooks = &connection_hooks(cycle);
        for (auto& loc : srv->apps) loc->conf<HttpCoreConf>(*this).handlers = list;
    }
    return Rc::ok;
}

}  // namespace strom::http
