// A bench player over HTTP-FLV: one connection from the client's ConnectionTable, one
// "GET /APP/STREAM.flv", then the endless answer read by an HttpFlvReader; the 200 head
// makes it playing (what Play.Start is to RTMP), and every audio and video tag goes to
// the same accounting as an RTMP player's messages. The connection owns a small handler
// that forwards to this player; the player only points to the connection until on_close.
#pragma once

#include <string>

#include "core/connection.h"
#include "tools/bench_player.h"
#include "tools/http_flv_reader.h"

namespace strom::tools {

class HttpFlvBenchPlayer final : public BenchPlayer {
public:
    // http_port: the port the Host header names (the target's port).
    HttpFlvBenchPlayer(BenchShared& shared, const SentLog* log, int http_port)
        : BenchPlayer(shared, log), http_port_(http_port)
    {
    }

    // t: the server's HTTP listener. url.stream must not be empty (no idle HTTP players).
    bool start(ClientLoop& cl, const Target& t, const RtmpUrl& url) override;
    void close() override;
    uint64_t bytes_in() const override;

private:
    class Handler;
    void on_connected(Connection& c, bool ok);
    void on_read(Connection& c);
    void on_close(Connection& c, const char* reason);
    void on_tag(const rtmp::FlvTag& tag);

    int http_port_;
    Connection* c_ = nullptr;
    std::string request_;
    HttpFlvReader reader_;
    uint64_t bytes_final_ = 0;
};

}  // namespace strom::tools
