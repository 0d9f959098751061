// The native planner (src/dataplane/search_plan.cpp) decides as packages/store/src/search-placement.ts:
// a flat index never scans apart, a search under the exact-scan bytes scans, and a filtered HNSW
// search scans where the scan reads fewer rows than walk_cost x ef x M / selectivity.
#include "search_plan.hpp"

#include <gtest/gtest.h>

namespace ragwire::dataplane {
namespace {

PlanRules rules(uint64_t bytes) {
  PlanRules r;
  r.exact_scan_bytes = bytes;
  r.walk_cost = 2;
  r.m = 16;
  r.ef_search = 64;
  return r;
}

TEST(SearchPlan, AFlatIndexNeverScansApart) {
  EXPECT_FALSE(exact_scan(rules(1 << 30), IndexKind::kFlat, 10, 10, 4, 1, 0));
}

TEST(SearchPlan, ScansBelowTheExactScanBytes) {
  // 100 rows x 8 floats x 4 bytes = 3200.
  EXPECT_TRUE(exact_scan(rules(3200), IndexKind::kHnsw, 100, 100, 8, 1, 0));
  EXPECT_FALSE(exact_scan(rules(3199), IndexKind::kHnsw, 100, 100, 8, 1, 0));
  EXPECT_FALSE(exact_scan(rules(3199), IndexKind::kBq, 150, 200, 8, 1, 0));  // only HNSW compares costs
}

TEST(SearchPlan, AFilteredWalkLosesToTheScanBelowItsCrossover) {
  // rows 1e6: the scan wins while allowed^2 <= 2 x max(ef, k) x M x rows.
  const uint64_t rows = 1000000;
  const double ef64 = 2.0 * 64 * 16 * rows;  // allowed <= sqrt(ef64) ~ 45254
  EXPECT_TRUE(exact_scan(rules(1), IndexKind::kHnsw, 45254, rows, 128, 10, 0));
  EXPECT_FALSE(exact_scan(rules(1), IndexKind::kHnsw, 45255, rows, 128, 10, 0));
  EXPECT_LT(45254.0 * 45254.0, ef64);
  // A larger efSearch (or k) widens the walk: the scan wins further.
  EXPECT_TRUE(exact_scan(rules(1), IndexKind::kHnsw, 60000, rows, 128, 10, 128));
  EXPECT_TRUE(exact_scan(rules(1), IndexKind::kHnsw, 60000, rows, 128, 128, 0));
  // Nothing allowed: the scan; exact_scan_bytes 0 turns the comparison off.
  EXPECT_TRUE(exact_scan(rules(1), IndexKind::kHnsw, 0, rows, 128, 10, 0));
  EXPECT_FALSE(exact_scan(rules(0), IndexKind::kHnsw, 10, rows, 128, 10, 0));
}

}  // namespace
}  // namespace ragwire::dataplane
