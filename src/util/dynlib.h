#pragma once
// A shared library opened at run time (NVML, ROCm SMI): greenrun has no
// build-time dependency on vendor libraries, and their absence is normal.

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace greenrun {

/// A library a user names (--nvml-lib) is refused before the command starts
/// when someone other than the user or root owns it or may write it: its
/// constructor would run with greenrun's privileges. `what` names the option.
Status check_trusted_file(const std::string& path, std::string_view what);

class DynLib {
 public:
  DynLib() = default;
  DynLib(const DynLib&) = delete;
  DynLib& operator=(const DynLib&) = delete;
  DynLib(DynLib&& other) noexcept : handle_(other.handle_), path_(std::move(other.path_)) { other.handle_ = nullptr; }
  ~DynLib();

  /// Tries each name in turn (a path, or a soname for the loader's search);
  /// false with error() set when none loads. A path is loaded only when the
  /// file belongs to the user or root and no one else may write it
  /// (check_trusted_file), through the descriptor that was checked.
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
  void* open_path(const std::string& path);

  void* handle_ = nullptr;
  std::string path_;
  std::string error_;
};

}  // namespace greenrun
