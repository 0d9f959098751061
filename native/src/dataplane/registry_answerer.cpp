#include "registry_answerer.hpp"

#include <cmath>

#include "ragwire/thread_pool.hpp"
#include "result_encoder.hpp"

namespace ragwire::dataplane {

namespace {

// What only JavaScript serves: text and sparse parts, fusion, traces, consistency waits, epochs and
// stored vectors (those come from LMDB). A filter is answered when the filter index can evaluate it.
bool plain_dense(const QueryView& q) {
  if (q.has_text || q.has_sparse || q.prefetch || q.fusion || q.text_stats || q.trace) return false;
  if (q.n == 0 || q.vectors == nullptr) return false;
  if (!q.options) return true;
  const QueryOptions& o = *q.options;
  return !o.min_seq && !o.epoch && !o.with_vectors.value_or(false);
}

uint64_t popcount(const std::vector<uint8_t>& bits) {
  uint64_t n = 0;
  for (uint8_t b : bits) n += (uint64_t)__builtin_popcount(b);
  return n;
}

bool all_finite(const float* v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!std::isfinite(v[i])) return false;
  return true;
}

}  // namespace

bool RegistryAnswerer::answer(const uint8_t* frame, size_t bytes, const ConnState& state, std::vector<uint8_t>& reply) {
  const QueryDecode d = decode_query_frame(frame, bytes, limits_, state.trace_on, view_);
  if (d.verdict != Verdict::kQuery) return false;  // a refusal's ERROR comes from JavaScript
  const QueryView& q = view_;
  if (!plain_dense(q)) return false;
  name_.assign(q.collection.data(), q.collection.size());
  if (!state.may_read(name_)) return false;
  std::shared_ptr<PublishedCollection> c = registry_->find(name_);
  if (!c) return false;
  const CollectionPlan& plan = c->plan;
  if (plan.rules.searches_on_device || q.dim != plan.dim) return false;
  const QueryOptions o = q.options.value_or(QueryOptions{});
  if (q.k < 1 || q.k > caps_.max_k) return false;
  if (o.ef_search && (*o.ef_search < 1 || *o.ef_search > caps_.max_ef_search)) return false;
  if (!all_finite(q.vectors, (size_t)q.n * q.dim)) return false;

  // collection-reader.ts: the allow-list's exact count is the filter's selectivity; search-placement.ts
  // plans from it (a flat index is a scan).
  uint64_t rows, allowed;
  {
    std::shared_lock<std::shared_mutex> rows_lock(c->mu);
    if (!c->answerable()) return false;
    rows = c->column->rows();
    allowed = rows;
    if (q.has_filter) {
      c->filters.evaluate(q.filter, allow_);
      allowed = popcount(allow_);
    }
  }
  const bool scan = o.exact.value_or(false) ||
                    exact_scan(plan.rules, plan.kind, allowed, rows, plan.dim, q.k, o.ef_search.value_or(0));
  const bool exact = (scan || plan.kind == IndexKind::kFlat) && plan.f32;
  SearchOptions so;
  so.ef_search = o.ef_search.value_or(0);
  so.exact = scan;
  so.on_device = false;
  if (q.has_filter) {
    so.filter.bits = allow_.data();
    so.filter.bits_len = allow_.size();
  }
  const size_t slots = (size_t)q.n * q.k;
  labels_.resize(slots);
  scores_.resize(slots);
  if (!c->index->search(q.vectors, q.n, q.k, so, labels_.data(), scores_.data(), ThreadPool::shared()).is_ok())
    return false;
  // The rows as of now: a label the search found whose row is gone (or not there yet) is skipped.
  std::shared_lock<std::shared_mutex> rows_lock(c->mu);
  if (!c->answerable()) return false;
  counts_.assign(q.n, 0);
  ids_.clear();
  hit_scores_.clear();
  payloads_.clear();
  const bool with_payloads = o.with_payload.value_or(false);
  for (uint32_t i = 0; i < q.n; i++) {
    for (uint32_t j = 0; j < q.k; j++) {
      const uint32_t label = labels_[(size_t)i * q.k + j];
      if (label == kNoLabel) break;
      RowView row;
      if (!c->column->find(label, &row)) continue;  // replaced or deleted while the search ran, as in JavaScript
      ids_.push_back(row.id);
      hit_scores_.push_back(scores_[(size_t)i * q.k + j]);
      if (with_payloads) payloads_.push_back(row.payload);
      counts_[i]++;
    }
  }
  ResultReply r;
  r.k = q.k;
  r.counts = counts_.data();
  r.n = q.n;
  r.ids = ids_.data();
  r.scores = hit_scores_.data();
  r.with_payloads = with_payloads;
  r.payloads = payloads_.data();
  r.exact = exact;
  return encode_result_frame(r, d.request_id, limits_, reply) == FrameFault::kNone;
}

}  // namespace ragwire::dataplane
