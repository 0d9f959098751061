#include "ragwire/shared_library.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <vector>

namespace ragwire {

std::vector<std::string> SharedLibrary::names_from(const char* env, std::vector<std::string> defaults) {
  const char* path = std::getenv(env);
  if (path && *path) return {path};
  return defaults;
}

SharedLibrary::SharedLibrary(const std::vector<std::string>& names, const std::string& install_hint) {
  std::string reasons;
  for (const std::string& name : names) {
    dlerror();
    handle_ = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_) return;
    const char* why = dlerror();
    reasons += (reasons.empty() ? "" : "; ") + std::string(why ? why : name + ": cannot open");
  }
  error_ = reasons + " (" + install_hint + ")";
}

void* SharedLibrary::symbol(const char* name) const { return handle_ ? dlsym(handle_, name) : nullptr; }

}  // namespace ragwire
