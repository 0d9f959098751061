// NativeIndex: the JS object over a core Index. Argument checks here are the
// cheap second line of defence; the TS layer validates first with fuller messages.
#pragma once
#include <napi.h>

#include <memory>

#include "ragwire/index.hpp"

namespace ragwire::binding {

class IndexWrap : public Napi::ObjectWrap<IndexWrap> {
 public:
  static Napi::Function define(Napi::Env env);
  static Napi::Value load(const Napi::CallbackInfo& info);
  explicit IndexWrap(const Napi::CallbackInfo& info);
  // The open index (throws RAGWIRE_ERR_CLOSED once closed): shared with jobs and the data plane.
  std::shared_ptr<Index> live(Napi::Env env) const;

 private:
  Napi::Value add(const Napi::CallbackInfo& info);
  Napi::Value search(const Napi::CallbackInfo& info);
  Napi::Value search_sync(const Napi::CallbackInfo& info);
  Napi::Value remove(const Napi::CallbackInfo& info);
  Napi::Value compact(const Napi::CallbackInfo& info);
  Napi::Value save(const Napi::CallbackInfo& info);
  Napi::Value stats(const Napi::CallbackInfo& info);
  Napi::Value close(const Napi::CallbackInfo& info);

  // Shared with running jobs, so close() during a search is safe.
  std::shared_ptr<Index> index_;
};

}  // namespace ragwire::binding
