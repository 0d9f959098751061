// What the native data plane knows of a connection (pushed from JavaScript once its HELLO, token and
// EXTENSIONS are settled) and the interface that answers a QUERY frame on the loop thread. Until
// JavaScript says a connection is ready, and for every frame an answerer declines, the frame goes
// to JavaScript unchanged. Plain C++, no Node header.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace ragwire::dataplane {

struct ConnState {
  // Authenticated (or a server without tokens) and past anything that must run in JavaScript
  // first; false: every frame of the connection goes to JavaScript.
  bool ready = false;
  // The connection turned the trace extension on (its QUERY frames may carry `trace`).
  bool trace_on = false;
  // Collections the connection may read: every one, or those named.
  bool read_any = false;
  std::unordered_set<std::string> readable;

  bool may_read(const std::string& collection) const { return read_any || readable.count(collection) != 0; }
};

class QueryAnswerer {
 public:
  virtual ~QueryAnswerer() = default;
  // `frame`: one whole QUERY frame of `bytes` bytes (4-byte aligned, header included) of a ready
  // connection. Appends the reply frame to `reply` and returns true when it answered it; false
  // (nothing appended) hands the frame to JavaScript. Called on the loop thread, one at a time per
  // loop.
  virtual bool answer(const uint8_t* frame, size_t bytes, const ConnState& state, std::vector<uint8_t>& reply) = 0;
};

}  // namespace ragwire::dataplane
