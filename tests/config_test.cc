// The config files and `greenrun config`: the five layers in order, the two
// files merged key by key, --config replacing the user file, boolean keys,
// errors naming the file, the line and the key before the command runs, and
// credentials only from files their owner alone can read, never printed.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>
#include <regex>

#include "carbon/provider.h"
#include "commands/config_cmd.h"
#include "config/config_files.h"
#include "config/option_table.h"
#include "helpers.h"

using namespace greenrun;
using namespace greenrun::test;
using namespace std::chrono_literals;

namespace {


/// A system file and a user file in a temporary directory.
struct Files {
  TempDir dir;
  std::string system = dir / "etc/greenrun/config";
  std::string user = dir / "home/.config/greenrun/config";
  std::map<std::string, std::string> env = {{"XDG_CONFIG_HOME", dir / "home/.config"}};
  Files(const std::string& system_text, const std::string& user_text) {
    write_file(system, system_text);
    write_file(user, user_text);
  }
  ParsedCli parse(std::vector<std::string> args, std::map<std::string, std::string> extra = {}) const {
    auto e = env;
    for (auto& [k, v] : extra) e[k] = v;
    return parse_cli(args, env_of(e), system);
  }
  /// `greenrun config ARGS` as a run would see it: the listing, or the error.
  Result<std::string> listing(const std::vector<std::string>& args, std::map<std::string, std::string> extra = {}) const {
    auto e = env;
    for (auto& [k, v] : extra) e[k] = v;
    CLI::App app;
    RawSettings raw;
    add_table_options(app, raw);
    app.parse(std::vector<std::string>(args.rbegin(), args.rend()));
    return config_listing(raw, env_of(e), system);
  }
};

/// The FROM column of SETTING in a listing.
std::string origin_of(const std::string& listing, const std::string& setting) {
  std::smatch m;
  std::regex re("(^|\n)" + setting + " +(\\S+) +([^\n]+)");
  return std::regex_search(listing, m, re) ? m[3].str() : "(not listed)";
}

std::string value_of(const std::string& listing, const std::string& setting) {
  std::smatch m;
  std::regex re("(^|\n)" + setting + " +(\\S+) +([^\n]+)");
  return std::regex_search(listing, m, re) ? m[2].str() : "(not listed)";
}

ProcResult greenrun_with(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv{greenrun_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcOptions o;
  o.env = {{"TZ", "UTC"}, {"GREENRUN_CONFIG", ""}};
  for (auto& [k, v] : env) o.env[k] = v;
  return run_proc(argv, o);
}

}  // namespace

TEST_CASE("five layers: command line > environment > user file > system file > default", "[config]") {
  Files f("region = NO\npue = 1.1\ninterval = 3s\ncpu-tdp = 50\nproject = system\n",
          "# mine\nregion = PL\npue = 1.2\n\ninterval = 4s\n");
  auto p = f.parse({"--region", "SE", "--", "true"}, {{"GREENRUN_PUE", "1.3"}, {"GREENRUN_REGION", "DE"}});
  REQUIRE(p.action == ParsedCli::Action::Run);
  CHECK(p.options.grid.region == "SE");         // the command line
  CHECK(*p.options.grid.pue == Approx(1.3));    // the environment
  CHECK(p.options.sampling.interval == 4s);         // the user file
  CHECK(*p.options.estimate.cpu_tdp_w == 50);       // the system file: merged key by key
  CHECK(p.options.outputs.project == "system");
  CHECK(p.options.sampling.checkpoint == 60s);      // the default
  CHECK(p.options.config_path == f.user);

  auto listed = f.listing({"--region", "SE"}, {{"GREENRUN_PUE", "1.3"}});
  REQUIRE(listed);
  CHECK(origin_of(*listed, "region") == "--region");
  CHECK(value_of(*listed, "region") == "SE");
  CHECK(origin_of(*listed, "pue") == "GREENRUN_PUE");
  CHECK(origin_of(*listed, "interval") == f.user + " line 5");
  CHECK(origin_of(*listed, "cpu-tdp") == f.system + " line 4");
  CHECK(origin_of(*listed, "checkpoint") == "default");
  CHECK(value_of(*listed, "checkpoint") == "60s");
  CHECK_THAT(*listed, Catch::StartsWith("config files (weakest first): " + f.system + ", " + f.user + "\n"));
}

TEST_CASE("config: --config and GREENRUN_CONFIG replace the user file, over the system file", "[config]") {
  Files f("region = NO\npue = 1.1\n", "region = PL\ninterval = 4s\n");
  write_file(f.dir / "other", "region = FR\n");
  write_file(f.dir / "from-env", "region = IT\n");
  auto p = f.parse({"--config", f.dir / "other", "--", "true"});
  REQUIRE(p.action == ParsedCli::Action::Run);
  CHECK(p.options.grid.region == "FR");
  CHECK(p.options.sampling.interval == 1s);  // the user file was not read
  CHECK(*p.options.grid.pue == Approx(1.1));
  CHECK(f.parse({"--", "true"}, {{"GREENRUN_CONFIG", f.dir / "from-env"}}).options.grid.region == "IT");
  CHECK(f.parse({"--config", f.dir / "other", "--", "true"}, {{"GREENRUN_CONFIG", f.dir / "from-env"}}).options.grid.region == "FR");
  auto missing = f.parse({"--config", f.dir / "missing", "--", "true"});
  CHECK(missing.exit_code == 125);
  CHECK_THAT(missing.message, Catch::Contains("cannot read the config file " + f.dir / "missing"));
}

TEST_CASE("flags as boolean keys: true/false, yes/no, on/off, 1/0, and the command line wins with --flag=false", "[config]") {
  Files f("no-embodied = yes\n", "no-estimate = 1\nlive = true\n");
  auto p = f.parse({"--", "true"});
  REQUIRE(p.action == ParsedCli::Action::Run);
  CHECK(p.options.estimate.no_estimate);
  CHECK(p.options.footprint.no_embodied);
  CHECK(p.options.outputs.live);
  CHECK_FALSE(f.parse({"--live=false", "--", "true"}).options.outputs.live);
  write_file(f.user, "\nlive = maybe\n");
  auto bad = f.parse({"--", "true"});
  CHECK(bad.exit_code == 125);
  CHECK_THAT(bad.message, Catch::Contains(f.user + " line 2: live = maybe: must be true or false"));
  write_file(f.user, "quiet = true\n");  // a flag that is no key: one run's choice
  CHECK_THAT(f.parse({"--", "true"}).message, Catch::Contains(f.user + " line 1: unknown setting 'quiet'"));
}

TEST_CASE("a bad value from a file names the file, the line and the key, not an option", "[config]") {
  Files f("", "region = FR\n\npue = 0.5\n");
  auto p = f.parse({"--", "true"});
  CHECK(p.exit_code == 125);
  CHECK_THAT(p.message, Catch::Contains(f.user + " line 3: pue = 0.5: must be a number between 1.0 and 3.0"));
  CHECK_THAT(p.message, !Catch::Contains("--pue"));
  write_file(f.user, "");
  write_file(f.system, "checkpoint = often\n");
  CHECK_THAT(f.parse({"--", "true"}).message, Catch::Contains(f.system + " line 1: checkpoint = often is not a duration"));
  write_file(f.system, "");
  write_file(f.user, "no-embodied = true\nembodied-kg = 300\n");  // settings that contradict each other: both named
  CHECK_THAT(f.parse({"--", "true"}).message,
             Catch::Contains(f.user + " line 1: no-embodied = true contradicts " + f.user + " line 2: embodied-kg = 300"));
  CHECK_THAT(f.parse({"--no-embodied", "--embodied-kg", "300", "--", "true"}).message,
             Catch::Contains("--no-embodied contradicts --embodied-kg 300"));
}

TEST_CASE("an unknown key or a bad value in a config file: 125 before the command starts", "[config][cli]") {
  TempDir dir;
  const std::string witness = dir / "ran";
  write_file(dir / "unknown", "region = FR\ncolour = green\n");
  write_file(dir / "bad", "# ok\nregion = FR\ninterval = 0\n");
  // Values checked later, against the data or the filesystem: the message names the option, then the line.
  write_file(dir / "region", "region = Atlantis\n");
  write_file(dir / "csv", "\ncsv = /nonexistent/e.csv\n");
  for (const auto& [file, expect] : std::vector<std::pair<std::string, std::string>>{
           {dir / "unknown", dir / "unknown line 2: unknown setting 'colour'"},
           {dir / "bad", dir / "bad line 3: interval = 0: must be at least 1ms"},
           {dir / "region", "unknown region 'Atlantis'"},
           {dir / "region", "(from " + dir / "region line 1: region = Atlantis)"},
           {dir / "csv", "(from " + dir / "csv line 2: csv = /nonexistent/e.csv)"}}) {
    auto r = greenrun_with({"--", "touch", witness}, {{"GREENRUN_CONFIG", file}});
    INFO(r.err);
    CHECK(r.status == 125);
    CHECK_THAT(r.err, Catch::StartsWith("greenrun: ") && Catch::Contains(expect));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    if (file == dir / "unknown" || file == dir / "bad") {
      auto c = greenrun_with({"config"}, {{"GREENRUN_CONFIG", file}});
      CHECK(c.status == 125);
      CHECK_THAT(c.err, Catch::Contains(expect));
    }
  }
  auto missing = greenrun_with({"--config", dir / "nowhere", "--", "touch", witness}, {});
  CHECK(missing.status == 125);
  CHECK_THAT(missing.err, Catch::Contains(dir / "nowhere"));
  CHECK_FALSE(std::filesystem::exists(witness));
}

TEST_CASE("credentials: only from a file its owner alone reads, the environment wins, never shown", "[config]") {
  Files f("", "electricitymaps-token = file-token-s3cr3t\nwatttime-username = someone\n");
  chmod(f.user.c_str(), 0644);
  auto open = f.parse({"--", "true"});
  CHECK(open.exit_code == 125);
  CHECK_THAT(open.message, Catch::Contains(f.user + " line 1: electricitymaps-token is a secret") &&
                               Catch::Contains("chmod 600 " + f.user));
  CHECK_THAT(open.message, !Catch::Contains("file-token-s3cr3t"));

  chmod(f.user.c_str(), 0600);
  auto p = f.parse({"--", "true"});
  REQUIRE(p.action == ParsedCli::Action::Run);
  CHECK(p.options.grid.credentials.at("GREENRUN_ELECTRICITYMAPS_TOKEN") == "file-token-s3cr3t");
  CHECK(credential(p.options.grid, env_of({}), "GREENRUN_ELECTRICITYMAPS_TOKEN") == "file-token-s3cr3t");
  CHECK(credential(p.options.grid, env_of({{"GREENRUN_ELECTRICITYMAPS_TOKEN", "env-token"}}), "GREENRUN_ELECTRICITYMAPS_TOKEN") ==
        "env-token");
  auto env_wins = f.parse({"--", "true"}, {{"GREENRUN_ELECTRICITYMAPS_TOKEN", "env-token"}});
  CHECK(env_wins.options.grid.credentials.count("GREENRUN_ELECTRICITYMAPS_TOKEN") == 0);

  auto listed = f.listing({}, {{"GREENRUN_WATTTIME_USERNAME", "env-user"}});
  REQUIRE(listed);
  CHECK(value_of(*listed, "electricitymaps-token") == "(set)");
  CHECK(origin_of(*listed, "electricitymaps-token") == f.user + " line 1");
  CHECK(origin_of(*listed, "watttime-username") == "GREENRUN_WATTTIME_USERNAME");
  CHECK(value_of(*listed, "watttime-password") == "-");
  CHECK_THAT(*listed, !Catch::Contains("s3cr3t") && !Catch::Contains("someone") && !Catch::Contains("env-user"));

  auto shown = greenrun_with({"config"}, {{"GREENRUN_CONFIG", f.user}});
  CHECK(shown.status == 0);
  CHECK_THAT(shown.out + shown.err, !Catch::Contains("s3cr3t"));

  if (::getuid() == 0) {  // a file another user owns, even 0600, is not the user's own
    REQUIRE(chown(f.user.c_str(), 65534, 65534) == 0);
    CHECK_THAT(f.parse({"--", "true"}).message, Catch::Contains("belongs to uid 65534"));
  }
}

TEST_CASE("greenrun config: every setting, its value and its origin, aligned, and the command line wins", "[config][cli]") {
  TempDir dir;
  write_file(dir / "config", "# greenrun\nregion = NO\ninterval = 2s\n");
  auto r = greenrun_with({"config", "--region", "FR"}, {{"GREENRUN_CONFIG", dir / "config"}, {"GREENRUN_PUE", "1.4"}});
  REQUIRE(r.status == 0);
  CHECK(origin_of(r.out, "region") == "--region");
  CHECK(value_of(r.out, "region") == "FR");
  CHECK(origin_of(r.out, "interval") == dir / "config line 3");
  CHECK(origin_of(r.out, "pue") == "GREENRUN_PUE");
  CHECK(origin_of(r.out, "scope") == "default");
  for (const auto& spec : option_table()) CHECK(origin_of(r.out, spec.name) != "(not listed)");
  // Aligned: every value starts in the same column.
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);  // the files
  std::set<size_t> value_columns;
  while (std::getline(lines, line)) value_columns.insert(line.find_first_not_of(' ', line.find(' ')));
  CHECK(value_columns.size() == 1);
}

TEST_CASE("the man page lists every config key, and only those", "[config][docs]") {
  const std::string page = slurp(source_dir() + "/man/greenrun.1");
  const size_t from = page.find("\nKeys: ");
  const size_t to = page.find("are not keys.", from);
  REQUIRE(from != std::string::npos);
  REQUIRE(to != std::string::npos);
  const std::string keys = page.substr(from, page.find("The outputs of one run", from) - from);
  for (const auto& spec : option_table()) {
    INFO(spec.name);
    const std::regex listed(std::string("[ \n]") + spec.name + "[,. \n]");
    CHECK(std::regex_search(keys, listed) == spec.config);
  }
  for (const auto& s : secret_table()) {
    std::string escaped = s.key;
    for (size_t at = escaped.find('-'); at != std::string::npos; at = escaped.find('-', at + 3)) escaped.replace(at, 1, "\\-");
    CHECK(page.find(escaped) != std::string::npos);
  }
}
