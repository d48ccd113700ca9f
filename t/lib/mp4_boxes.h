// A minimal ISO BMFF box walker for tests and fuzz targets: it lists every box of the
// containers the MP4 writer makes, with its path ("moov/trak/mdia"), and says whether
// the child boxes tile each parent exactly. Header-only; reads nothing past the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace strom::test {

struct Mp4Box {
    std::string path;
    size_t off;  // of the size field
    size_t size;
    size_t body;  // first byte after the 8-byte header
};

// Bytes before the child boxes of a container: FullBox fields, entry counts, sample
// entry fields (14496-12 8.5.2, 12.1.3, 12.2.3). SIZE_MAX: not a container.
inline size_t mp4_children_at(const std::string& type)
{
    static const std::map<std::string, size_t> kContainers = {
        {"moov", 0}, {"trak", 0}, {"mdia", 0},  {"minf", 0},  {"dinf", 0},
        {"stbl", 0}, {"mvex", 0}, {"moof", 0},  {"traf", 0},  {"mfra", 0}, {"edts", 0},
        {"dref", 8}, {"stsd", 8}, {"avc1", 78}, {"hvc1", 78}, {"mp4a", 28},
    };
    auto it = kContainers.find(type);
    return it == kContainers.end() ? SIZE_MAX : it->second;
}

inline uint32_t mp4_be32(const uint8_t* p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}

// Walks [begin, end) of b, appending every box; false unless the boxes tile it exactly.
inline bool mp4_walk(const uint8_t* b, size_t begin, size_t end, const std::string& parent,
                     std::vector<Mp4Box>* out, int depth = 0)
{
    size_t p = begin;
    if (depth > 16) return false;
    while (p < end) {
        if (end - p < 8) return false;
        size_t size = mp4_be32(b + p);
        if (size < 8 || size > end - p) return false;
        std::string type(reinterpret_cast<const char*>(b + p + 4), 4);
        std::string path = parent.empty() ? type : parent + "/" + type;
        out->push_back(Mp4Box{path, p, size, p + 8});
        size_t skip = mp4_children_at(type);
        if (skip != SIZE_MAX) {
            if (size < 8 + skip || !mp4_walk(b, p + 8 + skip, p + size, path, out, depth + 1))
                return false;
        }
        p += size;
    }
    return p == end;
}

inline bool mp4_walk(const std::vector<uint8_t>& b, std::vector<Mp4Box>* out)
{
    return mp4_walk(b.data(), 0, b.size(), "", out);
}

inline std::vector<Mp4Box> mp4_find(const std::vector<Mp4Box>& boxes, const std::string& path)
{
    std::vector<Mp4Box> r;
    for (const Mp4Box& x : boxes) {
        if (x.path == path) r.push_back(x);
    }
    return r;
}

}  // namespace strom::test
