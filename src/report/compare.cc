#include "report/compare.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "util/fs.h"
#include "util/input_file.h"
#include "util/units.h"

namespace greenrun {

namespace {

std::optional<double> number(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}

std::string text(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// The range of the headline energy: estimated components give theirs,
// measured ones count as exact.
void energy_range(const nlohmann::json& j, ReportFigures& f) {
  if (!j.contains("components") || !j["components"].is_array() || f.energy_kind == "measured") return;
  double low = 0, high = 0;
  std::string methods;
  for (const auto& c : j["components"]) {
    if (!c.is_object()) continue;
    const double e = number(c, "energy_j").value_or(0);
    low += number(c, "energy_j_low").value_or(e);
    high += number(c, "energy_j_high").value_or(e);
    const bool measured = !c.contains("measured") || !c["measured"].is_boolean() || c["measured"].get<bool>();
    if (!measured) methods += (methods.empty() ? "" : "; ") + text(c, "method");
  }
  f.energy_low_j = low;
  f.energy_high_j = high;
  f.methods = methods;
}

std::string format_value(double v, const std::string& unit) {
  if (unit == "J") return format_energy(v);
  if (unit == "g") return format_mass_g(v);
  return format_seconds(v);
}

std::string signed_text(double v, const std::string& unit) {
  return (v >= 0 ? "+" : "-") + format_value(std::fabs(v), unit);
}

std::string percent_text(const Change& c) {
  auto p = c.percent();
  if (!p) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", *p);
  return buf;
}

}  // namespace

Result<ReportFigures> read_report(const nlohmann::json& j, const std::string& name) {
  using R = Result<ReportFigures>;
  if (!j.is_object() || !j.contains("greenrun_version") || !j.contains("schema_version") || !j["schema_version"].is_number())
    return R::fail(name + " is not a greenrun JSON report (no greenrun_version and schema_version)");
  // Compared as a double: an integer cast of 1e38 would be undefined.
  const double schema = j["schema_version"].get<double>();
  if (schema != 1 && schema != 2)
    return R::fail(name + " has schema_version " + j["schema_version"].dump() + "; this greenrun reads 1 and 2");
  ReportFigures f;
  f.name = name;
  if (j.contains("command") && j["command"].is_array())
    for (const auto& a : j["command"])
      if (a.is_string()) f.command.push_back(a.get<std::string>());
  f.status = text(j, "status");
  f.energy_j = number(j, "energy_j");
  f.machine_energy_j = number(j, "machine_energy_j");
  f.slurm = j.contains("slurm") && j["slurm"].is_object();
  f.energy_kind = text(j, "energy_measured");
  f.emissions_g = number(j, "emissions_g");
  f.duration_s = number(j, "duration_s").value_or(0);
  f.cpu_s = number(j, "cpu_time_s").value_or(0);
  f.host = text(j, "host");
  f.boot_id = text(j, "boot_id");
  f.started_at = text(j, "started_at");
  f.ended_at = text(j, "ended_at");
  if (j.contains("exit_code") && j["exit_code"].is_number_integer()) {
    const int64_t code = j["exit_code"].get<int64_t>();
    if (code >= 0 && code <= 255) f.exit_code = static_cast<int>(code);
  }
  energy_range(j, f);
  return f;
}

Result<ReportFigures> load_report(const std::string& path) {
  using R = Result<ReportFigures>;
  auto content = read_input_file(path, "", kMaxReportFileBytes);
  if (!content) return R::fail(content.error());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*content);
  } catch (const nlohmann::json::exception&) {
    return R::fail(path + " is not a greenrun JSON report (not valid JSON)");
  }
  return read_report(j, path);
}

std::optional<double> Change::percent() const {
  if (before == 0) return std::nullopt;
  return 100.0 * (after - before) / before;
}

std::optional<double> BaselineComparison::energy_percent() const {
  for (const auto& r : rows)
    if (r.what == "energy") return r.percent();
  return std::nullopt;
}

BaselineComparison compare_reports(const ReportFigures& before, const ReportFigures& after) {
  BaselineComparison c;
  c.baseline = before.name;
  if (before.energy_j && after.energy_j) c.rows.push_back({"energy", *before.energy_j, *after.energy_j, "J"});
  if (before.emissions_g && after.emissions_g) c.rows.push_back({"emissions", *before.emissions_g, *after.emissions_g, "g"});
  c.rows.push_back({"duration", before.duration_s, after.duration_s, "s"});
  c.rows.push_back({"CPU time", before.cpu_s, after.cpu_s, "s"});
  if (before.command != after.command) c.notes.push_back("the two runs ran different commands");
  const bool both_estimated = before.energy_kind == "estimated" && after.energy_kind == "estimated";
  const bool same_model = both_estimated && before.methods == after.methods;
  if (same_model)
    c.notes.push_back("both runs are estimates from the same model: the difference reflects CPU time, not measured power");
  else if (before.energy_kind != after.energy_kind)
    c.notes.push_back("the baseline's energy is " + before.energy_kind + ", this run's " + after.energy_kind +
                      ": they are not measured the same way");
  // Estimates from different models carry different errors: overlapping
  // ranges mean the change may be theirs.
  if (!same_model && before.energy_low_j && after.energy_low_j && *after.energy_low_j <= *before.energy_high_j &&
      *before.energy_low_j <= *after.energy_high_j)
    c.notes.push_back("the estimates' ranges overlap: the change is within the estimate's uncertainty");
  return c;
}

std::string format_comparison(const BaselineComparison& c) {
  std::ostringstream out;
  for (const auto& r : c.rows)
    out << r.what << " " << format_value(r.before, r.unit) << " -> " << format_value(r.after, r.unit) << " ("
        << signed_text(r.delta(), r.unit) << (r.percent() ? ", " + percent_text(r) : "") << ")\n";
  for (const auto& n : c.notes) out << "note: " << n << "\n";
  return out.str();
}

std::string format_comparison_markdown(const BaselineComparison& c) {
  std::ostringstream out;
  out << "| | baseline | this run | change |\n|---|---:|---:|---:|\n";
  for (const auto& r : c.rows)
    out << "| " << r.what << " | " << format_value(r.before, r.unit) << " | " << format_value(r.after, r.unit) << " | "
        << signed_text(r.delta(), r.unit) << (r.percent() ? " (" + percent_text(r) + ")" : "") << " |\n";
  out << "\n";
  for (const auto& n : c.notes) out << "- " << n << "\n";
  return out.str();
}

nlohmann::ordered_json comparison_json(const BaselineComparison& c) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& r : c.rows) {
    nlohmann::ordered_json x = {{"what", r.what}, {"unit", r.unit}, {"baseline", r.before}, {"this_run", r.after},
                                {"change", r.delta()}};
    x["change_percent"] = r.percent() ? nlohmann::ordered_json(*r.percent()) : nlohmann::ordered_json(nullptr);
    rows.push_back(std::move(x));
  }
  return {{"file", c.baseline}, {"changes", std::move(rows)}, {"notes", c.notes}};
}

}  // namespace greenrun
