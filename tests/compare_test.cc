// report/compare: a baseline report against this run (--baseline, --max-increase,
// `greenrun compare`). Differences and percentages worked out by hand.

#include <catch2/catch.hpp>

#include "report/compare.h"

using namespace greenrun;
using Catch::Matchers::Contains;

namespace {

ReportFigures figures(const std::string& name, std::optional<double> energy_j, std::optional<double> emissions_g,
                      double duration_s, double cpu_s) {
  ReportFigures f;
  f.name = name;
  f.command = {"make", "test"};
  f.status = "finished";
  f.energy_j = energy_j;
  f.energy_kind = "measured";
  f.emissions_g = emissions_g;
  f.duration_s = duration_s;
  f.cpu_s = cpu_s;
  return f;
}

}  // namespace

TEST_CASE("compare gives each figure's change with its sign and its percent of the baseline", "[compare]") {
  // energy 200 -> 150 J: -50 J, -50 / 200 = -25 %; emissions 0.5 -> 0.6 g:
  // +0.1 g, +20 %; duration 10 -> 12.5 s: +2.5 s, +25 %; CPU time 8 -> 8 s: 0, 0 %.
  const auto before = figures("main.json", 200, 0.5, 10, 8);
  const auto after = figures("this run", 150, 0.6, 12.5, 8);
  const BaselineComparison c = compare_reports(before, after);
  CHECK(c.baseline == "main.json");
  REQUIRE(c.rows.size() == 4);
  CHECK(c.rows[0].what == "energy");
  CHECK(c.rows[0].unit == "J");
  CHECK(c.rows[0].delta() == Approx(-50));
  CHECK(*c.rows[0].percent() == Approx(-25));
  CHECK(c.rows[1].what == "emissions");
  CHECK(c.rows[1].unit == "g");
  CHECK(c.rows[1].delta() == Approx(0.1));
  CHECK(*c.rows[1].percent() == Approx(20));
  CHECK(c.rows[2].what == "duration");
  CHECK(*c.rows[2].percent() == Approx(25));
  CHECK(c.rows[3].what == "CPU time");
  CHECK(c.rows[3].delta() == 0);
  CHECK(*c.rows[3].percent() == 0);
  CHECK(*c.energy_percent() == Approx(-25));
  CHECK(c.notes.empty());  // same command, both measured

  CHECK(format_comparison(c) ==
        "energy 200 J -> 150 J (-50.0 J, -25.0%)\n"
        "emissions 500 mg -> 600 mg (+100 mg, +20.0%)\n"
        "duration 10.0 s -> 12.5 s (+2.50 s, +25.0%)\n"
        "CPU time 8.00 s -> 8.00 s (+0.000 s, +0.0%)\n");

  const auto j = comparison_json(c);
  CHECK(j["file"] == "main.json");
  CHECK(j["changes"][0]["what"] == "energy");
  CHECK(j["changes"][0]["baseline"].get<double>() == 200);
  CHECK(j["changes"][0]["this_run"].get<double>() == 150);
  CHECK(j["changes"][0]["change"].get<double>() == Approx(-50));
  CHECK(j["changes"][0]["change_percent"].get<double>() == Approx(-25));
}

