#include "rtmp/amf.h"

#include <cstdio>
#include <cstring>

namespace strom::rtmp {

const char* amf_type_name(AmfType t)
{
    switch (t) {
    case AmfType::undefined: return "undefined";
    case AmfType::null: return "null";
    case AmfType::boolean: return "boolean";
    case AmfType::number: return "number";
    case AmfType::integer: return "integer";
    case AmfType::string: return "string";
    case AmfType::object: return "object";
    case AmfType::typed_object: return "typed_object";
    case AmfType::ecma_array: return "ecma_array";
    case AmfType::strict_array: return "strict_array";
    case AmfType::date: return "date";
    case AmfType::xml_document: return "xml_document";
    case AmfType::xml: return "xml";
    case AmfType::byte_array: return "byte_array";
    case AmfType::vector_int: return "vector_int";
    case AmfType::vector_uint: return "vector_uint";
    case AmfType::vector_double: return "vector_double";
    case AmfType::vector_object: return "vector_object";
    case AmfType::dictionary: return "dictionary";
    case AmfType::reference: return "reference";
    case AmfType::unsupported: return "unsupported";
    }
    return "?";
}

AmfValue AmfValue::integer(int32_t v)
{
    AmfValue r;
    r.type_ = AmfType::integer;
    r.num_ = v;
    return r;
}

AmfValue AmfValue::object(std::initializer_list<AmfProp> props)
{
    AmfValue r;
    r.type_ = AmfType::object;
    r.props_.assign(props.begin(), props.end());
    return r;
}

AmfValue AmfValue::ecma_array(std::initializer_list<AmfProp> props)
{
    AmfValue r = object(props);
    r.type_ = AmfType::ecma_array;
    return r;
}

AmfValue AmfValue::typed_object(std::string_view class_name, std::initializer_list<AmfProp> props)
{
    AmfValue r = object(props);
    r.type_ = AmfType::typed_object;
    r.str_ = class_name;
    return r;
}

AmfValue AmfValue::strict_array(std::initializer_list<AmfValue> items)
{
    AmfValue r;
    r.type_ = AmfType::strict_array;
    r.items_.assign(items.begin(), items.end());
    return r;
}

AmfValue AmfValue::date(double ms, int16_t tz)
{
    AmfValue r;
    r.type_ = AmfType::date;
    r.num_ = ms;
    r.tz_ = tz;
    return r;
}

AmfValue AmfValue::text_value(AmfType t, std::string_view s)
{
    AmfValue r(s);
    r.type_ = t;
    return r;
}

AmfValue AmfValue::vector(AmfType kind, bool fixed, std::string_view class_name)
{
    AmfValue r;
    r.type_ = kind >= AmfType::vector_int && kind <= AmfType::vector_object ? kind
                                                                             : AmfType::vector_object;
    r.aux_ = fixed ? 1 : 0;
    if (r.type_ == AmfType::vector_object) r.str_ = class_name;
    return r;
}

AmfValue AmfValue::dictionary(bool weak_keys)
{
    AmfValue r;
    r.type_ = AmfType::dictionary;
    r.aux_ = weak_keys ? 1 : 0;
    return r;
}

AmfValue AmfValue::reference(uint32_t index, uint8_t amf3_marker)
{
    AmfValue r;
    r.type_ = AmfType::reference;
    r.index_ = index;
    r.aux_ = amf3_marker;
    return r;
}

AmfValue AmfValue::unsupported()
{
    AmfValue r;
    r.type_ = AmfType::unsupported;
    return r;
}

AmfValue& AmfValue::set(std::string_view key, AmfValue v)
{
    for (auto& p : props_) {
        if (p.key == key) {
            p.value = std::move(v);
            return *this;
        }
    }
    return add(key, std::move(v));
}

AmfValue& AmfValue::add(std::string_view key, AmfValue v)
{
    props_.push_back(AmfProp{std::string(key), std::move(v)});
    return *this;
}

AmfValue& AmfValue::push(AmfValue v)
{
    items_.push_back(std::move(v));
    return *this;
}

bool AmfValue::is_object() const
{
    return type_ == AmfType::object || type_ == AmfType::typed_object ||
           type_ == AmfType::ecma_array;
}

std::string_view AmfValue::str() const
{
    switch (type_) {
    case AmfType::string:
    case AmfType::xml_document:
    case AmfType::xml:
    case AmfType::byte_array: return str_;
    default: return {};
    }
}

std::string_view AmfValue::class_name() const
{
    if (type_ == AmfType::typed_object || type_ == AmfType::vector_object) return str_;
    return {};
}

const AmfValue* AmfValue::get(std::string_view key) const
{
    for (const auto& p : props_) {
        if (p.key == key) return &p.value;
    }
    return nullptr;
}

std::string_view AmfValue::get_str(std::string_view key, std::string_view dflt) const
{
    const AmfValue* v = get(key);
    return v && v->is_string() ? v->str() : dflt;
}

double AmfValue::get_num(std::string_view key, double dflt) const
{
    const AmfValue* v = get(key);
    return v && v->is_number() ? v->num_ : dflt;
}

bool AmfValue::operator==(const AmfValue& o) const
{
    // Doubles bit for bit: NaN payloads and -0 survive a round trip, and must compare so.
    return type_ == o.type_ && aux_ == o.aux_ && tz_ == o.tz_ && index_ == o.index_ &&
           std::memcmp(&num_, &o.num_, sizeof num_) == 0 && str_ == o.str_ &&
           props_ == o.props_ && items_ == o.items_;
}

namespace {

void dump_text(std::string_view s, std::string* out)
{
    out->push_back('"');
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out->push_back('\\');
            out->push_back(char(c));
        } else if (c < 0x20 || c >= 0x7f) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\x%02x", c);
            out->append(buf);
        } else {
            out->push_back(char(c));
        }
    }
    out->push_back('"');
}

