// Vectors on disk: the f32 rows in a mapped RowFile. The same answers as in memory for every kind
// that allows it, snapshots that round-trip (also empty, also after compaction), and a vector file
// that changed, shrank, vanished or is held by another index refused with a typed status.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "ragwire/index.hpp"
#include "ragwire/row_file.hpp"
#include "support.hpp"

namespace {

using namespace ragwire;
using namespace ragwire_test;

constexpr size_t kDim = 12;
constexpr size_t kRows = 900;

IndexConfig disk_config(IndexKind kind, StorageKind s, const std::string& path) {
  IndexConfig cfg = config(kDim, Metric::kL2, kind, s);
  cfg.hnsw.M = 8;
  cfg.hnsw.ef_construction = 60;
  cfg.vectors = VectorPlacement::kDisk;
  cfg.vectors_path = path;
  return cfg;
}

std::unique_ptr<Index> filled(const IndexConfig& cfg, ThreadPool& pool) {
  auto index = make_index(cfg);
  std::vector<float> base = gaussian_rows(kRows, kDim, 91, 7);
  std::vector<uint32_t> labels = label_range(kRows, 10);
  EXPECT_TRUE(index->add(labels.data(), base.data(), kRows, pool).is_ok());
  return index;
}

Status load(const std::string& path, std::unique_ptr<Index>* out, const std::string& vectors = std::string()) {
  std::vector<uint8_t> user;
  return Index::load(path, out, &user, DeviceChoice::kCpu, 0, vectors);
}

off_t file_size(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

TEST(DiskVectors, SameAnswersAsInMemoryAndSnapshotsRoundTrip) {
  ThreadPool pool(1);  // one thread: the two hnsw builds insert in the same order and build the same graph
  TempDir dir;
  std::vector<float> queries = gaussian_rows(30, kDim, 92, 7);
  SearchOptions opts;
  struct Case {
    IndexKind kind;
    StorageKind storage;
  };
  for (Case c : {Case{IndexKind::kHnsw, StorageKind::kSq8}, Case{IndexKind::kHnsw, StorageKind::kF16},
                 Case{IndexKind::kFlat, StorageKind::kSq8}, Case{IndexKind::kBq, StorageKind::kF32}}) {
    std::string what = std::string(kind_name(c.kind)) + "/" + storage_name(c.storage);
    std::string rows = dir.file(what.replace(what.find('/'), 1, "-") + ".f32"), snap = dir.file(what + ".snap");
    IndexConfig memory_cfg = disk_config(c.kind, c.storage, "");
    memory_cfg.vectors = VectorPlacement::kMemory;
    auto memory = filled(memory_cfg, pool);
    auto disk = filled(disk_config(c.kind, c.storage, rows), pool);
    Results a = search(*memory, queries, kDim, 10, opts, pool), b = search(*disk, queries, kDim, 10, opts, pool);
    EXPECT_EQ(a.labels, b.labels) << what;
    EXPECT_EQ(a.scores, b.scores) << what;
    EXPECT_EQ(disk->stats().mapped_bytes, kRows * kDim * 4) << what;
    EXPECT_GE(memory->stats().memory_bytes - disk->stats().memory_bytes, kRows * kDim * 4) << what;
    ASSERT_TRUE(disk->save(snap, nullptr, 0).is_ok()) << what;
    disk.reset();
    std::unique_ptr<Index> loaded;
    Status st = load(snap, &loaded);
    ASSERT_TRUE(st.is_ok()) << what << ": " << st.message();
    Results c2 = search(*loaded, queries, kDim, 10, opts, pool);
    EXPECT_EQ(a.labels, c2.labels) << what;
    // Adds after loading append to the file; compaction rewrites it and a new snapshot names the new rows.
    std::vector<float> more = gaussian_rows(40, kDim, 93, 7);
    std::vector<uint32_t> labels = label_range(40, 5000);
    ASSERT_TRUE(loaded->add(labels.data(), more.data(), 40, pool).is_ok()) << what;
    size_t removed = 0;
    std::vector<uint32_t> gone = label_range(100, 10);
    ASSERT_TRUE(loaded->remove(gone.data(), gone.size(), &removed).is_ok());
    ASSERT_TRUE(loaded->compact(pool).is_ok()) << what;
    EXPECT_EQ(loaded->stats().mapped_bytes, (kRows + 40 - 100) * kDim * 4) << what;
    Results self = search(*loaded, std::vector<float>(more.begin(), more.begin() + kDim), kDim, 1, opts, pool);
    EXPECT_EQ(self.labels[0], 5000u) << what;
    ASSERT_TRUE(loaded->save(snap + "2", nullptr, 0).is_ok());
    loaded.reset();
    EXPECT_EQ(file_size(rows), (off_t)((kRows + 40 - 100) * kDim * 4)) << what << ": closing trims the reserve";
    ASSERT_TRUE(load(snap + "2", &loaded).is_ok()) << what;
    EXPECT_EQ(loaded->stats().count, kRows + 40 - 100);
    loaded.reset();
    // The first snapshot named the rows compaction rewrote.
    EXPECT_EQ(load(snap, &loaded).code(), Code::kCorruptSnapshot) << what;
  }
}

TEST(DiskVectors, AnEmptyIndexRoundTrips) {
  ThreadPool pool(1);
  TempDir dir;
  auto index = make_index(disk_config(IndexKind::kHnsw, StorageKind::kSq8, dir.file("rows")));
  ASSERT_TRUE(index->save(dir.file("snap"), nullptr, 0).is_ok());
  index.reset();
  std::unique_ptr<Index> loaded;
  Status st = load(dir.file("snap"), &loaded);
  ASSERT_TRUE(st.is_ok()) << st.message();
  std::vector<float> row = gaussian_rows(1, kDim, 5);
  uint32_t label = 7;
  ASSERT_TRUE(loaded->add(&label, row.data(), 1, pool).is_ok());
  EXPECT_EQ(search(*loaded, row, kDim, 1, SearchOptions(), pool).labels[0], 7u);
}

TEST(DiskVectors, RefusesAVectorFileThatChangedShrankOrVanished) {
  ThreadPool pool(2);
  TempDir dir;
  std::string rows = dir.file("rows"), snap = dir.file("snap");
  filled(disk_config(IndexKind::kHnsw, StorageKind::kSq8, rows), pool)->save(snap, nullptr, 0);
  std::vector<uint8_t> good = read_bytes(rows);
  std::unique_ptr<Index> loaded;

  std::vector<uint8_t> flipped = good;
  flipped[flipped.size() / 3] ^= 0x04;
  write_bytes(rows, flipped);
  EXPECT_EQ(load(snap, &loaded).code(), Code::kCorruptSnapshot);
  EXPECT_EQ(read_bytes(rows), flipped) << "a refused file is left as it was";

  write_bytes(rows, std::vector<uint8_t>(good.begin(), good.end() - kDim * 4));
  EXPECT_EQ(load(snap, &loaded).code(), Code::kCorruptSnapshot);

  EXPECT_EQ(load(snap, &loaded, dir.file("absent")).code(), Code::kIo);

  // The record naming the file disagrees with the header (checksums resealed: the check behind them runs).
  write_bytes(rows, good);
  std::vector<uint8_t> bytes = read_bytes(snap);
  size_t off, size;
  ASSERT_TRUE(find_section(bytes, "VDSK", &off, &size));
  bytes[off] ^= 1;  // DiskRows.rows
  reseal_snapshot(bytes);
  write_bytes(snap + "-bad", bytes);
  EXPECT_EQ(load(snap + "-bad", &loaded).code(), Code::kCorruptSnapshot);
  bytes = read_bytes(snap);
  bytes[off + size - 1] ^= 0x20;  // the path: another file, which does not exist
  reseal_snapshot(bytes);
  write_bytes(snap + "-bad", bytes);
  EXPECT_EQ(load(snap + "-bad", &loaded).code(), Code::kIo);

  Status st = load(snap, &loaded);
  EXPECT_TRUE(st.is_ok()) << st.message();
}

TEST(DiskVectors, AFileIsHeldByOneIndexAndLeftAloneByAnother) {
  ThreadPool pool(1);
  TempDir dir;
  std::string rows = dir.file("rows");
  auto first = filled(disk_config(IndexKind::kHnsw, StorageKind::kSq8, rows), pool);
  std::unique_ptr<Index> second;
  EXPECT_EQ(Index::create(disk_config(IndexKind::kHnsw, StorageKind::kSq8, rows), &second).code(), Code::kIo);
  EXPECT_EQ(file_size(rows) >= (off_t)(kRows * kDim * 4), true) << "the holder's rows are not truncated";
  EXPECT_EQ(first->stats().count, kRows);
}

TEST(RowFile, GrowsPastItsReserveAndReopensOnItsChecksum) {
  TempDir dir;
  const std::string path = dir.file("rows");
  const size_t row_bytes = 4096, n = 3000;  // ~12 MiB: the mapping grows (and may move) several times
  std::vector<uint8_t> all(n * row_bytes);
  for (size_t i = 0; i < n; i++)
    std::fill(all.begin() + i * row_bytes, all.begin() + (i + 1) * row_bytes, (uint8_t)(i * 31));
  uint32_t crc;
  {
    RowFile f;
    ASSERT_TRUE(f.create(path, row_bytes).is_ok());
    for (size_t i = 0; i < n; i++) {
      ASSERT_TRUE(f.append(all.data() + i * row_bytes, 1).is_ok());
      ASSERT_EQ(f.data()[i * row_bytes + 17], (uint8_t)(i * 31));
    }
    crc = f.crc();
    EXPECT_EQ(crc, crc32c(0, all.data(), all.size()));
    ASSERT_TRUE(f.sync().is_ok());
    RowFile g;
    EXPECT_EQ(g.open(path, row_bytes, n, crc).code(), Code::kIo) << "held by f";
  }
  EXPECT_EQ(file_size(path), (off_t)all.size()) << "closing trims the reserve";
  {
    RowFile h;
    EXPECT_EQ(h.open(path, row_bytes, n, crc ^ 1).code(), Code::kCorruptSnapshot);
  }
  {
    RowFile m;
    EXPECT_EQ(m.open(path, row_bytes, n + 1, crc).code(), Code::kCorruptSnapshot) << "shorter than named";
  }
  EXPECT_EQ(file_size(path), (off_t)all.size()) << "refused opens cut nothing";
  {
    // A snapshot taken at 2000 rows: the 1000 after it are dropped, the next append takes their place.
    RowFile k;
    ASSERT_TRUE(k.open(path, row_bytes, 2000, crc32c(0, all.data(), 2000 * row_bytes)).is_ok());
    EXPECT_EQ(k.rows(), 2000u);
    EXPECT_EQ(std::memcmp(k.data(), all.data(), 2000 * row_bytes), 0);
    std::vector<uint8_t> one(row_bytes, 0xab);
    ASSERT_TRUE(k.append(one.data(), 1).is_ok());
    EXPECT_EQ(k.data()[2000 * row_bytes], 0xab);
  }
  EXPECT_EQ(file_size(path), (off_t)(2001 * row_bytes));
  {
    // Opened and closed without writing (a snapshot at 1000 rows): the file keeps every row.
    RowFile r;
    ASSERT_TRUE(r.open(path, row_bytes, 1000, crc32c(0, all.data(), 1000 * row_bytes)).is_ok());
  }
  EXPECT_EQ(file_size(path), (off_t)(2001 * row_bytes));
}

}  // namespace
