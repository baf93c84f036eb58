// report/merge: several reports into one (`greenrun report a.json b.json`).
// Every figure below is worked out by hand from the reports built here.

#include <cmath>

#include <catch2/catch.hpp>

#include "report/merge.h"

using namespace greenrun;
using Catch::Matchers::Contains;

namespace {

ReportFigures fig(const std::string& name, std::vector<std::string> command, std::optional<double> energy_j,
                  std::optional<double> emissions_g, double duration_s) {
  ReportFigures f;
  f.name = name;
  f.command = std::move(command);
  f.status = "finished";
  f.energy_j = energy_j;
  f.machine_energy_j = energy_j;
  f.energy_kind = energy_j ? "measured" : "none";
  f.emissions_g = emissions_g;
  f.duration_s = duration_s;
  f.exit_code = 0;
  return f;
}

// On machine `host`, boot `boot`, from `from` to `to` (RFC 3339, UTC).
ReportFigures& on(ReportFigures& f, const std::string& host, const std::string& boot, const std::string& from,
                  const std::string& to) {
  f.host = host;
  f.boot_id = boot;
  f.started_at = from;
  f.ended_at = to;
  return f;
}

}  // namespace

TEST_CASE("merge adds energy, emissions, duration and CPU time over the reports", "[merge]") {
  auto a = fig("a.json", {"make", "build"}, 120, 0.05, 10);
  a.cpu_s = 4;
  a.machine_energy_j = 300;
  on(a, "h1", "b1", "2026-12-07T10:00:00Z", "2026-12-07T10:00:10Z");
  auto b = fig("b.json", {"make", "test"}, 30, 0.02, 2.5);
  b.cpu_s = 1.5;
  b.machine_energy_j = 90;
  on(b, "h2", "b2", "2026-12-07T10:00:00Z", "2026-12-07T10:00:02.5Z");
  const MergedReport m = merge_reports({a, b});

  CHECK(m.energy_j == Approx(120 + 30));
  CHECK(m.emissions_g == Approx(0.05 + 0.02));
  CHECK(m.duration_s == Approx(10 + 2.5));
  CHECK(m.cpu_s == Approx(4 + 1.5));
  CHECK(m.energy_kind == "measured");
  CHECK(m.emissions_complete);
  CHECK(m.notes.empty());
  CHECK(m.repeated.empty());  // two different commands
  // Two machines: each one's own figure and its machine figure, 300 + 90 J in all.
  REQUIRE(m.nodes.size() == 2);
  CHECK(m.nodes[0].host == "h1");
  CHECK(m.nodes[0].reports == 1);
  CHECK(m.nodes[0].energy_j == Approx(120));
  CHECK(m.nodes[0].machine_energy_j == Approx(300));
  CHECK(m.nodes[1].host == "h2");
  CHECK(m.nodes[1].machine_energy_j == Approx(90));
  CHECK(m.machine_energy_j == Approx(390));
  REQUIRE(m.runs.size() == 2);
  CHECK(m.runs[0].name == "a.json");  // in the order given
  CHECK(m.runs[1].name == "b.json");

  const std::string text = format_merged(m);
  CHECK_THAT(text, Contains("a.json: make build: 120 J measured, 50.0 mg CO2e, 10.0 s on h1\n"));
  CHECK_THAT(text, Contains("total: 150 J measured, 70.0 mg CO2e, 12.5 s over 2 reports\n"));
  CHECK_THAT(text, Contains("machines: 390 J (each machine's counters once)\n"));
  CHECK_THAT(text, Contains("  node h1: 1 reports, 120 J their own, 300 J the machine's\n"));

  const auto j = merged_json(m);
  CHECK(j["total"]["energy_j"].get<double>() == Approx(150));
  CHECK(j["total"]["machine_energy_j"].get<double>() == Approx(390));
  CHECK(j["total"]["emissions_g"].get<double>() == Approx(0.07));
  CHECK(j["total"]["cpu_time_s"].get<double>() == Approx(5.5));
  CHECK(j["reports"][1]["file"] == "b.json");
  CHECK(j["reports"][1]["emissions_g"].get<double>() == Approx(0.02));
  CHECK(j["nodes"][0]["machine_energy_j"].get<double>() == Approx(300));
}

