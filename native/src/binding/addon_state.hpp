// Per-environment state of the addon (a worker thread gets its own).
#pragma once
#include <napi.h>

#include <map>
#include <string>

#include "../dataplane/query_decoder.hpp"
#include "ragwire/limits.hpp"
#include "ragwire/status.hpp"

namespace ragwire::binding {

struct Job;

struct AddonState {
  // Error classes of @ragwire/protocol by code, handed over by initialize().
  std::map<std::string, Napi::FunctionReference> error_classes;
  // What a caller may ask for, from @ragwire/protocol's limits table, handed over by initialize()
  // (the memory-safety guards until then, for whoever loads the .node file without the TS loader).
  Limits limits = kGuards;
  // @ragwire/protocol's ProtocolLimits (and its filter caps), handed over by initialize(): what the
  // native data plane's decoders refuse. Zero until then: every QUERY is refused.
  dataplane::ProtocolLimits protocol_limits;
  Napi::FunctionReference index_ctor;
  // Completions of pool jobs come back to the JS thread through this function.
  Napi::ThreadSafeFunction completions;
  size_t pending = 0;
};

AddonState& state(Napi::Env env);

// The JS error for a core status, of the class registered for its code.
Napi::Error to_js_error(Napi::Env env, const Status& st);
// Throws a typed error for an invalid argument (validation in the binding).
[[noreturn]] void throw_status(Napi::Env env, Code code, const std::string& message);

}  // namespace ragwire::binding
