#include "index_wrap.hpp"

#include <cmath>
#include <cstring>

#include "addon_state.hpp"
#include "async_job.hpp"

namespace ragwire::binding {

namespace {

struct SearchArgs {
  const float* queries = nullptr;
  size_t nq = 0;
  size_t k = 0;
  SearchOptions opts;
};

template <class T>
T typed(Napi::Env env, const Napi::Value& v, napi_typedarray_type type, const char* what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throw_status(env, Code::kInvalidArgument, std::string(what) + " has the wrong type");
  return v.As<T>();
}

uint32_t get_u32(Napi::Env env, const Napi::Value& v, const char* what, uint32_t fallback) {
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw_status(env, Code::kInvalidArgument, std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 4294967295.0 || d != (double)(uint64_t)d)
    throw_status(env, Code::kInvalidArgument, std::string(what) + " must be a non-negative integer");
  return (uint32_t)d;
}

// An integer in `range` (the protocol's limits table): not an integer or below the minimum is
// RAGWIRE_ERR_INVALID_ARGUMENT, above the maximum RAGWIRE_ERR_LIMIT, as the TS checks say.
uint32_t get_in(Napi::Env env, const Napi::Value& v, const char* what, const Range& range, uint32_t fallback) {
  if (v.IsUndefined() || v.IsNull()) return fallback;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(d >= range.min) || d != std::floor(d))
    throw_status(env, Code::kInvalidArgument,
                 std::string(what) + " must be an integer >= " + std::to_string(range.min) + ", got " +
                     v.ToString().Utf8Value());
  if (d > range.max)
    throw_status(
        env, Code::kLimit,
        std::string(what) + " must be at most " + std::to_string(range.max) + ", got " + v.ToString().Utf8Value());
  return (uint32_t)d;
}

// (queries, k, efSearch, rerankFactor, filterScanThreshold, filter, exact, onDevice)
SearchArgs parse_search(const Napi::CallbackInfo& info, const Index& index, Job* job) {
  Napi::Env env = info.Env();
  SearchArgs a;
  auto q = typed<Napi::Float32Array>(env, info[0], napi_float32_array, "queries");
  size_t dim = index.config().dim;
  if (q.ElementLength() % dim != 0)
    throw_status(env, Code::kDimMismatch,
                 "queries length " + std::to_string(q.ElementLength()) + " is not a multiple of the dimension " +
                     std::to_string(dim));
  a.queries = q.Data();
  a.nq = q.ElementLength() / dim;
  const Limits& limits = state(env).limits;
  if (info[1].IsUndefined() || info[1].IsNull())
    throw_status(env, Code::kInvalidArgument, "k must be a positive integer");
  a.k = get_in(env, info[1], "k", limits.k, 0);
  // Absent: the index's own value (0 to the core).
  a.opts.ef_search = get_in(env, info[2], "efSearch", limits.ef_search, 0);
  a.opts.rerank_factor = get_in(env, info[3], "rerankFactor", limits.rerank_factor, 0);
  a.opts.filter_scan_threshold = get_u32(env, info[4], "filterScanThreshold", a.opts.filter_scan_threshold);
  Napi::Value f = info[5];
  if (!f.IsUndefined() && !f.IsNull()) {
    if (!f.IsTypedArray())
      throw_status(env, Code::kInvalidArgument, "filter must be a Uint8Array bitset or a sorted Uint32Array");
    auto t = f.As<Napi::TypedArray>();
    if (t.TypedArrayType() == napi_uint8_array) {
      auto b = t.As<Napi::Uint8Array>();
      a.opts.filter.bits = b.Data();
      a.opts.filter.bits_len = b.ElementLength();
    } else if (t.TypedArrayType() == napi_uint32_array) {
      auto s = t.As<Napi::Uint32Array>();
      for (size_t i = 1; i < s.ElementLength(); i++)
        if (s[i - 1] >= s[i])
          throw_status(env, Code::kInvalidArgument, "a Uint32Array filter must be sorted ascending without repeats");
      a.opts.filter.sorted = s.Data();
      a.opts.filter.sorted_len = s.ElementLength();
      static const uint32_t empty = 0;
      if (!a.opts.filter.sorted) a.opts.filter.sorted = &empty;  // an empty list allows nothing
    } else {
      throw_status(env, Code::kInvalidArgument, "filter must be a Uint8Array bitset or a sorted Uint32Array");
    }
    if (job) job->keep_alive.push_back(Napi::Persistent(f.As<Napi::Object>()));
  }
  a.opts.exact = info[6].IsBoolean() && info[6].As<Napi::Boolean>().Value();
  a.opts.on_device = !info[7].IsBoolean() || info[7].As<Napi::Boolean>().Value();
  if (job) job->keep_alive.push_back(Napi::Persistent(info[0].As<Napi::Object>()));
  return a;
}

Napi::Object result_object(Napi::Env env, const std::vector<uint32_t>& labels, const std::vector<float>& scores,
                           size_t k) {
  auto l = Napi::Uint32Array::New(env, labels.size());
  auto s = Napi::Float32Array::New(env, scores.size());
  if (!labels.empty()) std::memcpy(l.Data(), labels.data(), labels.size() * 4);
  if (!scores.empty()) std::memcpy(s.Data(), scores.data(), scores.size() * 4);
  Napi::Object o = Napi::Object::New(env);
  o.Set("labels", l);
  o.Set("scores", s);
  o.Set("k", Napi::Number::New(env, (double)k));
  return o;
}

IndexConfig parse_config(Napi::Env env, const Napi::Object& o) {
  const Limits& limits = state(env).limits;
  IndexConfig c;
  if (o.Get("dim").IsUndefined()) throw_status(env, Code::kInvalidArgument, "dim must be a positive integer");
  c.dim = get_in(env, o.Get("dim"), "dim", limits.dim, 0);
  auto str = [&](const char* key) {
    Napi::Value v = o.Get(key);
    return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
  };
  if (!parse_metric(str("metric"), &c.metric))
    throw_status(env, Code::kInvalidArgument, "unknown metric '" + str("metric") + "'");
  if (!parse_kind(str("kind"), &c.kind))
    throw_status(env, Code::kInvalidArgument, "unknown kind '" + str("kind") + "'");
  if (!parse_storage(str("storage"), &c.storage))
    throw_status(env, Code::kInvalidArgument, "unknown storage '" + str("storage") + "'");
  std::string device = str("device");
  if (!device.empty() && !parse_device(device, &c.device))
    throw_status(env, Code::kInvalidArgument, "unknown device '" + device + "'");
  c.device_tile_rows = get_u32(env, o.Get("deviceTileRows"), "deviceTileRows", 0);
  std::string vectors = str("vectors");
  if (!vectors.empty() && !parse_placement(vectors, &c.vectors))
    throw_status(env, Code::kInvalidArgument, "unknown vectors placement '" + vectors + "'");
  c.vectors_path = str("vectorsPath");
  c.hnsw.M = get_in(env, o.Get("M"), "hnsw.M", limits.M, c.hnsw.M);
  c.hnsw.ef_construction =
      get_in(env, o.Get("efConstruction"), "hnsw.efConstruction", limits.ef_construction, c.hnsw.ef_construction);
  c.hnsw.ef_search = get_in(env, o.Get("efSearch"), "hnsw.efSearch", limits.ef_search, c.hnsw.ef_search);
  c.hnsw.seed = get_u32(env, o.Get("seed"), "seed", (uint32_t)c.hnsw.seed);
  c.hnsw.inline_codes = o.Get("inlineCodes").IsBoolean() && o.Get("inlineCodes").As<Napi::Boolean>().Value();
  c.bq.rerank_factor = get_in(env, o.Get("rerankFactor"), "bq.rerankFactor", limits.rerank_factor, c.bq.rerank_factor);
  return c;
}

}  // namespace