void dump_number(double d, std::string* out)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.17g", d);
    out->append(buf);
}

}  // namespace

std::string AmfValue::dump() const
{
    std::string s;
    dump_to(&s);
    return s;
}

void AmfValue::dump_to(std::string* out) const
{
    switch (type_) {
    case AmfType::undefined:
    case AmfType::null:
    case AmfType::unsupported: out->append(amf_type_name(type_)); return;
    case AmfType::boolean: out->append(aux_ ? "true" : "false"); return;
    case AmfType::number: dump_number(num_, out); return;
    case AmfType::integer: out->append("int:"); dump_number(num_, out); return;
    case AmfType::string: dump_text(str_, out); return;
    case AmfType::date:
        out->append("date:");
        dump_number(num_, out);
        out->append("/" + std::to_string(tz_));
        return;
    case AmfType::reference: out->append("ref:" + std::to_string(index_)); return;
    default: break;
    }
    out->append(amf_type_name(type_));
    if (!str_.empty() || type_ == AmfType::typed_object) {
        out->push_back(':');
        dump_text(str_, out);
    }
    if (fixed() || weak_keys()) out->append(fixed() ? ":fixed" : ":weak");
    if (!props_.empty() || is_object()) {
        out->push_back('{');
        for (size_t i = 0; i < props_.size(); ++i) {
            if (i) out->push_back(',');
            dump_text(props_[i].key, out);
            out->push_back(':');
            props_[i].value.dump_to(out);
        }
        out->push_back('}');
    }
    bool listy = type_ == AmfType::strict_array || type_ == AmfType::dictionary ||
                 (type_ >= AmfType::vector_int && type_ <= AmfType::vector_object);
    if (!items_.empty() || listy) {
        out->push_back('[');
        for (size_t i = 0; i < items_.size(); ++i) {
            if (i) out->push_back(',');
            items_[i].dump_to(out);
        }
        out->push_back(']');
    }
}

}  // namespace strom::rtmp
