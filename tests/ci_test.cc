// greenrun in CI: the Markdown step summary rendered by a real GFM renderer
// (cmark-gfm), workflow commands, budgets, baselines, phases and reports.

#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <cmath>
#include <regex>

#include "helpers.h"
#include "report/compare.h"
#include "report/report.h"
#include "util/units.h"

using namespace greenrun::test;
using nlohmann::json;

namespace {

struct Ci {
  TempDir dir;
  std::string sys = dir / "sys";
  Ci() { make_dirs(sys); }
  std::map<std::string, std::string> env(std::map<std::string, std::string> extra = {}) const {
    std::map<std::string, std::string> e = {{"GREENRUN_SYSFS_ROOT", sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
    for (auto& [k, v] : extra) e[k] = v;
    return e;
  }
  ProcResult run(std::vector<std::string> args, std::map<std::string, std::string> extra = {}) const {
    args.insert(args.begin(), greenrun_bin());
    ProcOptions opt;
    opt.env = env(std::move(extra));
    return run_proc(args, opt);
  }
};

// cmark-gfm with the table extension: the HTML GitHub would show.
std::string render(const std::string& markdown_path) {
  auto r = run_proc({"cmark-gfm", "--unsafe", "-e", "table", markdown_path});  // GitHub keeps <details>
  if (r.status != 0) FAIL("cmark-gfm failed (install the cmark-gfm package): " << r.err);
  return r.out;
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("the step summary is appended by each run and renders as tables with the report's figures", "[ci][markdown]") {
  Ci ci;
  const std::string summary = ci.dir / "summary.md";
  write_file(summary, "## An earlier step\n\n");
  auto env = std::map<std::string, std::string>{{"GITHUB_ACTIONS", "true"}, {"GITHUB_STEP_SUMMARY", summary}};
  auto first = ci.run({"-q", "--region", "FR", "--json", ci.dir / "a.json", "--", "sleep", "0.3"}, env);
  auto second = ci.run({"-q", "--region", "DE", "--json", ci.dir / "b.json", "--", "sh", "-c", "exit 4"}, env);
  REQUIRE(first.status == 0);
  REQUIRE(second.status == 4);
  const std::string md = slurp(summary);
  CHECK(md.rfind("## An earlier step\n\n", 0) == 0);  // appended, never truncated
  CHECK(count(md, "### greenrun\n") == 2);
  const std::string html = render(summary);
  CHECK(count(html, "<table>") == 4);  // per run: components, and the same run elsewhere
  CHECK(count(html, "<details>") == 2);
  for (const auto* file : {"a.json", "b.json"}) {
    auto j = json::parse(slurp(ci.dir / file));
    // Every component a row, with the energy as the report has it.
    for (const auto& c : j["components"]) {
      std::regex row("<tr>\\s*<td>" + c["name"].get<std::string>() + "</td>\\s*<td align=\"right\">" +
                     greenrun::format_energy(c["energy_j"].get<double>()) + "</td>");
      CHECK(std::regex_search(html, row));
    }
    CHECK_THAT(html, Catch::Contains("<strong>" + greenrun::format_energy(j["energy_j"].get<double>()) + "</strong>"));
    CHECK_THAT(html, Catch::Contains(greenrun::format_mass_g(j["emissions_g"].get<double>()) + " CO2e"));
    for (const auto& x : j["comparisons"])
      CHECK_THAT(html, Catch::Contains("<td>" + x["region"].get<std::string>() + "</td>"));
  }
  CHECK_THAT(html, Catch::Contains("<strong>exited with status 4</strong>"));
  // One ::notice per run, on stderr.
  CHECK(count(first.err, "::notice title=greenrun::sleep 0.3: ") == 1);
  CHECK(first.out.empty());

  SECTION("--no-step-summary turns it off; --step-summary writes anywhere") {
    ci.run({"-q", "--no-step-summary", "--", "true"}, env);
    CHECK(count(slurp(summary), "### greenrun\n") == 2);
    ci.run({"-q", "--step-summary", ci.dir / "gitlab.md", "--", "true"});
    CHECK(count(slurp(ci.dir / "gitlab.md"), "### greenrun\n\n```sh\ntrue\n```\n") == 1);
  }
}

TEST_CASE("workflow commands never touch the command's stdout, even binary", "[ci]") {
  Ci ci;
  const std::string bin = ci.dir / "bytes.bin";
  std::string bytes;
  for (int i = 0; i < 4096; ++i) bytes += static_cast<char>(i % 256);
  bytes += "::error::not from greenrun\n";
  write_file(bin, bytes);
  auto r = ci.run({"-q", "--", "cat", bin}, {{"GITHUB_ACTIONS", "true"}});
  REQUIRE(r.status == 0);
  CHECK(r.out == bytes);  // byte for byte
  CHECK(count(r.err, "::notice ") == 1);
}

TEST_CASE("annotation text is escaped as GitHub's runner decodes it", "[ci]") {
  Ci ci;
  auto r = ci.run({"-q", "--", "sh", "-c", "true", "100%\nnew,line:x"}, {{"GITHUB_ACTIONS", "true"}});
  REQUIRE(r.status == 0);
  // The command line is one line ($'...' for the newline); the message: % escaped.
  CHECK_THAT(r.err, Catch::Contains("$'100%25\\nnew,line:x'"));
  CHECK(count(r.err, "\n") == 1);  // one line, whatever the command line holds
}

TEST_CASE("budgets: fail gives a dedicated status, warn keeps the command's, each says what it judged", "[ci][budget]") {
  Ci ci;
  auto over = ci.run({"-q", "--json", ci.dir / "o.json", "--max-energy", "0.5J", "--", toy_train_bin(), "0.5"},
                     {{"GITHUB_ACTIONS", "true"}});
  CHECK(over.status == 100);
  CHECK_THAT(over.err, Catch::Contains("::error title=greenrun budget::energy budget exceeded") &&
                           Catch::Contains("central value") && Catch::Contains("exit status 100"));
  auto j = json::parse(slurp(ci.dir / "o.json"));
  REQUIRE(j["verdicts"].size() == 1);
  CHECK_THAT(j["verdicts"][0].get<std::string>(), Catch::StartsWith("energy budget exceeded: "));

  auto failed_anyway = ci.run({"-q", "--max-energy", "0.001J", "--", "sh", "-c", "exit 3"});
  CHECK(failed_anyway.status == 3);  // the command's own failure comes first

  auto warn = ci.run({"-q", "--max-energy", "0.5J", "--on-budget", "warn", "--", toy_train_bin(), "0.5"},
                     {{"GITHUB_ACTIONS", "true"}});
  CHECK(warn.status == 0);
  CHECK_THAT(warn.err, Catch::Contains("::warning title=greenrun budget::energy budget exceeded"));

  auto kept = ci.run({"--max-energy", "1kJ", "--max-emissions", "1kg", "--", "true"});
  CHECK(kept.status == 0);
  CHECK_THAT(kept.err, Catch::Contains("energy budget kept: ") && Catch::Contains("emissions budget kept: "));

  for (auto args : std::vector<std::vector<std::string>>{{"--max-energy", "50kWatts"},
                                                         {"--max-emissions", "3 lbs"},
                                                         {"--max-increase", "10%"},
                                                         {"--on-budget", "panic"}}) {
    args.insert(args.end(), {"--", "true"});
    CHECK(ci.run(args).status == 125);
  }
}

TEST_CASE("budget stop: the busy loop is ended, and the report says so in full", "[ci][budget]") {
  Ci ci;
  auto r = ci.run({"--interval", "100ms", "--json", ci.dir / "s.json", "--max-energy", "1J", "--on-budget", "stop",
                   "--grace", "1s", "--", toy_train_bin(), "30"});
  CHECK(r.status == 100);
  CHECK(r.seconds < 10);
  CHECK_THAT(r.err, Catch::Contains("energy budget crossed: stopping the command"));
  auto j = json::parse(slurp(ci.dir / "s.json"));
  CHECK(j["status"] == "stopped: energy budget");
  CHECK(j["signal"] == "SIGTERM");
  CHECK(j["energy_j"].get<double>() > 1.0);
  CHECK(j["components"].size() == 2);

  SECTION("a command that ignores SIGTERM gets SIGKILL after the grace") {
    auto k = ci.run({"-q", "--interval", "100ms", "--json", ci.dir / "k.json", "--max-energy", "1J", "--on-budget",
                     "stop", "--grace", "1s", "--", "sh", "-c", "trap '' TERM; while :; do :; done"});
    CHECK(k.status == 100);
    CHECK(json::parse(slurp(ci.dir / "k.json"))["signal"] == "SIGKILL");
  }
}

TEST_CASE("baselines: the change in the report, a refused baseline, and greenrun compare", "[ci][baseline]") {
  Ci ci;
  REQUIRE(ci.run({"-q", "--json", ci.dir / "base.json", "--", toy_train_bin(), "0.3"}).status == 0);
  auto r = ci.run({"--json", ci.dir / "new.json", "--baseline", ci.dir / "base.json", "--max-increase", "1000%",
                   "--step-summary", ci.dir / "s.md", "--", toy_train_bin(), "0.6"});
  REQUIRE(r.status == 0);
  auto base = json::parse(slurp(ci.dir / "base.json")), now = json::parse(slurp(ci.dir / "new.json"));
  const auto& changes = now["baseline"]["changes"];
  REQUIRE(changes.size() == 4);
  CHECK(changes[0]["what"] == "energy");
  CHECK(changes[0]["baseline"].get<double>() == Approx(base["energy_j"].get<double>()));
  CHECK(changes[0]["this_run"].get<double>() == Approx(now["energy_j"].get<double>()));
  CHECK(changes[0]["change_percent"].get<double>() ==
        Approx(100 * (now["energy_j"].get<double>() / base["energy_j"].get<double>() - 1)));
  CHECK_THAT(now["baseline"]["notes"].dump(), Catch::Contains("same model") && Catch::Contains("CPU time"));
  CHECK_THAT(r.err, Catch::Contains("baseline      against") && Catch::Contains("energy increase budget kept"));
  const std::string html = render(ci.dir / "s.md");
  CHECK_THAT(html, Catch::Contains("<td>energy</td>") && Catch::Contains("<td>CPU time</td>"));

  write_file(ci.dir / "other.json", "{\"energy\": 5}");
  auto refused = ci.run({"--baseline", ci.dir / "other.json", "--", "touch", ci.dir / "ran"});
  CHECK(refused.status == 125);
  CHECK_THAT(refused.err, Catch::Contains("not a greenrun JSON report"));
  CHECK_FALSE(std::ifstream(ci.dir / "ran").good());

  auto cmp = run_proc({greenrun_bin(), "compare", ci.dir / "base.json", ci.dir / "new.json"});
  CHECK(cmp.status == 0);
  CHECK_THAT(cmp.out, Catch::StartsWith("energy ") && Catch::Contains("CPU time"));
  auto md = run_proc({greenrun_bin(), "compare", "--markdown", ci.dir / "base.json", ci.dir / "new.json"});
  write_file(ci.dir / "cmp.md", md.out);
  CHECK(count(render(ci.dir / "cmp.md"), "<tr>") == 5);  // the header and four rows
  CHECK(run_proc({greenrun_bin(), "compare", ci.dir / "other.json", ci.dir / "new.json"}).status == 125);
}

TEST_CASE("phases marked from a shell and from Python: named spans whose energies sum to the total", "[ci][phases]") {
  Ci ci;
  const std::string script = greenrun_bin() + " mark load; sleep 0.3; " + greenrun_bin() + " mark train; " +
                             toy_train_bin() + " 0.5 > /dev/null; python3 -c 'import os; open(os.environ[\"GREENRUN_MARK\"], \"w\").write(\"eval\\n\")'; sleep 0.2; echo \"$GREENRUN_MARK\" > " +
                             ci.dir / "fifo-path";
  auto r = ci.run({"-q", "--interval", "100ms", "--json", ci.dir / "p.json", "--step-summary", ci.dir / "p.md", "--", "sh",
                   "-c", script});
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(ci.dir / "p.json"));
  const auto& phases = j["phases"];
  REQUIRE(phases.size() == 4);
  CHECK(phases[0]["name"] == "(before the first mark)");
  CHECK(phases[1]["name"] == "load");
  CHECK(phases[2]["name"] == "train");
  CHECK(phases[3]["name"] == "eval");
  double energy = 0, machine = 0;
  for (size_t i = 0; i < phases.size(); ++i) {
    energy += phases[i]["energy_j"].get<double>();
    machine += phases[i]["machine_energy_j"].get<double>();
    if (i > 0) CHECK(phases[i]["start_s"].get<double>() == Approx(phases[i - 1]["end_s"].get<double>()));
  }
  CHECK(energy == Approx(j["energy_j"].get<double>()).epsilon(1e-9));
  CHECK(machine == Approx(j["machine_energy_j"].get<double>()).epsilon(1e-9));
  // The sleep, plus the start of `greenrun mark train` (slow under a sanitizer on a loaded machine).
  CHECK(phases[1]["duration_s"].get<double>() > 0.28);
  CHECK(phases[1]["duration_s"].get<double>() < 1.0);
  // The busy phase has most of the energy; the sleeping ones little.
  CHECK(phases[2]["energy_j"].get<double>() > 3 * phases[1]["energy_j"].get<double>());
  const std::string fifo = std::string(slurp(ci.dir / "fifo-path"));
  CHECK_FALSE(std::ifstream(fifo.substr(0, fifo.size() - 1)).good());  // removed at exit
  CHECK_THAT(render(ci.dir / "p.md"), Catch::Contains("<td>train</td>"));

  SECTION("outside greenrun, greenrun mark does nothing and succeeds") {
    auto m = run_proc({greenrun_bin(), "mark", "anything"}, ProcOptions{"", {{"GREENRUN_MARK", ""}}, 10});
    CHECK(m.status == 0);
    CHECK(m.err.empty());
    auto gone = run_proc({greenrun_bin(), "mark", "x"}, ProcOptions{"", {{"GREENRUN_MARK", ci.dir / "no-fifo"}}, 10});
    CHECK(gone.status == 0);
  }
  SECTION("nested greenruns each get their own") {
    auto n = ci.run({"-q", "--json", ci.dir / "outer.json", "--", greenrun_bin(), "-q", "--json", ci.dir / "inner.json",
                     "--", "sh", "-c", greenrun_bin() + " mark inner-phase"});
    REQUIRE(n.status == 0);
    CHECK(json::parse(slurp(ci.dir / "inner.json"))["phases"].size() == 2);
    CHECK(json::parse(slurp(ci.dir / "outer.json"))["phases"].empty());
  }
}

TEST_CASE("a burst of 10,000 marks loses no phase, and 500 phases keep the step summary small", "[ci][phases]") {
  Ci ci;
  auto r = ci.run({"-q", "--json", ci.dir / "b.json", "--step-summary", ci.dir / "b.md", "--", "python3", "-c",
                   "import os\nf = open(os.environ['GREENRUN_MARK'], 'w')\nfor i in range(10000): f.write(f'm{i}\\n')\nf.close()"});
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(ci.dir / "b.json"));
  REQUIRE(j["phases"].size() == 10001);
  CHECK(j["phases"][10000]["name"] == "m9999");
  CHECK(j["phases"][5000]["name"] == "m4999");
  CHECK(slurp(ci.dir / "b.md").size() < 64 * 1024);  // GitHub allows 1 MiB per step
  CHECK_THAT(slurp(ci.dir / "b.md"), Catch::Contains("smaller phases are in the JSON report"));
}

TEST_CASE("greenrun report: three reports in one, with totals and the spread of repeated runs", "[ci][report]") {
  Ci ci;
  REQUIRE(ci.run({"-q", "--json", ci.dir / "a.json", "--", toy_train_bin(), "0.3"}).status == 0);
  REQUIRE(ci.run({"-q", "--json", ci.dir / "b.json", "--", toy_train_bin(), "0.3"}).status == 0);
  REQUIRE(ci.run({"-q", "--json", ci.dir / "c.json", "--", "sleep", "0.2"}).status == 0);
  std::vector<json> in;
  for (const auto* f : {"a.json", "b.json", "c.json"}) in.push_back(json::parse(slurp(ci.dir / f)));
  CHECK(in[0]["host"].get<std::string>().size() > 0);
  CHECK(in[0]["boot_id"].get<std::string>().size() == 36);

  auto r = run_proc({greenrun_bin(), "report", "--json", ci.dir / "all.json", ci.dir / "a.json", ci.dir / "b.json",
                     ci.dir / "c.json"});
  REQUIRE(r.status == 0);
  auto all = json::parse(slurp(ci.dir / "all.json"));
  double energy = 0, emissions = 0;
  for (const auto& j : in) {
    energy += j["energy_j"].get<double>();
    emissions += j["emissions_g"].get<double>();
  }
  CHECK(all["total"]["energy_j"].get<double>() == Approx(energy));
  CHECK(all["total"]["emissions_g"].get<double>() == Approx(emissions));
  REQUIRE(all["repeated"].size() == 1);
  const auto& e = all["repeated"][0]["energy_j"];
  const double a = in[0]["energy_j"], b = in[1]["energy_j"];
  CHECK(e["n"] == 2);
  CHECK(e["mean"].get<double>() == Approx((a + b) / 2));
  CHECK(e["stddev"].get<double>() == Approx(std::abs(a - b) / std::sqrt(2.0)));
  CHECK(e["min"].get<double>() == Approx(std::min(a, b)));
  CHECK_THAT(r.out, Catch::Contains("total: ") && Catch::Contains("repeated 2x "));

  auto md = run_proc({greenrun_bin(), "report", "--markdown", ci.dir / "a.json", ci.dir / "b.json", ci.dir / "c.json"});
  write_file(ci.dir / "all.md", md.out);
  const std::string html = render(ci.dir / "all.md");
  CHECK(count(html, "<table>") == 3);
  CHECK(count(html, "<tr>") == (1 + 4) + (1 + 1) + (1 + 1));  // reports + total; this one node; the repeated command
  // Three runs one after the other on this machine: the machine's energy is theirs added.
  double machine = 0;
  for (const auto& j : in) machine += j["machine_energy_j"].get<double>();
  CHECK(all["total"]["machine_energy_j"].get<double>() == Approx(machine));
  REQUIRE(all["nodes"].size() == 1);
  CHECK(all["nodes"][0]["reports"] == 3);
  CHECK_THAT(html, Catch::Contains("<strong>" + greenrun::format_energy(energy) + "</strong>"));

  auto bad = run_proc({greenrun_bin(), "report", ci.dir / "a.json", "/etc/hostname"});
  CHECK(bad.status == 125);
  CHECK_THAT(bad.err, Catch::Contains("not a greenrun JSON report"));
}

TEST_CASE("the CI examples are valid YAML and use only options greenrun has", "[ci][examples]") {
  const std::string help = run_proc({greenrun_bin(), "--help"}).out;
  for (const auto* file : {"github-actions.yml", "gitlab-ci.yml"}) {
    const std::string path = source_dir() + "/examples/ci/" + file;
    // Debian's python3 with python3-yaml (tools/setup installs both).
    auto yaml = run_proc({"/usr/bin/python3", "-c", "import sys, yaml; yaml.safe_load(open(sys.argv[1]))", path});
    INFO(file << ": " << yaml.err);
    CHECK(yaml.status == 0);
    std::istringstream lines(slurp(path));
    size_t used = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.find("greenrun ") == std::string::npos && line.find("args=(") == std::string::npos &&
          line.find("args+=(") == std::string::npos)
        continue;
      std::regex option("(--[a-z][a-z-]+)");
      for (std::sregex_iterator it(line.begin(), line.end(), option), end; it != end; ++it) {
        const std::string o = (*it)[1];
        if (o == "--depth" || o == "--install" || o == "--build") continue;  // git and cmake
        INFO(file << " uses " << o);
        CHECK_THAT(help, Catch::Contains(o + " "));
        ++used;
      }
    }
    CHECK(used >= 3);
  }
}

