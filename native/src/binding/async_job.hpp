// Runs work on the engine's pool and settles a Promise on the JS thread.
#pragma once
#include <napi.h>

#include <functional>
#include <vector>

#include "ragwire/status.hpp"

namespace ragwire::binding {

struct Job {
  // Runs on a pool thread; must not touch JS values.
  std::function<Status()> work;
  // Runs on the JS thread after work succeeded; returns the resolution value.
  std::function<Napi::Value(Napi::Env)> result;
  Napi::Promise::Deferred deferred;
  // JS values the work reads (typed arrays): kept alive until it ends.
  std::vector<Napi::ObjectReference> keep_alive;
  Status status;

  explicit Job(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

// Creates the completion channel; call once per environment.
void init_completions(Napi::Env env);
// Queues the job; returns its promise.
Napi::Promise run_async(Napi::Env env, Job* job);

}  // namespace ragwire::binding
