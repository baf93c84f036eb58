#pragma once
// --functional-unit's value: what the SCI score is per.

#include <string>

namespace greenrun {

/// --functional-unit N[:name]: 1000 images, 1 request.
struct FunctionalUnit {
  double count = 1;
  std::string name = "unit";
};

}  // namespace greenrun
