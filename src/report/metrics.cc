// The report as Prometheus metrics: the text format 0.0.4 (what promtool,
// node_exporter's textfile collector and the Pushgateway read) or
// OpenMetrics 1.0. Base units (joules, grams, seconds, watts), counters
// ending in _total, label values valid UTF-8 and escaped, nothing of high
// cardinality (no argv, no pids) in labels. Every series carries the run's
// identity (run_identity), so that two runs never make the same series.

#include <cstdint>
#include <cstdio>
#include <sstream>

#include "report/report.h"
#include "report/text.h"
#include "util/escape.h"
#include "util/fs.h"

namespace greenrun {

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : valid_utf8(v)) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

class Writer {
 public:
  Writer(bool openmetrics, Labels identity) : om_(openmetrics), identity_(std::move(identity)) {}

  /// A metric family: `name` without _total; counters get it on their samples.
  void family(const std::string& name, const char* type, const char* unit, const std::string& help) {
    name_ = name;
    counter_ = std::string(type) == "counter";
    const std::string shown = counter_ && !om_ ? name + "_total" : name;
    if (om_) {
      out_ << "# TYPE " << shown << " " << type << "\n";
      if (*unit) out_ << "# UNIT " << shown << " " << unit << "\n";
    }
    out_ << "# HELP " << shown << " " << help << "\n";
    if (!om_) out_ << "# TYPE " << shown << " " << type << "\n";
  }
  /// A sample with its own labels, then the run's identity.
  void sample(double value, Labels labels = {}) {
    labels.insert(labels.end(), identity_.begin(), identity_.end());
    out_ << name_ << (counter_ ? "_total" : "");
    if (!labels.empty()) {
      out_ << "{";
      for (size_t i = 0; i < labels.size(); ++i)
        out_ << (i ? "," : "") << labels[i].first << "=\"" << escape_label(labels[i].second) << "\"";
      out_ << "}";
    }
    out_ << " " << number(value) << "\n";
  }
  std::string finish() {
    if (om_) out_ << "# EOF\n";
    return out_.str();
  }

 private:
  bool om_;
  Labels identity_;
  std::ostringstream out_;
  std::string name_;
  bool counter_ = false;
};

std::string sources_of(const RunReport& r) {
  std::string s;
  for (const auto& c : r.components)
    if (s.find(c.source) == std::string::npos) s += (s.empty() ? "" : ",") + c.source;
  return s;
}

// The power of the last timeline record, per the report's scope.
double power_now(const RunReport& r) {
  const Timeline& t = r.timeline;
  if (t.size() == 0) return 0;
  const auto& rec = t.record(t.size() - 1);
  const double span = rec.end_s - rec.start_s;
  return span > 0 ? t.energy_j(t.size() - 1, r.scope == Scope::Machine) / span : 0;
}

/// FNV-1a, 32 bits: a short, stable name for a command line.
uint32_t fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

/// The metrics file's name without its directory and extension; else the
/// command's name and a hash of its whole command line.
std::string default_run(const std::string& path, const RunReport& r) {
  if (!path.empty() && path != "-" && !own_descriptor(path)) {
    std::string stem = path.substr(path.rfind('/') + 1);
    if (const size_t dot = stem.rfind('.'); dot != std::string::npos && dot > 0) stem.resize(dot);
    if (!stem.empty()) return stem;
  }
  const std::string name = r.command.empty() ? "command" : r.command[0].substr(r.command[0].rfind('/') + 1);
  char hash[16];
  std::snprintf(hash, sizeof hash, "-%08x", static_cast<unsigned>(fnv1a(command_line(r.command))));
  return name + hash;
}

// What the command counted (greenrun count) and what each unit cost.
void unit_metrics(const RunReport& r, Writer& w) {
  if (r.units.empty()) return;
  w.family("greenrun_units", "counter", "", "Units of work the command counted so far (greenrun count), by unit.");
  for (const auto& u : r.units) w.sample(u.count, {{"unit", u.unit}});
  w.family("greenrun_energy_per_unit_joules", "gauge", "joules", "Energy so far divided by the units counted (the report's scope).");
  for (const auto& u : r.units)
    if (u.energy_j_per_unit) w.sample(*u.energy_j_per_unit, {{"unit", u.unit}});
  w.family("greenrun_emissions_per_unit_grams", "gauge", "grams", "Emissions so far divided by the units counted.");
  for (const auto& u : r.units)
    if (u.emissions_g_per_unit) w.sample(*u.emissions_g_per_unit, {{"unit", u.unit}});
}

