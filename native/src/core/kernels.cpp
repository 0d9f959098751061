// Picks the kernel table once, from what the CPU supports.
#include "ragwire/kernels.hpp"

#include <cstdlib>
#include <string>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace ragwire {
namespace kernel_tables {
#if defined(RAGWIRE_HAVE_AVX2)
namespace impl_avx2 {
const KernelTable* table();
}
const KernelTable* avx2() { return impl_avx2::table(); }
#else
const KernelTable* avx2() { return nullptr; }
#endif
#if defined(RAGWIRE_HAVE_AVX512)
namespace impl_avx512 {
const KernelTable* table();
DotU8I16 dot_u8_i16_without_vnni();
Dot4U8I16 dot4_u8_i16_without_vnni();
}  // namespace impl_avx512
const KernelTable* avx512() { return impl_avx512::table(); }
DotU8I16 avx512_dot_u8_i16_without_vnni() { return impl_avx512::dot_u8_i16_without_vnni(); }
Dot4U8I16 avx512_dot4_u8_i16_without_vnni() { return impl_avx512::dot4_u8_i16_without_vnni(); }
#else
const KernelTable* avx512() { return nullptr; }
DotU8I16 avx512_dot_u8_i16_without_vnni() { return nullptr; }
Dot4U8I16 avx512_dot4_u8_i16_without_vnni() { return nullptr; }
#endif
#if defined(RAGWIRE_HAVE_NEON)
namespace impl_neon {
const KernelTable* table();
}
const KernelTable* neon() { return impl_neon::table(); }
#else
const KernelTable* neon() { return nullptr; }
#endif
namespace impl_scalar {
const KernelTable* table();
}
const KernelTable* scalar() { return impl_scalar::table(); }
}  // namespace kernel_tables

namespace {

bool cpu_has_avx512() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#else
  return false;
#endif
}

bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // clang (14) knows no "f16c" feature string for __builtin_cpu_supports: ask CPUID (leaf 1, ECX).
  unsigned a, b, c, d;
  bool f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
#else
  return false;
#endif
}

const KernelTable* pick() {
  const KernelTable* avx512 = cpu_has_avx512() ? kernel_tables::avx512() : nullptr;
  const KernelTable* avx2 = cpu_has_avx2() ? kernel_tables::avx2() : nullptr;
  const KernelTable* neon = kernel_tables::neon();
  // RAGWIRE_ISA caps the choice (for tests and comparisons); it never picks
  // an instruction set this CPU lacks.
  const char* cap = std::getenv("RAGWIRE_ISA");
  std::string want = cap ? cap : "";
  if (want == "scalar") return kernel_tables::scalar();
  if (want == "avx2" && avx2) return avx2;
  if (avx512 && (want.empty() || want == "avx512")) return avx512;
  if (avx2) return avx2;
  if (neon) return neon;
  return kernel_tables::scalar();
}

}  // namespace

const KernelTable& kernels() {
  static const KernelTable* t = pick();
  return *t;
}

const char* isa() { return kernels().isa; }

}  // namespace ragwire