TEST_CASE("a baseline with an absurd schema_version or exit_code is refused or ignored, never undefined", "[ci][baseline]") {
  // Found by fuzz/report_fuzz: 2.5e38 cast to int.
  auto huge = nlohmann::json::parse(R"({"schema_version": 2.5e38, "greenrun_version": "0.1", "energy_j": 1})");
  auto r = greenrun::read_report(huge, "b.json");
  REQUIRE_FALSE(r);
  CHECK(r.error() == "b.json has schema_version 2.5e+38; this greenrun reads 1 and 2");
  CHECK_FALSE(greenrun::read_report(nlohmann::json::parse(R"({"schema_version": 1.5, "greenrun_version": "0.1"})"), "b"));
  auto ok = greenrun::read_report(
      nlohmann::json::parse(R"({"schema_version": 2.0, "greenrun_version": "0.1", "energy_j": 1, "exit_code": 99999999999})"), "b");
  REQUIRE(ok);
  CHECK_FALSE(ok->exit_code.has_value());
  // Found by fuzz/report_fuzz: a component's "measured" that is not a boolean
  // threw out of read_report; detail entries that are not objects out of the renderers.
  auto odd = nlohmann::json::parse(R"({"schema_version": 2, "greenrun_version": "0.1", "energy_j": 3,
      "components": [{"name": "cpu", "energy_j": 1, "measured": 0, "method": "m"}, 7, {"name": "gpu0", "energy_j": 2,
      "measured": false, "method": "tdp", "detail": [1, {"label": 5}, {"label": "A100"}]}]})");
  auto figures = greenrun::read_report(odd, "b");
  REQUIRE(figures);
  CHECK(figures->methods == "tdp");  // "measured": 0 is not a boolean: taken as measured
  auto run = greenrun::run_report_from_json(odd, "b");
  REQUIRE(run);
  REQUIRE(run->components.size() == 2);
  CHECK(run->components[1].detail.size() == 1);
  CHECK(run->components[1].detail[0]["label"] == "A100");
  CHECK_NOTHROW(greenrun::format_summary(*run));
  CHECK_NOTHROW(greenrun::format_html(*run));
}

