// The graph's build: inserting nodes (in parallel, with striped node locks and exact f32
// distances), choosing and pruning their links, and relinking the nodes pruning left unreachable.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "hnsw_internal.hpp"
#include "ragwire/hnsw_index.hpp"

namespace ragwire {

HnswIndex::HnswIndex(const IndexConfig& cfg)
    : Index(cfg),
      M_(cfg.hnsw.M),
      M0_(cfg.hnsw.M * 2),
      level_mult_(1.0 / std::log((double)cfg.hnsw.M)),
      rng_(cfg.hnsw.seed),
      stripes_(new std::mutex[kStripes]),
      visited_(new VisitedPool()) {}

int HnswIndex::random_level() {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  double r = -std::log(std::max(u(rng_), 1e-300)) * level_mult_;
  return (int)std::min<double>(r, hnsw::kMaxLevel);
}

Status HnswIndex::index_rows(uint32_t first, size_t n, ThreadPool& pool) {
  size_t total = (size_t)first + n;
  if (cfg_.hnsw.inline_codes) touched_.reset(new std::atomic<uint8_t>[(total + 7) / 8]());
  Status st = device_ && first == 0 && entry_ == kNone ? build_on_device(total, pool) : insert_rows(first, n, pool);
  if (st.is_ok() && cfg_.hnsw.inline_codes) st = update_inline(first, total, &pool);
  touched_.reset();
  return st;
}

Status HnswIndex::update_inline(uint32_t first, size_t total, ThreadPool* pool) {
  const size_t row = vectors_.inline_row_bytes();
  if (!inline0_.resize(total * M0_ * row, 0))
    return Status(Code::kLimit, "out of memory while growing the inline codes");
  const bool every = vectors_.encodings() != inline_encodings_;
  auto refresh = [&](size_t b, size_t e) {
    for (size_t id = b; id < e; id++) {
      bool touched = touched_ && (touched_[id >> 3].load(std::memory_order_relaxed) >> (id & 7)) & 1;
      if (!every && id < first && !touched) continue;
      const uint32_t* l = links0((uint32_t)id);
      uint8_t* out = inline0((uint32_t)id);
      for (uint32_t j = 1; j <= l[0]; j++) vectors_.copy_inline(l[j], out + (size_t)(j - 1) * row);
    }
  };
  if (pool)
    pool->parallel_for(total, 1024, [&](size_t b, size_t e, size_t) { refresh(b, e); });
  else
    refresh(0, total);
  inline_encodings_ = vectors_.encodings();
  return Status::ok();
}

Status HnswIndex::insert_rows(uint32_t first, size_t n, ThreadPool& pool) {
  size_t total = (size_t)first + n;
  if (!links0_.resize(total * (M0_ + 1), 0) || !levels_.resize(total, 0))
    return Status(Code::kLimit, "out of memory while growing the graph");
  upper_.resize(total);
  std::vector<int> level(n);
  for (size_t i = 0; i < n; i++) {
    level[i] = random_level();
    levels_[first + i] = (uint8_t)level[i];
    if (level[i] > 0) upper_[first + i].assign((size_t)level[i] * (M_ + 1), 0);
  }
  dropped_.reset(new std::atomic<uint8_t>[(total + 7) / 8]());
  pool.parallel_for(n, 32, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) insert(first + (uint32_t)i, level[i]);
  });
  relink_orphans(total);
  dropped_.reset();
  return Status::ok();
}

void HnswIndex::mark_dropped(const uint32_t* before, uint32_t n, uint32_t extra, const std::vector<Hit>& kept) {
  auto mark = [&](uint32_t id) {
    for (const Hit& h : kept)
      if (h.id == id) return;
    dropped_[id >> 3].fetch_or((uint8_t)(1u << (id & 7)), std::memory_order_relaxed);
  };
  for (uint32_t j = 0; j < n; j++) mark(before[j]);
  if (extra != kNone) mark(extra);
}

// Neighbour pruning (the heuristic keeps a diverse few, not the nearest) can
// drop a node from every list that pointed to it, and a search then never
// reaches it: hnswlib has the same hole. Nodes whose in-links were pruned in
// this add are checked; one that none of its own neighbours links back to is
// appended to its nearest neighbour's list that has room. Runs on one thread
// after the parallel inserts, over the marked nodes only.
void HnswIndex::relink_orphans(size_t total) {
  std::vector<Hit> near;
  for (size_t byte = 0; byte < (total + 7) / 8; byte++) {
    uint8_t bits = dropped_[byte].load(std::memory_order_relaxed);
    for (; bits != 0; bits &= (uint8_t)(bits - 1)) {
      uint32_t x = (uint32_t)(byte * 8 + (size_t)__builtin_ctz(bits));
      const uint32_t* out = links0(x);
      bool linked_back = false;
      for (uint32_t j = 1; j <= out[0] && !linked_back; j++) {
        const uint32_t* back = links0(out[j]);
        for (uint32_t k = 1; k <= back[0]; k++)
          if (back[k] == x) {
            linked_back = true;
            break;
          }
      }
      if (linked_back || out[0] == 0) continue;
      const float* xv = vectors_.row(x);
      near.clear();
      for (uint32_t j = 1; j <= out[0]; j++) near.push_back({vectors_.exact(xv, out[j]), out[j]});
      std::sort(near.begin(), near.end());
      for (const Hit& h : near) {
        uint32_t* l = links0(h.id);
        if (l[0] < M0_) {
          l[1 + l[0]] = x;
          l[0]++;
          touch(h.id);
          break;
        }
      }
    }
  }
}

