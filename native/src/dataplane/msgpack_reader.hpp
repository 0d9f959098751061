// docs/protocol.md §3.1: the msgpack subset of structured sections, read exactly as
// packages/protocol/src/msgpack.ts (unpackChecked) reads it: the same checks in the same order, so
// the first fault found is the one the TypeScript decoder reports. Plain C++, no Node header.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "frame_header.hpp"

namespace ragwire::dataplane {

// Remaining msgpack values a frame may still decode (limits.maxStructuredNodes), shared by its sections.
struct NodeBudget {
  int64_t nodes;
};

// One decoded value. Containers are followed by their items in document order (a map's items are
// key, value, key, value ...); `end` is the index just past a value's subtree.
struct MsgpackNode {
  enum class Kind : uint8_t { kNil, kBool, kNumber, kString, kArray, kMap };
  Kind kind = Kind::kNil;
  bool boolean = false;
  uint32_t count = 0;  // items of an array, entries of a map
  uint32_t end = 0;
  double number = 0;  // every number as JavaScript sees it (a double)
  std::string_view str;
  const uint8_t* bytes = nullptr;  // the value's msgpack encoding, header included
  size_t bytes_length = 0;

  bool is_integer() const;  // Number.isInteger
};

// A decoded section: nodes[0] is its value. `well_formed_utf8` is false when a string (key or value)
// is not well-formed UTF-8: JavaScript then sees decoder-specific replacement characters.
struct MsgpackDoc {
  std::vector<MsgpackNode> nodes;
  bool well_formed_utf8 = true;

  // The value of `key` in the map at `map` (the last one when a key repeats, as a JS object keeps
  // it); -1 when absent. Nil values are returned: callers treat them as absent where TS does.
  int64_t find(uint32_t map, std::string_view key) const;
  // Distinct keys of the map at `map` (repeated keys count once, as Object.keys counts them).
  uint32_t distinct_keys(uint32_t map) const;
  // Index of the first item of a container and of the item after `i`.
  static uint32_t first(uint32_t container) { return container + 1; }
  uint32_t next(uint32_t i) const { return nodes[i].end; }
};

// Checks that bytes[start, end) hold exactly one value of the subset no deeper than `max_depth`,
// charges its values and keys to `budget`, and decodes it into `out` (cleared first, capacity kept).
// Faults: kBadFrame (malformed, truncated, bin/ext/reserved types, non-finite floats, non-string or
// "__proto__" keys, counts the bytes left cannot back, nesting, trailing bytes), kLimit (budget).
// Nothing is allocated before the section was checked, and then at most one node per value.
FrameFault read_msgpack(const uint8_t* bytes, size_t start, size_t end, NodeBudget& budget, uint32_t max_depth,
                        MsgpackDoc& out);

// The checks alone (no decoding): the fault read_msgpack would report.
FrameFault skim_msgpack(const uint8_t* bytes, size_t start, size_t end, NodeBudget& budget, uint32_t max_depth);

// String measures of well-formed UTF-8 as JavaScript sees the decoded string.
bool is_well_formed_utf8(std::string_view s);
size_t utf16_length(std::string_view s);

}  // namespace ragwire::dataplane
