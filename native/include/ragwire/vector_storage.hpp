// The vectors of an index, one row per internal id, in the index's storage
// format. Quantized formats (f16, sq8) keep an f32 copy for the exact rerank;
// graph building always uses exact f32 distances.
#pragma once
#include <cstddef>
#include <cstdint>

#include "ragwire/config.hpp"
#include "ragwire/kernels.hpp"
#include "ragwire/pod_array.hpp"
#include "ragwire/snapshot.hpp"

namespace ragwire {

class VectorStorage {
 public:
  static constexpr size_t kScanAheadBytes = 4096;
  void init(uint32_t dim, Metric metric, StorageKind storage);

  // Appends n rows (already normalised for cosine). False when out of memory.
  bool append(const float* rows, size_t n);
  size_t size() const { return f32_.size() / dim_; }
  StorageKind storage() const { return storage_; }
  bool quantized() const { return storage_ != StorageKind::kF32; }

  // Distance (lower = closer) from an f32 query to row id, on the stored codes.
  float approx(const float* q, uint32_t id) const {
    switch (storage_) {
      case StorageKind::kF16: return f16_fn_(q, f16_.data() + (size_t)id * dim_, dim_);
      case StorageKind::kSq8: return sq8_fn_(q, sq8_.data() + (size_t)id * dim_, lo_.data(), step_.data(), dim_);
      case StorageKind::kF32: return f32_fn_(q, f32_.data() + (size_t)id * dim_, dim_);
    }
    unreachable_enum("StorageKind");
  }
  // Calls fn(id, distance) for ids [begin, end) that pass `keep`, on the stored
  // codes, with the storage switch hoisted out of the loop.
  template <class Keep, class Fn>
  void scan(const float* q, uint32_t begin, uint32_t end, Keep keep, Fn fn) const {
    switch (storage_) {
      case StorageKind::kF16: {
        const uint16_t* base = f16_.data();
        for (uint32_t id = begin; id < end; id++)
          if (keep(id)) fn(id, f16_fn_(q, base + (size_t)id * dim_, dim_));
        break;
      }
      case StorageKind::kSq8: {
        const uint8_t* base = sq8_.data();
        for (uint32_t id = begin; id < end; id++)
          if (keep(id)) fn(id, sq8_fn_(q, base + (size_t)id * dim_, lo_.data(), step_.data(), dim_));
        break;
      }
      case StorageKind::kF32: {
        const float* base = f32_.data();
        const size_t row_bytes = (size_t)dim_ * 4, ahead = kScanAheadBytes / row_bytes + 1;
        for (uint32_t id = begin; id < end; id++) {
          // Ask for the row a few KiB ahead: more loads in flight than the
          // hardware prefetcher alone keeps when each row is one short sweep.
          if (id + ahead < end) {
            const char* p = (const char*)(base + (size_t)(id + ahead) * dim_);
            for (size_t off = 0; off < row_bytes; off += 64) __builtin_prefetch(p + off);
          }
          if (keep(id)) fn(id, f32_fn_(q, base + (size_t)id * dim_, dim_));
        }
        break;
      }
    }
  }
  // Exact distance on the f32 rows.
  float exact(const float* q, uint32_t id) const { return f32_fn_(q, row(id), dim_); }
  const float* row(uint32_t id) const { return f32_.data() + (size_t)id * dim_; }
  // The f16 codes of row id (f16 storage only).
  const uint16_t* f16_row(uint32_t id) const { return f16_.data() + (size_t)id * dim_; }

  void prefetch(uint32_t id) const {
    const char* p = nullptr;
    size_t bytes = 0;
    switch (storage_) {
      case StorageKind::kF16:
        p = (const char*)(f16_.data() + (size_t)id * dim_);
        bytes = dim_ * 2;
        break;
      case StorageKind::kSq8:
        p = (const char*)(sq8_.data() + (size_t)id * dim_);
        bytes = dim_;
        break;
      case StorageKind::kF32:
        p = (const char*)row(id);
        bytes = dim_ * 4;
        break;
    }
    size_t lines = bytes > 1024 ? 16 : (bytes + 63) / 64;
    for (size_t i = 0; i < lines; i++) __builtin_prefetch(p + i * 64);
  }

  // Keeps rows whose keep[id] is set, in order.
  bool compact(const uint8_t* keep);

  void save(SnapshotWriter& w) const;
  Status load(const SnapshotReader& r, size_t rows);
  size_t bytes() const { return f32_.bytes() + f16_.bytes() + sq8_.bytes() + lo_.bytes() + step_.bytes(); }

 private:
  bool encode(size_t first, size_t n);
  bool widen_sq8_range(const float* rows, size_t n);

  uint32_t dim_ = 0;
  StorageKind storage_ = StorageKind::kF32;
  float (*f32_fn_)(const float*, const float*, size_t) = nullptr;
  float (*f16_fn_)(const float*, const uint16_t*, size_t) = nullptr;
  float (*sq8_fn_)(const float*, const uint8_t*, const float*, const float*, size_t) = nullptr;
  PodArray<float> f32_;
  PodArray<uint16_t> f16_;
  PodArray<uint8_t> sq8_;
  PodArray<float> lo_, step_, hi_;  // sq8: per-dimension range
};

}  // namespace ragwire
