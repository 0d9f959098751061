// The native data plane's pieces as JavaScript sees them, for the differential tests
// (native/test/frame-header-diff.int.test.ts, native/test/query-decoder-diff.int.test.ts): the C++
// header check on many headers, and the C++ QUERY decoder on many frames, at once.
#include "dataplane_wrap.hpp"

#include "../dataplane/frame_header.hpp"
#include "../dataplane/result_encoder.hpp"
#include "addon_state.hpp"

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
  for (uint8_t f = 0; f < dataplane::kFrameFaultCount; f++) {
    out.Set(f, Napi::String::New(env, dataplane::fault_code((dataplane::FrameFault)f)));
  }
  return out;
}

using dataplane::Clause;
using dataplane::FilterOp;
using dataplane::FilterValue;

Napi::String str(Napi::Env env, std::string_view s) { return Napi::String::New(env, s.data(), s.size()); }

Napi::Value filter_value(Napi::Env env, const FilterValue& v) {
  switch (v.kind) {
    case FilterValue::Kind::kString: return str(env, v.str);
    case FilterValue::Kind::kNumber: return Napi::Number::New(env, v.number);
    case FilterValue::Kind::kBool: return Napi::Boolean::New(env, v.boolean);
  }
  return env.Undefined();
}

// The filter as validateFilter returns it (absent and nil clauses and bounds dropped).
Napi::Object filter_object(Napi::Env env, const dataplane::Filter& f) {
  static const char* const kClauses[3] = {"must", "should", "must_not"};
  static const char* const kBounds[4] = {"gt", "gte", "lt", "lte"};
  Napi::Array lists[3];
  Napi::Object out = Napi::Object::New(env);
  for (int c = 0; c < 3; c++) {
    if (!f.present[c]) continue;
    lists[c] = Napi::Array::New(env);
    out.Set(kClauses[c], lists[c]);
  }
  for (const dataplane::Condition& c : f.conditions) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("key", str(env, c.key));
    switch (c.op) {
      case FilterOp::kEq: o.Set("eq", filter_value(env, f.values[c.values_begin])); break;
      case FilterOp::kIn: {
        Napi::Array in = Napi::Array::New(env, c.values_count);
        for (uint32_t i = 0; i < c.values_count; i++) in.Set(i, filter_value(env, f.values[c.values_begin + i]));
        o.Set("in", in);
        break;
      }
      case FilterOp::kRange: {
        Napi::Object r = Napi::Object::New(env);
        for (int b = 0; b < 4; b++)
          if (c.bounds & (1u << b)) r.Set(kBounds[b], c.bound[b]);
        o.Set("range", r);
        break;
      }
      case FilterOp::kExists: o.Set("exists", c.exists); break;
    }
    Napi::Array list = lists[(int)c.clause];
    list.Set(list.Length(), o);
  }
  return out;
}

