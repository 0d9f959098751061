// Layer 0 with inline codes (HnswParams::inline_codes): the walk reads each neighbour's codes from
// the node's block instead of the neighbour's row, so on the same graph it takes the same steps and
// returns the same hits. One-thread builds give both indexes the same graph; a parallel build's
// copies, kept up to date add by add, must equal the ones a snapshot load derives afresh.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "ragwire/index.hpp"
#include "ragwire/thread_pool.hpp"
#include "support.hpp"

namespace {

using namespace ragwire;
using namespace ragwire_test;

IndexConfig sq8_hnsw(uint32_t dim, Metric m, bool inline_codes) {
  IndexConfig c = config(dim, m, IndexKind::kHnsw, StorageKind::kSq8);
  c.hnsw.M = 8;
  c.hnsw.ef_construction = 64;
  c.hnsw.inline_codes = inline_codes;
  return c;
}

void expect_same(const Results& a, const Results& b, const std::string& what) {
  ASSERT_EQ(a.labels, b.labels) << what;
  ASSERT_EQ(a.scores, b.scores) << what;
}

// Three adds: the second lies outside the first's sq8 range (every row re-encoded, every copy
// refreshed), the third inside it (only new nodes and the lists that changed are refreshed).
std::vector<std::vector<float>> three_batches(size_t dim, Metric m, uint64_t seed) {
  std::vector<std::vector<float>> b = {gaussian_rows(600, dim, seed, 12), gaussian_rows(500, dim, seed + 1, 12),
                                       gaussian_rows(700, dim, seed + 2, 12)};
  for (float& v : b[1]) v *= 3;
  if (m == Metric::kCosine)
    for (auto& rows : b)
      for (size_t r = 0; r < rows.size() / dim; r++) {
        double s = 0;
        for (size_t d = 0; d < dim; d++) s += (double)rows[r * dim + d] * rows[r * dim + d];
        for (size_t d = 0; d < dim; d++) rows[r * dim + d] = (float)(rows[r * dim + d] / std::sqrt(s));
      }
  return b;
}

TEST(InlineCodes, TheWalkReturnsWhatTheRowWalkReturnsAfterEveryAddRemovalAndCompaction) {
  ThreadPool pool(1);
  for (Metric m : {Metric::kL2, Metric::kIp, Metric::kCosine}) {
    for (uint32_t dim : {24u, 130u}) {
      std::string what = std::string(metric_name(m)) + " dim " + std::to_string(dim);
      auto batches = three_batches(dim, m, 300 + dim);
      std::vector<float> queries = gaussian_rows(40, dim, 99, 12);
      auto rows = make_index(sq8_hnsw(dim, m, false));
      auto inl = make_index(sq8_hnsw(dim, m, true));
      SearchOptions opts;
      opts.ef_search = 48;
      uint32_t next = 0;
      for (size_t i = 0; i < batches.size(); i++) {
        size_t n = batches[i].size() / dim;
        std::vector<uint32_t> labels = label_range(n, next);
        next += (uint32_t)n;
        ASSERT_TRUE(rows->add(labels.data(), batches[i].data(), n, pool).is_ok());
        ASSERT_TRUE(inl->add(labels.data(), batches[i].data(), n, pool).is_ok());
        expect_same(search(*rows, queries, dim, 10, opts, pool), search(*inl, queries, dim, 10, opts, pool),
                    what + " after add " + std::to_string(i));
      }
      std::vector<uint32_t> gone = label_range(300, 200);
      size_t removed = 0;
      ASSERT_TRUE(rows->remove(gone.data(), gone.size(), &removed).is_ok());
      ASSERT_TRUE(inl->remove(gone.data(), gone.size(), &removed).is_ok());
      expect_same(search(*rows, queries, dim, 10, opts, pool), search(*inl, queries, dim, 10, opts, pool),
                  what + " after removals");
      ASSERT_TRUE(rows->compact(pool).is_ok());
      ASSERT_TRUE(inl->compact(pool).is_ok());
      expect_same(search(*rows, queries, dim, 10, opts, pool), search(*inl, queries, dim, 10, opts, pool),
                  what + " after compaction");
      // The copies cost 2M rows of codes (and norms for l2) per node.
      size_t row_bytes = dim + (m == Metric::kL2 ? 4 : 0), nodes = next - removed;
      EXPECT_GE(inl->stats().memory_bytes, rows->stats().memory_bytes + nodes * 16 * row_bytes) << what;
    }
  }
}

TEST(InlineCodes, CopiesKeptThroughParallelAddsEqualTheOnesALoadDerives) {
  ThreadPool pool(4);
  TempDir dir;
  const uint32_t dim = 40;
  auto batches = three_batches(dim, Metric::kL2, 17);
  std::vector<float> queries = gaussian_rows(60, dim, 18, 12);
  auto built = make_index(sq8_hnsw(dim, Metric::kL2, true));
  uint32_t next = 0;
  for (auto& b : batches) {
    size_t n = b.size() / dim;
    std::vector<uint32_t> labels = label_range(n, next);
    next += (uint32_t)n;
    ASSERT_TRUE(built->add(labels.data(), b.data(), n, pool).is_ok());
  }
  ASSERT_TRUE(built->save(dir.file("inline.rwx"), nullptr, 0).is_ok());
  std::unique_ptr<Index> loaded;
  ASSERT_TRUE(Index::load(dir.file("inline.rwx"), &loaded, nullptr, DeviceChoice::kCpu, 0, "").is_ok());
  EXPECT_TRUE(loaded->config().hnsw.inline_codes);
  SearchOptions opts;
  opts.ef_search = 80;
  expect_same(search(*built, queries, dim, 10, opts, pool), search(*loaded, queries, dim, 10, opts, pool),
              "parallel build against its snapshot");
}

TEST(InlineCodes, AreRefusedWhereTheWalkDoesNotReadSq8CodesAndABadSectionIsCorrupt) {
  for (auto [kind, storage, metric] : {std::tuple{IndexKind::kHnsw, StorageKind::kF32, Metric::kL2},
                                       std::tuple{IndexKind::kHnsw, StorageKind::kF16, Metric::kL2},
                                       std::tuple{IndexKind::kHnsw, StorageKind::kSq8, Metric::kL1},
                                       std::tuple{IndexKind::kFlat, StorageKind::kSq8, Metric::kL2}}) {
    IndexConfig c = config(16, metric, kind, storage);
    c.hnsw.inline_codes = true;
    std::unique_ptr<Index> index;
    Status st = Index::create(c, &index);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << kind_name(kind) << "/" << storage_name(storage);
  }
  ThreadPool pool(1);
  TempDir dir;
  auto index = make_index(sq8_hnsw(16, Metric::kIp, true));
  std::vector<float> base = gaussian_rows(100, 16, 5);
  std::vector<uint32_t> labels = label_range(100);
  ASSERT_TRUE(index->add(labels.data(), base.data(), 100, pool).is_ok());
  ASSERT_TRUE(index->save(dir.file("a.rwx"), nullptr, 0).is_ok());
  std::vector<uint8_t> bytes = read_bytes(dir.file("a.rwx"));
  size_t at, size;
  ASSERT_TRUE(find_section(bytes, "HNIC", &at, &size));
  ASSERT_EQ(size, 4u);
  bytes[at] = 2;
  reseal_snapshot(bytes);
  write_bytes(dir.file("b.rwx"), bytes);
  std::unique_ptr<Index> loaded;
  EXPECT_EQ(Index::load(dir.file("b.rwx"), &loaded, nullptr, DeviceChoice::kCpu, 0, "").code(), Code::kCorruptSnapshot);
}

}  // namespace
