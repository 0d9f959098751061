#include "query_decoder.hpp"

#include <cstring>

namespace ragwire::dataplane {

namespace {

using Kind = MsgpackNode::Kind;

constexpr uint8_t kQueryType = 0x20;
constexpr size_t kMetaOffset = kHeaderBytes + 4;
constexpr double kMaxSafeInteger = 9007199254740991.0;  // Number.MAX_SAFE_INTEGER
constexpr size_t kTraceparentBytes = 55;

#define RAGWIRE_TRY(expr)                           \
  do {                                              \
    const FrameFault fault_ = (expr);               \
    if (fault_ != FrameFault::kNone) return fault_; \
  } while (0)

// fields.ts Fields over one map of the meta document: every accessor checks as its TS namesake,
// and done() refuses a key no accessor asked for.
class Fields {
 public:
  Fields(const MsgpackDoc& doc, uint32_t map) : doc_(doc), map_(map) {}

  // The value's node, or -1 when absent or nil (raw()).
  int64_t raw(std::string_view name) {
    if (asked_count_ < kMaxAsked) asked_[asked_count_++] = name;
    const int64_t v = doc_.find(map_, name);
    return v >= 0 && doc_.nodes[v].kind == Kind::kNil ? -1 : v;
  }

  // int(): an integer in [min, max]; past max kLimit when the limit is a configured one.
  FrameFault integer(std::string_view name, double min, double max, bool limit, bool optional,
                     std::optional<double>& out) {
    const int64_t v = raw(name);
    if (v < 0) return optional ? FrameFault::kNone : FrameFault::kBadFrame;
    const MsgpackNode& n = doc_.nodes[v];
    if (!n.is_integer()) return FrameFault::kBadFrame;
    if (n.number > max && limit) return FrameFault::kLimit;
    if (n.number < min || n.number > max) return FrameFault::kBadFrame;
    out = n.number;
    return FrameFault::kNone;
  }

  FrameFault boolean(std::string_view name, std::optional<bool>& out) {
    const int64_t v = raw(name);
    if (v < 0) return FrameFault::kNone;
    if (doc_.nodes[v].kind != Kind::kBool) return FrameFault::kBadFrame;
    out = doc_.nodes[v].boolean;
    return FrameFault::kNone;
  }

  FrameFault done() const {
    const MsgpackNode& m = doc_.nodes[map_];
    for (uint32_t k = MsgpackDoc::first(map_), i = 0; i < m.count; i++, k = doc_.next(k + 1)) {
      bool asked = false;
      for (size_t a = 0; a < asked_count_ && !asked; a++) asked = asked_[a] == doc_.nodes[k].str;
      if (!asked) return FrameFault::kBadFrame;
    }
    return FrameFault::kNone;
  }

 private:
  static constexpr size_t kMaxAsked = 16;
  const MsgpackDoc& doc_;
  uint32_t map_;
  std::string_view asked_[kMaxAsked];
  size_t asked_count_ = 0;
};

bool is_lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

// parseTraceparent: 00-<32 hex>-<16 hex>-<2 hex>, lowercase, neither id all zeros.
bool is_traceparent(std::string_view s) {
  if (s.size() != kTraceparentBytes || s.substr(0, 3) != "00-" || s[35] != '-' || s[52] != '-') return false;
  const std::string_view trace = s.substr(3, 32), span = s.substr(36, 16), flags = s.substr(53, 2);
  return is_lower_hex(trace) && is_lower_hex(span) && is_lower_hex(flags) && !all_zero(trace) && !all_zero(span);
}

// Collection names: ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$.
bool is_collection_name(std::string_view s) {
  if (s.empty() || s.size() > 255) return false;
  for (size_t i = 0; i < s.size(); i++) {
    const char c = s[i];
    const bool word = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!word && !(i > 0 && (c == '.' || c == '-'))) return false;
  }
  return true;
}

class QueryMetaReader {
 public:
  QueryMetaReader(const MsgpackDoc& doc, const ProtocolLimits& limits, QueryView& out)
      : doc_(doc), limits_(limits), out_(out) {}