// The message decodeFrame returns for the same frame; typed arrays are views of `buffer`.
Napi::Object query_object(Napi::Env env, const dataplane::QueryView& q, Napi::ArrayBuffer buffer, const uint8_t* base) {
  auto offset = [base](const void* p) { return (size_t)((const uint8_t*)p - base); };
  Napi::Object m = Napi::Object::New(env);
  m.Set("type", "query");
  m.Set("collection", str(env, q.collection));
  m.Set("dim", q.dim);
  m.Set("k", q.k);
  m.Set("vectors", Napi::Float32Array::New(env, (size_t)q.n * q.dim, buffer, offset(q.vectors)));
  if (q.has_filter) m.Set("filter", filter_object(env, q.filter));
  if (q.options) {
    const dataplane::QueryOptions& o = *q.options;
    Napi::Object opts = Napi::Object::New(env);
    if (o.with_payload) opts.Set("withPayload", *o.with_payload);
    if (o.ef_search) opts.Set("efSearch", *o.ef_search);
    if (o.exact) opts.Set("exact", *o.exact);
    if (o.with_vectors) opts.Set("withVectors", *o.with_vectors);
    if (o.min_seq) opts.Set("minSeq", *o.min_seq);
    if (o.epoch) opts.Set("epoch", *o.epoch);
    m.Set("options", opts);
  }
  if (q.has_text) {
    Napi::Array text = Napi::Array::New(env, q.text.size());
    for (size_t i = 0; i < q.text.size(); i++) text.Set((uint32_t)i, str(env, q.text[i]));
    m.Set("text", text);
  }
  if (q.has_sparse) {
    Napi::Array sparse = Napi::Array::New(env, q.sparse.size());
    for (size_t i = 0; i < q.sparse.size(); i++) {
      const dataplane::SparseView& v = q.sparse[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("indices", Napi::Uint32Array::New(env, v.count, buffer, offset(v.indices)));
      o.Set("values", Napi::Float32Array::New(env, v.count, buffer, offset(v.values)));
      sparse.Set((uint32_t)i, o);
    }
    m.Set("sparse", sparse);
  }
  if (q.prefetch) m.Set("prefetch", *q.prefetch);
  if (q.fusion) {
    static const char* const kMethods[3] = {"rrf", "dbsf", "weighted"};
    Napi::Object f = Napi::Object::New(env);
    f.Set("method", kMethods[(int)q.fusion->method]);
    if (q.fusion->k) f.Set("k", *q.fusion->k);
    if (q.fusion->alpha) f.Set("alpha", *q.fusion->alpha);
    m.Set("fusion", f);
  }
  if (q.text_stats) {
    const dataplane::MsgpackDoc& doc = q.meta;
    Napi::Object t = Napi::Object::New(env);
    t.Set("docs", q.text_stats->docs);
    t.Set("tokens", q.text_stats->tokens);
    Napi::Object df = Napi::Object::New(env);
    const uint32_t map = q.text_stats->df;
    for (uint32_t k = dataplane::MsgpackDoc::first(map), i = 0; i < doc.nodes[map].count; i++, k = doc.next(k + 1))
      df.Set(str(env, doc.nodes[k].str), doc.nodes[k + 1].number);
    t.Set("df", df);
    m.Set("textStats", t);
  }
  if (q.trace) m.Set("trace", str(env, *q.trace));
  return m;
}

// queryDecodes(frames: Uint8Array, ends: Uint32Array, trace: boolean, limits?) -> verdict[]: frame i
// is frames[ends[i-1] rounded up to 4, ends[i]); its verdict is the decoded message, an error code,
// "not-mine" or "deferred". `limits` (a ProtocolLimits) replaces those of initialize().
Napi::Value query_decodes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || !info[1].IsTypedArray() || !info[2].IsBoolean())
    throw Napi::TypeError::New(env, "queryDecodes(frames, ends, trace, limits?)");
  Napi::Uint8Array frames = info[0].As<Napi::Uint8Array>();
  Napi::Uint32Array ends = info[1].As<Napi::Uint32Array>();
  if (frames.ByteOffset() % 4 != 0) throw Napi::RangeError::New(env, "queryDecodes: frames must start 4-byte aligned");
  const bool trace = info[2].As<Napi::Boolean>().Value();
  const dataplane::ProtocolLimits limits =
      info[3].IsObject() ? parse_protocol_limits(env, info[3].As<Napi::Object>()) : state(env).protocol_limits;
  Napi::Array out = Napi::Array::New(env, ends.ElementLength());
  dataplane::QueryView q;
  size_t start = 0;
  for (size_t i = 0; i < ends.ElementLength(); i++) {
    const size_t end = ends[i];
    if (end < start || end > frames.ByteLength()) throw Napi::RangeError::New(env, "queryDecodes: ends out of order");
    const dataplane::QueryDecode d =
        dataplane::decode_query_frame(frames.Data() + start, end - start, limits, trace, q);
    Napi::Value v;
    switch (d.verdict) {
      case dataplane::Verdict::kQuery:
        v = query_object(env, q, frames.ArrayBuffer(), frames.Data() - frames.ByteOffset());
        break;
      case dataplane::Verdict::kFault: v = Napi::String::New(env, dataplane::fault_code(d.fault)); break;
      case dataplane::Verdict::kNotMine: v = Napi::String::New(env, "not-mine"); break;
      case dataplane::Verdict::kDeferred: v = Napi::String::New(env, "deferred"); break;
    }
    out.Set((uint32_t)i, v);
    start = (end + 3) & ~(size_t)3;
  }
  return out;
}

