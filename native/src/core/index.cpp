#include "ragwire/index.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include "ragwire/bq_index.hpp"
#include "ragwire/flat_index.hpp"
#include "ragwire/hnsw_index.hpp"

namespace ragwire {

namespace {

constexpr uint32_t kMeta = section_tag("META");
constexpr uint32_t kLabels = section_tag("LABL");
constexpr uint32_t kDeleted = section_tag("TOMB");
constexpr uint32_t kUser = section_tag("USER");

struct Meta {
  uint32_t dim, metric, kind, storage;
  uint32_t M, ef_construction, ef_search, rerank_factor;
  uint64_t seed;
  uint64_t rows;
  uint64_t deleted;
};

Status make(const IndexConfig& cfg, std::unique_ptr<Index>* out) {
  switch (cfg.kind) {
    case IndexKind::kFlat: out->reset(new FlatIndex(cfg)); return Status::ok();
    case IndexKind::kHnsw: out->reset(new HnswIndex(cfg)); return Status::ok();
    case IndexKind::kBq: out->reset(new BqIndex(cfg)); return Status::ok();
  }
  return Status(Code::kInvalidArgument, "unknown index kind " + std::to_string((uint32_t)cfg.kind));
}

}  // namespace

Index::Index(const IndexConfig& cfg) : cfg_(cfg) { vectors_.init(cfg.dim, cfg.metric, cfg.storage); }

Status Index::create(const IndexConfig& cfg, std::unique_ptr<Index>* out) {
  RAGWIRE_RETURN_IF_ERROR(cfg.validate());
  std::unique_ptr<Index> idx;
  RAGWIRE_RETURN_IF_ERROR(make(cfg, &idx));
  if (cfg.vectors == VectorPlacement::kDisk) RAGWIRE_RETURN_IF_ERROR(idx->vectors_.place_on_disk(cfg.vectors_path));
  RAGWIRE_RETURN_IF_ERROR(idx->attach_device());
  *out = std::move(idx);
  return Status::ok();
}

// Kinds with nothing on a device (bq) refuse a named device; flat and hnsw override this.
Status Index::attach_device() {
  switch (cfg_.device) {
    case DeviceChoice::kCpu:
    case DeviceChoice::kAuto: return Status::ok();  // nothing of this kind runs on a device yet
    case DeviceChoice::kOpenCl:
    case DeviceChoice::kCuda:
      return Status(Code::kInvalidArgument, std::string("device '") + device_name(cfg_.device) +
                                                "' runs flat search and hnsw builds; a " + kind_name(cfg_.kind) +
                                                " index runs on the CPU (use device 'cpu' or 'auto')");
  }
  return Status(Code::kInvalidArgument, "unknown device");
}

Status Index::validate_vectors(const float* v, size_t n, const char* what) const {
  size_t total = n * cfg_.dim;
  for (size_t i = 0; i < total; i++) {
    if (!std::isfinite(v[i]))
      return Status(Code::kNonFinite, std::string(what) + " " + std::to_string(i / cfg_.dim) +
                                          " holds a non-finite value at dimension " + std::to_string(i % cfg_.dim));
  }
  return Status::ok();
}

// Cosine works on unit vectors: normalise into scratch. Other metrics use v as is.
const float* Index::prepare(const float* v, size_t n, std::vector<float>& scratch) const {
  if (cfg_.metric != Metric::kCosine) return v;
  size_t dim = cfg_.dim;
  scratch.resize(n * dim);
  for (size_t i = 0; i < n; i++) {
    const float* src = v + i * dim;
    float* dst = scratch.data() + i * dim;
    double norm = 0;
    for (size_t d = 0; d < dim; d++) norm += (double)src[d] * src[d];
    float inv = norm > 0 ? (float)(1.0 / std::sqrt(norm)) : 0.f;
    for (size_t d = 0; d < dim; d++) dst[d] = src[d] * inv;
  }
  return scratch.data();
}

Status Index::add(const uint32_t* labels, const float* vectors, size_t n, ThreadPool& pool) {
  if (n == 0) return Status::ok();
  RAGWIRE_RETURN_IF_ERROR(validate_vectors(vectors, n, "vector"));
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (rows() + n > kMaxVectors)
    return Status(Code::kLimit, "an index holds at most " + std::to_string(kMaxVectors) + " vectors");
  std::unordered_set<uint32_t> batch;
  batch.reserve(n);
  for (size_t i = 0; i < n; i++) {
    uint32_t l = labels[i];
    if (l == kNoLabel)
      return Status(Code::kInvalidArgument, "label 4294967295 (0xFFFFFFFF) is reserved for empty result slots");
    if (ids_.count(l) || !batch.insert(l).second)
      return Status(Code::kDuplicateLabel,
                    "label " + std::to_string(l) + " is already in the index; remove it first to replace it");
  }
  std::vector<float> scratch;
  const float* rows_in = prepare(vectors, n, scratch);
  uint32_t first = (uint32_t)rows();
  if (!labels_.reserve(first + n) || !deleted_.reserve(first + n))
    return Status(Code::kLimit, "out of memory while adding " + std::to_string(n) + " vectors");
  Status appended = vectors_.append(rows_in, n);
  if (!appended.is_ok()) {
    // Rows the storage took before failing are not indexed: drop them so ids stay aligned.
    if (vectors_.size() != first) {
      std::vector<uint8_t> keep(vectors_.size(), 0);
      std::fill(keep.begin(), keep.begin() + first, 1);
      (void)vectors_.compact(keep.data());
    }
    return appended;
  }
  labels_.append(labels, n);
  deleted_.resize(first + n, 0);
  ids_.reserve(ids_.size() + n);
  for (size_t i = 0; i < n; i++) ids_.emplace(labels[i], first + (uint32_t)i);
  return index_rows(first, n, pool);
}

Status Index::search(const float* queries, size_t nq, size_t k, const SearchOptions& opts, uint32_t* out_labels,
                     float* out_scores, ThreadPool& pool) const {
  RAGWIRE_RETURN_IF_ERROR(kGuards.k.check("k", k));
  // 0 asks for the index's own value.
  if (opts.ef_search) RAGWIRE_RETURN_IF_ERROR(kGuards.ef_search.check("efSearch", opts.ef_search));
  if (opts.rerank_factor) RAGWIRE_RETURN_IF_ERROR(kGuards.rerank_factor.check("rerankFactor", opts.rerank_factor));
  RAGWIRE_RETURN_IF_ERROR(validate_vectors(queries, nq, "query"));
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<float> scratch;
  const float* q = prepare(queries, nq, scratch);
  std::vector<TopK> results(nq, TopK(k));
  Acceptor accept(deleted_.data(), deleted_count_, labels_.data(), &opts.filter);
  if (live() > 0 && opts.exact && !prepared_is_exact()) {
    uint32_t n = (uint32_t)rows();
    size_t dim = cfg_.dim;
    pool.parallel_for(nq, 1, [&](size_t b, size_t e, size_t) {
      for (size_t i = b; i < e; i++) scan_exact(q + i * dim, 0, n, accept, results[i]);
    });
  } else if (live() > 0) {
    RAGWIRE_RETURN_IF_ERROR(search_prepared(q, nq, k, opts, accept, results.data(), pool));
  }
  for (size_t i = 0; i < nq; i++) {
    std::vector<Hit>& hits = results[i].sorted();
    size_t j = 0;
    for (; j < hits.size() && j < k; j++) {
      out_labels[i * k + j] = labels_[hits[j].id];
      out_scores[i * k + j] = -hits[j].dist;  // distance -> "higher is closer"
    }
    for (; j < k; j++) {
      out_labels[i * k + j] = kNoLabel;
      out_scores[i * k + j] = -INFINITY;
    }
  }
  return Status::ok();
}

Status Index::remove(const uint32_t* labels, size_t n, size_t* removed) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    auto it = ids_.find(labels[i]);
    if (it == ids_.end()) continue;
    deleted_[it->second] = 1;
    ids_.erase(it);
    count++;
  }
  deleted_count_ += count;
  *removed = count;
  return Status::ok();
}

