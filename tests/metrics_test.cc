// report/metrics.cc: the report as Prometheus text 0.0.4 and OpenMetrics 1.0
// (--metrics, the Pushgateway). Values in base units, as worked out below.

#include <chrono>
#include <map>
#include <sstream>

#include <catch2/catch.hpp>

#include "report/report.h"

using namespace greenrun;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;

namespace {

const std::vector<std::pair<std::string, std::string>> kIdentity = {{"run", "train"}};

ComponentReport component(const std::string& name, double energy_j, double machine_j, bool measured,
                          const std::string& source) {
  ComponentReport c;
  c.name = name;
  c.energy_j = energy_j;
  c.machine_energy_j = machine_j;
  c.measured = measured;
  c.source = source;
  return c;
}

// python3 train.py on node1, per process: cpu 30 J of the machine's 120 J
// (RAPL), gpu0 45.5 J estimated; 0.25 g at 300 g/kWh in FR; CPU 1.5 + 0.5 s.
RunReport train_report() {
  RunReport r;
  r.command = {"/usr/bin/python3", "train.py"};
  r.host = "node1";
  r.scope = Scope::Process;
  r.components = {component("cpu", 30, 120, true, "RAPL powercap"), component("gpu0", 45.5, 45.5, false, "estimate")};
  r.carbon.emplace();
  r.carbon->emissions_g = 0.25;
  r.carbon->intensity_g_per_kwh = 300;
  r.carbon->settings.location.id = "FR";
  r.carbon->settings.location.zone = "FR";
  r.peak_power_w = 12.5;
  r.user_s = 1.5;
  r.system_s = 0.5;
  r.duration_s = 4.25;
  r.status = "finished";
  r.exit_code = 3;
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text))
    if (l == line) return true;
  return false;
}

// The sample's metric name: up to its labels or its value.
std::string sample_name(const std::string& line) { return line.substr(0, line.find_first_of("{ ")); }

}  // namespace

TEST_CASE("Prometheus text: each component's joules, counters ending in _total, every series with the run", "[metrics]") {
  const std::string text = format_metrics(train_report(), false, kIdentity);
  CHECK(has_line(text, "# HELP greenrun_energy_joules_total Energy the command used so far, by component (its share of "
                       "the machine)."));
  CHECK(has_line(text, "# TYPE greenrun_energy_joules_total counter"));
  CHECK(has_line(text, "greenrun_energy_joules_total{component=\"cpu\",measured=\"true\",run=\"train\"} 30"));
  CHECK(has_line(text, "greenrun_energy_joules_total{component=\"gpu0\",measured=\"false\",run=\"train\"} 45.5"));
  CHECK(has_line(text, "greenrun_machine_energy_joules_total{component=\"cpu\",measured=\"true\",run=\"train\"} 120"));
  CHECK(has_line(text, "greenrun_emissions_grams_total{run=\"train\"} 0.25"));
  CHECK(has_line(text, "greenrun_grid_intensity_grams_per_kwh{run=\"train\"} 300"));
  CHECK(has_line(text, "greenrun_peak_power_watts{run=\"train\"} 12.5"));
  CHECK(has_line(text, "greenrun_cpu_seconds_total{run=\"train\"} 2"));  // 1.5 user + 0.5 system
  CHECK(has_line(text, "greenrun_duration_seconds{run=\"train\"} 4.25"));
  CHECK(has_line(text, "greenrun_running{run=\"train\"} 0"));
  CHECK(has_line(text, "greenrun_exit_status{run=\"train\"} 3"));
  CHECK(has_line(text, "greenrun_run_info{command=\"python3\",host=\"node1\",scope=\"process\",energy=\"partly "
                       "estimated\",sources=\"RAPL powercap,estimate\",region=\"FR\",run=\"train\"} 1"));
  CHECK_THAT(text, !Contains("# UNIT"));
  CHECK_THAT(text, !Contains("# EOF"));

  // Every sample follows its family's TYPE line and carries the identity.
  std::map<std::string, bool> typed;
  for (const auto& line : lines_of(text)) {
    if (line.rfind("# TYPE ", 0) == 0) typed[line.substr(7, line.find(' ', 7) - 7)] = true;
    if (line.empty() || line[0] == '#') continue;
    INFO(line);
    CHECK(typed.count(sample_name(line)) == 1);
    CHECK_THAT(line, Contains("run=\"train\""));
  }
}