// resultEncode(requestId, { k, counts, ids, scores, vectors?, vectorDim?, payloads?, exact? }) ->
// the RESULT frame (Uint8Array), or the error code of a refusal. `payloads`: encoded blobs or null.
Napi::Value result_encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsObject()) throw Napi::TypeError::New(env, "resultEncode(requestId, reply)");
  Napi::Object o = info[1].As<Napi::Object>();
  if (!o.Get("k").IsNumber() || !o.Get("counts").IsTypedArray() || !o.Get("scores").IsTypedArray() ||
      !o.Get("ids").IsArray())
    throw Napi::TypeError::New(env, "resultEncode: reply needs k, counts, ids and scores");
  Napi::Uint32Array counts = o.Get("counts").As<Napi::Uint32Array>();
  Napi::Float32Array scores = o.Get("scores").As<Napi::Float32Array>();
  Napi::Array ids = o.Get("ids").As<Napi::Array>();
  std::vector<std::string> id_strings(ids.Length());
  std::vector<std::string_view> id_views(ids.Length());
  for (uint32_t i = 0; i < ids.Length(); i++) {
    if (!ids.Get(i).IsString()) throw Napi::TypeError::New(env, "resultEncode: ids must be strings");
    id_strings[i] = ids.Get(i).As<Napi::String>().Utf8Value();
    id_views[i] = id_strings[i];
  }
  dataplane::ResultReply r;
  r.k = o.Get("k").As<Napi::Number>().Uint32Value();
  r.counts = counts.Data();
  r.n = (uint32_t)counts.ElementLength();
  r.ids = id_views.data();
  r.scores = scores.Data();
  if (o.Get("vectors").IsTypedArray()) {
    r.vectors = o.Get("vectors").As<Napi::Float32Array>().Data();
    r.vector_dim = o.Get("vectorDim").As<Napi::Number>().Uint32Value();
  }
  std::vector<std::string_view> payloads;
  if (o.Get("payloads").IsArray()) {
    Napi::Array list = o.Get("payloads").As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) {
      Napi::Value p = list.Get(i);
      if (!p.IsTypedArray()) {
        payloads.emplace_back();
        continue;
      }
      Napi::Uint8Array bytes = p.As<Napi::Uint8Array>();
      payloads.emplace_back((const char*)bytes.Data(), bytes.ByteLength());
    }
    r.with_payloads = true;
    r.payloads = payloads.data();
  }
  if (o.Get("exact").IsBoolean()) r.exact = o.Get("exact").As<Napi::Boolean>().Value();
  std::vector<uint8_t> frame;
  const dataplane::FrameFault fault =
      dataplane::encode_result_frame(r, info[0].As<Napi::Number>().Uint32Value(), state(env).protocol_limits, frame);
  if (fault != dataplane::FrameFault::kNone) return Napi::String::New(env, dataplane::fault_code(fault));
  return Napi::Buffer<uint8_t>::Copy(env, frame.data(), frame.size());
}

}  // namespace

