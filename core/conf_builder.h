// Turns parsed ConfNode trees into a Cycle's conf objects: finds each directive in the
// block table (events, rtmp, server, application) or in the modules' directive tables,
// checks context, shape and argument count, calls the setter, then merges every conf
// top-down (main; proto -> server -> app). Used only by Cycle::load; lives for one load.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/conf_block.h"
#include "core/conf_node.h"

namespace strom {

class Cycle;
struct BlockSpec;

class ConfBuilder {
public:
    ConfBuilder(Cycle& cycle, std::string* err) : cycle_(cycle), err_(err) {}

    // Creates the main confs and an (absent) block per protocol; call once, first.
    void init();
    // Applies top-level directives; may be called several times (-g, then the file).
    bool build(const std::vector<ConfNode>& nodes);
    // Merges every conf top-down; call once, after the last build().
    bool merge();

private:
    struct Scope {
        uint32_t ctx;
        ConfLevel level;
        ProtoBlock* proto;
        ServerBlock* server;
        AppBlock* app;
        ModuleConfs* confs;
    };

    bool walk(const std::vector<ConfNode>& nodes, const Scope& s);
    bool apply(const ConfNode& d, const Scope& s);
    bool set(const ConfNode& d, const Scope& s, const Module& owner, const Directive& dir);
    bool open_block(const ConfNode& d, const Scope& s, const BlockSpec& b);
    bool open_server(const ConfNode& d, const Scope& s, const BlockSpec& b);
    bool open_app(const ConfNode& d, const Scope& s, const BlockSpec& b);
    // The modules' confs for a block of `level` of protocol `proto` (unused for main).
    ModuleConfs create_confs(ConfLevel level, const char* proto = "");
    bool merge_confs(ModuleConfs& confs, const ModuleConfs* parent, ConfLevel level,
                     const std::string& file, int line);
    bool fail(const ConfNode& d, const std::string& msg);

    Cycle& cycle_;
    std::string* err_;
    std::vector<const BlockSpec*> seen_;  // unique blocks opened so far (events, rtmp)
};

}  // namespace strom
