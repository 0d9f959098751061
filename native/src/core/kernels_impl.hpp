// The kernels, written once and compiled once per instruction set: each
// kernels_<isa>.cpp defines RAGWIRE_KERNEL_NS and includes this file with its
// own compiler flags, so the preprocessor picks the intrinsics.
#include <cmath>
#include <cstring>

#include "ragwire/kernels.hpp"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <cpuid.h>
#include <immintrin.h>
#elif defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace ragwire::kernel_tables::RAGWIRE_KERNEL_NS {
namespace {

inline float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        exp--;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t float_to_half(float f) {  // round to nearest even
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0));
  if (absx >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);  // overflow -> inf
  if (absx < 0x38800000u) {                                   // a half subnormal, or zero
    if (absx < 0x33000000u) return (uint16_t)sign;
    uint32_t e = absx >> 23;
    uint32_t m = (absx & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e;
    uint32_t res = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (res & 1))) res++;
    return (uint16_t)(sign | res);
  }
  uint32_t e = (absx >> 23) - 127 + 15;
  uint32_t m = absx & 0x7fffff;
  uint32_t res = (e << 10) | (m >> 13);
  uint32_t rem = m & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (res & 1))) res++;
  return (uint16_t)(sign | res);
}

#if defined(__AVX512F__)
inline __m512 load_f16x16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*)p)); }
inline __m512 load_sq8x16(const uint8_t* c, const float* lo, const float* step) {
  __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i*)c)));
  return _mm512_fmadd_ps(v, _mm512_loadu_ps(step), _mm512_loadu_ps(lo));
}
inline __m512 abs512(__m512 v) {
  return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff)));
}
#elif defined(__AVX2__)
inline float hsum256(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  __m128 sh = _mm_movehdup_ps(lo);
  __m128 s = _mm_add_ps(lo, sh);
  sh = _mm_movehl_ps(sh, s);
  return _mm_cvtss_f32(_mm_add_ss(s, sh));
}
inline __m256 load_f16x8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*)p)); }
inline __m256 load_sq8x8(const uint8_t* c, const float* lo, const float* step) {
  __m256 v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)c)));
  return _mm256_fmadd_ps(v, _mm256_loadu_ps(step), _mm256_loadu_ps(lo));
}
inline __m256 abs256(__m256 v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }
#endif

// One template for the three metrics: Op accumulates a (query, value) pair.
struct L2Op {
  static float acc(float q, float x) {
    float d = q - x;
    return d * d;
  }
};
struct IpOp {
  static float acc(float q, float x) { return q * x; }
};
struct L1Op {
  static float acc(float q, float x) { return std::fabs(q - x); }
};

template <class Op, class Load>
inline float scalar_tail(const float* q, size_t i, size_t n, Load load) {
  float s = 0;
  for (; i < n; i++) s += Op::acc(q[i], load(i));
  return s;
}