dataplane::ProtocolLimits parse_protocol_limits(Napi::Env env, const Napi::Object& table) {
  auto get = [&](const char* name) {
    Napi::Value v = table.Get(name);
    const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0) || d > 9007199254740991.0 || d != (double)(uint64_t)d)
      throw Napi::TypeError::New(env, std::string("protocol limit ") + name + " must be a non-negative integer");
    return (uint64_t)d;
  };
  dataplane::ProtocolLimits l;
  l.max_frame_bytes = get("maxFrameBytes");
  l.max_k = get("maxK");
  l.max_query_batch = get("maxQueryBatch");
  l.max_dim = get("maxDim");
  l.max_filter_conditions = get("maxFilterConditions");
  l.max_filter_values = get("maxFilterValues");
  l.max_structured_nodes = get("maxStructuredNodes");
  const uint64_t depth = get("maxStructuredDepth");
  if (depth > 256) throw Napi::RangeError::New(env, "protocol limit maxStructuredDepth must be at most 256");
  l.max_structured_depth = (uint32_t)depth;
  l.max_ef_search = get("maxEfSearch");
  l.max_query_text_bytes = get("maxQueryTextBytes");
  l.max_sparse_entries = get("maxSparseEntries");
  l.max_payload_bytes = get("maxPayloadBytes");
  l.max_filter_key_bytes = get("maxFilterKeyBytes");
  l.max_filter_string_chars = get("maxFilterStringChars");
  return l;
}

size_t size_field(const Napi::Object& o, const char* name, size_t fallback) {
  Napi::Value v = o.Get(name);
  return v.IsNumber() ? (size_t)v.As<Napi::Number>().Int64Value() : fallback;
}

dataplane::ServeLimits serve_limits_arg(const Napi::Object& o) {
  dataplane::ServeLimits l;
  l.max_frame_bytes = size_field(o, "maxFrameBytes", l.max_frame_bytes);
  l.keep_frame_bytes = size_field(o, "keepFrameBytes", l.keep_frame_bytes);
  l.reply_high_water_bytes = size_field(o, "replyHighWaterBytes", l.reply_high_water_bytes);
  Napi::Value bounds = o.Get("answerTimeBoundsNs");
  if (bounds.IsArray()) {
    Napi::Array a = bounds.As<Napi::Array>();
    if (a.Length() > dataplane::kMaxAnswerTimeBounds)
      throw Napi::RangeError::New(
          o.Env(), "answerTimeBoundsNs holds at most " + std::to_string(dataplane::kMaxAnswerTimeBounds) + " bounds");
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value v = a.Get(i);
      const double ns = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
      if (!(ns >= 0 && ns <= 9007199254740991.0) ||
          (!l.answer_time_bounds_ns.empty() && ns <= (double)l.answer_time_bounds_ns.back()))
        throw Napi::RangeError::New(o.Env(), "answerTimeBoundsNs must be ascending non-negative integers");
      l.answer_time_bounds_ns.push_back((uint64_t)ns);
    }
  }
  return l;
}

Napi::Object answer_times_object(Napi::Env env, const std::vector<uint64_t>& counts, uint64_t ns) {
  Napi::Object out = Napi::Object::New(env);
  Napi::Array a = Napi::Array::New(env, counts.size());
  for (uint32_t i = 0; i < counts.size(); i++) a.Set(i, Napi::Number::New(env, (double)counts[i]));
  out.Set("counts", a);
  out.Set("seconds", Napi::Number::New(env, (double)ns / 1e9));
  return out;
}

void define_dataplane(Napi::Env env, Napi::Object exports) {
  exports.Set("frameHeaderChecks", Napi::Function::New(env, frame_header_checks, "frameHeaderChecks"));
  exports.Set("frameFaultCodes", Napi::Function::New(env, fault_codes, "frameFaultCodes"));
  exports.Set("queryDecodes", Napi::Function::New(env, query_decodes, "queryDecodes"));
  exports.Set("resultEncode", Napi::Function::New(env, result_encode, "resultEncode"));
}

}  // namespace ragwire::binding
