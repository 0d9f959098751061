#include "support.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "ragwire/snapshot.hpp"

namespace ragwire_test {

std::vector<float> gaussian_rows(size_t n, size_t dim, uint64_t seed, size_t clusters) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> centres(std::max<size_t>(clusters, 1) * dim, 0.f);
  if (clusters > 0)
    for (float& c : centres) c = 4.f * g(rng);
  std::vector<float> out(n * dim);
  for (size_t i = 0; i < n; i++) {
    const float* c = centres.data() + (clusters ? (i % clusters) * dim : 0);
    for (size_t d = 0; d < dim; d++) out[i * dim + d] = c[d] + g(rng);
  }
  return out;
}

double ref_distance(Metric m, const float* q, const float* x, size_t dim) {
  double s = 0, qq = 0, xx = 0;
  for (size_t d = 0; d < dim; d++) {
    double a = q[d], b = x[d];
    switch (m) {
      case Metric::kL2: s += (a - b) * (a - b); break;
      case Metric::kL1: s += std::fabs(a - b); break;
      case Metric::kIp: s += a * b; break;
      case Metric::kCosine:
        s += a * b;
        qq += a * a;
        xx += b * b;
        break;
    }
  }
  switch (m) {
    case Metric::kL2:
    case Metric::kL1: return s;
    case Metric::kIp: return -s;
    case Metric::kCosine: return qq > 0 && xx > 0 ? -s / std::sqrt(qq * xx) : 0.0;
  }
  return 0;
}

double ref_score(Metric m, const float* q, const float* x, size_t dim) { return -ref_distance(m, q, x, dim); }

std::vector<RefHit> brute_force(Metric m, const std::vector<float>& base, const std::vector<uint32_t>& labels,
                                const float* q, size_t dim, size_t k, const std::vector<bool>* allowed_rows) {
  std::vector<RefHit> all;
  for (size_t i = 0; i < labels.size(); i++)
    if (!allowed_rows || (*allowed_rows)[i]) all.push_back({ref_score(m, q, base.data() + i * dim, dim), labels[i]});
  std::sort(all.begin(), all.end(), [](const RefHit& a, const RefHit& b) {
    return a.score > b.score || (a.score == b.score && a.label < b.label);
  });
  if (all.size() > k) all.resize(k);
  return all;
}

Results search(const ragwire::Index& index, const std::vector<float>& queries, size_t dim, size_t k,
               const ragwire::SearchOptions& opts, ragwire::ThreadPool& pool) {
  Results r;
  size_t nq = queries.size() / dim;
  r.k = k;
  r.labels.assign(nq * k, 0);
  r.scores.assign(nq * k, 0.f);
  ragwire::Status st = index.search(queries.data(), nq, k, opts, r.labels.data(), r.scores.data(), pool);
  if (!st.is_ok()) ADD_FAILURE() << "search failed: " << ragwire::code_name(st.code()) << " " << st.message();
  return r;
}

std::unique_ptr<ragwire::Index> make_index(const ragwire::IndexConfig& cfg) {
  std::unique_ptr<ragwire::Index> index;
  ragwire::Status st = ragwire::Index::create(cfg, &index);
  if (!st.is_ok()) ADD_FAILURE() << "create failed: " << st.message();
  return index;
}

ragwire::IndexConfig config(uint32_t dim, Metric m, ragwire::IndexKind kind, ragwire::StorageKind storage) {
  ragwire::IndexConfig cfg;
  cfg.dim = dim;
  cfg.metric = m;
  cfg.kind = kind;
  cfg.storage = storage;
  return cfg;
}

std::vector<uint32_t> label_range(size_t n, uint32_t first) {
  std::vector<uint32_t> out(n);
  for (size_t i = 0; i < n; i++) out[i] = first + (uint32_t)i;
  return out;
}

double recall(const Results& got, const std::vector<std::vector<RefHit>>& ref) {
  size_t hits = 0, total = 0;
  for (size_t q = 0; q < ref.size(); q++) {
    const auto& want = ref[q];
    if (want.empty()) continue;
    double kth = want.back().score;
    double tol = 1e-5 * (1 + std::fabs(kth));
    for (size_t j = 0; j < want.size(); j++) {
      uint32_t label = got.labels[q * got.k + j];
      float score = got.scores[q * got.k + j];
      if (label != ragwire::kNoLabel && score >= kth - tol) hits++;
    }
    total += want.size();
  }
  return total ? (double)hits / (double)total : 1.0;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ragwire-core-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back(0);
  if (!mkdtemp(buf.data())) ADD_FAILURE() << "mkdtemp failed";
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), (std::streamsize)bytes.size());
}

void reseal_snapshot(std::vector<uint8_t>& b) {
  if (b.size() < 64) return;
  uint32_t payload = ragwire::crc32c(0, b.data() + 64, b.size() - 64);
  std::memcpy(b.data() + 24, &payload, 4);
  uint32_t head = ragwire::crc32c(ragwire::crc32c(0, b.data(), 28), b.data() + 32, 32);
  std::memcpy(b.data() + 28, &head, 4);
}

bool find_section(const std::vector<uint8_t>& b, const char (&tag)[5], size_t* offset, size_t* size) {
  if (b.size() < 64) return false;
  uint32_t count, want = ragwire::section_tag(tag);
  std::memcpy(&count, b.data() + 12, 4);
  for (uint32_t i = 0; i < count && 64 + (size_t)(i + 1) * 24 <= b.size(); i++) {
    const uint8_t* e = b.data() + 64 + (size_t)i * 24;
    uint32_t t;
    uint64_t off, sz;
    std::memcpy(&t, e, 4);
    std::memcpy(&off, e + 8, 8);
    std::memcpy(&sz, e + 16, 8);
    if (t == want) {
      *offset = off;
      *size = sz;
      return true;
    }
  }
  return false;
}

}  // namespace ragwire_test
