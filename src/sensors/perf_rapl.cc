#include "sensors/perf_rapl.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/fs.h"

namespace greenrun {

namespace {

class SyscallPerfOps : public PerfOps {
 public:
  int open(uint32_t type, uint64_t config, int cpu) override {
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    // No exclude_* bits: the power PMU rejects them (EINVAL).
    long fd = ::syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : static_cast<int>(fd);
  }
  std::optional<uint64_t> read(int fd) override {
    uint64_t v = 0;
    if (::read(fd, &v, sizeof v) != static_cast<ssize_t>(sizeof v)) return std::nullopt;
    return v;
  }
  void close(int fd) override { ::close(fd); }
};

}  // namespace

std::shared_ptr<PerfOps> real_perf_ops() { return std::make_shared<SyscallPerfOps>(); }

std::vector<int> parse_cpulist(std::string_view text) {
  std::vector<int> out;
  std::string s(trim(text));
  size_t start = 0;
  while (start < s.size()) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto dash = item.find('-');
    if (!item.empty()) {
      int lo = std::atoi(item.c_str());
      int hi = dash == std::string::npos ? lo : std::atoi(item.c_str() + dash + 1);
      for (int c = lo; c <= hi && c - lo < 65536; ++c) out.push_back(c);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<uint64_t> parse_perf_event(std::string_view text) {
  std::string s(trim(text));
  auto pos = s.find("event=");
  if (pos == std::string::npos) return std::nullopt;
  const char* begin = s.c_str() + pos + 6;
  char* end = nullptr;
  unsigned long long v = std::strtoull(begin, &end, 0);
  if (end == begin) return std::nullopt;
  return v;
}

PerfCounter& PerfCounter::operator=(PerfCounter&& o) noexcept {
  if (this != &o) {
    if (fd >= 0 && ops) ops->close(fd);
    ops = std::move(o.ops);
    fd = o.fd;
    scale = o.scale;
    first = o.first;
    primed = o.primed;
    energy_j = o.energy_j;
    o.fd = -1;
  }
  return *this;
}

PerfCounter::~PerfCounter() {
  if (fd >= 0 && ops) ops->close(fd);
}

std::unique_ptr<PerfRaplSource> PerfRaplSource::open(const std::string& sysfs_root, std::shared_ptr<PerfOps> ops,
                                                     const std::string& self_exe, std::vector<Finding>& findings) {
  const std::string kSource = "RAPL perf_event";
  const std::string dir = sysfs_root + "/bus/event_source/devices/power";
  auto type = read_line(dir + "/type");
  if (!type || !parse_u64(*type)) {
    findings.push_back({kSource, "", dir, Disposition::Absent, "no perf power PMU (the kernel exposes no RAPL events)", ""});
    return nullptr;
  }
  auto cpus = parse_cpulist(read_line(dir + "/cpumask").value_or("0"));
  if (cpus.empty()) cpus.push_back(0);
  struct Event {
    const char* name;
    ComponentKind kind;
    const char* note;
  };
  const Event events[] = {{"energy-psys", ComponentKind::Platform, "whole platform (psys)"},
                          {"energy-pkg", ComponentKind::Cpu, "CPU package"},
                          {"energy-ram", ComponentKind::Dram, "memory (DRAM), counted beside package"}};
  auto src = std::unique_ptr<PerfRaplSource>(new PerfRaplSource());
  for (const auto& e : events) {
    std::string path = dir + "/events/" + e.name;
    auto config = parse_perf_event(read_line(path).value_or(""));
    if (!config) continue;
    double scale = parse_double(read_line(path + ".scale").value_or("")).value_or(0);
    if (scale <= 0) scale = 2.3283064365386962890625e-10;  // 2^-32 J, the RAPL default
    for (size_t i = 0; i < cpus.size(); ++i) {
      int fd = ops->open(static_cast<uint32_t>(*parse_u64(*type)), *config, cpus[i]);
      std::string what = std::string(e.name) + " (CPU " + std::to_string(cpus[i]) + ")";
      if (fd < 0) {
        Finding f{kSource, what, path, Disposition::Unreadable, "perf_event_open failed: " + errno_text(-fd), ""};
        if (fd == -EACCES || fd == -EPERM) {
          f.reason = "system-wide perf events need CAP_PERFMON or kernel.perf_event_paranoid < 1";
          f.fix = "sudo setcap cap_perfmon+ep " + self_exe;
        }
        findings.push_back(std::move(f));
        continue;
      }
      Channel ch;
      ch.component.kind = e.kind;
      ch.label = std::string(e.name) + " package " + std::to_string(i);
      ch.source = kSource;
      ch.origin = path + ", CPU " + std::to_string(cpus[i]);
      ch.note = e.note;
      ch.counter = true;
      ch.update_s = kRaplUpdateS;
      PerfCounter c;
      c.ops = ops;
      c.fd = fd;
      c.scale = scale;
      src->add(std::move(ch), std::move(c));
    }
  }
  if (src->channels_.empty()) return nullptr;
  return src;
}

void PerfRaplSource::read(const SampleContext&, std::vector<ChannelReading>& out) {
  out.assign(state_.size(), {});
  for (size_t i = 0; i < state_.size(); ++i) {
    PerfCounter& c = state_[i];
    auto v = c.ops->read(c.fd);
    if (!v) continue;
    if (!c.primed) {
      c.first = *v;
      c.primed = true;
    }
    c.energy_j = static_cast<double>(*v - c.first) * c.scale;
    out[i] = {c.energy_j, true, std::nullopt};
  }
}

}  // namespace greenrun
