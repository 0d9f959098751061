// The collections a store publishes to the native data plane: for each, the engine index the store
// searches (the same object), the store's rules for what a query means (dim, kind, the planner's
// rules), a column of label -> document id and encoded payload (docs/protocol.md §7,
// payload_column.hpp: a memory-mapped file in the collection's directory) and the metadata filter
// index (filter_index.hpp): derived data beside the index, rebuilt from LMDB when the store opens the
// collection and kept current by every applied write before it is acknowledged. LMDB stays the
// source of truth. Plain C++.
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

#include "filter_index.hpp"
#include "payload_column.hpp"
#include "ragwire/index.hpp"
#include "search_plan.hpp"

namespace ragwire::dataplane {

// What packages/store/src/search-placement.ts needs to plan a query of the collection.
struct CollectionPlan {
  uint32_t dim = 0;
  IndexKind kind = IndexKind::kFlat;
  bool f32 = false;  // storage f32: the reply's `exact` can be true
  PlanRules rules;
};

// A row as the store hands it over.
struct PublishedRow {
  std::string id;
  std::string payload;  // encoded (§7); empty with has_payload false: none
  bool has_payload = false;
  std::vector<IndexedField> fields;  // its metadata's (field, value) pairs, for the filter index
};

struct PublishedCollection {
  std::shared_ptr<Index> index;
  CollectionPlan plan;
  // The live documents by label; readers take `mu` shared, the store's writes exclusively.
  mutable std::shared_mutex mu;
  std::unique_ptr<PayloadColumn> column;
  FilterIndex filters;  // the live labels and their metadata pairs
  // The column could not be opened or written (the disk is full, say): its rows are not all there,
  // so the collection's queries go to JavaScript until the store publishes it again.
  bool column_failed = false;

  // A collection whose queries the native plane may answer (mu held).
  bool answerable() const { return column != nullptr && !column_failed; }
};

class CollectionRegistry {
 public:
  // Publishes (or replaces) a collection with no rows yet; the plan's dim, kind and storage are the
  // index's, its rules the store's; its column is a file of `column_dir` (the collection's directory).
  void publish(const std::string& name, std::shared_ptr<Index> index, const PlanRules& rules,
               const std::string& column_dir);
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
