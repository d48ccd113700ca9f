// Session: NetConnection and NetStream commands, server side (RTMP spec 7.2), and the
// chain's entry and end points.
#include <cmath>
#include <cstring>

#include "core/conf_block.h"
#include "core/log.h"
#include "rtmp/amf0.h"
#include "rtmp/amf3.h"
#include "rtmp/amf_decode_state.h"
#include "rtmp/rtmp_core_module.h"
#include "rtmp/session.h"

namespace strom::rtmp {

namespace {

// Decodes a command message body: AMF0 values, or for type 17 a format byte then AMF0
// values any of which may switch to AMF3 through the avmplus marker.
Rc decode_body(const Message& m, std::vector<AmfValue>* out, const char** why)
{
    std::string body(m.length, '\0');
    chain_copy(m.payload.get(), 0, body.data(), body.size());
    size_t off = 0;
    if (m.type == msg_type::command_amf3 || m.type == msg_type::data_amf3) {
        if (!body.empty() && uint8_t(body[0]) == 0) off = 1;
    }
    AmfDecodeState st;
    return amf0_decode_all(reinterpret_cast<const uint8_t*>(body.data()) + off, body.size() - off, out,
                           st, why);
}

std::string_view arg_str(const std::vector<AmfValue>& a, size_t i)
{
    return i < a.size() && a[i].is_string() ? a[i].str() : std::string_view();
}

}  // namespace

Rc Session::on_command(Message& m)
{
    std::vector<AmfValue> args;
    const char* why = "";
    if (decode_body(m, &args, &why) != Rc::ok) {
        STROM_LOG(warn, id(), "client %s: malformed AMF in command: %s, closing", peer(), why);
        close("bad AMF");
        return Rc::error;
    }
    if (args.empty() || !args[0].is_string()) {
        STROM_LOG(warn, id(), "client %s: command without a name, closing", peer());
        close("bad command");
        return Rc::error;
    }
    std::string name(args[0].str());
    double tid = args.size() > 1 ? args[1].num(0) : 0;
    if (!std::isfinite(tid)) tid = 0;
    STROM_LOG(debug, id(), "command \"%s\" tid %g on stream %u", name.c_str(), tid, m.msid);
    args.erase(args.begin(), args.begin() + (args.size() > 1 ? 2 : 1));   // name, tid
    if (role_ == Role::client) return dispatch_client(name, tid, args, m);
    return dispatch_server(name, tid, args, m);
}

Rc Session::dispatch_server(std::string_view name, double tid, std::vector<AmfValue>& args, Message& m)
{
    if (name == "connect") return cmd_connect(tid, args);
    if (!connected_) {
        STROM_LOG(info, id(), "client %s: \"%.*s\" before connect, closing", peer(), int(name.size()),
                  name.data());
        close("command before connect");
        return Rc::error;
    }
    if (name == "createStream") return cmd_create_stream(tid);
    if (name == "publish") return cmd_publish(tid, m.msid, args);
    if (name == "play") return cmd_play(tid, m.msid, args, false);
    if (name == "play2") return cmd_play(tid, m.msid, args, true);
    if (name == "pause" || name == "pauseRaw") return cmd_pause(m.msid, args);
    if (name == "seek") return cmd_seek(m.msid, args);
    if (name == "closeStream") return cmd_close_stream(m.msid);
    if (name == "deleteStream") return cmd_delete_stream(args);
    if (name == "receiveAudio" || name == "receiveVideo") {
        NetStream* ns = stream(m.msid);
        bool on = args.size() > 1 ? args[1].as_bool(true) : true;
        if (ns) (name == "receiveAudio" ? ns->receive_audio : ns->receive_video) = on;
        return Rc::ok;
    }
    if (name == "releaseStream" || name == "_checkbw") {
        return tid ? send_result(tid, AmfValue::null(), AmfValue::undefined()) : Rc::ok;
    }
    if (name == "FCPublish" || name == "FCUnpublish") {
        bool pub = name == "FCPublish";
        std::string sname(arg_str(args, 1));
        AmfValue ev(pub ? "onFCPublish" : "onFCUnpublish"), zero(0.0), null(nullptr);
        AmfValue info = status_object(pub ? Status::publish_start : Status::unpublish_success, sname);
        if (send_amf(msg_type::command_amf0, 0, {&ev, &zero, &null, &info}) != Rc::ok) return Rc::error;
        return tid ? send_result(tid, AmfValue::null(), AmfValue::undefined()) : Rc::ok;
    }
    if (name == "getStreamLength") {
        // Live streams have no length (0); a module that serves files knows theirs.
        std::string sname, sargs;
        const char* why = nullptr;
        double len = 0;
        if (hooks_ && split_stream_name(arg_str(args, 1), max_name_, &sname, &sargs, &why)) {
            for (const LengthHandler& h : hooks_->stream_length) {
                double l = h.fn(h.self, *this, sname);
                if (l >= 0) {
                    len = l;
                    break;
                }
            }
        }
        return send_result(tid, AmfValue::null(), AmfValue(len));
    }
    if (name == "_result" || name == "_error" || name == "onStatus" || name == "onBWDone" ||
        name == "onBWCheck" || name == "_onbwdone") {
        return Rc::ok;   // answers to our pings or to nothing: ignore
    }
    // Unknown call: answer the caller, never disconnect (RTMP 7.2.1.2).
    STROM_LOG(info, id(), "client %s: unknown command \"%.*s\"", peer(), int(name.size()), name.data());
    if (tid != 0) {
        std::string d = "Method not found (" + std::string(name) + ").";
        return send_error(tid, status_object(Status::call_failed, d));
    }
    return Rc::ok;
}

// --- connect ----------------------------------------------------------------------------------

Rc Session::cmd_connect(double tid, std::vector<AmfValue>& args)
{
    if (connected_ || suspended_) {
        STROM_LOG(info, id(), "client %s: second connect, closing", peer());
        close("connect twice");
        return Rc::error;
    }
    const AmfValue* obj = !args.empty() && args[0].is_object() ? &args[0] : nullptr;
    if (!obj) {
        STROM_LOG(info, id(), "client %s: connect without a command object, closing", peer());
        close("bad connect");
        return Rc::error;
    }
    ConnectCmd& c = connect_;
    c.tid = tid;
    std::string_view app = obj->get_str("app");
    size_t q = app.find('?');
    c.app.assign(app.substr(0, q));
    if (q != std::string_view::npos) c.app_args.assign(app.substr(q + 1));
    while (!c.app.empty() && c.app.back() == '/') c.app.pop_back();
    c.tc_url = obj->get_str("tcUrl");
    c.flash_ver = obj->get_str("flashVer");
    c.swf_url = obj->get_str("swfUrl");
    c.page_url = obj->get_str("pageUrl");
    c.object_encoding = obj->get_num("objectEncoding", 0);
    c.capabilities = obj->get_num("capabilities", 0);
    if (const AmfValue* f = obj->get("fourCcList")) c.fourcc_list = *f;
    loop().cancel_timer(deadline_);
    for (unsigned char ch : c.app) {
        if (ch < 0x20 || ch == 0x7f) c.app.clear();
    }
    if (c.app.size() > max_name_) c.app.clear();
    app_ = server_ ? server_->find_app(c.app) : nullptr;
    if (!app_) {
        STROM_LOG(info, id(), "client %s: connect to unknown application \"%s\"", peer(), c.app.c_str());
        return reject(c, Status::connect_app_not_found);
    }
    STROM_LOG(info, id(), "connect app \"%s\" from %s, flashVer \"%s\", tcUrl \"%s\"", c.app.c_str(),
              peer(), c.flash_ver.c_str(), c.tc_url.c_str());
    Rc rc = hooks_ ? hooks_->connect.run(*this, c) : connect_done(*this, c);
    after_chain(rc);
    return rc == Rc::again ? Rc::again : Rc::ok;
}

Rc Session::connect_done(Session& s, ConnectCmd& c)
{
    if (s.send_control(Control::window_ack_size(s.ack_window_)) != Rc::ok) return Rc::error;
    if (s.send_control(Control::set_peer_bandwidth(s.ack_window_, 2)) != Rc::ok) return Rc::error;
    if (s.send_control(Control::set_chunk_size(s.chunk_size_conf_)) != Rc::ok) return Rc::error;
    AmfValue props = AmfValue::object();
    props.set("fmsVer", AmfValue("FMS/3,5,7,7009"));
    props.set("capabilities", AmfValue(31.0));
    props.set("mode", AmfValue(1.0));
    AmfValue info = status_object(Status::connect_success);
    info.set("objectEncoding", AmfValue(c.object_encoding));
    AmfValue data = AmfValue::ecma_array();
    data.set("version", AmfValue("3,5,7,7009"));
    info.set("data", std::move(data));
    if (!c.fourcc_list.is_undefined()) {
        // Enhanced RTMP: echo the client's FourCC list. Strom relays payloads untouched,
        // so every codec the client names is one the server accepts.
        props.set("fourCcList", std::move(c.fourcc_list));   // not needed after the reply
        c.fourcc_list = AmfValue();
    }
    s.connected_ = true;
    s.state_ = State::ready;
    return s.send_result(c.tid, props, info);
}

Rc Session::reject(ConnectCmd& c, Status st, std::string_view description)
{
    (void)send_error(c.tid, status_object(st, description));
    conn_->close_after_flush("connect rejected");
    return Rc::done;
}

// --- streams ----------------------------------------------------------------------------------

Rc Session::cmd_create_stream(double tid)
{
    if (streams_.size() >= max_streams_) {
        STROM_LOG(info, id(), "client %s: more than max_streams %u streams, closing", peer(), max_streams_);
        close("too many streams");
        return Rc::error;
    }
    uint32_t msid = 1;
    while (stream(msid)) ++msid;
    auto ns = std::make_unique<NetStream>();
    ns->msid = msid;
    streams_.push_back(std::move(ns));
    return send_result(tid, AmfValue::null(), AmfValue(double(msid)));
}

Rc Session::cmd_close_stream(uint32_t msid)
{
    NetStream* ns = stream(msid);
    if (ns) end_stream(*ns, true);
    return Rc::ok;
}

Rc Session::cmd_delete_stream(std::vector<AmfValue>& args)
{
    // The id is a peer's double: only small positive integers can name a stream.
    double d = args.size() > 1 && args[1].is_number() ? args[1].num() : 0;
    uint32_t msid = d >= 1 && d <= 65535 ? uint32_t(d) : 0;
    for (size_t i = 0; i < streams_.size(); ++i) {
        if (streams_[i]->msid == msid) {
            end_stream(*streams_[i], false);
            streams_.erase(streams_.begin() + long(i));
            break;
        }
    }
    return Rc::ok;
}

// --- publish ----------------------------------------------------------------------------------

Rc Session::cmd_publish(double tid, uint32_t msid, std::vector<AmfValue>& args)
{
    NetStream* ns = stream(msid);
    auto cmd = std::make_unique<PublishCmd>();
    cmd->tid = tid;
    cmd->msid = msid;
    cmd->type = arg_str(args, 2).empty() ? "live" : std::string(arg_str(args, 2));
    if (!ns || ns->role != NetStream::Role::idle) {
        STROM_LOG(info, id(), "client %s: publish on %s stream %u", peer(), ns ? "a busy" : "an unknown", msid);
        return reject(*cmd, Status::publish_bad_name, "Stream is not available for publishing.");
    }
    const char* why = nullptr;
    if (args.size() < 2 || !args[1].is_string() ||
        !split_stream_name(args[1].str(), max_name_, &cmd->name, &cmd->args, &why)) {
        STROM_LOG(info, id(), "client %s: publish rejected: %s", peer(), why ? why : "no stream name");
        return reject(*cmd, Status::publish_bad_name);
    }
    if (cmd->type != "live" && cmd->type != "record" && cmd->type != "append") cmd->type = "live";
    ns->name = cmd->name;
    ns->args = cmd->args;
    ns->type = cmd->type;
    pending_publish_ = std::move(cmd);
    Rc rc = hooks_ ? hooks_->publish.run(*this, *pending_publish_) : publish_done(*this, *pending_publish_);
    after_chain(rc);
    return rc == Rc::again ? Rc::again : Rc::ok;
}

Rc Session::publish_done(Session& s, PublishCmd& cmd)
{
    NetStream* ns = s.stream(cmd.msid);
    if (!ns) return Rc::done;
    ns->role = NetStream::Role::publishing;
    ns->started_ms = s.loop().now();
    ns->bytes = 0;
    STROM_LOG(info, s.id(), "publish \"%s/%s\" (%s) from %s", s.connect_.app.c_str(), cmd.name.c_str(),
              cmd.type.c_str(), s.peer());
    std::string d = cmd.name + " is now published.";
    return s.send_status(cmd.msid, Status::publish_start, d);
}

Rc Session::reject(PublishCmd& cmd, Status st, std::string_view description)
{
    notify_refused("publish", cmd.name, st, description);
    (void)send_status(cmd.msid, st, description);
    if (NetStream* ns = stream(cmd.msid); ns && ns->role == NetStream::Role::idle) {
        ns->name.clear();
        ns->args.clear();
    }
    return Rc::done;
}

void Session::notify_refused(const char* op, const std::string& name, Status st,
                             std::string_view description)
{
    if (!hooks_ || internal_) return;  // another worker's pull: its own client was told
    const StatusInfo& si = status_info(st);
    std::string_view d = description.empty() ? std::string_view(si.description) : description;
    for (const auto& h : hooks_->refused) h.fn(h.self, *this, op, name, si.code, d);
}

// --- play -------------------------------------------------------------------------------------

Rc Session::cmd_play(double tid, uint32_t msid, std::vector<AmfValue>& args, bool play2)
{
    NetStream* ns = stream(msid);
    auto cmd = std::make_unique<PlayCmd>();
    cmd->tid = tid;
    cmd->msid = msid;
    std::string_view full;
    if (play2) {
        const AmfValue* o = args.size() > 1 && args[1].is_object() ? &args[1] : nullptr;
        if (o) {
            full = o->get_str("streamName");
            cmd->start = o->get_num("start", -2);
            cmd->duration = o->get_num("len", -1);
        }
    } else {
        full = arg_str(args, 1);
        if (args.size() > 2 && args[2].is_number()) cmd->start = args[2].num();
        if (args.size() > 3 && args[3].is_number()) cmd->duration = args[3].num();
        if (args.size() > 4) cmd->reset = args[4].is_boolean() ? args[4].as_bool(true) : args[4].num(1) != 0;
    }
    if (!std::isfinite(cmd->start)) cmd->start = -2;
    if (!std::isfinite(cmd->duration)) cmd->duration = -1;
    if (!ns || ns->role != NetStream::Role::idle) {
        STROM_LOG(info, id(), "client %s: play on %s stream %u", peer(), ns ? "a busy" : "an unknown", msid);
        return reject(*cmd, Status::play_failed, "Stream is not available for playing.");
    }
    const char* why = nullptr;
    if (!split_stream_name(full, max_name_, &cmd->name, &cmd->args, &why)) {
        STROM_LOG(info, id(), "client %s: play rejected: %s", peer(), why);
        return reject(*cmd, Status::play_stream_not_found, "Invalid stream name.");
    }
    ns->name = cmd->name;
    ns->args = cmd->args;
    pending_play_ = std::move(cmd);
    Rc rc = hooks_ ? hooks_->play.run(*this, *pending_play_) : play_done(*this, *pending_play_);
    after_chain(rc);
    return rc == Rc::again ? Rc::again : Rc::ok;
}

Rc Session::play_done(Session& s, PlayCmd& cmd)
{
    // The end of the chain: no module took the play.
    STROM_LOG(info, s.id(), "play \"%s/%s\" from %s: stream not found", s.connect_.app.c_str(),
              cmd.name.c_str(), s.peer());
    return s.reject(cmd, Status::play_stream_not_found);
}

Rc Session::reject(PlayCmd& cmd, Status st, std::string_view description)
{
    std::string d(description);
    if (d.empty() && st == Status::play_stream_not_found) d = "No such stream: " + cmd.name + ".";
    notify_refused("play", cmd.name, st, d);
    (void)send_status(cmd.msid, st, d);
    if (NetStream* ns = stream(cmd.msid); ns && ns->role == NetStream::Role::idle) {
        ns->name.clear();
        ns->args.clear();
    }
    return Rc::done;
}

Rc Session::cmd_pause(uint32_t msid, std::vector<AmfValue>& args)
{
    NetStream* ns = stream(msid);
    if (!ns || ns->role != NetStream::Role::playing) return Rc::ok;
    bool pause = args.size() > 1 ? args[1].as_bool(!ns->paused) : !ns->paused;
    double ms = args.size() > 2 ? args[2].num(0) : 0;
    ns->paused = pause;
    if (ns->control) ns->control->pause(*this, *ns, pause, ms);
    if (!pause && send_control(Control::stream_begin(ns->msid)) != Rc::ok) return Rc::error;
    return send_status(msid, pause ? Status::pause_notify : Status::unpause_notify);
}

Rc Session::cmd_seek(uint32_t msid, std::vector<AmfValue>& args)
{
    NetStream* ns = stream(msid);
    if (!ns || ns->role != NetStream::Role::playing) return Rc::ok;
    double ms = args.size() > 1 ? args[1].num(0) : 0;
    if (!std::isfinite(ms) || ms < 0) ms = 0;
    if (!ns->control || ns->control->seek(*this, *ns, ms) == Rc::declined) {
        // A live stream has no past to seek to: say so, and keep playing.
        return send_status(msid, Status::seek_failed);
    }
    return Rc::ok;
}

// --- the chain ----------------------------------------------------------------------------------

void Session::after_chain(Rc rc)
{
    if (rc == Rc::again) {
        // Suspended (an HTTP callback in flight): read nothing more until it resumes, so
        // commands stay in order.
        suspended_ = true;
        conn_->pause_reading(true);
        return;
    }
    suspended_ = false;
    if (rc == Rc::error && !conn_->closing()) close("chain error");
    pending_publish_.reset();
    pending_play_.reset();
}

void Session::resume(Rc rc)
{
    if (conn_->closing()) return;
    after_chain(rc);
    if (!suspended_) conn_->pause_reading(false);
}

}  // namespace strom::rtmp