// The run's total as projected from its progress (or --expected-duration).
void projection_metrics(const RunReport& r, Writer& w) {
  if (!r.projection) return;
  const ProjectionReport& p = *r.projection;
  const Labels method = {{"method", p.energy.method}};
  w.family("greenrun_progress_ratio", "gauge", "ratio", "How far the command is (0 to 1), as it said or by --expected-duration.");
  w.sample(p.energy.fraction, method);
  w.family("greenrun_projected_energy_joules", "gauge", "joules", "The run's total energy, projected from the recent rate.");
  w.sample(p.energy.energy_j, method);
  if (p.emissions_g) {
    w.family("greenrun_projected_emissions_grams", "gauge", "grams", "The run's total emissions, projected (forecast-priced where one is in use).");
    w.sample(*p.emissions_g, method);
  }
  w.family("greenrun_projected_end_timestamp_seconds", "gauge", "seconds", "When the run is projected to end (Unix time).");
  w.sample(std::chrono::duration<double>(p.ends_at.time_since_epoch()).count(), method);
}

}  // namespace

Labels run_identity(const std::string& metrics_path, const Labels& labels, const RunReport& r) {
  Labels id = {{"run", default_run(metrics_path, r)}};
  if (r.slurm) id.push_back({"slurm_task", std::to_string(r.slurm->step.task)});
  for (const auto& l : labels) {
    if (l.first == "run") id[0].second = l.second;
    else id.push_back(l);
  }
  return id;
}

std::string format_metrics(const RunReport& r, bool openmetrics, const Labels& identity) {
  Writer w(openmetrics, identity);
  w.family("greenrun_energy_joules", "counter", "joules",
           r.scope == Scope::Process ? "Energy the command used so far, by component (its share of the machine)."
                                     : "Energy the machine used while the command ran, by component.");
  for (const auto& c : r.components) w.sample(c.energy_j, {{"component", c.name}, {"measured", c.measured ? "true" : "false"}});
  w.family("greenrun_machine_energy_joules", "counter", "joules", "Energy the whole machine used while the command ran.");
  for (const auto& c : r.components)
    w.sample(c.machine_energy_j, {{"component", c.name}, {"measured", c.measured ? "true" : "false"}});
  if (r.carbon) {
    w.family("greenrun_emissions_grams", "counter", "grams", "Emissions so far in grams CO2e, facility overhead (PUE) included.");
    w.sample(r.carbon->emissions_g);
    w.family("greenrun_grid_intensity_grams_per_kwh", "gauge", "", "Grid intensity over the run so far, in grams CO2e per kWh.");
    w.sample(r.carbon->intensity_g_per_kwh);
  }
  unit_metrics(r, w);
  projection_metrics(r, w);
  w.family("greenrun_power_watts", "gauge", "watts", "Power over the latest sampling window (the report's scope).");
  w.sample(power_now(r));
  w.family("greenrun_peak_power_watts", "gauge", "watts", "The highest power of one sampling window so far.");
  w.sample(r.peak_power_w);
  w.family("greenrun_cpu_seconds", "counter", "seconds", "CPU time of the command's process tree.");
  w.sample(r.user_s + r.system_s);
  w.family("greenrun_duration_seconds", "gauge", "seconds", "Time since the command started.");
  w.sample(r.duration_s);
  w.family("greenrun_running", "gauge", "", "1 while the command runs, 0 once it has ended.");
  w.sample(r.status == "running" ? 1 : 0);
  if (r.exit_code || r.signal) {
    w.family("greenrun_exit_status", "gauge", "", "The command's exit status (128+N for signal N).");
    w.sample(r.signal ? 128 + *r.signal : *r.exit_code);
  }
  Labels info = {
      {"command", r.command.empty() ? "" : r.command[0].substr(r.command[0].rfind('/') + 1)},
      {"host", r.host},
      {"scope", r.scope == Scope::Process ? "process" : "machine"},
      {"energy", r.energy_kind()},
      {"sources", sources_of(r)},
      {"region", r.carbon ? (r.carbon->settings.location.zone.empty() ? r.carbon->settings.location.id
                                                                      : r.carbon->settings.location.zone)
                          : ""}};
  if (r.slurm) {
    info.push_back({"slurm_job", r.slurm->step.job_id});
    info.push_back({"slurm_step", r.slurm->step.step_id});
  }
  w.family("greenrun_run_info", "gauge", "", "The run: what it measured and how (value 1).");
  w.sample(1, info);
  return w.finish();
}

}  // namespace greenrun
