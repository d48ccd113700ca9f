// Return codes shared by every layer, with nginx's meanings. Lower layers return an
// Rc plus (where useful) a static reason string; the layer that decides to reject or
// close logs once with the session's context.
#pragma once

namespace strom {

enum class [[nodiscard]] Rc {
    ok,        // done what was asked
    error,     // failed; the caller closes or rejects
    again,     // would block / not enough input yet: call again later
    done,      // handled completely: stop the chain
    declined,  // not mine: pass to the next handler
};

}  // namespace strom
