// Snapshots: a round trip gives the same answers for every kind and storage;
// a truncated, bit-flipped, wrong-version or structurally inconsistent file
// is refused with kCorruptSnapshot (never loaded, never a crash).
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "ragwire/index.hpp"
#include "ragwire/snapshot.hpp"
#include "support.hpp"

namespace {

using namespace ragwire;
using namespace ragwire_test;

constexpr size_t kDim = 10;

std::unique_ptr<Index> built(IndexKind kind, StorageKind s, ThreadPool& pool, size_t n = 700) {
  IndexConfig cfg = config(kDim, Metric::kCosine, kind, s);
  cfg.hnsw.M = 6;
  cfg.hnsw.ef_construction = 40;
  auto index = make_index(cfg);
  std::vector<float> base = gaussian_rows(n, kDim, 81, 9);
  std::vector<uint32_t> labels = label_range(n, 3);
  EXPECT_TRUE(index->add(labels.data(), base.data(), n, pool).is_ok());
  std::vector<uint32_t> gone = {3, 10, 50};
  size_t removed;
  EXPECT_TRUE(index->remove(gone.data(), gone.size(), &removed).is_ok());
  return index;
}

Status load(const std::string& path, std::unique_ptr<Index>* out = nullptr) {
  std::unique_ptr<Index> index;
  std::vector<uint8_t> user;
  return Index::load(path, out ? out : &index, &user);
}

TEST(Snapshot, RoundTripGivesTheSameAnswersForEveryKindAndStorage) {
  ThreadPool pool(2);
  TempDir dir;
  std::vector<float> queries = gaussian_rows(25, kDim, 82, 9);
  const uint8_t user[] = {1, 2, 3, 250};
  for (IndexKind kind : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kBq}) {
    for (StorageKind s : {StorageKind::kF32, StorageKind::kF16, StorageKind::kSq8}) {
      std::string what = std::string(kind_name(kind)) + "/" + storage_name(s);
      std::string path = dir.file(std::string(kind_name(kind)) + "-" + storage_name(s));
      auto index = built(kind, s, pool);
      ASSERT_TRUE(index->save(path, user, sizeof user).is_ok()) << what;
      std::unique_ptr<Index> loaded;
      std::vector<uint8_t> user_back;
      Status st = Index::load(path, &loaded, &user_back);
      ASSERT_TRUE(st.is_ok()) << what << ": " << st.message();
      EXPECT_EQ(user_back, std::vector<uint8_t>(user, user + sizeof user));
      EXPECT_EQ(loaded->stats().count, index->stats().count);
      EXPECT_EQ(loaded->stats().deleted, 3u);
      EXPECT_EQ(loaded->config().hnsw.M, 6u);
      SearchOptions opts;
      Results a = search(*index, queries, kDim, 10, opts, pool), b = search(*loaded, queries, kDim, 10, opts, pool);
      EXPECT_EQ(a.labels, b.labels) << what;
      EXPECT_EQ(a.scores, b.scores) << what;
      // The loaded index, its arrays borrowed from the mapping, takes writes.
      std::vector<float> more = gaussian_rows(50, kDim, 83, 9);
      std::vector<uint32_t> labels = label_range(50, 5000);
      ASSERT_TRUE(loaded->add(labels.data(), more.data(), 50, pool).is_ok()) << what;
      Results self = search(*loaded, std::vector<float>(more.begin(), more.begin() + kDim), kDim, 1, opts, pool);
      EXPECT_EQ(self.labels[0], 5000u) << what;
      ASSERT_TRUE(loaded->compact(pool).is_ok()) << what;
      EXPECT_EQ(loaded->stats().count, index->stats().count + 50);
    }
  }
}

TEST(Snapshot, AnEmptyIndexRoundTrips) {
  ThreadPool pool(1);
  TempDir dir;
  for (IndexKind kind : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kBq}) {
    for (StorageKind s : {StorageKind::kF32, StorageKind::kSq8}) {
      auto index = make_index(config(kDim, Metric::kL2, kind, s));
      ASSERT_TRUE(index->save(dir.file("empty"), nullptr, 0).is_ok());
      std::unique_ptr<Index> loaded;
      ASSERT_TRUE(load(dir.file("empty"), &loaded).is_ok()) << kind_name(kind);
      EXPECT_EQ(loaded->stats().count, 0u);
      std::vector<float> v = gaussian_rows(3, kDim, 1);
      std::vector<uint32_t> labels = label_range(3);
      ASSERT_TRUE(loaded->add(labels.data(), v.data(), 3, pool).is_ok()) << kind_name(kind);
    }
  }
}