TEST_CASE("OpenMetrics: TYPE and UNIT name the family, samples of counters end in _total, then # EOF", "[metrics]") {
  const std::string text = format_metrics(train_report(), true, kIdentity);
  const auto lines = lines_of(text);
  CHECK(has_line(text, "# TYPE greenrun_energy_joules counter"));
  CHECK(has_line(text, "# UNIT greenrun_energy_joules joules"));
  CHECK(has_line(text, "greenrun_energy_joules_total{component=\"cpu\",measured=\"true\",run=\"train\"} 30"));
  CHECK(has_line(text, "# TYPE greenrun_emissions_grams counter"));
  CHECK(has_line(text, "# UNIT greenrun_emissions_grams grams"));
  CHECK(has_line(text, "# UNIT greenrun_cpu_seconds seconds"));
  CHECK(has_line(text, "# UNIT greenrun_power_watts watts"));
  CHECK_THAT(text, !Contains("# TYPE greenrun_energy_joules_total"));
  CHECK_THAT(text, EndsWith("\n# EOF\n"));
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back() == "# EOF");

  // OpenMetrics: a UNIT is the family name's suffix; every sample names a
  // family declared before it (a counter's samples with _total).
  std::map<std::string, std::string> type_of;
  for (const auto& line : lines) {
    if (line.rfind("# TYPE ", 0) == 0) {
      const auto sp = line.find(' ', 7);
      type_of[line.substr(7, sp - 7)] = line.substr(sp + 1);
    } else if (line.rfind("# UNIT ", 0) == 0) {
      const auto sp = line.find(' ', 7);
      INFO(line);
      CHECK_THAT(line.substr(7, sp - 7), EndsWith("_" + line.substr(sp + 1)));
    } else if (!line.empty() && line[0] != '#') {
      std::string name = sample_name(line);
      INFO(line);
      if (type_of.count(name) == 0 && name.size() > 6 && name.substr(name.size() - 6) == "_total")
        name.resize(name.size() - 6);
      REQUIRE(type_of.count(name) == 1);
      CHECK((type_of[name] == "counter") == (sample_name(line) != name));
    }
  }
}

TEST_CASE("metrics: power is the last record's energy over its span, per the report's scope", "[metrics]") {
  // Two windows: 0-1 s (machine 10 J, the command 5 J) and 1-1.5 s (machine
  // 6 J, the command 3 J). The last: 3 J / 0.5 s = 6 W for the command,
  // 6 J / 0.5 s = 12 W for the machine.
  RunReport r = train_report();
  TimelineComponent tc;
  tc.component.kind = ComponentKind::Cpu;
  r.timeline = Timeline({tc});
  Window w;
  w.start_s = 0, w.end_s = 1, w.machine_j = {10}, w.tree_j = {5};
  r.timeline.append(w);
  w.start_s = 1, w.end_s = 1.5, w.machine_j = {6}, w.tree_j = {3};
  r.timeline.append(w);
  REQUIRE(r.timeline.size() == 2);
  CHECK(has_line(format_metrics(r, false, kIdentity), "greenrun_power_watts{run=\"train\"} 6"));
  r.scope = Scope::Machine;
  const std::string machine = format_metrics(r, false, kIdentity);
  CHECK(has_line(machine, "greenrun_power_watts{run=\"train\"} 12"));
  CHECK_THAT(machine, Contains("scope=\"machine\""));
  CHECK(has_line(machine, "# HELP greenrun_energy_joules_total Energy the machine used while the command ran, by component."));

  SECTION("no record yet: 0 W") {
    CHECK(has_line(format_metrics(train_report(), false, kIdentity), "greenrun_power_watts{run=\"train\"} 0"));
  }
}

