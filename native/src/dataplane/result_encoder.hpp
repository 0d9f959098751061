// docs/protocol.md §5.8: a RESULT frame written in C++, byte for byte the frame
// packages/protocol's encodeFrame writes for the same reply (its msgpack meta in msgpackr's
// encodings: the shortest form of each integer, string, array and map header). Plain C++.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "frame_header.hpp"

namespace ragwire::dataplane {

struct ProtocolLimits;

// A reply to a QUERY of n queries: counts[i] hits for query i (each at most k), then per hit its
// id, score, optionally its vector (vector_dim floats) and its payload, already encoded (§7; an
// empty view is no payload).
struct ResultReply {
  uint32_t k = 0;
  const uint32_t* counts = nullptr;
  uint32_t n = 0;
  const std::string_view* ids = nullptr;  // sum(counts) ids, UTF-8
  const float* scores = nullptr;          // sum(counts)
  uint32_t vector_dim = 0;                // 0: no vectors section
  const float* vectors = nullptr;         // sum(counts) x vector_dim
  bool with_payloads = false;
  const std::string_view* payloads = nullptr;  // sum(counts) encoded payloads (when with_payloads)
  std::optional<bool> exact;
};

// Appends the frame answering `request_id` to `out`. The reply must be well formed (1 <= n,
// counts[i] <= k, what the query asked for); sizes are checked: kLimit for a payload over
// maxPayloadBytes, kFrameTooLarge for a frame over maxFrameBytes (nothing is appended then).
FrameFault encode_result_frame(const ResultReply& reply, uint32_t request_id, const ProtocolLimits& limits,
                               std::vector<uint8_t>& out);

}  // namespace ragwire::dataplane
