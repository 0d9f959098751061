// The collections a store publishes to the native data plane: for each, the engine index the store
// searches (the same object), the store's rules for what a query means (dim, kind, the exact-scan
// threshold), and a column of label -> document id and encoded payload (docs/protocol.md §7): derived
// data beside the index, rebuilt from LMDB when the store opens the collection and kept current by
// every applied write before it is acknowledged. LMDB stays the source of truth. Plain C++.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ragwire/index.hpp"

namespace ragwire::dataplane {

// What packages/store/src/search-placement.ts needs to plan an unfiltered query of the collection.
struct CollectionPlan {
  uint32_t dim = 0;
  IndexKind kind = IndexKind::kFlat;
  bool f32 = false;                 // storage f32: the reply's `exact` can be true
  uint64_t exact_scan_bytes = 0;    // StoreOptions.exactScanBytes
  bool searches_on_device = false;  // a flat index on a device: the planner places it, so JavaScript answers
};

struct PublishedRow {
  std::string id;
  std::string payload;  // encoded (§7); empty with has_payload false: none
  bool has_payload = false;
};

struct PublishedCollection {
  std::shared_ptr<Index> index;
  CollectionPlan plan;
  // The live documents by label; readers take it shared, the store's writes exclusively.
  mutable std::shared_mutex mu;
  std::unordered_map<uint32_t, PublishedRow> rows;
};

class CollectionRegistry {
 public:
  // Publishes (or replaces) a collection with no rows yet; the plan's dim, kind and storage are the index's.
  void publish(const std::string& name, std::shared_ptr<Index> index, uint64_t exact_scan_bytes,
               bool searches_on_device);
  void unpublish(const std::string& name);
  // Unpublishes every collection.
  void clear();
  // Rows for labels just added to the index (a label already there is replaced), under one lock.
  void put(const std::string& name, std::vector<std::pair<uint32_t, PublishedRow>> rows);
  // Rows of labels removed from the index.
  void remove(const std::string& name, const uint32_t* labels, size_t n);
  std::shared_ptr<PublishedCollection> find(std::string_view name) const;
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<PublishedCollection>> collections_;
};

}  // namespace ragwire::dataplane
