// The engine's memory-safety guards: the hard caps that keep its buffers, allocations and arithmetic
// in bounds whoever calls it. They are not the ranges a caller may use: those are written once, in
// @ragwire/protocol's limits table (DEFAULT_LIMITS, INDEX_PARAM_RANGES), handed to the addon by
// initialize() and checked where a value enters (the binding). The table must lie within these guards;
// the core used without Node (its tests, the fuzzer) runs with the guards as its limits.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "ragwire/status.hpp"

namespace ragwire {

// [min, max] inclusive. Below min is kInvalidArgument, above max kLimit (as the protocol's table says).
struct Range {
  uint32_t min;
  uint32_t max;

  Status check(const char* what, uint64_t value) const {
    if (value < min)
      return Status(Code::kInvalidArgument, std::string(what) + " must be an integer >= " + std::to_string(min) +
                                                ", got " + std::to_string(value));
    if (value > max)
      return Status(Code::kLimit,
                    std::string(what) + " must be at most " + std::to_string(max) + ", got " + std::to_string(value));
    return Status::ok();
  }
  bool within(const Range& outer) const { return min >= outer.min && max <= outer.max && min <= max; }
};

// Dimension, k and the index parameters a caller may use.
struct Limits {
  Range dim;
  Range k;
  Range M;
  Range ef_construction;
  Range ef_search;
  Range rerank_factor;
};

constexpr Limits kGuards{
    {1, 1u << 24},  // dim: a row of 64 MiB, the longest row a JS typed array always holds
    {1, 1u << 16},  // k: result rows and the selection heaps are nq * k
    {2, 256},       // M: the level draw divides by ln M; link lists are copied to the stack (2M + 1 words)
    {1, 1u << 16},  // efConstruction: the build's beam per inserter
    {1, 1u << 16},  // efSearch: the search beam (and its candidate heap) per query
    {1, 1u << 16},  // rerankFactor: k * rerankFactor candidates (capped by the rows) per query
};

// Rows an index holds: internal ids are u32, and 0xffffffff is the empty result slot.
constexpr size_t kMaxVectors = 0xfffffff0u;
// A node's link list on any layer, count word included, at the largest M (layer 0 holds 2M links).
constexpr uint32_t kMaxLinks = 2 * kGuards.M.max + 1;

}  // namespace ragwire
