// Run once per level by ctest with RAGWIRE_ISA set (scalar, avx2, avx512,
// neon): the engine must pick exactly that table when the CPU runs it, and
// searches through it must equal the exact reference. RAGWIRE_ISA is read
// once per process, hence one process per level.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "isa_support.hpp"
#include "ragwire/index.hpp"
#include "support.hpp"

namespace {

using namespace ragwire;
using namespace ragwire_test;

std::string requested() {
  const char* v = std::getenv("RAGWIRE_ISA");
  return v ? v : "";
}

const IsaCase* requested_case() {
  static const std::vector<IsaCase> cases = isa_cases();
  for (const IsaCase& c : cases)
    if (requested() == c.name) return &c;
  return nullptr;
}

TEST(IsaLevel, TheCapPicksTheRequestedTableAndSearchesEqualTheReference) {
  const IsaCase* c = requested_case();
  ASSERT_NE(c, nullptr) << "set RAGWIRE_ISA to one of avx512, avx2, neon, scalar (got '" << requested() << "')";
  if (!c->table) GTEST_SKIP() << c->name << " is not compiled into this build";
  if (!c->cpu_has) GTEST_SKIP() << "this CPU lacks " << c->name << ": the cap never forces an unsupported set";
  ASSERT_STREQ(isa(), c->name);
  ASSERT_EQ(&kernels(), c->table) << "the engine must use the table it reports";

  const size_t n = 600, dim = 37, nq = 12, k = 10;  // dim 37: every SIMD width leaves a tail
  std::vector<float> base = gaussian_rows(n, dim, 3, 8), queries = gaussian_rows(nq, dim, 4, 8);
  std::vector<uint32_t> labels = label_range(n, 100);
  ThreadPool pool(2);
  for (Metric m : {Metric::kL2, Metric::kIp, Metric::kCosine, Metric::kL1}) {
    for (StorageKind s : {StorageKind::kF32, StorageKind::kF16, StorageKind::kSq8}) {
      auto index = make_index(config(dim, m, IndexKind::kFlat, s));
      ASSERT_TRUE(index->add(labels.data(), base.data(), n, pool).is_ok());
      Results r = search(*index, queries, dim, k, SearchOptions(), pool);
      std::vector<std::vector<RefHit>> ref;
      for (size_t q = 0; q < nq; q++) ref.push_back(brute_force(m, base, labels, queries.data() + q * dim, dim, k));
      std::string what = std::string(metric_name(m)) + "/" + storage_name(s);
      if (s == StorageKind::kF32) {
        for (size_t i = 0; i < nq * k; i++) {
          double want = ref[i / k][i % k].score;
          ASSERT_NEAR(r.scores[i], want, 1e-4 * (1 + std::fabs(want))) << what << " rank " << i % k;
        }
      } else {
        EXPECT_GE(recall(r, ref), 0.9) << what;  // quantized scan, exact rerank
      }
    }
  }
}

}  // namespace
