// An HNSW graph built from device-computed exact k-nearest-neighbour lists
// (the route cuVS and Qdrant take to GPU-built HNSW): per layer, every node's
// kNN list among the nodes of that layer comes from one batched exact search
// on the device; the paper's neighbour-selection heuristic keeps a diverse
// few; reverse links are merged in and pruned by the same heuristic, so the
// graph is navigable in both directions; orphans are relinked as after a CPU
// add. Levels are drawn exactly as the CPU build draws them.
#include <algorithm>

#include "ragwire/hnsw_index.hpp"

namespace ragwire {

namespace {
// Candidates per node: at least this many, and at least twice the links kept.
constexpr size_t kMinCandidates = 64;
}  // namespace

Status HnswIndex::attach_device() {
  if (cfg_.device == DeviceChoice::kCpu) return Status::ok();
  RAGWIRE_RETURN_IF_ERROR(DeviceFlat::open(cfg_, &device_));
  if (device_) device_name_ = device_->info().name;
  return Status::ok();
}

void HnswIndex::device_stats(IndexStats& s) const {
  if (!device_) return;
  s.device = device_name_;
  s.device_kind = device_kind_name(device_->info().kind);
  s.device_memory_bytes = device_->memory_bytes();
}

void HnswIndex::link_layer(const std::vector<uint32_t>& ids, int level, std::vector<TopK>& knn, ThreadPool& pool) {
  size_t n = ids.size();
  uint32_t m = max_links(level);
  std::vector<std::vector<Hit>> chosen(n);
  // Forward: the heuristic over each node's nearest (itself excluded).
  pool.parallel_for(n, 64, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) {
      std::vector<Hit>& c = chosen[i];
      for (const Hit& h : knn[i].sorted())
        if (h.id != i) c.push_back({h.dist, ids[h.id]});
      knn[i].reset(0);
      select_neighbors(c, m);
    }
  });
  // Reverse: every kept edge u -> v offers u to v (these distances are symmetric).
  std::vector<uint32_t> local_of;  // global id -> index in ids (upper layers are sparse)
  auto local = [&](uint32_t g) -> size_t { return level == 0 ? g : local_of[g]; };
  if (level > 0) {
    local_of.assign(rows(), 0);
    for (size_t i = 0; i < n; i++) local_of[ids[i]] = (uint32_t)i;
  }
  std::vector<std::vector<Hit>> reverse(n);
  for (size_t i = 0; i < n; i++)
    for (const Hit& h : chosen[i]) reverse[local(h.id)].push_back({h.dist, ids[i]});
  pool.parallel_for(n, 64, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) {
      std::vector<Hit>& c = chosen[i];
      for (const Hit& r : reverse[i]) {
        bool dup = false;
        for (const Hit& h : c) dup = dup || h.id == r.id;
        if (!dup) c.push_back(r);
      }
      select_neighbors(c, m);
      uint32_t* l = links(ids[i], level);
      l[0] = (uint32_t)c.size();
      for (size_t j = 0; j < c.size(); j++) l[1 + j] = c[j].id;
    }
  });
}

Status HnswIndex::build_on_device(size_t total, ThreadPool& pool) {
  if (!links0_.resize(total * (M0_ + 1), 0) || !levels_.resize(total, 0))
    return Status(Code::kLimit, "out of memory while growing the graph");
  upper_.assign(total, {});
  int top = -1;
  uint32_t entry = kNone;
  for (size_t i = 0; i < total; i++) {
    int level = random_level();
    levels_[i] = (uint8_t)level;
    if (level > 0) upper_[i].assign((size_t)level * (M_ + 1), 0);
    if (level > top) {
      top = level;
      entry = (uint32_t)i;
    }
  }
  Acceptor all(nullptr, 0, labels_.data(), nullptr);
  for (int level = 0; level <= top; level++) {
    std::vector<uint32_t> ids;
    for (size_t i = 0; i < total; i++)
      if (levels_[i] >= level) ids.push_back((uint32_t)i);
    if (ids.size() < 2) continue;
    size_t want = std::min(ids.size(), std::max<size_t>(kMinCandidates, 2 * (size_t)max_links(level)) + 1);
    want = std::min(want, DeviceFlat::kMaxK);
    std::vector<TopK> knn(ids.size(), TopK(want));
    if (level == 0) {
      RAGWIRE_RETURN_IF_ERROR(device_->sync(vectors_, total));
      RAGWIRE_RETURN_IF_ERROR(device_->search(vectors_, total, vectors_.row(0), total, want, want + 8, all, knn.data(), pool));
      device_->release();
    } else {
      // The layer's nodes, gathered into a small f32 store of their own.
      std::vector<float> rows(ids.size() * (size_t)cfg_.dim);
      for (size_t i = 0; i < ids.size(); i++) std::copy_n(vectors_.row(ids[i]), cfg_.dim, rows.data() + i * cfg_.dim);
      VectorStorage layer;
      layer.init(cfg_.dim, cfg_.metric, StorageKind::kF32);
      if (!layer.append(rows.data(), ids.size())) return Status(Code::kLimit, "out of memory while building an upper layer");
      IndexConfig f32 = cfg_;
      f32.storage = StorageKind::kF32;
      f32.device_tile_rows = 0;
      std::unique_ptr<DeviceFlat> dev;
      RAGWIRE_RETURN_IF_ERROR(DeviceFlat::open(f32, &dev));
      if (!dev) return Status(Code::kInternal, "the device went away during a graph build");
      RAGWIRE_RETURN_IF_ERROR(dev->sync(layer, ids.size()));
      RAGWIRE_RETURN_IF_ERROR(dev->search(layer, ids.size(), rows.data(), ids.size(), want, want + 8, all, knn.data(), pool));
    }
    link_layer(ids, level, knn, pool);
  }
  entry_ = entry;
  max_level_ = top;
  // Pruning reverse links can leave a node that none of its neighbours links back to: relink as a CPU add does.
  dropped_.reset(new std::atomic<uint8_t>[(total + 7) / 8]());
  for (size_t i = 0; i < total; i++) dropped_[i >> 3].fetch_or((uint8_t)(1u << (i & 7)), std::memory_order_relaxed);
  relink_orphans(total);
  dropped_.reset();
  return Status::ok();
}

}  // namespace ragwire
