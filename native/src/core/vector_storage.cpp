#include "ragwire/vector_storage.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ragwire {

namespace {
// (hi - lo) / parts without overflowing: hi - lo exceeds FLT_MAX when the
// values span most of the float range, and an infinite step makes NaN codes.
float range_over(float lo, float hi, float parts) { return hi / parts - lo / parts; }

constexpr uint32_t kF32 = section_tag("VF32");
constexpr uint32_t kF16 = section_tag("VF16");
constexpr uint32_t kSq8 = section_tag("VSQ8");
constexpr uint32_t kLo = section_tag("SQLO");
constexpr uint32_t kHi = section_tag("SQHI");
constexpr uint32_t kDisk = section_tag("VDSK");  // DiskRows, then the vector file's path

// Where a disk-resident index's rows are: the first `rows` rows of the file, whose crc32c is `crc`.
struct DiskRows {
  uint64_t rows;
  uint32_t dim;
  uint32_t crc;
};
}  // namespace

Status VectorStorage::place_on_disk(const std::string& path) {
  std::unique_ptr<RowFile> f(new RowFile());
  RAGWIRE_RETURN_IF_ERROR(f->create(path, (size_t)dim_ * sizeof(float)));
  file_ = std::move(f);
  rebase();
  return Status::ok();
}

const std::string& VectorStorage::vectors_path() const {
  static const std::string none;
  return file_ ? file_->path() : none;
}

void VectorStorage::init(uint32_t dim, Metric metric, StorageKind storage) {
  dim_ = dim;
  storage_ = storage;
  const KernelTable& k = kernels();
  switch (metric) {
    case Metric::kL2:
      f32_fn_ = k.l2_f32;
      f16_fn_ = k.l2_f16;
      sq8_fn_ = k.l2_sq8;
      break;
    case Metric::kL1:
      f32_fn_ = k.l1_f32;
      f16_fn_ = k.l1_f16;
      sq8_fn_ = k.l1_sq8;
      break;
    // Cosine is the inner product of rows normalised on the way in (Index::prepare).
    case Metric::kIp:
    case Metric::kCosine:
      f32_fn_ = k.ip_f32;
      f16_fn_ = k.ip_f16;
      sq8_fn_ = k.ip_sq8;
      break;
  }
  if (f32_fn_ == nullptr) unreachable_enum("Metric");
  dot_fn_ = k.dot_u8_i16;
  dot4_scan_fn_ = k.dot4_u8_i8;
  l2_ = metric == Metric::kL2;
  int_walk_ = storage == StorageKind::kSq8 && metric != Metric::kL1 && dim <= kIntWalkMaxDim;
  query_max_ = (int32_t)std::min<int64_t>(kInt16QueryMax, INT32_MAX / (255 * (int64_t)dim));
}

void VectorStorage::prepare(const float* q, QueryCodes& out) const {
  out.f32 = q;
  out.int_walk_ = false;
  if (!int_walk_ || lo_.size() != dim_) return;
  double bias = 0, wmax = 0;
  for (uint32_t d = 0; d < dim_; d++) {
    double x = l2_ ? (double)q[d] - lo_[d] : q[d];
    bias += l2_ ? x * x : -(double)q[d] * lo_[d];
    wmax = std::max(wmax, std::fabs(x * step_[d]));
  }
  double w = wmax / query_max_;
  // A range spanning most of the float range (or a loaded one that is not
  // finite) leaves no usable grid: decode the codes against the f32 query.
  if (!std::isfinite((float)bias) || !std::isfinite((float)(2 * w)) || !std::isfinite((float)(2 * wmax / 127))) return;
  out.a_.resize(dim_);
  out.hi_.resize(dim_);
  out.lo_.resize(dim_);
  for (uint32_t d = 0; d < dim_; d++) {
    double x = l2_ ? (double)q[d] - lo_[d] : q[d];
    double t = w > 0 ? x * step_[d] / w : 0;
    t = std::min<double>(query_max_, std::max<double>(-query_max_, t));
    int32_t a = (int32_t)std::lrint(t), low = a & 255;
    low -= low >= 128 ? 256 : 0;
    out.a_[d] = (int16_t)a;
    out.lo_[d] = (int8_t)low;
    out.hi_[d] = (int8_t)((a - low) / 256);
  }
  out.view_ = {out.a_.data(), out.hi_.data(), out.lo_.data()};
  out.scale_ = (float)(l2_ ? -2 * w : -w);
  // The scan's 8-bit form on its own grid: w8 per unit, |a8_i| <= 127.
  const double w8 = wmax / 127;
  out.a8_.resize(dim_);
  out.lo8_.resize(dim_);
  out.zero8_.assign(dim_, 0);
  for (uint32_t d = 0; d < dim_; d++) {
    double x = l2_ ? (double)q[d] - lo_[d] : q[d];
    double t = w8 > 0 ? x * step_[d] / w8 : 0;
    const int32_t a = (int32_t)std::lrint(std::min(127.0, std::max(-127.0, t)));
    out.a8_[d] = (int16_t)a;
    out.lo8_[d] = (int8_t)a;
  }
  out.scan_view_ = {out.a8_.data(), out.zero8_.data(), out.lo8_.data()};
  out.scan_scale_ = (float)(l2_ ? -2 * w8 : -w8);
  out.bias_ = (float)bias;
  out.int_walk_ = true;
}

