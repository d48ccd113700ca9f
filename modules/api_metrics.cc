// The Prometheus text exposition (format 0.0.4) of the StatsBoard: HELP and TYPE for every
// family, label values escaped (backslash, quote, newline; invalid UTF-8 and other control
// characters replaced), and stream series capped: the max_streams streams with the most
// players are labelled, the rest are summed into one series with empty app and stream.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "core/json_writer.h"
#include "modules/api_module.h"

namespace strom::mod {

namespace {

void label_escape(std::string_view v, std::string* out)
{
    std::string repaired;
    JsonWriter::utf8_repair(v, &repaired);
    for (char ch : repaired) {
        auto c = static_cast<unsigned char>(ch);
        if (ch == '\\') {
            out->append("\\\\");
        } else if (ch == '"') {
            out->append("\\\"");
        } else if (ch == '\n') {
            out->append("\\n");
        } else if (c < 0x20 || c == 0x7f) {
            out->append("\xef\xbf\xbd");  // U+FFFD: the format has no escape for them
        } else {
            out->push_back(ch);
        }
    }
}

class Exposition {
public:
    explicit Exposition(std::string* out) : out_(*out) {}

    void family(const char* name, const char* type, const char* help)
    {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
        name_ = name;
    }
    // One sample; labels as name/value pairs.
    void sample(std::initializer_list<std::pair<const char*, std::string_view>> labels, double v)
    {
        out_ += name_;
        if (labels.size()) {
            out_ += '{';
            bool first = true;
            for (auto& [k, val] : labels) {
                if (!first) out_ += ',';
                first = false;
                out_ += k;
                out_ += "=\"";
                label_escape(val, &out_);
                out_ += '"';
            }
            out_ += '}';
        }
        char b[40];
        snprintf(b, sizeof b, " %.17g\n", v);
        out_ += b;
    }
    void sample(double v) { sample({}, v); }

private:
    std::string& out_;
    const char* name_ = "";
};

struct StreamSum {
    std::string app, name;
    double players_rtmp = 0, players_flv = 0, players_ws = 0, bytes_in = 0, bitrate = 0,
           dropped = 0, published = 0;
};

}  // namespace

std::string metrics_answer(const StatsBoard::Snapshot& snap, uint32_t max_streams)
{
    std::string out;
    Exposition e(&out);
    int64_t now = unix_ms();
    double rtmp = 0, http = 0, internal = 0, outgoing = 0, in = snap.retired_bytes_in,
           sent = snap.retired_bytes_out;
    for (const WorkerFigures& f : snap.workers) {
        rtmp += f.conns_rtmp;
        http += f.conns_http;
        internal += f.conns_internal;
        outgoing += f.conns_outgoing;
        in += double(f.bytes_in);
        sent += double(f.bytes_out);
    }
    e.family("strom_uptime_seconds", "gauge", "Seconds since the server started.");
    e.sample(snap.started_ms > 0 ? double(now - snap.started_ms) / 1000.0 : 0);
    e.family("strom_workers", "gauge", "Worker processes running or draining.");
    e.sample(double(snap.workers.size()));
    e.family("strom_workers_exited_total", "counter", "Worker processes that exited.");
    e.sample(snap.workers_exited);
    e.family("strom_connections", "gauge", "Open connections by protocol.");
    e.sample({{"protocol", "rtmp"}}, rtmp);
    e.sample({{"protocol", "http"}}, http);
    e.sample({{"protocol", "internal"}}, internal);
    e.sample({{"protocol", "outgoing"}}, outgoing);
    e.family("strom_received_bytes_total", "counter", "Bytes received on all connections.");
    e.sample(in);
    e.family("strom_sent_bytes_total", "counter", "Bytes sent on all connections.");
    e.sample(sent);

    e.family("strom_worker_cpu_seconds_total", "counter", "CPU time of a worker process.");
    for (const WorkerFigures& f : snap.workers) {
        e.sample({{"pid", std::to_string(f.pid)}}, f.cpu_ms / 1000.0);
    }
    e.family("strom_worker_resident_memory_bytes", "gauge", "Resident memory of a worker.");
    for (const WorkerFigures& f : snap.workers) {
        e.sample({{"pid", std::to_string(f.pid)}}, double(f.rss_bytes));
    }

    // Streams, summed over the workers that have them.
    std::map<std::string_view, StreamSum> by_key;
    for (const StreamFigures& f : snap.streams) {
        StreamSum& s = by_key[f.key_view()];
        std::string_view key = f.key_view();
        size_t slash = key.find('/');
        s.app = std::string(key.substr(0, slash));
        s.name = slash == std::string_view::npos ? "" : std::string(key.substr(slash + 1));
        s.players_rtmp += f.players_rtmp;
        s.players_flv += f.players_http_flv;
        s.players_ws += f.players_ws_flv;
        s.dropped += double(f.dropped);
        if (f.source == SourceKind::local || f.source == SourceKind::relay_pull) {
            s.bytes_in += double(f.bytes_in);
            s.bitrate += double(f.bitrate);
            s.published = 1;
        }
    }
    std::vector<StreamSum> list;
    for (auto& [k, s] : by_key) list.push_back(std::move(s));
    std::stable_sort(list.begin(), list.end(), [](const StreamSum& a, const StreamSum& b) {
        return a.players_rtmp + a.players_flv + a.players_ws >
               b.players_rtmp + b.players_flv + b.players_ws;
    });
    if (list.size() > max_streams) {
        StreamSum rest;
        for (size_t i = max_streams; i < list.size(); ++i) {
            const StreamSum& s = list[i];
            rest.players_rtmp += s.players_rtmp;
            rest.players_flv += s.players_flv;
            rest.players_ws += s.players_ws;
            rest.bytes_in += s.bytes_in;
            rest.bitrate += s.bitrate;
            rest.dropped += s.dropped;
            rest.published += s.published;
        }
        list.resize(max_streams);
        list.push_back(std::move(rest));  // app="" stream="": the streams not labelled
    }
    e.family("strom_streams", "gauge", "Streams with a source or players.");
    e.sample(double(by_key.size()));
    e.family("strom_stream_labelled_limit", "gauge",
             "Streams labelled in the stream series (metrics_max_streams).");
    e.sample(max_streams);
    e.family("strom_stream_published", "gauge", "Streams that have a source (1), or 0.");
    for (const StreamSum& s : list) e.sample({{"app", s.app}, {"stream", s.name}}, s.published);
    e.family("strom_stream_players", "gauge", "Players of a stream on all workers.");
    for (const StreamSum& s : list) {
        e.sample({{"app", s.app}, {"stream", s.name}, {"protocol", "rtmp"}}, s.players_rtmp);
        e.sample({{"app", s.app}, {"stream", s.name}, {"protocol", "http-flv"}}, s.players_flv);
        e.sample({{"app", s.app}, {"stream", s.name}, {"protocol", "ws-flv"}}, s.players_ws);
    }
    e.family("strom_stream_received_bytes_total", "counter",
             "Media bytes received from the stream's source (restarts with a new source).");
    for (const StreamSum& s : list) e.sample({{"app", s.app}, {"stream", s.name}}, s.bytes_in);
    e.family("strom_stream_bitrate", "gauge",
             "Bits per second received from the stream's source over the last 5 seconds.");
    for (const StreamSum& s : list) e.sample({{"app", s.app}, {"stream", s.name}}, s.bitrate);
    e.family("strom_stream_dropped_frames", "gauge",
             "Frames dropped for the stream's current slow players.");
    for (const StreamSum& s : list) e.sample({{"app", s.app}, {"stream", s.name}}, s.dropped);
    return out;
}

}  // namespace strom::mod
