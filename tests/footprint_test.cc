// Embodied emissions, SCI, water and cloud instance types: the pure
// computations with exact figures from the shipped data, then end to end.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "carbon/footprint.h"
#include "commands/options.h"
#include "helpers.h"
#include "report/codecarbon_csv.h"
#include "sensors/estimate.h"
#include "sensors/hardware_data.h"
#include "sensors/source_table.h"
#include "util/csv.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

const HardwareData& shipped_hardware() {
  static const HardwareData data = [] {
    auto d = HardwareData::load(source_dir() + "/share");
    REQUIRE(d);
    return std::move(*d);
  }();
  return data;
}

Hardware bare_metal(int logical) {
  Hardware hw;
  hw.cpu.logical = logical;
  return hw;
}

}  // namespace

TEST_CASE("cloud instance types come from share/hardware with the curated figures", "[footprint]") {
  const auto& data = shipped_hardware();
  auto m5 = data.instance("aws", "m5.xlarge");
  REQUIRE(m5);
  CHECK(m5->vcpus == 4);
  CHECK(m5->platform_vcpus == 96);
  CHECK(m5->embodied_kg == 1610.79);
  CHECK(m5->pkg_w == std::vector<double>{2.41, 6.11, 14.32, 19.92});
  CHECK(m5->ram_w == std::vector<double>{2.41, 3.85, 9.92, 15.99});
  auto p4d = data.instance("aws", "p4d.24xlarge");
  REQUIRE(p4d);
  CHECK(p4d->gpus == 8);
  CHECK(p4d->embodied_kg == 4676.79);
  // Azure and GCP: embodied and vCPUs, no per-instance watts.
  auto gcp = data.instance("gcp", "e2-standard-2");
  REQUIRE(gcp);
  CHECK(gcp->embodied_kg == 1230.46);  // the coefficients' mean over micro-architectures
  CHECK(gcp->pkg_w.empty());
  auto typo = data.instance("aws", "m5.xlarg");
  REQUIRE_FALSE(typo);
  CHECK_THAT(typo.error(), Catch::Contains("unknown aws instance type 'm5.xlarg'") && Catch::Contains("m5.xlarge"));
  CHECK_FALSE(data.instance("ibm", "bx2-2x8"));
}

TEST_CASE("an AWS instance's Teads curve replaces the per-vCPU average, and says so", "[footprint][estimate]") {
  const auto& data = shipped_hardware();
  auto m5 = data.instance("aws", "m5.xlarge");
  REQUIRE(m5);
  Hardware hw = bare_metal(4);
  hw.virtual_machine = true;
  hw.cloud = "aws";
  EstimateOverrides o;
  o.instance = &*m5;
  CpuPowerModel m = cpu_power_model(hw, data, o);
  CHECK(m.basis == "instance");
  CHECK_THAT(m.method, Catch::Contains("aws m5.xlarge") && Catch::Contains("2.41/6.11/14.3/19.9 W at 0/10/50/100% load"));
  CHECK(cpu_power_w(m, 0) == 2.41);
  CHECK(cpu_power_w(m, 1) == 19.92);
  CHECK(cpu_power_w(m, 0.3) == Approx(6.11 + (14.32 - 6.11) * 0.5));  // halfway from 10% to 50%
  CHECK(cpu_power_w(m, 0.05) == Approx((2.41 + 6.11) / 2));
  auto ram = ram_curve_model(o);
  REQUIRE(ram);
  CHECK(ram->curve.at(0.75) == Approx((9.92 + 15.99) / 2));
  // --ram-w-per-gb keeps the per-GB model.
  o.ram_w_per_gb = 0.5;
  CHECK_FALSE(ram_curve_model(o));
}

TEST_CASE("an instance type needs a provider and a known type", "[footprint]") {
  const auto& data = shipped_hardware();
  SourceOptions sources;
  EstimateOptions estimate;
  ProbeOptions o{sources, estimate, "", std::chrono::seconds(1)};
  sources.instance_type = "m5.xlarge";
  auto none = resolve_instance(o, bare_metal(4), data);
  REQUIRE_FALSE(none);
  CHECK_THAT(none.error(), Catch::Contains("--cloud"));
  o.cloud = "aws:eu-west-3";
  auto ok = resolve_instance(o, bare_metal(4), data);
  REQUIRE(ok);
  REQUIRE(*ok);
  CHECK((*ok)->type == "m5.xlarge");
  // auto: the type from DMI, only where AWS sets it.
  sources.instance_type = "auto";
  Hardware nitro = bare_metal(4);
  nitro.cloud = "aws";
  nitro.product_name = "c5.large";
  auto from_dmi = resolve_instance(o, nitro, data);
  REQUIRE(from_dmi);
  CHECK((*from_dmi)->type == "c5.large");
  CHECK_FALSE(resolve_instance(o, bare_metal(4), data));
}

