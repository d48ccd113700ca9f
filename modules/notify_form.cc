#include "modules/notify_form.h"

#include "core/http_parser.h"
#include "rtmp/command.h"

namespace strom::mod {

void NotifyForm::add(std::string_view key, std::string_view value)
{
    if (!s_.empty()) s_ += '&';
    form_encode(key, &s_);
    s_ += '=';
    form_encode(value, &s_);
    keys_.emplace_back(key);
}

void NotifyForm::add_num(std::string_view key, int64_t value)
{
    add(key, std::to_string(value));
}

bool NotifyForm::has_key(std::string_view key) const
{
    for (const std::string& k : keys_) {
        if (k == key) return true;
    }
    return false;
}

void NotifyForm::add_args(std::string_view query)
{
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        size_t eq = pair.find('=');
        std::string key = form_decode(pair.substr(0, eq));
        std::string value =
            eq == std::string_view::npos ? std::string() : form_decode(pair.substr(eq + 1));
        if (key.empty() || has_key(key)) continue;
        add(key, value);
    }
}

bool notify_location_name(std::string_view location, size_t max_len, std::string* name,
                          std::string* args)
{
    std::string_view n = location;
    if (n.find("://") != std::string_view::npos) {
        // rtmp://host/app/stream?args: the stream is the last path segment.
        size_t q = n.find('?');
        size_t slash = n.substr(0, q).rfind('/');
        n = n.substr(slash + 1);
    }
    const char* why = nullptr;
    return rtmp::split_stream_name(n, max_len, name, args, &why);
}

}  // namespace strom::mod
