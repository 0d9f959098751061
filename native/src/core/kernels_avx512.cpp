// Kernels compiled for avx512 (flags set in CMakeLists.txt).
#define RAGWIRE_KERNEL_NS impl_avx512
#define RAGWIRE_KERNEL_ISA "avx512"
#include "kernels_impl.hpp"
