// docs/protocol.md §3, §5.7, §6, §8 and §9: a QUERY frame decoded and validated in C++, with the
// verdict packages/protocol's decodeFrame gives for the same bytes: the same message (vectors viewed
// in place) or the same error code. The native data plane answers QUERY frames with it and hands
// every other frame to JavaScript. Plain C++, no Node header.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "frame_header.hpp"
#include "msgpack_reader.hpp"
#include "query_filter.hpp"

namespace ragwire::dataplane {

// The protocol's limits (packages/protocol/src/limits.ts ProtocolLimits, and filter.ts's key and
// string caps), handed over by the TS loader at initialisation: never written here.
struct ProtocolLimits {
  uint64_t max_frame_bytes = 0;
  uint64_t max_k = 0;
  uint64_t max_query_batch = 0;
  uint64_t max_dim = 0;
  uint64_t max_filter_conditions = 0;
  uint64_t max_filter_values = 0;
  uint64_t max_structured_nodes = 0;
  uint32_t max_structured_depth = 0;
  uint64_t max_ef_search = 0;
  uint64_t max_query_text_bytes = 0;
  uint64_t max_sparse_entries = 0;
  uint64_t max_payload_bytes = 0;
  uint64_t max_filter_key_bytes = 0;
  uint64_t max_filter_string_chars = 0;
};

enum class FusionMethod : uint8_t { kRrf, kDbsf, kWeighted };

struct Fusion {
  FusionMethod method = FusionMethod::kRrf;
  std::optional<double> k;
  std::optional<double> alpha;
};

// textStats; `df` is the index of its map in the query's meta document (terms to document counts).
struct TextStats {
  double docs = 0;
  double tokens = 0;
  uint32_t df = 0;
};

struct QueryOptions {
  std::optional<bool> with_payload;
  std::optional<uint32_t> ef_search;
  std::optional<bool> exact;
  std::optional<bool> with_vectors;
  std::optional<double> min_seq;  // an integer in [0, 2^53 - 1]
  std::optional<double> epoch;    // an integer in [1, 2^53 - 1]
};

// One query's sparse vector: views of the frame's sparse sections.
struct SparseView {
  const uint32_t* indices = nullptr;
  const float* values = nullptr;
  uint32_t count = 0;
};

// A decoded QUERY: every view points into the frame (or into `meta`), valid while both live.
struct QueryView {
  uint32_t request_id = 0;
  std::string_view collection;
  uint32_t dim = 0;
  uint32_t n = 0;
  uint32_t k = 0;
  const float* vectors = nullptr;  // n x dim floats
  bool has_text = false;
  std::vector<std::string_view> text;
  bool has_sparse = false;
  std::vector<SparseView> sparse;
  std::optional<uint32_t> prefetch;
  std::optional<Fusion> fusion;
  std::optional<TextStats> text_stats;
  bool has_filter = false;
  Filter filter;
  std::optional<QueryOptions> options;
  std::optional<std::string_view> trace;
  // The decoded meta section (its capacity is reused frame after frame).
  MsgpackDoc meta;
};

enum class Verdict : uint8_t {
  kQuery,     // `out` holds the query
  kFault,     // refused: `fault`, `fatal`, `request_id`, `type` say how (an ERROR reply)
  kNotMine,   // a valid header of another message type: JavaScript decodes it
  kDeferred,  // a string in meta is not well-formed UTF-8: JavaScript decodes it (its decoder's
              // replacement characters decide the verdict)
};

struct QueryDecode {
  Verdict verdict = Verdict::kFault;
  FrameFault fault = FrameFault::kNone;
  bool fatal = false;
  uint32_t request_id = 0;
  uint8_t type = 0;
};

// Decodes one whole frame of `bytes` bytes at `frame` (4-byte aligned), as decodeFrame does:
// header, length, then for QUERY the body. `trace_on`: the connection turned the trace extension on.
QueryDecode decode_query_frame(const uint8_t* frame, size_t bytes, const ProtocolLimits& limits, bool trace_on,
                               QueryView& out);

}  // namespace ragwire::dataplane
