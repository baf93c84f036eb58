#pragma once
// A shared library opened at run time (NVML, ROCm SMI): greenrun has no
// build-time dependency on vendor libraries, and their absence is normal.

#include <string>
#include <vector>

namespace greenrun {

class DynLib {
 public:
  DynLib() = default;
  DynLib(const DynLib&) = delete;
  DynLib& operator=(const DynLib&) = delete;
  DynLib(DynLib&& other) noexcept : handle_(other.handle_), path_(std::move(other.path_)) { other.handle_ = nullptr; }
  ~DynLib();

  /// Tries each name in turn (a path, or a soname for the loader's search);
  /// false with error() set when none loads.
  bool open(const std::vector<std::string>& names);
  /// The first of `names` the library exports (versioned symbols first), or nullptr.
  void* symbol(std::initializer_list<const char*> names) const;
  template <class Fn>
  bool bind(Fn*& fn, std::initializer_list<const char*> names) const {
    fn = reinterpret_cast<Fn*>(symbol(names));
    return fn != nullptr;
  }
  const std::string& path() const { return path_; }
  const std::string& error() const { return error_; }

 private:
  void* handle_ = nullptr;
  std::string path_;
  std::string error_;
};

}  // namespace greenrun