Status Index::compact(ThreadPool& pool) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (deleted_count_ == 0) return Status::ok();
  std::vector<uint8_t> keep(rows());
  size_t w = 0;
  for (size_t i = 0; i < rows(); i++) {
    keep[i] = !deleted_[i];
    if (keep[i]) labels_[w++] = labels_[i];
  }
  RAGWIRE_RETURN_IF_ERROR(vectors_.compact(keep.data()));
  labels_.resize(w);
  deleted_.clear();
  deleted_.resize(w, 0);
  deleted_count_ = 0;
  ids_.clear();
  for (size_t i = 0; i < w; i++) ids_.emplace(labels_[i], (uint32_t)i);
  return rebuild(pool);
}

Status Index::save(const std::string& path, const uint8_t* user_data, size_t user_len) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  Meta meta{cfg_.dim,
            (uint32_t)cfg_.metric,
            (uint32_t)cfg_.kind,
            (uint32_t)cfg_.storage,
            cfg_.hnsw.M,
            cfg_.hnsw.ef_construction,
            cfg_.hnsw.ef_search,
            cfg_.bq.rerank_factor,
            cfg_.hnsw.seed,
            rows(),
            deleted_count_};
  RAGWIRE_RETURN_IF_ERROR(vectors_.sync());
  SnapshotWriter w;
  w.add(kMeta, &meta, sizeof meta);
  w.add_array(kLabels, labels_, rows());
  w.add_array(kDeleted, deleted_, rows());
  if (user_data) w.add(kUser, user_data, user_len);
  vectors_.save(w);
  save_structure(w);
  return w.write(path);
}

