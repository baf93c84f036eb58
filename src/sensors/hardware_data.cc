#include "sensors/hardware_data.h"

#include <algorithm>
#include <cctype>

#include "util/csv.h"
#include "util/fs.h"

namespace greenrun {

namespace {

std::vector<std::string> tokens(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

bool has_digit(const std::string& t) {
  return std::any_of(t.begin(), t.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

bool is_word(std::string_view text, size_t pos, size_t len) {
  bool left = pos == 0 || text[pos - 1] == ' ' || text[pos - 1] == '\n';
  bool right = pos + len >= text.size() || text[pos + len] == ' ' || text[pos + len] == ',';
  return left && right;
}

const char* kVendors[] = {"intel", "amd", "ampere", "apple", "qualcomm", "hygon"};

std::string vendor_of(const std::vector<std::string>& toks) {
  for (const auto& t : toks)
    for (const char* v : kVendors)
      if (t == v) return v;
  return "";
}

}  // namespace

std::string normalise_cpu_name(std::string_view name) {
  std::string s;
  for (char c : name) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (auto at = s.find('@'); at != std::string::npos) s.resize(at);
  for (const char* marker : {" with radeon", " w/ radeon"})
    if (auto p = s.find(marker); p != std::string::npos) s.resize(p);
  for (const char* noise : {"(r)", "(tm)", "(c)"}) {
    for (auto p = s.find(noise); p != std::string::npos; p = s.find(noise)) s.replace(p, std::string(noise).size(), " ");
  }
  // Parentheses hold hints ("(Skylake, IBRS)"), not the model: drop them here.
  std::string out;
  int depth = 0;
  for (char c : s) {
    if (c == '(') ++depth;
    else if (c == ')') depth = std::max(0, depth - 1);
    else if (depth == 0) out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' ? c : ' ');
  }
  std::string result;
  for (const auto& t : tokens(out)) {
    if (t == "cpu" || t == "processor" || t == "0") continue;  // "E5-2670 0 @ 2.60GHz"
    bool core_count = (t.size() > 5 && t.compare(t.size() - 5, 5, "-core") == 0) ||
                      (t.size() > 6 && t.compare(t.size() - 6, 6, "-cores") == 0);
    bool generation = t.size() >= 3 && std::isdigit(static_cast<unsigned char>(t[0])) &&
                      (t.find("th") != std::string::npos || t.find("nd") != std::string::npos ||
                       t.find("rd") != std::string::npos || t.find("st") != std::string::npos) &&
                      t.size() <= 4;
    if (core_count) continue;
    if (generation && result.empty()) continue;  // "13th gen intel core ..."
    if (t == "gen" && result.empty()) continue;
    result += (result.empty() ? "" : " ") + t;
  }
  return result;
}

bool match_model_pattern(std::string_view pattern, std::string_view token) {
  if (!pattern.empty() && pattern[0] == '*') {  // "*v4": ends with
    auto rest = pattern.substr(1);
    return token.size() >= rest.size() && token.substr(token.size() - rest.size()) == rest;
  }
  size_t i = 0;
  for (; i < pattern.size(); ++i) {
    char p = pattern[i];
    if (p == '*') return true;
    if (i >= token.size()) return false;
    char t = token[i];
    if (p == '#' ? !std::isdigit(static_cast<unsigned char>(t))
                 : p == '?' ? !std::isalnum(static_cast<unsigned char>(t)) : p != t)
      return false;
  }
  return i == token.size();
}

Result<HardwareData> HardwareData::load(const std::string& share_dir) {
  using R = Result<HardwareData>;
  HardwareData d;
  const std::string dir = share_dir + "/hardware/";
  d.cpu_path_ = dir + "cpu_tdp.csv";
  if (!path_exists(d.cpu_path_)) return R::fail("cannot read " + d.cpu_path_ + "; set GREENRUN_DATA_DIR");
  std::string text;
  {
    DataRows r(dir + "cpu_microarchitectures.csv", {"kind", "pattern", "microarchitecture", "ccf_processor", "source"}, text);
    d.rules_.reserve(40);
    while (r.next()) d.rules_.push_back({r.str(0), r.str(1), {r.str(2), r.str(3), r.str(4)}});
    if (auto st = r.status(); !st) return R::fail(st.error());
  }
  {
    DataRows r(dir + "cloud_power_coefficients.csv", {"provider", "microarchitecture", "min_w", "max_w", "source"}, text);
    d.coefficients_.reserve(64);
    while (r.next()) {
      auto lo = r.number(2, "min_w"), hi = r.number(3, "max_w");
      if (r.failed()) break;
      if (!lo || !hi || *lo < 0 || *hi < *lo) {
        r.fail("bad watts");
        break;
      }
      d.coefficients_.push_back({r.str(0), r.str(1), *lo, *hi, r.str(4)});
    }
    if (auto st = r.status(); !st) return R::fail(st.error());
  }
  {
    DataRows r(dir + "gpu_tdp.csv", {"model", "tdp_w", "source"}, text);
    d.gpus_.reserve(48);
    while (r.next()) {
      auto w = r.number(1, "tdp_w");
      if (r.failed()) break;
      if (!w || *w <= 0) {
        r.fail("bad TDP");
        break;
      }
      d.gpus_.push_back({r.str(0), *w, r.str(2)});
    }
    if (auto st = r.status(); !st) return R::fail(st.error());
  }
  {
    DataRows r(dir + "embodied_defaults.csv", {"part", "kg_co2e", "lifetime_h", "threads", "source"}, text);
    while (r.next()) {
      auto kg = r.number(1, "kg_co2e"), life = r.number(2, "lifetime_h"), threads = r.number(3, "threads");
      if (r.failed()) break;
      if (!kg || !life || *kg <= 0 || *life <= 0) {
        r.fail("bad kgCO2e or lifetime");
        break;
      }
      d.embodied_.push_back({r.str(0), *kg, *life, static_cast<int>(threads.value_or(0)), r.str(4)});
    }
    if (auto st = r.status(); !st) return R::fail(st.error());
  }
  d.instances_path_ = dir + "cloud_instances.csv";
  return d;
}

namespace {

// Instance names differ by a size or a generation: those sharing the most
// leading characters with what was asked are the likeliest meant.
std::string closest_types(const std::vector<std::string>& types, const std::string& want) {
  auto common = [&](const std::string& t) {
    size_t n = 0;
    while (n < t.size() && n < want.size() && t[n] == want[n]) ++n;
    return n;
  };
  std::vector<std::string> sorted = types;
  std::stable_sort(sorted.begin(), sorted.end(), [&](auto& a, auto& b) { return common(a) > common(b); });
  std::string out;
  for (size_t i = 0; i < sorted.size() && i < 4 && common(sorted[i]) > 0; ++i) out += (i ? ", " : "") + sorted[i];
  return out;
}

}  // namespace

Result<CloudInstance> HardwareData::instance(const std::string& provider, const std::string& type) const {
  using R = Result<CloudInstance>;
  std::string text;
  std::vector<std::string> types;
  DataRows r(instances_path_,
             {"provider", "type", "vcpus", "platform_vcpus", "memory_gb", "gpus", "embodied_kg", "pkg_w_idle", "pkg_w_10",
              "pkg_w_50", "pkg_w_100", "ram_w_idle", "ram_w_10", "ram_w_50", "ram_w_100", "source"}, text);
  while (r.next()) {
    if (r[0] != provider) continue;
    if (r[1] != type) {
      types.push_back(r.str(1));
      continue;
    }
    CloudInstance c{provider, type, 0, 0, 0, 0, 0, {}, {}, r.str(15)};
    auto vcpus = r.number(2, "vcpus"), platform = r.number(3, "platform_vcpus");
    auto memory = r.number(4, "memory_gb"), gpus = r.number(5, "gpus"), kg = r.number(6, "embodied_kg");
    std::vector<std::optional<double>> watts;
    for (size_t i = 7; i < 15; ++i) watts.push_back(r.number(i, "watts"));
    if (r.failed()) break;
    if (!vcpus || !platform || !kg || *vcpus < 1 || *platform < *vcpus || *kg <= 0) return R::fail(r.str(1) + ": bad row in " + instances_path_);
    c.vcpus = static_cast<int>(*vcpus);
    c.platform_vcpus = static_cast<int>(*platform);
    c.memory_gb = memory.value_or(0);
    c.gpus = static_cast<int>(gpus.value_or(0));
    c.embodied_kg = *kg;
    if (std::all_of(watts.begin(), watts.end(), [](auto& w) { return w && *w >= 0; }))
      for (size_t i = 0; i < 8; ++i) (i < 4 ? c.pkg_w : c.ram_w).push_back(*watts[i]);
    return c;
  }
  if (auto st = r.status(); !st) return R::fail(st.error());
  if (types.empty()) return R::fail("no instance types of " + provider + " in " + instances_path_ + " (aws, azure and gcp have them)");
  const std::string near = closest_types(types, type);
  return R::fail("unknown " + provider + " instance type '" + type + "'" + (near.empty() ? "" : "; did you mean " + near + "?"));
}

std::optional<CpuTdp> HardwareData::match_cpu(const std::string& model) const {
  const std::string n = normalise_cpu_name(model);
  // A name without a model number ("AMD EPYC", "Intel Xeon") names a family,
  // not a CPU: no row can be right, and the 300 KB table is not even read.
  auto want = tokens(n);
  if (std::none_of(want.begin(), want.end(), has_digit)) return std::nullopt;
  if (cpu_text_.empty() && read_file(cpu_path_, cpu_text_) != 0) return std::nullopt;
  auto parse_line = [&](size_t start) -> std::optional<CpuTdp> {
    size_t end = cpu_text_.find('\n', start);
    auto t = parse_csv("name,tdp_w,cores,threads,source\n" + cpu_text_.substr(start, end - start) + "\n", "cpu_tdp.csv");
    if (!t || t->rows.empty()) return std::nullopt;
    const auto& r = t->rows[0];
    CpuTdp c{r[0], parse_double(r[1]).value_or(0), whole_in_range(parse_double(r[2]), 0, 1 << 20).value_or(0),
             whole_in_range(parse_double(r[3]), 0, 1 << 20).value_or(0), r[4]};
    if (c.tdp_w <= 0) return std::nullopt;
    return c;
  };
  // 1. The exact normalised name.
  if (auto pos = cpu_text_.find("\n" + n + ","); pos != std::string::npos) return parse_line(pos + 1);
  // 2. Rows that contain every model-number token of the name (8370c, e5-2686, v4,
  //    i9-13900k) and no other vendor: the one with the fewest extra words.
  std::vector<std::string> keys;
  for (const auto& t : want)
    if (has_digit(t)) keys.push_back(t);
  if (keys.empty()) return std::nullopt;  // "intel xeon", "amd epyc": a family, not a model
  const std::string vendor = vendor_of(want);
  std::optional<CpuTdp> best;
  size_t best_extra = SIZE_MAX;
  for (size_t pos = cpu_text_.find(keys[0]); pos != std::string::npos; pos = cpu_text_.find(keys[0], pos + 1)) {
    if (!is_word(cpu_text_, pos, keys[0].size())) continue;
    size_t line_start = cpu_text_.rfind('\n', pos) + 1;
    size_t comma = cpu_text_.find(',', line_start);
    if (comma < pos) continue;  // the token is in the source column, not the name
    std::string name = cpu_text_.substr(line_start, comma - line_start);
    auto have = tokens(name);
    bool all = std::all_of(keys.begin(), keys.end(),
                           [&](const std::string& k) { return std::find(have.begin(), have.end(), k) != have.end(); });
    std::string row_vendor = vendor_of(have);
    if (!all || (!vendor.empty() && !row_vendor.empty() && row_vendor != vendor)) continue;
    size_t extra = 0;
    for (const auto& h : have)
      if (has_digit(h) && std::find(want.begin(), want.end(), h) == want.end()) extra += 10;  // another model
      else if (std::find(want.begin(), want.end(), h) == want.end()) ++extra;
    auto row = parse_line(line_start);
    if (!row) continue;
    if (extra < best_extra || (extra == best_extra && best && best->cores == 0 && row->cores > 0)) {
      best = row;
      best_extra = extra;
    }
  }
  if (best && best_extra >= 10) return std::nullopt;
  return best;
}

std::optional<Microarch> HardwareData::microarchitecture(const CpuDescription& cpu) const {
  if (!cpu.arm_part.empty() && (cpu.arm_implementer.empty() || cpu.arm_implementer == "0x41"))
    for (const auto& r : rules_)
      if (r.kind == "arm_part" && r.pattern == cpu.arm_part) return r.arch;
  std::string lower;
  for (char c : cpu.model) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  // Virtual CPU names carry the host family in parentheses: "Intel Xeon Processor (Skylake, IBRS)".
  std::string squashed;
  for (char c : lower)
    if (c != ' ' && c != '_') squashed.push_back(c);
  for (const auto& r : rules_)
    if (r.kind == "hint" && (squashed.find("(" + r.pattern) != std::string::npos ||
                             squashed.find(r.pattern + "processor") != std::string::npos))
      return r.arch;
  const std::string n = normalise_cpu_name(cpu.model);
  auto toks = tokens(n);
  auto has = [&](const char* w) { return std::find(toks.begin(), toks.end(), w) != toks.end(); };
  std::string kind;
  if (has("epyc")) kind = "epyc";
  else if (has("xeon")) {
    for (const auto& t : toks) {
      if (t.rfind("e5-", 0) == 0 || t.rfind("e7-", 0) == 0) kind = "xeon_e5";
      else if (t.rfind("e-", 0) == 0) kind = "xeon_e";
    }
    if (kind.empty()) kind = "xeon_scalable";
  }
  if (kind.empty()) return std::nullopt;
  for (size_t i = 0; i < toks.size(); ++i) {
    std::string t = toks[i];
    const bool digit0 = !t.empty() && std::isdigit(static_cast<unsigned char>(t[0]));
    if (kind == "xeon_e5") {
      if (t.rfind("e5-", 0) != 0 && t.rfind("e7-", 0) != 0) continue;
      if (i + 1 < toks.size() && toks[i + 1].size() == 2 && toks[i + 1][0] == 'v') t += toks[i + 1];
    } else if (kind == "xeon_e") {
      if (t.rfind("e-", 0) != 0) continue;
      t = t.substr(2);
    } else if (kind == "xeon_scalable") {
      if (t.size() < 4 || !digit0) continue;
    } else if (t.size() != 4 || !digit0) {  // epyc
      continue;
    }
    for (const auto& r : rules_)
      if (r.kind == kind && match_model_pattern(r.pattern, t)) return r.arch;
  }
  return std::nullopt;
}

const CloudCoefficient* HardwareData::coefficient(const std::string& provider, const std::string& ccf) const {
  for (const auto& c : coefficients_)
    if ((provider.empty() || c.provider == provider) && c.microarch == ccf) return &c;
  return nullptr;
}

const GpuTdp* HardwareData::match_gpu(const std::string& name) const {
  // NVML names: "NVIDIA H100 80GB HBM3", "Tesla T4", "NVIDIA A100-SXM4-80GB".
  std::string n = normalise_cpu_name(name);
  for (auto& c : n)
    if (c == '-') c = ' ';
  if (n.rfind("tesla ", 0) == 0) n = "nvidia " + n;
  const GpuTdp* best = nullptr;
  size_t best_len = 0;
  for (const auto& g : gpus_) {
    std::string m = normalise_cpu_name(g.model);
    for (auto& c : m)
      if (c == '-') c = ' ';
    // Every word of the table's name must begin a word of the device's:
    // "nvidia a100 sxm" matches "NVIDIA A100-SXM4-80GB".
    auto want = tokens(m), have = tokens(n);
    // Model numbers must be equal (a10 is not a100); variant words may be
    // prefixes (sxm of sxm4).
    bool all = std::all_of(want.begin(), want.end(), [&](const std::string& w) {
      return std::any_of(have.begin(), have.end(),
                         [&](const std::string& h) { return has_digit(w) ? h == w : h.rfind(w, 0) == 0; });
    });
    if (all && m.size() > best_len) {
      best = &g;
      best_len = m.size();
    }
  }
  if (best) return best;
  // No variant named ("NVIDIA H100 80GB HBM3"): the same model's largest TDP.
  auto have = tokens(n);
  if (have.size() < 2) return nullptr;
  for (const auto& g : gpus_) {
    std::string m = normalise_cpu_name(g.model);
    for (auto& c : m)
      if (c == '-') c = ' ';
    auto want = tokens(m);
    if (want.size() >= 2 && want[0] == have[0] && want[1] == have[1] && (!best || g.tdp_w > best->tdp_w)) best = &g;
  }
  return best;
}

}  // namespace greenrun
