#include "sensors/rapl_powercap.h"

#include <algorithm>
#include <cerrno>
#include <map>

namespace greenrun {

namespace {

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

std::string domain_of(const std::string& name) {
  if (starts_with(name, "package")) return "package";
  if (starts_with(name, "psys")) return "psys";
  return name;  // core, uncore, dram, or something new that greenrun does not use
}

// Zone ids sort as their hex numbers do: intel-rapl:2 before intel-rapl:10.
std::vector<unsigned long> id_numbers(const std::string& id) {
  std::vector<unsigned long> out;
  size_t pos = id.find(':');
  while (pos != std::string::npos) {
    size_t next = id.find(':', pos + 1);
    out.push_back(std::strtoul(id.substr(pos + 1, next - pos - 1).c_str(), nullptr, 16));
    pos = next;
  }
  return out;
}

}  // namespace

std::optional<uint64_t> counter_delta(uint64_t prev, uint64_t cur, uint64_t max_range) {
  if (cur >= prev) return cur - prev;
  if (max_range == 0 || prev > max_range) return std::nullopt;
  return cur + (max_range - prev);
}

std::vector<PowercapZone> scan_powercap(const std::string& sysfs_root) {
  const std::string base = sysfs_root + "/class/powercap";
  std::vector<PowercapZone> zones;
  std::string buf;
  for (const auto& entry : list_dir(base)) {
    PowercapZone z;
    z.dir = base + "/" + entry;
    z.id = entry;
    auto colon = entry.find(':');
    if (colon == std::string::npos) continue;  // a control type directory, not a zone
    z.control_type = entry.substr(0, colon);
    if (!path_exists(z.dir + "/energy_uj")) continue;
    auto name = read_line(z.dir + "/name");
    if (!name || name->empty()) continue;
    z.name = std::string(trim(*name));
    z.domain = domain_of(z.name);
    if (z.domain == "package" || z.domain == "psys") {
      z.package = z.name;
    } else {
      auto parent = entry.substr(0, entry.rfind(':'));
      auto parent_name = parent.find(':') != std::string::npos ? read_line(base + "/" + parent + "/name") : std::nullopt;
      z.package = parent_name ? std::string(trim(*parent_name)) : parent;
    }
    if (auto range = read_line(z.dir + "/max_energy_range_uj")) z.max_energy_range_uj = parse_u64(*range).value_or(0);
    z.read_errno = read_file(z.dir + "/energy_uj", buf);
    if (z.read_errno == 0 && !parse_u64(buf)) z.read_errno = EIO;
    zones.push_back(std::move(z));
  }
  // intel-rapl (MSR-backed) first, then other control types; then by zone number.
  std::stable_sort(zones.begin(), zones.end(), [](const PowercapZone& a, const PowercapZone& b) {
    bool a_msr = a.control_type == "intel-rapl", b_msr = b.control_type == "intel-rapl";
    if (a_msr != b_msr) return a_msr;
    if (a.control_type != b.control_type) return a.control_type < b.control_type;
    return id_numbers(a.id) < id_numbers(b.id);
  });
  std::map<std::pair<std::string, std::string>, bool> seen;
  for (auto& z : zones) {
    auto key = std::make_pair(z.domain, z.package);
    if (seen.count(key)) z.duplicate = true;
    else seen[key] = true;
  }
  return zones;
}

std::unique_ptr<RaplPowercapSource> RaplPowercapSource::open(const std::string& sysfs_root,
                                                             std::vector<Finding>& findings) {
  const std::string kSource = "RAPL powercap";
  auto zones = scan_powercap(sysfs_root);
  if (zones.empty()) {
    findings.push_back({kSource, "", sysfs_root + "/class/powercap", Disposition::Absent,
                        "no RAPL energy counters under " + sysfs_root +
                            "/class/powercap (a virtual machine, a container, or a CPU/kernel without RAPL)",
                        ""});
    return nullptr;
  }
  const std::string fix = "sudo chmod a+r " + sysfs_root + "/class/powercap/*/energy_uj";
  auto source = std::unique_ptr<RaplPowercapSource>(new RaplPowercapSource());
  for (const auto& z : zones) {
    Finding f{kSource, z.name + " (" + z.id + ")", z.dir + "/energy_uj", Disposition::Covered, "", ""};
    if (z.duplicate) {
      f.reason = "duplicate of the same domain in a preferred control type; not counted twice";
    } else if (z.read_errno != 0) {
      f.disposition = Disposition::Unreadable;
      f.reason = z.read_errno == EACCES || z.read_errno == EPERM
                     ? "energy_uj is readable by root only (Linux >= 5.10, CVE-2020-8694)"
                     : "cannot read energy_uj: " + errno_text(z.read_errno);
      if (z.read_errno == EACCES || z.read_errno == EPERM) f.fix = fix;
    } else if (z.domain == "core" || z.domain == "uncore") {
      f.reason = "inside its package's energy; not added";
    } else if (z.domain != "package" && z.domain != "dram" && z.domain != "psys") {
      f.disposition = Disposition::Unsupported;
      f.reason = "unknown RAPL domain; not used";
    } else {
      PowercapCounter c;
      if (int err = c.file.open(z.dir + "/energy_uj"); err != 0) {
        f.disposition = Disposition::Unreadable;
        f.reason = "cannot open energy_uj: " + errno_text(err);
        findings.push_back(std::move(f));
        continue;
      }
      c.max_range_uj = z.max_energy_range_uj;
      Channel ch;
      ch.component.kind = z.domain == "package" ? ComponentKind::Cpu
                          : z.domain == "dram"  ? ComponentKind::Dram
                                                : ComponentKind::Platform;
      ch.label = z.name;
      ch.source = kSource;
      ch.origin = z.dir;
      ch.counter = true;
      ch.update_s = kRaplUpdateS;
      ch.note = z.domain == "dram" ? "memory (DRAM), counted beside package"
                : z.domain == "psys" ? "whole platform (psys)"
                                     : "CPU package";
      if (c.max_range_uj == 0) ch.note += "; max_energy_range_uj unreadable, a wrap cannot be corrected";
      source->add(std::move(ch), std::move(c));
      continue;
    }
    findings.push_back(std::move(f));
  }
  if (source->channels_.empty()) return nullptr;
  return source;
}

std::vector<std::string> RaplPowercapSource::notes() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < state_.size(); ++i) state_[i].check.note("RAPL " + channels_[i].label, out);
  return out;
}