  // readQueryMeta (with readHybridMeta), check for check; `counts` receives sparseCounts' node.
  FrameFault meta(bool trace_on, int64_t& counts) {
    if (doc_.nodes[0].kind != Kind::kMap) return FrameFault::kBadFrame;
    Fields f(doc_, 0);
    const int64_t name = f.raw("collection");
    if (name < 0 || doc_.nodes[name].kind != Kind::kString || !is_collection_name(doc_.nodes[name].str))
      return FrameFault::kBadFrame;
    out_.collection = doc_.nodes[name].str;
    std::optional<double> v;
    RAGWIRE_TRY(f.integer("n", 1, (double)limits_.max_query_batch, true, false, v));
    out_.n = (uint32_t)*v;
    RAGWIRE_TRY(text(f.raw("text")));
    counts = f.raw("sparseCounts");
    RAGWIRE_TRY(sparse_counts(counts));
    std::optional<double> prefetch;
    RAGWIRE_TRY(f.integer("prefetch", 1, (double)limits_.max_k, true, true, prefetch));
    if (prefetch) out_.prefetch = (uint32_t)*prefetch;
    RAGWIRE_TRY(fusion(f.raw("fusion")));
    RAGWIRE_TRY(text_stats(f.raw("textStats")));
    const bool lexical = out_.has_text || out_.has_sparse;
    RAGWIRE_TRY(f.integer("dim", lexical ? 0 : 1, (double)limits_.max_dim, true, false, v));
    out_.dim = (uint32_t)*v;
    RAGWIRE_TRY(f.integer("k", 1, (double)limits_.max_k, true, false, v));
    out_.k = (uint32_t)*v;
    const int64_t filter = f.raw("filter");
    if (filter >= 0) {
      out_.has_filter = true;
      RAGWIRE_TRY(read_filter(doc_, (uint32_t)filter, limits_, out_.filter));
    }
    RAGWIRE_TRY(options(f.raw("options")));
    if (trace_on) {
      const int64_t trace = f.raw("trace");
      if (trace >= 0) {
        if (doc_.nodes[trace].kind != Kind::kString || !is_traceparent(doc_.nodes[trace].str))
          return FrameFault::kBadFrame;
        out_.trace = doc_.nodes[trace].str;
      }
    }
    return f.done();
  }

 private:
  const MsgpackDoc& doc_;
  const ProtocolLimits& limits_;
  QueryView& out_;

  FrameFault text(int64_t at) {
    if (at < 0) return FrameFault::kNone;
    const MsgpackNode& t = doc_.nodes[at];
    if (t.kind != Kind::kArray || t.count != out_.n) return FrameFault::kBadFrame;
    for (uint32_t item = MsgpackDoc::first((uint32_t)at), i = 0; i < t.count; i++, item = doc_.next(item)) {
      if (doc_.nodes[item].kind != Kind::kString) return FrameFault::kBadFrame;
      if (doc_.nodes[item].str.size() > limits_.max_query_text_bytes) return FrameFault::kLimit;
      out_.text.push_back(doc_.nodes[item].str);
    }
    out_.has_text = true;
    return FrameFault::kNone;
  }

  FrameFault sparse_counts(int64_t at) {
    if (at < 0) return FrameFault::kNone;
    const MsgpackNode& c = doc_.nodes[at];
    if (c.kind != Kind::kArray || c.count != out_.n) return FrameFault::kBadFrame;
    for (uint32_t item = MsgpackDoc::first((uint32_t)at), i = 0; i < c.count; i++, item = doc_.next(item)) {
      const MsgpackNode& v = doc_.nodes[item];
      if (!v.is_integer() || v.number < 0) return FrameFault::kBadFrame;
      if (v.number > (double)limits_.max_sparse_entries) return FrameFault::kLimit;
    }
    out_.has_sparse = true;
    return FrameFault::kNone;
  }

