// Fuzzes the configuration lexer/parser and the cycle builder with arbitrary text (no
// files: includes are off). Every argument also goes through the value parsers, and a
// module with one directive per setter kind is built, so setters and merges run too.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/conf_parser.h"
#include "core/conf_setters.h"
#include "core/conf_value.h"
#include "core/core_module.h"
#include "core/cycle.h"
#include "core/net_addr.h"

using namespace strom;

namespace {

enum class Mode { a, b };
constexpr ConfEnum<Mode> kModes[] = {{"a", Mode::a}, {"b", Mode::b}};

struct FuzzConf : ConfBase {
    std::optional<bool> flag;
    std::optional<uint32_t> size;
    std::optional<std::chrono::milliseconds> time;
    std::optional<uint16_t> num;
    std::optional<std::string> str;
    std::optional<std::string> path;
    std::optional<Mode> mode;
};

// Numeric addresses only: a host name would make the fuzzer wait on DNS.
const char* set_listen(ConfContext& cx, ConfBase*, const ConfNode& d)
{
    const std::string& a = d.args[0];
    if (a.rfind("unix:", 0) != 0 && a.find_first_not_of("0123456789.:[]*") != std::string::npos) {
        return "skipped";
    }
    ListenSpec ls;
    std::string err;
    if (!parse_listen_address(a, &ls.addr, &err, 1935)) return cx.fail("%s", err.c_str());
    ls.server = cx.server;
    if (!cx.cycle.add_listen(std::move(ls), &err)) return cx.fail("%s", err.c_str());
    return nullptr;
}

constexpr Directive kDirectives[] = {
    {"flag", kCtxRtmpAny, ArgShape::flag(), set_flag<&FuzzConf::flag>},
    {"size", kCtxRtmpAny, ArgShape::n(1), set_size<&FuzzConf::size, 128, 65536>},
    {"time", kCtxRtmpAny, ArgShape::n(1), set_msec<&FuzzConf::time>},
    {"num", kCtxRtmpAny, ArgShape::n(1), set_num<&FuzzConf::num>},
    {"str", kCtxRtmpAny, ArgShape::n(1), set_str<&FuzzConf::str>},
    {"path", kCtxRtmpAny, ArgShape::n(1), set_path<&FuzzConf::path>},
    {"mode", kCtxRtmpAny, ArgShape::n(1), set_enum<&FuzzConf::mode, kModes>},
    {"listen", kCtxServer, ArgShape::n(1), set_listen},
};

class FuzzModule final : public Module {
public:
    const char* name() const override { return "fuzz"; }
    std::span<const Directive> directives() const override { return kDirectives; }
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override
    {
        if (level == ConfLevel::main) return nullptr;
        return std::make_unique<FuzzConf>();
    }
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel) override
    {
        auto* c = static_cast<FuzzConf*>(child);
        auto* p = static_cast<const FuzzConf*>(parent);
        merge_value(c->flag, p->flag, false);
        merge_value(c->size, p->size, 4096u);
        merge_value(c->time, p->time, std::chrono::milliseconds(1000));
        merge_value(c->num, p->num, 1);
        merge_value(c->str, p->str, "");
        merge_value(c->path, p->path, "");
        merge_value(c->mode, p->mode, Mode::a);
        return *c->num == 0 ? "num must not be 0" : nullptr;
    }
};

FuzzModule fuzz_module;
Module* const kModules[] = {&core_module, &fuzz_module};

void values(const std::vector<ConfNode>& nodes)
{
    for (const ConfNode& n : nodes) {
        for (const std::string& a : n.args) {
            uint64_t u;
            int64_t i;
            bool b;
            (void)parse_size(a, &u);
            (void)parse_msec(a, &i);
            (void)parse_flag(a, &b);
            (void)parse_int(a, &i);
            (void)parse_num_or_auto(a, &u, &b);
        }
        values(n.children);  // depth is bounded by the parser (16)
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    ConfParseOptions opt;
    opt.includes = false;
    std::vector<ConfNode> nodes;
    std::string err;
    if (parse_conf_string(text, "fuzz.conf", &nodes, &err, opt)) values(nodes);
    auto cycle = Cycle::load_string(kModules, text, "/fuzz/strom.conf", "/fuzz/", &err, false);
    if (cycle) (void)core_conf(*cycle);
    return 0;
}
