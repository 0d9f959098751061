// dataPlaneRegistry*: the collections a store publishes to the native data plane
// (src/dataplane/collection_registry.hpp). Registries are numbered; a listener's loop answers from one.
#include "registry_wrap.hpp"

#include <map>

#include "../dataplane/registry_answerer.hpp"
#include "addon_state.hpp"
#include "dataplane_wrap.hpp"
#include "index_wrap.hpp"

namespace ragwire::binding {

namespace {

std::map<uint32_t, std::shared_ptr<dataplane::CollectionRegistry>> g_registries;
uint32_t g_next_registry = 1;

std::string name_arg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsString()) throw Napi::TypeError::New(info.Env(), "a collection name must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Uint32Array labels_arg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    throw Napi::TypeError::New(info.Env(), "labels must be a Uint32Array");
  return info[i].As<Napi::Uint32Array>();
}

// dataPlaneRegistryCreate() -> id
Napi::Value create(const Napi::CallbackInfo& info) {
  const uint32_t id = g_next_registry++;
  g_registries[id] = std::make_shared<dataplane::CollectionRegistry>();
  return Napi::Number::New(info.Env(), id);
}

// dataPlaneRegistryDispose(id): unpublishes everything (a loop answering from it declines every
// query from then on) and forgets it.
Napi::Value dispose(const Napi::CallbackInfo& info) {
  auto it = info[0].IsNumber() ? g_registries.find(info[0].As<Napi::Number>().Uint32Value()) : g_registries.end();
  if (it == g_registries.end()) return info.Env().Undefined();
  it->second->clear();
  g_registries.erase(it);
  return info.Env().Undefined();
}

double non_negative(Napi::Env env, const Napi::Object& o, const char* name) {
  const Napi::Value v = o.Get(name);
  if (!v.IsNumber() || !(v.As<Napi::Number>().DoubleValue() >= 0))
    throw Napi::TypeError::New(env, std::string("plan.") + name + " must be a non-negative number");
  return v.As<Napi::Number>().DoubleValue();
}

// dataPlaneRegistryPublish(id, name, nativeIndex,
//   { exactScanBytes, walkCost, M, efSearch, searchesOnDevice, columnDir })
Napi::Value publish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto registry = registry_arg(info, 0);
  const std::string name = name_arg(info, 1);
  if (!info[2].IsObject() || !info[3].IsObject())
    throw Napi::TypeError::New(env, "dataPlaneRegistryPublish(id, name, nativeIndex, plan)");
  std::shared_ptr<Index> index = IndexWrap::Unwrap(info[2].As<Napi::Object>())->live(env);
  Napi::Object o = info[3].As<Napi::Object>();
  dataplane::PlanRules rules;
  rules.exact_scan_bytes = (uint64_t)non_negative(env, o, "exactScanBytes");
  rules.walk_cost = non_negative(env, o, "walkCost");
  rules.m = (uint32_t)non_negative(env, o, "M");
  rules.ef_search = (uint32_t)non_negative(env, o, "efSearch");
  rules.searches_on_device = o.Get("searchesOnDevice").ToBoolean();
  const Napi::Value column_dir = o.Get("columnDir");
  if (!column_dir.IsString()) throw Napi::TypeError::New(env, "plan.columnDir must be a directory path");
  registry->publish(name, std::move(index), rules, column_dir.As<Napi::String>().Utf8Value());
  return env.Undefined();
}

// A row's filter fields: [key, value, key, value, ...] with each value a string, a number, a
// boolean, or null (present, not value-indexed).
std::vector<dataplane::IndexedField> fields_arg(Napi::Env env, const Napi::Value& v) {
  std::vector<dataplane::IndexedField> out;
  if (v.IsNull() || v.IsUndefined()) return out;
  if (!v.IsArray()) throw Napi::TypeError::New(env, "dataPlaneRegistryPut: fields must be arrays of key, value pairs");
  Napi::Array a = v.As<Napi::Array>();
  const uint32_t n = a.Length();
  if (n % 2 != 0) throw Napi::TypeError::New(env, "dataPlaneRegistryPut: fields must be arrays of key, value pairs");
  out.resize(n / 2);
  for (uint32_t i = 0; i < n / 2; i++) {
    Napi::Value key = a.Get(2 * i);
    Napi::Value value = a.Get(2 * i + 1);
    if (!key.IsString()) throw Napi::TypeError::New(env, "dataPlaneRegistryPut: a field's key must be a string");
    dataplane::IndexedField& f = out[i];
    f.key = key.As<Napi::String>().Utf8Value();
    using Kind = dataplane::IndexedField::Kind;
    if (value.IsString()) {
      f.kind = Kind::kString;
      f.str = value.As<Napi::String>().Utf8Value();
    } else if (value.IsNumber()) {
      f.kind = Kind::kNumber;
      f.number = value.As<Napi::Number>().DoubleValue();
    } else if (value.IsBoolean()) {
      f.kind = Kind::kBool;
      f.boolean = value.As<Napi::Boolean>().Value();
    } else if (value.IsNull()) {
      f.kind = Kind::kPresent;
    } else {
      throw Napi::TypeError::New(env,
                                 "dataPlaneRegistryPut: a field's value must be a string, number, boolean or null");
    }
  }
  return out;
}

Napi::Value unpublish(const Napi::CallbackInfo& info) {
  registry_arg(info, 0)->unpublish(name_arg(info, 1));
  return info.Env().Undefined();
}

