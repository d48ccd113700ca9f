// Session, client side: connect, createStream, publish or play, as ffmpeg and OBS do
// them; used by relays (pulls between workers, push/pull to other servers) and by
// strom-client. The same limits as the server side apply to what the server sends.
#include <cstring>

#include "core/log.h"
#include "rtmp/amf0.h"
#include "rtmp/chunk_writer.h"
#include "rtmp/handshake.h"
#include "rtmp/session.h"

namespace strom::rtmp {

namespace {
constexpr uint32_t kCsidAudio = 6;
constexpr uint32_t kCsidVideo = 7;
constexpr uint32_t kCsidData = 5;
}  // namespace

void Session::set_terminals(Hooks& h)
{
    h.connect.set_terminal(&Session::connect_done);
    h.publish.set_terminal(&Session::publish_done);
    h.play.set_terminal(&Session::play_done);
}

Session* Session::connect_to(ConnectionTable& table, const sockaddr* addr, socklen_t len,
                             const ClientParams& p, ClientObserver* observer, const char** err)
{
    Connection* c = table.connect(addr, len, nullptr, err);
    if (!c) return nullptr;
    auto* s = new Session(*c, nullptr, p, observer);
    c->set_handler(s);   // no event reaches the connection before the next iteration
    return s;
}

void Session::on_connected(Connection& c, bool ok)
{
    if (!ok) return;   // on_close follows with "connect failed"
    auto out = hs_->output();
    Chain ch(loop().small_pool());
    if (ch.append(out.data(), out.size()) != Rc::ok) {
        c.close("out of buffers");
        return;
    }
    hs_->sent(out.size());
    send_framed(ch.take());
    c.flush_soon();
}

void Session::client_send_connect()
{
    AmfValue name("connect"), tid(next_tid_++);
    AmfValue obj = AmfValue::object();
    obj.set("app", AmfValue(client_.app));
    obj.set("type", AmfValue("nonprivate"));
    obj.set("flashVer", AmfValue(client_.flash_ver));
    obj.set("tcUrl", AmfValue(client_.tc_url));
    if (!client_.publish) {
        obj.set("fpad", AmfValue(false));
        obj.set("capabilities", AmfValue(15.0));
        obj.set("audioCodecs", AmfValue(3575.0));
        obj.set("videoCodecs", AmfValue(252.0));
        obj.set("videoFunction", AmfValue(1.0));
    }
    AmfValue fourcc = AmfValue::strict_array();
    for (const char* cc : {"av01", "vp09", "hvc1", "avc1"}) fourcc.push(AmfValue(cc));
    obj.set("fourCcList", std::move(fourcc));
    state_ = State::connecting;
    if (send_amf(msg_type::command_amf0, 0, {&name, &tid, &obj}) != Rc::ok) return;
    if (send_control(Control::set_chunk_size(chunk_size_conf_)) != Rc::ok) return;
    conn_->flush_soon();
}

Rc Session::dispatch_client(std::string_view name, double tid, std::vector<AmfValue>& args, Message&)
{
    if (name == "_result" && client_step_ == 0 && tid == 1) {
        client_step_ = 1;
        connected_ = true;
        loop().cancel_timer(deadline_);   // the handshake + connect deadline is met
        if (client_.stream.empty()) {
            // Connect only (an idle connection: strom-client bench's memory figure).
            client_step_ = 3;
            state_ = State::ready;
            arm_deadline(0);
            if (observer_) observer_->on_ready(*this);
            return Rc::ok;
        }
        AmfValue null(nullptr), sname(client_.stream);
        if (client_.publish) {
            AmfValue rel("releaseStream"), fcp("FCPublish"), t1(next_tid_++), t2(next_tid_++);
            if (send_amf(msg_type::command_amf0, 0, {&rel, &t1, &null, &sname}) != Rc::ok) return Rc::error;
            if (send_amf(msg_type::command_amf0, 0, {&fcp, &t2, &null, &sname}) != Rc::ok) return Rc::error;
        }
        AmfValue cs("createStream");
        create_tid_ = next_tid_++;
        AmfValue t(create_tid_);
        return send_amf(msg_type::command_amf0, 0, {&cs, &t, &null});
    }
    if (name == "_result" && client_step_ == 1 && tid == create_tid_) {
        client_step_ = 2;
        double id = args.size() > 1 && args[1].is_number() ? args[1].num() : 1;
        client_msid_ = id >= 1 && id <= 65535 ? uint32_t(id) : 1;   // a server's double
        AmfValue null(nullptr), sname(client_.stream), zero(0.0);
        if (client_.publish) {
            AmfValue pub("publish"), type("live");
            return send_amf(msg_type::command_amf0, client_msid_, {&pub, &zero, &null, &sname, &type});
        }
        AmfValue play("play"), start(-2.0);
        if (send_amf(msg_type::command_amf0, client_msid_, {&play, &zero, &null, &sname, &start}) != Rc::ok) {
            return Rc::error;
        }
        if (send_control(Control::set_buffer_length(client_msid_, client_.buffer_ms)) != Rc::ok) return Rc::error;
        conn_->flush_soon();
        return Rc::ok;
    }
    if (name == "_error" || name == "onStatus") {
        const AmfValue* info = args.size() > 1 ? &args[1] : nullptr;
        std::string_view level = info ? info->get_str("level") : "error";
        std::string_view code = info ? info->get_str("code") : "";
        std::string_view desc = info ? info->get_str("description") : "";
        if (observer_) observer_->on_status(*this, level, code, desc);
        if (conn_->closing()) return Rc::done;
        if (client_step_ == 2 && (code == "NetStream.Publish.Start" || code == "NetStream.Play.Start")) {
            client_step_ = 3;
            state_ = State::ready;
            arm_deadline(0);   // the handshake + connect deadline must not end a live session
            if (observer_) observer_->on_ready(*this);
        } else if (name == "_error" && client_step_ < 2) {
            close("connect rejected");
            return Rc::done;
        }
        return Rc::ok;
    }
    // onBWDone, onFCPublish, |RtmpSampleAccess and friends: nothing to do.
    return Rc::ok;
}

Rc Session::publish_media(uint8_t type, uint32_t timestamp, const uint8_t* data, size_t len)
{
    if (state_ != State::ready || !client_.publish) return Rc::error;
    uint32_t csid = type == msg_type::audio ? kCsidAudio : type == msg_type::video ? kCsidVideo : kCsidData;
    MsgHeader h{csid, type, client_msid_, timestamp};
    BufRef out;
    if (frame_message(pool(), out_chunk_size_, h, data, len, &out) != Rc::ok) return Rc::error;
    if (!conn_->send(std::move(out), 0)) return Rc::again;
    conn_->flush_soon();
    return Rc::ok;
}

}  // namespace strom::rtmp
