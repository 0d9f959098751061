// Exact (flat) search on a device. The rows stay resident on the device,
// appended as they are added and re-uploaded after a compaction; a base with
// more rows than one tile is streamed from host memory tile by tile. Queries
// run in blocks: the distance kernel fills a block x chunk matrix, and the
// selection kernel merges each query's best `keep` into a running list on the
// device. The host then rescores those candidates with the CPU's exact f32
// kernels, so scores equal the CPU engine's and f16 gets its f32 rerank.
#pragma once
#include <memory>
#include <mutex>

#include "ragwire/device.hpp"
#include "ragwire/index.hpp"

namespace ragwire {

class DeviceFlat {
 public:
  // Most candidates a device pass keeps per query (k, or k x rerankFactor for f16).
  static constexpr uint32_t kMaxKeep = 4096;
  // Largest k a device search answers.
  static constexpr size_t kMaxK = 1024;

  // Opens the device for an index; *out stays empty when the choice lands on the CPU.
  static Status open(const IndexConfig& cfg, std::unique_ptr<DeviceFlat>* out);
  ~DeviceFlat();

  // Uploads rows [uploaded, rows) of storage (all of them after reset()).
  Status sync(const VectorStorage& storage, size_t rows);
  // The next sync re-uploads every row (after compaction renumbered them).
  void reset();
  // Frees every device buffer (a graph build is done with the rows).
  void release();
  // Exact top-k of nq prepared queries over rows [0, rows) (rows <= those synced) into results
  // (each reset to capacity k by the caller). `keep` candidates per query
  // come back from the device for the f32 rescoring.
  Status search(const VectorStorage& storage, size_t rows, const float* queries, size_t nq, size_t k, size_t keep,
                const Acceptor& accept, TopK* results, ThreadPool& pool);

  const DeviceInfo& info() const { return backend_->info(); }
  size_t memory_bytes() const;
  size_t tile_rows() const { return tile_rows_; }

 private:
  DeviceFlat(const IndexConfig& cfg, std::unique_ptr<DeviceBackend> backend)
      : cfg_(cfg), backend_(std::move(backend)) {}
  size_t row_bytes() const { return (size_t)cfg_.dim * code_bytes(cfg_.storage); }
  bool needs_norms() const { return cfg_.metric == Metric::kL2; }
  // Grows buffer b to at least `bytes` (keeping its first `keep_bytes` when asked).
  Status ensure(DeviceBuffer* b, size_t bytes, size_t keep_bytes = 0);
  // Writes rows [first, first + n) of storage (codes and norms) at row `at` of rows/norms.
  Status upload_rows(const VectorStorage& storage, size_t first, size_t n, DeviceBuffer* rows, DeviceBuffer* norms,
                     size_t at);
  Status run_tile(size_t nq, size_t id0, size_t n, const DeviceBuffer& rows, const DeviceBuffer* norms, bool masked,
                  uint32_t keep);
  void free_all();

  IndexConfig cfg_;
  std::unique_ptr<DeviceBackend> backend_;
  std::mutex mu_;  // searches share the work buffers
  size_t tile_rows_ = 0;
  size_t uploaded_ = 0;
  bool streaming_ = false;
  DeviceBuffer rows_, norms_;             // resident rows, or the streamed tile
  DeviceBuffer queries_, qnorms_, mask_;  // per search
  DeviceBuffer dist_;                     // query block x chunk
  DeviceBuffer best_dist_, best_id_, scratch_dist_, scratch_id_;
};

}  // namespace ragwire
