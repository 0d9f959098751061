// Kernels compiled for neon (flags set in CMakeLists.txt).
#define RAGWIRE_KERNEL_NS impl_neon
#define RAGWIRE_KERNEL_ISA "neon"
#include "kernels_impl.hpp"
