// AmfDecodeState: the budgets and reference tables of one AMF decode. A caller makes one
// per message (command or data message body), passes it to every amf0_decode/amf3_decode
// call for that message, and drops it afterwards; budgets (nodes, bytes) add up over the
// message. The reference tables and the scratch below are the decoders' own (amf0.cc,
// amf3.cc): they are reset for every top-level value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/rc.h"
#include "rtmp/amf.h"

namespace strom::rtmp {

// Every length and count read from the peer is checked against these before anything is
// allocated. The defaults suit commands and live metadata; an FLV file's onMetaData with a
// keyframe index needs more nodes.
struct AmfLimits {
    int max_depth = 32;              // nested containers (object, array, vector, ...)
    int max_nodes = 4096;            // values in the whole message, copies included
    size_t max_string = 64 * 1024;   // one string, key, XML text or byte array
    size_t max_bytes = 1024 * 1024;  // string bytes in the whole message, copies included
};

class AmfDecodeState {
public:
    explicit AmfDecodeState(const AmfLimits& limits = {}) : limits_(limits) {}

    const AmfLimits& limits() const { return limits_; }
    int nodes() const { return nodes_; }
    size_t bytes() const { return bytes_; }
    // References met so far (resolved by copy, or kept as `reference` values for cycles).
    int references() const { return references_; }
    // Start over for another message with the same limits.
    void reset();

    // --- for the decoders (amf0.cc, amf3.cc) --------------------------------------------
    enum class Table : uint8_t { amf0, amf3 };

    // A new top-level value decoded into *root: every table is emptied.
    void begin_value(AmfValue* root);
    // AMF0 3.1: an avmplus marker starts an AMF3 value with AMF3 tables of its own.
    void begin_amf3();

    Rc charge_node(const char** reason);
    Rc charge_nodes(size_t n, const char** reason);   // a count of values about to follow
    Rc charge_bytes(size_t n, const char** reason);
    Rc enter(const char** reason);                    // one container deeper
    void leave() { --depth_; }

    // The value being decoded is child `index` of the current container: props()[index]
    // or items()[index]. Paths, not pointers, name table entries: a parent's vector may
    // move its children while it grows.
    void push_path(size_t index, bool item)
    {
        path_.push_back(uint32_t(index) << 1 | (item ? 1 : 0));
    }
    void pop_path() { path_.pop_back(); }

    // A complex value starts at the current path; it stays open (a cycle if referenced)
    // until close_entry().
    uint32_t open_entry(Table t);
    void close_entry(Table t, uint32_t i) { table(t)[i].open = false; }
    size_t table_size(Table t) { return table(t).size(); }
    // A reference to entry i: a deep copy of it into *out, charged to the budgets as if
    // decoded again, or a `reference` value when the entry is still open (a cycle).
    Rc copy_entry(Table t, uint32_t i, uint8_t amf3_marker, AmfValue* out, const char** reason);

    // AMF3 string and traits tables (3.8, 3.12): views into the input of the current call.
    struct Traits {
        std::string_view class_name;
        uint32_t names_off;   // first sealed member name in names
        uint32_t count;       // sealed member names
        bool dynamic;
    };
    std::vector<std::string_view> strings;
    std::vector<Traits> traits;
    std::vector<std::string_view> names;

private:
    struct Entry {
        uint32_t path_off;
        uint32_t path_len;
        bool open;
    };
    std::vector<Entry>& table(Table t) { return t == Table::amf0 ? amf0_ : amf3_; }
    const AmfValue* walk(const Entry& e) const;

    AmfLimits limits_;
    int nodes_ = 0;
    size_t bytes_ = 0;
    int references_ = 0;
    int depth_ = 0;
    AmfValue* root_ = nullptr;
    std::vector<uint32_t> path_;
    std::vector<uint32_t> paths_;   // saved paths of table entries
    std::vector<Entry> amf0_;
    std::vector<Entry> amf3_;
};

}  // namespace strom::rtmp