void HnswIndex::search_layer_build(const float* q, uint32_t entry, int level, uint32_t ef,
                                   std::vector<Hit>& out) const {
  auto visited = visited_->acquire(rows());
  std::vector<Hit> cand;
  TopK top(ef);
  float d = vectors_.exact(q, entry);
  visited->test_and_set(entry);
  cand.push_back({d, entry});
  top.push(d, entry);
  uint32_t buf[kMaxLinks];
  while (!cand.empty()) {
    Hit c = cand.front();
    if (top.full() && c.dist > top.bound()) break;
    std::pop_heap(cand.begin(), cand.end(), hnsw::Farther());
    cand.pop_back();
    {
      std::lock_guard<std::mutex> lock(lock_of(c.id));
      const uint32_t* l = links(c.id, level);
      std::memcpy(buf, l, (l[0] + 1) * sizeof(uint32_t));
    }
    for (uint32_t j = 1; j <= buf[0]; j++) {
      uint32_t nb = buf[j];
      if (visited->test_and_set(nb)) continue;
      float dn = vectors_.exact(q, nb);
      if (!top.full() || dn < top.bound()) {
        cand.push_back({dn, nb});
        std::push_heap(cand.begin(), cand.end(), hnsw::Farther());
        top.push(dn, nb);
      }
    }
  }
  visited_->release(std::move(visited));
  out = top.items();
}

// The heuristic of the HNSW paper (algorithm 4): keep a candidate only if it
// is closer to the base than to every neighbour kept so far.
void HnswIndex::select_neighbors(std::vector<Hit>& candidates, uint32_t m) const {
  std::sort(candidates.begin(), candidates.end());
  if (candidates.size() <= m) return;
  std::vector<Hit> kept;
  kept.reserve(m);
  for (const Hit& c : candidates) {
    if (kept.size() >= m) break;
    const float* cv = vectors_.row(c.id);
    bool good = true;
    for (const Hit& r : kept) {
      if (vectors_.exact(cv, r.id) < c.dist) {
        good = false;
        break;
      }
    }
    if (good) kept.push_back(c);
  }
  candidates.swap(kept);
}

void HnswIndex::connect(uint32_t from, uint32_t to, int level) {
  std::lock_guard<std::mutex> lock(lock_of(from));
  uint32_t* l = links(from, level);
  // A concurrent inserter may have linked `from` to `to` already (it found
  // `to` while building its own lists): a second copy would waste a slot.
  for (uint32_t j = 1; j <= l[0]; j++)
    if (l[j] == to) return;
  if (level == 0) touch(from);
  uint32_t cap = max_links(level);
  if (l[0] < cap) {
    l[1 + l[0]] = to;
    l[0]++;
    return;
  }
  const float* fv = vectors_.row(from);
  std::vector<Hit> cands;
  cands.reserve(cap + 1);
  for (uint32_t j = 1; j <= l[0]; j++) cands.push_back({vectors_.exact(fv, l[j]), l[j]});
  cands.push_back({vectors_.exact(fv, to), to});
  select_neighbors(cands, cap);
  if (level == 0) mark_dropped(l + 1, l[0], to, cands);
  l[0] = (uint32_t)cands.size();
  for (size_t j = 0; j < cands.size(); j++) l[1 + j] = cands[j].id;
}

// Writes a new node's links on one layer. Other inserters may already have
// linked back to it here (they reached it through a layer above): keep those
// links too, pruning with the heuristic if the list overflows.
void HnswIndex::set_links(uint32_t id, int level, std::vector<Hit>& chosen) {
  std::lock_guard<std::mutex> lock(lock_of(id));
  uint32_t* l = links(id, level);
  if (l[0] > 0) {
    const float* v = vectors_.row(id);
    for (uint32_t j = 1; j <= l[0]; j++) {
      bool dup = false;
      for (const Hit& h : chosen) dup = dup || h.id == l[j];
      if (!dup) chosen.push_back({vectors_.exact(v, l[j]), l[j]});
    }
    select_neighbors(chosen, max_links(level));
    if (level == 0) mark_dropped(l + 1, l[0], kNone, chosen);
  }
  l[0] = (uint32_t)chosen.size();
  for (size_t j = 0; j < chosen.size(); j++) l[1 + j] = chosen[j].id;
}

void HnswIndex::insert(uint32_t id, int level, int bottom) {
  const float* q = vectors_.row(id);
  std::unique_lock<std::mutex> entry_lock(entry_mu_);
  uint32_t ep = entry_;
  int top_level = max_level_;
  if (ep == kNone) {
    entry_ = id;
    max_level_ = level;
    return;
  }
  if (level <= top_level) entry_lock.unlock();  // keep holding only to raise the entry point

  QueryCodes exact_query;
  exact_query.f32 = q;  // the build walks on f32: nothing to prepare
  uint32_t cur = descend<Walk::kBuild>(exact_query, ep, top_level, level);
  std::vector<Hit> found;
  for (int lev = std::min(level, top_level); lev >= bottom; lev--) {
    search_layer_build(q, cur, lev, cfg_.hnsw.ef_construction, found);
    std::sort(found.begin(), found.end());
    uint32_t next = found.front().id;
    select_neighbors(found, M_);
    set_links(id, lev, found);
    for (const Hit& h : found) connect(h.id, id, lev);
    cur = next;
  }
  if (level > top_level) {
    entry_ = id;
    max_level_ = level;
  }
}

Status HnswIndex::rebuild(ThreadPool& pool) {
  links0_.clear();
  levels_.clear();
  upper_.clear();
  inline0_.clear();
  entry_ = kNone;
  max_level_ = -1;
  visited_->clear();
  rng_.seed(cfg_.hnsw.seed);
  return index_rows(0, rows(), pool);
}

}  // namespace ragwire
