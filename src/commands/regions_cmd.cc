#include "commands/regions_cmd.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "carbon/carbon_data.h"
#include "carbon/region.h"
#include "commands/output_paths.h"
#include "commands/subcommand.h"
#include "config/config_files.h"
#include "config/option_table.h"
#include "util/exit_codes.h"
#include "util/units.h"
#include "util/escape.h"

namespace greenrun {

namespace {

struct Row {
  std::string kind;  // zone, country, cloud
  std::string id, name, detail;
  std::string_view source;
  std::optional<double> lifecycle, direct;
  int year = 0;
};

std::string cell(const std::optional<double>& v) { return v ? significant(*v, 3) : "-"; }

// What --region and --cloud take, one a line: fast enough for a shell's completion.
int print_ids(const CarbonData& data, const std::string& kind) {
  std::string out;
  if (kind == "cloud") {
    for (const auto& r : data.cloud) out += r.provider + ":" + r.region + "\n";
  } else if (kind == "region") {
    for (const auto& z : data.zones) out += z.id + "\n";
    for (const auto& c : data.countries)
      if (c.zone.empty()) out += c.iso2 + "\n";
  } else {
    std::fprintf(stderr, "greenrun regions: --ids takes region or cloud\n");
    return kExitUsage;
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

struct RegionsArgs {
  std::string query, sort = "intensity", ids;
  bool json_out = false, ids_given = false;
  Factor factor = Factor::Lifecycle;  // --emission-factor
};

// Parses `args` and checks the options as a run checks them: an exit code
// when the command ends here.
std::optional<int> regions_options(const std::vector<std::string>& args, const EnvLookup& env, RegionsArgs& a) {
  CLI::App app{"greenrun regions [QUERY]: list grid zones, countries and cloud regions with their intensity",
               "greenrun regions"};
  app.add_option("query", a.query, "Filter: part of an id, name, country or cloud region (case-insensitive)");
  app.add_option("--ids", a.ids, "Only the ids, one a line, for shell completion: region (zones and countries) or cloud")
      ->type_name("KIND")
      ->expected(0, 1)
      ->default_str("region");
  app.add_option("--sort", a.sort, "intensity (default), name or id")->capture_default_str();
  app.add_flag("--json", a.json_out, "JSON on stdout");
  RawSettings raw;
  add_table_options(app, raw, {"config", "emission-factor"});
  if (auto done = parse_subcommand(app, args, "regions")) return *done;
  a.ids_given = app.count("--ids") > 0;
  auto layers = apply_config(raw, env);
  if (!layers) {
    std::fprintf(stderr, "greenrun regions: %s\n", terminal_text(layers.error()).c_str());
    return kExitGreenrunFailed;
  }
  auto checked = checked_subcommand_options(raw, env);  // as a run checks them
  if (!checked) {
    std::fprintf(stderr, "greenrun regions: %s\n", checked.error().c_str());
    return kExitGreenrunFailed;
  }
  a.factor = checked->grid.emission_factor;
  if (a.sort != "intensity" && a.sort != "name" && a.sort != "id") {
    std::fprintf(stderr, "greenrun regions: --sort must be intensity, name or id\n");
    return kExitUsage;
  }
  return std::nullopt;
}

// cloud_regions.csv has no year column: Google Cloud's figures are of 2024,
// as are the zones the regions map to (share/intensity/ATTRIBUTION.md).
constexpr int kCloudYear = 2024;

Row cloud_row(const CarbonData& data, const CloudRegion& r) {
  std::optional<double> lc, dir = r.google_direct_g_per_kwh;
  std::string detail = r.location.empty() ? "" : r.location;
  if (const Zone* z = r.zone.empty() ? nullptr : data.zone(r.zone)) {
    lc = z->lifecycle_g_per_kwh;
    if (!dir) dir = z->direct_g_per_kwh;
    detail += std::string(detail.empty() ? "" : ", ") + "zone " + z->id;
  } else {
    detail += std::string(detail.empty() ? "" : "; ") + std::string(r.note);
  }
  return {"cloud", r.provider + ":" + r.region, r.location, detail, r.source, lc, dir, kCloudYear};
}

std::vector<Row> all_rows(const CarbonData& data) {
  std::vector<Row> rows;
  for (const auto& z : data.zones)
    rows.push_back({"zone", z.id, z.name, z.country_name, z.source, z.lifecycle_g_per_kwh, z.direct_g_per_kwh, z.year});
  for (const auto& c : data.countries)
    if (c.zone.empty())
      rows.push_back({"country", c.iso2, c.name, c.iso3, c.source, c.lifecycle_g_per_kwh, c.direct_g_per_kwh, c.year});
  for (const auto& r : data.cloud) rows.push_back(cloud_row(data, r));
  return rows;
}

void keep_matching(std::vector<Row>& rows, const std::string& query) {
  const std::string q = fold_name(query);
  if (!q.empty()) {
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [&](const Row& r) {
                                for (const auto* f : {&r.id, &r.name, &r.detail})
                                  if (fold_name(*f).find(q) != std::string::npos) return false;
                                return true;
                              }),
               rows.end());
  }
}

// By intensity: rows without the figure last.
void sort_rows(std::vector<Row>& rows, const std::string& sort, Factor factor) {
  const bool direct = factor == Factor::Direct;
  auto key = [&](const Row& r) { return direct ? r.direct : r.lifecycle; };
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    if (sort == "name") return fold_name(a.name) < fold_name(b.name);
    if (sort == "id") return a.id < b.id;
    auto ka = key(a), kb = key(b);
    if (ka.has_value() != kb.has_value()) return ka.has_value();
    return ka && kb && *ka < *kb;
  });
}

