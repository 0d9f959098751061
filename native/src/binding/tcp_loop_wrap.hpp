// The native data plane's TCP loop as JavaScript sees it (tcp_loop_wrap.cpp, native/lib/native-tcp-socket.ts).
#pragma once
#include <napi.h>

namespace ragwire::binding {

void define_tcp_loop(Napi::Env env, Napi::Object exports);

}  // namespace ragwire::binding
