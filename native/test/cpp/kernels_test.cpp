// Every kernel of every instruction-set table this machine can run, against
// a scalar reference written here: exact on integer-valued data (where float
// arithmetic is exact in any order, so one wrong lane or tail element shows),
// within a float-rounding bound on random data, at lengths around every SIMD
// width and with unaligned pointers, each vector in a buffer of exactly its
// size (an over-read is an AddressSanitizer report).
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "isa_support.hpp"
#include "ragwire/kernels.hpp"

namespace {

using ragwire::KernelTable;
using ragwire_test::IsaCase;

// The reference half -> float, by the IEEE 754 definition (not bit tricks).
double half_value(uint16_t h) {
  int sign = (h & 0x8000) ? -1 : 1;
  int exp = (h >> 10) & 0x1f;
  int mant = h & 0x3ff;
  if (exp == 0) return sign * std::ldexp((double)mant, -24);
  if (exp == 31) return mant ? NAN : sign * INFINITY;
  return sign * std::ldexp(1024.0 + mant, exp - 25);
}

// The reference float -> half: the nearest half, ties to even, by search.
uint16_t ref_to_half(float f) {
  if (std::isnan(f)) return 0x7e00;
  uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  double mag = std::fabs((double)f);
  if (mag >= 65520.0) return sign | 0x7c00;  // halfway between 65504 and 65536 and above: inf
  uint16_t lo = 0, hi = 0x7bff;              // largest h with value(h) <= mag
  while (lo < hi) {
    uint16_t mid = (uint16_t)((lo + hi + 1) / 2);
    if (half_value(mid) <= mag)
      lo = mid;
    else
      hi = (uint16_t)(mid - 1);
  }
  uint16_t h = lo;
  if (h < 0x7bff || mag > half_value(0x7bff)) {
    double below = mag - half_value(h), above = half_value((uint16_t)(h + 1)) - mag;
    if (above < below || (above == below && (h & 1))) h++;
  }
  return sign | h;
}

enum class Op { kL2, kIp, kL1 };

double ref_op(Op op, const float* q, const double* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double a = q[i], b = x[i];
    s += op == Op::kL2 ? (a - b) * (a - b) : op == Op::kIp ? a * b : std::fabs(a - b);
  }
  return op == Op::kIp ? -s : s;
}
double ref_abs_terms(Op op, const float* q, const double* x, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double a = q[i], b = x[i];
    s += op == Op::kL2 ? (a - b) * (a - b) : op == Op::kIp ? std::fabs(a * b) : std::fabs(a - b);
  }
  return s;
}

const std::vector<size_t>& lengths() {
  static const std::vector<size_t> n = [] {
    std::vector<size_t> v;
    for (size_t i = 0; i <= 70; i++) v.push_back(i);
    for (size_t i : {95, 96, 97, 127, 128, 129, 255, 256, 257, 768, 1000, 1536}) v.push_back(i);
    return v;
  }();
  return n;
}

// One vector of each encoding, each in its own exactly sized buffer, with
// the f32 query offset by one float (unaligned loads).
struct Operands {
  std::vector<float> q_buf, x;
  std::vector<uint16_t> x16;
  std::vector<uint8_t> c8;
  std::vector<float> lo, step;
  const float* q() const { return q_buf.data() + 1; }
  // Reference values of each encoding, in double.
  std::vector<double> x_ref, x16_ref, sq8_ref;
};

Operands make_operands(size_t n, bool integers, std::mt19937_64& rng) {
  Operands o;
  std::uniform_int_distribution<int> small(-8, 8), code(0, 255);
  std::normal_distribution<float> g(0.f, 1.f);
  o.q_buf.resize(n + 1);
  o.x.resize(n);
  o.x16.resize(n);
  o.c8.resize(n);
  o.lo.resize(n);
  o.step.resize(n);
  for (size_t i = 0; i < n; i++) {
    o.q_buf[i + 1] = integers ? (float)small(rng) : g(rng);
    o.x[i] = integers ? (float)small(rng) : g(rng);
    o.x16[i] = ref_to_half(integers ? (float)small(rng) : g(rng));
    // integer data stays below 2^24 in every partial sum: codes 0..15 when exact
    o.c8[i] = (uint8_t)(integers ? code(rng) & 15 : code(rng));
    o.lo[i] = integers ? (float)small(rng) : g(rng);
    o.step[i] = integers ? 1.f : 0.01f + std::fabs(g(rng)) * 0.02f;
    o.x_ref.push_back(o.x[i]);
    o.x16_ref.push_back(half_value(o.x16[i]));
    o.sq8_ref.push_back((double)(o.lo[i] + float(o.c8[i]) * o.step[i]));  // the decode the format defines, in float
  }
  return o;
}

