// What the HNSW files share (hnsw_build.cpp, hnsw_search.cpp, hnsw_persist.cpp): the visited sets
// of a walk, the candidate order and the graph's fixed bounds.
#pragma once
#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "ragwire/hnsw_index.hpp"

namespace ragwire {
namespace hnsw {

constexpr int kMaxLevel = 31;  // levels are stored as one byte per node; a draw above this is capped

struct Farther {  // min-heap order for candidates: closest on top
  bool operator()(const Hit& a, const Hit& b) const { return b < a; }
};

}  // namespace hnsw

// Epoch-tagged visited set: clearing is one increment.
struct HnswIndex::Visited {
  std::vector<uint16_t> tags;
  uint16_t epoch = 0;
  void prepare(size_t n) {
    if (tags.size() < n) tags.resize(n + n / 4, 0);
    if (++epoch == 0) {
      std::fill(tags.begin(), tags.end(), 0);
      epoch = 1;
    }
  }
  bool test_and_set(uint32_t id) {
    if (tags[id] == epoch) return true;
    tags[id] = epoch;
    return false;
  }
};

class HnswIndex::VisitedPool {
 public:
  std::unique_ptr<Visited> acquire(size_t n) {
    std::unique_ptr<Visited> v;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        v = std::move(free_.back());
        free_.pop_back();
      }
    }
    if (!v) v.reset(new Visited());
    v->prepare(n);
    return v;
  }
  void release(std::unique_ptr<Visited> v) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(v));
  }
  void clear() {
    std::lock_guard<std::mutex> lock(mu_);
    free_.clear();
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<Visited>> free_;
};

}  // namespace ragwire
