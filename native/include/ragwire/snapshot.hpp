// Snapshot files: a checksummed header, a section table and 64-byte aligned
// sections. Written to a temporary file, fsynced and renamed into place; read
// by mapping the file (MAP_PRIVATE) and handing out views into the mapping.
//
// Layout (little-endian):
//   0  char[8] magic "RAGWIRE\0"     8  u32 format version    12 u32 section count
//   16 u64 file size                 24 u32 crc32c of bytes [64, file size)
//   28 u32 crc32c of bytes [0, 28) and [32, 64)   32 reserved (zero) up to 64
//   64 section table: count x { u32 tag, u32 zero, u64 offset, u64 size }
//   then the sections, each at a 64-byte aligned offset.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "ragwire/pod_array.hpp"
#include "ragwire/status.hpp"

namespace ragwire {

constexpr uint32_t kSnapshotVersion = 1;

constexpr uint32_t section_tag(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}

uint32_t crc32c(uint32_t crc, const void* data, size_t n);

class SnapshotWriter {
 public:
  // The bytes must stay valid until write() returns.
  void add(uint32_t tag, const void* data, size_t size) { sections_.push_back({tag, data, size}); }
  template <class T>
  void add_array(uint32_t tag, const PodArray<T>& a, size_t count) {
    add(tag, a.data(), count * sizeof(T));
  }
  // Keeps its own copy of the bytes.
  void add_copy(uint32_t tag, const void* data, size_t size) {
    owned_.emplace_back(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + size);
    add(tag, owned_.back().data(), size);
  }
  Status write(const std::string& path) const;

 private:
  struct Section {
    uint32_t tag;
    const void* data;
    size_t size;
  };
  std::vector<Section> sections_;
  std::deque<std::vector<uint8_t>> owned_;
};

class SnapshotReader {
 public:
  static Status open(const std::string& path, std::unique_ptr<SnapshotReader>* out);

  bool has(uint32_t tag) const;
  // View of a section; kCorruptSnapshot when missing or not a whole number of T.
  template <class T>
  Status view(uint32_t tag, T** data, size_t* count) const {
    uint8_t* p;
    size_t size;
    RAGWIRE_RETURN_IF_ERROR(raw(tag, &p, &size));
    if (size % sizeof(T) != 0) return Status(Code::kCorruptSnapshot, "snapshot section has a bad size");
    *data = reinterpret_cast<T*>(p);
    *count = size / sizeof(T);
    return Status::ok();
  }
  // Points a PodArray at a section without copying it.
  template <class T>
  Status borrow(uint32_t tag, PodArray<T>* out, size_t expected_count) const {
    T* p;
    size_t n;
    RAGWIRE_RETURN_IF_ERROR(view(tag, &p, &n));
    if (n != expected_count) return Status(Code::kCorruptSnapshot, "snapshot section length disagrees with its header");
    out->borrow(mapping_, p, n);
    return Status::ok();
  }
  Status raw(uint32_t tag, uint8_t** data, size_t* size) const;

 private:
  struct Entry {
    uint32_t tag;
    uint64_t offset;
    uint64_t size;
  };
  std::shared_ptr<Mapping> mapping_;
  std::vector<Entry> entries_;
};

}  // namespace ragwire