Status Index::load(const std::string& path, std::unique_ptr<Index>* out, std::vector<uint8_t>* user_data,
                   DeviceChoice device, uint32_t device_tile_rows, const std::string& vectors_path) {
  std::unique_ptr<SnapshotReader> r;
  RAGWIRE_RETURN_IF_ERROR(SnapshotReader::open(path, &r));
  Meta* meta;
  size_t n;
  RAGWIRE_RETURN_IF_ERROR(r->view(kMeta, &meta, &n));
  if (n != 1) return Status(Code::kCorruptSnapshot, "snapshot header section has a bad size");
  IndexConfig cfg;
  cfg.dim = meta->dim;
  cfg.metric = (Metric)meta->metric;
  cfg.kind = (IndexKind)meta->kind;
  cfg.storage = (StorageKind)meta->storage;
  cfg.hnsw = {meta->M, meta->ef_construction, meta->ef_search, meta->seed};
  cfg.bq.rerank_factor = meta->rerank_factor;
  Status st = cfg.validate();
  if (!st.is_ok()) return Status(Code::kCorruptSnapshot, "snapshot holds an invalid configuration: " + st.message());
  if (meta->rows > kMaxVectors || meta->deleted > meta->rows)
    return Status(Code::kCorruptSnapshot, "snapshot counts are out of range");
  std::unique_ptr<Index> idx;
  RAGWIRE_RETURN_IF_ERROR(make(cfg, &idx));
  size_t rows = meta->rows;
  RAGWIRE_RETURN_IF_ERROR(r->borrow(kLabels, &idx->labels_, rows));
  RAGWIRE_RETURN_IF_ERROR(r->borrow(kDeleted, &idx->deleted_, rows));
  RAGWIRE_RETURN_IF_ERROR(idx->vectors_.load(*r, rows, vectors_path));
  if (idx->vectors_.on_disk()) {
    idx->cfg_.vectors = VectorPlacement::kDisk;
    idx->cfg_.vectors_path = idx->vectors_.vectors_path();
    if (device != DeviceChoice::kCpu)
      return Status(Code::kInvalidArgument, "an index with vectors on disk runs on the CPU (device 'cpu')");
  }
  idx->ids_.reserve(rows);
  size_t deleted = 0;
  for (size_t i = 0; i < rows; i++) {
    if (idx->deleted_[i]) {
      deleted++;
      continue;
    }
    if (idx->labels_[i] == kNoLabel || !idx->ids_.emplace(idx->labels_[i], (uint32_t)i).second)
      return Status(Code::kCorruptSnapshot, "snapshot holds a duplicate or reserved label");
  }
  if (deleted != meta->deleted)
    return Status(Code::kCorruptSnapshot, "snapshot tombstone count disagrees with its header");
  idx->deleted_count_ = deleted;
  RAGWIRE_RETURN_IF_ERROR(idx->load_structure(*r));
  idx->cfg_.device = device;
  idx->cfg_.device_tile_rows = device_tile_rows;
  RAGWIRE_RETURN_IF_ERROR(idx->attach_device());
  RAGWIRE_RETURN_IF_ERROR(idx->device_loaded());
  if (user_data) {
    user_data->clear();
    if (r->has(kUser)) {
      uint8_t* p;
      size_t len;
      RAGWIRE_RETURN_IF_ERROR(r->raw(kUser, &p, &len));
      user_data->assign(p, p + len);
    }
  }
  *out = std::move(idx);
  return Status::ok();
}

IndexStats Index::stats() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  IndexStats s;
  s.count = live();
  s.deleted = deleted_count_;
  s.memory_bytes = vectors_.bytes() + labels_.bytes() + deleted_.bytes() + structure_bytes() +
                   ids_.size() * (sizeof(uint32_t) * 2 + sizeof(void*) * 2);
  s.mapped_bytes = vectors_.mapped_bytes();
  s.max_level = max_level();
  device_stats(s);
  return s;
}

void Index::scan_exact(const float* q, uint32_t begin, uint32_t end, const Acceptor& accept, TopK& top) const {
  if (accept.everything()) {
    for (uint32_t id = begin; id < end; id++) top.push(vectors_.exact(q, id), id);
  } else {
    for (uint32_t id = begin; id < end; id++)
      if (accept(id)) top.push(vectors_.exact(q, id), id);
  }
}

void Index::scan_exact_ids(const float* q, const uint32_t* ids, size_t n, const Acceptor& accept, TopK& top) const {
  for (size_t i = 0; i < n; i++)
    if (accept(ids[i])) top.push(vectors_.exact(q, ids[i]), ids[i]);
}

std::vector<uint32_t> Index::ids_of_allowed(const AllowList& allow) const {
  std::vector<uint32_t> ids;
  if (allow.sorted) {
    ids.reserve(allow.sorted_len);
    for (size_t i = 0; i < allow.sorted_len; i++) {
      auto it = ids_.find(allow.sorted[i]);
      if (it != ids_.end()) ids.push_back(it->second);
    }
  } else {
    for (uint32_t id = 0; id < rows(); id++)
      if (!deleted_[id] && allow.allows(labels_[id])) ids.push_back(id);
  }
  return ids;
}

}  // namespace ragwire
