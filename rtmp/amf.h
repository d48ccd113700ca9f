// AmfValue: one decoded (or to-be-encoded) AMF0/AMF3 value as a small heap tree. Used on the
// control path only (commands, onStatus replies, metadata), never per media frame. A value
// owns its children and copies are deep. Trees decoded from the network are bounded by
// AmfLimits (rtmp/amf_decode_state.h); trees built by hand for replies are assumed small.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace strom::rtmp {

// One type for both encodings. AMF0 string and long string are both `string` (the encoder
// picks the form by length); AMF3 true/false are `boolean`. AMF3 arrays decode to
// `strict_array` (dense part only) or `ecma_array` (an associative part, with the dense
// part, if any, in items()).
enum class AmfType : uint8_t {
    undefined,
    null,
    boolean,
    number,          // IEEE double
    integer,         // AMF3 only (3.6): 29-bit signed; AMF0 encoders send it through 0x11
    string,
    object,          // anonymous object: props()
    typed_object,    // class_name() + props()
    ecma_array,      // props() (+ items() for an AMF3 array with both parts)
    strict_array,    // items()
    date,            // date_ms() + tz() (AMF0 2.13; AMF3 has no time zone)
    xml_document,    // AMF0 0x0F / AMF3 0x07: text in str()
    xml,             // AMF3 0x0B (E4X XML): text in str()
    byte_array,      // AMF3 0x0C: bytes in str()
    vector_int,      // AMF3 3.15: items() of `integer`
    vector_uint,     // items() of `number`
    vector_double,   // items() of `number`
    vector_object,   // items() of any type, class_name() is the element type name
    dictionary,      // AMF3 3.16: items() holds key, value, key, value, ...
    reference,       // a back reference the tree cannot hold (a cycle): ref_index()
    unsupported,     // AMF0 0x0D
};

const char* amf_type_name(AmfType t);

struct AmfProp;

class AmfValue {
public:
    // Implicit from C++ scalars, so replies read naturally. (Defined below AmfProp: the
    // members' destructors need it complete.)
    AmfValue() = default;   // undefined
    AmfValue(std::nullptr_t);
    AmfValue(bool b);
    AmfValue(double d);
    template <typename T>
        requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
    AmfValue(T v);
    AmfValue(const char* s);
    AmfValue(std::string_view s);
    AmfValue(std::string s);

    // Builders, for replies: AmfValue::object({{"level", "status"}, {"code", "..."}}).
    static AmfValue null();
    static AmfValue undefined();
    static AmfValue number(double d);
    static AmfValue integer(int32_t v);
    static AmfValue boolean(bool b);
    static AmfValue string(std::string_view s);
    static AmfValue object(std::initializer_list<AmfProp> props = {});
    static AmfValue ecma_array(std::initializer_list<AmfProp> props = {});
    static AmfValue typed_object(std::string_view class_name,
                                 std::initializer_list<AmfProp> props = {});
    static AmfValue strict_array(std::initializer_list<AmfValue> items = {});
    static AmfValue date(double ms, int16_t tz = 0);
    static AmfValue xml_document(std::string_view text);
    static AmfValue xml(std::string_view text);
    static AmfValue byte_array(std::string_view bytes);
    // kind is one of the four vector types; class_name only for vector_object.
    static AmfValue vector(AmfType kind, bool fixed = false, std::string_view class_name = {});
    static AmfValue dictionary(bool weak_keys = false);
    // amf3_marker: 0 for an AMF0 reference (0x07), else the AMF3 marker it was read under.
    static AmfValue reference(uint32_t index, uint8_t amf3_marker = 0);
    static AmfValue unsupported();

    // Fluent building. set() replaces the first property named key or appends one; add()
    // always appends (decoders keep duplicate keys in wire order).
    AmfValue& set(std::string_view key, AmfValue v);
    AmfValue& add(std::string_view key, AmfValue v);
    AmfValue& push(AmfValue v);

    AmfType type() const { return type_; }
    bool is_undefined() const { return type_ == AmfType::undefined; }
    bool is_null() const { return type_ == AmfType::null; }
    bool is_boolean() const { return type_ == AmfType::boolean; }
    bool is_number() const { return type_ == AmfType::number || type_ == AmfType::integer; }
    bool is_string() const { return type_ == AmfType::string; }
    // object, typed_object or ecma_array: anything get() looks into.
    bool is_object() const;
    bool is_reference() const { return type_ == AmfType::reference; }

