// The native data plane's payload column (src/dataplane/payload_column.hpp): rows put, replaced and
// removed read back as written, through growth of the mapped file and through compactions, and the
// file has no name to leave behind.
#include "payload_column.hpp"

#include <dirent.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace ragwire::dataplane {
namespace {

size_t entries(const std::string& dir) {
  size_t n = 0;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
  closedir(d);
  return n;
}

struct Expected {
  std::string id;
  std::string payload;
  bool has_payload;
};

void expect_rows(const PayloadColumn& column, const std::map<uint32_t, Expected>& want, uint32_t labels) {
  ASSERT_EQ(column.rows(), want.size());
  for (uint32_t label = 0; label < labels; label++) {
    RowView row;
    auto it = want.find(label);
    ASSERT_EQ(column.find(label, &row), it != want.end()) << label;
    if (it == want.end()) continue;
    EXPECT_EQ(row.id, it->second.id);
    EXPECT_EQ(row.has_payload, it->second.has_payload);
    EXPECT_EQ(row.payload, it->second.payload);
  }
}

TEST(PayloadColumn, RowsReadBackThroughGrowthReplacementsRemovalsAndCompactions) {
  char tmpl[] = "/tmp/ragwire-column-test-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::unique_ptr<PayloadColumn> column;
  ASSERT_TRUE(PayloadColumn::open(dir, &column).is_ok());
  // Unnamed: the directory stays empty while the column lives.
  EXPECT_EQ(entries(dir), 0u);

  std::mt19937 rng(7);
  std::map<uint32_t, Expected> want;
  constexpr uint32_t kLabels = 3000;
  uint64_t written = 0;
  // Enough rounds of 2-6 KiB rows that the file grows past 1 MiB many times and garbage passes the
  // compaction threshold (16 MiB) several times.
  for (int step = 0; step < 40'000; step++) {
    const uint32_t label = rng() % kLabels;
    if (rng() % 5 == 0) {
      column->remove(label);
      want.erase(label);
      continue;
    }
    Expected e{"doc-" + std::to_string(label) + "-" + std::to_string(step),
               std::string(2048 + rng() % 4096, 'a' + step % 26), rng() % 7 != 0};
    if (!e.has_payload) e.payload.clear();
    const std::string_view payload(e.payload);
    ASSERT_TRUE(column->put(label, e.id, e.has_payload ? &payload : nullptr).is_ok());
    written += 8 + e.id.size() + e.payload.size();
    want[label] = e;
  }
  expect_rows(*column, want, kLabels);
  // Compactions kept the file near its live rows, not everything ever written.
  EXPECT_GT(written, 4 * column->used_bytes());
  EXPECT_LE(column->used_bytes(), 2 * column->live_bytes() + (16u << 20));
  // An empty id and an empty (present) payload are rows too.
  const std::string_view empty;
  ASSERT_TRUE(column->put(kLabels, "", &empty).is_ok());
  RowView row;
  ASSERT_TRUE(column->find(kLabels, &row));
  EXPECT_TRUE(row.id.empty());
  EXPECT_TRUE(row.has_payload);
  EXPECT_TRUE(row.payload.empty());
  column.reset();
  EXPECT_EQ(entries(dir), 0u);
  rmdir(dir.c_str());
}

TEST(PayloadColumn, RefusesADirectoryItCannotWriteIn) {
  std::unique_ptr<PayloadColumn> column;
  const Status st = PayloadColumn::open("/nonexistent-ragwire-dir", &column);
  EXPECT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), Code::kIo);
}

}  // namespace
}  // namespace ragwire::dataplane
