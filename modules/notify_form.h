// The body (or query) of a notify callback: nginx-rtmp's fields as
// application/x-www-form-urlencoded pairs, every value encoded by us so no
// client-supplied string (flashVer, pageUrl, a stream name, query arguments) can add a
// field or break the request. Plain value, built per call and dropped after it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strom::mod {

class NotifyForm {
public:
    // Appends key=value, both form-encoded.
    void add(std::string_view key, std::string_view value);
    void add_num(std::string_view key, int64_t value);
    // The client's query arguments ("a=1&b=%20"): each pair decoded and encoded again,
    // so a malformed escape or a raw control character cannot pass through. A key that
    // is already in the form (call, addr, name, ...) is skipped: a client cannot spoof
    // the server's own fields.
    void add_args(std::string_view query);
    const std::string& str() const { return s_; }

private:
    bool has_key(std::string_view key) const;

    std::string s_;
    std::vector<std::string> keys_;
};

// The stream name a 3xx answer's Location names (nginx-rtmp: the new name; for an
// rtmp:// URL, its last path segment), split into name and args. False when it is empty,
// too long, or holds control characters.
bool notify_location_name(std::string_view location, size_t max_len, std::string* name,
                          std::string* args);

}  // namespace strom::mod