TEST_CASE("merge leaves a report without emissions or energy out of the sums and says so", "[merge]") {
  auto a = fig("a.json", {"./a"}, 40, 0.01, 1);
  auto b = fig("b.json", {"./b"}, 60, std::nullopt, 2);
  b.energy_kind = "estimated";
  auto c = fig("c.json", {"./c"}, std::nullopt, 0.004, 3);  // no energy source, yet an emissions figure
  const MergedReport m = merge_reports({a, b, c});

  CHECK(m.energy_j == Approx(40 + 60));        // c adds nothing
  CHECK(m.emissions_g == Approx(0.01 + 0.004));  // b adds nothing
  CHECK(m.duration_s == Approx(6));
  CHECK_FALSE(m.emissions_complete);
  CHECK(m.energy_kind == "mixed");  // measured, estimated, none
  REQUIRE(m.notes.size() == 1);
  CHECK(m.notes[0] == "some reports have no emissions figure: the total leaves them out");

  const std::string text = format_merged(m);
  CHECK_THAT(text, Contains("b.json: ./b: 60.0 J estimated, no emissions, 2.00 s\n"));
  CHECK_THAT(text, Contains("c.json: ./c: not measured, 4.00 mg CO2e, 3.00 s\n"));
  const auto j = merged_json(m);
  CHECK(j["reports"][1]["emissions_g"].is_null());
  CHECK(j["reports"][2]["energy_j"].is_null());

  SECTION("the kind is kept where every report has the same") {
    a.energy_kind = b.energy_kind = "estimated";
    CHECK(merge_reports({a, b}).energy_kind == "estimated");
  }
}

TEST_CASE("spread_of gives the mean, the sample standard deviation (n - 1) and the range", "[merge]") {
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 40 / 8 = 5; squares of the deviations
  // 9 + 1 + 1 + 1 + 0 + 0 + 4 + 16 = 32; sample variance 32 / 7; sd 2.13809.
  const Spread s = spread_of({2, 4, 4, 4, 5, 5, 7, 9});
  CHECK(s.n == 8);
  CHECK(s.mean == Approx(5));
  CHECK(s.stddev == Approx(std::sqrt(32.0 / 7.0)));
  CHECK(s.stddev == Approx(2.13809).epsilon(1e-5));
  CHECK(s.min == 2);
  CHECK(s.max == 9);

  const Spread one = spread_of({5});
  CHECK(one.n == 1);
  CHECK(one.mean == 5);
  CHECK(one.stddev == 0);  // no spread from one value (not a division by n - 1 = 0)
  const Spread none = spread_of({});
  CHECK(none.n == 0);
  CHECK(none.mean == 0);
}

