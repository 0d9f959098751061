// docs/protocol.md §6: a QUERY's filter validated as packages/protocol/src/filter.ts validates it,
// kept both as its msgpack bytes and as a flat list of conditions a search can evaluate.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "frame_header.hpp"
#include "msgpack_reader.hpp"

namespace ragwire::dataplane {

struct ProtocolLimits;

enum class Clause : uint8_t { kMust, kShould, kMustNot };
enum class FilterOp : uint8_t { kEq, kIn, kRange, kExists };

struct FilterValue {
  enum class Kind : uint8_t { kString, kNumber, kBool };
  Kind kind = Kind::kNumber;
  std::string_view str;
  double number = 0;
  bool boolean = false;
};

struct Condition {
  Clause clause = Clause::kMust;
  FilterOp op = FilterOp::kEq;
  std::string_view key;
  uint32_t values_begin = 0;  // eq: one value, in: values_count, in Filter::values
  uint32_t values_count = 0;
  bool exists = false;
  // range: the bounds present (bit 0 gt, 1 gte, 2 lt, 3 lte) and their values in that order.
  uint8_t bounds = 0;
  double bound[4] = {0, 0, 0, 0};
};

struct Filter {
  const uint8_t* raw = nullptr;  // the filter's msgpack bytes in the frame
  size_t raw_bytes = 0;
  bool present[3] = {false, false, false};  // clause given (non-nil), even if empty
  std::vector<Condition> conditions;        // all clauses, must first, then should, then must_not
  std::vector<FilterValue> values;

  void clear();
};

// Validates the filter at node `at` of `doc`; fills `out`. kInvalidFilter or kLimit as filter.ts.
FrameFault read_filter(const MsgpackDoc& doc, uint32_t at, const ProtocolLimits& limits, Filter& out);

}  // namespace ragwire::dataplane
