// The OpenCL ICD loader, opened at first use (opencl_library.cpp forwards every cl* call to it).
#pragma once
#include "ragwire/shared_library.hpp"

namespace ragwire::opencl {
const SharedLibrary& library();
}
