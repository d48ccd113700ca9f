#include "modules/access_module.h"

#include "core/conf_block.h"
#include "core/conf_context.h"
#include "core/conf_node.h"
#include "core/conf_setters.h"
#include "core/log.h"
#include "modules/stream_gate.h"
#include "rtmp/rtmp_core_module.h"
#include "rtmp/session.h"

namespace strom::mod {

using rtmp::Next;
using rtmp::PlayCmd;
using rtmp::PublishCmd;
using rtmp::Session;
using rtmp::Status;

AccessModule access_module;

namespace {

// allow|deny [publish|play|publish,play] ADDRESS|CIDR|all
const char* set_rule(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<AccessConf*>(conf);
    if (!c) return "is not allowed here";
    AccessRule r;
    r.allow = d.name == "allow";
    size_t addr_at = 0;
    if (d.args.size() == 2) {
        std::string_view ops = d.args[0];
        for (size_t start = 0; start <= ops.size();) {
            size_t comma = ops.find(',', start);
            std::string_view w =
                ops.substr(start, comma == std::string_view::npos ? comma : comma - start);
            if (w == "publish") {
                r.ops |= uint8_t(AccessOp::publish);
            } else if (w == "play") {
                r.ops |= uint8_t(AccessOp::play);
            } else {
                return cx.invalid(d, 0, "it must be \"publish\" or \"play\"");
            }
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
        addr_at = 1;
    } else {
        r.ops = uint8_t(AccessOp::publish) | uint8_t(AccessOp::play);
    }
    const char* why = "";
    if (!parse_cidr(d.args[addr_at], &r.cidr, &why)) {
        return cx.fail("\"%s\" directive invalid value: \"%s\", %s", d.name.c_str(),
                       d.args[addr_at].c_str(), why);
    }
    r.text = d.name;
    for (const std::string& a : d.args) r.text += " " + a;
    r.where = conf_where(d);
    if (!c->rules) c->rules.emplace();
    c->rules->push_back(std::move(r));
    return nullptr;
}

constexpr Directive kDirectives[] = {
    {"allow", kCtxRtmpAny, ArgShape::range(1, 2), set_rule},
    {"deny", kCtxRtmpAny, ArgShape::range(1, 2), set_rule},
};

const std::vector<AccessRule>& rules_of(const Session& s)
{
    return *s.app()->conf<AccessConf>(access_module).rules;
}

// Logs the decision once, at the place that takes it; true when the client may go on.
bool check(Session& s, AccessOp op, const std::string& name)
{
    const AccessRule* r = access_match(rules_of(s), op, s.client_addr(), s.client_addr_len());
    if (!r || r->allow) {
        if (r) {
            STROM_LOG(debug, s.id(), "%s \"%s/%s\" from %s allowed by \"%s\"%s",
                      op == AccessOp::publish ? "publish" : "play", s.app_name().c_str(),
                      name.c_str(), s.peer(), r->text.c_str(), r->where.c_str());
        }
        return true;
    }
    STROM_LOG(notice, s.id(), "%s \"%s/%s\" from %s denied by \"%s\"%s",
              op == AccessOp::publish ? "publish" : "play", s.app_name().c_str(), name.c_str(),
              s.peer(), r->text.c_str(), r->where.c_str());
    return false;
}

}  // namespace

const char* AccessModule::check_request(const media::ClientRequest& q)
{
    AccessOp op = q.action == media::Action::publish ? AccessOp::publish : AccessOp::play;
    const char* what = op == AccessOp::publish ? "publish" : "play";
    const auto& rules = *q.app->conf<AccessConf>(access_module).rules;
    const AccessRule* r = access_match(rules, op, q.addr, q.addr_len);
    if (!r || r->allow) return nullptr;
    STROM_LOG(notice, q.id, "%s %s \"%s/%s\" from %s denied by \"%s\"%s", q.protocol, what,
              q.app_name.c_str(), q.name.c_str(), q.peer, r->text.c_str(), r->where.c_str());
    return "denied by rule";
}

const AccessRule* access_match(const std::vector<AccessRule>& rules, AccessOp op,
                               const sockaddr* sa, socklen_t len)
{
    for (const AccessRule& r : rules) {
        if ((r.ops & uint8_t(op)) && cidr_match(r.cidr, sa, len)) return &r;
    }
    return nullptr;
}

std::span<const Directive> AccessModule::directives() const
{
    return kDirectives;
}

std::unique_ptr<ConfBase> AccessModule::create_conf(ConfLevel level)
{
    if (level == ConfLevel::main) return nullptr;
    return std::make_unique<AccessConf>();
}

const char* AccessModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel)
{
    auto& c = *static_cast<AccessConf*>(child);
    auto& p = *static_cast<const AccessConf*>(parent);
    merge_value(c.rules, p.rules, std::vector<AccessRule>());
    return nullptr;
}

Rc AccessModule::postconfiguration(Cycle& cycle)
{
    stream_checks(cycle).push_back(media::RequestCheck::bind<&AccessModule::check_request>(this));
    rtmp::Hooks& h = rtmp::hooks(cycle);
    h.publish.add<&AccessModule::on_publish>(this);
    h.play.add<&AccessModule::on_play>(this);
    return Rc::ok;
}

Rc AccessModule::on_publish(Session& s, PublishCmd& cmd, Next<PublishCmd> next)
{
    if (s.internal() || check(s, AccessOp::publish, cmd.name)) return next(s, cmd);
    Rc rc = s.reject(cmd, Status::publish_denied);
    s.conn().close_after_flush("publish denied");
    return rc;
}

Rc AccessModule::on_play(Session& s, PlayCmd& cmd, Next<PlayCmd> next)
{
    // Internal sessions are other workers pulling a stream their own clients asked for:
    // those clients passed the rules already.
    if (s.internal() || check(s, AccessOp::play, cmd.name)) return next(s, cmd);
    Rc rc = s.reject(cmd, Status::play_denied);
    s.conn().close_after_flush("play denied");
    return rc;
}

}  // namespace strom::mod
