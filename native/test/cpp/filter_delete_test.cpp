// Allow-lists (bitset and sorted forms) on every index kind and on both HNSW
// plans (exact scan of a selective filter; filtered graph walk); tombstones
// and compaction.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "ragwire/index.hpp"
#include "support.hpp"

namespace {

using namespace ragwire;
using namespace ragwire_test;

constexpr size_t kRows = 3000, kDim = 16, kQueries = 30, kK = 10;
constexpr uint32_t kFirst = 500;  // labels kFirst..kFirst+kRows-1

struct Data {
  std::vector<float> base = gaussian_rows(kRows, kDim, 71, 25), queries = gaussian_rows(kQueries, kDim, 72, 25);
  std::vector<uint32_t> labels = label_range(kRows, kFirst);
};

std::unique_ptr<Index> build(const Data& d, IndexKind kind, ThreadPool& pool) {
  IndexConfig cfg = config(kDim, Metric::kL2, kind);
  cfg.hnsw.ef_construction = 80;
  auto index = make_index(cfg);
  EXPECT_TRUE(index->add(d.labels.data(), d.base.data(), kRows, pool).is_ok());
  return index;
}

std::vector<std::vector<RefHit>> reference(const Data& d, const std::vector<bool>& allowed) {
  std::vector<std::vector<RefHit>> ref;
  for (size_t q = 0; q < kQueries; q++)
    ref.push_back(brute_force(Metric::kL2, d.base, d.labels, d.queries.data() + q * kDim, kDim, kK, &allowed));
  return ref;
}

void expect_only_allowed(const Results& r, const std::vector<bool>& allowed, const std::string& what) {
  for (uint32_t label : r.labels) {
    if (label == kNoLabel) continue;
    ASSERT_GE(label, kFirst) << what;
    ASSERT_TRUE(allowed[label - kFirst]) << what << ": label " << label << " is not allowed";
  }
}

struct Filter {
  std::vector<bool> allowed;  // by row
  std::vector<uint8_t> bits;  // by label
  std::vector<uint32_t> sorted;
};

Filter every_nth(size_t nth, size_t bits_len = (kFirst + kRows + 7) / 8) {
  Filter f;
  f.allowed.assign(kRows, false);
  f.bits.assign(bits_len, 0);
  for (size_t i = 0; i < kRows; i += nth) {
    uint32_t label = kFirst + (uint32_t)i;
    if (label / 8 >= bits_len) continue;  // beyond a short bitset: not allowed
    f.allowed[i] = true;
    f.bits[label >> 3] |= (uint8_t)(1u << (label & 7));
    f.sorted.push_back(label);
  }
  return f;
}

TEST(Filter, EveryKindHonoursBitsetAndSortedAllowLists) {
  ThreadPool pool(4);
  Data d;
  // every 3rd row: the HNSW graph walk (1000 allowed > threshold 100); every
  // 40th: its exact scan; a bitset shorter than the labels: the rest refused.
  struct Case {
    const char* name;
    Filter f;
    uint32_t threshold;
  };
  std::vector<Case> cases = {{"wide", every_nth(3), 100},
                             {"selective", every_nth(40), 1000},
                             {"short-bitset", every_nth(2, (kFirst + 1200) / 8), 10}};
  for (IndexKind kind : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kBq}) {
    auto index = build(d, kind, pool);
    for (const Case& c : cases) {
      auto ref = reference(d, c.f.allowed);
      for (bool as_bits : {true, false}) {
        SearchOptions opts;
        opts.filter_scan_threshold = c.threshold;
        opts.ef_search = 200;
        opts.rerank_factor = 100;  // bq: 16 sign bits rank coarsely; rerank enough rows to compare recall
        if (as_bits) {
          opts.filter.bits = c.f.bits.data();
          opts.filter.bits_len = c.f.bits.size();
        } else {
          opts.filter.sorted = c.f.sorted.data();
          opts.filter.sorted_len = c.f.sorted.size();
        }
        std::string what = std::string(kind_name(kind)) + "/" + c.name + (as_bits ? "/bits" : "/sorted");
        Results r = search(*index, d.queries, kDim, kK, opts, pool);
        expect_only_allowed(r, c.f.allowed, what);
        double want = kind == IndexKind::kFlat || c.f.sorted.size() <= c.threshold ? 1.0 : 0.9;
        EXPECT_GE(recall(r, ref), want) << what;
      }
    }
  }
}

TEST(Filter, AnEmptyAllowListReturnsNothing) {
  ThreadPool pool(2);
  Data d;
  std::vector<uint8_t> none((kFirst + kRows) / 8 + 1, 0);
  for (IndexKind kind : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kBq}) {
    auto index = build(d, kind, pool);
    SearchOptions opts;
    opts.filter.bits = none.data();
    opts.filter.bits_len = none.size();
    Results r = search(*index, d.queries, kDim, kK, opts, pool);
    for (uint32_t label : r.labels) ASSERT_EQ(label, kNoLabel) << kind_name(kind);
  }
}

TEST(Delete, RemovedLabelsNeverComeBackAndCompactionKeepsTheAnswers) {
  ThreadPool pool(4);
  Data d;
  std::mt19937_64 rng(73);
  std::vector<uint32_t> gone;
  std::vector<bool> live(kRows, true);
  for (size_t i = 0; i < kRows; i++)
    if (rng() % 4 == 0) {
      gone.push_back(kFirst + (uint32_t)i);
      live[i] = false;
    }
  auto ref = reference(d, live);
  for (IndexKind kind : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kBq}) {
    std::string what = kind_name(kind);
    auto index = build(d, kind, pool);
    size_t removed = 0;
    ASSERT_TRUE(index->remove(gone.data(), gone.size(), &removed).is_ok());
    EXPECT_EQ(removed, gone.size());
    ASSERT_TRUE(index->remove(gone.data(), gone.size(), &removed).is_ok());
    EXPECT_EQ(removed, 0u) << what << ": removing twice removes nothing";
    EXPECT_EQ(index->stats().count, kRows - gone.size());
    EXPECT_EQ(index->stats().deleted, gone.size());
    SearchOptions opts;
    opts.ef_search = 200;
    opts.rerank_factor = 100;
    Results before = search(*index, d.queries, kDim, kK, opts, pool);
    expect_only_allowed(before, live, what + " tombstoned");
    EXPECT_GE(recall(before, ref), kind == IndexKind::kFlat ? 1.0 : 0.9) << what;

    ASSERT_TRUE(index->compact(pool).is_ok());
    EXPECT_EQ(index->stats().deleted, 0u);
    EXPECT_EQ(index->stats().count, kRows - gone.size());
    Results after = search(*index, d.queries, kDim, kK, opts, pool);
    expect_only_allowed(after, live, what + " compacted");
    EXPECT_GE(recall(after, ref), kind == IndexKind::kFlat ? 1.0 : 0.9) << what;

    // A removed label is free again: re-adding it makes it findable.
    uint32_t label = gone.front();
    const float* row = d.base.data() + (label - kFirst) * kDim;
    ASSERT_TRUE(index->add(&label, row, 1, pool).is_ok()) << what;
    Results self = search(*index, std::vector<float>(row, row + kDim), kDim, 1, opts, pool);
    EXPECT_EQ(self.labels[0], label) << what;
  }
}

}  // namespace
