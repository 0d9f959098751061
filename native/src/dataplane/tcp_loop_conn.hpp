// One connection of the TCP loop (tcp_loop.cpp, tcp_loop_api.cpp): its socket, where its frames
// split, what JavaScript settled for it, and its outbound queue. Private to the loop.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>

#include "served_stream.hpp"

namespace ragwire::dataplane {

inline int64_t loop_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct LoopConn {
  uint64_t id = 0;
  int fd = -1;
  ServedStream stream;          // where its frames split, what JavaScript settled for it
  uint64_t answered_bytes = 0;  // reply bytes of frames answered on the loop thread
  size_t unacked = 0;           // bytes handed to JavaScript and not yet consumed
  bool read_done = false;       // the peer's FIN came, or a fatal header stopped reading
  std::deque<std::vector<uint8_t>> out;
  size_t out_offset = 0;  // bytes of out.front() already sent
  size_t out_bytes = 0;   // bytes queued, the front's sent part excluded
  bool drain_wanted = false;
  bool finish_wanted = false;
  bool finished = false;
  int64_t linger_since = -1;  // closed by JavaScript with replies still queued: sent until flushed or timed out
  uint32_t interest = 0;
  bool registered = false;
};

}  // namespace ragwire::dataplane
