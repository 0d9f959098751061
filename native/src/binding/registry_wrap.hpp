// The native data plane's collection registry as JavaScript sees it (registry_wrap.cpp): a store
// publishes its collections to one, a native+tcp:// listener answers queries from it.
#pragma once
#include <napi.h>

#include <memory>

#include "../dataplane/collection_registry.hpp"

namespace ragwire::binding {

// The registry of that id (JavaScript thread only); throws a TypeError for an unknown one.
std::shared_ptr<dataplane::CollectionRegistry> registry_arg(const Napi::CallbackInfo& info, size_t i);

void define_registry(Napi::Env env, Napi::Object exports);

}  // namespace ragwire::binding
