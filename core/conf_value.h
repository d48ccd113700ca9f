// Value syntaxes of configuration arguments, as nginx reads them: sizes (`64k`), times
// (`30s`, `1h30m`), flags (`on|off`), plain numbers and `N|auto`. Each returns false on
// anything it does not accept, overflow included, and leaves *out alone then.
#pragma once

#include <cstdint>
#include <string_view>

namespace strom {

// Decimal digits only, no sign, no spaces.
bool parse_uint(std::string_view s, uint64_t* out);
// An optional leading '-', then decimal digits.
bool parse_int(std::string_view s, int64_t* out);
// `4096`, `64k`/`64K`, `1m`/`1M`, `1g`/`1G`, in bytes; at most INT64_MAX so it fits off_t.
bool parse_size(std::string_view s, uint64_t* out);
// Milliseconds from `500ms`, `30s`, `5m`, `1h`, `1d`, `1w`, a bare number (seconds, as
// nginx) or combinations in decreasing unit order (`1h30m`, `10s500ms`, `1m30` = 90 s).
bool parse_msec(std::string_view s, int64_t* out);
// `on` or `off`, in any letter case (nginx compares case-insensitively).
bool parse_flag(std::string_view s, bool* out);
// `auto` (sets *is_auto, leaves *n alone) or a number (clears *is_auto).
bool parse_num_or_auto(std::string_view s, uint64_t* n, bool* is_auto);

}  // namespace strom