namespace {

// What a browser shows of an HTML fragment's text (the entities cmark-gfm writes decoded).
std::string html_text(std::string s) {
  s = std::regex_replace(s, std::regex("<[^>]*>"), "");
  const std::pair<const char*, const char*> entities[] = {{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities)
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + 1)) s.replace(p, std::string(from).size(), to);
  return s;
}

// The lines of `text` GitHub's runner would take as workflow commands: "::"
// after leading whitespace (ActionCommand.TryParseV2 trims it), or "##[" anywhere (the older form).
std::vector<std::string> workflow_command_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t start = line.find_first_not_of(" \t\r\f\v");
    if ((start != std::string::npos && line.compare(start, 2, "::") == 0) || line.find("##[") != std::string::npos)
      out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("under GitHub Actions no outside text begins a line greenrun prints", "[ci][hardening]") {
  Ci ci;
  auto env = std::map<std::string, std::string>{{"GITHUB_ACTIONS", "true"}, {"GITHUB_STEP_SUMMARY", ci.dir / "s.md"}};
  const std::string evil = "x\n::error title=pwned::y\n::add-mask::abc\r\n  ##[warning]old form\n\x1b[31mred";
  // The command line, a phase label, and an output file's name.
  const std::string marks = "printf '%s\\n' '::warning title=p::phase' '  ::error::indented' 'a ##[error]b' > \"$GREENRUN_MARK\"; sleep 0.3";
  auto r = ci.run({"--interval", "100ms", "--json", ci.dir / "r.json", "--", "sh", "-c", marks, evil}, env);
  REQUIRE(r.status == 0);
  INFO(r.err);
  const auto commands = workflow_command_lines(r.err);
  REQUIRE(commands.size() == 1);  // greenrun's own notice, escaped
  CHECK_THAT(commands[0], Catch::StartsWith("::notice title=greenrun::sh -c "));
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK(r.err.find('\r') == std::string::npos);
  // The summary still says what ran.
  CHECK_THAT(r.err, Catch::Contains("pwned") && Catch::Contains("add-mask"));
}

