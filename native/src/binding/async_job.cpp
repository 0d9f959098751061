#include "async_job.hpp"

#include "addon_state.hpp"
#include "ragwire/thread_pool.hpp"

namespace ragwire::binding {

namespace {

void settle(Napi::Env env, Napi::Function, Job* job) {
  if (env == nullptr) {  // the environment is shutting down
    delete job;
    return;
  }
  AddonState& s = state(env);
  {
    Napi::HandleScope scope(env);
    if (job->status.is_ok()) {
      try {
        job->deferred.Resolve(job->result ? job->result(env) : env.Undefined());
      } catch (const Napi::Error& e) {
        job->deferred.Reject(e.Value());
      }
    } else {
      job->deferred.Reject(to_js_error(env, job->status).Value());
    }
  }
  delete job;
  if (--s.pending == 0) s.completions.Unref(env);
}

}  // namespace

void init_completions(Napi::Env env) {
  AddonState& s = state(env);
  s.completions = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                                "ragwire-completions", 0, 1);
  s.completions.Unref(env);
}

Napi::Promise run_async(Napi::Env env, Job* job) {
  AddonState& s = state(env);
  Napi::Promise promise = job->deferred.Promise();
  if (s.pending++ == 0) s.completions.Ref(env);
  Napi::ThreadSafeFunction tsfn = s.completions;
  ThreadPool::shared().submit([job, tsfn]() mutable {
    try {
      job->status = job->work();
    } catch (const std::bad_alloc&) {
      job->status = Status(Code::kLimit, "out of memory");
    } catch (const std::exception& e) {
      job->status = Status(Code::kInternal, e.what());
    }
    tsfn.BlockingCall(job, settle);
  });
  return promise;
}

}  // namespace ragwire::binding
