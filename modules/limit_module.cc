#include "modules/limit_module.h"

#include <cstring>

#include "core/conf_block.h"
#include "core/conf_setters.h"
#include "core/cycle.h"
#include "core/log.h"
#include "rtmp/rtmp_core_module.h"
#include "rtmp/session.h"

namespace strom::mod {

using rtmp::Session;

LimitModule limit_module;

namespace {

using C = LimitConf;
constexpr uint32_t kSrv = kCtxRtmp | kCtxServer;

// max_connections N|auto
const char* set_max_connections(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<LimitConf*>(conf);
    if (c->max_connections) return "is duplicate";
    if (d.args[0] == "auto") {
        c->max_connections = LimitConf::kAuto;
        return nullptr;
    }
    return set_num<&C::max_connections, 0, 1 << 24>(cx, conf, d);
}

constexpr Directive kDirectives[] = {
    {"max_connections", kSrv, ArgShape::n(1), set_max_connections},
    {"max_connections_per_ip", kSrv, ArgShape::n(1),
     set_num<&C::max_connections_per_ip, 0, 1 << 24>},
};

// What a counted session holds in its ctx slot: which counters to give back.
struct Counted {
    const ServerBlock* server;
    IpAddr ip;
    bool has_ip;
};

}  // namespace

size_t IpAddrHash::operator()(const IpAddr& a) const
{
    uint64_t x, y;
    memcpy(&x, a.b, 8);
    memcpy(&y, a.b + 8, 8);
    return size_t(x * 0x9E3779B97F4A7C15ull ^ (y + (y >> 29)));
}

std::span<const Directive> LimitModule::directives() const
{
    return kDirectives;
}

std::unique_ptr<ConfBase> LimitModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main || level == ConfLevel::app) return nullptr;
    return std::make_unique<LimitConf>();
}

const char* LimitModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel level)
{
    auto& c = *static_cast<LimitConf*>(child);
    auto& p = *static_cast<const LimitConf*>(parent);
    // max_connections is not inherited: at rtmp{} it bounds the worker, at server{} the
    // server; the server level keeps 0 (none of its own) unless it sets one.
    if (level == ConfLevel::server) {
        merge_value(c.max_connections, std::optional<uint32_t>(), 0u);
    } else {
        merge_value(c.max_connections, p.max_connections, LimitConf::kAuto);
    }
    // 64 players behind one NAT per worker is generous; a flood from one address is not.
    merge_value(c.max_connections_per_ip, p.max_connections_per_ip, 64u);
    return nullptr;
}

Rc LimitModule::postconfiguration(Cycle& cycle)
{
    rtmp::Hooks& h = rtmp::hooks(cycle);
    h.start.push_back(rtmp::StartHandler::bind<&LimitModule::on_start>(this));
    h.disconnect.push_back(rtmp::Notify<Session&>::bind<&LimitModule::on_disconnect>(this));
    return Rc::ok;
}

uint32_t LimitModule::count_for(const IpAddr& a) const
{
    auto it = per_ip_.find(a);
    return it == per_ip_.end() ? 0 : it->second.count;
}

void LimitModule::log_refusal(Session& s, IpEntry* e, const char* what, uint32_t limit)
{
    uint64_t now = s.loop().now();
    uint64_t& last = e ? e->last_log : last_total_log_;
    if (last && now - last < 1000) {
        if (e) ++e->suppressed;
        return;
    }
    uint32_t more = e ? e->suppressed : 0;
    if (e) e->suppressed = 0;
    last = now ? now : 1;
    STROM_LOG(warn, s.id(), "client %s refused: %s %u reached%s", s.peer(), what, limit,
              more ? " (and more refusals from this address in the last second)" : "");
}

Rc LimitModule::on_start(Session& s)
{
    if (s.internal() || !s.server()) return Rc::ok;
    const ServerBlock* srv = s.server();
    const LimitConf& top = srv->proto->conf<LimitConf>(*this);
    const LimitConf& sc = srv->conf<LimitConf>(*this);
    uint32_t slots = s.conn().table().capacity();
    uint32_t worker_max =
        *top.max_connections == LimitConf::kAuto ? auto_limit(slots) : *top.max_connections;
    if (worker_max && total_ >= worker_max) {
        log_refusal(s, nullptr,
                    *top.max_connections == LimitConf::kAuto
                        ? "max_connections (worker, auto: 3/4 of worker_connections)"
                        : "max_connections (worker)",
                    worker_max);
        return Rc::error;
    }
    uint32_t& in_server = per_server_[srv];
    uint32_t server_max =
        *sc.max_connections == LimitConf::kAuto ? auto_limit(slots) : *sc.max_connections;
    if (server_max && in_server >= server_max) {
        log_refusal(s, nullptr, "max_connections (server)", server_max);
        return Rc::error;
    }
    auto* c = new Counted{srv, IpAddr(), false};
    c->has_ip = ip_from_sockaddr(s.client_addr(), s.client_addr_len(), &c->ip);
    if (c->has_ip) {
        IpEntry& e = per_ip_[c->ip];
        if (*sc.max_connections_per_ip && e.count >= *sc.max_connections_per_ip) {
            log_refusal(s, &e, "max_connections_per_ip", *sc.max_connections_per_ip);
            if (e.count == 0) per_ip_.erase(c->ip);
            delete c;
            return Rc::error;
        }
        ++e.count;
    }
    ++in_server;
    ++total_;
    s.ctx().set(*this, c);
    return Rc::ok;
}

void LimitModule::on_disconnect(Session& s)
{
    auto* c = s.ctx().get<Counted>(*this);
    if (!c) return;
    s.ctx().raw(*this) = nullptr;
    --total_;
    auto sit = per_server_.find(c->server);
    if (sit != per_server_.end() && --sit->second == 0) per_server_.erase(sit);
    if (c->has_ip) {
        auto it = per_ip_.find(c->ip);
        if (it != per_ip_.end() && --it->second.count == 0) per_ip_.erase(it);
    }
    delete c;
}

}  // namespace strom::mod