TEST_CASE("embodied: kg x machine share x time over lifetime x the command's share", "[footprint]") {
  const auto& data = shipped_hardware();
  auto m5 = data.instance("aws", "m5.xlarge");
  REQUIRE(m5);
  FootprintOptions o;
  auto s = resolve_embodied(o, bare_metal(4), *m5, data.embodied_defaults());
  REQUIRE(s);
  CHECK(s->basis == "instance");
  EmbodiedUse use{3600, 0.5, 0.5, 0};
  EmbodiedReport e = compute_embodied(*s, use);
  REQUIRE(e.parts.size() == 1);
  const double want = 1610.79 * 1000 * (4.0 / 96) * (1.0 / 35040) * 0.5;  // g
  CHECK(e.emissions_g == Approx(want).epsilon(1e-12));
  CHECK(e.low_g == Approx(want * 0.5));
  CHECK(e.high_g == Approx(want * 1.5));
  CHECK(e.parts[0].part.machine_share == Approx(4.0 / 96));

  SECTION("default server on bare metal, and each GPU the report has") {
    auto d = resolve_embodied(o, bare_metal(8), std::nullopt, data.embodied_defaults());
    REQUIRE(d);
    EmbodiedReport r = compute_embodied(*d, {7200, 1.0, 0.25, 2});
    REQUIRE(r.parts.size() == 2);
    CHECK(r.parts[0].emissions_g == Approx(967.9 * 1000 * 2 / 35040));
    CHECK(r.parts[1].part.what == "2 GPUs");
    CHECK(r.parts[1].emissions_g == Approx(2 * 575.1 * 1000 * 2 / 26280 * 0.25));
    CHECK(r.emissions_g == Approx(r.parts[0].emissions_g + r.parts[1].emissions_g));
  }
  SECTION("a VM without an instance type shares the reference server by vCPUs") {
    Hardware vm = bare_metal(2);
    vm.virtual_machine = true;
    auto d = resolve_embodied(o, vm, std::nullopt, data.embodied_defaults());
    REQUIRE(d);
    EmbodiedReport r = compute_embodied(*d, {3600, 1.0, 1.0, 0});
    CHECK(r.emissions_g == Approx(967.9 * 1000 * (2.0 / 96) / 35040));
  }
  SECTION("--embodied-kg and --lifetime replace the data; --no-embodied has none") {
    o.embodied_kg = 2000;
    o.lifetime_years = 5;
    auto d = resolve_embodied(o, bare_metal(8), *m5, data.embodied_defaults());
    REQUIRE(d);
    CHECK(d->basis == "given");
    EmbodiedReport r = compute_embodied(*d, {3600, 1.0, 1.0, 4});  // GPUs are in the given figure
    REQUIRE(r.parts.size() == 1);
    CHECK(r.emissions_g == Approx(2000.0 * 1000 / (5 * 8760)));
    FootprintOptions off;
    off.no_embodied = true;
    CHECK_FALSE(resolve_embodied(off, bare_metal(8), std::nullopt, data.embodied_defaults()));
  }
}

TEST_CASE("SCI is (E x I + M) / R and water is IT energy x WUE", "[footprint]") {
  CarbonReport c;
  c.energy_kwh = 0.002;
  c.settings.pue = 1.5;
  c.intensity_g_per_kwh = 400;
  c.emissions_g = 0.002 * 1.5 * 400;
  EmbodiedReport e;
  e.emissions_g = 0.3;
  SciReport s = compute_sci(c, &e, {1000, "images"});
  CHECK(s.e_kwh == Approx(0.003));
  CHECK(s.o_g == Approx(1.2));
  CHECK(s.per_unit_g == Approx((1.2 + 0.3) / 1000));
  SciReport no_m = compute_sci(c, nullptr, {2, "runs"});
  CHECK_FALSE(no_m.m_included);
  CHECK(no_m.per_unit_g == Approx(0.6));

  WaterReport w = compute_water(0.004, 0.18);
  REQUIRE(w.liters);
  CHECK(*w.liters == Approx(0.00072));
  WaterReport unknown = compute_water(0.004, std::nullopt);
  CHECK_FALSE(unknown.liters);
  CHECK_THAT(unknown.source, Catch::StartsWith("unknown"));
}