void RaplPowercapSource::read(const SampleContext& ctx, std::vector<ChannelReading>& out) {
  out.resize(state_.size());
  for (size_t i = 0; i < state_.size(); ++i) {
    PowercapCounter& c = state_[i];
    out[i].ok = false;
    if (c.file.read(buf_) != 0) continue;
    auto raw = parse_u64(buf_);
    if (!raw) continue;
    if (c.primed) {
      auto delta = counter_delta(c.last_raw, *raw, c.max_range_uj);
      const double dt = std::chrono::duration<double>(ctx.now - c.last_t).count();
      c.last_raw = *raw;
      c.last_t = ctx.now;
      if (!delta) continue;  // uncorrectable decrease: lose this interval, keep going
      if (!c.check.plausible(static_cast<double>(*delta) / 1e6, dt)) {
        c.check.reject(static_cast<double>(*delta) / 1e6, dt, std::chrono::duration<double>(ctx.now - c.first_t).count());
        continue;
      }
      c.total_uj += *delta;
    } else {
      c.first_t = ctx.now;
    }
    c.last_raw = *raw;
    c.last_t = ctx.now;
    c.primed = true;
    out[i].energy_j = static_cast<double>(c.total_uj) / 1e6;
    out[i].ok = true;
  }
}

}  // namespace greenrun
