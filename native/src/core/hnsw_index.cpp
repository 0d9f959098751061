#include "ragwire/hnsw_index.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ragwire {

namespace {
constexpr uint32_t kGraph = section_tag("HNSW");
constexpr uint32_t kLinks0 = section_tag("HNL0");
constexpr uint32_t kLevels = section_tag("HNLV");
constexpr uint32_t kUpper = section_tag("HNUP");
constexpr int kMaxLevel = 31;
constexpr uint32_t kMaxM0 = 512;        // M <= 256
constexpr uint32_t kPrefetchAhead = 8;  // neighbour vectors in flight while computing

struct GraphMeta {
  uint32_t entry;
  int32_t max_level;
  uint32_t M;
  uint32_t M0;
};

struct Farther {  // min-heap order for candidates: closest on top
  bool operator()(const Hit& a, const Hit& b) const { return b < a; }
};
}  // namespace

// Epoch-tagged visited set: clearing is one increment.
struct HnswIndex::Visited {
  std::vector<uint16_t> tags;
  uint16_t epoch = 0;
  void prepare(size_t n) {
    if (tags.size() < n) tags.resize(n + n / 4, 0);
    if (++epoch == 0) {
      std::fill(tags.begin(), tags.end(), 0);
      epoch = 1;
    }
  }
  bool test_and_set(uint32_t id) {
    if (tags[id] == epoch) return true;
    tags[id] = epoch;
    return false;
  }
};

class HnswIndex::VisitedPool {
 public:
  std::unique_ptr<Visited> acquire(size_t n) {
    std::unique_ptr<Visited> v;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        v = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!v) v.reset(new Visited());
    v->prepare(n);
    return v;
  }
  void release(std::unique_ptr<Visited> v) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(v));
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    free_.clear();
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<Visited>> free_;
};

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
  return (int)std::min<double>(r, kMaxLevel);
}

Status HnswIndex::index_rows(uint32_t first, size_t n, ThreadPool& pool) {
  size_t total = (size_t)first + n;
  if (device_ && first == 0 && entry_ == kNone) return build_on_device(total, pool);
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
          break;
        }
      }
    }
  }
}

uint32_t HnswIndex::descend(const float* q, bool exact) const {
  uint32_t cur = entry_;
  float d = exact ? vectors_.exact(q, cur) : vectors_.approx(q, cur);
  for (int lev = max_level_; lev > 0; lev--) {
    bool changed = true;
    while (changed) {
      changed = false;
      uint32_t buf[257];
      if (exact) {
        std::lock_guard<std::mutex> lock(lock_of(cur));
        const uint32_t* l = links(cur, lev);
        std::memcpy(buf, l, (l[0] + 1) * sizeof(uint32_t));
      } else {
        const uint32_t* l = links(cur, lev);
        std::memcpy(buf, l, (l[0] + 1) * sizeof(uint32_t));
      }
      for (uint32_t j = 1; j <= buf[0]; j++) {
        uint32_t nb = buf[j];
        float dn = exact ? vectors_.exact(q, nb) : vectors_.approx(q, nb);
        if (dn < d) {
          d = dn;
          cur = nb;
          changed = true;
        }
      }
    }
  }
  return cur;
}

