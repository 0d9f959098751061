// Hierarchical navigable small world graph (Malkov & Yashunin). Layer 0 links
// live in one flat array (2*M per node); upper layers in per-node lists. The
// build inserts in parallel with striped node locks and exact f32 distances;
// searches traverse on the stored codes, honour the allow-list during the
// traversal, and rerank on f32 where storage is quantized.
//
// With a device, a graph built from empty (the first add, a compaction) gets
// its base layer from exact k-nearest-neighbour lists computed on the device:
// the neighbour-selection heuristic on each list, reverse links merged and
// pruned by the same heuristic; its upper layers (1/M of the nodes) are
// inserted on the CPU (hnsw_device_build.cpp). Later adds insert on the CPU.
// Either way the result is an ordinary graph, searched on the CPU.
#pragma once
#include <atomic>
#include <functional>
#include <mutex>
#include <random>
#include <vector>

// The class's members are defined by job: hnsw_build.cpp (insert, link selection, relinking),
// hnsw_search.cpp (descent and layer-0 search), hnsw_persist.cpp (snapshot sections) and
// hnsw_device_build.cpp (a base layer from device kNN lists).
#include "ragwire/device_flat.hpp"
#include "ragwire/index.hpp"

namespace ragwire {

class HnswIndex final : public Index {
 public:
  explicit HnswIndex(const IndexConfig& cfg);

 protected:
  Status index_rows(uint32_t first, size_t n, ThreadPool& pool) override;
  Status search_prepared(const float* queries, size_t nq, size_t k, const SearchOptions& opts, const Acceptor& accept,
                         TopK* results, ThreadPool& pool) const override;
  Status rebuild(ThreadPool& pool) override;
  void save_structure(SnapshotWriter& w) const override;
  Status load_structure(const SnapshotReader& r) override;
  size_t structure_bytes() const override;
  int max_level() const override { return entry_ == kNone ? -1 : max_level_; }
  Status attach_device() override;
  void device_stats(IndexStats& s) const override;

 private:
  static constexpr uint32_t kNone = 0xffffffffu;
  struct Visited;
  class VisitedPool;

  uint32_t* links0(uint32_t id) { return links0_.data() + (size_t)id * (M0_ + 1); }
  const uint32_t* links0(uint32_t id) const { return links0_.data() + (size_t)id * (M0_ + 1); }
  uint32_t* links(uint32_t id, int level) {
    return level == 0 ? links0(id) : upper_[id].data() + (size_t)(level - 1) * (M_ + 1);
  }
  const uint32_t* links(uint32_t id, int level) const {
    return level == 0 ? links0(id) : upper_[id].data() + (size_t)(level - 1) * (M_ + 1);
  }
  uint32_t max_links(int level) const { return level == 0 ? M0_ : M_; }
  // The inline copies of node id's layer-0 neighbours' codes, in the order of its link list
  // (HnswParams::inline_codes): M0_ rows of vectors_.inline_row_bytes().
  const uint8_t* inline0(uint32_t id) const { return inline0_.data() + (size_t)id * M0_ * vectors_.inline_row_bytes(); }
  uint8_t* inline0(uint32_t id) { return inline0_.data() + (size_t)id * M0_ * vectors_.inline_row_bytes(); }
  std::mutex& lock_of(uint32_t id) const { return stripes_[id & (kStripes - 1)]; }

