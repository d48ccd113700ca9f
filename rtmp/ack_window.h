// Acknowledgement bookkeeping for one connection (RTMP spec 5.4.3, 5.4.4): counts the
// bytes received and says when an Acknowledgement is due because the peer's window (its
// Window Acknowledgement Size) has passed since the last one. The session owns it, feeds it
// every read and sends the Acknowledgement itself.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strom::rtmp {

class AckWindow {
public:
    // The window announced by the peer; 0 (never announced, or nonsense) disables acks.
    void set_window(uint32_t bytes) { window_ = bytes; }
    uint32_t window() const { return window_; }

    // Counts n more bytes received; true when an Acknowledgement is due now.
    bool add(size_t n)
    {
        received_ += uint32_t(n);  // the sequence number wraps mod 2^32 (RTMP spec 5.4.3)
        return due();
    }
    bool due() const { return window_ != 0 && uint32_t(received_ - acked_) >= window_; }
    // The sequence number to put in the Acknowledgement: bytes received so far, mod 2^32.
    uint32_t sequence() const { return received_; }
    // Call after queueing the Acknowledgement for sequence().
    void acked() { acked_ = received_; }

private:
    uint32_t window_ = 0;
    uint32_t received_ = 0;
    uint32_t acked_ = 0;
};

}  // namespace strom::rtmp
