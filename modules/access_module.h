// The access module: `allow|deny [publish|play] ADDRESS|CIDR|all` in rtmp{}, server{} and
// application{}, as in nginx-rtmp. Rules are checked in file order and the first match
// wins; no match allows. A level with rules of its own replaces the inherited list (nginx's
// merge). A denied client gets NetStream.Publish.Denied / NetStream.Play.Failed and is
// closed; the log names the rule and where it is. Rules live in the cycle's confs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/cidr.h"
#include "core/module.h"
#include "media/client_request.h"
#include "rtmp/command.h"
#include "rtmp/hooks.h"

namespace strom::mod {

enum class AccessOp : uint8_t { publish = 1, play = 2 };

struct AccessRule {
    bool allow = false;
    uint8_t ops = 0;  // AccessOp bits
    Cidr cidr;
    std::string text;   // "deny publish 10.0.0.0/8", for the log
    std::string where;  // " in file:line"
};

struct AccessConf : ConfBase {
    std::optional<std::vector<AccessRule>> rules;
};

// The first rule for `op` that matches the client, or nullptr (no rule: allowed).
const AccessRule* access_match(const std::vector<AccessRule>& rules, AccessOp op,
                               const sockaddr* sa, socklen_t len);

class AccessModule final : public Module {
public:
    const char* name() const override { return "access"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;

    Rc on_publish(rtmp::Session& s, rtmp::PublishCmd& cmd, rtmp::Next<rtmp::PublishCmd> next);
    Rc on_play(rtmp::Session& s, rtmp::PlayCmd& cmd, rtmp::Next<rtmp::PlayCmd> next);
    // The same rules for players and publishers of other protocols (the stream gate).
    const char* check_request(const media::ClientRequest& r);
};

extern AccessModule access_module;

}  // namespace strom::mod
