// A system library opened at first use (dlopen), so that the engine loads on a machine without
// it and only the feature that needs it is unavailable, saying which library to install.
#pragma once
#include <string>
#include <vector>

namespace ragwire {

class SharedLibrary {
 public:
  // Opens the first of `names` (sonames or paths) that loads; `install_hint` ends the error.
  SharedLibrary(const std::vector<std::string>& names, const std::string& install_hint);
  // The names to try: the path in environment variable `env` when it is set, else `defaults`.
  static std::vector<std::string> names_from(const char* env, std::vector<std::string> defaults);
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;

  bool loaded() const { return handle_ != nullptr; }
  // Why it did not load, and what to install; empty when loaded.
  const std::string& error() const { return error_; }
  // The symbol's address, or nullptr (not loaded, or absent from this version of the library).
  void* symbol(const char* name) const;

 private:
  void* handle_ = nullptr;
  std::string error_;
};

}  // namespace ragwire