  FrameFault fusion(int64_t at) {
    if (at < 0) return FrameFault::kNone;
    if (doc_.nodes[at].kind != Kind::kMap) return FrameFault::kBadFrame;
    Fields f(doc_, (uint32_t)at);
    Fusion out;
    const int64_t method = f.raw("method");
    const std::string_view m = method >= 0 && doc_.nodes[method].kind == Kind::kString ? doc_.nodes[method].str : "";
    if (m == "rrf")
      out.method = FusionMethod::kRrf;
    else if (m == "dbsf")
      out.method = FusionMethod::kDbsf;
    else if (m == "weighted")
      out.method = FusionMethod::kWeighted;
    else
      return FrameFault::kBadFrame;
    for (const bool alpha : {false, true}) {
      const int64_t v = f.raw(alpha ? "alpha" : "k");
      if (v < 0) continue;
      const MsgpackNode& n = doc_.nodes[v];
      if (n.kind != Kind::kNumber || !(n.number >= 0) || (alpha && n.number > 1)) return FrameFault::kBadFrame;
      (alpha ? out.alpha : out.k) = n.number;
    }
    RAGWIRE_TRY(f.done());
    out_.fusion = out;
    return FrameFault::kNone;
  }

  FrameFault text_stats(int64_t at) {
    if (at < 0) return FrameFault::kNone;
    if (doc_.nodes[at].kind != Kind::kMap) return FrameFault::kBadFrame;
    Fields f(doc_, (uint32_t)at);
    std::optional<double> docs, tokens;
    RAGWIRE_TRY(f.integer("docs", 0, kMaxSafeInteger, false, false, docs));
    RAGWIRE_TRY(f.integer("tokens", 0, kMaxSafeInteger, false, false, tokens));
    const int64_t df = f.raw("df");
    if (df < 0 || doc_.nodes[df].kind != Kind::kMap) return FrameFault::kBadFrame;
    const MsgpackNode& m = doc_.nodes[df];
    for (uint32_t k = MsgpackDoc::first((uint32_t)df), i = 0; i < m.count; i++, k = doc_.next(k + 1)) {
      // The value a JS object keeps for the term: its last.
      const MsgpackNode& v = doc_.nodes[doc_.find((uint32_t)df, doc_.nodes[k].str)];
      if (!v.is_integer() || v.number < 0) return FrameFault::kBadFrame;
    }
    RAGWIRE_TRY(f.done());
    out_.text_stats = TextStats{*docs, *tokens, (uint32_t)df};
    return FrameFault::kNone;
  }

