// The native data plane's pieces as JavaScript sees them, for the differential tests
// (native/test/frame-header-diff.test.ts): the C++ header check on many headers at once.
#include "dataplane_wrap.hpp"

#include "../dataplane/frame_header.hpp"

namespace ragwire::binding {

namespace {

// frameHeaderChecks(headers: Uint8Array of n x 12 bytes, maxFrameBytes) -> Uint8Array(n):
// the FrameFault of each, plus 0x80 when it is fatal.
Napi::Value frame_header_checks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "frameHeaderChecks(headers, maxFrameBytes)");
  Napi::Uint8Array headers = info[0].As<Napi::Uint8Array>();
  const size_t n = headers.ByteLength() / dataplane::kHeaderBytes;
  const uint64_t max_frame = (uint64_t)info[1].As<Napi::Number>().Int64Value();
  Napi::Uint8Array out = Napi::Uint8Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    dataplane::HeaderCheck h = dataplane::check_header(headers.Data() + i * dataplane::kHeaderBytes, max_frame);
    out[i] = (uint8_t)((uint8_t)h.fault | (h.fatal ? 0x80 : 0));
  }
  return out;
}

Napi::Value fault_codes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  for (uint8_t f = 0; f <= (uint8_t)dataplane::FrameFault::kUnknownMessageType; f++) {
    out.Set(f, Napi::String::New(env, dataplane::fault_code((dataplane::FrameFault)f)));
  }
  return out;
}

}  // namespace

void define_dataplane(Napi::Env env, Napi::Object exports) {
  exports.Set("frameHeaderChecks", Napi::Function::New(env, frame_header_checks, "frameHeaderChecks"));
  exports.Set("frameFaultCodes", Napi::Function::New(env, fault_codes, "frameFaultCodes"));
}

}  // namespace ragwire::binding