#if defined(__AVX512F__)
template <int M>
inline __m512 acc512(__m512 s, __m512 q, __m512 x) {
  if constexpr (M == 0) {
    __m512 d = _mm512_sub_ps(q, x);
    return _mm512_fmadd_ps(d, d, s);
  } else if constexpr (M == 1) {
    return _mm512_fmadd_ps(q, x, s);
  } else {
    return _mm512_add_ps(s, abs512(_mm512_sub_ps(q, x)));
  }
}
// M: 0 = l2, 1 = ip, 2 = l1. LoadX(i, mask) returns 16 lanes of x from i.
template <int M, class LoadX>
inline float reduce512(const float* q, size_t n, LoadX load) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = acc512<M>(s0, _mm512_loadu_ps(q + i), load(i));
    s1 = acc512<M>(s1, _mm512_loadu_ps(q + i + 16), load(i + 16));
  }
  for (; i + 16 <= n; i += 16) s0 = acc512<M>(s0, _mm512_loadu_ps(q + i), load(i));
  float s = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  return s;  // caller adds the tail
}
#elif defined(__AVX2__)
template <int M>
inline __m256 acc256(__m256 s, __m256 q, __m256 x) {
  if constexpr (M == 0) {
    __m256 d = _mm256_sub_ps(q, x);
    return _mm256_fmadd_ps(d, d, s);
  } else if constexpr (M == 1) {
    return _mm256_fmadd_ps(q, x, s);
  } else {
    return _mm256_add_ps(s, abs256(_mm256_sub_ps(q, x)));
  }
}
template <int M, class LoadX>
inline float reduce256(const float* q, size_t n, LoadX load) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = acc256<M>(s0, _mm256_loadu_ps(q + i), load(i));
    s1 = acc256<M>(s1, _mm256_loadu_ps(q + i + 8), load(i + 8));
  }
  for (; i + 8 <= n; i += 8) s0 = acc256<M>(s0, _mm256_loadu_ps(q + i), load(i));
  return hsum256(_mm256_add_ps(s0, s1));
}
#elif defined(__ARM_NEON)
template <int M>
inline float32x4_t acc128(float32x4_t s, float32x4_t q, float32x4_t x) {
  if constexpr (M == 0) {
    float32x4_t d = vsubq_f32(q, x);
    return vfmaq_f32(s, d, d);
  } else if constexpr (M == 1) {
    return vfmaq_f32(s, q, x);
  } else {
    return vaddq_f32(s, vabdq_f32(q, x));
  }
}
#endif

constexpr size_t simd_width() {
#if defined(__AVX512F__)
  return 16;
#elif defined(__AVX2__)
  return 8;
#elif defined(__ARM_NEON)
  return 4;
#else
  return 1;
#endif
}

template <int M, class Op>
float dist_f32(const float* q, const float* x, size_t n) {
  float s = 0;
  size_t done = 0;
#if defined(__AVX512F__)
  s = reduce512<M>(q, n, [x](size_t i) { return _mm512_loadu_ps(x + i); });
  done = n & ~size_t(15);
#elif defined(__AVX2__)
  s = reduce256<M>(q, n, [x](size_t i) { return _mm256_loadu_ps(x + i); });
  done = n & ~size_t(7);
#elif defined(__ARM_NEON)
  float32x4_t a = vdupq_n_f32(0);
  for (; done + 4 <= n; done += 4) a = acc128<M>(a, vld1q_f32(q + done), vld1q_f32(x + done));
  s = vaddvq_f32(a);
#endif
  s += scalar_tail<Op>(q, done, n, [x](size_t i) { return x[i]; });
  return M == 1 ? -s : s;
}

template <int M, class Op>
float dist_f16(const float* q, const uint16_t* x, size_t n) {
  float s = 0;
  size_t done = 0;
#if defined(__AVX512F__)
  s = reduce512<M>(q, n, [x](size_t i) { return load_f16x16(x + i); });
  done = n & ~size_t(15);
#elif defined(__AVX2__)
  s = reduce256<M>(q, n, [x](size_t i) { return load_f16x8(x + i); });
  done = n & ~size_t(7);
#endif
  s += scalar_tail<Op>(q, done, n, [x](size_t i) { return half_to_float(x[i]); });
  return M == 1 ? -s : s;
}

template <int M, class Op>
float dist_sq8(const float* q, const uint8_t* c, const float* lo, const float* step, size_t n) {
  float s = 0;
  size_t done = 0;
#if defined(__AVX512F__)
  s = reduce512<M>(q, n, [=](size_t i) { return load_sq8x16(c + i, lo + i, step + i); });
  done = n & ~size_t(15);
#elif defined(__AVX2__)
  s = reduce256<M>(q, n, [=](size_t i) { return load_sq8x8(c + i, lo + i, step + i); });
  done = n & ~size_t(7);
#endif
  s += scalar_tail<Op>(q, done, n, [=](size_t i) { return lo[i] + float(c[i]) * step[i]; });
  return M == 1 ? -s : s;
}

