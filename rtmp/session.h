// One RTMP connection, server or client side: handshake, chunk stream in both
// directions, protocol control, the NetConnection/NetStream command state machine,
// and the module chain's events. Owned by its Connection (as its handler); destroyed at
// the end of the loop iteration in which the connection closed. Modules keep per-stream
// state in NetStream::ctx and per-session state in Session::ctx() (core/module_slots.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/buf.h"
#include "core/connection.h"
#include "core/module_slots.h"
#include "core/timer.h"
#include "rtmp/ack_window.h"
#include "rtmp/amf.h"
#include "rtmp/chunk_reader.h"
#include "rtmp/codec.h"
#include "rtmp/command.h"
#include "rtmp/hooks.h"
#include "rtmp/message.h"

namespace strom {
struct ServerBlock;
struct AppBlock;
}  // namespace strom

namespace strom::rtmp {

class Handshake;
class Session;


// What the module that took a play does on pause / seek (live, VOD).
class PlayControl {
public:
    virtual void pause(Session& s, NetStream& ns, bool paused, double ms) = 0;
    // Rc::declined when the stream cannot seek (live).
    virtual Rc seek(Session& s, NetStream& ns, double ms) = 0;

protected:
    ~PlayControl() = default;
};

struct NetStream {
    enum class Role : uint8_t { idle, publishing, playing };
    uint32_t msid = 0;
    Role role = Role::idle;
    bool paused = false;
    bool receive_audio = true;
    bool receive_video = true;
    std::string name;   // stream name without args
    std::string args;
    std::string type;   // publish type, or "live" / "vod" for a play
    uint64_t started_ms = 0;
    uint64_t bytes = 0;        // media bytes received (publisher) or queued (player)
    uint64_t dropped = 0;      // frames dropped for this player
    PlayControl* control = nullptr;
    ModuleSlots ctx;
};

// One media message of a publishing stream (audio, video, or metadata), as every
// media handler sees it: the message and what the codec layer recognised in it.
struct MediaMsg {
    Message* msg;
    bool is_audio = false;
    bool is_video = false;
    bool is_meta = false;   // onMetaData (already stripped of @setDataFrame)
    VideoInfo video;
    AudioInfo audio;
};

// The owner of a client-side session (relay, strom-client) hears about its progress.
class ClientObserver {
public:
    // connect + createStream + publish/play answered with Publish.Start / Play.Start.
    virtual void on_ready(Session& s) = 0;
    virtual void on_status(Session& s, std::string_view level, std::string_view code,
                           std::string_view description) = 0;
    // Audio, video and data messages of the stream being played.
    virtual void on_media(Session& s, Message& m) = 0;
    // The played stream ended (User Control StreamEOF, RTMP 7.1.7); the session stays.
    virtual void on_stream_eof(Session&) {}
    virtual void on_close(Session& s, const char* reason) = 0;

protected:
    ~ClientObserver() = default;
};

struct ClientParams {
    std::string app;
    std::string tc_url;
    std::string stream;   // with its query args
    bool publish = false;
    std::string flash_ver = "FMLE/3.0 (compatible; strom)";
    uint32_t chunk_size = 4096;
    uint32_t buffer_ms = 1000;
    bool complex_handshake = true;
};

class Session final : public ConnHandler, private MessageSink {
public:
    enum class Role : uint8_t { server, client };
    enum class State : uint8_t { handshake, connecting, ready, closing };

    // Server side: made by the rtmp factory on accept.
    Session(Connection& c, const ServerBlock* server);
    // Client side: drives connect / createStream / publish or play for `observer`.
    Session(Connection& c, const ServerBlock* server, const ClientParams& p, ClientObserver* observer);
    ~Session() override;