    // Scalar reads; each returns the default when the type does not match.
    double num(double dflt = 0) const { return is_number() ? num_ : dflt; }
    bool as_bool(bool dflt = false) const { return is_boolean() ? aux_ != 0 : dflt; }
    // string, xml_document, xml and byte_array content; empty otherwise.
    std::string_view str() const;
    std::string_view class_name() const;   // typed_object, vector_object
    double date_ms() const { return type_ == AmfType::date ? num_ : 0; }
    int16_t tz() const { return tz_; }
    uint32_t ref_index() const { return index_; }
    uint8_t ref_marker() const { return type_ == AmfType::reference ? aux_ : 0; }
    bool fixed() const
    {
        return type_ >= AmfType::vector_int && type_ <= AmfType::vector_object && aux_;
    }
    bool weak_keys() const { return type_ == AmfType::dictionary && aux_; }

    // First property named key of an object, typed object or ECMA array; nullptr if none.
    const AmfValue* get(std::string_view key) const;
    std::string_view get_str(std::string_view key, std::string_view dflt = {}) const;
    double get_num(std::string_view key, double dflt = 0) const;
    // items()[i] or nullptr when out of range.
    const AmfValue* at(size_t i) const { return i < items_.size() ? &items_[i] : nullptr; }

    const std::vector<AmfProp>& props() const { return props_; }
    std::vector<AmfProp>& props() { return props_; }
    const std::vector<AmfValue>& items() const { return items_; }
    std::vector<AmfValue>& items() { return items_; }

    // Structural equality. Numbers compare bit for bit, so a NaN equals the same NaN and
    // decode(encode(v)) == v holds for every decodable v.
    bool operator==(const AmfValue& o) const;

    // A one-line, JSON-like rendering for logs and test failures.
    std::string dump() const;

private:
    static AmfValue text_value(AmfType t, std::string_view s);
    void dump_to(std::string* out) const;

    AmfType type_ = AmfType::undefined;
    uint8_t aux_ = 0;        // boolean value, vector fixed flag, dictionary weak keys, ref marker
    int16_t tz_ = 0;         // date time zone (minutes, AMF0 2.13; reserved, usually 0)
    uint32_t index_ = 0;     // reference index
    double num_ = 0;         // number, integer, date ms
    std::string str_;        // string-like content, or class name
    std::vector<AmfProp> props_;
    std::vector<AmfValue> items_;
};

struct AmfProp {
    std::string key;
    AmfValue value;
    bool operator==(const AmfProp& o) const { return key == o.key && value == o.value; }
};

inline AmfValue::AmfValue(std::nullptr_t) : type_(AmfType::null) {}
inline AmfValue::AmfValue(bool b) : type_(AmfType::boolean), aux_(b ? 1 : 0) {}
inline AmfValue::AmfValue(double d) : type_(AmfType::number), num_(d) {}
template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
inline AmfValue::AmfValue(T v) : type_(AmfType::number), num_(double(v))
{
}
inline AmfValue::AmfValue(const char* s) : type_(AmfType::string), str_(s) {}
inline AmfValue::AmfValue(std::string_view s) : type_(AmfType::string), str_(s) {}
inline AmfValue::AmfValue(std::string s) : type_(AmfType::string), str_(std::move(s)) {}
inline AmfValue AmfValue::null() { return AmfValue(nullptr); }
inline AmfValue AmfValue::undefined() { return AmfValue(); }
inline AmfValue AmfValue::number(double d) { return AmfValue(d); }
inline AmfValue AmfValue::boolean(bool b) { return AmfValue(b); }
inline AmfValue AmfValue::string(std::string_view s) { return AmfValue(s); }
inline AmfValue AmfValue::xml_document(std::string_view t)
{
    return text_value(AmfType::xml_document, t);
}
inline AmfValue AmfValue::xml(std::string_view t) { return text_value(AmfType::xml, t); }
inline AmfValue AmfValue::byte_array(std::string_view b)
{
    return text_value(AmfType::byte_array, b);
}

}  // namespace strom::rtmp