  int random_level();
  // Inserts rows [first, first + n) on the CPU (index_rows without a device build).
  Status insert_rows(uint32_t first, size_t n, ThreadPool& pool);
  // During an add with inline codes: node id's layer-0 list changed, its inline copies must follow.
  void touch(uint32_t id) {
    if (touched_) touched_[id >> 3].fetch_or((uint8_t)(1u << (id & 7)), std::memory_order_relaxed);
  }
  // Brings the inline copies of nodes [0, total) up to date after an add of rows [first, total): the
  // new nodes, the touched ones, or every node when the codes were re-encoded. Serial without a pool.
  Status update_inline(uint32_t first, size_t total, ThreadPool* pool);
  // Links a node into layers min(level, top) .. bottom (a device build inserts its upper layers only).
  void insert(uint32_t id, int level, int bottom = 0);
  // Builds every layer of the graph over rows [0, total) from device kNN lists.
  Status build_on_device(size_t total, ThreadPool& pool);
  // Links layer 0 from every node's kNN list.
  void link_base_layer(std::vector<TopK>& knn, ThreadPool& pool);
  // Beam search on one layer with exact distances, for the build.
  void search_layer_build(const float* q, uint32_t entry, int level, uint32_t ef, std::vector<Hit>& out) const;
  void select_neighbors(std::vector<Hit>& candidates, uint32_t m) const;
  void connect(uint32_t from, uint32_t to, int level);
  void set_links(uint32_t id, int level, std::vector<Hit>& chosen);
  // Marks layer-0 link targets that pruning dropped from `before` (the list
  // before pruning) and that are not in `kept`: each may have lost its last in-link.
  void mark_dropped(const uint32_t* before, uint32_t n, uint32_t extra, const std::vector<Hit>& kept);
  // After an add: a marked node that none of its own neighbours links back to
  // gets a link from its nearest neighbour with room, so searches can reach it.
  void relink_orphans(size_t total);
  // Who walks the graph. A build walks a graph that other inserters are writing (under their node
  // locks, on exact f32 distances); a search walks one nobody writes (the index's reader lock is
  // held) on the stored codes.
  enum class Walk { kBuild, kSearch };
  // Greedy descent from `ep` on layer `top` through the layers above `bottom`: the entry point
  // for layer `bottom` (hnsw_search.cpp).
  template <Walk walk>
  uint32_t descend(const QueryCodes& q, uint32_t ep, int top, int bottom) const;
  // What a filtered walk met: the nodes it queued, and how many it had queued when its beam first
  // held ef allowed ones (0: never).
  struct WalkCount {
    uint32_t queued = 0, filled = 0;
  };
  void search_one(const float* q, size_t k, uint32_t ef, const Acceptor& accept, TopK& out,
                  WalkCount* count = nullptr) const;
  // A filtered walk, widened (or replaced by a scan of `scan_ids()`, the allowed rows) when it meets
  // allowed nodes much later than the filter's share of the collection predicts (hnsw_search.cpp).
  void search_filtered(const float* q, size_t k, uint32_t ef, double selectivity, size_t allowed,
                       const Acceptor& accept, const std::function<const std::vector<uint32_t>&()>& scan_ids,
                       TopK& out) const;

  uint32_t M_, M0_;
  double level_mult_;
  std::mt19937_64 rng_;
  PodArray<uint32_t> links0_;
  PodArray<uint8_t> levels_;
  std::vector<std::vector<uint32_t>> upper_;
  uint32_t entry_ = kNone;
  int max_level_ = -1;
  std::mutex entry_mu_;
  static constexpr size_t kStripes = 4096;
  mutable std::unique_ptr<std::mutex[]> stripes_;
  std::unique_ptr<VisitedPool> visited_;
  // One bit per row during an add: dropped from some layer-0 list by pruning.
  std::unique_ptr<std::atomic<uint8_t>[]> dropped_;
  // One bit per row during an add with inline codes: its layer-0 list changed.
  std::unique_ptr<std::atomic<uint8_t>[]> touched_;
  PodArray<uint8_t> inline0_;           // inline codes, per node (empty unless HnswParams::inline_codes)
  uint64_t inline_encodings_ = 0;       // vectors_.encodings() when inline0_ was last brought up to date
  std::unique_ptr<DeviceFlat> device_;  // null: the CPU builds
  std::string device_name_;             // the device that built the graph, for stats()
};

}  // namespace ragwire
