// The HTTP views of the whole server's figures (the StatsBoard): `location /api/ { api on; }`
// answers the JSON API (GET v1/summary, v1/streams, v1/streams/APP/NAME, v1/clients under
// the location's prefix), `location /metrics { metrics on; }` the Prometheus text
// exposition. Every answer is built from one snapshot of the board, so whichever worker
// the request lands on answers for all workers.
#pragma once

#include <optional>
#include <string>

#include "core/module.h"
#include "http/http_session.h"
#include "modules/stats_board.h"

namespace strom::mod {

struct ApiConf : ConfBase {
    std::optional<bool> api;
    std::optional<bool> metrics;
    std::optional<uint32_t> metrics_max_streams;  // labelled stream series; the rest aggregated
};

// The answers as text, from a snapshot (pure: unit-tested without a server).
// *status: 200, 400 or 404; the body is JSON in every case.
std::string api_answer(const StatsBoard::Snapshot& snap, std::string_view path,
                       std::string_view query, int* status);
std::string metrics_answer(const StatsBoard::Snapshot& snap, uint32_t max_streams);

class ApiModule final : public Module {
public:
    const char* name() const override { return "api"; }
    const char* conf_block() const override { return "http"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;

    Rc handle(http::HttpSession& s, const AppBlock& location);
};

extern ApiModule api_module;

}  // namespace strom::mod
