#include "ragwire/bq_index.hpp"

#include <algorithm>

namespace ragwire {

namespace {
constexpr uint32_t kMean = section_tag("BQMN");
constexpr uint32_t kCodes = section_tag("BQCD");
}  // namespace

void BqIndex::encode(const float* v, uint64_t* code) const {
  std::fill(code, code + words_, 0);
  for (uint32_t d = 0; d < cfg_.dim; d++)
    if (v[d] > mean_[d]) code[d >> 6] |= uint64_t(1) << (d & 63);
}

Status BqIndex::index_rows(uint32_t first, size_t n, ThreadPool& pool) {
  size_t dim = cfg_.dim;
  if (mean_.size() == 0) {  // the first rows fix the centre
    std::vector<double> sum(dim, 0.0);
    for (size_t i = 0; i < n; i++)
      for (size_t d = 0; d < dim; d++) sum[d] += vectors_.row(first + (uint32_t)i)[d];
    mean_.resize(dim);
    for (size_t d = 0; d < dim; d++) mean_[d] = (float)(sum[d] / (double)n);
  }
  if (!codes_.resize(((size_t)first + n) * words_)) return Status(Code::kLimit, "out of memory while encoding");
  pool.parallel_for(n, 1024, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) encode(vectors_.row(first + (uint32_t)i), codes_.data() + (first + i) * words_);
  });
  return Status::ok();
}

// Hamming distances fall in [0, dim]: a counting pass finds the distance that
// admits `candidates` rows, a second pass collects them; no sort, no heap.
void BqIndex::search_one(const float* q, size_t k, size_t candidates, const Acceptor& accept, TopK& out) const {
  size_t n = rows(), dim = cfg_.dim;
  std::vector<uint64_t> qc(words_);
  encode(q, qc.data());
  std::vector<uint32_t> dist(n);
  std::vector<uint32_t> hist(dim + 2, 0);
  const KernelTable& kt = kernels();
  bool all = accept.everything();
  for (size_t id = 0; id < n; id++) {
    if (!all && !accept((uint32_t)id)) {
      dist[id] = (uint32_t)(dim + 1);
      continue;
    }
    uint32_t h = kt.hamming(qc.data(), codes_.data() + id * words_, words_);
    dist[id] = h;
    hist[std::min<size_t>(h, dim)]++;
  }
  size_t cut = 0, taken = 0;
  while (cut <= dim && taken + hist[cut] < candidates) taken += hist[cut++];
  // rows below `cut` all qualify; rows at `cut` fill the remaining places
  size_t at_cut = cut <= dim ? candidates - taken : 0;
  std::vector<Hit> picked;
  picked.reserve(candidates);
  for (size_t id = 0; id < n; id++) {
    size_t d = dist[id];
    if (d > dim) continue;
    if (d < cut || (d == cut && at_cut && at_cut--)) picked.push_back({0.f, (uint32_t)id});
  }
  vectors_.will_read(picked);
  out.reset(k);
  for (const Hit& h : picked) out.push(vectors_.exact(q, h.id), h.id);
}

Status BqIndex::search_prepared(const float* queries, size_t nq, size_t k, const SearchOptions& opts,
                                const Acceptor& accept, TopK* results, ThreadPool& pool) const {
  size_t candidates = k * (size_t)rerank_factor(opts);
  pool.parallel_for(nq, 1, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; i++) search_one(queries + i * cfg_.dim, k, candidates, accept, results[i]);
  });
  return Status::ok();
}

Status BqIndex::rebuild(ThreadPool& pool) {
  mean_.clear();
  codes_.clear();
  if (rows() == 0) return Status::ok();
  return index_rows(0, rows(), pool);
}

void BqIndex::save_structure(SnapshotWriter& w) const {
  w.add_array(kMean, mean_, mean_.size());
  w.add_array(kCodes, codes_, rows() * words_);
}

Status BqIndex::load_structure(const SnapshotReader& r) {
  if (rows() > 0 || r.has(kMean)) {
    float* m;
    size_t n;
    RAGWIRE_RETURN_IF_ERROR(r.view(kMean, &m, &n));
    // Rows are encoded and searched against the centre: with rows, it must be whole.
    if ((rows() > 0 || n != 0) && n != cfg_.dim)
      return Status(Code::kCorruptSnapshot, "snapshot BQ centre has a bad size");
    if (n) RAGWIRE_RETURN_IF_ERROR(r.borrow(kMean, &mean_, cfg_.dim));
  }
  return r.borrow(kCodes, &codes_, rows() * words_);
}

}  // namespace ragwire
