#include "core/core_module.h"

#include <unistd.h>

#include "core/conf_node.h"
#include "core/conf_setters.h"
#include "core/cycle.h"

namespace strom {

CoreModule core_module;

namespace {

constexpr int kMaxWorkers = 1024;  // nginx's NGX_MAX_PROCESSES

const char* set_worker_processes(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<CoreModuleConf*>(conf);
    if (c->worker_processes) return "is duplicate";
    uint64_t n = 0;
    bool is_auto = false;
    if (!parse_num_or_auto(d.args[0], &n, &is_auto)) {
        return cx.invalid(d, 0, "it must be a number or \"auto\"");
    }
    if (is_auto) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus < 1 ? 1 : cpus > kMaxWorkers ? kMaxWorkers : uint64_t(cpus);
    } else if (n < 1 || n > kMaxWorkers) {
        return cx.invalid(d, 0, "it must be between 1 and 1024");
    }
    c->worker_processes = int(n);
    c->worker_processes_auto = is_auto;
    return nullptr;
}

// error_log FILE [LEVEL]; FILE may be "stderr".
const char* set_error_log(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<CoreModuleConf*>(conf);
    if (c->error_log) return "is duplicate";
    if (d.args[0].empty()) return cx.invalid(d, 0);
    LogLevel level = LogLevel::info;
    if (d.args.size() > 1) {
        const std::string& w = d.args[1];
        if (!parse_log_level(w.data(), w.size(), &level)) {
            return cx.invalid(d, 1,
                              "it must be debug, info, notice, warn, error, crit, alert or emerg");
        }
    }
    c->error_log = d.args[0] == "stderr" ? d.args[0] : cx.full_path(d.args[0]);
    c->error_log_level = level;
    return nullptr;
}

// access_log FILE|off.
const char* set_access_log(ConfContext& cx, ConfBase* conf, const ConfNode& d)
{
    auto* c = static_cast<CoreModuleConf*>(conf);
    if (c->access_log) return "is duplicate";
    if (d.args[0].empty()) return cx.invalid(d, 0);
    c->access_log = d.args[0] == "off" ? d.args[0] : cx.full_path(d.args[0]);
    return nullptr;
}

constexpr Directive kDirectives[] = {
    {"worker_processes", kCtxMain, ArgShape::n(1), set_worker_processes},
    {"worker_connections", kCtxMain | kCtxEvents, ArgShape::n(1),
     set_num<&CoreModuleConf::worker_connections, 1, 1 << 20>},
    {"worker_shutdown_timeout", kCtxMain, ArgShape::n(1),
     set_msec<&CoreModuleConf::worker_shutdown_timeout>},
    {"daemon", kCtxMain, ArgShape::flag(), set_flag<&CoreModuleConf::daemon>},
    {"pid", kCtxMain, ArgShape::n(1), set_path<&CoreModuleConf::pid>},
    {"error_log", kCtxMain, ArgShape::range(1, 2), set_error_log},
    {"access_log", kCtxMain, ArgShape::n(1), set_access_log},
};

}  // namespace

std::span<const Directive> CoreModule::directives() const
{
    return kDirectives;
}

std::unique_ptr<ConfBase> CoreModule::create_conf(ConfLevel level)
{
    if (level != ConfLevel::main) return nullptr;
    return std::make_unique<CoreModuleConf>();
}

const char* CoreModule::merge(ConfBase* child, const ConfBase* parent, ConfLevel)
{
    auto* c = static_cast<CoreModuleConf*>(child);
    auto* p = static_cast<const CoreModuleConf*>(parent);
    merge_value(c->worker_processes, p->worker_processes, 1);
    merge_value(c->worker_processes_auto, p->worker_processes_auto, false);
    merge_value(c->worker_connections, p->worker_connections, 1024u);
    merge_value(c->worker_shutdown_timeout, p->worker_shutdown_timeout, 0u);
    merge_value(c->daemon, p->daemon, true);
    merge_value(c->error_log_level, p->error_log_level, LogLevel::info);
    merge_value(c->access_log, p->access_log, "off");
    return nullptr;
}

// Defaults for paths need the prefix, which merge() has not got.
Rc CoreModule::postconfiguration(Cycle& cycle)
{
    auto& c = cycle.main_conf<CoreModuleConf>(*this);
    CoreConf& v = c.value;
    v.worker_processes = *c.worker_processes;
    v.worker_processes_auto = *c.worker_processes_auto;
    v.worker_connections = *c.worker_connections;
    v.worker_shutdown_timeout = *c.worker_shutdown_timeout;
    v.daemon = *c.daemon;
    v.pid = c.pid ? *c.pid : cycle.full_path("logs/strom.pid");
    v.error_log = c.error_log ? *c.error_log : cycle.full_path("logs/error.log");
    v.error_log_level = *c.error_log_level;
    v.access_log = *c.access_log;
    return Rc::ok;
}

const CoreConf& core_conf(const Cycle& cycle)
{
    return cycle.main_conf<CoreModuleConf>(core_module).value;
}

}  // namespace strom
