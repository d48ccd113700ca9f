// One configuration generation: the modules' conf objects at every level, the blocks
// (rtmp {} and http {} with their servers, applications and locations), and the listeners the configuration asks
// for. Built by Cycle::load, read-only afterwards except for what modules attach in
// postconfiguration (their hooks live in their own main conf, so they belong to the
// cycle too). A reload builds a second Cycle beside the running one; the master keeps
// the old one until its workers are gone.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/conf_block.h"
#include "core/module.h"
#include "core/net_addr.h"
#include "core/rc.h"

namespace strom {

class ConnHandlerFactory;

// A listening address and who serves it: the protocol module that owns the `listen`
// directive gives its factory (the protocol) and its server block; a worker hands both
// to every connection accepted there.
struct ListenSpec {
    NetAddr addr;
    int backlog = 511;
    bool reuseport = false;
    ConnHandlerFactory* proto = nullptr;
    ServerBlock* server = nullptr;  // the server block that asked for it
    std::string file;               // where the listen directive is
    int line = 0;
};

// The options of a `listen` directive every protocol shares: `reuseport`, `backlog=N`.
// Returns nullptr when `arg` was one of them (applied to ls), "unknown" when it is not
// (the protocol may know it), or "invalid" for a bad value.
const char* apply_listen_option(const std::string& arg, ListenSpec* ls);

class Cycle {
public:
    // Reads conf_path (relative: against prefix) after the -g `global_directives`, as
    // nginx does (a directive in both is "is duplicate"). Relative includes start in the
    // directory of conf_path. nullptr and *error set on any error.
    static std::unique_ptr<Cycle> load(std::span<Module* const> modules,
                                       const std::string& conf_path, const std::string& prefix,
                                       const std::string& global_directives, std::string* error);
    // The same from text in memory; `name` stands for the file in messages and its
    // directory is the include directory. includes=false leaves `include` unexpanded
    // (it is then an unknown directive): the fuzz target uses that.
    static std::unique_ptr<Cycle> load_string(std::span<Module* const> modules,
                                              std::string_view text, const std::string& name,
                                              const std::string& prefix, std::string* error,
                                              bool includes = true);

    Cycle(const Cycle&) = delete;
    Cycle& operator=(const Cycle&) = delete;

    const std::string& prefix() const { return prefix_; }  // "" or ending in '/'
    const std::string& conf_path() const { return conf_path_; }
    const std::string& conf_dir() const { return conf_dir_; }
    uint64_t generation() const { return generation_; }  // 1, 2, ... per process
    const std::vector<Module*>& modules() const { return modules_; }

    template <class C>
    C& main_conf(const Module& m) const
    {
        return *static_cast<C*>(module_conf(main_confs_, modules_, m));
    }
    // The protocol block `name` (always there, holding defaults when the file has none);
    // nullptr for a name no block table row declares.
    ProtoBlock* proto(std::string_view name) const;

    // Called by the owner of `listen`. False with *err = `duplicate listen ADDR` when
    // another listen (of any server) has the same address.
    bool add_listen(ListenSpec spec, std::string* err);
    std::vector<ListenSpec> listens;

    // A relative path resolved against the prefix.
    std::string full_path(std::string_view path) const;
    // For postconfiguration: records the message load() reports, returns Rc::error.
    Rc fail(const char* fmt, ...) __attribute__((format(printf, 2, 3)));

private:
    friend class ConfBuilder;
    Cycle() = default;
    static std::unique_ptr<Cycle> create(std::span<Module* const> modules,
                                         const std::string& conf_path, const std::string& prefix,
                                         std::string* error);
    bool finish(std::string* error);

    std::string prefix_;
    std::string conf_path_;
    std::string conf_dir_;
    uint64_t generation_ = 0;
    std::vector<Module*> modules_;
    ModuleConfs main_confs_;
    std::vector<std::unique_ptr<ProtoBlock>> protos_;
    std::string error_;
};

}  // namespace strom
