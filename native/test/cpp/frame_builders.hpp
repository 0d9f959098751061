// Hand-built protocol frames for the data plane's tests: the limits they decode under, msgpack
// strings, and a request frame (header, metadata, vector body) as the words a loop reads.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "query_decoder.hpp"

namespace ragwire::dataplane::test {

inline ProtocolLimits limits() {
  ProtocolLimits l;
  l.max_frame_bytes = 1 << 20;
  l.max_k = 100;
  l.max_query_batch = 16;
  l.max_dim = 64;
  l.max_filter_conditions = 8;
  l.max_filter_values = 8;
  l.max_structured_nodes = 1000;
  l.max_structured_depth = 8;
  l.max_ef_search = 500;
  l.max_query_text_bytes = 64;
  l.max_sparse_entries = 16;
  l.max_payload_bytes = 1024;
  l.max_filter_key_bytes = 32;
  l.max_filter_string_chars = 32;
  return l;
}

/** A msgpack fixstr (under 32 bytes). */
inline void str(std::vector<uint8_t>& m, const std::string& s) {
  m.push_back((uint8_t)(0xa0 | s.size()));
  m.insert(m.end(), s.begin(), s.end());
}

/** A QUERY request frame: header with `request_id`, the msgpack metadata `meta`, then `vectors`. */
inline std::vector<uint32_t> query_frame_words(const std::vector<uint8_t>& meta, const std::vector<float>& vectors,
                                               uint8_t request_id) {
  const size_t head = (16 + meta.size() + 3) & ~(size_t)3;
  std::vector<uint32_t> words((head + vectors.size() * 4 + 3) / 4, 0);
  auto* b = (uint8_t*)words.data();
  const uint32_t length = (uint32_t)(words.size() * 4 - 4), meta_bytes = (uint32_t)meta.size();
  std::memcpy(b, &length, 4);
  b[4] = kProtocolVersion;
  b[5] = 0x20;
  b[8] = request_id;
  std::memcpy(b + 12, &meta_bytes, 4);
  std::memcpy(b + 16, meta.data(), meta.size());
  if (!vectors.empty()) std::memcpy(b + head, vectors.data(), vectors.size() * 4);
  return words;
}

}  // namespace ragwire::dataplane::test
