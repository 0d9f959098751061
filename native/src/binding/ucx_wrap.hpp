// The UCX functions of the addon (ucx_wrap.cpp).
#pragma once
#include <napi.h>

namespace ragwire::binding {

// Adds ucxAvailability() always, and the ucx* connection functions when built with UCX.
void define_ucx(Napi::Env env, Napi::Object exports);

}  // namespace ragwire::binding
