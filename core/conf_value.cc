#include "core/conf_value.h"

#include <strings.h>

#include <cstddef>

namespace strom {

namespace {

constexpr uint64_t kMaxSigned = uint64_t(INT64_MAX);

// a * b + c without passing `limit`.
bool mul_add(uint64_t a, uint64_t b, uint64_t c, uint64_t limit, uint64_t* out)
{
    if (b != 0 && a > limit / b) return false;
    uint64_t p = a * b;
    if (c > limit - p) return false;
    *out = p + c;
    return true;
}

// Leading digits of s (at least one) into *n; *used = digits consumed.
bool leading_digits(std::string_view s, uint64_t* n, size_t* used)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        if (!mul_add(v, 10, uint64_t(s[i] - '0'), UINT64_MAX, &v)) return false;
    }
    if (i == 0) return false;
    *n = v;
    *used = i;
    return true;
}

struct TimeUnit {
    const char* suffix;
    uint64_t ms;
};

// Longest suffix first where one is a prefix of another ("ms" before "m").
constexpr TimeUnit kUnits[] = {
    {"w", 7 * 86400000ull}, {"d", 86400000ull}, {"h", 3600000ull}, {"ms", 1},
    {"m", 60000ull},        {"s", 1000ull},
};

// Rank in decreasing order of size: w d h m s ms.
int unit_rank(uint64_t ms)
{
    switch (ms) {
        case 7 * 86400000ull:
            return 0;
        case 86400000ull:
            return 1;
        case 3600000ull:
            return 2;
        case 60000ull:
            return 3;
        case 1000ull:
            return 4;
        default:
            return 5;
    }
}

}  // namespace

bool parse_uint(std::string_view s, uint64_t* out)
{
    uint64_t n;
    size_t used;
    if (!leading_digits(s, &n, &used) || used != s.size()) return false;
    *out = n;
    return true;
}

bool parse_int(std::string_view s, int64_t* out)
{
    bool neg = !s.empty() && s[0] == '-';
    if (neg) s.remove_prefix(1);
    uint64_t n;
    if (!parse_uint(s, &n) || n > kMaxSigned + (neg ? 1 : 0)) return false;
    *out = neg ? int64_t(0 - n) : int64_t(n);
    return true;
}

bool parse_size(std::string_view s, uint64_t* out)
{
    if (s.empty()) return false;
    uint64_t mul = 1;
    switch (s.back()) {
        case 'k':
        case 'K':
            mul = 1ull << 10;
            break;
        case 'm':
        case 'M':
            mul = 1ull << 20;
            break;
        case 'g':
        case 'G':
            mul = 1ull << 30;
            break;
        default:
            break;
    }
    if (mul != 1) s.remove_suffix(1);
    uint64_t n, v;
    if (!parse_uint(s, &n) || !mul_add(n, mul, 0, kMaxSigned, &v)) return false;
    *out = v;
    return true;
}

bool parse_msec(std::string_view s, int64_t* out)
{
    if (s.empty()) return false;
    uint64_t total = 0;
    int last_rank = -1;
    while (!s.empty()) {
        uint64_t n;
        size_t used;
        if (!leading_digits(s, &n, &used)) return false;
        s.remove_prefix(used);
        uint64_t unit = 1000;  // a bare number is seconds, as in nginx
        if (!s.empty()) {
            unit = 0;
            for (const TimeUnit& u : kUnits) {
                std::string_view suf(u.suffix);
                if (s.substr(0, suf.size()) == suf) {
                    unit = u.ms;
                    s.remove_prefix(suf.size());
                    break;
                }
            }
            if (unit == 0) return false;
        }
        // nginx takes units largest first, each once: "1h30m", not "30m1h".
        int rank = unit_rank(unit);
        if (rank <= last_rank) return false;
        last_rank = rank;
        if (!mul_add(n, unit, total, kMaxSigned, &total)) return false;
    }
    *out = int64_t(total);
    return true;
}

bool parse_flag(std::string_view s, bool* out)
{
    if (s.size() == 2 && strncasecmp(s.data(), "on", 2) == 0) {
        *out = true;
        return true;
    }
    if (s.size() == 3 && strncasecmp(s.data(), "off", 3) == 0) {
        *out = false;
        return true;
    }
    return false;
}

bool parse_num_or_auto(std::string_view s, uint64_t* n, bool* is_auto)
{
    if (s == "auto") {
        *is_auto = true;
        return true;
    }
    if (!parse_uint(s, n)) return false;
    *is_auto = false;
    return true;
}

}  // namespace strom
