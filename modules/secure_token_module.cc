#include "modules/secure_token_module.h"

#include <ctime>

#include "core/cidr.h"
#include "core/conf_block.h"
#include "core/conf_context.h"
#include "core/conf_node.h"
#include "core/conf_setters.h"
#include "core/log.h"
#include "modules/secure_token_sign.h"
#include "modules/stream_gate.h"
#include "rtmp/rtmp_core_module.h"
#include "rtmp/session.h"

namespace strom::mod {

using rtmp::Next;
using rtmp::PlayCmd;
using rtmp::PublishCmd;
using rtmp::Session;
using rtmp::Status;

SecureTokenModule secure_token_module;

namespace {

const char* set_secret(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<SecureTokenConf*>(conf);
    if (!c) return "is not allowed here";
    if (c->secret) return "is duplicate";
    if (d.args[0] == "off") {
        c->secret = std::string();
        return nullptr;
    }
    // A short secret can be guessed offline from one signed URL.
    if (d.args[0].size() < 16)
        return cx.invalid(d, 0, "the secret must have at least 16 characters");
    c->secret = d.args[0];
    return nullptr;
}

using C = SecureTokenConf;
constexpr Directive kDirectives[] = {
    {"secure_token", kCtxRtmpAny, ArgShape::n(1), set_secret},
    {"secure_token_publish", kCtxRtmpAny, ArgShape::flag(), set_flag<&C::publish>},
    {"secure_token_play", kCtxRtmpAny, ArgShape::flag(), set_flag<&C::play>},
    {"secure_token_bind_addr", kCtxRtmpAny, ArgShape::flag(), set_flag<&C::bind_addr>},
};

// Checks the stream's args, then the connect's (a token in the tcUrl query); logs a
// refusal once. True when the client may go on.
bool verify(Session& s, const SecureTokenConf& c, const char* what, const std::string& name,
            const std::string& args)
{
    std::string addr;
    if (*c.bind_addr) {
        IpAddr ip;
        if (ip_from_sockaddr(s.client_addr(), s.client_addr_len(), &ip)) addr = ip_text(ip);
    }
    uint64_t now = uint64_t(time(nullptr));
    TokenResult r = secure_token_check(*c.secret, s.app_name(), name, args, now, addr);
    if (r == TokenResult::missing) {
        r = secure_token_check(*c.secret, s.app_name(), name, s.connect_info().app_args, now, addr);
    }
    if (r == TokenResult::ok) return true;
    STROM_LOG(notice, s.id(), "%s \"%s/%s\" from %s denied: %s", what, s.app_name().c_str(),
              name.c_str(), s.peer(), token_result_text(r));
    return false;
}

// The token of a request of another protocol: in its query string (an HTTP-FLV URL's).
bool verify_request(const SecureTokenConf& c, const media::ClientRequest& q)
{
    std::string addr;
    if (*c.bind_addr) {
        IpAddr ip;
        if (ip_from_sockaddr(q.addr, q.addr_len, &ip)) addr = ip_text(ip);
    }
    TokenResult r = secure_token_check(*c.secret, q.app_name, q.name, q.args, uint64_t(time(nullptr)), addr);
    if (r == TokenResult::ok) return true;
    STROM_LOG(notice, q.id, "%s %s \"%s/%s\" from %s denied: %s", q.protocol,
              q.action == media::Action::publish ? "publish" : "play", q.app_name.c_str(), q.name.c_str(),
              q.peer, token_result_text(r));
    return false;
}

const SecureTokenConf& conf_of(const Session& s)
{
    return s.app()->conf<SecureTokenConf>(secure_token_module);
}

}  // namespace

std::span<const Directive> SecureTokenModule::directives() const
{
    return kDirectives;
}

std::unique_ptr<ConfBase> SecureTokenModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    return std::make_unique<SecureTokenConf>();
}

const char* SecureTokenModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel)
{
    auto& c = *static_cast<SecureTokenConf*>(child);
    auto& p = *static_cast<const SecureTokenConf*>(parent);
    merge_value(c.secret, p.secret, std::string());
    merge_value(c.publish, p.publish, true);
    merge_value(c.play, p.play, true);
    merge_value(c.bind_addr, p.bind_addr, false);
    return nullptr;
}

Rc SecureTokenModule::postconfiguration(Cycle& cycle)
{
    stream_checks(cycle).push_back(media::RequestCheck::bind<&SecureTokenModule::check_request>(this));
    rtmp::Hooks& h = rtmp::hooks(cycle);
    h.publish.add<&SecureTokenModule::on_publish>(this);
    h.play.add<&SecureTokenModule::on_play>(this);
    return Rc::ok;
}

Rc SecureTokenModule::on_publish(Session& s, PublishCmd& cmd, Next<PublishCmd> next)
{
    const SecureTokenConf& c = conf_of(s);
    if (s.internal() || c.secret->empty() || !*c.publish ||
        verify(s, c, "publish", cmd.name, cmd.args)) {
        return next(s, cmd);
    }
    Rc rc = s.reject(cmd, Status::publish_denied, "Invalid or expired token.");
    s.conn().close_after_flush("bad token");
    return rc;
}

const char* SecureTokenModule::check_request(const media::ClientRequest& q)
{
    const auto& c = q.app->conf<SecureTokenConf>(secure_token_module);
    bool on = q.action == media::Action::publish ? *c.publish : *c.play;
    if (c.secret->empty() || !on || verify_request(c, q)) return nullptr;
    return "invalid or expired token";
}

Rc SecureTokenModule::on_play(Session& s, PlayCmd& cmd, Next<PlayCmd> next)
{
    const SecureTokenConf& c = conf_of(s);
    if (s.internal() || c.secret->empty() || !*c.play || verify(s, c, "play", cmd.name, cmd.args)) {
        return next(s, cmd);
    }
    Rc rc = s.reject(cmd, Status::play_denied, "Invalid or expired token.");
    s.conn().close_after_flush("bad token");
    return rc;
}

}  // namespace strom::mod
