#include "modules/limit_module.h"

#include <cstdio>
#include <cstring>

#include "core/conf_block.h"
#include "core/conf_setters.h"
#include "core/cycle.h"
#include "core/log.h"
#include "http/http_core_module.h"
#include "http/http_session.h"
#include "modules/events_module.h"
#include "rtmp/rtmp_core_module.h"
#include "rtmp/session.h"

namespace strom::mod {

using rtmp::Session;

LimitModule limit_module;
HttpLimitModule http_limit_module;

namespace {

using C = LimitConf;
constexpr uint32_t kSrv = kCtxRtmp | kCtxServer;
constexpr uint32_t kHttpSrv = kCtxHttp | kCtxHttpServer;

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

constexpr Directive kHttpDirectives[] = {
    {"max_connections", kHttpSrv, ArgShape::n(1), set_max_connections},
    {"max_connections_per_ip", kHttpSrv, ArgShape::n(1),
     set_num<&C::max_connections_per_ip, 0, 1 << 24>},
};

// Shared by the rtmp and http levels: the same defaults and inheritance.
void merge_limits(LimitConf& c, const LimitConf& p, ConfLevel level)
{
    // max_connections is not inherited: at rtmp{} / http{} it bounds the worker, at
    // server{} the server; the server level keeps 0 (none of its own) unless it sets one.
    if (level == ConfLevel::server) {
        merge_value(c.max_connections, std::optional<uint32_t>(), 0u);
    } else {
        merge_value(c.max_connections, p.max_connections, LimitConf::kAuto);
    }
    // 64 players behind one NAT per worker is generous; a flood from one address is not.
    merge_value(c.max_connections_per_ip, p.max_connections_per_ip, 64u);
}

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
    merge_limits(*static_cast<LimitConf*>(child), *static_cast<const LimitConf*>(parent), level);
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

void LimitModule::log_refusal(const LimitClient& c, IpEntry* e, const char* what, uint32_t limit)
{
    uint64_t& last = e ? e->last_log : last_total_log_;
    if (last && c.now - last < 1000) {
        if (e) ++e->suppressed;
        return;
    }
    uint32_t more = e ? e->suppressed : 0;
    if (e) e->suppressed = 0;
    last = c.now ? c.now : 1;
    STROM_LOG(warn, c.id, "client %s refused: %s %u reached%s", c.peer, what, limit,
              more ? " (and more refusals from this address in the last second)" : "");
    // Rate-limited with the log line, so a flood of refused connections cannot flush the
    // activity list.
    char why[128];
    snprintf(why, sizeof why, "%s %u reached%s", what, limit,
             more ? " (and more from this address in the last second)" : "");
    const char* proto = c.server && c.server->proto ? c.server->proto->name.c_str() : "";
    events_module.refused_connection(c.id, c.peer, proto, why);
}

const char* LimitModule::admit(const LimitClient& c)
{
    const LimitConf& top = *c.top;
    const LimitConf& sc = *c.conf;
    uint32_t worker_max =
        *top.max_connections == LimitConf::kAuto ? auto_limit(c.slots) : *top.max_connections;
    if (worker_max && total_ >= worker_max) {
        const char* what = *top.max_connections == LimitConf::kAuto
                               ? "max_connections (worker, auto: 3/4 of worker_connections)"
                               : "max_connections (worker)";
        log_refusal(c, nullptr, what, worker_max);
        return what;
    }
    uint32_t& in_server = per_server_[c.server];
    uint32_t server_max =
        *sc.max_connections == LimitConf::kAuto ? auto_limit(c.slots) : *sc.max_connections;
    if (server_max && in_server >= server_max) {
        if (in_server == 0) per_server_.erase(c.server);
        log_refusal(c, nullptr, "max_connections (server)", server_max);
        return "max_connections (server)";
    }
    Counted k{c.server, IpAddr(), false};
    k.has_ip = ip_from_sockaddr(c.addr, c.addr_len, &k.ip);
    if (k.has_ip) {
        IpEntry& e = per_ip_[k.ip];
        if (*sc.max_connections_per_ip && e.count >= *sc.max_connections_per_ip) {
            log_refusal(c, &e, "max_connections_per_ip", *sc.max_connections_per_ip);
            if (e.count == 0) per_ip_.erase(k.ip);
            if (in_server == 0) per_server_.erase(c.server);
            return "max_connections_per_ip";
        }
        ++e.count;
    }
    ++in_server;
    ++total_;
    counted_.emplace(c.id, k);
    return nullptr;
}

void LimitModule::release(uint64_t id)
{
    auto it = counted_.find(id);
    if (it == counted_.end()) return;
    const Counted& k = it->second;
    --total_;
    auto sit = per_server_.find(k.server);
    if (sit != per_server_.end() && --sit->second == 0) per_server_.erase(sit);
    if (k.has_ip) {
        auto ip = per_ip_.find(k.ip);
        if (ip != per_ip_.end() && --ip->second.count == 0) per_ip_.erase(ip);
    }
    counted_.erase(it);
}

Rc LimitModule::on_start(Session& s)
{
    if (s.internal() || !s.server()) return Rc::ok;
    LimitClient c;
    c.id = s.id();
    c.addr = s.client_addr();
    c.addr_len = s.client_addr_len();
    c.peer = s.peer();
    c.server = s.server();
    c.top = &c.server->proto->conf<LimitConf>(*this);
    c.conf = &c.server->conf<LimitConf>(*this);
    c.slots = s.conn().table().capacity();
    c.now = s.loop().now();
    return admit(c) ? Rc::error : Rc::ok;
}

void LimitModule::on_disconnect(Session& s)
{
    release(s.id());
}

const char* LimitModule::on_http_start(http::HttpSession& s)
{
    if (!s.server()) return nullptr;
    LimitClient c;
    c.id = s.id();
    c.addr = reinterpret_cast<const sockaddr*>(&s.conn().peer());
    c.addr_len = sizeof(sockaddr_storage);
    c.peer = s.peer();
    c.server = s.server();
    c.top = &c.server->proto->conf<LimitConf>(http_limit_module);
    c.conf = &c.server->conf<LimitConf>(http_limit_module);
    c.slots = s.conn().table().capacity();
    c.now = s.conn().loop().now();
    return admit(c);
}

void LimitModule::on_http_close(http::HttpSession& s)
{
    release(s.id());
}

// --- http {} ------------------------------------------------------------------------------

std::span<const Directive> HttpLimitModule::directives() const
{
    return kHttpDirectives;
}

std::unique_ptr<ConfBase> HttpLimitModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main || level == ConfLevel::app) return nullptr;
    return std::make_unique<LimitConf>();
}

const char* HttpLimitModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel level)
{
    merge_limits(*static_cast<LimitConf*>(child), *static_cast<const LimitConf*>(parent), level);
    return nullptr;
}

Rc HttpLimitModule::postconfiguration(Cycle& cycle)
{
    http::connection_hooks(cycle).push_back(
        http::ConnectionHook::bind<&LimitModule::on_http_start, &LimitModule::on_http_close>(
            &limit_module));
    return Rc::ok;
}

}  // namespace strom::mod
