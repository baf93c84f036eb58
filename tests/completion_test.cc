// Shell completion: bash through bash-completion, calling the completion
// function as bash does; zsh and fish files parse; every option greenrun has
// is known to all three.

#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>

#include "helpers.h"

using namespace greenrun::test;

namespace {

// COMPREPLY for the words typed so far (the last one being completed).
std::set<std::string> complete(const std::vector<std::string>& words, const std::string& cwd = ".") {
  std::string line, array;
  for (const auto& w : words) {
    line += (line.empty() ? "" : " ") + w;
    array += " '" + w + "'";
  }
  const std::string bin_dir = std::filesystem::path(greenrun_bin()).parent_path().string();
  const std::string script = "cd '" + cwd + "'; PATH='" + bin_dir + "':$PATH; source /usr/share/bash-completion/bash_completion; "
                             "source '" + source_dir() + "/completions/greenrun.bash'; "
                             "COMP_WORDS=(" + array + "); COMP_CWORD=" + std::to_string(words.size() - 1) +
                             "; COMP_LINE='" + line + "'; COMP_POINT=${#COMP_LINE}; _greenrun; printf '%s\\n' \"${COMPREPLY[@]}\"";
  auto r = run_proc({"bash", "-c", script});
  std::set<std::string> out;
  std::istringstream in(r.out);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.insert(l);
  return out;
}

std::set<std::string> help_options(bool with_values) {
  const std::string help = run_proc({greenrun_bin(), "--help"}).out;
  std::set<std::string> out;
  std::regex re(with_values ? "(--[a-z][a-z-]+)[ =]([A-Z][A-Z_:=]*)" : "(--[a-z][a-z-]+)");
  for (std::sregex_iterator it(help.begin(), help.end(), re), end; it != end; ++it) out.insert((*it)[1]);
  out.erase("--help");
  out.erase("--version");
  return out;
}

}  // namespace

TEST_CASE("bash completion: options, subcommands, regions, clouds, files and the wrapped command", "[completion]") {
  if (access("/usr/share/bash-completion/bash_completion", R_OK) != 0) SKIP_UNLESS_CI("bash-completion is not installed");
  if (!have_command("man")) SKIP_UNLESS_CI("man-db is not installed: greenrun help has no manual topics");
  CHECK(complete({"greenrun", "--reg"}) == std::set<std::string>{"--region"});
  CHECK(complete({"greenrun", "--region", "F"}).count("FR"));
  CHECK(complete({"greenrun", "--region", "US-CAL-C"}).count("US-CAL-CISO"));
  CHECK(complete({"greenrun", "--cloud", "aws:eu-west-"}).count("eu-west-3"));  // bash splits at the colon
  CHECK(complete({"greenrun", "--scope", ""}) == std::set<std::string>{"process", "machine"});
  CHECK(complete({"greenrun", "--on-budget", "s"}) == std::set<std::string>{"stop"});
  CHECK(complete({"greenrun", "sen"}).count("sensors"));
  CHECK(complete({"greenrun", "con"}).count("config"));
  CHECK(complete({"greenrun", "help", "rep"}) == std::set<std::string>{"report"});
  CHECK(complete({"greenrun", "help", "exit"}) == std::set<std::string>{"exit-status"});
  CHECK(complete({"greenrun", "--", "greenru"}).count("greenrun"));  // a command after --
  CHECK(complete({"greenrun", "-q", "--json", "r.json", "tru"}).count("true"));  // the command, after an option's value
  TempDir dir;
  write_file(dir / "report.json", "{}");
  CHECK(complete({"greenrun", "--json", "rep"}, dir.path()).count("report.json"));
  CHECK(complete({"greenrun", "--interval", ""}).empty());  // a value greenrun cannot guess
  // The wrapped command's own completion takes over: greenrun completes greenrun.
  CHECK(complete({"greenrun", "--", "greenrun", "--reg"}) == std::set<std::string>{"--region"});
}

TEST_CASE("zsh and fish completions parse, and every option is in all three", "[completion]") {
  const std::string dir = source_dir() + "/completions/";
  CHECK(run_proc({"zsh", "-n", dir + "_greenrun"}).status == 0);
  CHECK(run_proc({"fish", "--no-execute", dir + "greenrun.fish"}).status == 0);
  const std::string bash = slurp(dir + "greenrun.bash"), zsh = slurp(dir + "_greenrun"), fish = slurp(dir + "greenrun.fish");
  for (const auto& o : help_options(false)) {
    INFO(o);
    const bool in_zsh = zsh.find("'" + o + "[") != std::string::npos || zsh.find("'*" + o + "[") != std::string::npos ||
                        zsh.find("," + o + "}") != std::string::npos;
    CHECK(in_zsh);
    CHECK(fish.find("-l " + o.substr(2) + " ") != std::string::npos);
  }
  const std::string valued = bash.substr(bash.find("_greenrun_valued='"), bash.find("'\n\n_greenrun()") + 1 - bash.find("_greenrun_valued='"));
  for (const auto& o : help_options(true)) {
    INFO(o << " takes a value: the bash completion must know it");
    CHECK(std::regex_search(valued, std::regex("[ '\n]" + o + "[ '\n]")));
  }
}
