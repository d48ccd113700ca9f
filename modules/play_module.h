// The play module (VOD): `play DIR [DIR ...]` in an application serves recorded files.
// `play NAME` looks for NAME.flv, then NAME.mp4, in each directory in order (NAME may
// carry its own ".flv"/".mp4" extension, or an "flv:"/"mp4:" prefix choosing the format);
// the name is escaped exactly as record names are (modules/safe_path.h), so it never
// leaves the directories. Each player gets a VodPlayer (ctx[play]) that paces the file in
// real time, `play_buffer` ahead. The first player of an MP4 file waits, its chain
// suspended (Session::ctx[play] holds the wait), while the worker's helper thread reads
// the file's index.
// The module sits after live in the chain: an application with `live on` takes every
// play itself, so VOD applications leave live off.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/module.h"
#include "modules/play_vod.h"
#include "rtmp/hooks.h"
#include "rtmp/session.h"

namespace strom::mod {

struct PlayConf : ConfBase {
    std::vector<std::string> dirs;   // absolute (resolved against the prefix)
    bool dirs_set = false;
    std::optional<uint64_t> play_buffer;   // ms of lead over real time
};

class PlayModule final : public Module {
public:
    const char* name() const override { return "play"; }
    std::span<const Directive> directives() const override;
    std::unique_ptr<ConfBase> create_conf(ConfLevel level) override;
    const char* merge(ConfBase* child, const ConfBase* parent, ConfLevel level) override;
    Rc postconfiguration(Cycle& cycle) override;

    bool has_file(rtmp::Session& s, const std::string& name);
    double stream_length(rtmp::Session& s, const std::string& name);
    static constexpr size_t kLengthProbe = 256 * 1024;
    Rc on_play(rtmp::Session& s, rtmp::PlayCmd& cmd, rtmp::Next<rtmp::PlayCmd> next);
    void on_close_stream(rtmp::Session& s, rtmp::NetStream& ns);
    void on_disconnect(rtmp::Session& s);

private:
    struct PlayWait;
    // For the play a PlayWait runs again: the index it waited for, or the source whose
    // head it waited for.
    std::shared_ptr<const Mp4Index> ready_;
    std::unique_ptr<VodSource> ready_src_;
};

extern PlayModule play_module;

// The file `name` resolves to in `dirs` (first match), opened read-only; -1 when none.
// *path receives the path opened, *format (when given) how to read it.
int vod_open(const std::vector<std::string>& dirs, std::string_view name, std::string* path,
             VodFormat* format = nullptr);

}  // namespace strom::mod