Napi::Function IndexWrap::define(Napi::Env env) {
  return DefineClass(env, "NativeIndex",
                     {
                         InstanceMethod("add", &IndexWrap::add),
                         InstanceMethod("search", &IndexWrap::search),
                         InstanceMethod("searchSync", &IndexWrap::search_sync),
                         InstanceMethod("remove", &IndexWrap::remove),
                         InstanceMethod("compact", &IndexWrap::compact),
                         InstanceMethod("save", &IndexWrap::save),
                         InstanceMethod("stats", &IndexWrap::stats),
                         InstanceMethod("close", &IndexWrap::close),
                     });
}

IndexWrap::IndexWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IndexWrap>(info) {
  Napi::Env env = info.Env();
  if (info[0].IsExternal()) return;  // filled in by load()
  if (!info[0].IsObject()) throw_status(env, Code::kInvalidArgument, "index options must be an object");
  IndexConfig cfg = parse_config(env, info[0].As<Napi::Object>());
  std::unique_ptr<Index> idx;
  Status st = Index::create(cfg, &idx);
  if (!st.is_ok()) throw to_js_error(env, st);
  index_ = std::move(idx);
}

std::shared_ptr<Index> IndexWrap::live(Napi::Env env) const {
  if (!index_) {
    AddonState& s = state(env);
    auto it = s.error_classes.find("RAGWIRE_ERR_CLOSED");
    if (it != s.error_classes.end())
      throw Napi::Error(env, it->second.New({Napi::String::New(env, "the index is closed")}));
    throw Napi::Error::New(env, "the index is closed");
  }
  return index_;
}

