#include "msgpack_reader.hpp"

#include <cmath>
#include <cstring>
#include <unordered_map>

namespace ragwire::dataplane {

namespace {

constexpr std::string_view kProtoKey = "__proto__";

// The Skimmer of msgpack.ts, check for check: positions are absolute, `end` is the section's end.
class Skimmer {
 public:
  Skimmer(const uint8_t* b, uint64_t end, NodeBudget& budget, uint32_t max_depth)
      : b_(b), end_(end), budget_(budget), max_depth_(max_depth) {}

  FrameFault fault = FrameFault::kNone;

  // The position after the value at `pos`, or 0 with `fault` set.
  uint64_t value(uint64_t pos, uint32_t depth) {
    if (!need(pos, 1) || !charge(1)) return 0;
    const uint8_t t = b_[pos];
    if (t <= 0x7f || t >= 0xe0) return pos + 1;
    if (t <= 0x8f) return map(pos + 1, t & 0x0f, depth, pos);
    if (t <= 0x9f) return array(pos + 1, t & 0x0f, depth, pos);
    if (t <= 0xbf) return str(pos + 1, t & 0x1f);
    uint64_t n = 0;
    switch (t) {
      case 0xc0:
      case 0xc2:
      case 0xc3: return pos + 1;
      case 0xca: return flt(pos, 4);
      case 0xcb: return flt(pos, 8);
      case 0xcc:
      case 0xd0: return need(pos + 1, 1) ? pos + 2 : 0;
      case 0xcd:
      case 0xd1: return need(pos + 1, 2) ? pos + 3 : 0;
      case 0xce:
      case 0xd2: return need(pos + 1, 4) ? pos + 5 : 0;
      case 0xcf:
      case 0xd3: return need(pos + 1, 8) ? pos + 9 : 0;
      case 0xd9: return uint(pos + 1, 1, n) ? str(pos + 2, n) : 0;
      case 0xda: return uint(pos + 1, 2, n) ? str(pos + 3, n) : 0;
      case 0xdb: return uint(pos + 1, 4, n) ? str(pos + 5, n) : 0;
      case 0xdc: return uint(pos + 1, 2, n) ? array(pos + 3, n, depth, pos) : 0;
      case 0xdd: return uint(pos + 1, 4, n) ? array(pos + 5, n, depth, pos) : 0;
      case 0xde: return uint(pos + 1, 2, n) ? map(pos + 3, n, depth, pos) : 0;
      case 0xdf: return uint(pos + 1, 4, n) ? map(pos + 5, n, depth, pos) : 0;
      default: return bad();  // bin, ext, reserved
    }
  }

 private:
  const uint8_t* b_;
  uint64_t end_;
  NodeBudget& budget_;
  uint32_t max_depth_;

  uint64_t bad() {
    fault = FrameFault::kBadFrame;
    return 0;
  }
  bool need(uint64_t pos, uint64_t n) {
    if (pos + n > end_) return bad(), false;
    return true;
  }
  bool uint(uint64_t pos, int n, uint64_t& out) {
    if (!need(pos, n)) return false;
    out = 0;
    for (int i = 0; i < n; i++) out = (out << 8) | b_[pos + i];
    return true;
  }
  bool charge(int64_t count) {
    budget_.nodes -= count;
    if (budget_.nodes < 0) {
      fault = FrameFault::kLimit;
      return false;
    }
    return true;
  }
  uint64_t flt(uint64_t pos, int n) {
    if (!need(pos + 1, n)) return 0;
    const uint32_t hi = ((uint32_t)b_[pos + 1] << 8) | b_[pos + 2];
    const bool ones = n == 4 ? (hi & 0x7f80) == 0x7f80 : (hi & 0x7ff0) == 0x7ff0;
    if (ones) return bad();
    return pos + 1 + n;
  }
  uint64_t str(uint64_t pos, uint64_t length) { return need(pos, length) ? pos + length : 0; }
  bool container(uint64_t count, uint64_t per_item, uint32_t depth, uint64_t at) {
    if (depth >= max_depth_) return bad(), false;
    if (count * per_item > end_ - at) return bad(), false;
    return true;
  }
  uint64_t array(uint64_t pos, uint64_t count, uint32_t depth, uint64_t at) {
    if (!container(count, 1, depth, at)) return 0;
    for (uint64_t i = 0; i < count; i++)
      if ((pos = value(pos, depth + 1)) == 0) return 0;
    return pos;
  }
  uint64_t map(uint64_t pos, uint64_t count, uint32_t depth, uint64_t at) {
    if (!container(count, 2, depth, at)) return 0;
    for (uint64_t i = 0; i < count; i++) {
      if ((pos = key(pos)) == 0) return 0;
      if ((pos = value(pos, depth + 1)) == 0) return 0;
    }
    return pos;
  }
  uint64_t key(uint64_t pos) {
    if (!need(pos, 1) || !charge(1)) return 0;
    const uint8_t t = b_[pos];
    uint64_t start = 0, length = 0;
    if (t >= 0xa0 && t <= 0xbf) {
      start = pos + 1;
      length = t & 0x1f;
    } else if (t == 0xd9 || t == 0xda || t == 0xdb) {
      const int n = t == 0xd9 ? 1 : t == 0xda ? 2 : 4;
      if (!uint(pos + 1, n, length)) return 0;
      start = pos + 1 + n;
    } else {
      return bad();
    }
    if (!need(start, length)) return 0;
    if (length == kProtoKey.size() && std::memcmp(b_ + start, kProtoKey.data(), length) == 0) return bad();
    return start + length;
  }
};

uint64_t be(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++) v = (v << 8) | p[i];
  return v;
}

// Decodes a skimmed value: no bounds can fail here.
class Builder {
 public:
  Builder(const uint8_t* b, MsgpackDoc& doc) : b_(b), doc_(doc) {}

