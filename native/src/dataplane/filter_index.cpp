#include "filter_index.hpp"

#include <algorithm>

namespace ragwire::dataplane {

namespace {

void set_bit(std::vector<uint8_t>& bits, uint32_t label) {
  const size_t byte = label >> 3;
  if (byte < bits.size()) bits[byte] |= (uint8_t)(1u << (label & 7));
}

void clear_bit(std::vector<uint8_t>& bits, uint32_t label) {
  const size_t byte = label >> 3;
  if (byte < bits.size()) bits[byte] &= (uint8_t) ~(1u << (label & 7));
}

void set_all(std::vector<uint8_t>& bits, const LabelSet* labels) {
  if (labels) labels->for_each([&bits](uint32_t label) { set_bit(bits, label); });
}

template <class Map, class Key>
void remove_from(Map& map, const Key& key, uint32_t label) {
  auto it = map.find(key);
  if (it == map.end()) return;
  it->second.erase(label);
  if (it->second.empty()) map.erase(it);
}

// A range's bounds as filter-index.ts tests them (bit 0 gt, 1 gte, 2 lt, 3 lte).
bool above_lower(const Condition& c, double v) {
  if ((c.bounds & 1) && !(v > c.bound[0])) return false;
  if ((c.bounds & 2) && !(v >= c.bound[1])) return false;
  return true;
}

bool below_upper(const Condition& c, double v) {
  if ((c.bounds & 4) && !(v < c.bound[2])) return false;
  if ((c.bounds & 8) && !(v <= c.bound[3])) return false;
  return true;
}

}  // namespace

void FilterIndex::add(uint32_t label, std::vector<IndexedField> fields) {
  remove(label);
  if (label >= label_bound_) label_bound_ = label + 1;
  if (live_.size() <= (label >> 3)) live_.resize(((size_t)label >> 3) + 1, 0);
  live_[label >> 3] |= (uint8_t)(1u << (label & 7));
  if (fields.empty()) return;
  for (const IndexedField& p : fields) {
    Field& f = fields_[p.key];
    f.present.insert(label);
    switch (p.kind) {
      case IndexedField::Kind::kString: f.strings[p.str].insert(label); break;
      case IndexedField::Kind::kNumber: f.numbers[p.number].insert(label); break;
      case IndexedField::Kind::kBool: f.bools[p.boolean ? 1 : 0].insert(label); break;
      case IndexedField::Kind::kPresent: break;
    }
  }
  by_label_[label] = std::move(fields);
}

void FilterIndex::remove(uint32_t label) {
  clear_bit(live_, label);
  auto it = by_label_.find(label);
  if (it == by_label_.end()) return;
  for (const IndexedField& p : it->second) {
    auto fit = fields_.find(p.key);
    if (fit == fields_.end()) continue;
    Field& f = fit->second;
    f.present.erase(label);
    switch (p.kind) {
      case IndexedField::Kind::kString: remove_from(f.strings, p.str, label); break;
      case IndexedField::Kind::kNumber: remove_from(f.numbers, p.number, label); break;
      case IndexedField::Kind::kBool: f.bools[p.boolean ? 1 : 0].erase(label); break;
      case IndexedField::Kind::kPresent: break;
    }
    if (f.present.empty()) fields_.erase(fit);
  }
  by_label_.erase(it);
}

void FilterIndex::fill_live(std::vector<uint8_t>& bits, size_t bytes) const {
  bits.assign(live_.begin(), live_.begin() + (ptrdiff_t)std::min(bytes, live_.size()));
  bits.resize(bytes, 0);
}

void FilterIndex::evaluate(const Filter& filter, std::vector<uint8_t>& out) const {
  const size_t bytes = (label_bound_ >> 3) + 1;
  std::vector<uint8_t> bits;
  bool have = false;
  // must: every condition; should: any of them (when there is one); must_not: none.
  for (const Condition& c : filter.conditions) {
    if (c.clause != Clause::kMust) continue;
    condition(c, filter, bytes, bits);
    if (!have) {
      out.swap(bits);
      have = true;
    } else {
      for (size_t i = 0; i < bytes; i++) out[i] &= bits[i];
    }
  }
  std::vector<uint8_t> any;
  bool has_should = false;
  for (const Condition& c : filter.conditions) {
    if (c.clause != Clause::kShould) continue;
    if (!has_should) any.assign(bytes, 0);
    has_should = true;
    condition(c, filter, bytes, bits);
    for (size_t i = 0; i < bytes; i++) any[i] |= bits[i];
  }
  if (has_should) {
    if (!have) {
      out.swap(any);
      have = true;
    } else {
      for (size_t i = 0; i < bytes; i++) out[i] &= any[i];
    }
  }
  if (!have) fill_live(out, bytes);
  for (const Condition& c : filter.conditions) {
    if (c.clause != Clause::kMustNot) continue;
    condition(c, filter, bytes, bits);
    for (size_t i = 0; i < bytes; i++) out[i] &= (uint8_t)~bits[i];
  }
}

void FilterIndex::condition(const Condition& c, const Filter& filter, size_t bytes, std::vector<uint8_t>& bits) const {
  auto fit = fields_.find(std::string(c.key));
  const Field* f = fit == fields_.end() ? nullptr : &fit->second;
  if (c.op == FilterOp::kExists && !c.exists) {
    // documents lacking the field: every live one, less those that have it
    fill_live(bits, bytes);
    if (f) f->present.for_each([&bits](uint32_t label) { clear_bit(bits, label); });
    return;
  }
  bits.assign(bytes, 0);
  if (!f) return;
  switch (c.op) {
    case FilterOp::kEq:
    case FilterOp::kIn: {
      for (uint32_t i = 0; i < c.values_count; i++) {
        const FilterValue& v = filter.values[c.values_begin + i];
        switch (v.kind) {
          case FilterValue::Kind::kString: {
            auto it = f->strings.find(std::string(v.str));
            set_all(bits, it == f->strings.end() ? nullptr : &it->second);
            break;
          }
          case FilterValue::Kind::kNumber: {
            auto it = f->numbers.find(v.number);
            set_all(bits, it == f->numbers.end() ? nullptr : &it->second);
            break;
          }
          case FilterValue::Kind::kBool: set_all(bits, &f->bools[v.boolean ? 1 : 0]); break;
        }
      }
      return;
    }
    case FilterOp::kRange: {
      // Ascending from the lower bound; the first value past the upper bound ends it.
      auto it = f->numbers.begin();
      if (c.bounds & 1) it = f->numbers.upper_bound(c.bound[0]);
      if ((c.bounds & 2) && it != f->numbers.end() && it->first < c.bound[1]) it = f->numbers.lower_bound(c.bound[1]);
      for (; it != f->numbers.end(); ++it) {
        if (!below_upper(c, it->first)) break;
        if (above_lower(c, it->first)) set_all(bits, &it->second);
      }
      return;
    }
    case FilterOp::kExists: set_all(bits, &f->present); return;
  }
}

}  // namespace ragwire::dataplane
