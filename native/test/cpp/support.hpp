// Shared pieces of the core's C++ tests: seeded data, an exact reference
// search written here (double precision, independent of the kernels), temp
// files, and raw snapshot bytes for the refusal tests.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ragwire/config.hpp"
#include "ragwire/index.hpp"
#include "ragwire/thread_pool.hpp"

namespace ragwire_test {

using ragwire::Metric;

// n rows of dim floats around `clusters` seeded centres (clusters = 0: plain gaussian).
std::vector<float> gaussian_rows(size_t n, size_t dim, uint64_t seed, size_t clusters = 0);

// Reference distance, lower = closer, in double: squared l2, -dot, l1, or
// -cosine similarity (on the vectors as given).
double ref_distance(Metric m, const float* q, const float* x, size_t dim);

// A score as the engine reports it (higher = closer) for the reference distance.
double ref_score(Metric m, const float* q, const float* x, size_t dim);

struct RefHit {
  double score;
  uint32_t label;
};

// Exact top-k by brute force over rows whose label passes `allowed` (null: all).
std::vector<RefHit> brute_force(Metric m, const std::vector<float>& base, const std::vector<uint32_t>& labels,
                                const float* q, size_t dim, size_t k, const std::vector<bool>* allowed_rows = nullptr);

struct Results {
  std::vector<uint32_t> labels;
  std::vector<float> scores;
  size_t k = 0;
};

// Runs a search and fails the calling test (ADD_FAILURE) on an error status.
Results search(const ragwire::Index& index, const std::vector<float>& queries, size_t dim, size_t k,
               const ragwire::SearchOptions& opts, ragwire::ThreadPool& pool);

std::unique_ptr<ragwire::Index> make_index(const ragwire::IndexConfig& cfg);
ragwire::IndexConfig config(uint32_t dim, Metric m, ragwire::IndexKind kind,
                            ragwire::StorageKind storage = ragwire::StorageKind::kF32);
std::vector<uint32_t> label_range(size_t n, uint32_t first = 0);

// Fraction of the reference top-k (per query, ties at the k-th score count as hits) found.
double recall(const Results& got, const std::vector<std::vector<RefHit>>& ref);

// A fresh directory under TMPDIR, removed with its files by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::vector<uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

// Snapshot layout (see ragwire/snapshot.hpp): rewrites both checksums so a
// structural change reaches the loader's checks behind the CRCs.
void reseal_snapshot(std::vector<uint8_t>& bytes);

// Byte offset and size of a section in a snapshot's bytes; false when absent.
bool find_section(const std::vector<uint8_t>& bytes, const char (&tag)[5], size_t* offset, size_t* size);

}  // namespace ragwire_test
