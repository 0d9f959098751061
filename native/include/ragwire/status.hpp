// Errors as values: the core never throws across its API and never includes a
// Node header. The binding maps each Code to a JS error class of @ragwire/protocol.
#pragma once
#include <string>
#include <utility>

namespace ragwire {

enum class Code {
  kOk = 0,
  kInvalidArgument,    // RAGWIRE_ERR_INVALID_ARGUMENT
  kDimMismatch,        // RAGWIRE_ERR_DIM_MISMATCH
  kNonFinite,          // RAGWIRE_ERR_NON_FINITE
  kDuplicateLabel,     // RAGWIRE_ERR_DUPLICATE_LABEL
  kCorruptSnapshot,    // RAGWIRE_ERR_CORRUPT_SNAPSHOT
  kIo,                 // RAGWIRE_ERR_IO
  kLimit,              // RAGWIRE_ERR_LIMIT
  kInternal,           // RAGWIRE_ERR_INTERNAL
  kNoDevice,           // RAGWIRE_ERR_DEVICE_UNAVAILABLE
  kDeviceOutOfMemory,  // RAGWIRE_ERR_DEVICE_OUT_OF_MEMORY
  kDeviceKernel,       // RAGWIRE_ERR_DEVICE_KERNEL
};

const char* code_name(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }

  bool is_ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

#define RAGWIRE_RETURN_IF_ERROR(expr) \
  do {                                \
    ::ragwire::Status _st = (expr);   \
    if (!_st.is_ok()) return _st;     \
  } while (0)

}  // namespace ragwire
