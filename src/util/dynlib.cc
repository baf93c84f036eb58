#include "util/dynlib.h"

#include <dlfcn.h>

namespace greenrun {

DynLib::~DynLib() {
  if (handle_) ::dlclose(handle_);
}

bool DynLib::open(const std::vector<std::string>& names) {
  error_.clear();
  for (const auto& n : names) {
    handle_ = ::dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle_) {
      path_ = n;
      return true;
    }
    const char* e = ::dlerror();
    if (error_.empty() && e) error_ = e;
  }
  return false;
}

void* DynLib::symbol(std::initializer_list<const char*> names) const {
  if (!handle_) return nullptr;
  for (const char* n : names)
    if (void* p = ::dlsym(handle_, n)) return p;
  return nullptr;
}

}  // namespace greenrun
