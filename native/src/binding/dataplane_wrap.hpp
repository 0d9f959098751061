// The native data plane's functions of the addon (dataplane_wrap.cpp).
#pragma once
#include <napi.h>

#include "../dataplane/query_decoder.hpp"
#include "../dataplane/served_stream.hpp"

namespace ragwire::binding {

void define_dataplane(Napi::Env env, Napi::Object exports);

// The protocol's limits as the TS loader hands them over (ProtocolLimits plus maxFilterKeyBytes and
// maxFilterStringChars), each a non-negative integer; a TypeError names a missing one.
dataplane::ProtocolLimits parse_protocol_limits(Napi::Env env, const Napi::Object& table);

// A byte count or other size from an options object: `fallback` when the field is not a number.
size_t size_field(const Napi::Object& o, const char* name, size_t fallback);

// { maxFrameBytes, keepFrameBytes, replyHighWaterBytes, answerTimeBoundsNs }: a served connection's
// limits (the defaults where a field is missing; a RangeError for bounds not ascending or too many).
dataplane::ServeLimits serve_limits_arg(const Napi::Object& o);

// { counts, seconds }: the native answers by time bucket (AnswerCounters::answer_times) and their
// total time, as a loop's or worker's stats report them.
Napi::Object answer_times_object(Napi::Env env, const std::vector<uint64_t>& counts, uint64_t ns);

}  // namespace ragwire::binding
