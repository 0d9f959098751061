#include "query_filter.hpp"

#include "query_decoder.hpp"

namespace ragwire::dataplane {

namespace {

using Kind = MsgpackNode::Kind;

constexpr std::string_view kClauses[3] = {"must", "should", "must_not"};
constexpr std::string_view kBounds[4] = {"gt", "gte", "lt", "lte"};

class FilterReader {
 public:
  FilterReader(const MsgpackDoc& doc, const ProtocolLimits& limits, Filter& out)
      : doc_(doc), limits_(limits), out_(out) {}

  // validateFilter, check for check.
  FrameFault filter(uint32_t at) {
    const MsgpackNode& f = doc_.nodes[at];
    if (f.kind != Kind::kMap) return FrameFault::kInvalidFilter;
    for (uint32_t k = MsgpackDoc::first(at), i = 0; i < f.count; i++, k = doc_.next(k + 1)) {
      if (clause_of(doc_.nodes[k].str) < 0) return FrameFault::kInvalidFilter;
    }
    uint64_t conditions = 0;
    for (int c = 0; c < 3; c++) {
      const int64_t list = doc_.find(at, kClauses[c]);
      if (list < 0 || doc_.nodes[list].kind == Kind::kNil) continue;
      const MsgpackNode& l = doc_.nodes[list];
      if (l.kind != Kind::kArray) return FrameFault::kInvalidFilter;
      conditions += l.count;
      if (conditions > limits_.max_filter_conditions) return FrameFault::kLimit;
      out_.present[c] = true;
      for (uint32_t item = MsgpackDoc::first((uint32_t)list), i = 0; i < l.count; i++, item = doc_.next(item)) {
        const FrameFault fault = condition(item, (Clause)c);
        if (fault != FrameFault::kNone) return fault;
      }
    }
    return FrameFault::kNone;
  }

 private:
  const MsgpackDoc& doc_;
  const ProtocolLimits& limits_;
  Filter& out_;

  static int clause_of(std::string_view name) {
    for (int c = 0; c < 3; c++)
      if (name == kClauses[c]) return c;
    return -1;
  }

  // isFilterValue and checkStringLength: appends the value to out_.values.
  FrameFault value(uint32_t at) {
    const MsgpackNode& v = doc_.nodes[at];
    FilterValue fv;
    switch (v.kind) {
      case Kind::kString:
        if (utf16_length(v.str) > limits_.max_filter_string_chars) return FrameFault::kInvalidFilter;
        fv.kind = FilterValue::Kind::kString;
        fv.str = v.str;
        break;
      case Kind::kNumber:
        fv.kind = FilterValue::Kind::kNumber;
        fv.number = v.number;
        break;
      case Kind::kBool:
        fv.kind = FilterValue::Kind::kBool;
        fv.boolean = v.boolean;
        break;
      case Kind::kNil:
      case Kind::kArray:
      case Kind::kMap: return FrameFault::kInvalidFilter;
    }
    out_.values.push_back(fv);
    return FrameFault::kNone;
  }

  // validateCondition.
  FrameFault condition(uint32_t at, Clause clause) {
    const MsgpackNode& c = doc_.nodes[at];
    if (c.kind != Kind::kMap) return FrameFault::kInvalidFilter;
    const int64_t key = doc_.find(at, "key");
    if (key < 0 || doc_.nodes[key].kind != Kind::kString || doc_.nodes[key].str.empty())
      return FrameFault::kInvalidFilter;
    if (doc_.nodes[key].str.size() > limits_.max_filter_key_bytes) return FrameFault::kInvalidFilter;
    if (doc_.distinct_keys(at) != 2) return FrameFault::kInvalidFilter;
    std::string_view op;
    for (uint32_t k = MsgpackDoc::first(at), i = 0; i < c.count; i++, k = doc_.next(k + 1)) {
      if (doc_.nodes[k].str != "key") {
        op = doc_.nodes[k].str;
        break;
      }
    }
    const uint32_t operand = (uint32_t)doc_.find(at, op);
    const MsgpackNode& v = doc_.nodes[operand];
    Condition out;
    out.clause = clause;
    out.key = doc_.nodes[key].str;
    out.values_begin = (uint32_t)out_.values.size();
    if (op == "eq") {
      out.op = FilterOp::kEq;
      const FrameFault fault = value(operand);
      if (fault != FrameFault::kNone) return fault;
      out.values_count = 1;
    } else if (op == "in") {
      out.op = FilterOp::kIn;
      if (v.kind != Kind::kArray) return FrameFault::kInvalidFilter;
      if (v.count > limits_.max_filter_values) return FrameFault::kLimit;
      for (uint32_t item = MsgpackDoc::first(operand), i = 0; i < v.count; i++, item = doc_.next(item)) {
        const FrameFault fault = value(item);
        if (fault != FrameFault::kNone) return fault;
      }
      out.values_count = v.count;
    } else if (op == "range") {
      out.op = FilterOp::kRange;
      const FrameFault fault = range(operand, out);
      if (fault != FrameFault::kNone) return fault;
    } else if (op == "exists") {
      out.op = FilterOp::kExists;
      if (v.kind != Kind::kBool) return FrameFault::kInvalidFilter;
      out.exists = v.boolean;
    } else {
      return FrameFault::kInvalidFilter;
    }
    out_.conditions.push_back(out);
    return FrameFault::kNone;
  }

  // validateRange.
  FrameFault range(uint32_t at, Condition& out) {
    const MsgpackNode& r = doc_.nodes[at];
    if (r.kind != Kind::kMap) return FrameFault::kInvalidFilter;
    for (uint32_t k = MsgpackDoc::first(at), i = 0; i < r.count; i++, k = doc_.next(k + 1)) {
      int b = 0;
      while (b < 4 && doc_.nodes[k].str != kBounds[b]) b++;
      if (b == 4) return FrameFault::kInvalidFilter;
      const MsgpackNode& v = doc_.nodes[doc_.find(at, kBounds[b])];
      if (v.kind == Kind::kNil) continue;
      if (v.kind != Kind::kNumber) return FrameFault::kInvalidFilter;
      out.bounds |= (uint8_t)(1u << b);
      out.bound[b] = v.number;
    }
    if (out.bounds == 0) return FrameFault::kInvalidFilter;
    return FrameFault::kNone;
  }
};

}  // namespace

void Filter::clear() {
  raw = nullptr;
  raw_bytes = 0;
  present[0] = present[1] = present[2] = false;
  conditions.clear();
  values.clear();
}

FrameFault read_filter(const MsgpackDoc& doc, uint32_t at, const ProtocolLimits& limits, Filter& out) {
  out.clear();
  out.raw = doc.nodes[at].bytes;
  out.raw_bytes = doc.nodes[at].bytes_length;
  return FilterReader(doc, limits, out).filter(at);
}

}  // namespace ragwire::dataplane