void HnswIndex::search_layer_build(const float* q, uint32_t entry, int level, uint32_t ef, std::vector<Hit>& out) const {
  auto visited = visited_->acquire(rows());
  std::vector<Hit> cand;
  TopK top(ef);
  float d = vectors_.exact(q, entry);
  visited->test_and_set(entry);
  cand.push_back({d, entry});
  top.push(d, entry);
  uint32_t buf[513];
  while (!cand.empty()) {
    Hit c = cand.front();
    if (top.full() && c.dist > top.bound()) break;
    std::pop_heap(cand.begin(), cand.end(), Farther());
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
        std::push_heap(cand.begin(), cand.end(), Farther());
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

  uint32_t cur = ep;
  float d = vectors_.exact(q, cur);
  for (int lev = top_level; lev > level; lev--) {
    bool changed = true;
    while (changed) {
      changed = false;
      uint32_t buf[257];
      {
        std::lock_guard<std::mutex> lock(lock_of(cur));
        const uint32_t* l = links(cur, lev);
        std::memcpy(buf, l, (l[0] + 1) * sizeof(uint32_t));
      }
      for (uint32_t j = 1; j <= buf[0]; j++) {
        float dn = vectors_.exact(q, buf[j]);
        if (dn < d) {
          d = dn;
          cur = buf[j];
          changed = true;
        }
      }
    }
  }
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

void HnswIndex::search_one(const float* q, size_t k, uint32_t ef, const SearchOptions& opts, const Acceptor& accept,
                           TopK& out) const {
  (void)opts;
  auto visited = visited_->acquire(rows());
  uint32_t entry = descend(q, false);
  std::vector<Hit> cand;
  cand.reserve(ef * 4);
  TopK top(ef);
  uint32_t todo[kMaxM0 + 1];
  float d = vectors_.approx(q, entry);
  visited->test_and_set(entry);
  cand.push_back({d, entry});
  if (accept(entry)) top.push(d, entry);
  while (!cand.empty()) {
    Hit c = cand.front();
    if (top.full() && c.dist > top.bound()) break;
    std::pop_heap(cand.begin(), cand.end(), Farther());
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
      float dn = vectors_.approx(q, nb);
      if (!top.full() || dn < top.bound()) {
        cand.push_back({dn, nb});
        std::push_heap(cand.begin(), cand.end(), Farther());
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
    for (size_t i = b; i < e; i++) search_one(queries + i * dim, k, ef, opts, accept, results[i]);
  });
  return Status::ok();
}

Status HnswIndex::rebuild(ThreadPool& pool) {
  links0_.clear();
  levels_.clear();
  upper_.clear();
  entry_ = kNone;
  max_level_ = -1;
  visited_->clear();
  rng_.seed(cfg_.hnsw.seed);
  return index_rows(0, rows(), pool);
}

void HnswIndex::save_structure(SnapshotWriter& w) const {
  GraphMeta meta{entry_, max_level_, M_, M0_};
  std::vector<uint32_t> flat;
  for (size_t id = 0; id < rows(); id++) flat.insert(flat.end(), upper_[id].begin(), upper_[id].end());
  w.add_copy(kGraph, &meta, sizeof meta);
  w.add_array(kLinks0, links0_, rows() * (M0_ + 1));
  w.add_array(kLevels, levels_, rows());
  w.add_copy(kUpper, flat.data(), flat.size() * sizeof(uint32_t));
}

Status HnswIndex::load_structure(const SnapshotReader& r) {
  GraphMeta* meta;
  size_t n;
  RAGWIRE_RETURN_IF_ERROR(r.view(kGraph, &meta, &n));
  size_t total = rows();
  auto corrupt = [](const char* why) { return Status(Code::kCorruptSnapshot, std::string("snapshot graph is corrupt: ") + why); };
  if (n != 1 || meta->M != M_ || meta->M0 != M0_) return corrupt("bad graph header");
  if (total == 0 ? meta->entry != kNone : meta->entry >= total) return corrupt("entry point out of range");
  if (meta->max_level < -1 || meta->max_level > kMaxLevel) return corrupt("bad top level");
  RAGWIRE_RETURN_IF_ERROR(r.borrow(kLinks0, &links0_, total * (M0_ + 1)));
  RAGWIRE_RETURN_IF_ERROR(r.borrow(kLevels, &levels_, total));
  uint32_t* flat;
  size_t flat_len;
  RAGWIRE_RETURN_IF_ERROR(r.view(kUpper, &flat, &flat_len));
  upper_.assign(total, {});
  size_t pos = 0;
  for (size_t id = 0; id < total; id++) {
    int lv = levels_[id];
    if (lv > meta->max_level) return corrupt("node above the top level");
    size_t len = (size_t)lv * (M_ + 1);
    if (pos + len > flat_len) return corrupt("upper layers truncated");
    upper_[id].assign(flat + pos, flat + pos + len);
    pos += len;
    for (int lev = 0; lev <= lv; lev++) {
      const uint32_t* l = links((uint32_t)id, lev);
      if (l[0] > max_links(lev)) return corrupt("too many links");
      for (uint32_t j = 1; j <= l[0]; j++)
        if (l[j] >= total) return corrupt("link out of range");
    }
  }
  if (pos != flat_len) return corrupt("upper layers have trailing data");
  // Searches descend from the entry point through every layer and follow
  // upper-layer links into those nodes' lists on the same layer: both must exist.
  if (total > 0 && levels_[meta->entry] != meta->max_level) return corrupt("entry point is not on the top layer");
  for (size_t id = 0; id < total; id++)
    for (int lev = 1; lev <= levels_[id]; lev++) {
      const uint32_t* l = links((uint32_t)id, lev);
      for (uint32_t j = 1; j <= l[0]; j++)
        if (levels_[l[j]] < lev) return corrupt("link to a node absent from its layer");
    }
  entry_ = meta->entry;
  max_level_ = meta->max_level;
  return Status::ok();
}

size_t HnswIndex::structure_bytes() const {
  size_t b = links0_.bytes() + levels_.bytes() + upper_.capacity() * sizeof(std::vector<uint32_t>);
  for (const auto& u : upper_) b += u.capacity() * sizeof(uint32_t);
  return b;
}

}  // namespace ragwire