TEST_CASE("metrics: exit status 128+N after signal N, none while running, and the units counted", "[metrics]") {
  RunReport r = train_report();
  r.exit_code.reset();
  r.signal = 9;
  CHECK(has_line(format_metrics(r, false, kIdentity), "greenrun_exit_status{run=\"train\"} 137"));

  r.signal.reset();
  r.status = "running";
  // 1000 samples; 0.125 J and 2^-10 g each (exact in binary, printed exactly).
  r.units.push_back({"samples", 1000, 0.125, 0.0009765625});
  r.units.push_back({"epochs", 0, std::nullopt, std::nullopt});
  r.projection.emplace();
  r.projection->energy.method = "progress";
  r.projection->energy.fraction = 0.25;
  r.projection->energy.energy_j = 400;
  r.projection->emissions_g = 20;
  r.projection->ends_at = std::chrono::system_clock::time_point(std::chrono::seconds(1800000000));
  const std::string text = format_metrics(r, false, kIdentity);
  CHECK_THAT(text, !Contains("greenrun_exit_status"));
  CHECK(has_line(text, "greenrun_running{run=\"train\"} 1"));
  CHECK(has_line(text, "greenrun_units_total{unit=\"samples\",run=\"train\"} 1000"));
  CHECK(has_line(text, "greenrun_units_total{unit=\"epochs\",run=\"train\"} 0"));
  CHECK(has_line(text, "greenrun_energy_per_unit_joules{unit=\"samples\",run=\"train\"} 0.125"));
  CHECK(has_line(text, "greenrun_emissions_per_unit_grams{unit=\"samples\",run=\"train\"} 0.0009765625"));
  CHECK_THAT(text, !Contains("greenrun_energy_per_unit_joules{unit=\"epochs\""));  // nothing per 0 units
  CHECK(has_line(text, "greenrun_progress_ratio{method=\"progress\",run=\"train\"} 0.25"));
  CHECK(has_line(text, "greenrun_projected_energy_joules{method=\"progress\",run=\"train\"} 400"));
  CHECK(has_line(text, "greenrun_projected_emissions_grams{method=\"progress\",run=\"train\"} 20"));
  CHECK(has_line(text, "greenrun_projected_end_timestamp_seconds{method=\"progress\",run=\"train\"} 1800000000"));
}

TEST_CASE("metrics label values escape backslash, quote and newline and are valid UTF-8", "[metrics]") {
  RunReport r = train_report();
  r.host = "a\"b\\c\nd\xff";
  const std::string text = format_metrics(r, false, {{"run", "x\"y"}});
  CHECK_THAT(text, Contains("host=\"a\\\"b\\\\c\\nd\xef\xbf\xbd\""));
  CHECK_THAT(text, Contains("run=\"x\\\"y\""));
  for (const auto& line : lines_of(text)) CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("run_identity: the metrics file's stem, else the command's name and FNV-1a hash, then the labels", "[metrics]") {
  RunReport r;
  r.command = {"foobar"};
  std::string metrics_path;
  std::vector<std::pair<std::string, std::string>> labels;
  // FNV-1a 32-bit of "foobar" is 0xbf9cf968 (the FNV reference test vectors).
  CHECK(run_identity(metrics_path, labels, r) == std::vector<std::pair<std::string, std::string>>{{"run", "foobar-bf9cf968"}});
  r.command = {"a"};  // FNV-1a("a") = 0xe40c292c
  CHECK(run_identity(metrics_path, labels, r)[0].second == "a-e40c292c");
  metrics_path = "-";  // standard output has no stem
  CHECK(run_identity(metrics_path, labels, r)[0].second == "a-e40c292c");

  metrics_path = "/var/lib/node_exporter/textfile/nightly.prom";
  CHECK(run_identity(metrics_path, labels, r)[0].second == "nightly");
  metrics_path = "out/plain";
  CHECK(run_identity(metrics_path, labels, r)[0].second == "plain");

  r.slurm.emplace();
  r.slurm->step.task = 3;
  labels = {{"team", "ml"}, {"run", "custom"}};
  CHECK(run_identity(metrics_path, labels, r) ==
        std::vector<std::pair<std::string, std::string>>{{"run", "custom"}, {"slurm_task", "3"}, {"team", "ml"}});
}
