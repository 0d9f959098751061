#include "frame_header.hpp"

namespace ragwire::dataplane {

namespace {

// Set before any frame is read (initialize) and only read after: no lock.
Direction directions[256] = {};

uint32_t u32le(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

}  // namespace

void set_direction(uint8_t type, Direction d) { directions[type] = d; }

HeaderCheck check_header(const uint8_t* p, uint64_t max_frame_bytes) {
  HeaderCheck h;
  h.frame_bytes = (uint64_t)u32le(p) + 4;
  h.type = p[5];
  h.flags = (uint16_t)(p[6] | (p[7] << 8));
  h.request_id = u32le(p + 8);
  const uint8_t version = p[4];
  auto fault = [&h](FrameFault f, bool fatal = false) {
    h.fault = f;
    h.fatal = fatal;
    return h;
  };
  // The order of the checks is checkHeader's: the first that fails names the fault.
  if (h.frame_bytes > max_frame_bytes) return fault(FrameFault::kFrameTooLarge, true);
  if (h.frame_bytes < kHeaderBytes) return fault(FrameFault::kBadFrame, true);
  if (h.frame_bytes % 4 != 0) return fault(FrameFault::kBadFrame);
  if (version != kProtocolVersion) return fault(FrameFault::kUnsupportedVersion);
  const Direction d = directions[h.type];
  if (d == Direction::kUnknown) return fault(FrameFault::kUnknownMessageType);
  if ((h.flags & ~kFlagResponse) != 0) return fault(FrameFault::kBadFrame);
  const bool response = (h.flags & kFlagResponse) != 0;
  if ((d == Direction::kRequest && response) || (d == Direction::kResponse && !response))
    return fault(FrameFault::kBadFrame);
  if (h.request_id == 0 && h.type != 0x7f) return fault(FrameFault::kBadFrame);
  return h;
}

const char* fault_code(FrameFault fault) {
  switch (fault) {
    case FrameFault::kNone: return "";
    case FrameFault::kBadFrame: return "RAGWIRE_ERR_BAD_FRAME";
    case FrameFault::kFrameTooLarge: return "RAGWIRE_ERR_FRAME_TOO_LARGE";
    case FrameFault::kUnsupportedVersion: return "RAGWIRE_ERR_UNSUPPORTED_VERSION";
    case FrameFault::kUnknownMessageType: return "RAGWIRE_ERR_UNKNOWN_MESSAGE_TYPE";
    case FrameFault::kLimit: return "RAGWIRE_ERR_LIMIT";
    case FrameFault::kInvalidFilter: return "RAGWIRE_ERR_INVALID_FILTER";
    case FrameFault::kUnknownOption: return "RAGWIRE_ERR_UNKNOWN_OPTION";
  }
  return "RAGWIRE_ERR_INTERNAL";
}

}  // namespace ragwire::dataplane
