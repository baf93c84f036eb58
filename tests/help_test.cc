// greenrun --help and greenrun help TOPIC: the usage line once, the groups in
// order, a metavariable per valued option, three examples; a subcommand's
// --help; a section of the manual; an unknown topic lists the topics.
#include <catch2/catch.hpp>

#include <regex>

#include "commands/help_cmd.h"
#include "config/help.h"
#include "config/option_table.h"
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

ProcResult run_greenrun(const std::vector<std::string>& args) {
  std::vector<std::string> argv{greenrun_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_proc(argv);
}

}  // namespace

TEST_CASE("greenrun --help: the usage once, the groups in order, each option's metavariable, three examples", "[help]") {
  auto r = run_greenrun({"--help"});
  REQUIRE(r.status == 0);
  const std::string& help = r.out;
  CHECK(count_of(help, "Usage:") == 1);
  CHECK(count_of(help, "greenrun [OPTIONS] [--] COMMAND [ARGS...]") == 1);
  CHECK_THAT(help, Catch::StartsWith("Usage: greenrun [OPTIONS] [--] COMMAND [ARGS...]\n"));
  size_t last = 0;
  for (const char* group : kHelpGroups) {
    INFO(group);
    const size_t at = help.find(std::string("\n") + group + ":\n");
    REQUIRE(at != std::string::npos);
    CHECK(at > last);
    last = at;
  }
  for (const auto& spec : option_table()) {
    INFO(spec.name);
    CHECK(std::find(std::begin(kHelpGroups), std::end(kHelpGroups), std::string(spec.group)) != std::end(kHelpGroups));
    if (!spec.value) continue;
    const std::string flag = std::string("--") + spec.name + " " + spec.value;
    CHECK(help.find(flag) != std::string::npos);
  }
  const size_t examples = help.find("\nExamples:\n");
  REQUIRE(examples != std::string::npos);
  const std::string tail = help.substr(examples);
  const std::regex example("\n  [a-z]* ?greenrun ");
  CHECK(std::distance(std::sregex_iterator(tail.begin(), tail.end(), example), std::sregex_iterator()) == 3);
  CHECK_THAT(help, Catch::Contains("greenrun help TOPIC or man greenrun for the rest"));
  std::istringstream lines(help);
  for (std::string line; std::getline(lines, line);) {
    INFO(line);
    CHECK(line.size() <= 100);
  }
}

TEST_CASE("greenrun help: --help, a subcommand's --help, a section of the manual", "[help]") {
  if (!have_command("man")) SKIP_UNLESS_CI("man-db is not installed: greenrun help has no manual topics");
  CHECK(run_greenrun({"help"}).out == run_greenrun({"--help"}).out);
  for (const std::string sub : {"report", "sensors", "regions", "compare", "plan", "config"}) {
    INFO(sub);
    auto help = run_greenrun({"help", sub});
    CHECK(help.status == 0);
    CHECK(help.out == run_greenrun({sub, "--help"}).out);
    CHECK_FALSE(help.out.empty());
  }
  auto signals = run_greenrun({"help", "signals"});
  CHECK(signals.status == 0);
  CHECK_THAT(signals.out, Catch::StartsWith("SIGNALS\n"));

  CHECK_THAT(signals.out, !Catch::Contains("EXIT STATUS") && !Catch::Contains("PROCESS TREE"));
  CHECK_THAT(run_greenrun({"help", "exit-status"}).out, Catch::StartsWith("EXIT STATUS\n"));
  CHECK_THAT(run_greenrun({"help", "Exit Status"}).out, Catch::StartsWith("EXIT STATUS\n"));
  CHECK_THAT(run_greenrun({"help", "json"}).out, Catch::StartsWith("JSON REPORT\n"));
  CHECK_THAT(run_greenrun({"help", "configuration"}).out, Catch::Contains("/etc/greenrun/config"));
}

TEST_CASE("greenrun help with an unknown topic lists the topics and exits 2", "[help]") {
  if (!have_command("man")) SKIP_UNLESS_CI("man-db is not installed: greenrun help has no manual topics");
  auto r = run_greenrun({"help", "colours"});
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("greenrun help: no topic 'colours'"));
  CHECK_THAT(r.err, Catch::Contains("sensors regions report compare mark count progress plan config"));
  CHECK_THAT(r.err, Catch::Contains("exit-status") && Catch::Contains("signals") && Catch::Contains("json-report"));
}

TEST_CASE("man sections by topic: heading at column 0, hyphens for spaces, a word prefix", "[help]") {
  const std::string page =
      "GREENRUN(1)   General Commands Manual   GREENRUN(1)\n\nNAME\n       greenrun - measure\n\n"
      "EXIT STATUS\n       125 when greenrun failed.\n\nJSON REPORT\n       An object.\n\n"
      "greenrun 0.9   2026-11-30   GREENRUN(1)\n";
  CHECK(man_topics(page) == std::vector<std::string>{"name", "exit-status", "json-report"});
  CHECK(man_section(page, "exit-status") == "EXIT STATUS\n       125 when greenrun failed.\n\n");
  CHECK(man_section(page, "EXIT status") == man_section(page, "exit-status"));
  CHECK(man_section(page, "json") == "JSON REPORT\n       An object.\n\n");
  CHECK(man_section(page, "exit-statuses").empty());
  CHECK(man_section(page, "").empty());
}
