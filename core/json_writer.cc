#include "core/json_writer.h"

#include <cmath>
#include <cstdio>

#include "core/utf8.h"

namespace strom {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void put_u(std::string* out, unsigned cp)
{
    char b[6] = {
        '\\',         'u', kHex[(cp >> 12) & 15], kHex[(cp >> 8) & 15], kHex[(cp >> 4) & 15],
        kHex[cp & 15]};
    out->append(b, 6);
}


}  // namespace

void JsonWriter::escape(std::string_view s, std::string* out)
{
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
                case '"':
                    out->append("\\\"");
                    break;
                case '\\':
                    out->append("\\\\");
                    break;
                case '\b':
                    out->append("\\b");
                    break;
                case '\f':
                    out->append("\\f");
                    break;
                case '\n':
                    out->append("\\n");
                    break;
                case '\r':
                    out->append("\\r");
                    break;
                case '\t':
                    out->append("\\t");
                    break;
                case '<':
                case '>':
                case '&':
                case 0x7f:
                    put_u(out, c);
                    break;
                default:
                    if (c < 0x20) {
                        put_u(out, c);
                    } else {
                        out->push_back(char(c));
                    }
            }
            ++i;
            continue;
        }
        size_t bad = 0;
        size_t n = utf8_sequence(s, i, &bad);
        if (n == 0) {
            out->append("\xef\xbf\xbd");  // U+FFFD
            i += bad;
            continue;
        }
        // U+2028 and U+2029 end a line in JavaScript source: escaped.
        if (n == 3 && c == 0xe2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
            (static_cast<unsigned char>(s[i + 2]) & 0xfe) == 0xa8) {
            put_u(out, 0x2000 | (static_cast<unsigned char>(s[i + 2]) == 0xa8 ? 0x28 : 0x29));
        } else {
            out->append(s.data() + i, n);
        }
        i += n;
    }
}

void JsonWriter::utf8_repair(std::string_view s, std::string* out)
{
    for (size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            out->push_back(s[i++]);
            continue;
        }
        size_t bad = 0;
        size_t n = utf8_sequence(s, i, &bad);
        if (n == 0) {
            out->append("\xef\xbf\xbd");
            i += bad;
        } else {
            out->append(s.data() + i, n);
            i += n;
        }
    }
}

void JsonWriter::before_value()
{
    if (after_key_) {
        after_key_ = false;
        return;
    }
    if (!first_[depth_]) out_.push_back(',');
    first_[depth_] = false;
}

void JsonWriter::open(char c)
{
    before_value();
    out_.push_back(c);
    if (depth_ < kMaxDepth) ++depth_;  // deeper nesting is a programming error: flattened
    first_[depth_] = true;
}

void JsonWriter::close(char c)
{
    out_.push_back(c);
    if (depth_ > 0) --depth_;
}

void JsonWriter::begin_object()
{
    open('{');
}
void JsonWriter::end_object()
{
    close('}');
}
void JsonWriter::begin_array()
{
    open('[');
}
void JsonWriter::end_array()
{
    close(']');
}

void JsonWriter::key(std::string_view k)
{
    before_value();
    out_.push_back('"');
    escape(k, &out_);
    out_.append("\":");
    after_key_ = true;
}

void JsonWriter::str(std::string_view s)
{
    before_value();
    out_.push_back('"');
    escape(s, &out_);
    out_.push_back('"');
}

void JsonWriter::num(uint64_t v)
{
    before_value();
    char b[24];
    int n = snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    out_.append(b, size_t(n));
}

void JsonWriter::num(int64_t v)
{
    before_value();
    char b[24];
    int n = snprintf(b, sizeof b, "%lld", (long long)v);
    out_.append(b, size_t(n));
}

void JsonWriter::num(double v, int decimals)
{
    if (!std::isfinite(v)) {
        null();
        return;
    }
    before_value();
    if (decimals < 0) decimals = 0;
    if (decimals > 9) decimals = 9;
    char b[64];
    int n = snprintf(b, sizeof b, "%.*f", decimals, v);
    if (n < 0 || n >= int(sizeof b)) {
        out_.append("0");
        return;
    }
    if (decimals > 0) {
        while (n > 0 && b[n - 1] == '0') --n;
        if (n > 0 && b[n - 1] == '.') --n;
    }
    if (n == 2 && b[0] == '-' && b[1] == '0') {  // "-0.0001" rounded: plain 0
        b[0] = '0';
        n = 1;
    }
    out_.append(b, size_t(n));
}

void JsonWriter::boolean(bool b)
{
    before_value();
    out_.append(b ? "true" : "false");
}

void JsonWriter::null()
{
    before_value();
    out_.append("null");
}

}  // namespace strom
