// report/codecarbon_csv: one row in CodeCarbon 3.3.0's emissions.csv layout
// (--csv). The columns in CodeCarbon's order as man greenrun, CSV lists them;
// the values converted by hand below (kWh at the meter, kg, W, GiB, litres).

#include <regex>

#include <catch2/catch.hpp>

#include "helpers.h"
#include "report/codecarbon_csv.h"
#include "report_fixtures.h"
#include "util/csv.h"

using namespace greenrun;
using namespace greenrun::test;
using Catch::Matchers::Contains;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

ComponentReport gpu(const std::string& name, double energy_j, double utilisation, const std::string& label) {
  ComponentReport c = component(name, energy_j);
  c.source = "NVML energy counter";
  c.utilisation_percent = utilisation;
  c.detail.push_back({{"label", label}});
  return c;
}

Hardware host() {
  Hardware h;
  h.cpu.model = "Intel Xeon Gold 6226R";
  h.cpu.logical = 16;
  h.mem_total_bytes = 64 * kGiB;
  h.os = "Linux-6.1.0-18-amd64-x86_64";
  return h;
}

// The row read back by the project's CSV parser, by column name.
struct Row {
  CsvTable table;
  std::string operator[](const std::string& column) const {
    const int i = table.column(column);
    REQUIRE(i >= 0);
    return table.rows.at(0).at(static_cast<size_t>(i));
  }
};

Row parse(const std::string& row) {
  auto t = parse_csv(codecarbon_header() + "\n" + row + "\n", "emissions.csv");
  REQUIRE(t);
  REQUIRE(t->rows.size() == 1);
  return {*t};
}

// A GPU training hour in France at PUE 1.5 and WUE 1.8 L/kWh: cpu 1.8 MJ,
// dram 0.36 MJ, two GPUs 2.16 + 1.44 = 3.6 MJ; 960 g CO2e.
RunReport hour_in_france() {
  RunReport r;
  r.command = {"python3", "train.py"};
  r.status = "finished";
  r.exit_code = 0;
  r.duration_s = 3600;
  r.components = {component("cpu", 1.8e6), component("dram", 0.36e6), gpu("gpu0", 2.16e6, 70, "NVIDIA H100 80GB HBM3"),
                  gpu("gpu1", 1.44e6, 90, "NVIDIA H100 80GB HBM3")};
  r.carbon.emplace();
  r.carbon->emissions_g = 960;
  r.carbon->settings.pue = 1.5;
  r.carbon->settings.location.id = "FR";
  r.carbon->settings.location.zone = "FR";
  r.carbon->settings.location.name = "France";
  r.carbon->settings.location.country_iso2 = "FR";
  r.water.emplace();
  r.water->energy_kwh = 1.6;
  r.water->wue_l_per_kwh = 1.8;
  r.water->liters = 1.6 * 1.8;  // the JSON's IT-energy litres
  r.machine_cpu_percent = 37.5;
  r.machine_memory_used_bytes = 16 * kGiB;
  r.machine_memory_psutil_used_bytes = 12 * kGiB;
  return r;
}

}  // namespace

TEST_CASE("the CodeCarbon header has CodeCarbon 3.3.0's 38 columns in its order", "[codecarbon_csv]") {
  // As man greenrun, CSV, lists them (CodeCarbon 3.3.0's EmissionsData).
  const std::vector<std::string> want = {
      "timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate", "cpu_power",
      "gpu_power", "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed",
      "country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "os", "python_version",
      "codecarbon_version", "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude", "latitude",
      "ram_total_size", "tracking_mode", "cpu_utilization_percent", "gpu_utilization_percent",
      "ram_utilization_percent", "ram_used_gb", "on_cloud", "pue", "wue"};
  CHECK(want.size() == 38);
  CHECK(codecarbon_columns() == want);
  std::string joined;
  for (const auto& c : want) joined += (joined.empty() ? "" : ",") + c;
  CHECK(codecarbon_header() == joined);
}