Napi::Value IndexWrap::add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto index = live(env);
  auto labels = typed<Napi::Uint32Array>(env, info[0], napi_uint32_array, "labels");
  auto vectors = typed<Napi::Float32Array>(env, info[1], napi_float32_array, "vectors");
  size_t n = labels.ElementLength(), dim = index->config().dim;
  if (vectors.ElementLength() != n * dim)
    throw_status(env, Code::kDimMismatch,
                 "vectors length " + std::to_string(vectors.ElementLength()) + " != labels " + std::to_string(n) +
                     " x dim " + std::to_string(dim));
  Job* job = new Job(env);
  const uint32_t* lp = labels.Data();
  const float* vp = vectors.Data();
  job->keep_alive.push_back(Napi::Persistent(info[0].As<Napi::Object>()));
  job->keep_alive.push_back(Napi::Persistent(info[1].As<Napi::Object>()));
  job->work = [index, lp, vp, n] { return index->add(lp, vp, n, ThreadPool::shared()); };
  return run_async(env, job);
}

Napi::Value IndexWrap::search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto index = live(env);
  Job* job = new Job(env);
  SearchArgs a;
  try {
    a = parse_search(info, *index, job);
  } catch (...) {
    delete job;
    throw;
  }
  auto labels = std::make_shared<std::vector<uint32_t>>();
  auto scores = std::make_shared<std::vector<float>>();
  job->work = [index, a, labels, scores] {
    labels->resize(a.nq * a.k);
    scores->resize(a.nq * a.k);
    return index->search(a.queries, a.nq, a.k, a.opts, labels->data(), scores->data(), ThreadPool::shared());
  };
  size_t k = a.k;
  job->result = [labels, scores, k](Napi::Env env) -> Napi::Value { return result_object(env, *labels, *scores, k); };
  return run_async(env, job);
}

Napi::Value IndexWrap::search_sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto index = live(env);
  SearchArgs a = parse_search(info, *index, nullptr);
  std::vector<uint32_t> labels(a.nq * a.k);
  std::vector<float> scores(a.nq * a.k);
  Status st = index->search(a.queries, a.nq, a.k, a.opts, labels.data(), scores.data(), ThreadPool::shared());
  if (!st.is_ok()) throw to_js_error(env, st);
  return result_object(env, labels, scores, a.k);
}

Napi::Value IndexWrap::remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto index = live(env);
  auto labels = typed<Napi::Uint32Array>(env, info[0], napi_uint32_array, "labels");
  Job* job = new Job(env);
  job->keep_alive.push_back(Napi::Persistent(info[0].As<Napi::Object>()));
  const uint32_t* lp = labels.Data();
  size_t n = labels.ElementLength();
  auto removed = std::make_shared<size_t>(0);
  job->work = [index, lp, n, removed] { return index->remove(lp, n, removed.get()); };
  job->result = [removed](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, (double)*removed); };
  return run_async(env, job);
}

