#include "ragwire/flat_index.hpp"

#include <algorithm>

namespace ragwire {

namespace {
constexpr size_t kQueryBlock = 8;
constexpr size_t kTileBytes = 192 * 1024;  // a tile of rows that stays in L2 while a query block sweeps it
}  // namespace

// Distances of a query block against rows [begin, end), tile by tile.
void FlatIndex::sweep(const float* queries, size_t nq, uint32_t begin, uint32_t end, const Acceptor& accept,
                      TopK* tops) const {
  size_t dim = cfg_.dim;
  size_t row_bytes = dim * code_bytes(cfg_.storage);
  uint32_t tile = (uint32_t)std::max<size_t>(16, kTileBytes / row_bytes);
  bool all = accept.everything();
  thread_local QueryCodes prepared[kQueryBlock];  // buffers kept per thread
  for (size_t qi = 0; qi < nq; qi++) vectors_.prepare(queries + qi * dim, prepared[qi]);
  for (uint32_t t0 = begin; t0 < end; t0 += tile) {
    uint32_t t1 = std::min<uint32_t>(end, t0 + tile);
    for (size_t qi = 0; qi < nq; qi++) {
      const QueryCodes& q = prepared[qi];
      TopK& top = tops[qi];
      auto push = [&top](uint32_t id, float d) {
        if (d < top.bound()) top.push(d, id);
      };
      if (all)
        vectors_.scan(
            q, t0, t1, [](uint32_t) { return true; }, push);
      else
        vectors_.scan(
            q, t0, t1, [&accept](uint32_t id) { return accept(id); }, push);
    }
  }
}

void FlatIndex::rerank(const float* q, TopK& candidates, size_t k, TopK& out) const {
  out.reset(k);
  vectors_.will_read(candidates.items());
  for (const Hit& h : candidates.items()) out.push(vectors_.exact(q, h.id), h.id);
}

void FlatIndex::device_stats(IndexStats& s) const {
  if (!device_) return;
  s.device = device_->info().name;
  s.device_kind = device_kind_name(device_->info().kind);
  s.device_memory_bytes = device_->memory_bytes();
}

Status FlatIndex::search_prepared(const float* queries, size_t nq, size_t k, const SearchOptions& opts,
                                  const Acceptor& accept, TopK* results, ThreadPool& pool) const {
  size_t dim = cfg_.dim;
  uint32_t n = (uint32_t)rows();
  bool quantized = vectors_.quantized();
  // Candidates for the f32 rerank: never more than the rows, whatever k * rerankFactor asks.
  size_t keep = quantized ? std::max(k, std::min(k * (size_t)rerank_factor(opts), (size_t)n)) : k;
  if (device_ && opts.on_device) {
    // f32: a few spare candidates, so the f32 rescoring settles near-ties the
    // device's matrix-product distances may order differently.
    size_t device_keep = quantized ? keep : k + 8;
    return device_->search(vectors_, n, queries, nq, k, device_keep, accept, results, pool);
  }
  size_t threads = pool.size();
  size_t blocks = (nq + kQueryBlock - 1) / kQueryBlock;

  if (blocks >= threads || n < 4096) {
    // Enough query blocks to keep every thread busy: split by queries.
    pool.parallel_for(blocks, 1, [&](size_t b0, size_t b1, size_t) {
      std::vector<TopK> tops(kQueryBlock);
      for (size_t b = b0; b < b1; b++) {
        size_t q0 = b * kQueryBlock, q1 = std::min(nq, q0 + kQueryBlock);
        for (size_t i = 0; i < q1 - q0; i++) tops[i].reset(keep);
        sweep(queries + q0 * dim, q1 - q0, 0, n, accept, tops.data());
        for (size_t i = 0; i < q1 - q0; i++) {
          if (quantized)
            rerank(queries + (q0 + i) * dim, tops[i], k, results[q0 + i]);
          else
            results[q0 + i] = std::move(tops[i]);
        }
      }
    });
    return Status::ok();
  }
  // Few queries, many rows: split the rows, then merge each thread's selection.
  size_t parts = threads * 4;
  uint32_t span = (uint32_t)((n + parts - 1) / parts);
  std::vector<std::vector<TopK>> partial(parts, std::vector<TopK>(nq, TopK(keep)));
  pool.parallel_for(parts, 1, [&](size_t p0, size_t p1, size_t) {
    for (size_t p = p0; p < p1; p++) {
      uint32_t b = (uint32_t)std::min<size_t>(n, p * span), e = (uint32_t)std::min<size_t>(n, b + (size_t)span);
      for (size_t q0 = 0; q0 < nq; q0 += kQueryBlock)
        sweep(queries + q0 * dim, std::min(kQueryBlock, nq - q0), b, e, accept, partial[p].data() + q0);
    }
  });
  for (size_t i = 0; i < nq; i++) {
    TopK merged(keep);
    for (size_t p = 0; p < parts; p++) merged.merge(partial[p][i]);
    if (quantized)
      rerank(queries + i * dim, merged, k, results[i]);
    else
      results[i] = std::move(merged);
  }
  return Status::ok();
}

}  // namespace ragwire
