// Turning peer-chosen names (stream and app names) into file names that stay inside a
// configured root (record_path, play directories). A name becomes exactly one path
// component: bytes outside [A-Za-z0-9._-] are %XX-escaped (so '/', '\\', '%' and control
// bytes cannot act), a leading '.' is escaped (no "..", no hidden files), and a name that
// is empty or whose escaped form is too long for one component is refused. Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace strom::mod {

// Longest escaped component accepted; leaves room for a unique stamp and a suffix within
// NAME_MAX (255).
inline constexpr size_t kMaxSafeName = 160;

// Appends the escaped form of `name` to *out. False (and *out unchanged) when the name is
// empty or its escaped form exceeds kMaxSafeName bytes.
bool append_safe_name(std::string_view name, std::string* out);

// `root` + '/' + escaped name + suffix; false when the name is refused. `suffix` comes
// from the configuration (trusted) and is appended as is.
bool safe_join(std::string_view root, std::string_view name, std::string_view suffix,
               std::string* out);

// Replaces `$app` and `$name` in a configured path pattern with escaped names; false when
// a name is refused. Other text is kept.
bool expand_name_vars(std::string_view pattern, std::string_view app, std::string_view name,
                      std::string* out);

}  // namespace strom::mod
