// A set of labels in one flat array (open addressing, linear probing, backward-shift deletion), for
// the filter index's postings: a query walks every label of the postings it names, and a walk over
// one contiguous array reads it in order where a node-based set chases one allocation per label
// (bench e2e-native-filters measured the difference on a broad must_not). kEmpty (kNoLabel's value,
// never a document's label) marks an empty slot. Plain C++.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ragwire::dataplane {

class LabelSet {
 public:
  static constexpr uint32_t kEmpty = 0xffffffffu;

  // False when it was there already.
  bool insert(uint32_t label) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    size_t i = home(label);
    while (slots_[i] != kEmpty) {
      if (slots_[i] == label) return false;
      i = (i + 1) & mask();
    }
    slots_[i] = label;
    size_++;
    return true;
  }

  // False when it was not there.
  bool erase(uint32_t label) {
    if (size_ == 0) return false;
    size_t i = home(label);
    while (slots_[i] != label) {
      if (slots_[i] == kEmpty) return false;
      i = (i + 1) & mask();
    }
    // Backward shift: pull each following entry of the run into the hole when its home allows.
    size_t hole = i;
    for (size_t j = (i + 1) & mask(); slots_[j] != kEmpty; j = (j + 1) & mask()) {
      const size_t h = home(slots_[j]);
      // slots_[j] may move to the hole when its home is not within (hole, j] cyclically.
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = kEmpty;
    size_--;
    if (size_ == 0) slots_.clear();
    return true;
  }

  bool contains(uint32_t label) const {
    if (size_ == 0) return false;
    for (size_t i = home(label); slots_[i] != kEmpty; i = (i + 1) & mask())
      if (slots_[i] == label) return true;
    return false;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Calls f(label) for every label, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (uint32_t s : slots_)
      if (s != kEmpty) f(s);
  }

 private:
  size_t mask() const { return slots_.size() - 1; }
  size_t home(uint32_t label) const { return (size_t)((label * 0x9e3779b1u) >> shift_) & mask(); }

  void grow() {
    std::vector<uint32_t> old;
    old.swap(slots_);
    const size_t capacity = old.empty() ? 8 : old.size() * 2;
    slots_.assign(capacity, kEmpty);
    shift_ = 32;
    for (size_t c = capacity; c > 1; c >>= 1) shift_--;
    size_ = 0;
    for (uint32_t s : old)
      if (s != kEmpty) insert(s);
  }

  std::vector<uint32_t> slots_;
  size_t size_ = 0;
  uint32_t shift_ = 32;  // 32 - log2(capacity): the hash's top bits pick the slot
};

}  // namespace ragwire::dataplane
