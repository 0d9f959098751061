// A published collection's metadata filter index on the native side: the inverted index from
// (field, value) to labels that packages/store/src/filter-index.ts keeps in JavaScript, over the same
// (field, value) pairs (the store hands each document's pairs over as its FilterIndex derived them),
// evaluated into the engine's allow-list bitset exactly as FilterIndex.evaluate does. Derived data
// beside the collection's column, kept current by the same writes; LMDB stays the source of truth.
// Plain C++.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "label_set.hpp"
#include "query_filter.hpp"

namespace ragwire::dataplane {

// One (field, value) pair a document is indexed under (filter-index.ts indexedFields).
struct IndexedField {
  enum class Kind : uint8_t {
    kString,
    kNumber,
    kBool,
    // present, its value one no filter the native plane answers can equal: a string too long to
    // compare with, or one that is not well-formed UTF-16 (the filters answered here are well-formed)
    kPresent,
  };
  std::string key;
  Kind kind = Kind::kPresent;
  std::string str;
  double number = 0;
  bool boolean = false;
};

class FilterIndex {
 public:
  // A live document and the pairs of its metadata (none: live, not indexed, as in filter-index.ts).
  // A label already there is replaced.
  void add(uint32_t label, std::vector<IndexedField> fields);
  // A document gone.
  void remove(uint32_t label);

  // The allow-list of `filter`: bit (label & 7) of byte label >> 3, over (label_bound() >> 3) + 1
  // bytes. The live documents are the universe of exists:false and of a filter without must or
  // should. Every condition read_filter validates is evaluated.
  void evaluate(const Filter& filter, std::vector<uint8_t>& out) const;

  // Above every label added: the allow-list's length in bits.
  uint32_t label_bound() const { return label_bound_; }
  size_t fields() const { return fields_.size(); }
  size_t indexed() const { return by_label_.size(); }

 private:
  using Postings = LabelSet;
  struct Field {
    Postings present;
    std::unordered_map<std::string, Postings> strings;
    Postings bools[2];                   // false, true
    std::map<double, Postings> numbers;  // ordered, for ranges; 0 and -0 are one key, as in a JS Map
  };

  // The bits of one condition.
  void condition(const Condition& c, const Filter& filter, size_t bytes, std::vector<uint8_t>& bits) const;
  // `bits` (bytes long) with every live label's bit set.
  void fill_live(std::vector<uint8_t>& bits, size_t bytes) const;

  std::vector<uint8_t> live_;  // one bit per label
  uint32_t label_bound_ = 0;
  std::unordered_map<std::string, Field> fields_;
  std::unordered_map<uint32_t, std::vector<IndexedField>> by_label_;
};

}  // namespace ragwire::dataplane