int print_json(const std::vector<Row>& rows) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& r : rows) {
    nlohmann::ordered_json j = {{"kind", r.kind}, {"id", r.id}, {"name", r.name}, {"detail", r.detail}};
    j["lifecycle_g_per_kwh"] = r.lifecycle ? nlohmann::ordered_json(*r.lifecycle) : nlohmann::ordered_json(nullptr);
    j["direct_g_per_kwh"] = r.direct ? nlohmann::ordered_json(*r.direct) : nlohmann::ordered_json(nullptr);
    j["year"] = r.year;
    j["source"] = r.source;
    out.push_back(std::move(j));
  }
  std::printf("%s\n", out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
  return rows.empty() ? 1 : 0;
}

// The sources of every figure in share/intensity (ATTRIBUTION.md there); the
// loaded data carries each row's source, not this summary.
constexpr const char* kSourcesNote =
    "Sources: Electricity Maps 2024 (ODbL), Ember (CC BY 4.0), Google Cloud 2024";

int print_table(const std::vector<Row>& rows, const std::string& query, const std::string& data_dir) {
  if (rows.empty()) {
    std::fprintf(stderr, "greenrun regions: nothing matches '%s'\n", terminal_text(query).c_str());
    return 1;
  }
  std::printf("%-7s  %-26s  %-34s  %9s  %7s  %s\n", "kind", "id (for --region/--cloud)", "name", "lifecycle", "direct",
              "detail");
  for (const auto& r : rows) {
    std::string name = r.name.size() > 34 ? r.name.substr(0, 33) + "~" : r.name;
    std::printf("%-7s  %-26s  %-34s  %9s  %7s  %s\n", r.kind.c_str(), r.id.c_str(), name.c_str(), cell(r.lifecycle).c_str(),
                cell(r.direct).c_str(), r.detail.c_str());
  }
  std::printf("%zu entries; gCO2e/kWh, yearly averages. %s; see %s/intensity/ATTRIBUTION.md\n", rows.size(), kSourcesNote,
              data_dir.c_str());
  return 0;
}

}  // namespace

int regions_command(const std::vector<std::string>& args, const EnvLookup& env) {
  RegionsArgs a;
  if (auto done = regions_options(args, env, a)) return *done;
  auto data = load_carbon_data(find_data_dir(env));
  if (!data) {
    std::fprintf(stderr, "greenrun regions: %s\n", terminal_text(data.error()).c_str());
    return kExitGreenrunFailed;
  }
  if (a.ids_given) return print_ids(*data, a.ids.empty() ? "region" : a.ids);
  std::vector<Row> rows = all_rows(*data);
  keep_matching(rows, a.query);
  sort_rows(rows, a.sort, a.factor);
  return a.json_out ? print_json(rows) : print_table(rows, a.query, data->dir);
}

}  // namespace greenrun
