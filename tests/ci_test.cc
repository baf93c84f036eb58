// greenrun in CI: the Markdown step summary rendered by a real GFM renderer
// (cmark-gfm), workflow commands, budgets, baselines, phases and reports.

#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "helpers.h"
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
  CHECK(count(md, "### greenrun: ") == 2);
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
    CHECK(count(slurp(summary), "### greenrun: ") == 2);
    ci.run({"-q", "--step-summary", ci.dir / "gitlab.md", "--", "true"});
    CHECK(count(slurp(ci.dir / "gitlab.md"), "### greenrun: `true`") == 1);
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
  CHECK_THAT(r.err, Catch::Contains("100%25%0Anew,line:x"));  // the message: %, CR and LF escaped
  CHECK(count(r.err, "\n") == 1);  // one line, whatever the command line holds
}