// The sq8 walk's kernel: codes widened to 16 bits, multiplied pairwise with
// the query words and summed into 32-bit lanes (vpmaddwd); with VNNI, the
// codes multiplied by the query's two byte planes as they are (vpdpbusd).
int32_t dot_u8_i16(const uint8_t* c, const Int16Query& query, size_t n) {
  const int16_t* q = query.words;
  size_t i = 0;
  int32_t s = 0;
#if defined(__AVX512F__)
  __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
  for (; i + 64 <= n; i += 64) {
    __m512i c0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i*)(c + i)));
    __m512i c1 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i*)(c + i + 32)));
    a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(c0, _mm512_loadu_si512((const void*)(q + i))));
    a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(c1, _mm512_loadu_si512((const void*)(q + i + 32))));
  }
  if (i < n) {  // the last 1..63 elements through masked loads (no read past either buffer)
    size_t left = n - i;
    __mmask32 m0 = left >= 32 ? ~__mmask32(0) : (__mmask32)((1u << left) - 1);
    __mmask32 m1 = left > 32 ? (__mmask32)((1u << (left - 32)) - 1) : 0;
    __m512i c0 = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m0, c + i));
    __m512i c1 = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m1, c + i + 32));
    a0 = _mm512_add_epi32(a0, _mm512_madd_epi16(c0, _mm512_maskz_loadu_epi16(m0, q + i)));
    a1 = _mm512_add_epi32(a1, _mm512_madd_epi16(c1, _mm512_maskz_loadu_epi16(m1, q + i + 32)));
    i = n;
  }
  s = _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
#elif defined(__AVX2__)
  __m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
  for (; i + 32 <= n; i += 32) {
    __m256i c0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i*)(c + i)));
    __m256i c1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i*)(c + i + 16)));
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(c0, _mm256_loadu_si256((const __m256i*)(q + i))));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(c1, _mm256_loadu_si256((const __m256i*)(q + i + 16))));
  }
  for (; i + 16 <= n; i += 16) {
    __m256i c0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i*)(c + i)));
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(c0, _mm256_loadu_si256((const __m256i*)(q + i))));
  }
  __m256i a = _mm256_add_epi32(a0, a1);
  __m128i h = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
  h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
  s = _mm_cvtsi128_si32(h);
#elif defined(__ARM_NEON)
  int32x4_t a0 = vdupq_n_s32(0), a1 = vdupq_n_s32(0);
  for (; i + 8 <= n; i += 8) {
    int16x8_t cv = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(c + i)));
    int16x8_t qv = vld1q_s16(q + i);
    a0 = vmlal_s16(a0, vget_low_s16(cv), vget_low_s16(qv));
    a1 = vmlal_high_s16(a1, cv, qv);
  }
  s = vaddvq_s32(vaddq_s32(a0, a1));
#endif
  for (; i < n; i++) s += (int32_t)c[i] * (int32_t)q[i];
  return s;
}

void dot4_u8_i16(const uint8_t* c, size_t stride, const Int16Query& q, size_t n, int32_t* out) {
  for (size_t r = 0; r < 4; r++) out[r] = dot_u8_i16(c + r * stride, q, n);
}

