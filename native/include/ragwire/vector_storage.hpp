// The vectors of an index, one row per internal id, in the index's storage
// format. Quantized formats (f16, sq8) keep an f32 copy for the exact rerank;
// graph building always uses exact f32 distances. The f32 rows live in memory
// or, placed on disk, in a mapped RowFile (the codes stay in memory).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ragwire/config.hpp"
#include "ragwire/kernels.hpp"
#include "ragwire/pod_array.hpp"
#include "ragwire/row_file.hpp"
#include "ragwire/snapshot.hpp"

namespace ragwire {

// A query as the walks over the stored codes use it, prepared once per search
// (VectorStorage::prepare). For sq8 with l2, ip or cosine the query is folded
// into the code grid as 16-bit integers a_i, so a distance is one integer dot
// product with the codes c_i plus per-query and per-row constants:
//   l2: |q - x|^2 = |q - lo|^2 - 2 W sum a_i c_i + |x - lo|^2,  a_i = round(step_i (q_i - lo_i) / W)
//   ip: -q.x      = -q.lo      -   W sum a_i c_i,               a_i = round(step_i q_i / W)
// with W = max_i |step_i (q_i - lo_i)| (or |step_i q_i|) / query_max (at most kInt16QueryMax). Other
// storages and l1 use the f32 query as it is.
class QueryCodes {
 public:
  const float* f32 = nullptr;

 private:
  friend class VectorStorage;
  std::vector<int16_t> a_;
  std::vector<int8_t> hi_, lo_;  // a_ as byte planes: a_i = 256 hi_i + lo_i
  Int16Query view_{};
  float scale_ = 0, bias_ = 0;
  // The flat scan's coarser form (its candidates are reranked in f32): within +-127, hi plane zero.
  std::vector<int16_t> a8_;
  std::vector<int8_t> zero8_, lo8_;
  Int16Query scan_view_{};
  float scan_scale_ = 0;
  bool int_walk_ = false;
};

class VectorStorage {
 public:
  static constexpr size_t kScanAheadBytes = 4096;
  // Above this many dimensions the 16-bit query would keep under 9 bits (255 * 2^15 * dim < 2^31
  // forces it smaller), so sq8 walks decode the codes against the f32 query instead.
  static constexpr uint32_t kIntWalkMaxDim = 16384;
  void init(uint32_t dim, Metric metric, StorageKind storage);
  // Places the f32 rows in a new file at path (before any append).
  Status place_on_disk(const std::string& path);

  // Appends n rows (already normalised for cosine). kLimit when out of memory, kIo when the
  // vector file cannot grow.
  Status append(const float* rows, size_t n);
  size_t size() const { return rows_; }
  bool on_disk() const { return file_ != nullptr; }
  StorageKind storage() const { return storage_; }
  bool quantized() const { return storage_ != StorageKind::kF32; }