class SnapshotRefusal : public ::testing::Test {
 protected:
  void SetUp() override {
    ThreadPool pool(2);
    for (IndexKind kind : {IndexKind::kHnsw, IndexKind::kBq, IndexKind::kFlat}) {
      std::string path = dir_.file(std::string("good-") + kind_name(kind));
      ASSERT_TRUE(built(kind, StorageKind::kSq8, pool, 300)->save(path, nullptr, 0).is_ok());
      good_.push_back(read_bytes(path));
    }
    ASSERT_TRUE(load(write(good_[0])).is_ok()) << "the unmodified file loads";
  }
  std::string write(const std::vector<uint8_t>& bytes) {
    std::string path = dir_.file("case-" + std::to_string(n_++));
    write_bytes(path, bytes);
    return path;
  }
  void expect_corrupt(const std::vector<uint8_t>& bytes, const std::string& what, const char* message_part = nullptr) {
    Status st = load(write(bytes));
    EXPECT_EQ(st.code(), Code::kCorruptSnapshot) << what << ": " << code_name(st.code()) << " " << st.message();
    if (message_part) {
      EXPECT_NE(st.message().find(message_part), std::string::npos) << st.message();
    }
  }
  std::vector<uint8_t>& hnsw() { return good_[0]; }
  std::vector<uint8_t>& bq() { return good_[1]; }
  TempDir dir_;
  std::vector<std::vector<uint8_t>> good_;
  int n_ = 0;
};

TEST_F(SnapshotRefusal, TruncatedFiles) {
  const std::vector<uint8_t>& b = hnsw();
  for (size_t len :
       {size_t(0), size_t(7), size_t(63), size_t(64), size_t(100), b.size() / 2, b.size() - 64, b.size() - 1}) {
    std::vector<uint8_t> cut(b.begin(), b.begin() + len);
    expect_corrupt(cut, "truncated to " + std::to_string(len));
  }
}

