#include "rtmp/command.h"

namespace strom::rtmp {

namespace {
constexpr StatusInfo kStatus[] = {
    {"status", "NetConnection.Connect.Success", "Connection succeeded."},
    {"error", "NetConnection.Connect.Rejected", "Connection rejected."},
    {"error", "NetConnection.Connect.Rejected", "Application not found."},
    {"status", "NetStream.Publish.Start", "Start publishing."},
    {"error", "NetStream.Publish.BadName", "Stream name is invalid or already in use."},
    {"error", "NetStream.Publish.Denied", "Publishing is not allowed."},
    {"status", "NetStream.Unpublish.Success", "Stop publishing."},
    {"status", "NetStream.Play.Reset", "Playing and resetting stream."},
    {"status", "NetStream.Play.Start", "Started playing stream."},
    {"status", "NetStream.Play.Stop", "Stopped playing stream."},
    {"status", "NetStream.Play.Complete", "Playback complete."},
    {"error", "NetStream.Play.StreamNotFound", "No such stream."},
    {"error", "NetStream.Play.Failed", "Play failed."},
    {"error", "NetStream.Play.Failed", "Playing is not allowed."},
    {"status", "NetStream.Play.PublishNotify", "Start publishing."},
    {"status", "NetStream.Play.UnpublishNotify", "Stop publishing."},
    {"status", "NetStream.Pause.Notify", "Paused stream."},
    {"status", "NetStream.Unpause.Notify", "Unpaused stream."},
    {"status", "NetStream.Seek.Notify", "Seeking stream."},
    {"error", "NetStream.Seek.Failed", "Seeking is not possible on this stream."},
    {"error", "NetConnection.Call.Failed", "Method not found."},
};
static_assert(sizeof(kStatus) / sizeof(kStatus[0]) == size_t(Status::call_failed) + 1);
}  // namespace

const StatusInfo& status_info(Status s) { return kStatus[size_t(s)]; }

AmfValue status_object(Status s, std::string_view description_override, std::string_view details)
{
    const StatusInfo& si = status_info(s);
    AmfValue o = AmfValue::object();
    o.set("level", AmfValue(si.level));
    o.set("code", AmfValue(si.code));
    o.set("description", description_override.empty() ? AmfValue(si.description)
                                                       : AmfValue(description_override));
    if (!details.empty()) o.set("details", AmfValue(details));
    return o;
}

bool split_stream_name(std::string_view full, size_t max_len, std::string* name,
                       std::string* args, const char** why)
{
    size_t q = full.find('?');
    std::string_view n = full.substr(0, q);
    std::string_view a = q == std::string_view::npos ? std::string_view() : full.substr(q + 1);
    if (n.empty()) {
        *why = "empty stream name";
        return false;
    }
    if (full.size() > max_len) {
        *why = "stream name too long";
        return false;
    }
    for (unsigned char ch : full) {
        if (ch < 0x20 || ch == 0x7f) {
            *why = "control character in stream name";
            return false;
        }
    }
    name->assign(n);
    args->assign(a);
    return true;
}

}  // namespace strom::rtmp
