// AMF3 (Adobe AMF3 specification, January 2013): the decoder for values sent by
// objectEncoding 3 peers (behind the AMF0 avmplus marker, or in type 15/17 messages), and
// an encoder for replies to them. Same conventions as rtmp/amf0.h: contiguous input,
// Rc plus a static reason, output appended to a std::string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/rc.h"
#include "rtmp/amf.h"
#include "rtmp/amf_decode_state.h"

namespace strom::rtmp {

// AMF3 type markers (AMF3 3.1).
enum class Amf3Marker : uint8_t {
    undefined = 0x00,
    null = 0x01,
    false_ = 0x02,
    true_ = 0x03,
    integer = 0x04,
    double_ = 0x05,
    string = 0x06,
    xml_document = 0x07,
    date = 0x08,
    array = 0x09,
    object = 0x0a,
    xml = 0x0b,
    byte_array = 0x0c,
    vector_int = 0x0d,
    vector_uint = 0x0e,
    vector_double = 0x0f,
    vector_object = 0x10,
    dictionary = 0x11,
};

// Decodes one AMF3 value (as amf0_decode does one AMF0 value): Rc::ok with *used bytes,
// Rc::again when the input ends inside it, Rc::error with *reason. Object references are
// resolved by copy; a reference to an object still being decoded (a cycle) becomes a
// `reference` value. Externalizable objects (3.12, traits flag 0b111) are refused: their
// bytes can only be read by the class that wrote them.
Rc amf3_decode(const uint8_t* p, size_t n, size_t* used, AmfValue* out, AmfDecodeState& st,
               const char** reason);

// The same inside an AMF0 value (after the avmplus marker): the AMF0 decoder's budgets,
// depth and root stay; the string, object and traits tables start empty.
Rc amf3_decode_embedded(const uint8_t* p, size_t n, size_t* used, AmfValue* out,
                        AmfDecodeState& st, const char** reason);

// Appends the AMF3 encoding of v. Strings, traits and objects are always written inline
// (no reference tables); anonymous objects are dynamic, typed objects sealed. `integer`
// outside the 29-bit range and AMF0-only values degrade (double, undefined, null).
void amf3_encode(const AmfValue& v, std::string* out);

// U29 (AMF3 1.3.1): the low 29 bits of v in 1 to 4 bytes.
void amf3_put_u29(std::string* out, uint32_t v);

}  // namespace strom::rtmp
