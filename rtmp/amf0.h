// AMF0 (Adobe AMF0 specification, 2007): the decoder of command and data message bodies,
// and the encoder for replies. Pure functions on contiguous bytes; the caller owns the
// input (copy a message's block chain out with chain_copy first) and the output string
// (append it to a Chain when framing). Errors come back as Rc plus a static reason.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/rc.h"
#include "rtmp/amf.h"
#include "rtmp/amf_decode_state.h"

namespace strom::rtmp {

// AMF0 type markers (AMF0 2.1).
enum class Amf0Marker : uint8_t {
    number = 0x00,
    boolean = 0x01,
    string = 0x02,
    object = 0x03,
    movieclip = 0x04,   // reserved, not supported
    null = 0x05,
    undefined = 0x06,
    reference = 0x07,
    ecma_array = 0x08,
    object_end = 0x09,
    strict_array = 0x0a,
    date = 0x0b,
    long_string = 0x0c,
    unsupported = 0x0d,
    recordset = 0x0e,   // reserved, not supported
    xml_document = 0x0f,
    typed_object = 0x10,
    avmplus = 0x11,     // the next value is AMF3 (AMF0 3.1)
};

// Decodes one value from p[0..n). Rc::ok with *used bytes consumed; Rc::again when the
// input ends inside the value (a complete message body that ends early is an error for
// the caller); Rc::error with *reason on malformed input or an exceeded limit. *out is
// undefined unless Rc::ok. References (0x07) are resolved by copy; the reference table
// spans one top-level value, as in an AMF packet body (AMF0 4.1).
Rc amf0_decode(const uint8_t* p, size_t n, size_t* used, AmfValue* out, AmfDecodeState& st,
               const char** reason);

// Decodes every value of a command or data message body, appending to *out; input that
// ends inside a value is an error.
Rc amf0_decode_all(const uint8_t* p, size_t n, std::vector<AmfValue>* out, AmfDecodeState& st,
                   const char** reason);

// Appends the AMF0 encoding of v. Strings longer than 65535 bytes become long strings;
// AMF3-only values (integer, xml, byte_array, vectors, dictionary, an ECMA array with a
// dense part, an AMF3 reference, names over 65535 bytes) go out as one avmplus-marked
// AMF3 value.
void amf0_encode(const AmfValue& v, std::string* out);

// Building blocks for replies written without a tree.
void amf0_put_number(std::string* out, double d);
void amf0_put_bool(std::string* out, bool b);
void amf0_put_string(std::string* out, std::string_view s);   // long string when needed
void amf0_put_null(std::string* out);
void amf0_put_object_begin(std::string* out);
void amf0_put_key(std::string* out, std::string_view key);    // at most 65535 bytes
void amf0_put_object_end(std::string* out);

}  // namespace strom::rtmp
