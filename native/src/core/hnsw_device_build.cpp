// An HNSW graph whose base layer comes from device-computed exact k-nearest-
// neighbour lists (the route cuVS takes from CAGRA to HNSW): batched exact
// searches on the device give every node its nearest among the nodes inserted
// before it (in doubling batches); the paper's neighbour-selection heuristic
// keeps a diverse few; reverse links are merged in and pruned by the same
// heuristic, so the layer is navigable both ways; orphans are relinked as
// after a CPU add. The upper layers, 1/M of the nodes, are inserted on the
// CPU. Levels are drawn exactly as the CPU build draws them.
#include <algorithm>

#include "ragwire/hnsw_index.hpp"

namespace ragwire {

namespace {
constexpr size_t kFirstBatch = 1024;  // nodes whose candidates are among themselves only
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

// Layer 0 from kNN lists computed on the device. Node i's candidates: its nearest among all nodes,
// and its nearest among the nodes up to the end of its batch in insertion order, batches doubling
// (1,024 nodes, then as many again as are done), so early nodes get the far neighbours, the long
// links, a CPU build's early inserts make. The all-nodes lists alone link within clusters only and
// lost 0.08 recall@10 on 200k x 768 with 1,000 clusters (H200); the batch lists alone lost 0.012
// at efSearch 10 on bigann10k.
// The upper layers (1/M of the nodes) are inserted on the CPU, as a CPU build inserts them.
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
  if (total >= 2) {
    // As many candidates as a CPU insertion weighs (efConstruction), itself included.
    size_t want = std::min({std::max<size_t>(cfg_.hnsw.ef_construction, 2 * (size_t)M0_) + 1, DeviceFlat::kMaxK});
    std::vector<TopK> knn(total), near(total, TopK(std::min(want, total)));
    Acceptor all(nullptr, 0, labels_.data(), nullptr);
    RAGWIRE_RETURN_IF_ERROR(device_->sync(vectors_, total));
    // Every node's nearest among all nodes (the local links)...
    Status st = device_->search(vectors_, total, vectors_.row(0), total, std::min(want, total),
                                std::min(want, total) + 8, all, near.data(), pool);
    // ...and among the nodes before it, batch by batch (the long links of early nodes).
    for (size_t begin = 0; begin < total && st.is_ok();) {
      size_t end = std::min(total, begin == 0 ? kFirstBatch : 2 * begin);
      size_t k = std::min(want, end);
      for (size_t i = begin; i < end; i++) knn[i].reset(2 * k);
      st = device_->search(vectors_, end, vectors_.row((uint32_t)begin), end - begin, k, k + 8, all, knn.data() + begin,
                           pool);
      begin = end;
    }
    device_->release();
    RAGWIRE_RETURN_IF_ERROR(st);
    pool.parallel_for(total, 256, [&](size_t b, size_t e, size_t) {
      for (size_t i = b; i < e; i++) {
        std::vector<Hit> mine(knn[i].items());
        for (const Hit& h : near[i].items()) {
          bool dup = false;
          for (const Hit& m : mine) dup = dup || m.id == h.id;
          if (!dup) knn[i].push(h.dist, h.id);
        }
        near[i].reset(0);
      }
    });
    link_base_layer(knn, pool);
  }
  entry_ = upper_ids.empty() ? 0 : kNone;
  max_level_ = upper_ids.empty() ? 0 : -1;
  pool.parallel_for(upper_ids.size(), 8, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) insert(upper_ids[i], levels_[upper_ids[i]], 1);
  });
  // Pruning reverse links can leave a node that none of its neighbours links back to: relink as a CPU add does.
  dropped_.reset(new std::atomic<uint8_t>[(total + 7) / 8]());
  for (size_t i = 0; i < total; i++) dropped_[i >> 3].fetch_or((uint8_t)(1u << (i & 7)), std::memory_order_relaxed);
  relink_orphans(total);
  dropped_.reset();
  return Status::ok();
}

}  // namespace ragwire
