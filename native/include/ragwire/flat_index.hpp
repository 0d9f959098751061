// Exact search. Batches are computed in tiles: a block of queries sweeps a
// cache-sized tile of rows, so each row is read from memory once per block.
// Quantized storage scans the codes, then reranks the best on the f32 rows.
#pragma once
#include "ragwire/index.hpp"

namespace ragwire {

class FlatIndex final : public Index {
 public:
  explicit FlatIndex(const IndexConfig& cfg) : Index(cfg) {}

 protected:
  Status index_rows(uint32_t, size_t, ThreadPool&) override { return Status::ok(); }
  void search_prepared(const float* queries, size_t nq, size_t k, const SearchOptions& opts, const Acceptor& accept,
                       TopK* results, ThreadPool& pool) const override;
  Status rebuild(ThreadPool&) override { return Status::ok(); }
  void save_structure(SnapshotWriter&) const override {}
  Status load_structure(const SnapshotReader&) override { return Status::ok(); }
  size_t structure_bytes() const override { return 0; }

 private:
  void sweep(const float* queries, size_t nq, uint32_t begin, uint32_t end, const Acceptor& accept, TopK* tops) const;
  void rerank(const float* q, TopK& candidates, size_t k, TopK& out) const;
};

}  // namespace ragwire
