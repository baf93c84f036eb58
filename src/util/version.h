#pragma once
namespace greenrun {
inline constexpr const char* kVersion = "0.1.0";
/// JSON report layout; bump on incompatible changes.
inline constexpr int kSchemaVersion = 2;
}  // namespace greenrun
