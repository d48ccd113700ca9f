#include "rtmp/amf_decode_state.h"

namespace strom::rtmp {

namespace {

bool is_container(AmfType t)
{
    switch (t) {
    case AmfType::object:
    case AmfType::typed_object:
    case AmfType::ecma_array:
    case AmfType::strict_array:
    case AmfType::vector_int:
    case AmfType::vector_uint:
    case AmfType::vector_double:
    case AmfType::vector_object:
    case AmfType::dictionary: return true;
    default: return false;
    }
}

// What decoding `v` again would cost: values, string bytes (the same bytes the decoders
// charge: keys, text, class names) and container levels. The recursion is bounded by the
// depth limit the tree was decoded under.
struct Cost {
    size_t nodes = 0;
    size_t bytes = 0;
    int height = 0;
};

void measure(const AmfValue& v, Cost* c, int level)
{
    ++c->nodes;
    c->bytes += v.str().size() + v.class_name().size();
    if (!is_container(v.type())) return;
    ++level;
    if (level > c->height) c->height = level;
    for (const auto& p : v.props()) {
        c->bytes += p.key.size();
        measure(p.value, c, level);
    }
    for (const auto& i : v.items()) measure(i, c, level);
}

}  // namespace

void AmfDecodeState::reset()
{
    nodes_ = 0;
    bytes_ = 0;
    references_ = 0;
    begin_value(nullptr);
}

void AmfDecodeState::begin_value(AmfValue* root)
{
    root_ = root;
    depth_ = 0;
    path_.clear();
    paths_.clear();
    amf0_.clear();
    begin_amf3();
}

void AmfDecodeState::begin_amf3()
{
    amf3_.clear();
    strings.clear();
    traits.clear();
    names.clear();
}

Rc AmfDecodeState::charge_node(const char** reason)
{
    if (nodes_ >= limits_.max_nodes) {
        *reason = "amf: too many values";
        return Rc::error;
    }
    ++nodes_;
    return Rc::ok;
}

Rc AmfDecodeState::charge_nodes(size_t n, const char** reason)
{
    // Checked before reserving: a count of 0xFFFFFFFF is refused here, not allocated.
    if (n > size_t(limits_.max_nodes - nodes_)) {
        *reason = "amf: element count over the value limit";
        return Rc::error;
    }
    return Rc::ok;
}

Rc AmfDecodeState::charge_bytes(size_t n, const char** reason)
{
    if (n > limits_.max_bytes - bytes_) {
        *reason = "amf: string bytes over the message limit";
        return Rc::error;
    }
    bytes_ += n;
    return Rc::ok;
}

Rc AmfDecodeState::enter(const char** reason)
{
    // Checked before the decoder recurses, so a 100,000-deep input costs 32 frames.
    if (depth_ >= limits_.max_depth) {
        *reason = "amf: nesting too deep";
        return Rc::error;
    }
    ++depth_;
    return Rc::ok;
}

uint32_t AmfDecodeState::open_entry(Table t)
{
    auto& tab = table(t);
    tab.push_back(Entry{uint32_t(paths_.size()), uint32_t(path_.size()), true});
    paths_.insert(paths_.end(), path_.begin(), path_.end());
    return uint32_t(tab.size() - 1);
}

const AmfValue* AmfDecodeState::walk(const Entry& e) const
{
    const AmfValue* v = root_;
    for (uint32_t k = 0; v && k < e.path_len; ++k) {
        uint32_t step = paths_[e.path_off + k];
        size_t i = step >> 1;
        if (step & 1) {
            v = i < v->items().size() ? &v->items()[i] : nullptr;
        } else {
            v = i < v->props().size() ? &v->props()[i].value : nullptr;
        }
    }
    return v;
}

Rc AmfDecodeState::copy_entry(Table t, uint32_t i, uint8_t amf3_marker, AmfValue* out,
                              const char** reason)
{
    auto& tab = table(t);
    if (i >= tab.size()) {
        *reason = "amf: reference out of range";
        return Rc::error;
    }
    ++references_;
    if (tab[i].open) {
        // AMF3 3.12 allows an object to contain itself; a tree cannot, so the cycle stays
        // a reference value for the caller to ignore.
        *out = AmfValue::reference(i, amf3_marker);
        return Rc::ok;
    }
    const AmfValue* target = walk(tab[i]);
    if (!target) {
        *reason = "amf: reference to a lost value";
        return Rc::error;
    }
    // A reference is as expensive as the value it copies, or a few bytes of input could
    // expand into 2^n nodes (each object referencing the previous one twice).
    Cost c;
    measure(*target, &c, 0);
    if (c.nodes - 1 > size_t(limits_.max_nodes - nodes_)) {   // the reference was charged
        *reason = "amf: references expand past the value limit";
        return Rc::error;
    }
    if (depth_ + c.height > limits_.max_depth) {
        *reason = "amf: nesting too deep";
        return Rc::error;
    }
    Rc rc = charge_bytes(c.bytes, reason);
    if (rc != Rc::ok) return rc;
    nodes_ += int(c.nodes - 1);
    *out = *target;
    return Rc::ok;
}

}  // namespace strom::rtmp
