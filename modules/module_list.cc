// THE module order (nginx's ngx_modules[]): configuration, init and the chain follow it.
#include <span>

#include "core/core_module.h"
#include "http/http_core_module.h"
#include "modules/access_module.h"
#include "modules/api_module.h"
#include "modules/events_module.h"
#include "modules/http_access_module.h"
#include "modules/http_flv_module.h"
#include "modules/limit_module.h"
#include "modules/live_module.h"
#include "modules/notify_module.h"
#include "modules/play_module.h"
#include "modules/record_module.h"
#include "modules/secure_token_module.h"
#include "modules/stat_xml_module.h"
#include "modules/stats_module.h"
#include "modules/stream_gate.h"
#include "rtmp/rtmp_core_module.h"

namespace strom {

std::span<Module* const> strom_modules()
{
    static Module* const list[] = {
        &core_module,
        &rtmp::rtmp_core_module,
        &http::http_core_module,
        &mod::stream_gate_module,
        &mod::limit_module,
        &mod::http_limit_module,
        &mod::access_module,
        &mod::http_access_module,
        &mod::secure_token_module,
        &mod::notify_module,
        &mod::live_module,
        &mod::record_module,
        &mod::play_module,
        &mod::http_flv_module,
        &mod::stats_module,
        &mod::events_module,
        &mod::api_module,
        &mod::stat_xml_module,
    };
    return list;
}

}  // namespace strom
