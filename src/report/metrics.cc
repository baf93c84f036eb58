// The report as Prometheus metrics: the text format 0.0.4 (what promtool,
// node_exporter's textfile collector and the Pushgateway read) or
// OpenMetrics 1.0. Base units (joules, grams, seconds, watts), counters
// ending in _total, label values escaped, nothing of high cardinality (no
// argv, no pids) in labels.

#include <cstdio>
#include <sstream>

#include "report/report.h"

namespace greenrun {

namespace {

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
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
  explicit Writer(bool openmetrics) : om_(openmetrics) {}

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
  void sample(double value, const std::vector<std::pair<std::string, std::string>>& labels = {}) {
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

}  // namespace

std::string format_metrics(const RunReport& r, bool openmetrics, const std::vector<std::pair<std::string, std::string>>& labels) {
  Writer w(openmetrics);
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
  std::vector<std::pair<std::string, std::string>> info = {
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
    info.push_back({"slurm_task", std::to_string(r.slurm->step.task)});
  }
  for (const auto& l : labels) info.push_back(l);
  w.family("greenrun_run_info", "gauge", "", "The run: what it measured and how (value 1).");
  w.sample(1, info);
  return w.finish();
}

}  // namespace greenrun