    uint64_t id() const { return conn_->id(); }
    Connection& conn() { return *conn_; }
    // The client as rules, logs and callbacks know it: the socket's peer, or the address
    // a trusted PROXY protocol header named (set_client_addr).
    const char* peer() const { return client_text_[0] ? client_text_ : conn_->peer_text(); }
    const sockaddr* client_addr() const;
    socklen_t client_addr_len() const;
    void set_client_addr(const sockaddr* sa, socklen_t len);
    // Server side, a `listen ... proxy_protocol` socket: the first bytes must be a PROXY
    // header (v1 or v2); the start hooks and the handshake wait for it.
    void expect_proxy_header() { proxy_pending_ = true; }
    Role role() const { return role_; }
    bool internal() const { return internal_; }
    void set_internal() { internal_ = true; }
    State state() const { return state_; }
    BufPool& pool() { return conn_->loop().pool(); }
    EventLoop& loop() { return conn_->loop(); }
    const ServerBlock* server() const { return server_; }
    const AppBlock* app() const { return app_; }
    const ConnectCmd& connect_info() const { return connect_; }
    const std::string& app_name() const { return connect_.app; }
    uint32_t out_chunk_size() const { return out_chunk_size_; }
    ModuleSlots& ctx() { return ctx_; }
    NetStream* stream(uint32_t msid);
    std::vector<std::unique_ptr<NetStream>>& streams() { return streams_; }

    // --- sending (control path: framed per call)
    Rc send_control(const Control& c);
    // A command/data message of AMF0 values on `msid` (csid 3 for msid 0, 5 otherwise).
    Rc send_amf(uint8_t type, uint32_t msid, std::initializer_list<const AmfValue*> values);
    Rc send_status(uint32_t msid, Status st, std::string_view description = {},
                   std::string_view details = {});
    Rc send_status_raw(uint32_t msid, const AmfValue& info);
    // Queues a framed message (media: shared by many players). False when the
    // out-queue is full; the flush happens at the end of the loop iteration.
    bool send_framed(BufRef msg, uint8_t tag = 0);
    // The usual start of a play: Stream Begin, Play.Reset (if reset), Play.Start,
    // |RtmpSampleAccess.
    void send_play_start(NetStream& ns, bool reset);

    // --- the chain
    // Sends the status for `st` (onStatus on the command's stream, or _error + close for
    // connect) and returns Rc::done.
    Rc reject(PublishCmd& cmd, Status st, std::string_view description = {});
    Rc reject(PlayCmd& cmd, Status st, std::string_view description = {});
    Rc reject(ConnectCmd& cmd, Status st, std::string_view description = {});
    // A suspended chain finished with `rc` (called by the module that suspended it).
    void resume(Rc rc);
    bool suspended() const { return suspended_; }

    // Ends a NetStream's publish or play (hooks hear close_stream); `notify` sends
    // Unpublish.Success / Play.Stop to the client.
    void end_stream(NetStream& ns, bool notify);
    // Closes the connection with a one-line reason in the log.
    void close(const char* reason) { conn_->close(reason); }

    // Installs the session's default actions as the chains' ends.
    static void set_terminals(Hooks& h);
    // Client side: connects to addr and drives the session; nullptr with *err set.
    static Session* connect_to(ConnectionTable& table, const sockaddr* addr, socklen_t len,
                               const ClientParams& p, ClientObserver* observer, const char** err);

    // --- client side: media out (publish)
    Rc publish_media(uint8_t type, uint32_t timestamp, const uint8_t* data, size_t len);
    uint32_t client_msid() const { return client_msid_; }

private:
    // ConnHandler
    void on_read(Connection& c) override;
    void on_drain(Connection& c) override;
    void on_connected(Connection& c, bool ok) override;
    void on_close(Connection& c, const char* reason) override;
    // MessageSink
    Rc on_message(Message& m) override;