TEST_CASE("the footprint options parse and refuse bad values", "[footprint][options]") {
  auto parse = [](std::vector<std::string> args) {
    args.insert(args.end(), {"--", "true"});
    return parse_cli(args, [](const std::string&) { return std::nullopt; });
  };
  auto ok = parse({"--functional-unit", "1000:images", "--lifetime", "5y", "--embodied-kg", "1200", "--wue", "0.18"});
  REQUIRE(ok.action == ParsedCli::Action::Run);
  REQUIRE(ok.options.footprint.functional_unit);
  CHECK(ok.options.footprint.functional_unit->count == 1000);
  CHECK(ok.options.footprint.functional_unit->name == "images");
  CHECK(*ok.options.footprint.lifetime_years == 5);
  CHECK(*ok.options.footprint.embodied_kg == 1200);
  CHECK(*ok.options.footprint.wue == 0.18);
  CHECK(parse({"--functional-unit", "3"}).options.footprint.functional_unit->name == "unit");
  for (auto bad : std::vector<std::vector<std::string>>{{"--functional-unit", "0:x"},
                                                        {"--functional-unit", "10:"},
                                                        {"--lifetime", "100"},
                                                        {"--embodied-kg", "-1"},
                                                        {"--wue", "abc"},
                                                        {"--no-embodied", "--embodied-kg", "5"},
                                                        {"--progress", "100ms"}}) {
    auto r = parse(bad);
    CHECK(r.action == ParsedCli::Action::Exit);
    CHECK(r.exit_code == 125);
  }
}

TEST_CASE("a run reports embodied, SCI and water in the summary, the JSON and the CSV", "[footprint][cli]") {
  TempDir dir;
  make_dirs(dir / "sys");
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  auto r = run_proc({greenrun_bin(), "--json", dir / "r.json", "--csv", dir / "e.csv", "--cloud", "aws:eu-west-3",
                     "--instance-type", "m5.xlarge", "--functional-unit", "1000:images", "--wue", "0.18", "--interval",
                     "200ms", "--", toy_train_bin(), "1"},
                    opt);
  REQUIRE(r.status == 0);
  json j = json::parse(slurp(dir / "r.json"));
  CHECK(j["instance_type"] == "aws m5.xlarge");
  const json& cpu = *component(j, "cpu");
  CHECK_THAT(cpu["method"].get<std::string>(), Catch::Contains("per-instance model: aws m5.xlarge"));
  const json& e = j["embodied"];
  REQUIRE(e.is_object());
  CHECK(e["basis"] == "instance");
  const double share = j["energy_j"].get<double>() / j["machine_energy_j"].get<double>();
  const double want = 1610.79 * 1000 * (4.0 / 96) * (e["duration_s"].get<double>() / 3600 / 35040) * share;
  CHECK(e["emissions_g"].get<double>() == Approx(want).epsilon(1e-9));
  CHECK(e["duration_s"] == j["duration_s"]);
  const json& s = j["sci"];
  REQUIRE(s.is_object());
  CHECK(s["functional_unit"] == "images");
  CHECK(s["o_g"] == j["emissions_g"]);
  CHECK(s["m_g"] == e["emissions_g"]);
  CHECK(s["sci_g_per_unit"].get<double>() ==
        Approx((j["emissions_g"].get<double>() + e["emissions_g"].get<double>()) / 1000));
  const json& w = j["water"];
  CHECK(w["wue_l_per_kwh"] == 0.18);
  CHECK(w["liters"].get<double>() == Approx(j["energy_j"].get<double>() / 3.6e6 * 0.18));
  // The summary shows each, apart from the emissions.
  CHECK_THAT(r.err, Catch::Contains("  embodied  ") && Catch::Contains("not in the emissions above") &&
                        Catch::Contains("  SCI  ") && Catch::Contains("per functional unit = (E x I + M) / R") && Catch::Contains(") / 1000 images") &&
                        Catch::Contains("  water  "));
  // The CSV's water columns, as CodeCarbon names and computes them: WUE x the
  // energy at the meter (x PUE), where the JSON's is on-site water (IT energy x WUE).
  auto table = parse_csv(slurp(dir / "e.csv"), "e.csv");
  REQUIRE(table);
  REQUIRE(table->rows.size() == 1);
  CHECK(std::stod(table->rows[0][table->column("wue")]) == 0.18);
  CHECK(std::stod(table->rows[0][table->column("water_consumed")]) ==
        Approx(0.18 * std::stod(table->rows[0][table->column("energy_consumed")])).epsilon(1e-9));
  CHECK(std::stod(table->rows[0][table->column("water_consumed")]) ==
        Approx(w["liters"].get<double>() * std::stod(table->rows[0][table->column("pue")])).epsilon(1e-6));

  // Without --wue the water is unknown: empty CSV cells, never a guessed 0.
  auto plain = run_proc({greenrun_bin(), "-q", "--json", dir / "p.json", "--csv", dir / "p.csv", "--region", "FR", "--",
                         "true"},
                        opt);
  REQUIRE(plain.status == 0);
  json p = json::parse(slurp(dir / "p.json"));
  CHECK(p["water"]["liters"].is_null());
  CHECK(p["sci"].is_null());
  auto pt = parse_csv(slurp(dir / "p.csv"), "p.csv");
  REQUIRE(pt);
  CHECK(pt->rows[0][pt->column("water_consumed")].empty());
  CHECK(pt->rows[0][pt->column("wue")].empty());
}
