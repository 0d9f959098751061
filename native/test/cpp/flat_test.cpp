// Flat exact search equals brute force, on both of its parallel plans (split
// by queries; split by rows then merged), for every metric; quantized flat
// returns exact f32 scores after its rerank. Also config and input refusals.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "ragwire/index.hpp"
#include "support.hpp"

namespace {

using namespace ragwire;
using namespace ragwire_test;

// Rank by rank, the scores equal the reference's; every label is the one the
// reference names unless its score ties; no label repeats.
void expect_exact(const Results& r, const std::vector<std::vector<RefHit>>& ref, const std::vector<float>& base,
                  const std::vector<float>& queries, size_t dim, Metric m, uint32_t first_label,
                  const std::string& what) {
  for (size_t q = 0; q < ref.size(); q++) {
    std::set<uint32_t> seen;
    for (size_t j = 0; j < r.k; j++) {
      uint32_t label = r.labels[q * r.k + j];
      float score = r.scores[q * r.k + j];
      if (j >= ref[q].size()) {
        EXPECT_EQ(label, kNoLabel) << what;
        EXPECT_EQ(score, -INFINITY) << what;
        continue;
      }
      double want = ref[q][j].score, tol = 1e-4 * (1 + std::fabs(want));
      ASSERT_NE(label, kNoLabel) << what << " q" << q << " rank " << j;
      ASSERT_TRUE(seen.insert(label).second) << what << " label repeats";
      EXPECT_NEAR(score, want, tol) << what << " q" << q << " rank " << j;
      double true_score = ref_score(m, queries.data() + q * dim, base.data() + (label - first_label) * dim, dim);
      EXPECT_NEAR(score, true_score, tol) << what << " label " << label << " reported a score it does not have";
    }
  }
}

struct Plan {
  const char* name;
  size_t rows, queries;
};

TEST(Flat, ExactSearchEqualsBruteForceForEveryMetricAndPlan) {
  ThreadPool pool(4);
  const size_t dim = 19, k = 10;
  // 200 queries x 900 rows: split by query blocks; 3 queries x 6000 rows: split by rows, merged.
  for (Plan plan : {Plan{"by-queries", 900, 200}, Plan{"by-rows", 6000, 3}}) {
    std::vector<float> base = gaussian_rows(plan.rows, dim, 21), queries = gaussian_rows(plan.queries, dim, 22);
    std::vector<uint32_t> labels = label_range(plan.rows, 1000);
    for (Metric m : {Metric::kL2, Metric::kIp, Metric::kCosine, Metric::kL1}) {
      auto index = make_index(config(dim, m, IndexKind::kFlat));
      ASSERT_TRUE(index->add(labels.data(), base.data(), plan.rows, pool).is_ok());
      Results r = search(*index, queries, dim, k, SearchOptions(), pool);
      std::vector<std::vector<RefHit>> ref;
      for (size_t q = 0; q < plan.queries; q++)
        ref.push_back(brute_force(m, base, labels, queries.data() + q * dim, dim, k));
      expect_exact(r, ref, base, queries, dim, m, 1000, std::string(plan.name) + "/" + metric_name(m));
    }
  }
}

TEST(Flat, KBeyondTheRowCountPadsWithEmptySlots) {
  ThreadPool pool(2);
  std::vector<float> base = gaussian_rows(5, 4, 1), queries = gaussian_rows(2, 4, 2);
  std::vector<uint32_t> labels = label_range(5);
  auto index = make_index(config(4, Metric::kL2, IndexKind::kFlat));
  ASSERT_TRUE(index->add(labels.data(), base.data(), 5, pool).is_ok());
  Results r = search(*index, queries, 4, 8, SearchOptions(), pool);
  std::vector<std::vector<RefHit>> ref;
  for (size_t q = 0; q < 2; q++) ref.push_back(brute_force(Metric::kL2, base, labels, queries.data() + q * 4, 4, 8));
  expect_exact(r, ref, base, queries, 4, Metric::kL2, 0, "padded");
}

TEST(Flat, QuantizedStorageRerankReturnsExactScores) {
  ThreadPool pool(2);
  const size_t n = 3000, dim = 32, nq = 40, k = 10;
  std::vector<float> base = gaussian_rows(n, dim, 31, 20), queries = gaussian_rows(nq, dim, 32, 20);
  std::vector<uint32_t> labels = label_range(n);
  for (StorageKind s : {StorageKind::kF16, StorageKind::kSq8}) {
    for (Metric m : {Metric::kL2, Metric::kIp, Metric::kCosine, Metric::kL1}) {
      auto index = make_index(config(dim, m, IndexKind::kFlat, s));
      ASSERT_TRUE(index->add(labels.data(), base.data(), n, pool).is_ok());
      Results r = search(*index, queries, dim, k, SearchOptions(), pool);
      std::vector<std::vector<RefHit>> ref;
      for (size_t q = 0; q < nq; q++) ref.push_back(brute_force(m, base, labels, queries.data() + q * dim, dim, k));
      std::string what = std::string(storage_name(s)) + "/" + metric_name(m);
      EXPECT_GE(recall(r, ref), 0.97) << what;
      for (size_t i = 0; i < r.labels.size(); i++) {
        double exact = ref_score(m, queries.data() + (i / k) * dim, base.data() + r.labels[i] * dim, dim);
        ASSERT_NEAR(r.scores[i], exact, 1e-4 * (1 + std::fabs(exact))) << what << ": scores come from the f32 rerank";
      }
    }
  }
}

TEST(Flat, SqEightSurvivesTheWidestFiniteRange) {
  // Values near +-FLT_MAX: the per-dimension range (hi - lo) overflows float.
  ThreadPool pool(2);
  const size_t dim = 4;
  std::vector<float> base = {3e38f, -3e38f, 1.f, 0.f, -3e38f, 3e38f, 0.f, 1.f, 0.f, 0.f, 0.f, 0.f};
  std::vector<uint32_t> labels = label_range(3);
  auto index = make_index(config(dim, Metric::kIp, IndexKind::kFlat, StorageKind::kSq8));
  ASSERT_TRUE(index->add(labels.data(), base.data(), 3, pool).is_ok());
  std::vector<float> more = {1e38f, 1e38f, 2.f, 2.f};
  uint32_t label = 3;
  ASSERT_TRUE(index->add(&label, more.data(), 1, pool).is_ok());
  Results r = search(*index, std::vector<float>{0.f, 0.f, 1.f, 0.f}, dim, 4, SearchOptions(), pool);
  EXPECT_EQ(r.labels[0], 3u);  // ip 2 beats 1, 0, 0
}

TEST(Index, RefusesBadConfigsAndInputsWithTypedCodes) {
  ThreadPool pool(1);
  std::unique_ptr<Index> index;
  EXPECT_EQ(Index::create(config(0, Metric::kL2, IndexKind::kFlat), &index).code(), Code::kInvalidArgument);
  EXPECT_EQ(Index::create(config(kGuards.dim.max + 1, Metric::kL2, IndexKind::kFlat), &index).code(), Code::kLimit);
  IndexConfig bad_m = config(4, Metric::kL2, IndexKind::kHnsw);
  bad_m.hnsw.M = 1;
  EXPECT_EQ(Index::create(bad_m, &index).code(), Code::kInvalidArgument);
  bad_m.hnsw.M = kGuards.M.max + 1;
  EXPECT_EQ(Index::create(bad_m, &index).code(), Code::kLimit);
  IndexConfig bad_metric = config(4, (Metric)7, IndexKind::kFlat);
  EXPECT_EQ(Index::create(bad_metric, &index).code(), Code::kInvalidArgument);

  index = make_index(config(2, Metric::kL2, IndexKind::kFlat));
  std::vector<float> v = {1, 2, 3, 4};
  uint32_t dup[2] = {5, 5};
  EXPECT_EQ(index->add(dup, v.data(), 2, pool).code(), Code::kDuplicateLabel);
  EXPECT_EQ(index->stats().count, 0u) << "a refused add changes nothing";
  uint32_t reserved = kNoLabel;
  EXPECT_EQ(index->add(&reserved, v.data(), 1, pool).code(), Code::kInvalidArgument);
  std::vector<float> nan = {1, NAN};
  uint32_t one = 1;
  EXPECT_EQ(index->add(&one, nan.data(), 1, pool).code(), Code::kNonFinite);
  ASSERT_TRUE(index->add(&one, v.data(), 1, pool).is_ok());
  EXPECT_EQ(index->add(&one, v.data() + 2, 1, pool).code(), Code::kDuplicateLabel);
  uint32_t l;
  float s;
  EXPECT_EQ(index->search(v.data(), 1, 0, SearchOptions(), &l, &s, pool).code(), Code::kInvalidArgument);
  std::vector<uint32_t> ls(kGuards.k.max + 1);
  std::vector<float> ss(kGuards.k.max + 1);
  EXPECT_EQ(index->search(v.data(), 1, kGuards.k.max + 1, SearchOptions(), ls.data(), ss.data(), pool).code(),
            Code::kLimit);
  EXPECT_EQ(index->search(nan.data(), 1, 1, SearchOptions(), &l, &s, pool).code(), Code::kNonFinite);
  SearchOptions wide;
  wide.ef_search = kGuards.ef_search.max + 1;
  EXPECT_EQ(index->search(v.data(), 1, 1, wide, &l, &s, pool).code(), Code::kLimit);
  wide = SearchOptions();
  wide.rerank_factor = kGuards.rerank_factor.max + 1;
  EXPECT_EQ(index->search(v.data(), 1, 1, wide, &l, &s, pool).code(), Code::kLimit);
}

}  // namespace
