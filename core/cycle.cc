#include "core/cycle.h"

#include <cstdarg>
#include <cstdlib>

#include "core/conf_builder.h"
#include "core/conf_context.h"
#include "core/conf_parser.h"
#include "core/module_slots.h"

namespace strom {

namespace {

uint64_t g_generations = 0;  // per process; only the master loads configurations

}  // namespace

std::unique_ptr<Cycle> Cycle::create(std::span<Module* const> modules, const std::string& conf_path,
                                     const std::string& prefix, std::string* error)
{
    std::unique_ptr<Cycle> c(new Cycle);
    c->prefix_ = prefix;
    if (!c->prefix_.empty() && c->prefix_.back() != '/') c->prefix_ += '/';
    c->conf_path_ = c->full_path(conf_path);
    size_t slash = c->conf_path_.rfind('/');
    if (slash != std::string::npos) c->conf_dir_ = c->conf_path_.substr(0, slash == 0 ? 1 : slash);
    c->modules_.assign(modules.begin(), modules.end());
    if (c->modules_.size() > kMaxModules) {
        *error = conf_sprintf("%zu modules, more than the %zu context slots", c->modules_.size(), kMaxModules);
        return nullptr;
    }
    for (size_t i = 0; i < c->modules_.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
            if (c->modules_[j] == c->modules_[i]) {
                *error = conf_sprintf("module \"%s\" is listed twice", c->modules_[i]->name());
                return nullptr;
            }
        }
        c->modules_[i]->index = int(i);
    }
    c->generation_ = ++g_generations;
    return c;
}

std::unique_ptr<Cycle> Cycle::load(std::span<Module* const> modules, const std::string& conf_path,
                                   const std::string& prefix, const std::string& global_directives,
                                   std::string* error)
{
    std::unique_ptr<Cycle> c = create(modules, conf_path, prefix, error);
    if (!c) return nullptr;
    ConfParseOptions opt;
    opt.include_dir = c->conf_dir_;
    std::vector<ConfNode> global, file;
    if (!global_directives.empty()) {
        ConfParseOptions g = opt;
        g.line_numbers = false;  // nginx: `... in command line`
        if (!parse_conf_string(global_directives, "command line", &global, error, g)) {
            return nullptr;
        }
    }
    if (!parse_conf_file(c->conf_path_, &file, error, opt)) return nullptr;
    ConfBuilder b(*c, error);
    b.init();
    // -g first, as nginx: a directive given in both places is "is duplicate".
    if (!b.build(global) || !b.build(file) || !b.merge() || !c->finish(error)) return nullptr;
    return c;
}

std::unique_ptr<Cycle> Cycle::load_string(std::span<Module* const> modules, std::string_view text,
                                          const std::string& name, const std::string& prefix,
                                          std::string* error, bool includes)
{
    std::unique_ptr<Cycle> c = create(modules, name, prefix, error);
    if (!c) return nullptr;
    ConfParseOptions opt;
    opt.include_dir = c->conf_dir_;
    opt.includes = includes;
    std::vector<ConfNode> nodes;
    if (!parse_conf_string(text, c->conf_path_, &nodes, error, opt)) return nullptr;
    ConfBuilder b(*c, error);
    b.init();
    if (!b.build(nodes) || !b.merge() || !c->finish(error)) return nullptr;
    return c;
}

bool Cycle::finish(std::string* error)
{
    for (Module* m : modules_) {
        if (m->postconfiguration(*this) != Rc::ok) {
            *error = error_.empty() ? conf_sprintf("module \"%s\" configuration failed", m->name())
                                    : error_;
            return false;
        }
    }
    return true;
}

ProtoBlock* Cycle::proto(std::string_view name) const
{
    for (const auto& p : protos_) {
        if (p->name == name) return p.get();
    }
    return nullptr;
}

const char* apply_listen_option(const std::string& a, ListenSpec* ls)
{
    if (a == "reuseport") {
        ls->reuseport = true;
        return nullptr;
    }
    if (a.rfind("backlog=", 0) != 0) return "unknown";
    char* end = nullptr;
    long v = strtol(a.c_str() + 8, &end, 10);
    if (*end || v <= 0 || v > 65535) return "invalid";
    ls->backlog = int(v);
    return nullptr;
}

bool Cycle::add_listen(ListenSpec spec, std::string* err)
{
    for (const ListenSpec& l : listens) {
        if (same_addr(l.addr, spec.addr)) {
            *err = "duplicate listen " + spec.addr.text;
            return false;
        }
    }
    listens.push_back(std::move(spec));
    return true;
}

std::string Cycle::full_path(std::string_view path) const
{
    if (path.empty() || path[0] == '/' || prefix_.empty()) return std::string(path);
    return prefix_ + std::string(path);
}

Rc Cycle::fail(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_ = conf_vsprintf(fmt, ap);
    va_end(ap);
    return Rc::error;
}

}  // namespace strom