TEST_CASE("the step summary shows the command as typed, and outside text never becomes Markdown", "[ci][markdown][hardening]") {
  Ci ci;
  const std::string script = "echo a > /dev/null && true \"x<y\" | cat *.md `b` \\| [x](y) <b>bold</b> &amp; $HOME";
  const std::string phases =
      "printf '%s\\n' '# heading' '![i](http://example.invalid/i.png)' '<img src=x>' 'a|b' '**strong**' "
      "'[link](http://example.invalid)' > \"$GREENRUN_MARK\"; sleep 0.2";
  // The script is sh's $0: shown, never run.
  auto r = ci.run({"-q", "--interval", "100ms", "--json", ci.dir / "r.json", "--step-summary", ci.dir / "s.md", "--", "sh",
                   "-c", phases, script});
  REQUIRE(r.status == 0);
  // As a shell user types it: single quotes, a quote inside as '\''.
  auto quoted = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  const std::string typed = "sh -c " + quoted(phases) + " " + quoted(script);
  const std::string html = render(ci.dir / "s.md");
  INFO(slurp(ci.dir / "s.md") << "\n----\n" << html);
  // The command reads exactly as typed on the page.
  std::smatch block;
  REQUIRE(std::regex_search(html, block, std::regex("<pre[^>]*><code[^>]*>([\\s\\S]*?)</code></pre>")));
  CHECK(html_text(block[1]) == typed + "\n");
  // Phase labels are text in their table cells: no heading, image, link, emphasis or HTML.
  for (const auto* tag : {"<h1", "<img", "<a ", "<strong>strong", "<em>"}) CHECK(html.find(tag) == std::string::npos);
  // Each a cell of its own: a | did not split one.
  for (const auto* cell : {"<td># heading</td>", "<td>![i](http://example.invalid/i.png)</td>", "<td>&lt;img src=x&gt;</td>",
                           "<td>a|b</td>", "<td>**strong**</td>", "<td>[link](http://example.invalid)</td>"})
    CHECK_THAT(html, Catch::Contains(cell));

  SECTION("greenrun report --markdown follows the same rules") {
    auto md = run_proc({greenrun_bin(), "report", "--markdown", ci.dir / "r.json", ci.dir / "r.json"});
    REQUIRE(md.status == 0);
    write_file(ci.dir / "report.md", md.out);
    const std::string page = render(ci.dir / "report.md");
    INFO(md.out);
    for (const auto* tag : {"<h1", "<img", "<a ", "<strong>strong", "<em>"}) CHECK(page.find(tag) == std::string::npos);
    CHECK_THAT(page, Catch::Contains("<td><code>"));
    CHECK_THAT(html_text(page), Catch::Contains(typed));  // in its table cell, as typed
  }
}

