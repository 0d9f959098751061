// Writes a few small, valid snapshots into DIR: the seed corpus of the
// snapshot loader's fuzzer (`snapshot_seeds DIR`).
#include <cstdio>
#include <string>

#include "ragwire/index.hpp"
#include "support.hpp"

using namespace ragwire;
using namespace ragwire_test;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: snapshot_seeds DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  ThreadPool pool(1);
  struct Seed {
    const char* name;
    IndexKind kind;
    StorageKind storage;
    Metric metric;
    size_t rows;
    bool inline_codes = false;
  };
  const Seed seeds[] = {
      {"hnsw-f32", IndexKind::kHnsw, StorageKind::kF32, Metric::kL2, 40},
      {"hnsw-sq8", IndexKind::kHnsw, StorageKind::kSq8, Metric::kCosine, 24},
      {"flat-f16", IndexKind::kFlat, StorageKind::kF16, Metric::kIp, 12},
      {"bq-f32", IndexKind::kBq, StorageKind::kF32, Metric::kL1, 20},
      {"hnsw-empty", IndexKind::kHnsw, StorageKind::kF16, Metric::kL2, 0},
      {"hnsw-sq8-inline", IndexKind::kHnsw, StorageKind::kSq8, Metric::kL2, 30, true},
  };
  for (const Seed& s : seeds) {
    IndexConfig cfg = config(8, s.metric, s.kind, s.storage);
    cfg.hnsw.M = 4;
    cfg.hnsw.ef_construction = 16;
    cfg.hnsw.inline_codes = s.inline_codes;
    std::unique_ptr<Index> index;
    Status st = Index::create(cfg, &index);
    std::vector<float> rows = gaussian_rows(s.rows, 8, 7, 3);
    std::vector<uint32_t> labels = label_range(s.rows, 10);
    if (st.is_ok() && s.rows) st = index->add(labels.data(), rows.data(), s.rows, pool);
    size_t removed = 0;
    uint32_t gone = 12;
    if (st.is_ok() && s.rows) st = index->remove(&gone, 1, &removed);
    const uint8_t user[] = {0xc0};
    if (st.is_ok()) st = index->save(dir + "/" + s.name, user, sizeof user);
    if (!st.is_ok()) {
      std::fprintf(stderr, "snapshot_seeds: %s: %s\n", s.name, st.message().c_str());
      return 1;
    }
  }
  return 0;
}
