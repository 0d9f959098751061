// Exact search. Batches are computed in tiles: a block of queries sweeps a
// cache-sized tile of rows, so each row is read from memory once per block.
// Quantized storage scans the codes, then reranks the best on the f32 rows.
#pragma once
#include "ragwire/device_flat.hpp"
#include "ragwire/index.hpp"

namespace ragwire {

class FlatIndex final : public Index {
 public:
  explicit FlatIndex(const IndexConfig& cfg) : Index(cfg) {}

 protected:
  Status attach_device() override { return DeviceFlat::open(cfg_, &device_); }
  // A device keeps its copy of the rows in step with every add and compaction.
  Status index_rows(uint32_t, size_t, ThreadPool&) override {
    return device_ ? device_->sync(vectors_, rows()) : Status::ok();
  }
  Status search_prepared(const float* queries, size_t nq, size_t k, const SearchOptions& opts, const Acceptor& accept,
                         TopK* results, ThreadPool& pool) const override;
  Status rebuild(ThreadPool&) override {
    if (!device_) return Status::ok();
    device_->reset();
    return device_->sync(vectors_, rows());
  }
  void device_stats(IndexStats& s) const override;
  Status device_loaded() override { return device_ ? device_->sync(vectors_, rows()) : Status::ok(); }
  bool prepared_is_exact() const override { return device_ != nullptr && !vectors_.quantized(); }
  void save_structure(SnapshotWriter&) const override {}
  Status load_structure(const SnapshotReader&) override { return Status::ok(); }
  size_t structure_bytes() const override { return 0; }

 private:
  void sweep(const float* queries, size_t nq, uint32_t begin, uint32_t end, const Acceptor& accept, TopK* tops) const;
  void rerank(const float* q, TopK& candidates, size_t k, TopK& out) const;

  std::unique_ptr<DeviceFlat> device_;  // null: the CPU scans
};

}  // namespace ragwire
