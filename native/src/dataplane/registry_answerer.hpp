// The QueryAnswerer of the native data plane: answers a QUERY frame from the collections a store
// published (collection_registry.hpp) exactly as the store's JavaScript path would, or declines it.
// It answers only what it can answer the same way: a dense query of a published collection the
// connection may read, unfiltered or with a filter its filter index evaluates (filter_index.hpp),
// without trace, minSeq, epoch or withVectors, valid in every respect (else JavaScript gives the
// error). Plain C++, no Node header.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "collection_registry.hpp"
#include "query_answerer.hpp"
#include "query_decoder.hpp"

namespace ragwire::dataplane {

// The store's own caps (packages/store's k and efSearch checks: DEFAULT_LIMITS), which a server's
// protocol limits may exceed.
struct StoreCaps {
  uint64_t max_k = 0;
  uint64_t max_ef_search = 0;
};

class RegistryAnswerer : public QueryAnswerer {
 public:
  RegistryAnswerer(std::shared_ptr<CollectionRegistry> registry, const ProtocolLimits& limits, const StoreCaps& caps)
      : registry_(std::move(registry)), limits_(limits), caps_(caps) {}
  bool answer(const uint8_t* frame, size_t bytes, const ConnState& state, std::vector<uint8_t>& reply) override;

 private:
  std::shared_ptr<CollectionRegistry> registry_;
  ProtocolLimits limits_;
  StoreCaps caps_;
  // Reused frame after frame (one loop thread calls answer at a time).
  QueryView view_;
  std::string name_;
  std::vector<uint8_t> allow_;  // the query's allow-list
  std::vector<uint32_t> labels_;
  std::vector<float> scores_;
  std::vector<uint32_t> counts_;
  std::vector<std::string_view> ids_;
  std::vector<float> hit_scores_;
  std::vector<std::string_view> payloads_;
};

}  // namespace ragwire::dataplane
