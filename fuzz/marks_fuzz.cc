// libFuzzer target: the marks protocol (the bytes a command writes to
// $GREENRUN_MARK), split into lines, labels and records in pieces of any size.
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
    lines.feed(all.substr(at, piece), [&](greenrun::MarkRecord r) {
      using Kind = greenrun::MarkRecord::Kind;
      if (r.kind == Kind::Mark && (r.text.empty() || r.text.size() > greenrun::kMaxMarkLabel)) __builtin_trap();
      if (r.kind == Kind::Count && (!(r.value >= 0) || !greenrun::valid_unit(r.text))) __builtin_trap();
      if (r.kind == Kind::Progress && !(r.value >= 0 && r.value <= 1)) __builtin_trap();
      ++labels;
    });
  (void)labels;
  return 0;
}
