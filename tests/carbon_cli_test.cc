// End-to-end carbon accounting through the greenrun binary.

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "report/codecarbon_csv.h"
#include "sensors/hardware.h"
#include "util/csv.h"
#include "helpers.h"

using namespace greenrun::test;
using nlohmann::json;

namespace {

struct Machine {
  TempDir dir;
  std::string sys = dir / "sys";
  std::unique_ptr<FakeRapl> rapl;
  explicit Machine(double watts = 0) {
    make_dirs(sys);
    if (watts > 0) rapl = std::make_unique<FakeRapl>(sys, watts);
  }
  ProcResult run(std::vector<std::string> args, std::map<std::string, std::string> env = {}) const {
    args.insert(args.begin(), greenrun_bin());
    ProcOptions opt;
    opt.env = {{"GREENRUN_SYSFS_ROOT", sys}, {"TZ", "UTC"}, {"GREENRUN_CONFIG", dir / "no-config"}};
    for (auto& [k, v] : env) opt.env[k] = v;
    if (opt.env["GREENRUN_CONFIG"] == dir / "no-config") opt.env["GREENRUN_CONFIG"] = "";
    return run_proc(args, opt);
  }
};

}  // namespace

TEST_CASE("a user in Paris with no flags gets France, guessed, and the same run elsewhere", "[carbon][cli]") {
  if (access("/usr/share/zoneinfo/zone.tab", R_OK) != 0) SKIP_UNLESS_CI("tzdata is not installed (no /usr/share/zoneinfo/zone.tab)");
  Machine m(30);
  auto r = m.run({"--scope", "machine", "--interval", "100ms", "--json", m.dir / "p.json", "--", "sleep", "0.5"},
                 {{"TZ", "Europe/Paris"}});
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Catch::Contains("France") && Catch::Contains("guessed from the time zone Europe/Paris"));
  CHECK_THAT(r.err, Catch::Contains("Norway") && Catch::Contains("Poland") && Catch::Contains("world average"));
  CHECK_THAT(r.err, Catch::Contains("<- this run"));
  auto j = json::parse(slurp(m.dir / "p.json"));
  CHECK(j["region"]["zone"] == "FR");
  CHECK(j["region"]["guessed"] == true);
  CHECK(j["region"]["factor"] == "life-cycle");
  double kwh = j["energy_j"].get<double>() / 3.6e6;
  CHECK(j["emissions_g"].get<double>() == Approx(kwh * 33.44).epsilon(1e-6));
  CHECK(j["intensity_g_per_kwh"].get<double>() == Approx(33.44));
  bool has_poland = false;
  for (const auto& c : j["comparisons"])
    if (c["region"] == "PL") {
      has_poland = true;
      CHECK(c["emissions_g"].get<double>() == Approx(kwh * 703.49).epsilon(1e-6));
    }
  CHECK(has_poland);
  CHECK(j["equivalents"].size() >= 5);
}

TEST_CASE("bad carbon settings fail with 125 before the command starts", "[carbon][cli]") {
  Machine m;
  auto marker = m.dir / "ran";
  auto unknown = m.run({"--region", "Frnace", "--", "touch", marker});
  CHECK(unknown.status == 125);
  CHECK_THAT(unknown.err, Catch::Contains("did you mean") && Catch::Contains("FR (France)"));
  CHECK(std::count(unknown.err.begin(), unknown.err.end(), '\n') == 1);
  write_file(m.dir / "grid.csv", "timestamp,g_per_kwh\n2024-01-01T00:00:00Z,10\n2024-01-01T01:00:00Z,oops\n");
  auto bad_file = m.run({"--intensity-file", m.dir / "grid.csv", "--", "touch", marker});
  CHECK(bad_file.status == 125);
  CHECK_THAT(bad_file.err, Catch::Contains("grid.csv line 3"));
  CHECK(m.run({"--cloud", "aws:mars-1", "--", "touch", marker}).status == 125);
  CHECK(m.run({"--pue", "0.5", "--", "touch", marker}).status == 125);
  CHECK(m.run({"--emission-factor", "indirect", "--", "touch", marker}).status == 125);
  CHECK(m.run({"--", "touch", marker}, {{"GREENRUN_DATA_DIR", m.dir / "nowhere"}}).status == 125);
  CHECK_FALSE(std::ifstream(marker).good());
}

