// Searching the graph: the descent through the upper layers, then a beam search on layer 0 on the
// stored codes that honours the allow-list during the walk, and the f32 rerank where storage is quantized.
#include <algorithm>
#include <cstring>
#include <mutex>

#include "hnsw_internal.hpp"
#include "ragwire/hnsw_index.hpp"

namespace ragwire {

namespace {
constexpr uint32_t kPrefetchAhead = 8;  // neighbour vectors in flight while computing
// A filtered walk at selectivity s meets an allowed node in about every 1/s it queues, and its beam
// holds ef allowed ones after about ef / s (0.73-1.28 times that on a 100k x 128 mixture with filters
// spread over the graph, at 1%, 10% and 50%). A walk that needs more than kStarvedFill times that
// started among rows the filter rejects (a filter that follows the embedding's clusters, queried
// from a cluster it excludes): the allowed rows nearest the query lie at the edge of other clusters,
// and a beam of ef fills with the first allowed rows it meets and stops before it finds them. It is
// walked once more with ef times kWiden, or the allowed rows are scanned where that costs less: a
// queued node costs about kNodeCost rows of a scan (its vector read at random, its links sifted;
// measured 0.4-0.5 us against 50-80 ns at 128-d). docs/benchmarks.md §5 has the figures.
constexpr double kStarvedFill = 2;
constexpr uint32_t kWiden = 8;
constexpr double kNodeCost = 6;
}  // namespace

// One greedy descent for both walks (the paper's algorithm 2 with ef = 1): on each layer from `top`
// down to `bottom` + 1, move to the nearest neighbour until none is nearer.
template <HnswIndex::Walk walk>
uint32_t HnswIndex::descend(const QueryCodes& q, uint32_t ep, int top, int bottom) const {
  auto distance = [&](uint32_t id) {
    return walk == Walk::kBuild ? vectors_.exact(q.f32, id) : vectors_.approx(q, id);
  };
  uint32_t cur = ep;
  float d = distance(cur);
  uint32_t buf[kGuards.M.max + 1];  // an upper layer holds at most M links
  for (int lev = top; lev > bottom; lev--) {
    bool changed = true;
    while (changed) {
      changed = false;
      if constexpr (walk == Walk::kBuild) {
        std::lock_guard<std::mutex> lock(lock_of(cur));
        const uint32_t* l = links(cur, lev);
        std::memcpy(buf, l, (l[0] + 1) * sizeof(uint32_t));
      } else {
        const uint32_t* l = links(cur, lev);
        std::memcpy(buf, l, (l[0] + 1) * sizeof(uint32_t));
      }
      for (uint32_t j = 1; j <= buf[0]; j++) {
        float dn = distance(buf[j]);
        if (dn < d) {
          d = dn;
          cur = buf[j];
          changed = true;
        }
      }
    }
  }
  return cur;
}
template uint32_t HnswIndex::descend<HnswIndex::Walk::kBuild>(const QueryCodes&, uint32_t, int, int) const;

void HnswIndex::search_one(const float* q, size_t k, uint32_t ef, const Acceptor& accept, TopK& out,
                           WalkCount* count) const {
  auto visited = visited_->acquire(rows());
  thread_local QueryCodes pq;  // the walk's form of q (the sq8 integer query), its buffer kept per thread
  vectors_.prepare(q, pq);
  uint32_t entry = descend<Walk::kSearch>(pq, entry_, max_level_, 0);
  std::vector<Hit> cand;
  cand.reserve(ef * 4);
  TopK top(ef);
  uint32_t todo[kMaxLinks], slot[kMaxLinks];
  // With inline codes a neighbour's codes are read from the node's block (one fetch per hop), at its
  // slot in the link list; else from its own row.
  const bool in_block = cfg_.hnsw.inline_codes;
  const size_t row = in_block ? vectors_.inline_row_bytes() : 0;
  const size_t row_lines = (row + 63) / 64;
  float d = vectors_.approx(pq, entry);
  visited->test_and_set(entry);
  cand.push_back({d, entry});
  uint32_t queued = 1, filled = 0;
  if (accept(entry)) top.push(d, entry);
  while (!cand.empty()) {
    Hit c = cand.front();
    if (top.full() && c.dist > top.bound()) break;
    std::pop_heap(cand.begin(), cand.end(), hnsw::Farther());
    cand.pop_back();
    // Sift out visited neighbours first, then fetch the rest's vectors ahead
    // of computing on them: the walk is bound by memory latency, not arithmetic.
    const uint32_t* l = links0(c.id);
    uint32_t cnt = l[0], fresh = 0;
    for (uint32_t j = 1; j <= cnt; j++) __builtin_prefetch(&visited->tags[l[j]]);
    for (uint32_t j = 1; j <= cnt; j++)
      if (!visited->test_and_set(l[j])) slot[fresh] = j - 1, todo[fresh++] = l[j];
    const uint8_t* block = in_block ? inline0(c.id) : nullptr;
    auto fetch = [&](uint32_t j) {
      if (!in_block) return vectors_.prefetch(todo[j]);
      const char* p = (const char*)(block + slot[j] * row);
      for (size_t i = 0; i < row_lines; i++) __builtin_prefetch(p + i * 64);
    };
    for (uint32_t j = 0; j < fresh && j < kPrefetchAhead; j++) fetch(j);
    for (uint32_t j = 0; j < fresh; j++) {
      if (j + kPrefetchAhead < fresh) fetch(j + kPrefetchAhead);
      uint32_t nb = todo[j];
      float dn = in_block ? vectors_.approx_inline(pq, block + slot[j] * row) : vectors_.approx(pq, nb);
      if (!top.full() || dn < top.bound()) {
        cand.push_back({dn, nb});
        std::push_heap(cand.begin(), cand.end(), hnsw::Farther());
        queued++;
        if (accept(nb)) {
          top.push(dn, nb);
          if (!filled && top.full()) filled = queued;
        }
      }
    }
  }
  visited_->release(std::move(visited));
  if (count) count->queued = queued, count->filled = filled;
  out.reset(k);
  if (vectors_.quantized()) {
    vectors_.will_read(top.items());
    for (const Hit& h : top.items()) out.push(vectors_.exact(q, h.id), h.id);
  } else {
    for (const Hit& h : top.items()) out.push(h.dist, h.id);
  }
}

Status HnswIndex::search_prepared(const float* queries, size_t nq, size_t k, const SearchOptions& opts,
                                  const Acceptor& accept, TopK* results, ThreadPool& pool) const {
  uint32_t ef = std::max<uint32_t>(opts.ef_search ? opts.ef_search : cfg_.hnsw.ef_search, (uint32_t)k);
  size_t dim = cfg_.dim;
  // A very selective filter: scanning the allowed rows beats walking a graph
  // whose nodes are mostly rejected, and it is exact.
  if (opts.filter.active() && opts.filter.cardinality() <= opts.filter_scan_threshold) {
    std::vector<uint32_t> ids = ids_of_allowed(opts.filter);
    pool.parallel_for(nq, 1, [&](size_t b, size_t e, size_t) {
      for (size_t i = b; i < e; i++) scan_exact_ids(queries + i * dim, ids.data(), ids.size(), accept, results[i]);
    });
    return Status::ok();
  }
  if (opts.filter.active()) {
    size_t allowed = std::min(opts.filter.cardinality(), rows());
    double selectivity = rows() ? (double)allowed / (double)rows() : 1.0;
    std::once_flag once;
    std::vector<uint32_t> ids;
    auto scan_ids = [&]() -> const std::vector<uint32_t>& {
      std::call_once(once, [&] { ids = ids_of_allowed(opts.filter); });
      return ids;
    };
    pool.parallel_for(nq, nq >= 64 ? 8 : 1, [&](size_t b, size_t e, size_t) {
      for (size_t i = b; i < e; i++)
        search_filtered(queries + i * dim, k, ef, selectivity, allowed, accept, scan_ids, results[i]);
    });
    return Status::ok();
  }
  pool.parallel_for(nq, nq >= 64 ? 8 : 1, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) search_one(queries + i * dim, k, ef, accept, results[i]);
  });
  return Status::ok();
}

// Walks with ef; when the walk is starved (kStarvedFill), walks again with kWiden times the ef, or
// scans the allowed rows exactly where the wider walk would cost more (kNodeCost). At most two
// walks, the second bounded by the cost of the scan.
void HnswIndex::search_filtered(const float* q, size_t k, uint32_t ef, double selectivity, size_t allowed,
                                const Acceptor& accept, const std::function<const std::vector<uint32_t>&()>& scan_ids,
                                TopK& out) const {
  WalkCount count;
  search_one(q, k, ef, accept, out, &count);
  if (count.filled <= kStarvedFill * (double)ef / selectivity) return;
  if ((double)count.queued * kWiden * kNodeCost > (double)allowed) {
    const std::vector<uint32_t>& ids = scan_ids();
    out.reset(k);
    scan_exact_ids(q, ids.data(), ids.size(), accept, out);
    return;
  }
  search_one(q, k, ef * kWiden, accept, out);
}

}  // namespace ragwire