bool VectorStorage::compute_norms(size_t first, size_t n) {
  if (!int_walk_ || !l2_) return true;
  if (!norms_.resize(first + n)) return false;
  for (size_t i = first; i < first + n; i++) {
    const uint8_t* c = sq8_.data() + i * dim_;
    double s = 0;
    for (uint32_t d = 0; d < dim_; d++) {
      double x = (double)step_[d] * c[d];
      s += x * x;
    }
    norms_[i] = (float)s;
  }
  return true;
}

Status VectorStorage::append(const float* rows, size_t n) {
  size_t first = size();
  auto oom = [&] { return Status(Code::kLimit, "out of memory while adding " + std::to_string(n) + " vectors"); };
  if (file_) {
    RAGWIRE_RETURN_IF_ERROR(file_->append(rows, n));
  } else if (!f32_.append(rows, n * dim_)) {
    return oom();
  }
  rows_ = first + n;
  rebase();
  bool widened = storage_ == StorageKind::kSq8 && widen_sq8_range(rows, n);
  encodings_ += widened;
  bool ok = widened ? encode(0, first + n) : encode(first, n);
  return ok ? Status::ok() : oom();
}

// Grows the per-dimension range to cover the new rows (with a margin, so it
// rarely grows again). True when it changed: every row is then re-encoded.
bool VectorStorage::widen_sq8_range(const float* rows, size_t n) {
  bool first = hi_.size() == 0;
  if (first) {
    lo_.resize(dim_, INFINITY);
    hi_.resize(dim_, -INFINITY);
    step_.resize(dim_, 0.f);
  }
  bool changed = first;
  // The batch's range per dimension, row by row (one sequential pass over the batch).
  std::vector<float> blo(dim_, INFINITY), bhi(dim_, -INFINITY);
  for (size_t i = 0; i < n; i++) {
    const float* r = rows + i * dim_;
    for (uint32_t d = 0; d < dim_; d++) {
      blo[d] = r[d] < blo[d] ? r[d] : blo[d];
      bhi[d] = r[d] > bhi[d] ? r[d] : bhi[d];
    }
  }
  for (uint32_t d = 0; d < dim_; d++) {
    float lo = blo[d], hi = bhi[d];
    if (lo < lo_[d] || hi > hi_[d]) {
      float nlo = lo < lo_[d] ? lo : lo_[d], nhi = hi > hi_[d] ? hi : hi_[d];
      float margin = first ? 0.f : range_over(nlo, nhi, 20.f);
      lo_[d] = std::max(nlo - margin, -FLT_MAX);
      hi_[d] = std::min(nhi + margin, FLT_MAX);
      step_[d] = range_over(lo_[d], hi_[d], 255.f);
      changed = true;
    }
  }
  return changed;
}

bool VectorStorage::encode(size_t first, size_t n) {
  size_t total = first + n;
  const float* src = f32_base_ + first * dim_;
  if (storage_ == StorageKind::kF16) {
    if (!f16_.resize(total * dim_)) return false;
    kernels().f32_to_f16(src, f16_.data() + first * dim_, n * dim_);
  } else if (storage_ == StorageKind::kSq8) {
    if (!sq8_.resize(total * dim_)) return false;
    uint8_t* out = sq8_.data() + first * dim_;
    for (size_t i = 0; i < n; i++) {
      for (uint32_t d = 0; d < dim_; d++) {
        float s = step_[d];
        float c = s > 0 ? std::nearbyint((src[i * dim_ + d] - lo_[d]) / s) : 0.f;
        out[i * dim_ + d] = (uint8_t)(c >= 255 ? 255 : c > 0 ? c : 0);  // NaN (a loaded range): 0
      }
    }
    return compute_norms(first, n);
  }
  return true;
}