  // Readies a query for walks over the stored codes (approx, scan); once per search.
  void prepare(const float* q, QueryCodes& out) const;
  // Distance (lower = closer) from a prepared query to row id, on the stored codes.
  float approx(const QueryCodes& q, uint32_t id) const {
    switch (storage_) {
      case StorageKind::kF16: return f16_fn_(q.f32, f16_.data() + (size_t)id * dim_, dim_);
      case StorageKind::kSq8: return sq8(q, sq8_.data() + (size_t)id * dim_, id);
      case StorageKind::kF32: return f32_fn_(q.f32, f32_base_ + (size_t)id * dim_, dim_);
    }
    unreachable_enum("StorageKind");
  }
  // Calls fn(id, distance) for ids [begin, end) that pass `keep`, on the stored
  // codes, with the storage switch hoisted out of the loop.
  template <class Keep, class Fn>
  void scan(const QueryCodes& q, uint32_t begin, uint32_t end, Keep keep, Fn fn) const {
    switch (storage_) {
      case StorageKind::kF16:
        scan_rows(f16_.data(), begin, end, keep, fn,
                  [&](const uint16_t* x, uint32_t) { return f16_fn_(q.f32, x, dim_); });
        break;
      case StorageKind::kSq8:
        if (q.int_walk_)
          scan_sq8(q, begin, end, keep, fn);
        else
          scan_rows(sq8_.data(), begin, end, keep, fn, [&](const uint8_t* x, uint32_t id) { return sq8(q, x, id); });
        break;
      case StorageKind::kF32:
        scan_rows(f32_base_, begin, end, keep, fn, [&](const float* x, uint32_t) { return f32_fn_(q.f32, x, dim_); });
        break;
    }
  }
  // The sq8 flat scan's distance to row id (sq8 storage on the integer walk): the query's 8-bit
  // form, coarser than approx()'s; the scan gives every row exactly this.
  float scan_distance(const QueryCodes& q, uint32_t id) const {
    return q.bias_ + q.scan_scale_ * (float)dot_fn_(sq8_.data() + (size_t)id * dim_, q.scan_view_, dim_) +
           (l2_ ? norms_[id] : 0.f);
  }
  // Exact distance on the f32 rows.
  float exact(const float* q, uint32_t id) const { return f32_fn_(q, row(id), dim_); }
  const float* row(uint32_t id) const { return f32_base_ + (size_t)id * dim_; }
  // Before reading the f32 rows of these ids (a rerank): on disk, asks the kernel to read their
  // pages ahead, all at once, so the faults that follow overlap instead of queueing one by one.
  template <class Hits>
  void will_read(const Hits& hits) const {
    if (!file_) return;
    thread_local std::vector<uint32_t> ids;
    ids.clear();
    for (const auto& h : hits) ids.push_back(h.id);
    file_->will_need(ids.data(), ids.size());
  }
  // The sq8 codes of row id and the grid they index (sq8 storage only): x_i = lo_i + code_i * step_i.
  const uint8_t* sq8_row(uint32_t id) const { return sq8_.data() + (size_t)id * dim_; }
  const float* sq8_lo() const { return lo_.data(); }
  const float* sq8_step() const { return step_.data(); }
  // The inline copy of a row's codes that a graph keeps beside a link list (HnswParams::inline_codes; sq8
  // on the integer walk only): the codes, then the l2 walk's row norm (4 bytes, unaligned).
  size_t inline_row_bytes() const { return dim_ + (l2_ ? sizeof(float) : 0); }
  void copy_inline(uint32_t id, uint8_t* dst) const {
    std::memcpy(dst, sq8_row(id), dim_);
    if (l2_) std::memcpy(dst + dim_, norms_.data() + id, sizeof(float));
  }
  // approx() on an inline copy: the same value as approx(q, id) for the row it copies.
  float approx_inline(const QueryCodes& q, const uint8_t* row) const {
    float norm = 0.f;
    if (l2_) std::memcpy(&norm, row + dim_, sizeof(float));
    return int_walk(q, row, norm);
  }
  // Counts the times every row was re-encoded (the sq8 grid widened): copies of older codes are stale.
  uint64_t encodings() const { return encodings_; }
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
        if (norms_.size()) __builtin_prefetch(norms_.data() + id);  // the l2 walk's row norm: another line
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
  Status compact(const uint8_t* keep);

  // On disk: the rows on stable storage, so a snapshot naming them may be written.
  Status sync() const { return file_ ? file_->sync() : Status::ok(); }
  void save(SnapshotWriter& w) const;
  // vectors_path: where a disk-resident index's rows are, overriding the path its snapshot names
  // (empty: the named one).
  Status load(const SnapshotReader& r, size_t rows, const std::string& vectors_path);
  // Bytes held in memory (the f32 rows among them only when not on disk).
  size_t bytes() const {
    return f32_.bytes() + f16_.bytes() + sq8_.bytes() + lo_.bytes() + step_.bytes() + hi_.bytes() + norms_.bytes();
  }
  // Bytes of f32 rows in the mapped vector file (0 in memory).
  size_t mapped_bytes() const { return file_ ? file_->bytes() : 0; }
  const std::string& vectors_path() const;