  uint64_t value(uint64_t pos) {
    const uint32_t at = (uint32_t)doc_.nodes.size();
    doc_.nodes.emplace_back();
    const uint64_t stop = fill(pos, at);
    MsgpackNode& node = doc_.nodes[at];
    node.end = (uint32_t)doc_.nodes.size();
    node.bytes = b_ + pos;
    node.bytes_length = stop - pos;
    return stop;
  }

 private:
  const uint8_t* b_;
  MsgpackDoc& doc_;

  MsgpackNode& node(uint32_t at) { return doc_.nodes[at]; }

  uint64_t number(uint32_t at, double v, uint64_t stop) {
    node(at).kind = MsgpackNode::Kind::kNumber;
    node(at).number = v;
    return stop;
  }
  uint64_t string(uint32_t at, uint64_t start, uint64_t length) {
    node(at).kind = MsgpackNode::Kind::kString;
    node(at).str = std::string_view((const char*)b_ + start, length);
    if (doc_.well_formed_utf8 && !is_well_formed_utf8(node(at).str)) doc_.well_formed_utf8 = false;
    return start + length;
  }
  uint64_t items(uint32_t at, MsgpackNode::Kind kind, uint64_t pos, uint64_t count) {
    node(at).kind = kind;
    node(at).count = (uint32_t)count;
    const uint64_t values = kind == MsgpackNode::Kind::kMap ? count * 2 : count;
    for (uint64_t i = 0; i < values; i++) pos = value(pos);
    return pos;
  }

  uint64_t fill(uint64_t pos, uint32_t at) {
    const uint8_t t = b_[pos];
    const uint8_t* p = b_ + pos + 1;
    if (t <= 0x7f) return number(at, t, pos + 1);
    if (t >= 0xe0) return number(at, (int8_t)t, pos + 1);
    if (t <= 0x8f) return items(at, MsgpackNode::Kind::kMap, pos + 1, t & 0x0f);
    if (t <= 0x9f) return items(at, MsgpackNode::Kind::kArray, pos + 1, t & 0x0f);
    if (t <= 0xbf) return string(at, pos + 1, t & 0x1f);
    switch (t) {
      case 0xc0: return pos + 1;
      case 0xc2:
      case 0xc3:
        node(at).kind = MsgpackNode::Kind::kBool;
        node(at).boolean = t == 0xc3;
        return pos + 1;
      case 0xca: {
        const uint32_t bits = (uint32_t)be(p, 4);
        float f;
        std::memcpy(&f, &bits, 4);
        return number(at, f, pos + 5);
      }
      case 0xcb: {
        const uint64_t bits = be(p, 8);
        double d;
        std::memcpy(&d, &bits, 8);
        return number(at, d, pos + 9);
      }
      case 0xcc: return number(at, (double)be(p, 1), pos + 2);
      case 0xcd: return number(at, (double)be(p, 2), pos + 3);
      case 0xce: return number(at, (double)be(p, 4), pos + 5);
      // msgpackr: hi * 2^32 + lo in doubles, one rounding of the exact sum, as this conversion.
      case 0xcf: return number(at, (double)be(p, 8), pos + 9);
      case 0xd0: return number(at, (int8_t)be(p, 1), pos + 2);
      case 0xd1: return number(at, (int16_t)be(p, 2), pos + 3);
      case 0xd2: return number(at, (int32_t)be(p, 4), pos + 5);
      case 0xd3: return number(at, (double)(int64_t)be(p, 8), pos + 9);
      case 0xd9: return string(at, pos + 2, be(p, 1));
      case 0xda: return string(at, pos + 3, be(p, 2));
      case 0xdb: return string(at, pos + 5, be(p, 4));
      case 0xdc: return items(at, MsgpackNode::Kind::kArray, pos + 3, be(p, 2));
      case 0xdd: return items(at, MsgpackNode::Kind::kArray, pos + 5, be(p, 4));
      case 0xde: return items(at, MsgpackNode::Kind::kMap, pos + 3, be(p, 2));
      case 0xdf: return items(at, MsgpackNode::Kind::kMap, pos + 5, be(p, 4));
      default: return pos + 1;  // refused by the skim
    }
  }
};

// Maps with more entries than this look keys up in a hash table rather than by scanning.
constexpr uint32_t kLinearMapEntries = 16;

}  // namespace