TEST_CASE("settings from the config file, the environment and flags, in that order of strength", "[carbon][cli]") {
  Machine m(10);
  write_file(m.dir / "config", "# greenrun settings\nregion = NO\npue = \"1.2\"\n");
  std::map<std::string, std::string> env = {{"GREENRUN_CONFIG", m.dir / "config"}};
  auto zone_of = [&](std::vector<std::string> extra, std::map<std::string, std::string> e) {
    std::vector<std::string> args = {"-q", "--json", m.dir / "c.json"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", "sleep", "0.2"});
    auto r = m.run(args, e);
    REQUIRE(r.status == 0);
    auto j = json::parse(slurp(m.dir / "c.json"));
    return std::make_pair(j["region"]["zone"].get<std::string>(), j["pue"].get<double>());
  };
  CHECK(zone_of({}, env) == std::make_pair(std::string("NO"), 1.2));
  auto with_env = env;
  with_env["GREENRUN_REGION"] = "PL";
  CHECK(zone_of({}, with_env).first == "PL");
  CHECK(zone_of({"--region", "SE"}, with_env).first == "SE");
  write_file(m.dir / "bad-config", "region = NO\ncolour = green\n");
  auto bad = m.run({"--", "true"}, {{"GREENRUN_CONFIG", m.dir / "bad-config"}});
  CHECK(bad.status == 125);
  CHECK_THAT(bad.err, Catch::Contains("bad-config line 2") && Catch::Contains("colour"));
}

TEST_CASE("the CSV option writes CodeCarbon's 38 columns, appends, and backs up an older layout", "[carbon][cli][csv]") {
  Machine m(20);
  auto csv = m.dir / "emissions.csv";
  auto r = m.run({"-q", "--region", "DE", "--pue", "1.5", "--project", "demo", "--json", m.dir / "r.json", "--csv", csv,
                  "--", "sleep", "0.3"});
  REQUIRE(r.status == 0);
  REQUIRE(m.run({"-q", "--region", "DE", "--csv", csv, "--", "true"}).status == 0);
  auto t = greenrun::parse_csv(slurp(csv), csv);
  REQUIRE(t);
  CHECK(t->header == greenrun::codecarbon_columns());
  CHECK(t->header.size() == 38);
  REQUIRE(t->rows.size() == 2);
  auto col = [&](const std::string& name) { return t->rows[0][static_cast<size_t>(t->column(name))]; };
  auto j = json::parse(slurp(m.dir / "r.json"));
  CHECK(std::stod(col("emissions")) == Approx(j["emissions_g"].get<double>() / 1000).epsilon(1e-6));
  // The same meaning as CodeCarbon's columns, not only the same names:
  // energy at the meter (x PUE), so that emissions / energy is the grid's intensity.
  CHECK(std::stod(col("energy_consumed")) == Approx(j["energy_j"].get<double>() * 1.5 / 3.6e6).epsilon(1e-6));
  CHECK(std::stod(col("emissions")) / std::stod(col("energy_consumed")) ==
        Approx(j["intensity_g_per_kwh"].get<double>() / 1000).epsilon(1e-6));
  CHECK(std::stod(col("pue")) == 1.5);
  const double mem_total = greenrun::detect_hardware("/sys", "/proc").mem_total_bytes;
  CHECK(std::stod(col("ram_total_size")) == Approx(mem_total / (1024.0 * 1024 * 1024)).epsilon(1e-6));  // GiB
  const double cpu_pct = std::stod(col("cpu_utilization_percent"));  // the machine's, as CodeCarbon's
  CHECK(cpu_pct >= 0);
  CHECK(cpu_pct <= 100);
  CHECK(std::stod(col("ram_used_gb")) > 0.05);  // the machine's memory in use, not sleep's 1 MB
  CHECK(std::stod(col("ram_used_gb")) < std::stod(col("ram_total_size")));
  // psutil's percent counts MemAvailable, its "used" not: see the test below for both exactly.
  CHECK(std::stod(col("ram_utilization_percent")) > 0);
  CHECK(std::stod(col("ram_utilization_percent")) < 100);
  CHECK(std::stod(col("duration")) == Approx(j["duration_s"].get<double>()).epsilon(1e-6));
  CHECK(col("project_name") == "demo");
  CHECK(col("country_iso_code") == "DEU");
  CHECK(col("country_name") == "Germany");
  CHECK(col("tracking_mode") == "process");
  CHECK(col("on_cloud") == "N");
  CHECK(col("run_id").size() == 36);
  CHECK(col("timestamp").size() == 19);  // naive local time to the second, as CodeCarbon writes it
  CHECK(col("timestamp")[10] == 'T');
  CHECK(t->rows[0][2] != t->rows[1][2]);  // a run id per run

  // An older CodeCarbon layout (2.x had fewer columns): kept aside, as CodeCarbon does, and the run goes on.
  write_file(m.dir / "old.csv", "timestamp,project_name,run_id,duration,emissions\n2021-09-23T15:04:51,p,r,1,2\n");
  auto old = m.run({"-q", "--csv", m.dir / "old.csv", "--", "touch", m.dir / "ran"});
  CHECK(old.status == 0);
  CHECK(std::ifstream(m.dir / "ran").good());
  CHECK_THAT(old.err, Catch::Contains("another header") && Catch::Contains("old.csv.bak"));
  CHECK(slurp(m.dir / "old.csv.bak") == "timestamp,project_name,run_id,duration,emissions\n2021-09-23T15:04:51,p,r,1,2\n");
  auto fresh = greenrun::parse_csv(slurp(m.dir / "old.csv"), "old.csv");
  REQUIRE(fresh);
  CHECK(fresh->header == greenrun::codecarbon_columns());
  CHECK(fresh->rows.size() == 1);
}

TEST_CASE("many greenrun runs appending to one CSV at once leave no torn rows", "[carbon][cli][csv]") {
  Machine m(5);
  auto csv = m.dir / "shared.csv";
  const int runs = 12;
  std::vector<Background> bg;
  for (int i = 0; i < runs; ++i)
    bg.push_back(start_background({greenrun_bin(), "-q", "--region", "FR", "--project", "p" + std::to_string(i),
                                   "--csv", csv, "--", "true"},
                                  m.dir.path(), {{"GREENRUN_SYSFS_ROOT", m.sys}, {"GREENRUN_CONFIG", ""}}));
  for (auto& b : bg) CHECK(b.wait(30) == 0);
  auto t = greenrun::parse_csv(slurp(csv), csv);
  REQUIRE(t);
  CHECK(t->rows.size() == runs);
  std::set<std::string> projects;
  for (const auto& row : t->rows) projects.insert(row[1]);
  CHECK(projects.size() == runs);
}

TEST_CASE("greenrun regions lists and filters, in text and JSON", "[carbon][cli]") {
  auto r = run_proc({greenrun_bin(), "regions", "norway"});
  CHECK(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("NO-NO1") && Catch::Contains("Norway"));
  auto j = run_proc({greenrun_bin(), "regions", "aws:eu", "--json"});
  REQUIRE(j.status == 0);
  auto rows = json::parse(j.out);
  REQUIRE(rows.size() >= 5);
  for (const auto& row : rows) CHECK(row["kind"] == "cloud");
  CHECK(rows[0]["lifecycle_g_per_kwh"].get<double>() <= rows[1]["lifecycle_g_per_kwh"].get<double>());
  CHECK(run_proc({greenrun_bin(), "regions", "zzzz-nothing"}).status == 1);
  auto by_name = run_proc({greenrun_bin(), "regions", "--sort", "name", "--json"});
  REQUIRE(by_name.status == 0);
  CHECK(json::parse(by_name.out).size() > 400);
}

namespace {

// CodeCarbon 3.3.0's columns, from its own formulas (emissions_tracker.py:
// energy x PUE per measurement, water = WUE x that energy in kWh; ram_used_gb
// the mean of psutil.virtual_memory().used / 1024**3, ram_utilization_percent
// of its .percent), with psutil 6.1.1's Linux rules (_pslinux.py: used = total
// - free - buffers - cached, cached counting SReclaimable, total - free when
// that is negative; percent = (total - available) / total).
struct CodeCarbonExpected {
  double energy_consumed_kwh, water_consumed_l, ram_used_gb, ram_utilization_percent;
};
CodeCarbonExpected codecarbon_expected(double it_energy_j, double pue, double wue, const std::map<std::string, double>& meminfo_kb) {
  auto kb = [&](const char* k) { return meminfo_kb.count(k) ? meminfo_kb.at(k) * 1024 : 0.0; };
  const double total = kb("MemTotal"), free = kb("MemFree"), cached = kb("Cached") + kb("SReclaimable");
  double used = total - free - cached - kb("Buffers");
  if (used < 0) used = total - free;
  const double kwh = it_energy_j * pue / 3.6e6;
  return {kwh, wue * kwh, used / (1024.0 * 1024 * 1024), 100 * (total - kb("MemAvailable")) / total};
}

std::string meminfo_text(const std::map<std::string, double>& kb) {
  std::string s;
  for (const auto* k : {"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "SReclaimable"})
    if (kb.count(k)) s += std::string(k) + ": " + std::to_string(static_cast<long long>(kb.at(k))) + " kB\n";
  return s;
}

}  // namespace

TEST_CASE("the CSV's columns follow CodeCarbon 3.3.0's own rules, worked out independently", "[carbon][cli][csv]") {
  Machine m(20);
  const std::string proc = m.dir / "proc";
  write_file(proc + "/cpuinfo", slurp("/proc/cpuinfo"));
  write_file(proc + "/stat", slurp("/proc/stat"));
  // An idle 16 GiB machine: page cache and reclaimable slab are not "used" for psutil.
  const std::map<std::string, double> idle = {{"MemTotal", 16777216}, {"MemFree", 9000000},  {"MemAvailable", 14000000},
                                              {"Buffers", 300000},    {"Cached", 4500000},  {"SwapCached", 1000},
                                              {"SReclaimable", 500000}};
  // A container whose page cache exceeds what it holds: psutil falls back to total - free.
  const std::map<std::string, double> odd = {{"MemTotal", 1048576}, {"MemFree", 400000}, {"MemAvailable", 900000},
                                             {"Buffers", 100000},   {"Cached", 600000},  {"SReclaimable", 50000}};
  for (const auto* mem : {&idle, &odd}) {
    write_file(proc + "/meminfo", meminfo_text(*mem));
    const std::string csv = m.dir / (mem == &idle ? "idle.csv" : "odd.csv");
    auto r = m.run({"-q", "--procfs-root", proc, "--pue", "1.5", "--wue", "1.8", "--json", m.dir / "r.json", "--csv", csv,
                    "--interval", "100ms", "--", "sleep", "0.3"});
    REQUIRE(r.status == 0);
    auto t = greenrun::parse_csv(slurp(csv), csv);
    REQUIRE(t);
    auto col = [&](const std::string& name) { return t->rows[0][static_cast<size_t>(t->column(name))]; };
    auto j = json::parse(slurp(m.dir / "r.json"));
    const auto want = codecarbon_expected(j["energy_j"].get<double>(), 1.5, 1.8, *mem);
    INFO(slurp(csv));
    CHECK(std::stod(col("energy_consumed")) == Approx(want.energy_consumed_kwh).epsilon(1e-6));
    CHECK(std::stod(col("water_consumed")) == Approx(want.water_consumed_l).epsilon(1e-6));
    CHECK(std::stod(col("ram_used_gb")) == Approx(want.ram_used_gb).epsilon(1e-9));
    CHECK(std::stod(col("ram_utilization_percent")) == Approx(want.ram_utilization_percent).epsilon(1e-9));
    // No --region: the world average, with a code carbonboard can read (its
    // update_show_regional_comparison calls .upper() on it).
    CHECK(col("country_iso_code") == "WLD");
    CHECK_FALSE(col("country_name").empty());
  }
}
