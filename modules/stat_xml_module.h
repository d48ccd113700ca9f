// nginx-rtmp's statistics page for the whole server: `location /stat { rtmp_stat all; }`
// answers the XML tree ngx_rtmp_stat_module writes (rtmp > server > application > live >
// stream > client / meta), built from one snapshot of the StatsBoard, so whichever worker
// the request lands on answers for every worker. `rtmp_stat_stylesheet URL` adds the
// <?xml-stylesheet?> line (nginx-rtmp's stat.xsl works with it).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/module.h"
#include "http/http_session.h"
#include "modules/stats_board.h"

namespace strom::mod {

struct StatXmlConf : ConfBase {
    std::optional<bool> stat;  // rtmp_stat all|live|clients
    std::optional<bool> clients;
    std::optional<std::string> stylesheet;
};

// Appends s as XML 1.0 character data / attribute text: & < > " ' as entities; bytes that
// are not UTF-8 become U+FFFD; control characters XML 1.0 cannot carry (below 0x20 but tab,
// LF, CR) and the non-characters U+FFFE / U+FFFF become '?'.
void xml_escape(std::string* out, std::string_view s);

struct StatXmlInfo {
    int64_t pid = 0;  // the answering process
    std::string_view stylesheet;
    bool clients = true;  // the <client> elements (rtmp_stat all / clients)
};
// The document, from a snapshot (pure: unit-tested without a server).
std::string stat_xml_answer(const StatsBoard::Snapshot& snap, const StatXmlInfo& info,
                            int64_t now_ms);

class StatXmlModule final : public Module {
public:
    const char* name() const override { return "stat_xml"; }
    const char* conf_block() const override { return "http"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;

    Rc handle(http::HttpSession& s, const AppBlock& location);
};

extern StatXmlModule stat_xml_module;

}  // namespace strom::mod