bool MsgpackNode::is_integer() const { return kind == Kind::kNumber && std::floor(number) == number; }

int64_t MsgpackDoc::find(uint32_t map, std::string_view key) const {
  int64_t found = -1;
  uint32_t k = first(map);
  for (uint32_t i = 0; i < nodes[map].count; i++) {
    const uint32_t v = k + 1;
    if (nodes[k].str == key) found = v;
    k = nodes[v].end;
  }
  return found;
}

uint32_t MsgpackDoc::distinct_keys(uint32_t map) const {
  const uint32_t count = nodes[map].count;
  uint32_t distinct = 0;
  if (count <= kLinearMapEntries) {
    uint32_t k = first(map);
    for (uint32_t i = 0; i < count; i++) {
      bool seen = false;
      for (uint32_t j = first(map); j != k; j = nodes[j + 1].end) seen = seen || nodes[j].str == nodes[k].str;
      distinct += seen ? 0 : 1;
      k = nodes[k + 1].end;
    }
    return distinct;
  }
  std::unordered_map<std::string_view, uint32_t> keys;
  keys.reserve(count);
  uint32_t k = first(map);
  for (uint32_t i = 0; i < count; i++) {
    keys.emplace(nodes[k].str, k);
    k = nodes[k + 1].end;
  }
  return (uint32_t)keys.size();
}

FrameFault skim_msgpack(const uint8_t* bytes, size_t start, size_t end, NodeBudget& budget, uint32_t max_depth) {
  if (end <= start) return FrameFault::kBadFrame;
  Skimmer skim(bytes, end, budget, max_depth);
  const uint64_t stop = skim.value(start, 1);
  if (skim.fault != FrameFault::kNone) return skim.fault;
  if (stop != end) return FrameFault::kBadFrame;
  return FrameFault::kNone;
}

FrameFault read_msgpack(const uint8_t* bytes, size_t start, size_t end, NodeBudget& budget, uint32_t max_depth,
                        MsgpackDoc& out) {
  out.nodes.clear();
  out.well_formed_utf8 = true;
  const FrameFault fault = skim_msgpack(bytes, start, end, budget, max_depth);
  if (fault != FrameFault::kNone) return fault;
  Builder(bytes, out).value(start);
  return FrameFault::kNone;
}

bool is_well_formed_utf8(std::string_view s) {
  const auto* p = (const uint8_t*)s.data();
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint32_t cp, min;
    if ((c & 0xe0) == 0xc0)
      len = 2, cp = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
      len = 3, cp = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0)
      len = 4, cp = c & 0x07, min = 0x10000;
    else
      return false;
    if (i + len > n) return false;
    for (size_t j = 1; j < len; j++) {
      if ((p[i + j] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + j] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

size_t utf16_length(std::string_view s) {
  size_t units = 0;
  for (const char ch : s) {
    const uint8_t c = (uint8_t)ch;
    if ((c & 0xc0) != 0x80) units += (c & 0xf8) == 0xf0 ? 2 : 1;
  }
  return units;
}

}  // namespace ragwire::dataplane
