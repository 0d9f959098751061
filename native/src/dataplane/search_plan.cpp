#include "search_plan.hpp"

#include <algorithm>

namespace ragwire::dataplane {

namespace {

// #scanIsCheaper: allowed (the scan's rows) against walk_cost x ef x M / selectivity (the walk's),
// in doubles as JavaScript computes it.
bool scan_is_cheaper(const PlanRules& rules, IndexKind kind, uint64_t allowed, uint64_t rows, uint32_t k,
                     uint32_t ef_search) {
  if (kind != IndexKind::kHnsw) return false;
  if (allowed == 0) return true;
  const double ef = (double)std::max(ef_search != 0 ? ef_search : rules.ef_search, k);
  return (double)allowed <= (rules.walk_cost * ef * (double)rules.m * (double)rows) / (double)allowed;
}

}  // namespace

bool exact_scan(const PlanRules& rules, IndexKind kind, uint64_t allowed, uint64_t rows, uint32_t dim, uint32_t k,
                uint32_t ef_search) {
  if (kind == IndexKind::kFlat) return false;
  const bool filtered = allowed < rows;
  return (double)allowed * dim * 4 <= (double)rules.exact_scan_bytes ||
         (filtered && rules.exact_scan_bytes > 0 && scan_is_cheaper(rules, kind, allowed, rows, k, ef_search));
}

}  // namespace ragwire::dataplane
