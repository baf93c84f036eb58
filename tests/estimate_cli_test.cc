// Estimation end to end on this machine's real /proc, with an empty sysfs so
// that no counter is found even where the build machine has one.

#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "util/csv.h"
#include "sensors/estimate.h"
#include "sensors/hardware.h"
#include "sensors/hardware_data.h"
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

struct Box {
  TempDir dir;
  std::string sys = dir / "sys";
  std::unique_ptr<FakeRapl> rapl;
  Box() { make_dirs(sys); }
  json run(std::vector<std::string> args, ProcResult* out = nullptr) const {
    std::vector<std::string> argv = {greenrun_bin(), "-q", "--json", dir / "r.json", "--interval", "200ms"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcOptions opt;
    opt.env = {{"GREENRUN_SYSFS_ROOT", sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
    auto r = run_proc(argv, opt);
    if (out) *out = r;
    if (r.status != 0) FAIL("greenrun failed: " << r.err);
    return json::parse(slurp(dir / "r.json"));
  }
};


}  // namespace

TEST_CASE("this machine: a 2 s busy loop gets an estimate inside the model's range, sleep next to nothing",
          "[estimate][cli]") {
  Box b;
  auto data = HardwareData::load(source_dir() + "/share");
  REQUIRE(data);
  auto model = cpu_power_model(detect_hardware(b.sys, "/proc"), *data, {});
  auto busy = b.run({"--scope", "process", "--", toy_train_bin(), "2"});
  auto idle = b.run({"--", "sleep", "2"});

  const json* cpu = component(busy, "cpu");
  REQUIRE(cpu);
  CHECK((*cpu)["measured"] == false);
  CHECK((*cpu)["method"] == model.method);
  double t = busy["duration_s"];
  double machine = (*cpu)["machine_energy_j"], mine = (*cpu)["energy_j"];
  // The machine's estimate lies between all-idle and all-busy for the run.
  CHECK(machine >= model.idle_w * t * 0.95);
  CHECK(machine <= model.max_w * t * 1.05);
  // Its share of that by CPU time (other tests may be running on this machine too).
  CHECK(mine > 0);
  CHECK(mine <= machine + 1e-9);
  CHECK((*cpu)["energy_j_low"].get<double>() == Approx(mine * model.low_factor));
  CHECK((*cpu)["energy_j_high"].get<double>() == Approx(mine * model.high_factor));
  const json* ram = component(busy, "ram");
  REQUIRE(ram);
  CHECK((*ram)["measured"] == false);
  CHECK(busy["energy_measured"] == "estimated");

  const json* sleep_cpu = component(idle, "cpu");
  REQUIRE(sleep_cpu);
  CHECK(mine > 20 * (*sleep_cpu)["energy_j"].get<double>());
}

TEST_CASE("no-estimate fails before the command starts where nothing can be measured", "[estimate][cli]") {
  Box b;
  auto r = run_proc({greenrun_bin(), "--no-estimate", "--", "touch", b.dir / "ran"},
                    {"", {{"GREENRUN_SYSFS_ROOT", b.sys}, {"GREENRUN_CONFIG", ""}}});
  CHECK(r.status == 125);
  CHECK_THAT(r.err, Catch::Contains("nothing can be measured") && Catch::Contains("no RAPL"));
  CHECK_FALSE(std::ifstream(b.dir / "ran").good());
}

TEST_CASE("a mixed run says which figure is measured and which estimated", "[estimate][cli]") {
  Box b;
  b.rapl = std::make_unique<FakeRapl>(b.sys, 15.0);  // package only: no dram zone
  ProcResult out;
  auto j = b.run({"--csv", b.dir / "e.csv", "--", "sleep", "0.5"}, &out);
  const json* cpu = component(j, "cpu");
  const json* ram = component(j, "ram");
  REQUIRE(cpu);
  REQUIRE(ram);
  CHECK((*cpu)["measured"] == true);
  CHECK((*cpu)["source"] == "RAPL powercap");
  CHECK((*ram)["measured"] == false);
  CHECK_THAT((*ram)["method"].get<std::string>(), Catch::Contains("0.3725 W per GB"));
  CHECK(j["energy_measured"] == "partly");
  auto t = parse_csv(slurp(b.dir / "e.csv"), "e.csv");
  REQUIRE(t);
  REQUIRE(t->rows.size() == 1);
  CHECK_THAT(t->rows[0][static_cast<size_t>(t->column("cpu_model"))], Catch::EndsWith("[greenrun: ram estimated]"));

  SECTION("--no-estimate keeps the measured figure and drops the estimate") {
    auto m = b.run({"--no-estimate", "--", "sleep", "0.3"});
    REQUIRE(m["components"].size() == 1);
    CHECK(m["components"][0]["name"] == "cpu");
    CHECK(m["energy_measured"] == "measured");
  }
}

TEST_CASE("the summary labels estimates with their method and range", "[estimate][cli]") {
  Box b;
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", b.sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  auto r = run_proc({greenrun_bin(), "--cpu-idle-w", "10", "--cpu-max-w", "50", "--", toy_train_bin(), "0.5"}, opt);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Catch::Contains("estimated") && Catch::Contains("given: 10.0 W idle, 50.0 W at full load"));
  CHECK_THAT(r.err, Catch::Contains(" to "));  // the range
  CHECK_THAT(r.err, Catch::Contains("computed: estimated energy"));
}
