// The core module: main-context directives (worker_processes, worker_connections in
// events {} or main, worker_shutdown_timeout, daemon, pid, error_log, access_log) and
// their defaults. `include` is not here: the parser expands it everywhere. Read with
// core_conf(cycle); the values are resolved (paths absolute against the prefix).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/log.h"
#include "core/module.h"

namespace strom {

struct CoreConf {
    int worker_processes = 1;  // `auto`: the number of CPUs online
    bool worker_processes_auto = false;
    uint32_t worker_connections = 1024;
    uint64_t worker_shutdown_timeout = 0;  // ms; 0: old workers wait for their sessions
    bool daemon = true;
    std::string pid;        // default <prefix>logs/strom.pid
    std::string error_log;  // default <prefix>logs/error.log; or "stderr"
    LogLevel error_log_level = LogLevel::info;
    std::string access_log = "off";  // a path, or "off"
};

// The module's conf object: the directives as written, then `value` once resolved.
struct CoreModuleConf : ConfBase {
    std::optional<int> worker_processes;
    std::optional<bool> worker_processes_auto;
    std::optional<uint32_t> worker_connections;
    std::optional<uint64_t> worker_shutdown_timeout;
    std::optional<bool> daemon;
    std::optional<std::string> pid;
    std::optional<std::string> error_log;
    std::optional<LogLevel> error_log_level;
    std::optional<std::string> access_log;
    CoreConf value;
};

class CoreModule final : public Module {
public:
    const char* name() const override { return "core"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;
};

extern CoreModule core_module;

// The cycle's core settings; the cycle's module list must contain core_module.
const CoreConf& core_conf(const Cycle& cycle);

}  // namespace strom
