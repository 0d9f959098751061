// docs/protocol.md §2 and §9.1: the checks a frame header passes before its body is read, exactly
// as packages/protocol/src/header.ts (checkHeader) makes them, with the same error codes. The
// first piece of the native data plane: a C++ loop reads headers itself and keeps QUERY frames,
// handing everything else to JavaScript. Plain C++, no Node header.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ragwire::dataplane {

constexpr size_t kHeaderBytes = 12;
constexpr uint8_t kProtocolVersion = 1;
constexpr uint16_t kFlagResponse = 0x0001;

// Every refusal the native plane can give, one per RAGWIRE_ERR_* code it shares with the TS decoder.
enum class FrameFault : uint8_t {
  kNone,
  kBadFrame,
  kFrameTooLarge,
  kUnsupportedVersion,
  kUnknownMessageType,
  kLimit,
  kInvalidFilter,
  kUnknownOption,
};
constexpr uint8_t kFrameFaultCount = (uint8_t)FrameFault::kUnknownOption + 1;

struct HeaderCheck {
  FrameFault fault = FrameFault::kNone;
  // The stream cannot continue: the length prefix itself cannot be trusted.
  bool fatal = false;
  uint64_t frame_bytes = 0;  // length prefix included
  uint8_t type = 0;
  uint16_t flags = 0;
  uint32_t request_id = 0;
};

// Which way each type code may travel (docs/protocol.md §4), from the protocol's codec table: the
// addon sets it once at initialisation. Until then every type is unknown.
enum class Direction : uint8_t { kUnknown, kRequest, kResponse, kBoth };
void set_direction(uint8_t type, Direction d);

// Reads and checks the 12 header bytes at `p` (the caller guarantees they are there).
HeaderCheck check_header(const uint8_t* p, uint64_t max_frame_bytes);

// The RAGWIRE_ERR_* code of a fault ("" for kNone).
const char* fault_code(FrameFault fault);

// Whether the native plane answers this type itself (QUERY) or hands the frame to JavaScript.
inline bool answered_natively(uint8_t type) { return type == 0x20; }

}  // namespace ragwire::dataplane