TEST_CASE("a CodeCarbon row gives energies in kWh at the meter, emissions in kg and powers as drawn", "[codecarbon_csv]") {
  const RunReport r = hour_in_france();
  const std::string raw = codecarbon_row(r, host(), &shipped_carbon_data(), {"greenrun", "exp-1", "run-1"});
  CHECK(raw.find('\n') == std::string::npos);
  const Row row = parse(raw);
  CHECK(row.table.rows[0].size() == 38);
  CHECK(row["project_name"] == "greenrun");
  CHECK(row["run_id"] == "run-1");
  CHECK(row["experiment_id"] == "exp-1");
  CHECK(row["duration"] == "3600");
  // 960 g = 0.96 kg; per second 0.96 / 3600 = 0.000266667 kg/s.
  CHECK(row["emissions"] == "0.96");
  CHECK(std::stod(row["emissions_rate"]) == Approx(0.96 / 3600));
  // As drawn, over 3600 s: 1.8 MJ -> 500 W, 3.6 MJ -> 1000 W, 0.36 MJ -> 100 W.
  CHECK(row["cpu_power"] == "500");
  CHECK(row["gpu_power"] == "1000");
  CHECK(row["ram_power"] == "100");
  // At the meter, x PUE 1.5: 1.8 MJ = 0.5 kWh -> 0.75; 3.6 MJ = 1 kWh -> 1.5;
  // 0.36 MJ = 0.1 kWh -> 0.15; in all 1.6 kWh -> 2.4 kWh.
  CHECK(row["cpu_energy"] == "0.75");
  CHECK(row["gpu_energy"] == "1.5");
  CHECK(row["ram_energy"] == "0.15");
  CHECK(row["energy_consumed"] == "2.4");
  // Water as CodeCarbon: energy x PUE x WUE = 1.6 x 1.5 x 1.8 = 4.32 L (not
  // the IT energy's 1.6 x 1.8 = 2.88 L; issue 24 item 2).
  CHECK(row["water_consumed"] == "4.32");
  CHECK(row["wue"] == "1.8");
  CHECK(row["pue"] == "1.5");
  // emissions / energy_consumed is the grid's intensity: 960 g / 2.4 kWh = 400 g/kWh.
  CHECK(std::stod(row["emissions"]) * 1000 / std::stod(row["energy_consumed"]) == Approx(400));

  CHECK(row["country_name"] == "France");
  CHECK(row["country_iso_code"] == "FRA");  // alpha-3, from the shipped countries.csv
  CHECK(row["region"] == "FR");
  CHECK(row["cloud_provider"] == "");
  CHECK(row["on_cloud"] == "N");
  CHECK(row["os"] == "Linux-6.1.0-18-amd64-x86_64");
  CHECK(row["python_version"] == "");
  CHECK(row["codecarbon_version"] == "");
  CHECK(row["cpu_count"] == "16");
  CHECK(row["cpu_model"] == "Intel Xeon Gold 6226R");  // nothing estimated: no marker
  CHECK(row["gpu_count"] == "2");
  CHECK(row["gpu_model"] == "NVIDIA H100 80GB HBM3");  // the same model once
  CHECK(row["longitude"] == "");
  CHECK(row["ram_total_size"] == "64");
  CHECK(row["tracking_mode"] == "process");
  CHECK(row["cpu_utilization_percent"] == "37.5");
  CHECK(row["gpu_utilization_percent"] == "80");  // (70 + 90) / 2
  CHECK(row["ram_utilization_percent"] == "25");  // 16 GiB of 64 GiB
  CHECK(row["ram_used_gb"] == "12");              // psutil's "used", in GiB
  // Local time to the second without an offset, as CodeCarbon writes it.
  CHECK(std::regex_match(row["timestamp"], std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)")));
}

TEST_CASE("a CodeCarbon row puts platform in cpu, marks estimates in cpu_model and quotes commas", "[codecarbon_csv]") {
  // platform (psys) 720 J measured + cpu 360 J estimated in the cpu columns
  // (1080 J over 10 s: 108 W; 1080 / 3.6e6 = 0.0003 kWh at PUE 1); ram 36 J.
  RunReport r;
  r.duration_s = 10;
  r.components = {component("platform", 720), component("cpu", 360, false), component("ram", 36, false)};
  Hardware h = host();
  h.cpu.model = "AMD EPYC 7763, 64-Core";
  const std::string raw = codecarbon_row(r, h, nullptr, {});
  CHECK_THAT(raw, Contains(",\"AMD EPYC 7763, 64-Core [greenrun: cpu+ram estimated]\","));
  const Row row = parse(raw);
  CHECK(row["cpu_model"] == "AMD EPYC 7763, 64-Core [greenrun: cpu+ram estimated]");
  CHECK(row["cpu_power"] == "108");
  CHECK(std::stod(row["cpu_energy"]) == Approx(0.0003));
  CHECK(std::stod(row["ram_energy"]) == Approx(0.00001));
  CHECK(row["gpu_energy"] == "0");
  CHECK(row["gpu_count"] == "0");
  CHECK(row["gpu_model"] == "");
  CHECK(row["project_name"] == "greenrun");  // CsvRunInfo's default
}

TEST_CASE("a CodeCarbon row without a grid or a WUE: WLD, never an empty country code, and no water figure", "[codecarbon_csv]") {
  RunReport r;
  r.duration_s = 2;
  r.components = {component("cpu", 7.2)};
  const Row row = parse(codecarbon_row(r, host(), &shipped_carbon_data(), {}));
  CHECK(row["emissions"] == "0");
  CHECK(row["country_iso_code"] == "WLD");
  CHECK(row["country_name"] == "");
  CHECK(row["pue"] == "1");
  CHECK(row["energy_consumed"] == "2e-06");  // 7.2 J / 3.6e6
  CHECK(row["cpu_power"] == "3.6");
  // Empty, not 0: 0 would claim no water was used, an idle GPU, no memory.
  CHECK(row["water_consumed"] == "");
  CHECK(row["wue"] == "");
  CHECK(row["gpu_utilization_percent"] == "");
  CHECK(row["ram_used_gb"] == "");
  CHECK(row["ram_utilization_percent"] == "");
  CHECK(row["cpu_utilization_percent"] == "");

  SECTION("a water report without litres (no WUE known) writes no water either") {
    r.water.emplace();
    r.water->energy_kwh = 2e-6;
    CHECK(parse(codecarbon_row(r, host(), nullptr, {}))["water_consumed"] == "");
  }
}

TEST_CASE("a CodeCarbon row of a cloud run names its provider and region, a UK live run is GBR", "[codecarbon_csv]") {
  RunReport r;
  r.duration_s = 1;
  r.scope = Scope::Machine;
  r.components = {component("cpu", 1)};
  r.carbon.emplace();
  Location& l = r.carbon->settings.location;
  l.id = "aws:us-east-1";
  l.zone = "US-MIDA-PJM";
  l.name = "aws:us-east-1 (US-MIDA-PJM)";
  l.country_iso2 = "US";
  l.cloud_provider = "aws";
  l.cloud_region = "us-east-1";
  r.carbon->settings.pue = 1.135;
  const Row row = parse(codecarbon_row(r, host(), &shipped_carbon_data(), {}));
  CHECK(row["cloud_provider"] == "aws");
  CHECK(row["cloud_region"] == "us-east-1");
  CHECK(row["region"] == "US-MIDA-PJM");
  CHECK(row["on_cloud"] == "Y");
  CHECK(row["country_iso_code"] == "USA");
  CHECK(row["tracking_mode"] == "machine");
  CHECK(row["pue"] == "1.135");

  SECTION("UK Carbon Intensity without a country: GBR") {
    RunReport uk;
    uk.duration_s = 1;
    uk.carbon.emplace();
    uk.carbon->settings.location.id = "national";
    uk.carbon->settings.live.emplace();
    uk.carbon->settings.live->provider = "uk";
    const Row u = parse(codecarbon_row(uk, host(), &shipped_carbon_data(), {}));
    CHECK(u["country_iso_code"] == "GBR");
    CHECK(u["region"] == "national");
  }
}
