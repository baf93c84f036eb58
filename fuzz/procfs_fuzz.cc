// libFuzzer target: every /proc and /sys parser greenrun has.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "process/procfs.h"
#include "process/tree_reader.h"
#include "sensors/perf_rapl.h"
#include "util/fs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)greenrun::parse_pid_stat(text);
  (void)greenrun::parse_proc_stat_cpu(text);
  (void)greenrun::parse_pid_io(text);
  (void)greenrun::parse_meminfo_used(text);
  (void)greenrun::parse_nspid(text);
  (void)greenrun::parse_cpulist(text);
  (void)greenrun::parse_perf_event(text);
  (void)greenrun::parse_u64(text);
  (void)greenrun::parse_double(text);
  return 0;
}
