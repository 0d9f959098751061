// The native data plane's functions of the addon (dataplane_wrap.cpp).
#pragma once
#include <napi.h>

namespace ragwire::binding {

void define_dataplane(Napi::Env env, Napi::Object exports);

}  // namespace ragwire::binding