TEST_CASE("compare against a zero baseline gives the difference and no percent", "[compare]") {
  // 0 J -> 50 J: +50 J, and no percentage of nothing; 0 s -> 1.5 s likewise.
  const auto before = figures("zero.json", 0, 0, 0, 0);
  const auto after = figures("this run", 50, 0.002, 1.5, 1);
  const BaselineComparison c = compare_reports(before, after);
  REQUIRE(c.rows.size() == 4);
  CHECK(c.rows[0].delta() == 50);
  CHECK_FALSE(c.rows[0].percent().has_value());
  CHECK_FALSE(c.energy_percent().has_value());
  CHECK_FALSE(c.rows[2].percent().has_value());

  const std::string text = format_comparison(c);
  CHECK_THAT(text, Contains("energy 0 J -> 50.0 J (+50.0 J)\n"));
  CHECK_THAT(text, Contains("duration 0.000 s -> 1.50 s (+1.50 s)\n"));
  CHECK_THAT(text, !Contains("%"));
  CHECK_THAT(text, !Contains("inf"));
  const auto j = comparison_json(c);
  CHECK(j["changes"][0]["change"].get<double>() == 50);
  CHECK(j["changes"][0]["change_percent"].is_null());
  CHECK_THAT(format_comparison_markdown(c), Contains("| energy | 0 J | 50.0 J | +50.0 J |\n"));

  SECTION("a baseline without an energy figure has no energy row at all") {
    const BaselineComparison n = compare_reports(figures("none.json", std::nullopt, std::nullopt, 2, 1), after);
    REQUIRE(n.rows.size() == 2);
    CHECK(n.rows[0].what == "duration");
    CHECK(n.rows[1].what == "CPU time");
    CHECK_FALSE(n.energy_percent().has_value());
  }
}

TEST_CASE("compare says when the two runs ran different commands or measured differently", "[compare]") {
  auto before = figures("main.json", 100, 0.1, 1, 1);
  auto after = figures("this run", 110, 0.11, 1, 1);

  SECTION("different commands") {
    after.command = {"make", "check"};
    const auto c = compare_reports(before, after);
    REQUIRE(c.notes.size() == 1);
    CHECK(c.notes[0] == "the two runs ran different commands");
  }
  SECTION("measured against estimated") {
    after.energy_kind = "estimated";
    const auto c = compare_reports(before, after);
    REQUIRE(c.notes.size() == 1);
    CHECK(c.notes[0] == "the baseline's energy is measured, this run's estimated: they are not measured the same way");
  }
  SECTION("both estimated by the same model: the difference is CPU time, and no range note") {
    before.energy_kind = after.energy_kind = "estimated";
    before.methods = after.methods = "TDP x (0.1 + 0.9 x load^3)";
    before.energy_low_j = 50, before.energy_high_j = 150;  // ranges that overlap
    after.energy_low_j = 55, after.energy_high_j = 165;
    const auto c = compare_reports(before, after);
    REQUIRE(c.notes.size() == 1);
    CHECK_THAT(c.notes[0], Contains("both runs are estimates from the same model"));
  }
}

TEST_CASE("compare notes estimates from different models whose ranges overlap, touching included", "[compare]") {
  auto before = figures("main.json", 100, std::nullopt, 1, 1);
  auto after = figures("this run", 130, std::nullopt, 1, 1);
  before.energy_kind = after.energy_kind = "estimated";
  before.methods = "model A";
  after.methods = "model B";
  const std::string note = "the estimates' ranges overlap: the change is within the estimate's uncertainty";
  before.energy_low_j = 80, before.energy_high_j = 120;

  // [80, 120] and [110, 150] overlap.
  after.energy_low_j = 110, after.energy_high_j = 150;
  auto c = compare_reports(before, after);
  REQUIRE(c.notes.size() == 1);
  CHECK(c.notes[0] == note);
  REQUIRE(c.rows.size() == 3);  // energy, duration, CPU time: no emissions figures
  // [80, 120] and [120, 150] touch: still within each other's uncertainty.
  after.energy_low_j = 120;
  CHECK(compare_reports(before, after).notes == std::vector<std::string>{note});
  // [80, 120] and [120.5, 150] do not.
  after.energy_low_j = 120.5;
  CHECK(compare_reports(before, after).notes.empty());
}