TEST_CASE("the step summary stays under GitHub's 1 MiB whatever the command line", "[ci][markdown][hardening]") {
  Ci ci;
  std::vector<std::string> args = {"-q", "--step-summary", ci.dir / "s.md", "--", "sh", "-c", "true"};
  for (int i = 0; i < 12; ++i) {
    std::string arg;
    arg.assign(100 * 1000, static_cast<char>('a' + i));
    args.push_back(arg);
  }
  auto r = ci.run(args);
  REQUIRE(r.status == 0);
  const std::string md = slurp(ci.dir / "s.md");
  CHECK(md.size() < 64 * 1024);
  CHECK(md.size() < 1048576);  // the runner's AttachmentSizeLimit
  CHECK_THAT(render(ci.dir / "s.md"), Catch::Contains("aaaa") && Catch::Contains("the JSON report"));
}

TEST_CASE("report and compare print no control sequence from a report to the terminal", "[ci][hardening]") {
  Ci ci;
  const std::string esc = "\x1b]0;title\x07\x1b[2J\x1b[31m";
  auto r = ci.run({"-q", "--json", ci.dir / "r.json", "--", "sh", "-c",
                   "printf '%s\\n' \"$0phase\" > \"$GREENRUN_MARK\"; sleep 0.2", esc});
  REQUIRE(r.status == 0);
  for (const auto& argv : std::vector<std::vector<std::string>>{{"report", ci.dir / "r.json"},
                                                               {"report", "--markdown", ci.dir / "r.json"},
                                                               {"compare", ci.dir / "r.json", ci.dir / "r.json"},
                                                               {"compare", "--markdown", ci.dir / "r.json", ci.dir / "r.json"}}) {
    std::vector<std::string> full = {greenrun_bin()};
    full.insert(full.end(), argv.begin(), argv.end());
    auto out = run_proc(full);
    INFO(argv[0] << " " << argv[1] << ": " << out.out << out.err);
    CHECK(out.status == 0);
    const std::string all = out.out + out.err;
    CHECK(std::none_of(all.begin(), all.end(), [](char c) { return (static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f; }));
  }
  auto summary = ci.run({"--", "sh", "-c", "printf '%s\\n' \"$0phase\" > \"$GREENRUN_MARK\"; sleep 0.2", esc});
  INFO(summary.err);
  CHECK(summary.err.find('\x1b') == std::string::npos);
  CHECK(summary.err.find('\x07') == std::string::npos);
}
