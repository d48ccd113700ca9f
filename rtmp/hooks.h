// The module chain of one configuration generation (owned by the rtmp core module's
// main conf, so two cycles in one process have separate chains). Command events run
// through a Chain: each link may pass on (`return next(s, ev)`), finish (Rc::done),
// reject (`return s.reject(ev, status)`), wrap around next, or suspend (keep `next`
// and the session's pending event, return Rc::again, and later call
// `s.resume(next(s, ev))` from the event loop). The end of a chain is the session's
// own default action for the event. Notifications (media, close) are plain lists.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/rc.h"

namespace strom::rtmp {

class Session;
struct NetStream;
struct MediaMsg;
struct ConnectCmd;
struct PublishCmd;
struct PlayCmd;

template <class Ev>
class HookChain;

template <class Ev>
class Next {
public:
    Next() = default;
    Next(const HookChain<Ev>* chain, size_t pos) : chain_(chain), pos_(pos) {}
    Rc operator()(Session& s, Ev& ev) const;
    explicit operator bool() const { return chain_ != nullptr; }

private:
    const HookChain<Ev>* chain_ = nullptr;
    size_t pos_ = 0;
};

template <class Ev>
struct Link {
    using Fn = Rc (*)(void* self, Session& s, Ev& ev, Next<Ev> next);
    Fn fn;
    void* self;
};

template <class Ev>
class HookChain {
public:
    using Terminal = Rc (*)(Session& s, Ev& ev);
    explicit HookChain(Terminal t = nullptr) : terminal_(t) {}

    void add(Link<Ev> l) { links_.push_back(l); }
    // Binds a member function `Rc M::fn(Session&, Ev&, Next<Ev>)` of `self`.
    template <auto Method, class M>
    void add(M* self)
    {
        links_.push_back(Link<Ev>{[](void* p, Session& s, Ev& ev, Next<Ev> n) {
                                      return (static_cast<M*>(p)->*Method)(s, ev, n);
                                  },
                                  self});
    }
    void set_terminal(Terminal t) { terminal_ = t; }
    Rc run(Session& s, Ev& ev) const { return Next<Ev>(this, 0)(s, ev); }
    size_t size() const { return links_.size(); }

private:
    friend class Next<Ev>;
    std::vector<Link<Ev>> links_;
    Terminal terminal_;
};

template <class Ev>
Rc Next<Ev>::operator()(Session& s, Ev& ev) const
{
    if (pos_ < chain_->links_.size()) {
        const Link<Ev>& l = chain_->links_[pos_];
        return l.fn(l.self, s, ev, Next<Ev>(chain_, pos_ + 1));
    }
    return chain_->terminal_ ? chain_->terminal_(s, ev) : Rc::ok;
}

// A notification handler bound to a module instance.
template <class... Args>
struct Notify {
    using Fn = void (*)(void* self, Args... args);
    Fn fn;
    void* self;
    template <auto Method, class M>
    static Notify bind(M* m)
    {
        return Notify{[](void* p, Args... a) { (static_cast<M*>(p)->*Method)(a...); }, m};
    }
};

// Media goes to every listed handler in order: the live module, which turns it into the
// stream's neutral frames (features on media listen to the stream events, not here).
// Rc::error from a handler closes the publishing session.
struct MediaHandler {
    using Fn = Rc (*)(void* self, Session& s, NetStream& ns, MediaMsg& m);
    Fn fn;
    void* self;
    template <auto Method, class M>
    static MediaHandler bind(M* m)
    {
        return MediaHandler{[](void* p, Session& s, NetStream& ns, MediaMsg& msg) {
                                return (static_cast<M*>(p)->*Method)(s, ns, msg);
                            },
                            m};
    }
};

// getStreamLength: the length in seconds of a recorded stream, < 0 when not known.
struct LengthHandler {
    using Fn = double (*)(void* self, Session& s, const std::string& name);
    Fn fn;
    void* self;
    template <auto Method, class M>
    static LengthHandler bind(M* m)
    {
        return LengthHandler{[](void* p, Session& s, const std::string& n) {
                                 return (static_cast<M*>(p)->*Method)(s, n);
                             },
                             m};
    }
};

// Whether a recorded file would play for `name` (VOD): live asks before it makes a
// player of an absent stream wait, so a file is played instead (nginx-rtmp's order).
struct FileProbe {
    using Fn = bool (*)(void* self, Session& s, const std::string& name);
    Fn fn;
    void* self;
    template <auto Method, class M>
    static FileProbe bind(M* m)
    {
        return FileProbe{[](void* p, Session& s, const std::string& n) {
                             return (static_cast<M*>(p)->*Method)(s, n);
                         },
                         m};
    }
};

// A server session starts: once its client address is final (after the PROXY header
// when the listener expects one), before the handshake. Rc::error refuses the client:
// the handler logs why, the session closes (disconnect handlers still run).
struct StartHandler {
    using Fn = Rc (*)(void* self, Session& s);
    Fn fn;
    void* self;
    template <auto Method, class M>
    static StartHandler bind(M* m)
    {
        return StartHandler{[](void* p, Session& s) { return (static_cast<M*>(p)->*Method)(s); }, m};
    }
};

struct Hooks {
    std::vector<StartHandler> start;
    HookChain<ConnectCmd> connect;
    HookChain<PublishCmd> publish;
    HookChain<PlayCmd> play;
    std::vector<MediaHandler> media;
    std::vector<LengthHandler> stream_length;
    std::vector<FileProbe> vod_exists;
    // A publishing or playing NetStream ends (closeStream, deleteStream, disconnect).
    std::vector<Notify<Session&, NetStream&>> close_stream;
    // A publish or play was refused (whoever refused it logged why): the op ("publish" or
    // "play"), the stream name, the onStatus code and description sent.
    std::vector<Notify<Session&, const char*, const std::string&, const char*, std::string_view>>
        refused;
    // The connection is going away (after every close_stream).
    std::vector<Notify<Session&>> disconnect;
};

}  // namespace strom::rtmp
