// NetConnection / NetStream commands as typed events for the module chain, and the
// status messages (onStatus / _error info objects) clients expect, with the codes and
// descriptions Flash, ffmpeg, librtmp, OBS and GStreamer look for.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rtmp/amf.h"

namespace strom::rtmp {

struct ConnectCmd {
    double tid = 1;
    std::string app;         // without a query string
    std::string app_args;    // "key=v" after '?' in the app name or the tcUrl's path
    std::string tc_url;
    std::string flash_ver;
    std::string swf_url;
    std::string page_url;
    double object_encoding = 0;
    double capabilities = 0;
    AmfValue fourcc_list;    // Enhanced RTMP: strict array of FourCC strings, or undefined
};

struct PublishCmd {
    double tid = 0;
    uint32_t msid = 0;
    std::string name;        // matching key: without the query string
    std::string args;        // "token=..": kept for modules (auth, callbacks)
    std::string type;        // "live", "record", "append"
};

struct PlayCmd {
    double tid = 0;
    uint32_t msid = 0;
    std::string name;
    std::string args;
    double start = -2;       // -2 live or recorded, -1 live only, >= 0 recorded from ms
    double duration = -1;    // -1 to the end
    bool reset = true;
};

enum class Status : uint8_t {
    connect_success,
    connect_rejected,
    connect_app_not_found,
    publish_start,
    publish_bad_name,
    publish_denied,
    unpublish_success,
    play_reset,
    play_start,
    play_stop,
    play_complete,
    play_stream_not_found,
    play_failed,
    play_denied,
    play_publish_notify,
    play_unpublish_notify,
    pause_notify,
    unpause_notify,
    seek_notify,
    seek_failed,
    call_failed,
};

struct StatusInfo {
    const char* level;   // "status" or "error"
    const char* code;
    const char* description;
};
const StatusInfo& status_info(Status s);

// The info object of an onStatus: {level, code, description[, details]}.
AmfValue status_object(Status s, std::string_view description_override = {},
                       std::string_view details = {});

// Stream names: the part before '?' is the name, the rest the args. Rejected (false,
// *why set) when empty, longer than max_len, or holding control characters.
bool split_stream_name(std::string_view full, size_t max_len, std::string* name,
                       std::string* args, const char** why);

}  // namespace strom::rtmp
