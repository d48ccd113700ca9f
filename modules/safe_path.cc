#include "modules/safe_path.h"

namespace strom::mod {

namespace {

bool plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

}  // namespace

bool append_safe_name(std::string_view name, std::string* out)
{
    if (name.empty()) return false;
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string esc;
    esc.reserve(name.size());
    for (size_t i = 0; i < name.size(); ++i) {
        auto c = static_cast<unsigned char>(name[i]);
        // A leading dot would make "." / ".." or a hidden file: escape it like any other.
        if (plain(c) && !(i == 0 && c == '.')) {
            esc.push_back(char(c));
        } else {
            esc.push_back('%');
            esc.push_back(kHex[c >> 4]);
            esc.push_back(kHex[c & 15]);
        }
        if (esc.size() > kMaxSafeName) return false;
    }
    out->append(esc);
    return true;
}

bool safe_join(std::string_view root, std::string_view name, std::string_view suffix, std::string* out)
{
    std::string p(root.empty() ? std::string_view(".") : root);
    if (p.back() != '/') p.push_back('/');
    if (!append_safe_name(name, &p)) return false;
    p.append(suffix);
    *out = std::move(p);
    return true;
}

bool expand_name_vars(std::string_view pattern, std::string_view app, std::string_view name,
                      std::string* out)
{
    std::string r;
    size_t i = 0;
    while (i < pattern.size()) {
        if (pattern.compare(i, 4, "$app") == 0) {
            if (!append_safe_name(app, &r)) return false;
            i += 4;
        } else if (pattern.compare(i, 5, "$name") == 0) {
            if (!append_safe_name(name, &r)) return false;
            i += 5;
        } else {
            r.push_back(pattern[i++]);
        }
    }
    *out = std::move(r);
    return true;
}

}  // namespace strom::mod