TEST_CASE("a command run several times gets its mean, standard deviation and range", "[merge]") {
  // make test three times: 10, 20, 30 J (mean 20, sd sqrt((100 + 0 + 100) / 2) = 10)
  // in 1, 2, 6 s (mean 3, sd sqrt((4 + 1 + 9) / 2) = sqrt 7 = 2.6458).
  const MergedReport m = merge_reports({fig("1.json", {"make", "test"}, 10, 0.001, 1),
                                        fig("2.json", {"make", "build"}, 100, 0.01, 5),
                                        fig("3.json", {"make", "test"}, 20, 0.002, 2),
                                        fig("4.json", {"make", "test"}, 30, 0.003, 6)});
  REQUIRE(m.repeated.size() == 1);  // make build ran once
  const RepeatedCommand& c = m.repeated[0];
  CHECK(c.command == std::vector<std::string>{"make", "test"});
  CHECK(c.energy_j.n == 3);
  CHECK(c.energy_j.mean == Approx(20));
  CHECK(c.energy_j.stddev == Approx(10));
  CHECK(c.energy_j.min == 10);
  CHECK(c.energy_j.max == 30);
  CHECK(c.duration_s.n == 3);
  CHECK(c.duration_s.mean == Approx(3));
  CHECK(c.duration_s.stddev == Approx(std::sqrt(7.0)));
  CHECK(c.duration_s.max == 6);
  CHECK(m.energy_j == Approx(160));

  CHECK_THAT(format_merged(m), Contains("repeated 3x make test: energy mean 20.0 J (sd 10.0 J, 10.0 J to 30.0 J), "
                                        "duration mean 3.00 s (sd 2.65 s)\n"));
  const auto j = merged_json(m)["repeated"][0];
  CHECK(j["energy_j"]["n"] == 3);
  CHECK(j["energy_j"]["stddev"].get<double>() == Approx(10));
  CHECK(j["duration_s"]["mean"].get<double>() == Approx(3));
}

TEST_CASE("reports of one machine and boot that overlap in time count its energy once, the largest", "[merge]") {
  // On n1 (boot b1): a 10:00:00-10:00:10 (machine 500 J) and b 10:00:05-10:00:15
  // (450 J) overlap: the machine's energy then is the larger, 500 J; d at
  // 10:01 (300 J) does not overlap: 500 + 300 = 800 J. c ran at the same time
  // as a but after a reboot (boot b2): another machine as far as counters go, 200 J.
  auto a = fig("a.json", {"./job", "1"}, 100, 0.1, 10);
  a.machine_energy_j = 500;
  on(a, "n1", "b1", "2026-12-07T10:00:00Z", "2026-12-07T10:00:10Z");
  auto b = fig("b.json", {"./job", "2"}, 80, 0.1, 10);
  b.machine_energy_j = 450;
  on(b, "n1", "b1", "2026-12-07T10:00:05Z", "2026-12-07T10:00:15Z");
  auto c = fig("c.json", {"./job", "3"}, 50, 0.1, 10);
  c.machine_energy_j = 200;
  on(c, "n1", "b2", "2026-12-07T10:00:00Z", "2026-12-07T10:00:10Z");
  auto d = fig("d.json", {"./job", "4"}, 60, 0.1, 10);
  d.machine_energy_j = 300;
  on(d, "n1", "b1", "2026-12-07T10:01:00Z", "2026-12-07T10:01:10Z");
  const MergedReport m = merge_reports({a, b, c, d});

  REQUIRE(m.nodes.size() == 2);
  CHECK(m.nodes[0].host == "n1");
  CHECK(m.nodes[0].reports == 3);
  CHECK(m.nodes[0].energy_j == Approx(100 + 80 + 60));  // their own figures add up
  CHECK(m.nodes[0].machine_energy_j == Approx(500 + 300));
  CHECK(m.nodes[1].reports == 1);
  CHECK(m.nodes[1].machine_energy_j == Approx(200));
  CHECK(m.machine_energy_j == Approx(1000));
  CHECK(m.energy_j == Approx(290));
  REQUIRE(m.notes.size() == 1);
  CHECK(m.notes[0] == "a.json and b.json ran at the same time on n1: their own figures add up; the machine's is counted once");

  SECTION("spans that only touch (one ends as the other starts) do not overlap") {
    on(b, "n1", "b1", "2026-12-07T10:00:10Z", "2026-12-07T10:00:20Z");
    const MergedReport t = merge_reports({a, b});
    REQUIRE(t.nodes.size() == 1);
    CHECK(t.nodes[0].machine_energy_j == Approx(500 + 450));
    CHECK(t.notes.empty());
  }
}

