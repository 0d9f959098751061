// Binary quantization (sign-LSH): one bit per dimension, the sign of the value
// minus the dimension's mean. Search ranks every code by Hamming distance
// (popcount), then reranks the best k * rerankFactor exactly on f32.
#pragma once
#include "ragwire/index.hpp"

namespace ragwire {

class BqIndex final : public Index {
 public:
  explicit BqIndex(const IndexConfig& cfg) : Index(cfg), words_((cfg.dim + 63) / 64) {}

 protected:
  Status index_rows(uint32_t first, size_t n, ThreadPool& pool) override;
  Status search_prepared(const float* queries, size_t nq, size_t k, const SearchOptions& opts, const Acceptor& accept,
                         TopK* results, ThreadPool& pool) const override;
  Status rebuild(ThreadPool& pool) override;
  void save_structure(SnapshotWriter& w) const override;
  Status load_structure(const SnapshotReader& r) override;
  size_t structure_bytes() const override { return codes_.bytes() + mean_.bytes(); }

 private:
  void encode(const float* v, uint64_t* code) const;
  void search_one(const float* q, size_t k, size_t candidates, const Acceptor& accept, TopK& out) const;

  size_t words_;
  PodArray<float> mean_;      // per-dimension centre, fixed by the first rows added
  PodArray<uint64_t> codes_;  // words_ per row
};

}  // namespace ragwire