  // readQueryOptions.
  FrameFault options(int64_t at) {
    if (at < 0) return FrameFault::kNone;
    const MsgpackNode& o = doc_.nodes[at];
    if (o.kind != Kind::kMap) return FrameFault::kBadFrame;
    static constexpr std::string_view kKnown[] = {"withPayload", "efSearch", "exact", "withVectors", "minSeq", "epoch"};
    for (uint32_t k = MsgpackDoc::first((uint32_t)at), i = 0; i < o.count; i++, k = doc_.next(k + 1)) {
      bool known = false;
      for (std::string_view name : kKnown) known = known || doc_.nodes[k].str == name;
      if (!known) return FrameFault::kUnknownOption;
    }
    Fields f(doc_, (uint32_t)at);
    QueryOptions out;
    std::optional<double> v;
    RAGWIRE_TRY(f.boolean("withPayload", out.with_payload));
    RAGWIRE_TRY(f.integer("efSearch", 1, (double)limits_.max_ef_search, true, true, v));
    if (v) out.ef_search = (uint32_t)*v;
    RAGWIRE_TRY(f.boolean("exact", out.exact));
    RAGWIRE_TRY(f.boolean("withVectors", out.with_vectors));
    RAGWIRE_TRY(f.integer("minSeq", 0, kMaxSafeInteger, false, true, out.min_seq));
    RAGWIRE_TRY(f.integer("epoch", 1, kMaxSafeInteger, false, true, out.epoch));
    out_.options = out;
    return FrameFault::kNone;
  }
};

void reset(QueryView& q) {
  q.collection = {};
  q.dim = q.n = q.k = 0;
  q.vectors = nullptr;
  q.has_text = false;
  q.text.clear();
  q.has_sparse = false;
  q.sparse.clear();
  q.prefetch.reset();
  q.fusion.reset();
  q.text_stats.reset();
  q.has_filter = false;
  q.filter.clear();
  q.options.reset();
  q.trace.reset();
}

// BodyReader's sections after the meta: each a view of `bytes` bytes at `pos`, or kBadFrame.
const uint8_t* take(const uint8_t* frame, size_t length, size_t& pos, uint64_t bytes) {
  if (bytes > length - pos) return nullptr;
  const uint8_t* at = frame + pos;
  pos += bytes;
  return at;
}

FrameFault body(const uint8_t* frame, size_t length, const ProtocolLimits& limits, bool trace_on, QueryView& out,
                bool& deferred) {
  if (length < kMetaOffset) return FrameFault::kBadFrame;
  uint32_t meta_length;
  std::memcpy(&meta_length, frame + kHeaderBytes, 4);
  if (meta_length > length - kMetaOffset) return FrameFault::kBadFrame;
  const size_t meta_end = kMetaOffset + meta_length;
  NodeBudget budget{(int64_t)limits.max_structured_nodes};
  RAGWIRE_TRY(read_msgpack(frame, kMetaOffset, meta_end, budget, limits.max_structured_depth, out.meta));
  if (!out.meta.well_formed_utf8) {
    deferred = true;
    return FrameFault::kNone;
  }
  size_t pos = (meta_end + 3) & ~(size_t)3;
  if (pos > length) return FrameFault::kBadFrame;
  for (size_t p = meta_end; p < pos; p++)
    if (frame[p] != 0) return FrameFault::kBadFrame;
  int64_t counts = -1;
  RAGWIRE_TRY(QueryMetaReader(out.meta, limits, out).meta(trace_on, counts));
  const uint8_t* vectors = take(frame, length, pos, (uint64_t)out.n * out.dim * 4);
  if (vectors == nullptr) return FrameFault::kBadFrame;
  out.vectors = (const float*)vectors;
  if (out.has_sparse) {
    const MsgpackDoc& doc = out.meta;
    uint64_t total = 0;
    for (uint32_t item = MsgpackDoc::first((uint32_t)counts), i = 0; i < out.n; i++, item = doc.next(item))
      total += (uint64_t)doc.nodes[item].number;
    const uint8_t* indices = take(frame, length, pos, total * 4);
    if (indices == nullptr) return FrameFault::kBadFrame;
    const uint8_t* values = take(frame, length, pos, total * 4);
    if (values == nullptr) return FrameFault::kBadFrame;
    uint64_t at = 0;
    for (uint32_t item = MsgpackDoc::first((uint32_t)counts), i = 0; i < out.n; i++, item = doc.next(item)) {
      const uint32_t c = (uint32_t)doc.nodes[item].number;
      out.sparse.push_back({(const uint32_t*)indices + at, (const float*)values + at, c});
      at += c;
    }
  }
  if (pos != length) return FrameFault::kBadFrame;
  return FrameFault::kNone;
}

}  // namespace

QueryDecode decode_query_frame(const uint8_t* frame, size_t bytes, const ProtocolLimits& limits, bool trace_on,
                               QueryView& out) {
  QueryDecode d;
  reset(out);
  auto fault = [&d](FrameFault f) {
    d.verdict = Verdict::kFault;
    d.fault = f;
    return d;
  };
  if (bytes < kHeaderBytes) return fault(FrameFault::kBadFrame);
  const HeaderCheck h = check_header(frame, limits.max_frame_bytes);
  d.request_id = h.request_id;
  d.type = h.type;
  out.request_id = h.request_id;
  if (h.fault != FrameFault::kNone) {
    d.fatal = h.fatal;
    return fault(h.fault);
  }
  if (h.frame_bytes != bytes) return fault(FrameFault::kBadFrame);
  if (h.type != kQueryType) {
    d.verdict = Verdict::kNotMine;
    return d;
  }
  bool deferred = false;
  const FrameFault f = body(frame, bytes, limits, trace_on, out, deferred);
  if (f != FrameFault::kNone) return fault(f);
  d.verdict = deferred ? Verdict::kDeferred : Verdict::kQuery;
  return d;
}

}  // namespace ragwire::dataplane
