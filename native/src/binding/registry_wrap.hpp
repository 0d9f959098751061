// The native data plane's collection registry as JavaScript sees it (registry_wrap.cpp): a store
// publishes its collections to one, a native+tcp:// listener answers queries from it.
#pragma once
#include <napi.h>

#include <memory>

#include "../dataplane/collection_registry.hpp"
#include "../dataplane/query_answerer.hpp"

namespace ragwire::binding {

// The registry of that id (JavaScript thread only); throws a TypeError for an unknown one.
std::shared_ptr<dataplane::CollectionRegistry> registry_arg(const Napi::CallbackInfo& info, size_t i);

// The answerer of a listener that answers from a registry: arguments `first` to `first + 2` are
// (registry, protocolLimits, { maxK, maxEfSearch }): the server's protocol limits and the store's caps.
std::shared_ptr<dataplane::QueryAnswerer> answerer_args(const Napi::CallbackInfo& info, size_t first);

// { ready, traceOn, readAny, readable: string[] }: what JavaScript settled for a connection.
dataplane::ConnState conn_state_arg(Napi::Env env, const Napi::Value& value);

void define_registry(Napi::Env env, Napi::Object exports);

}  // namespace ragwire::binding
