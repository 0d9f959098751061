#include "ragwire/device_flat.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>

#include "ragwire/kernels.hpp"

namespace ragwire {

namespace {
constexpr size_t kQueryBlock = 1024;        // queries per distance pass
constexpr size_t kUploadRows = 1 << 16;     // rows per host-to-device copy while syncing
constexpr size_t kMinDistBytes = 4u << 20;  // the distance block: at least 4 MiB,
constexpr size_t kMaxDistBytes = 1u << 30;  // at most 1 GiB (1/16 of the device's memory)

std::string gib(uint64_t bytes) {
  char buf[32];
  snprintf(buf, sizeof buf, "%.2f GiB", (double)bytes / (1024.0 * 1024 * 1024));
  return buf;
}
}  // namespace

Status DeviceFlat::open(const IndexConfig& cfg, std::unique_ptr<DeviceFlat>* out) {
  out->reset();
  std::unique_ptr<DeviceBackend> backend;
  RAGWIRE_RETURN_IF_ERROR(open_device(cfg.device, cfg.metric, cfg.storage, &backend));
  if (!backend) return Status::ok();
  std::unique_ptr<DeviceFlat> d(new DeviceFlat(cfg, std::move(backend)));
  const DeviceInfo& info = d->info();
  size_t rb = d->row_bytes();
  if (cfg.device_tile_rows) {
    uint64_t want = (uint64_t)cfg.device_tile_rows * rb;
    if (want > info.max_alloc_bytes || want > info.memory_bytes / 2)
      return Status(Code::kDeviceOutOfMemory, "deviceTileRows " + std::to_string(cfg.device_tile_rows) + " x " +
                                                  std::to_string(rb) + " bytes = " + gib(want) + " does not fit " +
                                                  info.name + " (" + gib(info.memory_bytes) + ", largest buffer " +
                                                  gib(info.max_alloc_bytes) + ", half of it for the rows)");
    d->tile_rows_ = cfg.device_tile_rows;
  } else {
    uint64_t budget = std::min<uint64_t>(info.max_alloc_bytes, info.memory_bytes / 2);
    d->tile_rows_ = (size_t)std::min<uint64_t>(kMaxVectors, std::max<uint64_t>(1024, budget / rb));
  }
  *out = std::move(d);
  return Status::ok();
}

DeviceFlat::~DeviceFlat() { free_all(); }

void DeviceFlat::free_all() {
  for (DeviceBuffer* b :
       {&rows_, &norms_, &queries_, &qnorms_, &mask_, &dist_, &best_dist_, &best_id_, &scratch_dist_, &scratch_id_})
    backend_->release(b);
}

size_t DeviceFlat::memory_bytes() const {
  size_t total = 0;
  for (const DeviceBuffer* b :
       {&rows_, &norms_, &queries_, &qnorms_, &mask_, &dist_, &best_dist_, &best_id_, &scratch_dist_, &scratch_id_})
    total += b->bytes;
  return total;
}

Status DeviceFlat::ensure(DeviceBuffer* b, size_t bytes, size_t keep_bytes) {
  if (b->bytes >= bytes) return Status::ok();
  DeviceBuffer fresh;
  RAGWIRE_RETURN_IF_ERROR(backend_->alloc(bytes, &fresh));
  if (keep_bytes) {
    Status st = backend_->copy(*b, &fresh, keep_bytes);
    if (!st.is_ok()) {
      backend_->release(&fresh);
      return st;
    }
  }
  backend_->release(b);
  *b = fresh;
  return Status::ok();
}

Status DeviceFlat::upload_rows(const VectorStorage& storage, size_t first, size_t n, DeviceBuffer* rows,
                               DeviceBuffer* norms, size_t at) {
  size_t dim = cfg_.dim, rb = row_bytes();
  std::vector<float> nrm, decoded(dim);
  for (size_t c0 = 0; c0 < n; c0 += kUploadRows) {
    size_t cn = std::min(kUploadRows, n - c0);
    uint32_t id = (uint32_t)(first + c0);
    const void* src =
        cfg_.storage == StorageKind::kF16 ? (const void*)storage.f16_row(id) : (const void*)storage.row(id);
    RAGWIRE_RETURN_IF_ERROR(backend_->write(rows, (at + c0) * rb, src, cn * rb));
    if (!needs_norms()) continue;
    // Norms of what the device multiplies: the f16 codes widened, or the f32 rows.
    nrm.resize(cn);
    for (size_t i = 0; i < cn; i++) {
      const float* x = storage.row(id + (uint32_t)i);
      if (cfg_.storage == StorageKind::kF16) {
        kernels().f16_to_f32(storage.f16_row(id + (uint32_t)i), decoded.data(), dim);
        x = decoded.data();
      }
      double s = 0;
      for (size_t d = 0; d < dim; d++) s += (double)x[d] * x[d];
      nrm[i] = (float)s;
    }
    RAGWIRE_RETURN_IF_ERROR(backend_->write(norms, (at + c0) * 4, nrm.data(), cn * 4));
  }
  return Status::ok();
}

void DeviceFlat::release() {
  std::lock_guard<std::mutex> lock(mu_);
  free_all();
  uploaded_ = 0;
  streaming_ = false;
}

void DeviceFlat::reset() {
  std::lock_guard<std::mutex> lock(mu_);
  uploaded_ = 0;
}

Status DeviceFlat::sync(const VectorStorage& storage, size_t rows) {
  std::lock_guard<std::mutex> lock(mu_);
  if (rows == uploaded_) return Status::ok();
  if (rows < uploaded_) uploaded_ = 0;  // shrunk without reset(): upload again
  if (streaming_ || rows > tile_rows_) {
    // More rows than one tile: searches stream them from host memory.
    if (!streaming_) {
      backend_->release(&rows_);
      backend_->release(&norms_);
      streaming_ = true;
    }
    uploaded_ = rows;
    return Status::ok();
  }
  size_t rb = row_bytes(), cap = rows_.bytes / rb;
  if (rows > cap) {
    size_t grown = std::min(tile_rows_, std::max({rows, cap + cap / 2, (size_t)1024}));
    Status st = ensure(&rows_, grown * rb, uploaded_ * rb);
    if (st.is_ok() && needs_norms()) st = ensure(&norms_, grown * 4, uploaded_ * 4);
    if (!st.is_ok()) {
      if (st.code() != Code::kDeviceOutOfMemory) return st;
      // The device is fuller than it said: stream instead of holding the rows.
      backend_->release(&rows_);
      backend_->release(&norms_);
      streaming_ = true;
      tile_rows_ = std::max<size_t>(1024, cap / 2);
      uploaded_ = rows;
      return Status::ok();
    }
  }
  RAGWIRE_RETURN_IF_ERROR(upload_rows(storage, uploaded_, rows - uploaded_, &rows_, &norms_, uploaded_));
  uploaded_ = rows;
  return Status::ok();
}

Status DeviceFlat::run_tile(size_t nq, size_t id0, size_t n, const DeviceBuffer& rows, const DeviceBuffer* norms,
                            bool masked, uint32_t keep) {
  size_t qb = std::min(nq, kQueryBlock);
  uint64_t budget = std::clamp<uint64_t>(info().memory_bytes / 16, kMinDistBytes, kMaxDistBytes);
  budget = std::min<uint64_t>(budget, info().max_alloc_bytes);
  size_t chunk = std::min(n, std::max<size_t>(256, (size_t)(budget / (qb * 4))));
  RAGWIRE_RETURN_IF_ERROR(ensure(&dist_, qb * chunk * 4));
  for (size_t q0 = 0; q0 < nq; q0 += qb) {
    size_t qn = std::min(qb, nq - q0);
    for (size_t c0 = 0; c0 < n; c0 += chunk) {
      size_t cn = std::min(chunk, n - c0);
      DistanceJob dj{cfg_.metric,
                     cfg_.storage,
                     cfg_.dim,
                     &queries_,
                     needs_norms() ? &qnorms_ : nullptr,
                     q0,
                     qn,
                     &rows,
                     norms,
                     c0,
                     cn,
                     masked ? &mask_ : nullptr,
                     (uint32_t)(id0 + c0),
                     &dist_,
                     chunk};
      RAGWIRE_RETURN_IF_ERROR(backend_->distances(dj));
      SelectJob sj{&dist_,         chunk,        qn, cn,  (uint32_t)(id0 + c0), &best_dist_, &best_id_,
                   &scratch_dist_, &scratch_id_, q0, keep};
      RAGWIRE_RETURN_IF_ERROR(backend_->select(sj));
    }
  }
  return Status::ok();
}

Status DeviceFlat::search(const VectorStorage& storage, size_t rows, const float* queries, size_t nq, size_t k,
                          size_t keep, const Acceptor& accept, TopK* results, ThreadPool& pool) {
  if (k > kMaxK)
    return Status(Code::kLimit, "a device search answers k up to " + std::to_string(kMaxK) + ", got " +
                                    std::to_string(k) + "; use device 'cpu' for larger k");
  if (nq == 0 || rows == 0) return Status::ok();
  std::lock_guard<std::mutex> lock(mu_);
  if (rows > uploaded_)
    return Status(Code::kInternal,
                  "the device holds " + std::to_string(uploaded_) + " rows, not " + std::to_string(rows));
  uint32_t kept = (uint32_t)std::min<size_t>(kMaxKeep, std::max(keep, k));
  size_t dim = cfg_.dim;

  RAGWIRE_RETURN_IF_ERROR(ensure(&queries_, nq * dim * 4));
  RAGWIRE_RETURN_IF_ERROR(backend_->write(&queries_, 0, queries, nq * dim * 4));
  if (needs_norms()) {
    std::vector<float> qn(nq);
    for (size_t i = 0; i < nq; i++) {
      double s = 0;
      for (size_t d = 0; d < dim; d++) s += (double)queries[i * dim + d] * queries[i * dim + d];
      qn[i] = (float)s;
    }
    RAGWIRE_RETURN_IF_ERROR(ensure(&qnorms_, nq * 4));
    RAGWIRE_RETURN_IF_ERROR(backend_->write(&qnorms_, 0, qn.data(), nq * 4));
  }
  // Tombstones and the allow-list become one bit per row, checked by the distance kernel.
  bool masked = !accept.everything();
  if (masked) {
    size_t bytes = (rows + 7) / 8;
    std::vector<uint8_t> bits(bytes, 0);
    pool.parallel_for(bytes, 4096, [&](size_t b, size_t e, size_t) {
      for (size_t byte = b; byte < e; byte++) {
        uint8_t v = 0;
        for (uint32_t bit = 0; bit < 8; bit++) {
          size_t id = byte * 8 + bit;
          if (id < rows && accept((uint32_t)id)) v |= (uint8_t)(1u << bit);
        }
        bits[byte] = v;
      }
    });
    RAGWIRE_RETURN_IF_ERROR(ensure(&mask_, bytes));
    RAGWIRE_RETURN_IF_ERROR(backend_->write(&mask_, 0, bits.data(), bytes));
  }
  size_t best_bytes = nq * kept * 4;
  for (DeviceBuffer* b : {&best_dist_, &best_id_, &scratch_dist_, &scratch_id_})
    RAGWIRE_RETURN_IF_ERROR(ensure(b, best_bytes));
  RAGWIRE_RETURN_IF_ERROR(backend_->fill_ones(&best_dist_, best_bytes));
  RAGWIRE_RETURN_IF_ERROR(backend_->fill_ones(&best_id_, best_bytes));

  if (streaming_) {
    size_t rb = row_bytes();
    RAGWIRE_RETURN_IF_ERROR(ensure(&rows_, tile_rows_ * rb));
    if (needs_norms()) RAGWIRE_RETURN_IF_ERROR(ensure(&norms_, tile_rows_ * 4));
    for (size_t t0 = 0; t0 < rows; t0 += tile_rows_) {
      size_t n = std::min(tile_rows_, rows - t0);
      RAGWIRE_RETURN_IF_ERROR(upload_rows(storage, t0, n, &rows_, &norms_, 0));
      RAGWIRE_RETURN_IF_ERROR(run_tile(nq, t0, n, rows_, needs_norms() ? &norms_ : nullptr, masked, kept));
    }
  } else {
    RAGWIRE_RETURN_IF_ERROR(run_tile(nq, 0, rows, rows_, needs_norms() ? &norms_ : nullptr, masked, kept));
  }
  RAGWIRE_RETURN_IF_ERROR(backend_->finish());
  std::vector<uint32_t> ids(nq * kept);
  RAGWIRE_RETURN_IF_ERROR(backend_->read(best_id_, 0, ids.data(), best_bytes));

  // Rescore the candidates exactly on the host's f32 rows: the CPU engine's own distances.
  std::atomic<bool> bad{false};
  pool.parallel_for(nq, 16, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) {
      const float* q = queries + i * dim;
      for (size_t j = 0; j < kept; j++) {
        uint32_t id = ids[i * kept + j];
        if (id == kNoLabel) continue;
        if (id >= rows) {
          bad = true;
          continue;
        }
        results[i].push(storage.exact(q, id), id);
      }
    }
  });
  if (bad) return Status(Code::kInternal, "the device returned a row id out of range");
  return Status::ok();
}

}  // namespace ragwire
