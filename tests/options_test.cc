#include <catch2/catch.hpp>

#include <map>

#include "commands/options.h"
#include "commands/version_cmd.h"
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;
using namespace std::chrono_literals;

namespace {
ParsedCli parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
  return parse_cli(args, env_of(std::move(env)));
}
}  // namespace

TEST_CASE("the command follows -- or the first non-option", "[options]") {
  auto p = parse({"--interval", "250ms", "--", "python", "-q", "train.py"});
  REQUIRE(p.action == ParsedCli::Action::Run);
  CHECK(p.options.command == std::vector<std::string>{"python", "-q", "train.py"});
  CHECK(p.options.sampling.interval == 250ms);

  auto q = parse({"-q", "make", "--jobs", "4"});
  REQUIRE(q.action == ParsedCli::Action::Run);
  CHECK(q.options.outputs.quiet);
  CHECK(q.options.command == std::vector<std::string>{"make", "--jobs", "4"});

  auto dashes = parse({"--", "--weird-name"});
  REQUIRE(dashes.action == ParsedCli::Action::Run);
  CHECK(dashes.options.command == std::vector<std::string>{"--weird-name"});
}

TEST_CASE("bad options exit 125 with a one-line reason", "[options]") {
  for (auto args : std::vector<std::vector<std::string>>{{"--interval", "0.5ms", "--", "true"},
                                                         {"--interval", "soon", "--", "true"},
                                                         {"--scope", "galaxy", "--", "true"},
                                                         {"--no-such-flag", "true"},
                                                         {}}) {
    auto p = parse(args);
    CHECK(p.action == ParsedCli::Action::Exit);
    CHECK(p.exit_code == 125);
    CHECK(p.message_is_error);
    CHECK(p.message.rfind("greenrun: ", 0) == 0);
    CHECK(std::count(p.message.begin(), p.message.end(), '\n') == 1);
  }
  CHECK_THAT(parse({"--interval", "0.5ms", "--", "true"}).message, Catch::Contains("at least 1ms"));
  CHECK_THAT(parse({}).message, Catch::Contains("no command"));
}

TEST_CASE("help and version go to stdout with status 0", "[options]") {
  auto h = parse({"--help"});
  CHECK(h.action == ParsedCli::Action::Exit);
  CHECK(h.exit_code == 0);
  CHECK_FALSE(h.message_is_error);
  CHECK_THAT(h.message, Catch::Contains("--interval"));
  auto v = parse({"--version"});
  CHECK(v.action == ParsedCli::Action::Version);
  CHECK_THAT(greenrun::version_text(), Catch::StartsWith("greenrun 0."));
}

TEST_CASE("roots come from the environment, flags win", "[options]") {
  auto p = parse({"--", "true"}, {{"GREENRUN_SYSFS_ROOT", "/fx/sys"}, {"GREENRUN_PROCFS_ROOT", "/fx/proc"}});
  CHECK(p.options.sources.sysfs_root == "/fx/sys");
  CHECK(p.options.sources.procfs_root == "/fx/proc");
  auto q = parse({"--sysfs-root", "/a", "--", "true"}, {{"GREENRUN_SYSFS_ROOT", "/fx/sys"}});
  CHECK(q.options.sources.sysfs_root == "/a");
}

TEST_CASE("scope and checkpoint", "[options]") {
  auto p = parse({"--scope", "machine", "--checkpoint", "5m", "--", "true"});
  CHECK(p.options.tree.scope == Scope::Machine);
  CHECK(p.options.sampling.checkpoint == 300s);
  CHECK(parse({"--checkpoint", "0", "--", "true"}).options.sampling.checkpoint == 0s);
}

TEST_CASE("every form CLI11 accepts is parsed, with only the options mentioned registered", "[options]") {
  auto p = parse({"-qv", "-i250ms", "--json=out.json", "--tree", "proc", "--", "true"});
  REQUIRE(p.action == ParsedCli::Action::Run);
  CHECK(p.options.outputs.quiet);
  CHECK(p.options.log_level == log::Level::Debug);  // -v
  CHECK(p.options.sampling.interval == 250ms);
  CHECK(p.options.outputs.json_path == "out.json");
  CHECK(p.options.tree.method == TreeMethod::Proc);
  // Options not on the command line still come from the environment.
  auto e = parse({"-q", "--", "true"}, {{"GREENRUN_INTERVAL", "2s"}, {"GREENRUN_LOG_LEVEL", "trace"}, {"GREENRUN_TREE", "cgroup"}});
  REQUIRE(e.action == ParsedCli::Action::Run);
  CHECK(e.options.sampling.interval == 2s);
  CHECK(e.options.log_level == log::Level::Trace);
  CHECK(e.options.tree.method == TreeMethod::Cgroup);
  // An explicit level wins over -v.
  CHECK(parse({"-v", "--log-level", "off", "--", "true"}).options.log_level == log::Level::Off);
  // A log file alone means debug (a file asked for is never left empty); a level given still wins.
  CHECK(parse({"--log-file", "g.log", "--", "true"}).options.log_level == log::Level::Debug);
  CHECK(parse({"--log-file", "g.log", "--log-level", "trace", "--", "true"}).options.log_level == log::Level::Trace);
  CHECK(parse({"-q", "--", "true"}).options.log_level == log::Level::Off);
  // Help lists every option, and an error names what CLI11 names.
  auto help = parse({"-q", "--help"});
  CHECK(help.exit_code == 0);
  for (auto name : {"--interval", "--tree", "--log-level", "--log-file", "--procfs-root", "--no-estimate"})
    CHECK_THAT(help.message, Catch::Contains(name));
  auto bad = parse({"--log-level", "loud", "--", "true"});
  CHECK(bad.exit_code == 125);
  CHECK_THAT(bad.message, Catch::Contains("--log-level loud: must be off, debug or trace"));
  CHECK(parse({"--tree", "--", "true"}).exit_code == 125);
}