TEST_CASE("Slurm ranks on one node add their parts of the node's energy though they overlap", "[merge]") {
  // One rank per node is elected to count the node: each rank's machine figure
  // is the part it counted, 120 J and 80 J: the node used 200 J.
  auto r0 = fig("rank0.json", {"./mpi_app"}, 70, 0.01, 10);
  r0.machine_energy_j = 120;
  r0.slurm = true;
  on(r0, "n2", "b", "2026-12-07T10:00:00Z", "2026-12-07T10:00:10Z");
  auto r1 = r0;
  r1.name = "rank1.json";
  r1.energy_j = 65;
  r1.machine_energy_j = 80;
  const MergedReport m = merge_reports({r0, r1});
  REQUIRE(m.nodes.size() == 1);
  CHECK(m.nodes[0].reports == 2);
  CHECK(m.nodes[0].energy_j == Approx(70 + 65));
  CHECK(m.nodes[0].machine_energy_j == Approx(120 + 80));
  CHECK(m.notes.empty());
  REQUIRE(m.repeated.size() == 1);  // the same command twice
  CHECK(m.repeated[0].energy_j.mean == Approx(67.5));

  SECTION("a report outside Slurm at the same time measured the whole node: the largest counts") {
    r1.slurm = false;
    const MergedReport t = merge_reports({r0, r1});
    CHECK(t.nodes[0].machine_energy_j == Approx(120));
    REQUIRE(t.notes.size() == 1);
    CHECK_THAT(t.notes[0], Contains("rank0.json and rank1.json ran at the same time on n2"));
  }
}

namespace {
// A run on a machine with no energy source.
ReportFigures run_without_energy(const std::string& name, double duration_s) {
  ReportFigures f;
  f.name = name;
  f.command = {"./bench"};
  f.status = "finished";
  f.energy_kind = "none";  // no usable energy source: the JSON report's energy_j is null
  f.duration_s = duration_s;
  return f;
}
}  // namespace

TEST_CASE("a repeated command says how often it ran and claims no energy its runs did not measure", "[merge]") {
  // ./bench ran 3 times, 1 s each, on a machine with no energy source.
  const MergedReport m =
      merge_reports({run_without_energy("1.json", 1), run_without_energy("2.json", 1), run_without_energy("3.json", 1)});
  REQUIRE(m.repeated.size() == 1);
  CHECK(m.repeated[0].duration_s.n == 3);
  const std::string text = format_merged(m);
  // It said "repeated 0x ./bench: energy mean 0 J (sd 0 J, 0 J to 0 J)": the count was of the runs with energy.
  CHECK_THAT(text, Contains("repeated 3x ./bench"));
  CHECK_THAT(text, !Contains("energy mean 0 J"));
  CHECK_THAT(text, Contains("./bench: no energy figure, duration mean 1.00 s"));
  // The Markdown's "runs" column says 0 too.
  CHECK_THAT(format_merged_markdown(m), Contains("| `./bench` | 3 |"));
  // And the HTML page's table: 3 runs, no energy figures.
  const std::string html = format_merged_html(m);
  CHECK_THAT(html, Contains("<code>./bench</code></td><td class=\"n\">3</td><td class=\"n\">-</td>"));

  SECTION("four runs, three with energy: it ran 4 times") {
    auto measured = [](const std::string& name, double j) {
      ReportFigures f = run_without_energy(name, 1);
      f.energy_j = j;
      f.energy_kind = "measured";
      return f;
    };
    const MergedReport m4 = merge_reports(
        {measured("1.json", 10), measured("2.json", 20), measured("3.json", 30), run_without_energy("4.json", 1)});
    CHECK(m4.repeated[0].duration_s.n == 4);
    // (10 + 20 + 30) / 3 = 20 J over the three with a figure.
    CHECK_THAT(format_merged(m4), Contains("repeated 4x ./bench: energy mean 20.0 J (sd 10.0 J, 10.0 J to 30.0 J, of the 3 runs with a figure)"));
  }
}
