// The notify module: nginx-rtmp's HTTP callbacks. on_connect / on_publish / on_play ask
// an HTTP service whether the client may go on (the session's chain is suspended while
// the call is in flight; every other session goes on); on_done / on_publish_done /
// on_play_done tell it a stream ended (fire and forget); on_update asks again every
// notify_update_timeout and ends the session on a non-2xx answer. Directives (rtmp,
// server, application; the lower level overrides):
//   on_connect|on_publish|on_play|on_done|on_publish_done|on_play_done|on_update|
//   on_record_done URL|off;
//   notify_method get|post;          (default post, x-www-form-urlencoded)
//   notify_timeout TIME;             (default 3s: connect and the whole answer)
//   notify_fail closed|open;         (default closed: a failed call rejects)
//   notify_update_timeout TIME;      (default 30s)
//   notify_update_strict on|off;     (default off: only a non-2xx answer ends the stream;
//                                     on: a failed or unsendable call ends it too)
//   notify_cache TIME;               (default off: remember 2xx answers per call, app,
//                                     name and args for TIME, in each worker)
//   notify_relay_redirect on|off;    (default off: a 3xx to rtmp://host/app/name renames
//                                     to `name`; on: a play pulls the stream from there,
//                                     a publish is also pushed there)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/http_client.h"
#include "core/module.h"
#include "core/timer.h"
#include "media/client_request.h"
#include "modules/notify_form.h"
#include "modules/relay_target.h"
#include "rtmp/command.h"
#include "rtmp/hooks.h"

namespace strom::mod {

struct RecordDone;

enum class NotifyMethod : uint8_t { get, post };

struct NotifyConf : ConfBase {
    // An HttpUrl with an empty host means "off".
    std::optional<HttpUrl> on_connect;
    std::optional<HttpUrl> on_publish;
    std::optional<HttpUrl> on_play;
    std::optional<HttpUrl> on_done;
    std::optional<HttpUrl> on_publish_done;
    std::optional<HttpUrl> on_play_done;
    std::optional<HttpUrl> on_update;
    std::optional<HttpUrl> on_record_done;
    std::optional<NotifyMethod> method;
    std::optional<uint64_t> timeout;  // ms
    std::optional<bool> fail_open;
    std::optional<uint64_t> update_timeout;  // ms
    std::optional<bool> update_strict;
    std::optional<uint64_t> cache;  // ms, 0 = off
    std::optional<bool> relay_redirect;
};

class NotifyModule final : public Module {
public:
    const char* name() const override { return "notify"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;

    Rc on_connect(rtmp::Session& s, rtmp::ConnectCmd& cmd, rtmp::Next<rtmp::ConnectCmd> next);
    Rc on_publish(rtmp::Session& s, rtmp::PublishCmd& cmd, rtmp::Next<rtmp::PublishCmd> next);
    Rc on_play(rtmp::Session& s, rtmp::PlayCmd& cmd, rtmp::Next<rtmp::PlayCmd> next);
    void on_close_stream(rtmp::Session& s, rtmp::NetStream& ns);
    void on_disconnect(rtmp::Session& s);
    void on_record_done(const RecordDone& ev);

    // Players of other protocols (HTTP-FLV, WebSocket-FLV): the application's on_play,
    // with the RTMP play's answers (2xx allow, 3xx rename or, with notify_relay_redirect,
    // relay, else reject; notify_fail when the call fails). nullptr with *none = true when
    // the application has no on_play (go on at once), nullptr with *none = false when the
    // call could not start and notify_fail rejects; otherwise the call in flight (cancel it
    // when the player goes), and done(arg, verdict) runs from the loop.
    struct PlayVerdict {
        bool allow = false;
        bool relay = false;
        std::string name, args;  // the name to play (renamed by a 3xx)
        RelayTarget target;      // relay: where the stream is pulled from
    };
    using PlayDone = void (*)(void* arg, const PlayVerdict& v);
    // The call's context, kept by the caller (it outlives the call or cancels it).
    struct PlayGate {
        const NotifyConf* conf = nullptr;
        uint64_t id = 0;
        std::string peer;
        PlayDone done = nullptr;
        void* arg = nullptr;
    };
    HttpCall* gate_play(const media::ClientRequest& q, ConnectionTable& table, PlayGate& g,
                        PlayDone done, void* arg, bool* none);
    // The player left: on_play_done / on_done of the application, when it has them.
    void play_done(const media::ClientRequest& q, ConnectionTable& table);

    // on_update of a player of another protocol, as of an RTMP player: every
    // notify_update_timeout while it plays, call=update_play (the on_play fields, `time`,
    // `timestamp`); an answer that is not 2xx (with notify_update_strict on, also a failed
    // call) is logged once and calls drop(arg), which ends the player. Embedded in the
    // player, whose request `q` outlives it; stop_update() before the player goes.
    struct Update {
        const media::ClientRequest* q = nullptr;
        const NotifyConf* conf = nullptr;
        ConnectionTable* table = nullptr;
        uint64_t started_ms = 0;
        HttpCall* call = nullptr;
        Timer timer;
        void (*drop)(void* arg) = nullptr;
        void* arg = nullptr;
    };
    // Does nothing when the application has no on_update.
    void start_update(const media::ClientRequest& q, ConnectionTable& table, Update& u,
                      void (*drop)(void* arg), void* arg);
    void stop_update(Update& u);

    // notify_cache: an allow answer remembered until `expires` (loop ms).
    bool cache_hit(const std::string& key, uint64_t now);
    void cache_put(const std::string& key, uint64_t expires, uint64_t now);

private:
    std::unordered_map<std::string, uint64_t> cache_;
    // Publishers whose application has on_record_done: record_done names a session id.
    // Publishers whose recordings call on_record_done, by session id: what the call says
    // of them, kept a while after they leave (a file is done once it is on disk, which
    // may be after its publisher has gone).
    struct RecordClient {
        const NotifyConf* conf = nullptr;
        ConnectionTable* table = nullptr;  // the worker's, for the call
        NotifyForm form;                   // call=record_done and the publisher's fields
        uint64_t gone_at = 0;              // loop ms when the session closed, 0 while it lives
    };
    std::unordered_map<uint64_t, RecordClient> recording_;
    void sweep_recording(uint64_t now);
};

extern NotifyModule notify_module;

}  // namespace strom::mod
