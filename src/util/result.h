#pragma once
// An expected-style return for library functions: a value or a one-line,
// user-facing error. Exceptions are reserved for the top of the program.

#include <optional>
#include <string>
#include <utility>

namespace greenrun {

template <class T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  static Result fail(std::string error) {
    Result r;
    r.error_ = std::move(error);
    return r;
  }
  explicit operator bool() const { return value_.has_value(); }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  const std::string& error() const { return error_; }

 private:
  Result() = default;
  std::optional<T> value_;
  std::string error_;
};

/// A Result without a value: empty error means success.
class Status {
 public:
  Status() = default;
  static Status fail(std::string error) {
    Status s;
    s.error_ = std::move(error);
    if (s.error_.empty()) s.error_ = "unknown error";
    return s;
  }
  explicit operator bool() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  std::string error_;
};

}  // namespace greenrun
