// Distance kernels. One table per instruction set, chosen once at load time
// (AVX-512, AVX2, NEON, scalar). All kernels return a distance where lower
// means closer: l2 = squared L2, ip = -dot, l1 = Manhattan.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ragwire {

// A 16-bit integer query in the two forms the integer kernels read: words
// a_i, and byte planes with a_i = 256 * hi_i + lo_i (lo_i in [-128, 127]).
struct Int16Query {
  const int16_t* words;
  const int8_t* hi;
  const int8_t* lo;
};
// |a_i| at most this: hi_i then fits in a signed byte.
constexpr int32_t kInt16QueryMax = 127 * 256 + 127;

struct KernelTable {
  const char* isa;
  // f32 query against f32 vector
  float (*l2_f32)(const float* q, const float* x, size_t n);
  float (*ip_f32)(const float* q, const float* x, size_t n);
  float (*l1_f32)(const float* q, const float* x, size_t n);
  // f32 query against f16 vector
  float (*l2_f16)(const float* q, const uint16_t* x, size_t n);
  float (*ip_f16)(const float* q, const uint16_t* x, size_t n);
  float (*l1_f16)(const float* q, const uint16_t* x, size_t n);
  // f32 query against sq8 codes: x_i = lo_i + code_i * step_i
  float (*l2_sq8)(const float* q, const uint8_t* c, const float* lo, const float* step, size_t n);
  float (*ip_sq8)(const float* q, const uint8_t* c, const float* lo, const float* step, size_t n);
  float (*l1_sq8)(const float* q, const uint8_t* c, const float* lo, const float* step, size_t n);
  // u8 codes against a 16-bit integer query: sum c_i * a_i, exact in any order
  // while 255 * max|a_i| * n < 2^31 (the caller scales the query to keep it so).
  int32_t (*dot_u8_i16)(const uint8_t* c, const Int16Query& q, size_t n);
  // The same for four rows at once, c + r * stride for r in 0..3, into out[r]
  // (a scan's form: the query's loads and the call are shared by four rows).
  void (*dot4_u8_i16)(const uint8_t* c, size_t stride, const Int16Query& q, size_t n, int32_t* out);
  // The same for a query within +-127 (its hi plane all zero): the flat scan's form, whose
  // candidates are reranked in f32. With VNNI one vpdpbusd per 64 codes instead of two; elsewhere
  // dot4_u8_i16 itself.
  void (*dot4_u8_i8)(const uint8_t* c, size_t stride, const Int16Query& q, size_t n, int32_t* out);
  uint32_t (*hamming)(const uint64_t* a, const uint64_t* b, size_t words);
  void (*f32_to_f16)(const float* in, uint16_t* out, size_t n);
  void (*f16_to_f32)(const uint16_t* in, float* out, size_t n);
  // sum of the buffer (a streaming read, for the bandwidth probe)
  float (*sum_f32)(const float* x, size_t n);
};

// The table picked for this CPU (computed once, thread-safe).
const KernelTable& kernels();
// The instruction set the picked table uses: "avx512", "avx2", "neon" or "scalar".
const char* isa();

namespace kernel_tables {
const KernelTable* scalar();
const KernelTable* avx2();    // null when not compiled in
const KernelTable* avx512();  // null when not compiled in
const KernelTable* neon();    // null when not compiled in
// The avx512 table holds the VNNI form of dot_u8_i16 on CPUs that have it;
// this is its form without VNNI, so both are tested. Null when not compiled in.
using DotU8I16 = int32_t (*)(const uint8_t* c, const Int16Query& q, size_t n);
DotU8I16 avx512_dot_u8_i16_without_vnni();
using Dot4U8I16 = void (*)(const uint8_t* c, size_t stride, const Int16Query& q, size_t n, int32_t* out);
Dot4U8I16 avx512_dot4_u8_i16_without_vnni();
}  // namespace kernel_tables

}  // namespace ragwire
