// libFuzzer target for the snapshot loader (Index::load). A mutated input
// with the snapshot's magic gets both checksums recomputed, so mutations reach
// the structural checks behind them (the CRC refusals have unit tests). What
// loads is then used: searched, with and without a filter, added to and saved.
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ragwire/index.hpp"
#include "ragwire/snapshot.hpp"

using namespace ragwire;

namespace {

void reseal(std::vector<uint8_t>& b) {
  if (b.size() < 64 || std::memcmp(b.data(), "RAGWIRE", 8) != 0) return;
  uint32_t payload = crc32c(0, b.data() + 64, b.size() - 64);
  std::memcpy(b.data() + 24, &payload, 4);
  uint32_t head = crc32c(crc32c(0, b.data(), 28), b.data() + 32, 32);
  std::memcpy(b.data() + 28, &head, 4);
}

std::string temp_path(const char* what) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir && *dir ? dir : "/tmp") + "/ragwire-fuzz-" + std::to_string(getpid()) + what;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ThreadPool pool(2);
  static const std::string path = temp_path(".snap"), saved = temp_path(".resaved");
  std::vector<uint8_t> bytes(data, data + size);
  reseal(bytes);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);

  std::unique_ptr<Index> index;
  std::vector<uint8_t> user;
  Status st = Index::load(path, &index, &user);
  if (!st.is_ok()) return 0;
  size_t dim = index->config().dim;
  if (dim > 4096) return 0;  // large but valid: fine to load, slow to exercise
  std::vector<float> q(dim * 2, 0.25f);
  q[0] = -1.f;
  uint32_t labels[10];
  float scores[10];
  SearchOptions opts;
  index->search(q.data(), 2, 5, opts, labels, scores, pool);
  uint8_t bits[4] = {0xff, 0x0f, 0xf0, 0x55};
  opts.filter.bits = bits;
  opts.filter.bits_len = sizeof bits;
  opts.filter_scan_threshold = 4;
  index->search(q.data(), 2, 5, opts, labels, scores, pool);
  uint32_t label = 0xfffffff0u;
  if (index->add(&label, q.data(), 1, pool).is_ok())
    index->search(q.data() + dim, 1, 3, SearchOptions(), labels, scores, pool);
  index->save(saved, user.data(), user.size());
  return 0;
}
