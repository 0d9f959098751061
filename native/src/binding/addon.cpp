// Module entry: initialize(errorClasses, limits, messageTypes, protocolLimits) must be called once by the TS loader
// before anything else, so core errors arrive as @ragwire/protocol's classes and
// the binding refuses what the protocol's limits table refuses.
#include <napi.h>

#include "../dataplane/frame_header.hpp"
#include "addon_state.hpp"
#include "async_job.hpp"
#include "dataplane_wrap.hpp"
#include "index_wrap.hpp"
#include "ragwire/device.hpp"
#include "ragwire/diagnostics.hpp"
#include "ragwire/kernels.hpp"
#include "registry_wrap.hpp"
#include "tcp_loop_wrap.hpp"
#include "ucx_wrap.hpp"

namespace ragwire::binding {

AddonState& state(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

namespace {

// A [min, max] pair of the limits table, which must lie within the engine's guard for it.
Range range_of(Napi::Env env, const Napi::Object& table, const char* name, const Range& guard) {
  Napi::Value v = table.Get(name);
  auto bound = [&](uint32_t i) {
    Napi::Value b = v.As<Napi::Array>().Get(i);
    double d = b.IsNumber() ? b.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0) || d > 4294967295.0 || d != (double)(uint64_t)d)
      throw Napi::TypeError::New(env, std::string("initialize: limit ") + name + " must be a pair of u32 integers");
    return (uint32_t)d;
  };
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 2)
    throw Napi::TypeError::New(env, std::string("initialize: limit ") + name + " must be a [min, max] pair");
  Range r{bound(0), bound(1)};
  if (!r.within(guard))
    throw Napi::RangeError::New(env, std::string("initialize: limit ") + name + " [" + std::to_string(r.min) + ", " +
                                         std::to_string(r.max) + "] lies outside the engine's guard [" +
                                         std::to_string(guard.min) + ", " + std::to_string(guard.max) + "]");
  return r;
}

// The limits table as the TS loader hands it over: { dim, k, M, efConstruction, efSearch, rerankFactor },
// each a [min, max] pair (packages/protocol/src/limits.ts).
Limits parse_limits(Napi::Env env, const Napi::Object& table) {
  Limits l;
  l.dim = range_of(env, table, "dim", kGuards.dim);
  l.k = range_of(env, table, "k", kGuards.k);
  l.M = range_of(env, table, "M", kGuards.M);
  l.ef_construction = range_of(env, table, "efConstruction", kGuards.ef_construction);
  l.ef_search = range_of(env, table, "efSearch", kGuards.ef_search);
  l.rerank_factor = range_of(env, table, "rerankFactor", kGuards.rerank_factor);
  return l;
}

// The protocol's type codes as the TS loader hands them over (wireDirections()): [code, request, response].
void set_directions(Napi::Env env, const Napi::Array& table) {
  for (uint32_t i = 0; i < table.Length(); i++) {
    Napi::Value row = table.Get(i);
    if (!row.IsArray() || row.As<Napi::Array>().Length() != 3)
      throw Napi::TypeError::New(env, "initialize: a message type must be [code, request, response]");
    Napi::Array r = row.As<Napi::Array>();
    double code = r.Get(0u).ToNumber().DoubleValue();
    if (!(code >= 1 && code <= 255) || code != (uint32_t)code)
      throw Napi::RangeError::New(env, "initialize: a message type code must be in 1..255");
    bool request = r.Get(1u).ToBoolean(), response = r.Get(2u).ToBoolean();
    dataplane::set_direction((uint8_t)code, request && response ? dataplane::Direction::kBoth
                                            : request           ? dataplane::Direction::kRequest
                                            : response          ? dataplane::Direction::kResponse
                                                                : dataplane::Direction::kUnknown);
  }
}

Napi::Value initialize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "initialize expects the error classes by code");
  if (!info[1].IsObject()) throw Napi::TypeError::New(env, "initialize expects the limits table");
  if (!info[2].IsArray()) throw Napi::TypeError::New(env, "initialize expects the message types");
  if (!info[3].IsObject()) throw Napi::TypeError::New(env, "initialize expects the protocol limits");
  AddonState& s = state(env);
  s.limits = parse_limits(env, info[1].As<Napi::Object>());
  s.protocol_limits = parse_protocol_limits(env, info[3].As<Napi::Object>());
  set_directions(env, info[2].As<Napi::Array>());
  Napi::Object classes = info[0].As<Napi::Object>();
  Napi::Array keys = classes.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    Napi::Value key = keys.Get(i);
    Napi::Value cls = classes.Get(key);
    if (cls.IsFunction())
      s.error_classes[key.As<Napi::String>().Utf8Value()] = Napi::Persistent(cls.As<Napi::Function>());
  }
  return env.Undefined();
}

Napi::Value isa_name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), isa()); }

Napi::Value threads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), (double)ThreadPool::shared().size());
}

Napi::Value read_bandwidth(const Napi::CallbackInfo& info) {
  double bytes = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 256.0 * 1024 * 1024;
  if (!(bytes >= 4096) || bytes > 16.0 * 1024 * 1024 * 1024) bytes = 256.0 * 1024 * 1024;
  return Napi::Number::New(info.Env(), measure_read_bandwidth((size_t)bytes, ThreadPool::shared()));
}

// [{ kind, name, memoryBytes, maxAllocBytes, computeUnits, gpu }], the CPU first.
Napi::Value devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<DeviceInfo> all = list_devices();
  Napi::Array out = Napi::Array::New(env, all.size());
  for (size_t i = 0; i < all.size(); i++) {
    Napi::Object d = Napi::Object::New(env);
    d.Set("kind", device_kind_name(all[i].kind));
    d.Set("name", all[i].name);
    d.Set("memoryBytes", (double)all[i].memory_bytes);
    d.Set("maxAllocBytes", (double)all[i].max_alloc_bytes);
    d.Set("computeUnits", all[i].compute_units);
    d.Set("gpu", all[i].gpu);
    out.Set((uint32_t)i, d);
  }
  return out;
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  auto* s = new AddonState();
  env.SetInstanceData<AddonState>(s);
  init_completions(env);
  Napi::Function ctor = IndexWrap::define(env);
  s->index_ctor = Napi::Persistent(ctor);
  exports.Set("NativeIndex", ctor);
  exports.Set("loadIndex", Napi::Function::New(env, IndexWrap::load, "loadIndex"));
  exports.Set("initialize", Napi::Function::New(env, initialize, "initialize"));
  exports.Set("isa", Napi::Function::New(env, isa_name, "isa"));
  exports.Set("threads", Napi::Function::New(env, threads, "threads"));
  exports.Set("devices", Napi::Function::New(env, devices, "devices"));
  exports.Set("measureReadBandwidth", Napi::Function::New(env, read_bandwidth, "measureReadBandwidth"));
  define_ucx(env, exports);
  define_dataplane(env, exports);
  define_tcp_loop(env, exports);
  define_registry(env, exports);
  return exports;
}

}  // namespace ragwire::binding

static Napi::Object InitRagwire(Napi::Env env, Napi::Object exports) { return ragwire::binding::init(env, exports); }

NODE_API_MODULE(ragwire_native, InitRagwire)
