// The secure_token module: signed URLs checked by the server alone, no backend.
//   secure_token SECRET;            (rtmp, server, application; `off` disables below)
//   secure_token_publish on|off;    (default on)
//   secure_token_play on|off;       (default on)
//   secure_token_bind_addr on|off;  (default off: the token also signs the client IP)
// A client must put `?expires=UNIX_TIME&token=TOKEN` after the stream name (or after
// the application name in the tcUrl). See secure_token_sign.h for the token itself.
#pragma once

#include <optional>
#include <string>

#include "core/module.h"
#include "media/client_request.h"
#include "rtmp/command.h"
#include "rtmp/hooks.h"

namespace strom::mod {

struct SecureTokenConf : ConfBase {
    std::optional<std::string> secret;  // "" = off
    std::optional<bool> publish;
    std::optional<bool> play;
    std::optional<bool> bind_addr;
};

class SecureTokenModule final : public Module {
public:
    const char* name() const override { return "secure_token"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;

    Rc on_publish(rtmp::Session& s, rtmp::PublishCmd& cmd, rtmp::Next<rtmp::PublishCmd> next);
    Rc on_play(rtmp::Session& s, rtmp::PlayCmd& cmd, rtmp::Next<rtmp::PlayCmd> next);
    // The same tokens for players and publishers of other protocols (the stream gate).
    const char* check_request(const media::ClientRequest& r);
};

extern SecureTokenModule secure_token_module;

}  // namespace strom::mod
