// libucs and libucp, opened at first use (ucx_library.cpp forwards every ucp_/ucs_ call to them).
#pragma once
#include <string>

#include "ragwire/shared_library.hpp"

namespace ragwire::ucx {
const SharedLibrary& ucs();
const SharedLibrary& ucp();
// Why UCX did not load, and what to install; empty when it did.
const std::string& library_error();
}  // namespace ragwire::ucx