#if defined(__AVX512F__) && (defined(__GNUC__) || defined(__clang__))
// With AVX-512 VNNI: vpdpbusd multiplies 64 unsigned codes by 64 signed bytes
// and adds each four products into a 32-bit lane, so the codes need no
// widening; two planes keep the query's 16 bits (sum c a = 256 sum c hi + sum c lo).
// Lanes wrap modulo 2^32 on the way (256 * the hi sum alone may exceed 2^31);
// the total fits in 32 bits by the caller's bound, so it comes out exact.
__attribute__((target("avx512vnni"))) int32_t dot_u8_i16_vnni(const uint8_t* c, const Int16Query& q, size_t n) {
  size_t i = 0;
  __m512i h0 = _mm512_setzero_si512(), l0 = _mm512_setzero_si512();
  __m512i h1 = _mm512_setzero_si512(), l1 = _mm512_setzero_si512();
  for (; i + 128 <= n; i += 128) {  // four independent chains: vpdpbusd's latency, not its throughput, would bind two
    __m512i c0 = _mm512_loadu_si512((const void*)(c + i)), c1 = _mm512_loadu_si512((const void*)(c + i + 64));
    h0 = _mm512_dpbusd_epi32(h0, c0, _mm512_loadu_si512((const void*)(q.hi + i)));
    l0 = _mm512_dpbusd_epi32(l0, c0, _mm512_loadu_si512((const void*)(q.lo + i)));
    h1 = _mm512_dpbusd_epi32(h1, c1, _mm512_loadu_si512((const void*)(q.hi + i + 64)));
    l1 = _mm512_dpbusd_epi32(l1, c1, _mm512_loadu_si512((const void*)(q.lo + i + 64)));
  }
  for (; i < n; i += 64) {  // the last 1..127 elements, the final 1..64 through masked loads
    __mmask64 m = n - i >= 64 ? ~__mmask64(0) : (~__mmask64(0)) >> (64 - (n - i));
    __m512i cv = _mm512_maskz_loadu_epi8(m, c + i);
    h0 = _mm512_dpbusd_epi32(h0, cv, _mm512_maskz_loadu_epi8(m, q.hi + i));
    l0 = _mm512_dpbusd_epi32(l0, cv, _mm512_maskz_loadu_epi8(m, q.lo + i));
  }
  __m512i hi = _mm512_add_epi32(h0, h1), lo = _mm512_add_epi32(l0, l1);
  return _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(hi, 8), lo));
}

// Four rows: each chunk of the query's planes is loaded once for the four rows,
// and the eight accumulator chains are independent.
__attribute__((target("avx512vnni"))) void dot4_u8_i16_vnni(const uint8_t* c, size_t stride, const Int16Query& q,
                                                            size_t n, int32_t* out) {
  __m512i hi[4], lo[4];
  for (int r = 0; r < 4; r++) hi[r] = lo[r] = _mm512_setzero_si512();
  for (size_t i = 0; i < n; i += 64) {
    __mmask64 m = n - i >= 64 ? ~__mmask64(0) : (~__mmask64(0)) >> (64 - (n - i));
    __m512i qh = _mm512_maskz_loadu_epi8(m, q.hi + i), ql = _mm512_maskz_loadu_epi8(m, q.lo + i);
    for (int r = 0; r < 4; r++) {
      __m512i cv = _mm512_maskz_loadu_epi8(m, c + r * stride + i);
      hi[r] = _mm512_dpbusd_epi32(hi[r], cv, qh);
      lo[r] = _mm512_dpbusd_epi32(lo[r], cv, ql);
    }
  }
  for (int r = 0; r < 4; r++) out[r] = _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(hi[r], 8), lo[r]));
}

// Four rows against a query within +-127: its lo plane alone (the hi plane is zero), one
// vpdpbusd per 64 codes and row.
__attribute__((target("avx512vnni"))) void dot4_u8_i8_vnni(const uint8_t* c, size_t stride, const Int16Query& q,
                                                           size_t n, int32_t* out) {
  __m512i acc[4];
  for (int r = 0; r < 4; r++) acc[r] = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i ql = _mm512_loadu_si512((const void*)(q.lo + i));
    for (int r = 0; r < 4; r++)
      acc[r] = _mm512_dpbusd_epi32(acc[r], _mm512_loadu_si512((const void*)(c + r * stride + i)), ql);
  }
  if (i < n) {
    const __mmask64 m = (~__mmask64(0)) >> (64 - (n - i));
    const __m512i ql = _mm512_maskz_loadu_epi8(m, q.lo + i);
    for (int r = 0; r < 4; r++)
      acc[r] = _mm512_dpbusd_epi32(acc[r], _mm512_maskz_loadu_epi8(m, c + r * stride + i), ql);
  }
  for (int r = 0; r < 4; r++) out[r] = _mm512_reduce_add_epi32(acc[r]);
}

bool cpu_has_vnni() {
  unsigned a, b, c, d;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & bit_AVX512VNNI);
}
#endif

uint32_t hamming(const uint64_t* a, const uint64_t* b, size_t words) {
  uint32_t d = 0;
  for (size_t i = 0; i < words; i++) d += (uint32_t)__builtin_popcountll(a[i] ^ b[i]);
  return d;
}

