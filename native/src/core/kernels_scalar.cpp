// Kernels compiled for scalar (flags set in CMakeLists.txt).
#define RAGWIRE_KERNEL_NS impl_scalar
#define RAGWIRE_KERNEL_ISA "scalar"
#include "kernels_impl.hpp"
