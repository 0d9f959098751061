// Bounded selection of the k closest (lowest distance) candidates.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace ragwire {

struct Hit {
  float dist;
  uint32_t id;
  bool operator<(const Hit& o) const { return dist < o.dist || (dist == o.dist && id < o.id); }
};

class TopK {
 public:
  explicit TopK(size_t k = 0) { reset(k); }
  void reset(size_t k) {
    k_ = k;
    heap_.clear();
    heap_.reserve(k);
  }
  size_t capacity() const { return k_; }
  size_t size() const { return heap_.size(); }
  bool full() const { return heap_.size() >= k_; }
  // The distance a candidate must beat to enter.
  float bound() const { return full() && k_ ? heap_.front().dist : INFINITY_F; }
  void push(float dist, uint32_t id) {
    if (k_ == 0) return;
    Hit h{dist, id};
    if (heap_.size() < k_) {
      heap_.push_back(h);
      std::push_heap(heap_.begin(), heap_.end());
    } else if (h < heap_.front()) {
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.back() = h;
      std::push_heap(heap_.begin(), heap_.end());
    }
  }
  void merge(const TopK& o) {
    for (const Hit& h : o.heap_) push(h.dist, h.id);
  }
  // Closest first. The selection is no longer a heap: reset() before reuse.
  std::vector<Hit>& sorted() {
    std::sort_heap(heap_.begin(), heap_.end());
    return heap_;
  }
  const std::vector<Hit>& items() const { return heap_; }

 private:
  static constexpr float INFINITY_F = __builtin_inff();
  size_t k_ = 0;
  std::vector<Hit> heap_;
};

}  // namespace ragwire
