// Kernels compiled for avx2 (flags set in CMakeLists.txt).
#define RAGWIRE_KERNEL_NS impl_avx2
#define RAGWIRE_KERNEL_ISA "avx2"
#include "kernels_impl.hpp"
