// Picks the kernel table once, from what the CPU supports.
#include "ragwire/kernels.hpp"

namespace ragwire {
namespace kernel_tables {
#if defined(RAGWIRE_HAVE_AVX2)
namespace impl_avx2 { const KernelTable* table(); }
const KernelTable* avx2() { return impl_avx2::table(); }
#else
const KernelTable* avx2() { return nullptr; }
#endif
#if defined(RAGWIRE_HAVE_AVX512)
namespace impl_avx512 { const KernelTable* table(); }
const KernelTable* avx512() { return impl_avx512::table(); }
#else
const KernelTable* avx512() { return nullptr; }
#endif
#if defined(RAGWIRE_HAVE_NEON)
namespace impl_neon { const KernelTable* table(); }
const KernelTable* neon() { return impl_neon::table(); }
#else
const KernelTable* neon() { return nullptr; }
#endif
namespace impl_scalar { const KernelTable* table(); }
const KernelTable* scalar() { return impl_scalar::table(); }
}  // namespace kernel_tables

namespace {
const KernelTable* pick() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (kernel_tables::avx512() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return kernel_tables::avx512();
  if (kernel_tables::avx2() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return kernel_tables::avx2();
#endif
  if (kernel_tables::neon()) return kernel_tables::neon();
  return kernel_tables::scalar();
}
}  // namespace

const KernelTable& kernels() {
  static const KernelTable* t = pick();
  return *t;
}

const char* isa() { return kernels().isa; }

}  // namespace ragwire
