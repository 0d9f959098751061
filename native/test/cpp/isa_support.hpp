// The instruction-set tables this build compiled, and whether this CPU runs them.
#pragma once
#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

#include "ragwire/kernels.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace ragwire_test {

struct IsaCase {
  const char* name;
  const ragwire::KernelTable* table;  // null: not compiled into this build
  bool cpu_has;
};

// gtest names a parameter by this (instead of dumping its bytes).
inline void PrintTo(const IsaCase& c, std::ostream* os) { *os << c.name; }

inline bool cpu_supports(const std::string& isa) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (isa == "avx512")
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  if (isa == "avx2") {
    unsigned a, b, c, d;  // f16c from CPUID: clang has no feature string for it
    bool f16c = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
  }
  return isa == "scalar";
#elif defined(__aarch64__)
  return isa == "neon" || isa == "scalar";
#else
  return isa == "scalar";
#endif
}

inline std::vector<IsaCase> isa_cases() {
  namespace t = ragwire::kernel_tables;
  return {
      {"avx512", t::avx512(), cpu_supports("avx512")},
      {"avx2", t::avx2(), cpu_supports("avx2")},
      {"neon", t::neon(), cpu_supports("neon")},
      {"scalar", t::scalar(), true},
  };
}

// The table the engine should pick with no cap: the widest one compiled in that the CPU runs.
inline const char* best_isa() {
  for (const IsaCase& c : isa_cases())
    if (c.table && c.cpu_has) return c.name;
  return "scalar";
}

}  // namespace ragwire_test
