#include "addon_state.hpp"

namespace ragwire::binding {

Napi::Error to_js_error(Napi::Env env, const Status& st) {
  AddonState& s = state(env);
  auto it = s.error_classes.find(code_name(st.code()));
  if (it != s.error_classes.end()) {
    Napi::Object err = it->second.New({Napi::String::New(env, st.message())});
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, st.message());
  err.Set("code", Napi::String::New(env, code_name(st.code())));
  return err;
}

void throw_status(Napi::Env env, Code code, const std::string& message) {
  throw to_js_error(env, Status(code, message));
}

}  // namespace ragwire::binding
