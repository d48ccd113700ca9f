// A listener bound to a module instance: a function pointer and its object, called with
// the event's arguments (no std::function, no allocation per call). Lists of these are
// the typed event registries of a configuration generation.
#pragma once

namespace strom::media {

template <class... Args>
struct Listener {
    using Fn = void (*)(void* self, Args... args);
    Fn fn;
    void* self;
    template <auto Method, class M>
    static Listener bind(M* m)
    {
        return Listener{[](void* p, Args... a) { (static_cast<M*>(p)->*Method)(a...); }, m};
    }
    void operator()(Args... a) const { fn(self, a...); }
};

}  // namespace strom::media
