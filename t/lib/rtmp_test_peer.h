// Test side of RTMP session tests: RtmpTestPeer is the far end of a socketpair whose other
// end a server Session owns. It speaks RTMP with our own rtmp/ pieces (client Handshake,
// ChunkReader, frame_message, AMF0), has its own BufPool (so the server pool's
// outstanding count is the server's alone) and copies every received message out of it.
// Non-blocking: sends are buffered and pump() writes what it can and parses what arrived.
// TestServer holds one worker's pieces for a test (EventLoop, a Cycle loaded from a
// string, ConnectionTable); it lives here, beside the peer, because every session test
// needs both and t/lib is linked into every unit test binary (one file pair, kept small).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/buf.h"
#include "core/connection.h"
#include "core/cycle.h"
#include "core/event_loop.h"
#include "rtmp/amf.h"
#include "rtmp/chunk_reader.h"
#include "rtmp/handshake.h"
#include "rtmp/message.h"
#include "rtmp/session.h"

namespace strom::test {

class TestServer;

// One message the peer received, copied out of the pool.
struct PeerMsg {
    uint8_t type = 0;
    uint32_t csid = 0;
    uint32_t msid = 0;
    uint32_t timestamp = 0;
    std::string payload;
    std::vector<rtmp::AmfValue> amf;  // command and data messages, decoded
    rtmp::Control ctl;                // protocol control and user control messages

    bool is_media() const { return type == rtmp::msg_type::audio || type == rtmp::msg_type::video; }
    bool is_user(uint16_t event) const
    {
        return type == rtmp::msg_type::user_control && ctl.event == event;
    }
    // The command or data name (first AMF value) and a command's transaction id.
    std::string_view name() const;
    double tid() const;
    // onStatus / _error / _result info object (the fourth value) and its code.
    const rtmp::AmfValue* info() const;
    std::string_view code() const;
    // What a video payload is (legacy or Enhanced RTMP header), and the test frame number.
    bool video_key() const;
    bool video_seq() const;
    uint32_t frame_no() const;
};

class RtmpTestPeer final : private rtmp::MessageSink {
public:
    RtmpTestPeer();
    ~RtmpTestPeer();
    RtmpTestPeer(const RtmpTestPeer&) = delete;
    RtmpTestPeer& operator=(const RtmpTestPeer&) = delete;

    // The server's end of the pair, until TestServer::adopt() hands it to the table.
    int take_server_fd();
    // A player that cannot keep up: small socket buffers on both ends (call before adopt).
    void shrink_buffers(int bytes);
    void set_reading(bool on) { reading_ = on; }
    // Closes our end: the server reads EOF.
    void close();
    bool eof() const { return eof_; }  // the server closed (or reset) the connection
    const std::string& error() const { return error_; }  // handshake / chunk stream error

    // Writes what is pending, then (unless reading is off) reads and parses what arrived.
    void pump();

    // --- handshake: queues C0C1; C2 follows when S0S1S2 is in.
    void start_handshake(bool complex = false);
    bool handshake_done() const { return hs_done_; }

    // --- sending (buffered; pump() or the next send writes it)
    void send_raw(std::string_view bytes);
    void send_message(uint8_t type, uint32_t csid, uint32_t msid, uint32_t ts,
                      std::string_view payload);
    void send_control(const rtmp::Control& c);
    void set_chunk_size(uint32_t n);  // sends Set Chunk Size and frames with it from now on
    void command(uint32_t msid, const std::vector<rtmp::AmfValue>& values);
    void data(uint32_t msid, uint32_t ts, const std::vector<rtmp::AmfValue>& values);
    void connect(std::string_view app, double tid = 1);
    void create_stream(double tid);
    void publish(uint32_t msid, std::string_view name, double tid = 0);
    void play(uint32_t msid, std::string_view name, double tid = 0);
    void pause(uint32_t msid, bool paused, double ms = 0);
    void video(uint32_t msid, uint32_t ts, std::string_view payload);
    void audio(uint32_t msid, uint32_t ts, std::string_view payload);

