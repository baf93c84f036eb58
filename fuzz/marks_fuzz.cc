// libFuzzer target: the marks protocol (the bytes a command writes to
// $GREENRUN_MARK), split into lines and labels in pieces of any size.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "process/marks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  greenrun::MarkLines lines;
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  // The first byte picks the size of the pieces the FIFO would hand over.
  const size_t piece = size ? 1 + data[0] % 97 : 1;
  size_t labels = 0;
  for (size_t at = 0; at < all.size(); at += piece)
    lines.feed(all.substr(at, piece), [&](std::string label) {
      if (label.empty() || label.size() > greenrun::kMaxMarkLabel) __builtin_trap();
      ++labels;
    });
  (void)labels;
  return 0;
}