// dataPlaneRegistryPut(id, name, labels: Uint32Array, ids: string[], payloads: (Uint8Array | null)[],
//   fields: (unknown[] | null)[])
Napi::Value put(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto registry = registry_arg(info, 0);
  const std::string name = name_arg(info, 1);
  Napi::Uint32Array labels = labels_arg(info, 2);
  if (!info[3].IsArray() || !info[4].IsArray() || !info[5].IsArray())
    throw Napi::TypeError::New(env, "dataPlaneRegistryPut(id, name, labels, ids, payloads, fields)");
  Napi::Array ids = info[3].As<Napi::Array>();
  Napi::Array payloads = info[4].As<Napi::Array>();
  Napi::Array fields = info[5].As<Napi::Array>();
  const size_t n = labels.ElementLength();
  if (ids.Length() != n || payloads.Length() != n || fields.Length() != n)
    throw Napi::TypeError::New(
        env, "dataPlaneRegistryPut: one id, one payload (or null) and one field list (or null) per label");
  std::vector<std::pair<uint32_t, dataplane::PublishedRow>> rows(n);
  for (size_t i = 0; i < n; i++) {
    Napi::Value id = ids.Get((uint32_t)i);
    Napi::Value p = payloads.Get((uint32_t)i);
    if (!id.IsString()) throw Napi::TypeError::New(env, "dataPlaneRegistryPut: ids must be strings");
    rows[i].first = labels[i];
    rows[i].second.id = id.As<Napi::String>().Utf8Value();
    if (p.IsTypedArray()) {
      Napi::Uint8Array b = p.As<Napi::Uint8Array>();
      rows[i].second.payload.assign(reinterpret_cast<const char*>(b.Data()), b.ByteLength());
      rows[i].second.has_payload = true;
    } else if (!p.IsNull() && !p.IsUndefined()) {
      throw Napi::TypeError::New(env, "dataPlaneRegistryPut: payloads must be Uint8Arrays or null");
    }
    rows[i].second.fields = fields_arg(env, fields.Get((uint32_t)i));
  }
  registry->put(name, std::move(rows));
  return env.Undefined();
}

// dataPlaneRegistryRemove(id, name, labels: Uint32Array)
Napi::Value remove(const Napi::CallbackInfo& info) {
  auto registry = registry_arg(info, 0);
  const std::string name = name_arg(info, 1);
  Napi::Uint32Array labels = labels_arg(info, 2);
  registry->remove(name, labels.Data(), labels.ElementLength());
  return info.Env().Undefined();
}

}  // namespace

std::shared_ptr<dataplane::CollectionRegistry> registry_arg(const Napi::CallbackInfo& info, size_t i) {
  auto it = info[i].IsNumber() ? g_registries.find(info[i].As<Napi::Number>().Uint32Value()) : g_registries.end();
  if (it == g_registries.end()) throw Napi::TypeError::New(info.Env(), "no such data-plane registry");
  return it->second;
}

std::shared_ptr<dataplane::QueryAnswerer> answerer_args(const Napi::CallbackInfo& info, size_t first) {
  Napi::Env env = info.Env();
  auto registry = registry_arg(info, first);
  if (!info[first + 1].IsObject() || !info[first + 2].IsObject())
    throw Napi::TypeError::New(env, "answering needs (registry, protocolLimits, storeCaps)");
  const dataplane::ProtocolLimits limits = parse_protocol_limits(env, info[first + 1].As<Napi::Object>());
  Napi::Object caps_in = info[first + 2].As<Napi::Object>();
  dataplane::StoreCaps caps;
  caps.max_k = size_field(caps_in, "maxK", 0);
  caps.max_ef_search = size_field(caps_in, "maxEfSearch", 0);
  return std::make_shared<dataplane::RegistryAnswerer>(std::move(registry), limits, caps);
}

dataplane::ConnState conn_state_arg(Napi::Env env, const Napi::Value& value) {
  if (!value.IsObject()) throw Napi::TypeError::New(env, "a connection state must be an object");
  Napi::Object o = value.As<Napi::Object>();
  dataplane::ConnState state;
  state.ready = o.Get("ready").ToBoolean();
  state.trace_on = o.Get("traceOn").ToBoolean();
  state.read_any = o.Get("readAny").ToBoolean();
  Napi::Value readable = o.Get("readable");
  if (!readable.IsArray()) throw Napi::TypeError::New(env, "a connection state's readable must be an array of names");
  Napi::Array names = readable.As<Napi::Array>();
  for (uint32_t i = 0; i < names.Length(); i++) {
    Napi::Value v = names.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "a connection state's readable must be an array of names");
    state.readable.insert(v.As<Napi::String>().Utf8Value());
  }
  return state;
}

void define_registry(Napi::Env env, Napi::Object exports) {
  exports.Set("dataPlaneRegistryCreate", Napi::Function::New(env, create, "dataPlaneRegistryCreate"));
  exports.Set("dataPlaneRegistryDispose", Napi::Function::New(env, dispose, "dataPlaneRegistryDispose"));
  exports.Set("dataPlaneRegistryPublish", Napi::Function::New(env, publish, "dataPlaneRegistryPublish"));
  exports.Set("dataPlaneRegistryUnpublish", Napi::Function::New(env, unpublish, "dataPlaneRegistryUnpublish"));
  exports.Set("dataPlaneRegistryPut", Napi::Function::New(env, put, "dataPlaneRegistryPut"));
  exports.Set("dataPlaneRegistryRemove", Napi::Function::New(env, remove, "dataPlaneRegistryRemove"));
}

}  // namespace ragwire::binding