    void init_common();
    static void on_start_posted(Posted& p);
    bool run_start();   // false: refused by a start hook (closed)
    Rc read_proxy_header(size_t* used);
    void apply_limits();
    Rc drive_handshake(size_t* used);
    void handshake_done();
    Rc on_control(Message& m);
    Rc on_media(Message& m);
    Rc on_data(Message& m);
    Rc run_media(NetStream& ns, MediaMsg& mm);
    Rc on_aggregate(Message& m);
    Rc on_command(Message& m);
    Rc dispatch_server(std::string_view name, double tid, std::vector<AmfValue>& args, Message& m);
    Rc dispatch_client(std::string_view name, double tid, std::vector<AmfValue>& args, Message& m);
    Rc cmd_connect(double tid, std::vector<AmfValue>& args);
    Rc cmd_create_stream(double tid);
    Rc cmd_publish(double tid, uint32_t msid, std::vector<AmfValue>& args);
    Rc cmd_play(double tid, uint32_t msid, std::vector<AmfValue>& args, bool play2);
    Rc cmd_pause(uint32_t msid, std::vector<AmfValue>& args);
    Rc cmd_seek(uint32_t msid, std::vector<AmfValue>& args);
    Rc cmd_close_stream(uint32_t msid);
    Rc cmd_delete_stream(std::vector<AmfValue>& args);
    Rc send_result(double tid, const AmfValue& a, const AmfValue& b);
    Rc send_error(double tid, const AmfValue& info);
    void after_chain(Rc rc);
    void ack_if_due();
    void arm_deadline(uint64_t ms);
    void client_send_connect();
    void client_next_step();
    static void on_deadline(Timer& t);
    static void on_ping_timer(Timer& t);
    static Rc connect_done(Session& s, ConnectCmd& cmd);
    static Rc publish_done(Session& s, PublishCmd& cmd);
    static Rc play_done(Session& s, PlayCmd& cmd);

    Connection* conn_;
    const ServerBlock* server_;
    void notify_refused(const char* op, const std::string& name, Status st,
                        std::string_view description);

    const Hooks* hooks_ = nullptr;
    const AppBlock* app_ = nullptr;
    Role role_;
    State state_ = State::handshake;
    bool suspended_ = false;
    bool internal_ = false;
    std::unique_ptr<Handshake> hs_;
    std::unique_ptr<ChunkReader> reader_;
    uint32_t out_chunk_size_ = kDefaultChunkSize;
    AckWindow ack_;                    // acknowledgements the peer's window asks for
    uint64_t last_input_ = 0;
    uint32_t ping_sent_at_ = 0;
    bool ping_outstanding_ = false;
    bool connected_ = false;           // connect accepted
    ConnectCmd connect_;
    std::vector<std::unique_ptr<NetStream>> streams_;
    std::unique_ptr<PublishCmd> pending_publish_;
    std::unique_ptr<PlayCmd> pending_play_;
    Timer deadline_;
    Timer ping_timer_;
    ModuleSlots ctx_;
    sockaddr_storage client_ss_{};   // set from a PROXY header; client_len_ 0 = socket peer
    socklen_t client_len_ = 0;
    char client_text_[64] = {};
    Posted start_ev_;
    bool started_ = false;         // the start hooks ran
    bool proxy_pending_ = false;   // a PROXY header is still expected

    // client side
    ClientParams client_;
    ClientObserver* observer_ = nullptr;
    uint32_t client_msid_ = 0;
    int client_step_ = 0;
    double next_tid_ = 1;
    double create_tid_ = 0;
    const char* access_role_ = "-";   // for the access log: publish, play or -
    std::string access_streams_;

    // limits (merged server conf)
    uint32_t chunk_size_conf_ = 4096;
    uint32_t max_streams_ = 16;
    uint32_t max_name_ = 256;
    uint64_t handshake_timeout_ = 10000;
    uint64_t idle_timeout_ = 60000;
    uint64_t ping_ms_ = 60000;
    uint64_t ping_timeout_ = 30000;
    uint32_t ack_window_ = 5000000;
};

}  // namespace strom::rtmp
