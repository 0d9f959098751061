// Searching the graph: the descent through the upper layers, then a beam search on layer 0 on the
// stored codes that honours the allow-list during the walk, and the f32 rerank where storage is quantized.
#include <algorithm>
#include <cstring>

#include "hnsw_internal.hpp"
#include "ragwire/hnsw_index.hpp"

namespace ragwire {

namespace {
constexpr uint32_t kPrefetchAhead = 8;  // neighbour vectors in flight while computing
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

void HnswIndex::search_one(const float* q, size_t k, uint32_t ef, const Acceptor& accept, TopK& out) const {
  auto visited = visited_->acquire(rows());
  thread_local QueryCodes pq;  // the walk's form of q (the sq8 integer query), its buffer kept per thread
  vectors_.prepare(q, pq);
  uint32_t entry = descend<Walk::kSearch>(pq, entry_, max_level_, 0);
  std::vector<Hit> cand;
  cand.reserve(ef * 4);
  TopK top(ef);
  uint32_t todo[kMaxLinks];
  float d = vectors_.approx(pq, entry);
  visited->test_and_set(entry);
  cand.push_back({d, entry});
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
      if (!visited->test_and_set(l[j])) todo[fresh++] = l[j];
    for (uint32_t j = 0; j < fresh && j < kPrefetchAhead; j++) vectors_.prefetch(todo[j]);
    for (uint32_t j = 0; j < fresh; j++) {
      if (j + kPrefetchAhead < fresh) vectors_.prefetch(todo[j + kPrefetchAhead]);
      uint32_t nb = todo[j];
      float dn = vectors_.approx(pq, nb);
      if (!top.full() || dn < top.bound()) {
        cand.push_back({dn, nb});
        std::push_heap(cand.begin(), cand.end(), hnsw::Farther());
        if (accept(nb)) top.push(dn, nb);
      }
    }
  }
  visited_->release(std::move(visited));
  out.reset(k);
  if (vectors_.quantized()) {
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
  pool.parallel_for(nq, nq >= 64 ? 8 : 1, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) search_one(queries + i * dim, k, ef, accept, results[i]);
  });
  return Status::ok();
}

}  // namespace ragwire