void f32_to_f16(const float* in, uint16_t* out, size_t n) {
  size_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256((__m256i*)(out + i), _mm512_cvtps_ph(_mm512_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
#elif defined(__AVX2__)
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128((__m128i*)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
#endif
  for (; i < n; i++) out[i] = float_to_half(in[i]);
}

void f16_to_f32(const uint16_t* in, float* out, size_t n) {
  size_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, load_f16x16(in + i));
#elif defined(__AVX2__)
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, load_f16x8(in + i));
#endif
  for (; i < n; i++) out[i] = half_to_float(in[i]);
}

float sum_f32(const float* x, size_t n) {
  size_t i = 0;
  float s = 0;
#if defined(__AVX512F__)
  __m512 a = _mm512_setzero_ps(), b = _mm512_setzero_ps(), c = _mm512_setzero_ps(), d = _mm512_setzero_ps();
  for (; i + 64 <= n; i += 64) {
    __builtin_prefetch(x + i + 1024);  // 4 KiB ahead, as the scans do
    __builtin_prefetch(x + i + 1040);
    __builtin_prefetch(x + i + 1056);
    __builtin_prefetch(x + i + 1072);
    a = _mm512_add_ps(a, _mm512_loadu_ps(x + i));
    b = _mm512_add_ps(b, _mm512_loadu_ps(x + i + 16));
    c = _mm512_add_ps(c, _mm512_loadu_ps(x + i + 32));
    d = _mm512_add_ps(d, _mm512_loadu_ps(x + i + 48));
  }
  s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a, b), _mm512_add_ps(c, d)));
#elif defined(__AVX2__)
  __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps(), c = _mm256_setzero_ps(), d = _mm256_setzero_ps();
  for (; i + 32 <= n; i += 32) {
    __builtin_prefetch(x + i + 1024);
    __builtin_prefetch(x + i + 1040);
    a = _mm256_add_ps(a, _mm256_loadu_ps(x + i));
    b = _mm256_add_ps(b, _mm256_loadu_ps(x + i + 8));
    c = _mm256_add_ps(c, _mm256_loadu_ps(x + i + 16));
    d = _mm256_add_ps(d, _mm256_loadu_ps(x + i + 24));
  }
  s = hsum256(_mm256_add_ps(_mm256_add_ps(a, b), _mm256_add_ps(c, d)));
#endif
  for (; i < n; i++) s += x[i];
  return s;
}

}  // namespace

#if defined(__AVX512F__)
DotU8I16 dot_u8_i16_without_vnni() { return dot_u8_i16; }
Dot4U8I16 dot4_u8_i16_without_vnni() { return dot4_u8_i16; }
#endif

const KernelTable* table() {
#if defined(__AVX512F__) && (defined(__GNUC__) || defined(__clang__))
  static const bool vnni = cpu_has_vnni();
  static const auto dot = vnni ? dot_u8_i16_vnni : dot_u8_i16;
  static const auto dot4 = vnni ? dot4_u8_i16_vnni : dot4_u8_i16;
  static const auto dot4_i8 = vnni ? dot4_u8_i8_vnni : dot4_u8_i16;
#else
  static const auto dot = dot_u8_i16;
  static const auto dot4 = dot4_u8_i16;
  static const auto dot4_i8 = dot4_u8_i16;
#endif
  static const KernelTable t = {
      RAGWIRE_KERNEL_ISA,
      dist_f32<0, L2Op>,
      dist_f32<1, IpOp>,
      dist_f32<2, L1Op>,
      dist_f16<0, L2Op>,
      dist_f16<1, IpOp>,
      dist_f16<2, L1Op>,
      dist_sq8<0, L2Op>,
      dist_sq8<1, IpOp>,
      dist_sq8<2, L1Op>,
      dot,
      dot4,
      dot4_i8,
      hamming,
      f32_to_f16,
      f16_to_f32,
      sum_f32,
  };
  return &t;
}

}  // namespace ragwire::kernel_tables::RAGWIRE_KERNEL_NS
