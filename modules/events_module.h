// The writer and the HTTP views of the activity list (the EventRing): appends an event
// when a stream is published or unpublished, a player starts or stops, a publish or play
// is refused, a recording file is done, and a worker starts or exits; answers
// GET v1/events?since=&limit= (through the api module) and keeps this worker's
// Server-Sent Events clients of v1/events/stream, fed by one poll timer. Nothing here runs
// per media message. One instance per process; its SSE state lives in a worker only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/module.h"
#include "core/timer.h"
#include "modules/event_ring.h"

namespace strom {
class JsonWriter;
}
namespace strom::http {
class HttpSession;
}
namespace strom::media {
struct ClientRequest;
}
namespace strom::rtmp {
class Session;
}

namespace strom::mod {

class LiveStream;
class LivePlayer;
struct RecordDone;
class SseClient;

// The JSON object of one event (also an SSE `data:` line).
void write_event(JsonWriter& w, const ActivityEvent& e);
// The answer of v1/events for this query; *status 200 or 400, JSON in both cases.
std::string events_answer(const EventRing& ring, std::string_view query, int* status);

class EventsModule final : public Module {
public:
    static constexpr uint64_t kPollMs = 200;
    static constexpr uint64_t kKeepAliveMs = 15000;
    static constexpr size_t kSseBatch = 256;  // events written to one client per poll

    const char* name() const override { return "events"; }
    Rc postconfiguration(Cycle& cycle) override;
    Rc init_process(Cycle& cycle) override;
    void exit_process(Cycle& cycle) override;

    // Any other refusal a module decides (HTTP-FLV players): `why` is what it logged.
    void refused(const media::ClientRequest& q, std::string_view why);
    // A connection refused before it asked for anything (connection limits).
    void refused_connection(uint64_t id, const char* peer, const char* protocol,
                            std::string_view why);
    // v1/events/stream: 400 on a bad Last-Event-ID, else the connection becomes a feed.
    void open_stream(http::HttpSession& s);
    void close_stream(SseClient* c);

private:
    void on_published(LiveStream& st);
    void on_unpublished(LiveStream& st);
    void on_player_started(LiveStream& st, LivePlayer& p);
    void on_player_stopped(LiveStream& st, LivePlayer& p);
    void on_rtmp_refused(rtmp::Session& s, const char* op, const std::string& name,
                         const char* code, std::string_view description);
    void on_record_done(const RecordDone& ev);
    void player_event(const char* type, LiveStream& st, LivePlayer& p);
    void stream_event(const char* type, LiveStream& st);
    void feed(SseClient& c, uint64_t now);
    static void on_poll(Timer& t);

    pid_t pid_ = 0;
    Timer poll_;
    std::vector<SseClient*> clients_;  // owned by their HttpSession
};

extern EventsModule events_module;

}  // namespace strom::mod