 private:
  // The sq8 distance: the integer kernel on a prepared query, else the codes decoded against the f32 query.
  // The integer walk's distance to sq8 codes `x` whose norm term is `norm` (0 but under l2).
  float int_walk(const QueryCodes& q, const uint8_t* x, float norm) const {
    return q.bias_ + q.scale_ * (float)dot_fn_(x, q.view_, dim_) + norm;
  }
  float sq8(const QueryCodes& q, const uint8_t* x, uint32_t id) const {
    if (q.int_walk_) return int_walk(q, x, l2_ ? norms_[id] : 0.f);
    return sq8_fn_(q.f32, x, lo_.data(), step_.data(), dim_);
  }
  template <class T, class Keep, class Fn, class Dist>
  void scan_rows(const T* base, uint32_t begin, uint32_t end, Keep keep, Fn fn, Dist dist) const {
    const size_t row_bytes = (size_t)dim_ * sizeof(T), ahead = kScanAheadBytes / row_bytes + 1;
    for (uint32_t id = begin; id < end; id++) {
      // Ask for the row a few KiB ahead: more loads in flight than the
      // hardware prefetcher alone keeps when each row is one short sweep.
      if (id + ahead < end) {
        const char* p = (const char*)(base + (size_t)(id + ahead) * dim_);
        for (size_t off = 0; off < row_bytes; off += 64) __builtin_prefetch(p + off);
      }
      if (keep(id)) fn(id, dist(base + (size_t)id * dim_, id));
    }
  }
  // The sq8 scan on the query's 8-bit form, four rows per kernel call (a flat search reranks what
  // it keeps in f32).
  template <class Keep, class Fn>
  void scan_sq8(const QueryCodes& q, uint32_t begin, uint32_t end, Keep keep, Fn fn) const {
    const uint8_t* base = sq8_.data();
    const size_t ahead = kScanAheadBytes / dim_ + 4;
    int32_t dots[4];
    uint32_t id = begin;
    for (; id + 4 <= end; id += 4) {
      if (id + ahead + 4 <= end) {
        const char* p = (const char*)(base + (size_t)(id + ahead) * dim_);
        for (size_t off = 0; off < 4 * (size_t)dim_; off += 64) __builtin_prefetch(p + off);
      }
      dot4_scan_fn_(base + (size_t)id * dim_, dim_, q.scan_view_, dim_, dots);
      for (uint32_t r = 0; r < 4; r++)
        if (keep(id + r)) fn(id + r, q.bias_ + q.scan_scale_ * (float)dots[r] + (l2_ ? norms_[id + r] : 0.f));
    }
    for (; id < end; id++)
      if (keep(id)) fn(id, scan_distance(q, id));
  }
  bool encode(size_t first, size_t n);
  void rebase() { f32_base_ = file_ ? reinterpret_cast<const float*>(file_->data()) : f32_.data(); }
  // norms_[id] = |x_id - lo|^2 on the decoded codes, for the sq8 l2 walk.
  bool compute_norms(size_t first, size_t n);
  bool widen_sq8_range(const float* rows, size_t n);

  uint32_t dim_ = 0;
  StorageKind storage_ = StorageKind::kF32;
  float (*f32_fn_)(const float*, const float*, size_t) = nullptr;
  float (*f16_fn_)(const float*, const uint16_t*, size_t) = nullptr;
  float (*sq8_fn_)(const float*, const uint8_t*, const float*, const float*, size_t) = nullptr;
  int32_t (*dot_fn_)(const uint8_t*, const Int16Query&, size_t) = nullptr;
  void (*dot4_scan_fn_)(const uint8_t*, size_t, const Int16Query&, size_t, int32_t*) = nullptr;
  bool l2_ = false;        // the metric is l2 (else ip or cosine, or l1 when int_walk_ is false)
  bool int_walk_ = false;  // sq8 walks on the integer kernel (l2, ip, cosine; dim up to kIntWalkMaxDim)
  int32_t query_max_ =
      0;  // the largest |a_i| of a prepared query: 255 * query_max_ * dim < 2^31, and <= kInt16QueryMax
  PodArray<float> norms_;
  PodArray<float> f32_;              // the f32 rows in memory
  std::unique_ptr<RowFile> file_;    // or on disk
  const float* f32_base_ = nullptr;  // where row(0) is
  size_t rows_ = 0;
  uint64_t encodings_ = 0;
  PodArray<uint16_t> f16_;
  PodArray<uint8_t> sq8_;
  PodArray<float> lo_, step_, hi_;  // sq8: per-dimension range
};

}  // namespace ragwire
