#include "result_encoder.hpp"

#include <cstring>

#include "query_decoder.hpp"

namespace ragwire::dataplane {

namespace {

constexpr uint8_t kResultType = 0x21;
// Largest frame a u32 length prefix can describe, rounded down to a multiple of 4.
constexpr uint64_t kMaxEncodableFrame = 0xfffffffcull + 4;

// msgpack in msgpackr's choices for the values a RESULT meta holds.
class MsgpackWriter {
 public:
  explicit MsgpackWriter(std::vector<uint8_t>& out) : out_(out) {}

  void uint(uint32_t v) {
    if (v < 0x80) {
      byte((uint8_t)v);
    } else if (v < 0x100) {
      byte(0xcc), byte((uint8_t)v);
    } else if (v < 0x10000) {
      byte(0xcd), be(v, 2);
    } else {
      byte(0xce), be(v, 4);
    }
  }
  void boolean(bool v) { byte(v ? 0xc3 : 0xc2); }
  void str(std::string_view s) {
    const size_t n = s.size();
    if (n < 0x20) {
      byte((uint8_t)(0xa0 | n));
    } else if (n < 0x100) {
      byte(0xd9), byte((uint8_t)n);
    } else if (n < 0x10000) {
      byte(0xda), be((uint32_t)n, 2);
    } else {
      byte(0xdb), be((uint32_t)n, 4);
    }
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void array(size_t n) {
    if (n < 0x10) {
      byte((uint8_t)(0x90 | n));
    } else if (n < 0x10000) {
      byte(0xdc), be((uint32_t)n, 2);
    } else {
      byte(0xdd), be((uint32_t)n, 4);
    }
  }
  void map(size_t n) { byte((uint8_t)(0x80 | n)); }  // the meta has at most 6 fields

 private:
  std::vector<uint8_t>& out_;
  void byte(uint8_t b) { out_.push_back(b); }
  void be(uint32_t v, int n) {
    for (int i = n - 1; i >= 0; i--) byte((uint8_t)(v >> (8 * i)));
  }
};

void append(std::vector<uint8_t>& out, const void* p, size_t bytes) {
  if (bytes > 0) out.insert(out.end(), (const uint8_t*)p, (const uint8_t*)p + bytes);
}

void u32le(uint8_t* p, uint32_t v) { std::memcpy(p, &v, 4); }

void pad4(std::vector<uint8_t>& out, size_t from) { out.resize(from + ((out.size() - from + 3) & ~(size_t)3)); }

}  // namespace

FrameFault encode_result_frame(const ResultReply& r, uint32_t request_id, const ProtocolLimits& limits,
                               std::vector<uint8_t>& out) {
  uint64_t total = 0;
  for (uint32_t i = 0; i < r.n; i++) total += r.counts[i];
  uint64_t blob_bytes = 0;
  if (r.with_payloads) {
    for (uint64_t i = 0; i < total; i++) {
      if (r.payloads[i].size() > limits.max_payload_bytes) return FrameFault::kLimit;
      blob_bytes += r.payloads[i].size();
    }
  }
  const size_t start = out.size();
  out.resize(start + kHeaderBytes + 4);
  // The meta, in the field order of readResultMeta: k, n, ids, withPayloads, vectorDim?, exact?.
  MsgpackWriter w(out);
  w.map(4 + (r.vector_dim != 0 ? 1 : 0) + (r.exact ? 1 : 0));
  w.str("k"), w.uint(r.k);
  w.str("n"), w.uint(r.n);
  w.str("ids"), w.array(total);
  for (uint64_t i = 0; i < total; i++) w.str(r.ids[i]);
  w.str("withPayloads"), w.boolean(r.with_payloads);
  if (r.vector_dim != 0) w.str("vectorDim"), w.uint(r.vector_dim);
  if (r.exact) w.str("exact"), w.boolean(*r.exact);
  const size_t meta_bytes = out.size() - start - kHeaderBytes - 4;
  pad4(out, start);
  const uint64_t vector_floats = (uint64_t)total * r.vector_dim;
  const uint64_t payload_bytes = r.with_payloads ? (total * 4 + blob_bytes + 3) & ~(uint64_t)3 : 0;
  const uint64_t frame_bytes = (out.size() - start) + (uint64_t)r.n * 4 + total * 4 + vector_floats * 4 + payload_bytes;
  if (frame_bytes > std::min<uint64_t>(limits.max_frame_bytes, kMaxEncodableFrame)) {
    out.resize(start);
    return FrameFault::kFrameTooLarge;
  }
  uint8_t* h = out.data() + start;
  u32le(h, (uint32_t)(frame_bytes - 4));
  h[4] = kProtocolVersion;
  h[5] = kResultType;
  h[6] = (uint8_t)kFlagResponse;
  h[7] = 0;
  u32le(h + 8, request_id);
  u32le(h + kHeaderBytes, (uint32_t)meta_bytes);
  out.reserve(start + frame_bytes);
  append(out, r.counts, (size_t)r.n * 4);
  append(out, r.scores, total * 4);
  append(out, r.vectors, vector_floats * 4);
  if (r.with_payloads) {
    const size_t table = out.size();
    out.resize(table + total * 4);
    for (uint64_t i = 0; i < total; i++) {
      u32le(out.data() + table + i * 4, (uint32_t)r.payloads[i].size());
      append(out, r.payloads[i].data(), r.payloads[i].size());
    }
    pad4(out, table);
  }
  return FrameFault::kNone;
}

}  // namespace ragwire::dataplane
