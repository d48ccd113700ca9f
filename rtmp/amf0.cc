#include "rtmp/amf0.h"

#include <cstring>

#include "core/bytes.h"
#include "rtmp/amf_reader.h"
#include "rtmp/amf3.h"

namespace strom::rtmp {

namespace {

using Table = AmfDecodeState::Table;

using amf_detail::Reader;
using amf_detail::fail;
using amf_detail::load_double;

Rc truncated(Reader& r)
{
    r.reason = "amf0: truncated";
    return Rc::again;
}

// A UTF-8 (U16 length) or UTF-8-long (U32 length) string, AMF0 1.3. The limit is checked
// before the bytes present, so a length of 0xFFFFFFFF is an error, never a wait.
Rc read_text(Reader& r, size_t len_size, std::string_view* s)
{
    if (r.left() < len_size) return truncated(r);
    size_t len = len_size == 2 ? load_be16(r.at()) : load_be32(r.at());
    if (len > r.st.limits().max_string) return fail(r, "amf0: string longer than the limit");
    if (r.left() - len_size < len) return truncated(r);
    *s = std::string_view(reinterpret_cast<const char*>(r.at() + len_size), len);
    r.pos += len_size + len;
    return r.st.charge_bytes(len, &r.reason);
}

Rc read_value(Reader& r, AmfValue* out);

// object-property* object-end (AMF0 2.5): the properties of an object, ECMA array or
// typed object, up to the empty key followed by the object-end marker. An empty key
// followed by any other marker is an ordinary property, as librtmp reads it.
Rc read_props(Reader& r, AmfValue* out)
{
    for (;;) {
        if (r.left() < 2) return truncated(r);
        if (load_be16(r.at()) == 0) {
            if (r.left() < 3) return truncated(r);
            if (r.at()[2] == uint8_t(Amf0Marker::object_end)) {
                r.pos += 3;
                return Rc::ok;
            }
        }
        std::string_view key;
        Rc rc = read_text(r, 2, &key);
        if (rc != Rc::ok) return rc;
        size_t i = out->props().size();
        out->props().push_back(AmfProp{std::string(key), AmfValue()});
        r.st.push_path(i, false);
        rc = read_value(r, &out->props().back().value);
        r.st.pop_path();
        if (rc != Rc::ok) return rc;
    }
}

// Object, ECMA array and typed object share the property list and are complex values
// for the reference table (AMF0 2.9).
Rc read_object_like(Reader& r, AmfValue* out)
{
    uint32_t entry = r.st.open_entry(Table::amf0);
    Rc rc = r.st.enter(&r.reason);
    if (rc != Rc::ok) return rc;
    rc = read_props(r, out);
    r.st.leave();
    if (rc == Rc::ok) r.st.close_entry(Table::amf0, entry);
    return rc;
}

Rc read_ecma_array(Reader& r, AmfValue* out)
{
    if (r.left() < 4) return truncated(r);
    // AMF0 2.10: the associative count is a hint (encoders write 0 or the real count) and
    // the end marker decides; it is only checked against the limit, never reserved.
    uint32_t count = load_be32(r.at());
    r.pos += 4;
    Rc rc = r.st.charge_nodes(count, &r.reason);
    if (rc != Rc::ok) return rc;
    *out = AmfValue::ecma_array();
    return read_object_like(r, out);
}

Rc read_typed_object(Reader& r, AmfValue* out)
{
    std::string_view name;
    Rc rc = read_text(r, 2, &name);
    if (rc != Rc::ok) return rc;
    *out = AmfValue::typed_object(name);
    return read_object_like(r, out);
}

Rc read_strict_array(Reader& r, AmfValue* out)
{
    if (r.left() < 4) return truncated(r);
    uint32_t count = load_be32(r.at());
    r.pos += 4;
    Rc rc = r.st.charge_nodes(count, &r.reason);
    if (rc != Rc::ok) return rc;
    // Every value takes at least a byte. Nothing is reserved from the count: the vector
    // grows with the values actually read.
    if (count > r.left()) return truncated(r);
    *out = AmfValue::strict_array();
    uint32_t entry = r.st.open_entry(Table::amf0);
    rc = r.st.enter(&r.reason);
    if (rc != Rc::ok) return rc;
    auto& items = out->items();
    for (uint32_t i = 0; i < count && rc == Rc::ok; ++i) {
        items.emplace_back();
        r.st.push_path(i, true);
        rc = read_value(r, &items.back());
        r.st.pop_path();
    }
    r.st.leave();
    if (rc == Rc::ok) r.st.close_entry(Table::amf0, entry);
    return rc;
}

Rc read_avmplus(Reader& r, AmfValue* out)
{
    size_t used = 0;
    Rc rc = amf3_decode_embedded(r.at(), r.left(), &used, out, r.st, &r.reason);
    if (rc == Rc::ok) r.pos += used;
    return rc;
}

Rc read_scalar(Reader& r, Amf0Marker m, AmfValue* out)
{
    std::string_view s;
    Rc rc = Rc::ok;
    switch (m) {
    case Amf0Marker::number:
        if (r.left() < 8) return truncated(r);
        *out = AmfValue(load_double(r.at()));
        r.pos += 8;
        return Rc::ok;
    case Amf0Marker::boolean:
        if (r.left() < 1) return truncated(r);
        *out = AmfValue(r.at()[0] != 0);
        r.pos += 1;
        return Rc::ok;
    case Amf0Marker::date:
        if (r.left() < 10) return truncated(r);
        *out = AmfValue::date(load_double(r.at()), int16_t(load_be16(r.at() + 8)));
        r.pos += 10;
        return Rc::ok;
    case Amf0Marker::string:
    case Amf0Marker::long_string:
        rc = read_text(r, m == Amf0Marker::string ? 2 : 4, &s);
        if (rc == Rc::ok) *out = AmfValue(s);
        return rc;
    case Amf0Marker::xml_document:
        rc = read_text(r, 4, &s);
        if (rc == Rc::ok) *out = AmfValue::xml_document(s);
        return rc;
    case Amf0Marker::null: *out = AmfValue::null(); return Rc::ok;
    case Amf0Marker::undefined: *out = AmfValue::undefined(); return Rc::ok;
    case Amf0Marker::unsupported: *out = AmfValue::unsupported(); return Rc::ok;
    case Amf0Marker::reference:
        if (r.left() < 2) return truncated(r);
        r.pos += 2;
        return r.st.copy_entry(Table::amf0, load_be16(r.at() - 2), 0, out, &r.reason);
    case Amf0Marker::object_end: return fail(r, "amf0: object end outside an object");
    case Amf0Marker::movieclip:
    case Amf0Marker::recordset: return fail(r, "amf0: reserved marker (movieclip/recordset)");
    default: return fail(r, "amf0: unknown marker");
    }
}

Rc read_value(Reader& r, AmfValue* out)
{
    if (r.left() < 1) return truncated(r);
    auto m = Amf0Marker(r.at()[0]);
    r.pos += 1;
    // The AMF3 value behind an avmplus marker is charged by the AMF3 decoder.
    if (m == Amf0Marker::avmplus) return read_avmplus(r, out);
    Rc rc = r.st.charge_node(&r.reason);
    if (rc != Rc::ok) return rc;
    switch (m) {
    case Amf0Marker::object: *out = AmfValue::object(); return read_object_like(r, out);
    case Amf0Marker::ecma_array: return read_ecma_array(r, out);
    case Amf0Marker::typed_object: return read_typed_object(r, out);
    case Amf0Marker::strict_array: return read_strict_array(r, out);
    default: return read_scalar(r, m, out);
    }
}

void put_u16(std::string* out, uint16_t v)
{
    uint8_t b[2];
    store_be16(b, v);
    out->append(reinterpret_cast<const char*>(b), 2);
}

void put_u32(std::string* out, uint32_t v)
{
    uint8_t b[4];
    store_be32(b, v);
    out->append(reinterpret_cast<const char*>(b), 4);
}

void put_marker(std::string* out, Amf0Marker m) { out->push_back(char(m)); }

void put_double(std::string* out, double d)
{
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    uint8_t b[8];
    store_be64(b, bits);
    out->append(reinterpret_cast<const char*>(b), 8);
}

void put_long_text(std::string* out, std::string_view s)
{
    size_t len = s.size() > 0xffffffffu ? 0xffffffffu : s.size();
    put_u32(out, uint32_t(len));
    out->append(s.data(), len);
}

void put_props(std::string* out, const AmfValue& v)
{
    for (const auto& p : v.props()) {
        amf0_put_key(out, p.key);
        amf0_encode(p.value, out);
    }
    amf0_put_object_end(out);
}

// AMF0 names are U16-counted; a longer one (an AMF3 value can carry it) goes out as AMF3.
bool has_long_name(const AmfValue& v)
{
    if (v.class_name().size() > 0xffff) return true;
    for (const auto& p : v.props()) {
        if (p.key.size() > 0xffff) return true;
    }
    return false;
}

bool needs_amf3(const AmfValue& v)
{
    switch (v.type()) {
    case AmfType::integer:
    case AmfType::xml:
    case AmfType::byte_array:
    case AmfType::vector_int:
    case AmfType::vector_uint:
    case AmfType::vector_double:
    case AmfType::vector_object:
    case AmfType::dictionary: return true;
    case AmfType::object:
    case AmfType::typed_object: return has_long_name(v);
    case AmfType::ecma_array: return !v.items().empty() || has_long_name(v);
    case AmfType::reference: return v.ref_marker() != 0;
    default: return false;
    }
}

}  // namespace

Rc amf0_decode(const uint8_t* p, size_t n, size_t* used, AmfValue* out, AmfDecodeState& st,
               const char** reason)
{
    st.begin_value(out);
    Reader r{p, n, 0, st, nullptr};
    Rc rc = read_value(r, out);
    st.begin_value(nullptr);   // no pointer into the caller's value outlives the call
    if (rc == Rc::ok) {
        *used = r.pos;
    } else {
        *out = AmfValue();
        *reason = r.reason;
    }
    return rc;
}

Rc amf0_decode_all(const uint8_t* p, size_t n, std::vector<AmfValue>* out, AmfDecodeState& st,
                   const char** reason)
{
    size_t pos = 0;
    while (pos < n) {
        out->emplace_back();
        size_t used = 0;
        Rc rc = amf0_decode(p + pos, n - pos, &used, &out->back(), st, reason);
        if (rc != Rc::ok) {
            out->pop_back();
            if (rc == Rc::again) *reason = "amf0: message ends inside a value";
            return Rc::error;
        }
        pos += used;
    }
    return Rc::ok;
}

void amf0_encode(const AmfValue& v, std::string* out)
{
    if (needs_amf3(v)) {
        put_marker(out, Amf0Marker::avmplus);
        amf3_encode(v, out);
        return;
    }
    switch (v.type()) {
    case AmfType::undefined: put_marker(out, Amf0Marker::undefined); return;
    case AmfType::null: put_marker(out, Amf0Marker::null); return;
    case AmfType::unsupported: put_marker(out, Amf0Marker::unsupported); return;
    case AmfType::boolean: amf0_put_bool(out, v.as_bool()); return;
    case AmfType::string: amf0_put_string(out, v.str()); return;
    case AmfType::object: put_marker(out, Amf0Marker::object); put_props(out, v); return;
    case AmfType::typed_object:
        put_marker(out, Amf0Marker::typed_object);
        amf0_put_key(out, v.class_name());
        put_props(out, v);
        return;
    case AmfType::ecma_array:
        put_marker(out, Amf0Marker::ecma_array);
        put_u32(out, uint32_t(v.props().size()));
        put_props(out, v);
        return;
    case AmfType::strict_array:
        put_marker(out, Amf0Marker::strict_array);
        put_u32(out, uint32_t(v.items().size()));
        for (const auto& i : v.items()) amf0_encode(i, out);
        return;
    case AmfType::date:
        put_marker(out, Amf0Marker::date);
        put_double(out, v.date_ms());
        put_u16(out, uint16_t(v.tz()));
        return;
    case AmfType::xml_document:
        put_marker(out, Amf0Marker::xml_document);
        put_long_text(out, v.str());
        return;
    case AmfType::reference:
        // Only an AMF0 cycle lands here; an index past U16 cannot be written.
        if (v.ref_index() > 0xffff) {
            amf0_put_null(out);
        } else {
            put_marker(out, Amf0Marker::reference);
            put_u16(out, uint16_t(v.ref_index()));
        }
        return;
    default: amf0_put_number(out, v.num()); return;
    }
}

void amf0_put_number(std::string* out, double d)
{
    put_marker(out, Amf0Marker::number);
    put_double(out, d);
}

void amf0_put_bool(std::string* out, bool b)
{
    put_marker(out, Amf0Marker::boolean);
    out->push_back(b ? 1 : 0);
}

void amf0_put_string(std::string* out, std::string_view s)
{
    if (s.size() > 0xffff) {
        put_marker(out, Amf0Marker::long_string);
        put_long_text(out, s);
        return;
    }
    put_marker(out, Amf0Marker::string);
    put_u16(out, uint16_t(s.size()));
    out->append(s.data(), s.size());
}

void amf0_put_null(std::string* out) { put_marker(out, Amf0Marker::null); }

void amf0_put_object_begin(std::string* out) { put_marker(out, Amf0Marker::object); }

void amf0_put_key(std::string* out, std::string_view key)
{
    size_t len = key.size() > 0xffff ? 0xffff : key.size();
    put_u16(out, uint16_t(len));
    out->append(key.data(), len);
}

void amf0_put_object_end(std::string* out)
{
    put_u16(out, 0);
    put_marker(out, Amf0Marker::object_end);
}

}  // namespace strom::rtmp
