// The walk over sq8 codes on a prepared (16-bit integer) query: its distances
// equal the distance from the f32 query to the decoded codes, within the bound
// the query's rounding allows, on every metric it serves, after the range
// widens (every row re-encoded), after compaction and on any dimension.
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>
#include <vector>

#include "ragwire/vector_storage.hpp"
#include "support.hpp"

namespace {

using namespace ragwire;
using namespace ragwire_test;

void normalise(std::vector<float>& rows, size_t dim) {
  for (size_t r = 0; r < rows.size() / dim; r++) {
    double s = 0;
    for (size_t d = 0; d < dim; d++) s += (double)rows[r * dim + d] * rows[r * dim + d];
    for (size_t d = 0; d < dim; d++) rows[r * dim + d] = (float)(rows[r * dim + d] / std::sqrt(s));
  }
}

// Checks approx(q, id) against the decoded row for every row, with the bound:
// each a_i is off by at most W / 2, so sum a_i c_i is off by W / 2 * sum c_i,
// times 2 for l2; plus float rounding of the three terms.
void expect_matches_decoded(const VectorStorage& vs, Metric m, const float* q, size_t dim, const std::string& what) {
  bool l2 = m == Metric::kL2;
  const float *lo = vs.sq8_lo(), *step = vs.sq8_step();
  double wmax = 0, bias = 0;
  for (size_t d = 0; d < dim; d++) {
    double x = l2 ? (double)q[d] - lo[d] : q[d];
    wmax = std::max(wmax, std::fabs(x * step[d]));
    bias += l2 ? x * x : std::fabs((double)q[d] * lo[d]);
  }
  double qmax = (double)std::min<int64_t>(kInt16QueryMax, INT32_MAX / (255 * (int64_t)dim));
  double w = wmax / qmax;
  QueryCodes pq;
  vs.prepare(q, pq);
  for (uint32_t id = 0; id < vs.size(); id++) {
    const uint8_t* c = vs.sq8_row(id);
    double want = 0, codes = 0, cross = 0, norm = 0;
    for (size_t d = 0; d < dim; d++) {
      double x = (double)lo[d] + (double)c[d] * step[d];
      want += l2 ? (q[d] - x) * (q[d] - x) : -(double)q[d] * x;
      codes += c[d];
      cross += std::fabs((l2 ? (double)q[d] - lo[d] : q[d]) * step[d] * c[d]);
      norm += ((double)step[d] * c[d]) * ((double)step[d] * c[d]);
    }
    double tol = (l2 ? 2 : 1) * w / 2 * codes + 1e-5 * (bias + norm + 2 * cross) + 1e-6;
    ASSERT_NEAR(vs.approx(pq, id), want, tol) << what << " row " << id;
  }
}

TEST(QuantizedWalk, Sq8DistancesOnTheIntegerQueryMatchTheDecodedCodes) {
  for (Metric m : {Metric::kL2, Metric::kIp, Metric::kCosine}) {
    for (size_t dim : {1, 37, 128, 768}) {
      std::string what = std::string(metric_name(m)) + " dim " + std::to_string(dim);
      std::vector<float> rows = gaussian_rows(300, dim, 71, 5), wider = gaussian_rows(100, dim, 72, 5);
      for (float& v : wider) v *= 3;  // outside the first range: every row is re-encoded
      std::vector<float> queries = gaussian_rows(6, dim, 73);
      for (size_t i = 0; i < dim; i++) queries[5 * dim + i] *= 10;  // a query far outside the grid
      if (m == Metric::kCosine) {
        normalise(rows, dim);
        normalise(wider, dim);
        normalise(queries, dim);
      }
      VectorStorage vs;
      vs.init((uint32_t)dim, m, StorageKind::kSq8);
      ASSERT_TRUE(vs.append(rows.data(), 300).is_ok());
      for (size_t q = 0; q < 6; q++) expect_matches_decoded(vs, m, queries.data() + q * dim, dim, what);
      ASSERT_TRUE(vs.append(wider.data(), 100).is_ok());
      for (size_t q = 0; q < 6; q++) expect_matches_decoded(vs, m, queries.data() + q * dim, dim, what + " widened");
    }
  }
}

TEST(QuantizedWalk, TheScanGivesEachRowItsEightBitDistanceCloseToTheWalks) {
  // The scan computes four rows per kernel call and the rest one by one; both are exact integer
  // sums on the query's 8-bit form, so its distances equal scan_distance() bit for bit, and they
  // stay close to the walk's (16-bit) distances: the flat search reranks what it keeps in f32.
  for (Metric m : {Metric::kL2, Metric::kIp}) {
    for (size_t dim : {5, 64, 130, 768}) {
      const size_t n = 103;
      std::vector<float> rows = gaussian_rows(n, dim, 75), q = gaussian_rows(1, dim, 76);
      VectorStorage vs;
      vs.init((uint32_t)dim, m, StorageKind::kSq8);
      ASSERT_TRUE(vs.append(rows.data(), n).is_ok());
      QueryCodes pq;
      vs.prepare(q.data(), pq);
      std::vector<float> seen(n, -1.f);
      vs.scan(
          pq, 2, n, [](uint32_t id) { return id % 5 != 3; }, [&](uint32_t id, float d) { seen[id] = d; });
      float lo = INFINITY, hi = -INFINITY;
      for (uint32_t id = 0; id < n; id++) {
        lo = std::min(lo, vs.approx(pq, id));
        hi = std::max(hi, vs.approx(pq, id));
      }
      for (uint32_t id = 0; id < n; id++) {
        if (id < 2 || id % 5 == 3) {
          EXPECT_EQ(seen[id], -1.f) << "row " << id << " is outside the scan or filtered out";
          continue;
        }
        ASSERT_EQ(seen[id], vs.scan_distance(pq, id)) << metric_name(m) << " dim " << dim << " row " << id;
        // Within 2% of the spread of the walk's distances over the rows.
        EXPECT_NEAR(seen[id], vs.approx(pq, id), 0.02 * (hi - lo)) << metric_name(m) << " dim " << dim << " row " << id;
      }
    }
  }
}

TEST(QuantizedWalk, CompactionKeepsEachRowsDistance) {
  const size_t dim = 40, n = 200;
  std::vector<float> rows = gaussian_rows(n, dim, 81), q = gaussian_rows(1, dim, 82);
  VectorStorage vs;
  vs.init(dim, Metric::kL2, StorageKind::kSq8);
  ASSERT_TRUE(vs.append(rows.data(), n).is_ok());
  QueryCodes pq;
  vs.prepare(q.data(), pq);
  std::vector<float> before(n);
  for (uint32_t id = 0; id < n; id++) before[id] = vs.approx(pq, id);
  std::vector<uint8_t> keep(n);
  for (size_t i = 0; i < n; i++) keep[i] = i % 3 != 0;
  ASSERT_TRUE(vs.compact(keep.data()).is_ok());
  vs.prepare(q.data(), pq);
  uint32_t w = 0;
  for (uint32_t id = 0; id < n; id++)
    if (keep[id]) ASSERT_EQ(vs.approx(pq, w++), before[id]) << "row " << id;  // its row norm moved with it
  EXPECT_EQ(w, vs.size());
}

TEST(QuantizedWalk, L1DecodesAgainstTheFloatQuery) {
  // l1 has no dot-product form; the walk decodes the codes (the float kernel).
  const size_t dim = 20;
  std::vector<float> rows = gaussian_rows(50, dim, 91), q = gaussian_rows(1, dim, 92);
  VectorStorage vs;
  vs.init(dim, Metric::kL1, StorageKind::kSq8);
  ASSERT_TRUE(vs.append(rows.data(), 50).is_ok());
  QueryCodes pq;
  vs.prepare(q.data(), pq);
  for (uint32_t id = 0; id < 50; id++) {
    double want = 0;
    for (size_t d = 0; d < dim; d++)
      want += std::fabs(q[d] - (vs.sq8_lo()[d] + (double)vs.sq8_row(id)[d] * vs.sq8_step()[d]));
    ASSERT_NEAR(vs.approx(pq, id), want, 1e-4 * (1 + want));
  }
}

}  // namespace
