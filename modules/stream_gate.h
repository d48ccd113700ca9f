// The stream gate: the cycle's protocol-neutral checks on who may publish or play
// (media::ClientRequest). Modules with rules (access, secure_token) add their checks in
// postconfiguration; protocols other than RTMP (HTTP-FLV, WebSocket-FLV) run them before
// a player joins a stream. RTMP sessions meet the same rules through the RTMP chain.
#pragma once

#include <vector>

#include "core/cycle.h"
#include "core/module.h"
#include "media/client_request.h"

namespace strom::mod {

struct StreamGateConf : ConfBase {
    std::vector<media::RequestCheck> checks;
};

class StreamGateModule final : public Module {
public:
    const char* name() const override { return "stream_gate"; }
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override
    {
        return level == ConfLevel::main ? std::make_unique<StreamGateConf>() : nullptr;
    }
};

extern StreamGateModule stream_gate_module;

inline std::vector<media::RequestCheck>& stream_checks(const Cycle& c)
{
    return c.main_conf<StreamGateConf>(stream_gate_module).checks;
}

// Runs every check in order: nullptr when all allow, else the first refusal's reason.
inline const char* run_stream_checks(const Cycle& c, const media::ClientRequest& r)
{
    for (const media::RequestCheck& k : stream_checks(c)) {
        if (const char* why = k.fn(k.self, r)) return why;
    }
    return nullptr;
}

}  // namespace strom::mod
