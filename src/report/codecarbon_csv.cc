#include "report/codecarbon_csv.h"

#include <cstdio>
#include <ctime>

#include "util/csv.h"
#include "util/fs.h"
#include "util/units.h"

namespace greenrun {

const std::vector<std::string>& codecarbon_columns() {
  static const std::vector<std::string> columns = {
      "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate",
      "cpu_power", "gpu_power", "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed",
      "water_consumed", "country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "os",
      "python_version", "codecarbon_version", "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude",
      "latitude", "ram_total_size", "tracking_mode", "cpu_utilization_percent", "gpu_utilization_percent",
      "ram_utilization_percent", "ram_used_gb", "on_cloud", "pue", "wue"};
  return columns;
}

std::string codecarbon_header() {
  std::string h;
  for (const auto& c : codecarbon_columns()) h += (h.empty() ? "" : ",") + c;
  return h;
}

namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string opt_num(const std::optional<double>& v) { return v ? num(*v) : ""; }

// CodeCarbon's timestamp: local time to the second, without an offset, so
// that a file mixing both tools parses as one datetime column.
std::string naive_local(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::localtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// The components' energies in CodeCarbon's three columns, the GPUs, and which were estimated.
struct ComponentTotals {
  double cpu_j = 0, gpu_j = 0, ram_j = 0;
  std::string gpu_model;
  int gpus = 0;
  std::optional<double> gpu_util;
  std::vector<std::string> estimated;
};

ComponentTotals component_totals(const RunReport& r) {
  ComponentTotals t;
  double util_sum = 0;
  int util_gpus = 0;
  for (const auto& c : r.components) {
    if (c.name.rfind("gpu", 0) == 0) {
      t.gpu_j += c.energy_j;
      ++t.gpus;
      if (c.utilisation_percent) util_sum += *c.utilisation_percent, ++util_gpus;
      for (const auto& d : c.detail)
        if (t.gpu_model.find(d.value("label", "")) == std::string::npos)
          t.gpu_model += (t.gpu_model.empty() ? "" : ", ") + d.value("label", "");
    } else if (c.name == "dram" || c.name == "ram") {
      t.ram_j += c.energy_j;
    } else {
      t.cpu_j += c.energy_j;  // cpu, and platform (psys) which greenrun reports instead of cpu
    }
    if (!c.measured) t.estimated.push_back(c.name);
  }
  if (util_gpus > 0) t.gpu_util = util_sum / util_gpus;
  return t;
}

std::string cpu_model_text(const Hardware& host, const std::vector<std::string>& estimated) {
  std::string cpu_model = host.cpu.model;
  // CodeCarbon's layout has no column for it: an estimated figure says so in the model column.
  if (!estimated.empty()) {
    std::string list;
    for (const auto& e : estimated) list += (list.empty() ? "" : "+") + e;
    cpu_model += " [greenrun: " + list + " estimated]";
  }
  return cpu_model;
}

// Where the run's grid is, in CodeCarbon's columns, and the PUE applied.
struct Place {
  std::string country_name, iso3, region, provider, cloud_region;
  double pue = 1.0;
};

Place place_of(const RunReport& r, const CarbonData* data) {
  Place p;
  if (r.carbon) {
    const Location& l = r.carbon->settings.location;
    p.pue = r.carbon->settings.pue;
    p.region = l.zone.empty() ? l.id : l.zone;
    p.provider = l.cloud_provider;
    p.cloud_region = l.cloud_region;
    if (data)
      if (const Country* c = data->country_by_code(l.country_iso2)) {
        p.country_name = c->name;
        p.iso3 = c->iso3;
      }
    if (p.country_name.empty()) p.country_name = l.name;
    if (p.iso3.empty() && r.carbon->settings.live && r.carbon->settings.live->provider == "uk") p.iso3 = "GBR";
  }
  // Never empty (carbonboard calls .upper() on it): the World Bank's code for
  // the world aggregate where the grid is the world average or no country's.
  if (p.iso3.empty()) p.iso3 = "WLD";
  return p;
}

}  // namespace

std::string codecarbon_row(const RunReport& r, const Hardware& host, const CarbonData* data, const CsvRunInfo& info) {
  const ComponentTotals t = component_totals(r);
  const double cpu_j = t.cpu_j, gpu_j = t.gpu_j, ram_j = t.ram_j;
  const double d = r.duration_s > 0 ? r.duration_s : 1e-9;
  const double kg = r.carbon ? r.carbon->emissions_g / 1000.0 : 0.0;
  const Place p = place_of(r, data);
  // As CodeCarbon: energies at the facility's meter (x PUE), powers as drawn,
  // utilisation and memory machine-wide, memory in GiB.
  // CodeCarbon 3.3.0's rules: memory "used" as psutil 6.1.1 counts it, its
  // percent from MemAvailable.
  const double kwh = p.pue / 3.6e6;
  std::optional<double> ram_used_gib, ram_percent;
  if (r.machine_memory_psutil_used_bytes) ram_used_gib = *r.machine_memory_psutil_used_bytes / kGiB;
  if (r.machine_memory_used_bytes && host.mem_total_bytes > 0)
    ram_percent = 100.0 * *r.machine_memory_used_bytes / host.mem_total_bytes;
  // CodeCarbon's water_consumed: litres, WUE x the energy at the meter (x PUE,
  // as energy_consumed); empty where no WUE is known (0 would claim none was used).
  const WaterReport* w = r.water && r.water->liters ? &*r.water : nullptr;
  const double energy_kwh = (cpu_j + gpu_j + ram_j) * kwh;
  std::vector<std::string> f = {
      naive_local(r.ended_at), info.project, info.run_id, info.experiment_id, num(r.duration_s), num(kg),
      num(kg / d), num(cpu_j / d), num(gpu_j / d), num(ram_j / d), num(cpu_j * kwh), num(gpu_j * kwh),
      num(ram_j * kwh), num(energy_kwh), w ? num(*w->wue_l_per_kwh * energy_kwh) : "", p.country_name, p.iso3, p.region,
      p.provider, p.cloud_region, host.os, "", "", std::to_string(host.cpu.logical), cpu_model_text(host, t.estimated),
      std::to_string(t.gpus), t.gpu_model, "", "", num(host.mem_total_bytes / kGiB),
      r.scope == Scope::Process ? "process" : "machine", opt_num(r.machine_cpu_percent), opt_num(t.gpu_util),
      opt_num(ram_percent), opt_num(ram_used_gib), p.provider.empty() ? "N" : "Y", num(p.pue),
      w ? num(*w->wue_l_per_kwh) : ""};
  std::string row;
  for (size_t i = 0; i < f.size(); ++i) row += (i ? "," : "") + csv_field(f[i]);
  return row;
}

Status check_codecarbon_csv(const std::string& path) {
  // Whatever the file holds, the run can go on: a file with another header
  // (an older CodeCarbon layout, say) is backed up when the row is appended.
  return check_writable(path, "--csv");
}

}  // namespace greenrun
