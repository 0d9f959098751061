// Where the frames of one connection's byte stream begin and end, and which of them the native data
// plane keeps whole to answer itself: the bytes of every other frame pass on to JavaScript in order,
// as they come. Plain C++, no Node header.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "frame_header.hpp"

namespace ragwire::dataplane {

// Splits a stream into passed bytes and kept frames. A header's bytes are held until the header is
// whole, so the decision for its frame is made before any of its bytes go anywhere; a kept frame is
// buffered whole (at most the frame size `keep` accepted), every other byte passes through at once.
struct FrameSplitter {
  uint8_t header[kHeaderBytes] = {};
  size_t header_fill = 0;
  uint64_t pass_left = 0;     // body bytes of a passed frame still to come
  uint64_t hold_left = 0;     // body bytes of a kept frame still to come
  std::vector<uint8_t> held;  // the kept frame so far, header included
  bool broken = false;        // a fatal header passed: nothing after it is read

  // Consumes bytes [0, n) of `p`. At each whole header keep(check) says whether to keep its frame
  // (never asked for a fatal one); pass(bytes, count) receives the bytes for JavaScript in stream
  // order; frame(held) receives each kept frame once whole (4-byte aligned, header included), at
  // its place in the stream. Returns the bytes consumed: n, or up to a fatal header (passed too).
  template <typename Keep, typename Pass, typename Frame>
  size_t feed(const uint8_t* p, size_t n, uint64_t max_frame_bytes, Keep&& keep, Pass&& pass, Frame&& frame) {
    size_t i = 0;
    while (i < n && !broken) {
      if (pass_left > 0) {
        const size_t take = (size_t)std::min<uint64_t>(pass_left, n - i);
        pass(p + i, take);
        pass_left -= take;
        i += take;
        continue;
      }
      if (hold_left > 0) {
        const size_t take = (size_t)std::min<uint64_t>(hold_left, n - i);
        held.insert(held.end(), p + i, p + i + take);
        hold_left -= take;
        i += take;
        if (hold_left == 0) frame(held);
        continue;
      }
      const size_t take = std::min(kHeaderBytes - header_fill, n - i);
      std::memcpy(header + header_fill, p + i, take);
      header_fill += take;
      i += take;
      if (header_fill < kHeaderBytes) break;
      header_fill = 0;
      const HeaderCheck h = check_header(header, max_frame_bytes);
      if (!h.fatal && keep(h)) {
        held.assign(header, header + kHeaderBytes);
        hold_left = h.frame_bytes - kHeaderBytes;
        if (hold_left == 0) frame(held);
        continue;
      }
      pass(header, kHeaderBytes);
      if (h.fatal) {
        broken = true;
        return i;
      }
      pass_left = h.frame_bytes - kHeaderBytes;
    }
    return i;
  }
};

}  // namespace ragwire::dataplane