Napi::Value IndexWrap::compact(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto index = live(env);
  Job* job = new Job(env);
  job->work = [index] { return index->compact(ThreadPool::shared()); };
  return run_async(env, job);
}

Napi::Value IndexWrap::save(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto index = live(env);
  if (!info[0].IsString()) throw_status(env, Code::kInvalidArgument, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  auto user = std::make_shared<std::vector<uint8_t>>();
  bool has_user = false;
  if (!info[1].IsUndefined() && !info[1].IsNull()) {
    auto u = typed<Napi::Uint8Array>(env, info[1], napi_uint8_array, "userData");
    user->assign(u.Data(), u.Data() + u.ElementLength());
    has_user = true;
  }
  Job* job = new Job(env);
  job->work = [index, path, user, has_user] {
    return index->save(path, has_user ? user->data() : nullptr, user->size());
  };
  return run_async(env, job);
}

Napi::Value IndexWrap::load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw_status(env, Code::kInvalidArgument, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  DeviceChoice device = DeviceChoice::kCpu;
  if (info[1].IsString() && !parse_device(info[1].As<Napi::String>().Utf8Value(), &device))
    throw_status(env, Code::kInvalidArgument, "unknown device '" + info[1].As<Napi::String>().Utf8Value() + "'");
  uint32_t tile = get_u32(env, info[2], "deviceTileRows", 0);
  std::string vectors_path = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : std::string();
  Job* job = new Job(env);
  auto loaded = std::make_shared<std::unique_ptr<Index>>();
  auto user = std::make_shared<std::vector<uint8_t>>();
  job->work = [path, loaded, user, device, tile, vectors_path] {
    return Index::load(path, loaded.get(), user.get(), device, tile, vectors_path);
  };
  job->result = [loaded, user](Napi::Env env) -> Napi::Value {
    Napi::Object obj = state(env).index_ctor.New({Napi::External<void>::New(env, nullptr)});
    IndexWrap* w = IndexWrap::Unwrap(obj);
    w->index_ = std::move(*loaded);
    Napi::Object out = Napi::Object::New(env);
    out.Set("index", obj);
    if (user->empty()) {
      out.Set("userData", env.Null());
    } else {
      auto u = Napi::Uint8Array::New(env, user->size());
      std::memcpy(u.Data(), user->data(), user->size());
      out.Set("userData", u);
    }
    return out;
  };
  return run_async(env, job);
}

Napi::Value IndexWrap::stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto index = live(env);
  IndexStats s = index->stats();
  const IndexConfig& c = index->config();
  Napi::Object o = Napi::Object::New(env);
  o.Set("dim", c.dim);
  o.Set("metric", metric_name(c.metric));
  o.Set("kind", kind_name(c.kind));
  o.Set("storage", storage_name(c.storage));
  o.Set("count", (double)s.count);
  o.Set("deleted", (double)s.deleted);
  o.Set("memoryBytes", (double)s.memory_bytes);
  o.Set("mappedBytes", (double)s.mapped_bytes);
  o.Set("vectors", placement_name(c.vectors));
  if (c.vectors == VectorPlacement::kDisk) o.Set("vectorsPath", c.vectors_path);
  if (c.kind == IndexKind::kHnsw) {
    o.Set("maxLevel", s.max_level);
    o.Set("M", c.hnsw.M);
    o.Set("efConstruction", c.hnsw.ef_construction);
    o.Set("efSearch", c.hnsw.ef_search);
    o.Set("inlineCodes", c.hnsw.inline_codes);
  }
  if (c.kind == IndexKind::kBq) o.Set("rerankFactor", c.bq.rerank_factor);
  o.Set("isa", isa());
  o.Set("device", s.device);
  o.Set("deviceKind", s.device_kind);
  o.Set("deviceMemoryBytes", (double)s.device_memory_bytes);
  return o;
}

Napi::Value IndexWrap::close(const Napi::CallbackInfo& info) {
  index_.reset();
  return info.Env().Undefined();
}

}  // namespace ragwire::binding