    // --- received
    const std::vector<PeerMsg>& msgs() const { return msgs_; }
    void clear() { msgs_.clear(); }
    const PeerMsg* find_command(std::string_view name) const;
    const PeerMsg* find_status(std::string_view code) const;  // an onStatus with that code
    const PeerMsg* find_result(double tid) const;             // _result or _error with that tid
    std::vector<const PeerMsg*> media() const;                // audio and video, in arrival order
    size_t count(uint8_t type) const;
    const std::string& raw() const { return raw_; }  // bytes read with no handshake started
    uint64_t bytes_read() const { return bytes_read_; }

private:
    friend class TestServer;
    Rc on_message(rtmp::Message& m) override;
    void on_bytes(const uint8_t* p, size_t n);
    void take_handshake_output();
    void flush();

    BufPool pool_;
    rtmp::ChunkReader reader_;
    std::unique_ptr<rtmp::Handshake> hs_;
    int fd_ = -1;
    int server_fd_ = -1;
    TestServer* server_ = nullptr;
    uint32_t out_chunk_ = rtmp::kDefaultChunkSize;
    std::string out_;
    size_t out_pos_ = 0;
    std::string raw_;
    std::string error_;
    std::vector<PeerMsg> msgs_;
    uint64_t bytes_read_ = 0;
    bool reading_ = true;
    bool hs_done_ = false;
    bool eof_ = false;
};

// Media payloads (FLV tag bodies) for tests: H.264 and AAC as an encoder sends them. A
// frame carries its number at bytes 5..8 so a test can tell which frames a player lost.
std::string avc_sequence_header();
std::string aac_sequence_header();
std::string avc_frame(bool key, uint32_t number, size_t size = 64);
std::string aac_frame(uint32_t number);
// Enhanced RTMP (ExVideoTagHeader, FourCC hvc1): SequenceStart, and CodedFramesX frames
// (no composition time, so the number is at bytes 5..8 as well).
std::string hevc_sequence_start();
std::string hevc_frame(bool key, uint32_t number, size_t size = 64);

// One worker's pieces for a test. Destruction order: connections, cycle, loop.
class TestServer {
public:
    explicit TestServer(std::string_view conf_text, uint32_t slots = 32);
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    bool ok() const { return bool(cycle_); }
    const std::string& error() const { return error_; }
    EventLoop& loop() { return loop_; }
    Cycle& cycle() { return *cycle_; }
    ConnectionTable& table() { return *table_; }

    // Makes the peer's server end a server Session (as the rtmp factory does on accept);
    // the peer is pumped by turn() from now on.
    rtmp::Session* adopt(RtmpTestPeer& p);
    void forget(RtmpTestPeer* p);
    // Pumps every peer, runs the loop once (waiting at most 1 ms), pumps again.
    void turn();
    template <class Pred>
    bool run_until(Pred&& pred, int max_turns = 500)
    {
        for (int i = 0; i < max_turns; ++i) {
            if (pred()) return true;
            turn();
        }
        return pred();
    }
    void settle(int turns = 5)
    {
        for (int i = 0; i < turns; ++i) turn();
    }

    // Steps most tests start with; each waits for the server's answer and is false (with
    // a gtest failure) when it does not come.
    bool handshake(RtmpTestPeer& p, bool complex = false);
    bool connect(RtmpTestPeer& p, std::string_view app = "live");
    uint32_t create_stream(RtmpTestPeer& p);  // the stream id, 0 on failure
    // The onStatus code the server answered the publish / play with ("" when none).
    std::string publish(RtmpTestPeer& p, uint32_t msid, std::string_view name);
    std::string play(RtmpTestPeer& p, uint32_t msid, std::string_view name);
    // A peer adopted, handshaken, connected, with one stream (its id in *msid).
    rtmp::Session* open(RtmpTestPeer& p, uint32_t* msid, std::string_view app = "live");

    // Closes every connection and destroys them; the pool must then be back to zero.
    void shutdown();
    size_t outstanding() { return loop_.pool().outstanding(); }

private:
    EventLoop loop_;
    std::unique_ptr<Cycle> cycle_;
    std::unique_ptr<ConnectionTable> table_;
    std::vector<RtmpTestPeer*> peers_;
    std::string error_;
    double next_tid_ = 2;
};

}  // namespace strom::test