TEST_CASE("read_report takes a JSON report's figures and the range of its estimated part", "[compare]") {
  // Components 50 J measured and 25 J estimated (12.5 to 37.5 J): the range is
  // 50 + 12.5 = 62.5 J to 50 + 37.5 = 87.5 J.
  nlohmann::json j = {{"schema_version", 2},
                      {"greenrun_version", "0.0.0"},
                      {"command", {"make", "test"}},
                      {"status", "finished"},
                      {"energy_j", 75},
                      {"machine_energy_j", 300},
                      {"energy_measured", "partly estimated"},
                      {"emissions_g", 0.02},
                      {"duration_s", 3},
                      {"cpu_time_s", 2.5},
                      {"host", "ci-7"},
                      {"boot_id", "b-1"},
                      {"started_at", "2026-12-07T10:00:00.000+00:00"},
                      {"exit_code", 2},
                      {"components",
                       {{{"name", "cpu"}, {"energy_j", 50}, {"measured", true}},
                        {{"name", "gpu0"}, {"energy_j", 25}, {"energy_j_low", 12.5}, {"energy_j_high", 37.5},
                         {"measured", false}, {"method", "TDP x utilisation"}}}}};
  auto f = read_report(j, "main.json");
  REQUIRE(f);
  CHECK(f->name == "main.json");
  CHECK(f->command == std::vector<std::string>{"make", "test"});
  CHECK(*f->energy_j == 75);
  CHECK(*f->machine_energy_j == 300);
  CHECK(*f->emissions_g == Approx(0.02));
  CHECK(f->duration_s == 3);
  CHECK(f->cpu_s == 2.5);
  CHECK(f->host == "ci-7");
  CHECK(*f->exit_code == 2);
  CHECK_FALSE(f->slurm);
  CHECK(*f->energy_low_j == Approx(62.5));
  CHECK(*f->energy_high_j == Approx(87.5));
  CHECK(f->methods == "TDP x utilisation");

  SECTION("a measured report has no range; an exit code outside 0..255 and a null energy are dropped") {
    j["energy_measured"] = "measured";
    j["exit_code"] = 300;
    j["energy_j"] = nullptr;
    j["slurm"] = {{"job_id", "7"}};
    auto g = read_report(j, "main.json");
    REQUIRE(g);
    CHECK_FALSE(g->energy_low_j.has_value());
    CHECK_FALSE(g->exit_code.has_value());
    CHECK_FALSE(g->energy_j.has_value());
    CHECK(g->slurm);
  }
  SECTION("not a report, or another schema: an error naming the file") {
    auto none = read_report(nlohmann::json{{"energy_j", 1}}, "x.json");
    REQUIRE_FALSE(none);
    CHECK(none.error() == "x.json is not a greenrun JSON report (no greenrun_version and schema_version)");
    j["schema_version"] = 3;
    auto three = read_report(j, "new.json");
    REQUIRE_FALSE(three);
    CHECK(three.error() == "new.json has schema_version 3; this greenrun reads 1 and 2");
  }
}

TEST_CASE("the comparison as Markdown is a four-column table with signed changes", "[compare]") {
  const BaselineComparison c =
      compare_reports(figures("main.json", 3600, 1.5, 60, 30), figures("this run", 7200, 1.2, 90, 30));
  // 3600 J = 1 Wh -> 2 Wh, +1 Wh, +100 %; 1.5 -> 1.2 g, -0.3 g = -300 mg, -20 %;
  // 60 s -> 90 s: "1 min 00 s" -> "1 min 30 s", +30.0 s, +50 %.
  CHECK(format_comparison_markdown(c) ==
        "| | baseline | this run | change |\n|---|---:|---:|---:|\n"
        "| energy | 1.00 Wh | 2.00 Wh | +1.00 Wh (+100.0%) |\n"
        "| emissions | 1.50 g | 1.20 g | -300 mg (-20.0%) |\n"
        "| duration | 1 min 00 s | 1 min 30 s | +30.0 s (+50.0%) |\n"
        "| CPU time | 30.0 s | 30.0 s | +0.000 s (+0.0%) |\n"
        "\n");
}
