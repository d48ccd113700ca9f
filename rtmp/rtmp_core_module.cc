#include "rtmp/rtmp_core_module.h"

#include "core/conf_block.h"
#include "core/conf_context.h"
#include "core/conf_node.h"
#include "core/conf_setters.h"
#include "core/connection.h"
#include "core/net_addr.h"
#include "rtmp/session.h"

namespace strom::rtmp {

RtmpCoreModule rtmp_core_module;

namespace {

class RtmpFactory final : public ConnHandlerFactory {
public:
    explicit RtmpFactory(bool internal, bool proxy = false) : internal_(internal), proxy_(proxy) {}
    ConnHandler* create(Connection& c, void* server) override
    {
        auto* s = new Session(c, static_cast<const ServerBlock*>(server));
        if (internal_) s->set_internal();
        if (proxy_) s->expect_proxy_header();
        return s;
    }

private:
    bool internal_;
    bool proxy_;   // `listen ... proxy_protocol`
};
RtmpFactory rtmp_factory(false);
RtmpFactory internal_factory(true);
RtmpFactory proxy_factory(false, true);

// set_real_ip_from CIDR (repeatable)
const char* set_real_ip_from(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<RtmpCoreConf*>(conf);
    Cidr cidr;
    const char* why = "";
    if (!parse_cidr(d.args[0], &cidr, &why)) {
        return cx.fail("\"set_real_ip_from\" directive invalid value: \"%s\", %s", d.args[0].c_str(), why);
    }
    if (!c->real_ip_from) c->real_ip_from.emplace();
    c->real_ip_from->push_back(cidr);
    return nullptr;
}

// listen ADDRESS [backlog=N] [reuseport]
const char* set_listen(ConfContext& cx, ConfBase*, const ConfNode& d)
{
    if (!cx.server) return "is not allowed here";
    ListenSpec ls;
    std::string err;
    if (!parse_listen_address(d.args[0], &ls.addr, &err, -1)) {
        return cx.fail("%s in \"listen\" directive", err.c_str());
    }
    for (size_t i = 1; i < d.args.size(); ++i) {
        const std::string& a = d.args[i];
        const char* rv = apply_listen_option(a, &ls);
        if (!rv) continue;
        if (rv[0] == 'i') return cx.invalid(d, i);
        if (a != "proxy_protocol") {
            return cx.invalid(d, i, "it must be \"backlog=N\", \"reuseport\" or \"proxy_protocol\"");
        }
        ls.proto = &proxy_factory;
    }
    if (!ls.proto) ls.proto = &rtmp_factory;
    ls.server = cx.server;
    ls.file = d.file;
    ls.line = d.line;
    if (!cx.cycle.add_listen(std::move(ls), &err)) return cx.fail("%s", err.c_str());
    return nullptr;
}

using C = RtmpCoreConf;
constexpr uint32_t kSrv = kCtxRtmp | kCtxServer;
constexpr uint64_t kMaxChunk = 0x7FFFFFFF;

constexpr Directive kDirectives[] = {
    {"listen", kCtxServer, ArgShape::range(1, 4), set_listen},
    {"set_real_ip_from", kSrv, ArgShape::n(1), set_real_ip_from},
    {"chunk_size", kSrv, ArgShape::n(1), set_size<&C::chunk_size, 128, 16777215>},
    {"max_message", kSrv, ArgShape::n(1), set_size<&C::max_message, 1024, 0xFFFFFF>},
    {"max_chunk_streams", kSrv, ArgShape::n(1), set_num<&C::max_chunk_streams, 2, 65536>},
    {"max_partial", kSrv, ArgShape::n(1), set_size<&C::max_partial, 1024>},
    {"max_streams", kSrv, ArgShape::n(1), set_num<&C::max_streams, 1, 1024>},
    {"max_name", kSrv, ArgShape::n(1), set_num<&C::max_name, 1, 4096>},
    {"handshake_timeout", kSrv, ArgShape::n(1), set_msec<&C::handshake_timeout, 1>},
    {"timeout", kSrv, ArgShape::n(1), set_msec<&C::timeout>},
    {"ping", kSrv, ArgShape::n(1), set_msec<&C::ping>},
    {"ping_timeout", kSrv, ArgShape::n(1), set_msec<&C::ping_timeout, 1>},
    {"ack_window", kSrv, ArgShape::n(1), set_size<&C::ack_window, 1, kMaxChunk>},
    {"out_queue", kSrv, ArgShape::n(1), set_num<&C::out_queue, 8, 65536>},
    {"out_queue_bytes", kSrv, ArgShape::n(1), set_size<&C::out_queue_bytes, 65536>},
};

}  // namespace

std::span<const Directive> RtmpCoreModule::directives() const { return kDirectives; }

ConnHandlerFactory& session_factory(bool internal)
{
    return internal ? internal_factory : rtmp_factory;
}

std::unique_ptr<ConfBase> RtmpCoreModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return std::make_unique<RtmpMainConf>();
    return std::make_unique<RtmpCoreConf>();
}

const char* RtmpCoreModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    auto& c = *static_cast<RtmpCoreConf*>(child);
    auto& p = *static_cast<const RtmpCoreConf*>(parent);
    merge_value(c.chunk_size, p.chunk_size, 4096u);
    merge_value(c.max_message, p.max_message, 8u << 20);
    merge_value(c.max_chunk_streams, p.max_chunk_streams, 64u);
    merge_value(c.max_partial, p.max_partial, uint64_t(32) << 20);
    merge_value(c.max_streams, p.max_streams, 16u);
    merge_value(c.max_name, p.max_name, 256u);
    merge_value(c.handshake_timeout, p.handshake_timeout, uint64_t(10000));
    merge_value(c.timeout, p.timeout, uint64_t(60000));
    merge_value(c.ping, p.ping, uint64_t(60000));
    merge_value(c.ping_timeout, p.ping_timeout, uint64_t(30000));
    merge_value(c.ack_window, p.ack_window, 5000000u);
    merge_value(c.out_queue, p.out_queue, 256u);
    merge_value(c.out_queue_bytes, p.out_queue_bytes, uint64_t(8) << 20);
    merge_value(c.real_ip_from, p.real_ip_from, std::vector<Cidr>());
    return nullptr;
}

Rc RtmpCoreModule::postconfiguration(Cycle& cycle)
{
    Hooks& h = hooks(cycle);
    Session::set_terminals(h);
    for (const ListenSpec& ls : cycle.listens) {
        if (ls.proto == &proxy_factory && ls.server && rtmp_conf(*ls.server).real_ip_from->empty()) {
            return cycle.fail("\"listen %s proxy_protocol\" needs \"set_real_ip_from\" in %s:%d",
                              ls.addr.text.c_str(), ls.file.c_str(), ls.line);
        }
    }
    for (auto& srv : rtmp_servers(cycle)) {
        srv->conf<RtmpCoreConf>(*this).hooks = &h;
        for (auto& app : srv->apps) app->conf<RtmpCoreConf>(*this).hooks = &h;
    }
    return Rc::ok;
}

}  // namespace strom::rtmp