Status VectorStorage::compact(const uint8_t* keep) {
  size_t n = size(), w = 0;
  float* f32 = file_ ? reinterpret_cast<float*>(file_->mutable_data()) : f32_.data();
  for (size_t i = 0; i < n; i++) {
    if (!keep[i]) continue;
    if (w != i) {
      std::memmove(f32 + w * dim_, f32 + i * dim_, dim_ * sizeof(float));
      if (storage_ == StorageKind::kF16) std::memmove(f16_.data() + w * dim_, f16_.data() + i * dim_, dim_ * 2);
      if (storage_ == StorageKind::kSq8) std::memmove(sq8_.data() + w * dim_, sq8_.data() + i * dim_, dim_);
      if (norms_.size()) norms_[w] = norms_[i];
    }
    w++;
  }
  if (file_) RAGWIRE_RETURN_IF_ERROR(file_->truncate(w));
  if (!file_) f32_.resize(w * dim_);
  if (storage_ == StorageKind::kF16) f16_.resize(w * dim_);
  if (storage_ == StorageKind::kSq8) sq8_.resize(w * dim_);
  if (norms_.size()) norms_.resize(w);
  rows_ = w;
  rebase();
  return Status::ok();
}

void VectorStorage::save(SnapshotWriter& w) const {
  if (file_) {
    DiskRows d{rows_, dim_, file_->crc()};
    std::string rec(reinterpret_cast<const char*>(&d), sizeof d);
    rec += file_->path();
    w.add_copy(kDisk, rec.data(), rec.size());
  } else {
    w.add_array(kF32, f32_, f32_.size());
  }
  if (storage_ == StorageKind::kF16) w.add_array(kF16, f16_, f16_.size());
  if (storage_ == StorageKind::kSq8) {
    w.add_array(kSq8, sq8_, sq8_.size());
    if (hi_.size()) {
      w.add_array(kLo, lo_, lo_.size());
      w.add_array(kHi, hi_, hi_.size());
    }
  }
}

Status VectorStorage::load(const SnapshotReader& r, size_t rows, const std::string& vectors_path) {
  if (r.has(kDisk)) {
    uint8_t* p;
    size_t len;
    RAGWIRE_RETURN_IF_ERROR(r.raw(kDisk, &p, &len));
    DiskRows d;
    if (len <= sizeof d) return Status(Code::kCorruptSnapshot, "snapshot's vector file record is too short");
    std::memcpy(&d, p, sizeof d);
    if (d.rows != rows || d.dim != dim_)
      return Status(Code::kCorruptSnapshot, "snapshot's vector file record disagrees with its header");
    std::string path =
        vectors_path.empty() ? std::string(reinterpret_cast<const char*>(p) + sizeof d, len - sizeof d) : vectors_path;
    std::unique_ptr<RowFile> f(new RowFile());
    RAGWIRE_RETURN_IF_ERROR(f->open(path, (size_t)dim_ * sizeof(float), rows, d.crc));
    file_ = std::move(f);
  } else {
    if (!vectors_path.empty())
      return Status(Code::kInvalidArgument, "vectorsPath names a vector file, but this snapshot holds its vectors");
    RAGWIRE_RETURN_IF_ERROR(r.borrow(kF32, &f32_, rows * dim_));
  }
  rows_ = rows;
  rebase();
  if (storage_ == StorageKind::kF16) RAGWIRE_RETURN_IF_ERROR(r.borrow(kF16, &f16_, rows * dim_));
  if (storage_ == StorageKind::kSq8) {
    RAGWIRE_RETURN_IF_ERROR(r.borrow(kSq8, &sq8_, rows * dim_));
    if (r.has(kLo) || rows > 0) {
      RAGWIRE_RETURN_IF_ERROR(r.borrow(kLo, &lo_, dim_));
      RAGWIRE_RETURN_IF_ERROR(r.borrow(kHi, &hi_, dim_));
      step_.resize(dim_);
      for (uint32_t d = 0; d < dim_; d++) step_[d] = range_over(lo_[d], hi_[d], 255.f);
    }
    // The l2 walk's row norms are derived from the codes, not stored.
    if (!compute_norms(0, rows)) return Status(Code::kLimit, "out of memory while deriving the sq8 row norms");
  }
  return Status::ok();
}

}  // namespace ragwire
