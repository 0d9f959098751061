// An HNSW graph whose base layer comes from device-computed exact k-nearest-
// neighbour lists (the route cuVS takes from CAGRA to HNSW): one batched exact
// search on the device gives every node's nearest; the paper's neighbour-
// selection heuristic keeps a diverse few; reverse links are merged in and
// pruned by the same heuristic, so the layer is navigable both ways; orphans
// are relinked as after a CPU add. The upper layers, 1/M of the nodes, are
// inserted on the CPU. Levels are drawn exactly as the CPU build draws them.
#include <algorithm>

#include "ragwire/hnsw_index.hpp"

namespace ragwire {

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

void HnswIndex::link_base_layer(std::vector<TopK>& knn, ThreadPool& pool) {
  size_t n = knn.size();
  std::vector<std::vector<Hit>> chosen(n);
  // Forward: the heuristic over each node's nearest (itself excluded) keeps M, as a CPU insertion
  // does for a new node; reverse links then fill each list up to 2M.
  pool.parallel_for(n, 64, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) {
      std::vector<Hit>& c = chosen[i];
      for (const Hit& h : knn[i].sorted())
        if (h.id != i) c.push_back(h);
      knn[i].reset(0);
      select_neighbors(c, M_);
    }
  });
  // Reverse: every kept edge u -> v offers u to v (these distances are symmetric).
  std::vector<std::vector<Hit>> reverse(n);
  for (size_t i = 0; i < n; i++)
    for (const Hit& h : chosen[i]) reverse[h.id].push_back({h.dist, (uint32_t)i});
  pool.parallel_for(n, 64, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) {
      std::vector<Hit>& c = chosen[i];
      for (const Hit& r : reverse[i]) {
        bool dup = false;
        for (const Hit& h : c) dup = dup || h.id == r.id;
        if (!dup) c.push_back(r);
      }
      select_neighbors(c, M0_);
      uint32_t* l = links0((uint32_t)i);
      l[0] = (uint32_t)c.size();
      for (size_t j = 0; j < c.size(); j++) l[1 + j] = c[j].id;
    }
  });
}

// Layer 0 from the device's kNN lists, the upper layers inserted on the CPU. A kNN graph of
// clustered data links within clusters only: built that way alone, the upper layers routed
// searches into the wrong cluster and layer 0 could not leave it (recall@10 0.25, then 0.89 with
// CPU-inserted upper layers, vs 0.998 for a CPU build; 200k x 768, 1000 clusters, on an H200).
// So the upper nodes (1/M of all) are first inserted on the CPU into every layer, 0 included,
// as a small ordinary HNSW; after layer 0 is rebuilt from the kNN lists, each upper node keeps
// up to M/2 of those first layer-0 links: the long links a CPU build's early inserts make.
Status HnswIndex::build_on_device(size_t total, ThreadPool& pool) {
  if (!links0_.resize(total * (M0_ + 1), 0) || !levels_.resize(total, 0))
    return Status(Code::kLimit, "out of memory while growing the graph");
  upper_.assign(total, {});
  std::vector<uint32_t> upper_ids;
  for (size_t i = 0; i < total; i++) {
    int level = random_level();
    levels_[i] = (uint8_t)level;
    if (level > 0) {
      upper_[i].assign((size_t)level * (M_ + 1), 0);
      upper_ids.push_back((uint32_t)i);
    }
  }
  dropped_.reset(new std::atomic<uint8_t>[(total + 7) / 8]());
  pool.parallel_for(upper_ids.size(), 8, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) insert(upper_ids[i], levels_[upper_ids[i]], 0);
  });
  if (upper_ids.empty()) {
    entry_ = 0;
    max_level_ = 0;
  }
  std::vector<uint32_t> long_links(upper_ids.size() * (size_t)M0_);
  for (size_t u = 0; u < upper_ids.size(); u++) {
    const uint32_t* l = links0(upper_ids[u]);
    std::copy_n(l + 1, l[0], long_links.data() + u * M0_);
    if (l[0] < M0_) long_links[u * M0_ + l[0]] = kNone;
  }
  if (total >= 2) {
    // As many candidates as a CPU insertion weighs (efConstruction), itself included.
    size_t want = std::min({total, std::max<size_t>(cfg_.hnsw.ef_construction, 2 * (size_t)M0_) + 1, DeviceFlat::kMaxK});
    std::vector<TopK> knn(total, TopK(want));
    Acceptor all(nullptr, 0, labels_.data(), nullptr);
    RAGWIRE_RETURN_IF_ERROR(device_->sync(vectors_, total));
    Status st = device_->search(vectors_, total, vectors_.row(0), total, want, want + 8, all, knn.data(), pool);
    device_->release();
    RAGWIRE_RETURN_IF_ERROR(st);
    link_base_layer(knn, pool);
  }
  const uint32_t keep_long = std::max<uint32_t>(1, M_ / 2);
  pool.parallel_for(upper_ids.size(), 64, [&](size_t b, size_t e, size_t) {
    for (size_t u = b; u < e; u++) {
      uint32_t* l = links0(upper_ids[u]);
      uint32_t added = 0;
      for (uint32_t j = 0; j < M0_ && added < keep_long; j++) {
        uint32_t id = long_links[u * M0_ + j];
        if (id == kNone) break;
        bool present = false;
        for (uint32_t x = 1; x <= l[0] && !present; x++) present = l[x] == id;
        if (present) continue;
        // Append while there is room, else replace the farthest kept kNN links (the list is sorted).
        if (l[0] < M0_) l[++l[0]] = id;
        else l[M0_ - added] = id;
        added++;
      }
    }
  });
  // Pruning reverse links can leave a node that none of its neighbours links back to: relink as a CPU add does.
  for (size_t i = 0; i < total; i++) dropped_[i >> 3].fetch_or((uint8_t)(1u << (i & 7)), std::memory_order_relaxed);
  relink_orphans(total);
  dropped_.reset();
  return Status::ok();
}

}  // namespace ragwire
