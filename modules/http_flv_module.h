// HTTP-FLV and WebSocket-FLV playback: `location / { flv_live on; }` in http {} serves
// GET /APP/NAME.flv[?args] of every rtmp application with `live on` as an endless FLV
// answer (header, onMetaData, sequence headers, the GOP cache, then live), or the same
// tags as WebSocket binary messages when the request is an upgrade. A player is a sink of
// the live stream like an RTMP player: same gate (access, secure_token, on_play), same
// on_update, same slow-player policy, same cross-worker pull; its connection counts in the
// limit module's limits with the RTMP clients.
#pragma once

#include <optional>

#include "core/module.h"
#include "http/http_session.h"

namespace strom::mod {

struct HttpFlvConf : ConfBase {
    std::optional<bool> flv_live;
    std::optional<bool> flv_live_wait;  // wait for a stream not published (like idle_streams)
    const Cycle* cycle = nullptr;       // set after parsing: where the rtmp applications are
};

class HttpFlvModule final : public Module {
public:
    const char* name() const override { return "http_flv"; }
    const char* conf_block() const override { return "http"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;

    Rc handle(http::HttpSession& s, const AppBlock& location);
};

extern HttpFlvModule http_flv_module;

}  // namespace strom::mod