class KernelTest : public ::testing::TestWithParam<IsaCase> {
 protected:
  void SetUp() override {
    if (!GetParam().table) GTEST_SKIP() << GetParam().name << " is not compiled into this build";
    if (!GetParam().cpu_has) GTEST_SKIP() << "this CPU lacks " << GetParam().name;
  }
  const KernelTable& k() const { return *GetParam().table; }

  void check_all(bool integers) {
    std::mt19937_64 rng(integers ? 11 : 12);
    for (size_t n : lengths()) {
      Operands o = make_operands(n, integers, rng);
      struct Row {
        const char* name;
        float got;
        Op op;
        const std::vector<double>& x;
      } rows[] = {
          {"l2_f32", k().l2_f32(o.q(), o.x.data(), n), Op::kL2, o.x_ref},
          {"ip_f32", k().ip_f32(o.q(), o.x.data(), n), Op::kIp, o.x_ref},
          {"l1_f32", k().l1_f32(o.q(), o.x.data(), n), Op::kL1, o.x_ref},
          {"l2_f16", k().l2_f16(o.q(), o.x16.data(), n), Op::kL2, o.x16_ref},
          {"ip_f16", k().ip_f16(o.q(), o.x16.data(), n), Op::kIp, o.x16_ref},
          {"l1_f16", k().l1_f16(o.q(), o.x16.data(), n), Op::kL1, o.x16_ref},
          {"l2_sq8", k().l2_sq8(o.q(), o.c8.data(), o.lo.data(), o.step.data(), n), Op::kL2, o.sq8_ref},
          {"ip_sq8", k().ip_sq8(o.q(), o.c8.data(), o.lo.data(), o.step.data(), n), Op::kIp, o.sq8_ref},
          {"l1_sq8", k().l1_sq8(o.q(), o.c8.data(), o.lo.data(), o.step.data(), n), Op::kL1, o.sq8_ref},
      };
      for (const Row& r : rows) {
        double want = ref_op(r.op, o.q(), r.x.data(), n);
        if (integers) {
          ASSERT_EQ((double)r.got, want) << GetParam().name << " " << r.name << " n=" << n;
        } else {
          // A float sum of n terms: relative error well under 3e-5 of the terms' magnitude at these lengths.
          double tol = 3e-5 * ref_abs_terms(r.op, o.q(), r.x.data(), n) + 1e-6;
          ASSERT_NEAR((double)r.got, want, tol) << GetParam().name << " " << r.name << " n=" << n;
        }
      }
    }
  }
};

TEST_P(KernelTest, DistancesEqualTheReferenceExactlyOnIntegerData) { check_all(true); }

TEST_P(KernelTest, DistancesMatchTheReferenceOnGaussianData) { check_all(false); }