TEST_F(SnapshotRefusal, EveryFlippedBitInTheHeaderAndSampledBitsInTheBody) {
  for (const std::vector<uint8_t>& b : good_) {
    std::vector<size_t> positions;
    for (size_t i = 0; i < 64 * 8; i++) positions.push_back(i);                         // the header, bit by bit
    for (size_t i = 64 * 8; i < b.size() * 8; i += 8 * 37 + 3) positions.push_back(i);  // table, padding, sections
    for (size_t bit : positions) {
      std::vector<uint8_t> flipped = b;
      flipped[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      Status st = load(write(flipped));
      ASSERT_EQ(st.code(), Code::kCorruptSnapshot) << "bit " << bit << ": " << st.message();
    }
  }
}

TEST_F(SnapshotRefusal, WrongVersionAndBadMagic) {
  std::vector<uint8_t> b = hnsw();
  uint32_t version = kSnapshotVersion + 1;
  std::memcpy(b.data() + 8, &version, 4);
  reseal_snapshot(b);  // a well-formed file of another version, not a damaged one
  expect_corrupt(b, "version", "unsupported format version");
  std::vector<uint8_t> m = hnsw();
  m[0] = 'X';
  reseal_snapshot(m);
  expect_corrupt(m, "magic", "bad magic");
}

TEST_F(SnapshotRefusal, AMissingFileIsAnIoError) { EXPECT_EQ(load(dir_.file("absent")).code(), Code::kIo); }

// Structural damage behind valid checksums: what a buggy writer, or a
// deliberate edit, could produce. Each must be refused before any search.
TEST_F(SnapshotRefusal, InconsistentStructureBehindValidChecksums) {
  auto edit = [&](std::vector<uint8_t> b, const char(&tag)[5], size_t at, uint32_t value) {
    size_t off, size;
    EXPECT_TRUE(find_section(b, tag, &off, &size)) << tag;
    EXPECT_LE(at + 4, size) << tag;
    std::memcpy(b.data() + off + at, &value, 4);
    reseal_snapshot(b);
    return b;
  };
  size_t off, size;
  ASSERT_TRUE(find_section(hnsw(), "HNLV", &off, &size));
  uint32_t rows = (uint32_t)size;
  // node 0's first layer-0 link pointing past the last row
  expect_corrupt(edit(hnsw(), "HNL0", 4, rows), "link out of range");
  // node 0's layer-0 degree above 2M
  expect_corrupt(edit(hnsw(), "HNL0", 0, 13), "degree");
  // the entry point moved to a node below the top layer
  std::vector<uint8_t> levels(hnsw().begin() + off, hnsw().begin() + off + size);
  uint32_t low = 0;
  while (low < rows && levels[low] != 0) low++;
  ASSERT_LT(low, rows);
  expect_corrupt(edit(hnsw(), "HNSW", 0, low), "entry below the top layer");
  // an upper-layer link to a node that is not on that layer
  uint32_t high = 0;
  while (high < rows && levels[high] == 0) high++;
  ASSERT_LT(high, rows);
  size_t up_at = 0;  // the HNUP offset of node `high`'s layer-1 list
  for (uint32_t id = 0; id < high; id++) up_at += (size_t)levels[id] * (6 + 1) * 4;
  std::vector<uint8_t> b = edit(hnsw(), "HNUP", up_at, 1);                          // one link...
  expect_corrupt(edit(b, "HNUP", up_at + 4, low), "upper link to a layer-0 node");  // ...to `low`
  // meta: more tombstones claimed than present; an unknown metric
  expect_corrupt(edit(hnsw(), "META", 48, 7), "tombstone count");
  expect_corrupt(edit(hnsw(), "META", 4, 9), "unknown metric");
  // BQ: rows present but the centre section empty
  std::vector<uint8_t> q = bq();
  ASSERT_TRUE(find_section(q, "BQMN", &off, &size));
  uint32_t count;
  std::memcpy(&count, q.data() + 12, 4);
  for (uint32_t i = 0; i < count; i++) {  // set BQMN's size to 0 in the section table
    uint8_t* entry = q.data() + 64 + (size_t)i * 24;
    uint32_t tag;
    std::memcpy(&tag, entry, 4);
    if (tag == section_tag("BQMN")) {
      uint64_t zero = 0;
      std::memcpy(entry + 16, &zero, 8);
    }
  }
  reseal_snapshot(q);
  expect_corrupt(q, "BQ centre missing");
}

// The section table itself, behind valid checksums. Sections are borrowed in
// place and written through, so two sections sharing bytes (or a section over
// the table) would let a write to one change the other after every check ran:
// a fuzzed file did so, and the next add read a link that a write had changed.
TEST_F(SnapshotRefusal, SectionsThatShareBytesOrRepeat) {
  auto retarget = [&](std::vector<uint8_t> b, const char(&tag)[5], uint64_t offset, const char(&as)[5]) {
    uint32_t count;
    std::memcpy(&count, b.data() + 12, 4);
    for (uint32_t i = 0; i < count; i++) {
      uint8_t* entry = b.data() + 64 + (size_t)i * 24;
      uint32_t t;
      std::memcpy(&t, entry, 4);
      if (t != section_tag(tag)) continue;
      if (offset != UINT64_MAX) std::memcpy(entry + 8, &offset, 8);
      uint32_t rename = section_tag(as);
      std::memcpy(entry, &rename, 4);
    }
    reseal_snapshot(b);
    return b;
  };
  size_t labels_at, labels_size, links_at, links_size;
  ASSERT_TRUE(find_section(hnsw(), "LABL", &labels_at, &labels_size));
  ASSERT_TRUE(find_section(hnsw(), "HNL0", &links_at, &links_size));
  // layer-0 links laid over the labels (both still sized and in bounds)
  expect_corrupt(retarget(hnsw(), "HNL0", labels_at, "HNL0"), "links over labels", "overlap");
  // the labels moved onto the section table
  expect_corrupt(retarget(hnsw(), "LABL", 64, "LABL"), "labels over the table", "out of bounds");
  // a second section with the labels' tag
  expect_corrupt(retarget(hnsw(), "HNLV", UINT64_MAX, "LABL"), "a repeated tag", "twice");
}

}  // namespace
