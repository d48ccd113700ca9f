#include "rtmp/message.h"

#include "core/bytes.h"
#include "rtmp/chunk_writer.h"

namespace strom::rtmp {

namespace {

// Fixed event data size of each known user control event (RTMP spec 7.1.7); -1 unknown.
int user_event_data_size(uint16_t event)
{
    switch (event) {
        case uc_event::stream_begin:
        case uc_event::stream_eof:
        case uc_event::stream_dry:
        case uc_event::stream_is_recorded:
        case uc_event::ping_request:
        case uc_event::ping_response:
            return 4;
        case uc_event::set_buffer_length:
            return 8;
        default:
            return -1;
    }
}

// Encodes the payload of `c` into p (at most 10 bytes); returns its size, 0 for a bad type.
size_t encode_control(const Control& c, uint8_t* p)
{
    switch (c.type) {
        case msg_type::set_chunk_size:
        case msg_type::abort:
        case msg_type::ack:
        case msg_type::window_ack_size:
            store_be32(p, c.value);
            return 4;
        case msg_type::set_peer_bandwidth:  // RTMP spec 5.4.5: window, then the limit type
            store_be32(p, c.value);
            p[4] = uint8_t(c.value2);
            return 5;
        case msg_type::user_control: {  // RTMP spec 7.1.7: event type, then event data
            store_be16(p, c.event);
            store_be32(p + 2, c.value);
            if (c.event == uc_event::set_buffer_length) {
                store_be32(p + 6, c.value2);
                return 10;
            }
            return 6;
        }
        default:
            return 0;
    }
}

}  // namespace

Rc frame_control(BufPool& pool, uint32_t chunk_size, const Control& c, BufRef* out)
{
    uint8_t body[10];
    size_t n = encode_control(c, body);
    if (n == 0) return Rc::error;
    // RTMP spec 5.4: protocol control messages use chunk stream 2 and message stream 0;
    // user control messages (7.1.7) follow the same rule.
    MsgHeader h{kControlCsid, c.type, 0, 0};
    return frame_message(pool, chunk_size, h, body, n, out);
}

Rc parse_control(const Message& m, Control* out, const char** reason)
{
    if (m.type < msg_type::set_chunk_size || m.type > msg_type::set_peer_bandwidth) {
        return Rc::declined;
    }
    uint8_t b[10] = {};
    size_t n = chain_copy(m.payload.get(), 0, b, m.length < sizeof(b) ? m.length : sizeof(b));
    Control c;
    c.type = m.type;
    size_t need = m.type == msg_type::set_peer_bandwidth ? 5
                  : m.type == msg_type::user_control     ? 2
                                                         : 4;
    if (n < need) {
        *reason = "control message too short";
        return Rc::error;
    }
    if (m.type == msg_type::user_control) {
        c.event = load_be16(b);
        int data = user_event_data_size(c.event);
        if (data > 0 && n < 2 + size_t(data)) {
            *reason = "user control event too short";
            return Rc::error;
        }
        if (n >= 6) c.value = load_be32(b + 2);
        if (c.event == uc_event::set_buffer_length) c.value2 = load_be32(b + 6);
    } else {
        c.value = load_be32(b);
        if (m.type == msg_type::set_peer_bandwidth) c.value2 = b[4];
    }
    *out = c;
    return Rc::ok;
}

const char* msg_type_name(uint8_t type)
{
    switch (type) {
        case msg_type::set_chunk_size:
            return "set_chunk_size";
        case msg_type::abort:
            return "abort";
        case msg_type::ack:
            return "ack";
        case msg_type::user_control:
            return "user_control";
        case msg_type::window_ack_size:
            return "window_ack_size";
        case msg_type::set_peer_bandwidth:
            return "set_peer_bandwidth";
        case msg_type::audio:
            return "audio";
        case msg_type::video:
            return "video";
        case msg_type::data_amf3:
            return "data_amf3";
        case msg_type::shared_object_amf3:
            return "shared_object_amf3";
        case msg_type::command_amf3:
            return "command_amf3";
        case msg_type::data_amf0:
            return "data_amf0";
        case msg_type::shared_object_amf0:
            return "shared_object_amf0";
        case msg_type::command_amf0:
            return "command_amf0";
        case msg_type::aggregate:
            return "aggregate";
        default:
            return "unknown";
    }
}

}  // namespace strom::rtmp