// The sq8 walk's integer dot product: exact (integer arithmetic), at every
// length, unaligned, up to the largest query magnitude the engine uses at that
// length (255 * max|a| * n < 2^31, |a| <= kInt16QueryMax), where one lane summed
// in 16 bits, a sign-extended code or a wrong byte-plane split would show.
void check_dot(ragwire::kernel_tables::DotU8I16 dot, ragwire::kernel_tables::Dot4U8I16 dot4, const char* what) {
  std::mt19937_64 rng(21);
  for (size_t n : lengths()) {
    int32_t qmax =
        (int32_t)std::min<int64_t>(ragwire::kInt16QueryMax, INT32_MAX / (255 * (int64_t)std::max<size_t>(n, 1)));
    std::uniform_int_distribution<int> code(0, 255), qv(-qmax, qmax);
    for (int fill = 0; fill < 4; fill++) {
      std::vector<uint8_t> c_buf(n + 1);
      std::vector<int16_t> q_buf(n + 1);
      std::vector<int8_t> hi_buf(n + 1), lo_buf(n + 1);
      for (size_t i = 1; i <= n; i++) {
        // 0: random, 1: every term at the bound, 2: alternating signs, 3: -bound
        c_buf[i] = fill == 0 ? (uint8_t)code(rng) : 255;
        q_buf[i] = (int16_t)(fill == 0 ? qv(rng) : fill == 1 ? qmax : fill == 2 ? (i % 2 ? qmax : -qmax) : -qmax);
        int lo = ((q_buf[i] % 256) + 256) % 256;
        if (lo >= 128) lo -= 256;
        lo_buf[i] = (int8_t)lo;
        hi_buf[i] = (int8_t)((q_buf[i] - lo) / 256);
        ASSERT_EQ(256 * hi_buf[i] + lo_buf[i], q_buf[i]);
      }
      int64_t want = 0;
      for (size_t i = 1; i <= n; i++) want += (int64_t)c_buf[i] * q_buf[i];
      ragwire::Int16Query q{q_buf.data() + 1, hi_buf.data() + 1, lo_buf.data() + 1};
      ASSERT_EQ((int64_t)dot(c_buf.data() + 1, q, n), want) << what << " n=" << n << " fill " << fill;
      if (dot4) {  // four rows in one buffer of exactly their size, row r the codes rotated by r
        std::vector<uint8_t> rows(4 * n + 1);
        int64_t want4[4] = {0, 0, 0, 0};
        for (size_t r = 0; r < 4; r++)
          for (size_t i = 0; i < n; i++) {
            rows[1 + r * n + i] = c_buf[1 + (i + r) % n];
            want4[r] += (int64_t)rows[1 + r * n + i] * q_buf[1 + i];
          }
        int32_t got[4];
        dot4(rows.data() + 1, n, q, n, got);
        for (size_t r = 0; r < 4; r++) ASSERT_EQ((int64_t)got[r], want4[r]) << what << " dot4 row " << r << " n=" << n;
      }
    }
  }
}

TEST_P(KernelTest, IntegerDotProductEqualsTheReferenceExactly) {
  check_dot(k().dot_u8_i16, k().dot4_u8_i16, GetParam().name);
  if (std::string(GetParam().name) == "avx512")
    check_dot(ragwire::kernel_tables::avx512_dot_u8_i16_without_vnni(),
              ragwire::kernel_tables::avx512_dot4_u8_i16_without_vnni(), "avx512 without vnni");
}

// The flat scan's form: a query within +-127 (hi plane zero), four rows, exact at every length,
// unaligned, with every term at the bound.
TEST_P(KernelTest, EightBitQueryDotProductEqualsTheReferenceExactly) {
  std::mt19937_64 rng(22);
  for (size_t n : lengths()) {
    std::uniform_int_distribution<int> code(0, 255), qv(-127, 127);
    for (int fill = 0; fill < 3; fill++) {
      std::vector<uint8_t> rows(4 * n + 1);
      std::vector<int16_t> words(n + 1);
      std::vector<int8_t> hi(n + 1, 0), lo(n + 1);
      for (size_t i = 1; i <= n; i++) {
        words[i] = (int16_t)(fill == 0 ? qv(rng) : fill == 1 ? 127 : -127);
        lo[i] = (int8_t)words[i];
      }
      int64_t want[4] = {0, 0, 0, 0};
      for (size_t r = 0; r < 4; r++)
        for (size_t i = 0; i < n; i++) {
          rows[1 + r * n + i] = fill == 0 ? (uint8_t)code(rng) : 255;
          want[r] += (int64_t)rows[1 + r * n + i] * words[1 + i];
        }
      ragwire::Int16Query q{words.data() + 1, hi.data() + 1, lo.data() + 1};
      int32_t got[4];
      k().dot4_u8_i8(rows.data() + 1, n, q, n, got);
      for (size_t r = 0; r < 4; r++)
        ASSERT_EQ((int64_t)got[r], want[r]) << GetParam().name << " row " << r << " n=" << n << " fill " << fill;
    }
  }
}

