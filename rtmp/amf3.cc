#include "rtmp/amf3.h"

#include <cmath>
#include <cstring>

#include "core/bytes.h"
#include "rtmp/amf_reader.h"

namespace strom::rtmp {

namespace {

using Table = AmfDecodeState::Table;
using M = Amf3Marker;

constexpr uint32_t kU29Max = 0x1fffffff;
constexpr uint32_t kLenMax = kU29Max >> 1;   // a length or count beside a flag bit
constexpr int32_t kIntMin = -(1 << 28);       // AMF3 3.6
constexpr int32_t kIntMax = (1 << 28) - 1;

using amf_detail::Reader;
using amf_detail::fail;
using amf_detail::load_double;

Rc truncated(Reader& r)
{
    r.reason = "amf3: truncated";
    return Rc::again;
}

// AMF3 1.3.1: 7 bits in each of the first three bytes while the high bit is set, all 8
// bits of a fourth.
Rc read_u29(Reader& r, uint32_t* v)
{
    uint32_t x = 0;
    for (int i = 0; i < 4; ++i) {
        if (r.left() < 1) return truncated(r);
        uint8_t b = r.p[r.pos++];
        if (i == 3) {
            x = x << 8 | b;
            break;
        }
        x = x << 7 | (b & 0x7f);
        if (!(b & 0x80)) break;
    }
    *v = x;
    return Rc::ok;
}

// Length-prefixed bytes behind a U29 whose low bit (already checked) flags a value.
Rc read_bytes(Reader& r, uint32_t header, std::string_view* s)
{
    size_t len = header >> 1;
    if (len > r.st.limits().max_string) return fail(r, "amf3: string longer than the limit");
    if (len > r.left()) return truncated(r);
    *s = std::string_view(reinterpret_cast<const char*>(r.at()), len);
    r.pos += len;
    return Rc::ok;
}

// UTF-8-vr (3.8): a reference into the string table or an inline string, which joins the
// table unless empty. Not charged here: each caller charges what it keeps.
Rc read_string(Reader& r, std::string_view* s)
{
    uint32_t h;
    Rc rc = read_u29(r, &h);
    if (rc != Rc::ok) return rc;
    if (!(h & 1)) {
        if ((h >> 1) >= r.st.strings.size()) return fail(r, "amf3: string reference out of range");
        *s = r.st.strings[h >> 1];
        return Rc::ok;
    }
    rc = read_bytes(r, h, s);
    if (rc == Rc::ok && !s->empty()) r.st.strings.push_back(*s);
    return rc;
}

Rc read_value(Reader& r, AmfValue* out);

// Reads the U29 header of a value kept in the object table. Rc::done when it was a
// reference (3.2: low bit 0), already resolved into *out.
Rc read_header(Reader& r, M m, AmfValue* out, uint32_t* h)
{
    Rc rc = read_u29(r, h);
    if (rc != Rc::ok) return rc;
    if (*h & 1) return Rc::ok;
    rc = r.st.copy_entry(Table::amf3, *h >> 1, uint8_t(m), out, &r.reason);
    return rc == Rc::ok ? Rc::done : rc;
}

// XMLDocument (3.9), XML (3.13), ByteArray (3.14): bytes, one object table entry each.
Rc read_blob(Reader& r, M m, AmfValue* out)
{
    uint32_t h;
    Rc rc = read_header(r, m, out, &h);
    if (rc != Rc::ok) return rc == Rc::done ? Rc::ok : rc;
    std::string_view s;
    rc = read_bytes(r, h, &s);
    if (rc == Rc::ok) rc = r.st.charge_bytes(s.size(), &r.reason);
    if (rc != Rc::ok) return rc;
    *out = m == M::xml ? AmfValue::xml(s)
           : m == M::byte_array ? AmfValue::byte_array(s) : AmfValue::xml_document(s);
    r.st.close_entry(Table::amf3, r.st.open_entry(Table::amf3));
    return Rc::ok;
}

Rc read_date(Reader& r, AmfValue* out)
{
    uint32_t h;
    Rc rc = read_header(r, M::date, out, &h);
    if (rc != Rc::ok) return rc == Rc::done ? Rc::ok : rc;
    if (r.left() < 8) return truncated(r);
    *out = AmfValue::date(load_double(r.at()));
    r.pos += 8;
    r.st.close_entry(Table::amf3, r.st.open_entry(Table::amf3));
    return Rc::ok;
}

// Decodes child `i` of *parent in place: items()[i] when item, else props()[i].value.
Rc read_child(Reader& r, AmfValue* parent, size_t i, bool item)
{
    r.st.push_path(i, item);
    Rc rc = read_value(r, item ? &parent->items()[i] : &parent->props()[i].value);
    r.st.pop_path();
    return rc;
}

Rc read_keyed(Reader& r, AmfValue* out, std::string_view key)
{
    Rc rc = r.st.charge_bytes(key.size(), &r.reason);
    if (rc != Rc::ok) return rc;
    out->add(key, AmfValue());
    return read_child(r, out, out->props().size() - 1, false);
}

// `count` values follow, each at least min_size bytes: refuse counts over the limit and
// wait for the bytes. Nothing is reserved from the count (32 nested arrays each claiming
// 4000 items would reserve megabytes from a few kilobytes); items grow as they are read.
Rc expect_items(Reader& r, size_t count, size_t min_size)
{
    Rc rc = r.st.charge_nodes(count, &r.reason);
    if (rc != Rc::ok) return rc;
    return count > r.left() / min_size ? truncated(r) : Rc::ok;
}

Rc read_dense(Reader& r, AmfValue* out, size_t count)
{
    Rc rc = expect_items(r, count, 1);
    for (size_t i = 0; i < count && rc == Rc::ok; ++i) {
        out->items().emplace_back();
        rc = read_child(r, out, i, true);
    }
    return rc;
}

// Array (3.11): associative part (name/value pairs up to the empty name), then the dense
// part. An array with names decodes to ecma_array, one without to strict_array.
Rc read_array_body(Reader& r, AmfValue* out, size_t dense)
{
    *out = AmfValue::ecma_array();
    for (;;) {
        std::string_view key;
        Rc rc = read_string(r, &key);
        if (rc != Rc::ok) return rc;
        if (key.empty()) break;
        rc = read_keyed(r, out, key);
        if (rc != Rc::ok) return rc;
    }
    if (out->props().empty()) *out = AmfValue::strict_array();
    return read_dense(r, out, dense);
}

// Traits (3.12): a reference to earlier traits, or inline traits that join the table.
Rc read_traits(Reader& r, uint32_t h, AmfDecodeState::Traits* t)
{
    auto& st = r.st;
    if ((h & 3) == 1) {
        if ((h >> 2) >= st.traits.size()) return fail(r, "amf3: traits reference out of range");
        *t = st.traits[h >> 2];
        return Rc::ok;
    }
    if ((h & 7) == 7) return fail(r, "amf3: externalizable object");
    t->dynamic = (h >> 3) & 1;
    t->count = h >> 4;
    Rc rc = read_string(r, &t->class_name);
    if (rc != Rc::ok) return rc;
    // Every sealed name takes a byte and brings a value: check before reading any.
    rc = st.charge_nodes(t->count, &r.reason);
    if (rc != Rc::ok) return rc;
    if (t->count > r.left()) return truncated(r);
    t->names_off = uint32_t(st.names.size());
    for (uint32_t i = 0; i < t->count; ++i) {
        std::string_view name;
        rc = read_string(r, &name);
        if (rc != Rc::ok) return rc;
        st.names.push_back(name);
    }
    st.traits.push_back(*t);
    return Rc::ok;
}

Rc read_object_body(Reader& r, AmfValue* out, const AmfDecodeState::Traits& t)
{
    Rc rc = Rc::ok;
    for (uint32_t i = 0; i < t.count && rc == Rc::ok; ++i) {
        rc = read_keyed(r, out, r.st.names[t.names_off + i]);
    }
    while (t.dynamic && rc == Rc::ok) {
        std::string_view key;
        rc = read_string(r, &key);
        if (rc != Rc::ok || key.empty()) break;
        rc = read_keyed(r, out, key);
    }
    return rc;
}

// Object (3.12). Anonymous objects (empty class name) decode to object, others to
// typed_object; sealed members come first, then dynamic ones, in wire order.
Rc read_object(Reader& r, AmfValue* out)
{
    uint32_t h;
    Rc rc = read_header(r, M::object, out, &h);
    if (rc != Rc::ok) return rc == Rc::done ? Rc::ok : rc;
    AmfDecodeState::Traits t{};
    rc = read_traits(r, h, &t);
    if (rc != Rc::ok) return rc;
    rc = r.st.charge_nodes(t.count, &r.reason);
    if (rc == Rc::ok && t.count > r.left()) return truncated(r);
    if (rc == Rc::ok) rc = r.st.charge_bytes(t.class_name.size(), &r.reason);
    if (rc != Rc::ok) return rc;
    *out = t.class_name.empty() ? AmfValue::object() : AmfValue::typed_object(t.class_name);
    uint32_t entry = r.st.open_entry(Table::amf3);
    rc = r.st.enter(&r.reason);
    if (rc != Rc::ok) return rc;
    rc = read_object_body(r, out, t);
    r.st.leave();
    if (rc == Rc::ok) r.st.close_entry(Table::amf3, entry);
    return rc;
}

Rc read_numbers(Reader& r, M m, AmfValue* out, size_t count)
{
    size_t size = m == M::vector_double ? 8 : 4;
    Rc rc = expect_items(r, count, size);
    for (size_t i = 0; i < count && rc == Rc::ok; ++i) {
        rc = r.st.charge_node(&r.reason);
        if (rc != Rc::ok) break;
        const uint8_t* p = r.at();
        if (m == M::vector_int) {
            out->push(AmfValue::integer(int32_t(load_be32(p))));
        } else {
            out->push(m == M::vector_uint ? AmfValue(double(load_be32(p)))
                                          : AmfValue(load_double(p)));
        }
        r.pos += size;
    }
    return rc;
}

// Vector (3.15): U29 count, fixed flag, then int32/uint32/double items, or a type name
// and values.
Rc read_vector_body(Reader& r, M m, AmfValue* out, size_t count)
{
    if (r.left() < 1) return truncated(r);
    bool fixed = r.at()[0] != 0;
    r.pos += 1;
    static constexpr AmfType kinds[] = {AmfType::vector_int, AmfType::vector_uint,
                                        AmfType::vector_double, AmfType::vector_object};
    AmfType kind = kinds[uint8_t(m) - uint8_t(M::vector_int)];
    if (m != M::vector_object) {
        *out = AmfValue::vector(kind, fixed);
        return read_numbers(r, m, out, count);
    }
    std::string_view type_name;
    Rc rc = read_string(r, &type_name);
    if (rc == Rc::ok) rc = r.st.charge_bytes(type_name.size(), &r.reason);
    if (rc != Rc::ok) return rc;
    *out = AmfValue::vector(kind, fixed, type_name);
    return read_dense(r, out, count);
}

// Dictionary (3.16): U29 pair count, weak-keys flag, then key and value pairs; the keys
// are values of any type, so the pairs go flat into items().
Rc read_dictionary_body(Reader& r, AmfValue* out, size_t count)
{
    if (r.left() < 1) return truncated(r);
    *out = AmfValue::dictionary(r.at()[0] != 0);
    r.pos += 1;
    return read_dense(r, out, count * 2);
}

// Array, vector and dictionary: a U29 count beside the reference bit, a table entry that
// stays open (so members may refer back to it) and one more level of depth.
Rc read_container(Reader& r, M m, AmfValue* out)
{
    uint32_t h;
    Rc rc = read_header(r, m, out, &h);
    if (rc != Rc::ok) return rc == Rc::done ? Rc::ok : rc;
    uint32_t entry = r.st.open_entry(Table::amf3);
    rc = r.st.enter(&r.reason);
    if (rc != Rc::ok) return rc;
    size_t count = h >> 1;
    if (m == M::array) {
        rc = read_array_body(r, out, count);
    } else if (m == M::dictionary) {
        rc = read_dictionary_body(r, out, count);
    } else {
        rc = read_vector_body(r, m, out, count);
    }
    r.st.leave();
    if (rc == Rc::ok) r.st.close_entry(Table::amf3, entry);
    return rc;
}

Rc read_scalar(Reader& r, M m, AmfValue* out)
{
    uint32_t u;
    Rc rc;
    std::string_view s;
    switch (m) {
    case M::undefined: *out = AmfValue::undefined(); return Rc::ok;
    case M::null: *out = AmfValue::null(); return Rc::ok;
    case M::false_: *out = AmfValue(false); return Rc::ok;
    case M::true_: *out = AmfValue(true); return Rc::ok;
    case M::integer:
        rc = read_u29(r, &u);
        // 3.6: a 29-bit two's complement value; sign-extend from bit 28.
        if (rc == Rc::ok) *out = AmfValue::integer(int32_t(u << 3) >> 3);
        return rc;
    case M::double_:
        if (r.left() < 8) return truncated(r);
        *out = AmfValue(load_double(r.at()));
        r.pos += 8;
        return Rc::ok;
    case M::string:
        rc = read_string(r, &s);
        if (rc == Rc::ok) rc = r.st.charge_bytes(s.size(), &r.reason);
        if (rc == Rc::ok) *out = AmfValue(s);
        return rc;
    default: return fail(r, "amf3: unknown marker");
    }
}

Rc read_value(Reader& r, AmfValue* out)
{
    if (r.left() < 1) return truncated(r);
    auto m = M(r.at()[0]);
    r.pos += 1;
    Rc rc = r.st.charge_node(&r.reason);
    if (rc != Rc::ok) return rc;
    switch (m) {
    case M::xml_document:
    case M::xml:
    case M::byte_array: return read_blob(r, m, out);
    case M::date: return read_date(r, out);
    case M::object: return read_object(r, out);
    case M::array:
    case M::vector_int:
    case M::vector_uint:
    case M::vector_double:
    case M::vector_object:
    case M::dictionary: return read_container(r, m, out);
    default: return read_scalar(r, m, out);
    }
}

Rc decode(const uint8_t* p, size_t n, size_t* used, AmfValue* out, AmfDecodeState& st,
          const char** reason)
{
    Reader r{p, n, 0, st, nullptr};
    Rc rc = read_value(r, out);
    if (rc == Rc::ok) {
        *used = r.pos;
    } else {
        *out = AmfValue();
        *reason = r.reason;
    }
    return rc;
}

}  // namespace

Rc amf3_decode(const uint8_t* p, size_t n, size_t* used, AmfValue* out, AmfDecodeState& st,
               const char** reason)
{
    st.begin_value(out);
    Rc rc = decode(p, n, used, out, st, reason);
    st.begin_value(nullptr);   // no pointer into the caller's value outlives the call
    return rc;
}

Rc amf3_decode_embedded(const uint8_t* p, size_t n, size_t* used, AmfValue* out,
                        AmfDecodeState& st, const char** reason)
{
    st.begin_amf3();
    return decode(p, n, used, out, st, reason);
}

// --- encoder --------------------------------------------------------------------------

namespace {

void put_marker(std::string* out, M m) { out->push_back(char(m)); }

void put_double(std::string* out, double d)
{
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    uint8_t b[8];
    store_be64(b, bits);
    out->append(reinterpret_cast<const char*>(b), 8);
}

void put_u32(std::string* out, uint32_t v)
{
    uint8_t b[4];
    store_be32(b, v);
    out->append(reinterpret_cast<const char*>(b), 4);
}

// A count or length with the "value, not reference" flag (3.2). Larger counts cannot be
// written; callers write no more than the returned count.
size_t put_count(std::string* out, size_t n)
{
    if (n > kLenMax) n = kLenMax;
    amf3_put_u29(out, uint32_t(n) << 1 | 1);
    return n;
}

void put_string(std::string* out, std::string_view s)
{
    size_t n = put_count(out, s.size());
    out->append(s.data(), n);
}

// Clamped conversions: a hand-built vector may hold any double (and converting an out of
// range double to an integer is undefined behaviour).
int32_t to_i32(double d)
{
    if (!(d >= -2147483648.0)) return d > 0 ? INT32_MAX : INT32_MIN;   // NaN too
    return d > 2147483647.0 ? INT32_MAX : int32_t(d);
}

uint32_t to_u32(double d)
{
    if (!(d >= 0)) return 0;
    return d > 4294967295.0 ? UINT32_MAX : uint32_t(d);
}

void put_integer(std::string* out, double d)
{
    if (d >= kIntMin && d <= kIntMax && d == std::floor(d)) {
        put_marker(out, M::integer);
        amf3_put_u29(out, uint32_t(int32_t(d)) & kU29Max);
    } else {
        put_marker(out, M::double_);
        put_double(out, d);
    }
}

// Object (3.12) with inline traits: anonymous objects as dynamic members (0b1011), but
// an empty name would end the dynamic list, so such an object goes sealed; typed objects
// are sealed (count << 4 | 0b0011).
void put_object(std::string* out, const AmfValue& v)
{
    const auto& props = v.props();
    bool sealed = v.type() == AmfType::typed_object;
    for (const auto& p : props) sealed = sealed || p.key.empty();
    put_marker(out, M::object);
    size_t count = sealed ? (props.size() > (kU29Max >> 4) ? kU29Max >> 4 : props.size()) : 0;
    amf3_put_u29(out, sealed ? uint32_t(count) << 4 | 0x03 : 0x0b);
    put_string(out, v.class_name());
    for (size_t i = 0; i < count; ++i) put_string(out, props[i].key);
    for (size_t i = 0; i < count; ++i) amf3_encode(props[i].value, out);
    if (sealed) return;
    for (const auto& p : props) {
        put_string(out, p.key);
        amf3_encode(p.value, out);
    }
    put_string(out, {});
}

// Array (3.11). An empty name cannot be written in the associative part (it ends it); such
// a property is dropped.
void put_array(std::string* out, const AmfValue& v)
{
    put_marker(out, M::array);
    size_t n = put_count(out, v.items().size());
    for (const auto& p : v.props()) {
        if (p.key.empty()) continue;
        put_string(out, p.key);
        amf3_encode(p.value, out);
    }
    put_string(out, {});
    for (size_t i = 0; i < n; ++i) amf3_encode(v.items()[i], out);
}

void put_vector(std::string* out, const AmfValue& v)
{
    static constexpr M markers[] = {M::vector_int, M::vector_uint, M::vector_double,
                                    M::vector_object};
    put_marker(out, markers[uint8_t(v.type()) - uint8_t(AmfType::vector_int)]);
    size_t n = put_count(out, v.items().size());
    out->push_back(v.fixed() ? 1 : 0);
    if (v.type() == AmfType::vector_object) put_string(out, v.class_name());
    for (size_t i = 0; i < n; ++i) {
        const AmfValue& e = v.items()[i];
        switch (v.type()) {
        case AmfType::vector_int: put_u32(out, uint32_t(to_i32(e.num()))); break;
        case AmfType::vector_uint: put_u32(out, to_u32(e.num())); break;
        case AmfType::vector_double: put_double(out, e.num()); break;
        default: amf3_encode(e, out); break;
        }
    }
}

void put_dictionary(std::string* out, const AmfValue& v)
{
    put_marker(out, M::dictionary);
    size_t n = put_count(out, v.items().size() / 2);
    out->push_back(v.weak_keys() ? 1 : 0);
    for (size_t i = 0; i < n * 2; ++i) amf3_encode(v.items()[i], out);
}

void put_blob(std::string* out, M m, std::string_view s)
{
    put_marker(out, m);
    put_string(out, s);
}

}  // namespace

void amf3_put_u29(std::string* out, uint32_t v)
{
    v &= kU29Max;
    if (v < 0x80) {
        out->push_back(char(v));
    } else if (v < 0x4000) {
        out->push_back(char(v >> 7 | 0x80));
        out->push_back(char(v & 0x7f));
    } else if (v < 0x200000) {
        out->push_back(char(v >> 14 | 0x80));
        out->push_back(char((v >> 7 & 0x7f) | 0x80));
        out->push_back(char(v & 0x7f));
    } else {
        out->push_back(char(v >> 22 | 0x80));
        out->push_back(char((v >> 15 & 0x7f) | 0x80));
        out->push_back(char((v >> 8 & 0x7f) | 0x80));
        out->push_back(char(v & 0xff));
    }
}

void amf3_encode(const AmfValue& v, std::string* out)
{
    switch (v.type()) {
    case AmfType::null: put_marker(out, M::null); return;
    case AmfType::boolean: put_marker(out, v.as_bool() ? M::true_ : M::false_); return;
    case AmfType::integer: put_integer(out, v.num()); return;
    case AmfType::number: put_marker(out, M::double_); put_double(out, v.num()); return;
    case AmfType::string: put_blob(out, M::string, v.str()); return;
    case AmfType::xml_document: put_blob(out, M::xml_document, v.str()); return;
    case AmfType::xml: put_blob(out, M::xml, v.str()); return;
    case AmfType::byte_array: put_blob(out, M::byte_array, v.str()); return;
    case AmfType::date:
        put_marker(out, M::date);
        amf3_put_u29(out, 1);
        put_double(out, v.date_ms());
        return;
    case AmfType::object:
    case AmfType::typed_object: put_object(out, v); return;
    case AmfType::ecma_array:
    case AmfType::strict_array: put_array(out, v); return;
    case AmfType::vector_int:
    case AmfType::vector_uint:
    case AmfType::vector_double:
    case AmfType::vector_object: put_vector(out, v); return;
    case AmfType::dictionary: put_dictionary(out, v); return;
    case AmfType::reference:
        // Only an AMF3 cycle can be written back as a reference (3.2: index << 1).
        if (v.ref_marker() == 0) break;
        put_marker(out, M(v.ref_marker()));
        amf3_put_u29(out, v.ref_index() << 1);
        return;
    case AmfType::undefined:
    case AmfType::unsupported: break;
    }
    put_marker(out, M::undefined);
}

}  // namespace strom::rtmp
