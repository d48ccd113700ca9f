// A small streaming JSON writer (RFC 8259) for answers built in one pass: objects and
// arrays nest up to kMaxDepth, commas are placed for the caller, every string is escaped
// (quote, backslash, control characters, U+2028/2029 and '<' '>' '&' as \u escapes so an
// answer is safe inside HTML and JavaScript), invalid UTF-8 becomes U+FFFD per maximal
// subpart (Unicode 15, 3.9), and a non-finite number becomes null. Appends to a string
// the caller owns; no other allocation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strom {

class JsonWriter {
public:
    static constexpr int kMaxDepth = 32;

    explicit JsonWriter(std::string* out) : out_(*out) {}

    void begin_object();
    void end_object();
    void begin_array();
    void end_array();
    // The name of the next member of the current object.
    void key(std::string_view k);

    void str(std::string_view s);
    void num(uint64_t v);
    void num(int64_t v);
    void num(uint32_t v) { num(uint64_t(v)); }
    void num(int v) { num(int64_t(v)); }
    // A fraction with at most `decimals` digits after the point, trailing zeros removed.
    void num(double v, int decimals = 3);
    void boolean(bool b);
    void null();

    // key + value in one call, for flat members.
    template <class T>
    void member(std::string_view k, T v)
    {
        key(k);
        value(v);
    }

    // Appends the escaped form of s (without quotes) to out.
    static void escape(std::string_view s, std::string* out);
    // Appends s with every ill-formed UTF-8 subpart replaced by U+FFFD (no other change).
    static void utf8_repair(std::string_view s, std::string* out);

private:
    void value(std::string_view s) { str(s); }
    void value(const char* s) { str(s); }
    void value(const std::string& s) { str(s); }
    void value(bool b) { boolean(b); }
    void value(double d) { num(d); }
    void value(uint64_t v) { num(v); }
    void value(int64_t v) { num(v); }
    void value(uint32_t v) { num(uint64_t(v)); }
    void value(int v) { num(int64_t(v)); }
    void before_value();
    void open(char c);
    void close(char c);

    std::string& out_;
    int depth_ = 0;
    bool first_[kMaxDepth + 1] = {true};
    bool after_key_ = false;
};

}  // namespace strom