TEST_P(KernelTest, HammingCountsDifferingBits) {
  std::mt19937_64 rng(5);
  for (size_t words : {0, 1, 2, 3, 7, 8, 9, 16, 33}) {
    std::vector<uint64_t> a(words), b(words);
    uint32_t want = 0;
    for (size_t i = 0; i < words; i++) {
      a[i] = rng();
      b[i] = rng();
      for (int bit = 0; bit < 64; bit++) want += ((a[i] ^ b[i]) >> bit) & 1;
    }
    EXPECT_EQ(k().hamming(a.data(), b.data(), words), want) << "words=" << words;
    EXPECT_EQ(k().hamming(a.data(), a.data(), words), 0u);
  }
  std::vector<uint64_t> zeros(4, 0), ones(4, ~uint64_t(0));
  EXPECT_EQ(k().hamming(zeros.data(), ones.data(), 4), 256u);
}

TEST_P(KernelTest, HalfToFloatDecodesEveryPattern) {
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); i++) all[i] = (uint16_t)i;
  std::vector<float> out(all.size());
  k().f16_to_f32(all.data(), out.data(), all.size());
  for (size_t i = 0; i < all.size(); i++) {
    double want = half_value((uint16_t)i);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(out[i])) << std::hex << "0x" << i;
    } else {
      ASSERT_EQ((double)out[i], want) << std::hex << "0x" << i;
      ASSERT_EQ(std::signbit(out[i]), (i & 0x8000) != 0) << std::hex << "0x" << i;  // -0 stays -0
    }
  }
}

TEST_P(KernelTest, FloatToHalfRoundsToNearestEven) {
  std::vector<float> in;
  // every half value, and every midpoint between neighbours (ties go to even)
  for (uint32_t h = 0; h < 0x7c00; h++) {
    for (uint16_t s : {0, 0x8000}) {
      in.push_back((float)(s ? -half_value((uint16_t)h) : half_value((uint16_t)h)));
      if (h + 1 <= 0x7c00) {
        double mid = (half_value((uint16_t)h) + (h + 1 == 0x7c00 ? 65536.0 : half_value((uint16_t)(h + 1)))) / 2;
        in.push_back((float)(s ? -mid : mid));
      }
    }
  }
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<float> u(-70000.f, 70000.f);
  std::normal_distribution<float> tiny(0.f, 1e-5f);
  for (int i = 0; i < 20000; i++) {
    in.push_back(u(rng));
    in.push_back(tiny(rng));
  }
  for (float special : {INFINITY, -INFINITY, 1e30f, -1e30f, 65519.f, 65520.f, 1e-10f, -0.f}) in.push_back(special);
  in.push_back(std::nanf(""));
  std::vector<uint16_t> out(in.size());
  k().f32_to_f16(in.data(), out.data(), in.size());
  for (size_t i = 0; i < in.size(); i++) {
    if (std::isnan(in[i])) {
      ASSERT_TRUE(std::isnan(half_value(out[i]))) << "NaN must stay NaN";
      continue;
    }
    ASSERT_EQ(out[i], ref_to_half(in[i])) << GetParam().name << " f=" << in[i] << " (index " << i << ")";
  }
}

TEST_P(KernelTest, SumAddsTheBuffer) {
  for (size_t n : lengths()) {
    std::vector<float> x(n);
    double want = 0;
    for (size_t i = 0; i < n; i++) want += (x[i] = (float)((int)(i % 17) - 8));
    ASSERT_EQ((double)k().sum_f32(x.data(), n), want) << "n=" << n;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryTable, KernelTest, ::testing::ValuesIn(ragwire_test::isa_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(KernelPick, TheHostTableIsTheBestTheCpuRuns) {
  if (std::getenv("RAGWIRE_ISA")) GTEST_SKIP() << "RAGWIRE_ISA is set: the isa_level tests cover capped picks";
  EXPECT_STREQ(ragwire::isa(), ragwire_test::best_isa());
}

}  // namespace
