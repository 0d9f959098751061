// An index over labelled vectors. The base class owns what every kind shares:
// labels, tombstones, vector storage, validation, locking, query preparation,
// result conversion and snapshots. Kinds (flat, hnsw, bq) add their structure.
//
// Concurrency: searches share a reader lock; add/remove/compact take the
// writer lock (an add builds in parallel on the pool while holding it).
#pragma once
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ragwire/config.hpp"
#include "ragwire/pod_array.hpp"
#include "ragwire/snapshot.hpp"
#include "ragwire/status.hpp"
#include "ragwire/thread_pool.hpp"
#include "ragwire/top_k.hpp"
#include "ragwire/vector_storage.hpp"

namespace ragwire {

struct IndexStats {
  size_t count = 0;
  size_t deleted = 0;
  size_t memory_bytes = 0;  // held in memory: codes, graph, labels (and the f32 rows when not on disk)
  size_t mapped_bytes = 0;  // f32 rows in the mapped vector file (vectors on disk)
  int max_level = -1;
  std::string device = "cpu";  // where flat search runs: "cpu" or the device's name
  std::string device_kind = "cpu";
  size_t device_memory_bytes = 0;  // held on the device (rows, norms, work buffers)
};

// Which internal ids a search may return: live, and allowed by the filter.
class Acceptor {
 public:
  Acceptor(const uint8_t* deleted, size_t deleted_count, const uint32_t* labels, const AllowList* allow)
      : deleted_(deleted_count ? deleted : nullptr),
        labels_(labels),
        allow_(allow && allow->active() ? allow : nullptr) {}
  bool everything() const { return !deleted_ && !allow_; }
  bool operator()(uint32_t id) const {
    if (deleted_ && deleted_[id]) return false;
    return !allow_ || allow_->allows(labels_[id]);
  }

 private:
  const uint8_t* deleted_;
  const uint32_t* labels_;
  const AllowList* allow_;
};

class Index {
 public:
  virtual ~Index() = default;
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  static Status create(const IndexConfig& cfg, std::unique_ptr<Index>* out);
  // `device` (a runtime choice, not saved in the snapshot) opens a device for the loaded index.
  // `vectors_path` overrides where a disk-resident snapshot's vector file is (empty: where it was saved).
  static Status load(const std::string& path, std::unique_ptr<Index>* out, std::vector<uint8_t>* user_data,
                     DeviceChoice device = DeviceChoice::kCpu, uint32_t device_tile_rows = 0,
                     const std::string& vectors_path = std::string());

  // vectors: n rows of dim floats. All-or-nothing: a bad row or label changes nothing.
  Status add(const uint32_t* labels, const float* vectors, size_t n, ThreadPool& pool);
  // Writes nq*k labels and scores (higher = more similar), empty slots kNoLabel / -inf.
  Status search(const float* queries, size_t nq, size_t k, const SearchOptions& opts, uint32_t* out_labels,
                float* out_scores, ThreadPool& pool) const;
  Status remove(const uint32_t* labels, size_t n, size_t* removed);
  Status compact(ThreadPool& pool);
  Status save(const std::string& path, const uint8_t* user_data, size_t user_len) const;

  IndexStats stats() const;
  const IndexConfig& config() const { return cfg_; }

 protected:
  explicit Index(const IndexConfig& cfg);

  // Indexes the rows [first, first + n) just appended to storage.
  virtual Status index_rows(uint32_t first, size_t n, ThreadPool& pool) = 0;
  // Opens the device cfg_.device names (create() and load() call it once).
  virtual Status attach_device();
  // After load(): hands the loaded rows to the device.
  virtual Status device_loaded() { return Status::ok(); }
  // Searches prepared queries (normalised for cosine), filling one TopK each (capacity k).
  virtual Status search_prepared(const float* queries, size_t nq, size_t k, const SearchOptions& opts,
                                 const Acceptor& accept, TopK* results, ThreadPool& pool) const = 0;
  // Rebuilds the kind's structure after compaction renumbered the rows.
  virtual Status rebuild(ThreadPool& pool) = 0;
  virtual void save_structure(SnapshotWriter& w) const = 0;
  virtual Status load_structure(const SnapshotReader& r) = 0;
  virtual size_t structure_bytes() const = 0;
  virtual int max_level() const { return -1; }
  virtual void device_stats(IndexStats&) const {}
  // True when search_prepared is already an exact f32 scan (answers `exact` searches too).
  virtual bool prepared_is_exact() const { return false; }

  // Exact scan of ids [begin, end) (or of the listed ids) into top.
  void scan_exact(const float* q, uint32_t begin, uint32_t end, const Acceptor& accept, TopK& top) const;
  void scan_exact_ids(const float* q, const uint32_t* ids, size_t n, const Acceptor& accept, TopK& top) const;
  // Ids of the labels an allow-list names (sorted form), skipping unknown ones.
  std::vector<uint32_t> ids_of_allowed(const AllowList& allow) const;
  size_t rows() const { return labels_.size(); }
  size_t live() const { return labels_.size() - deleted_count_; }
  uint32_t rerank_factor(const SearchOptions& opts) const {
    return opts.rerank_factor ? opts.rerank_factor : cfg_.bq.rerank_factor;
  }

  IndexConfig cfg_;
  VectorStorage vectors_;
  PodArray<uint32_t> labels_;  // id -> label
  PodArray<uint8_t> deleted_;  // id -> tombstone
  size_t deleted_count_ = 0;
  std::unordered_map<uint32_t, uint32_t> ids_;  // live label -> id
  mutable std::shared_mutex mu_;

 private:
  Status validate_vectors(const float* v, size_t n, const char* what) const;
  const float* prepare(const float* v, size_t n, std::vector<float>& scratch) const;
};

}  // namespace ragwire
