// packages/store/src/search-placement.ts's planner, for the queries the native data plane answers:
// whether a search runs as an exact scan or through the index. Its rules (the exact-scan threshold,
// the walk's cost, the graph's M and default efSearch) come from the store when it publishes the
// collection, so both sides decide from the same numbers. Plain C++.
#pragma once
#include <cstdint>

#include "ragwire/config.hpp"

namespace ragwire::dataplane {

// The store's planner rules for one collection (SearchPlacement.rules()).
struct PlanRules {
  uint64_t exact_scan_bytes = 0;  // StoreOptions.exactScanBytes
  double walk_cost = 0;           // WALK_COST
  uint32_t m = 0;                 // HNSW: the graph's M and default efSearch, as the store read them
  uint32_t ef_search = 0;
  bool searches_on_device = false;  // a flat index on a device: the store places it, so JavaScript answers
};

// SearchPlacement.exactScan: a search of k over `allowed` of `rows` rows (allowed = rows without a
// filter); `ef_search` 0: none asked for.
bool exact_scan(const PlanRules& rules, IndexKind kind, uint64_t allowed, uint64_t rows, uint32_t dim, uint32_t k,
                uint32_t ef_search);

}  // namespace ragwire::dataplane
