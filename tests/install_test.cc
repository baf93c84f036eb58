// `cmake --install` into a fresh prefix: every file where a user and the
// Debian package expect it, and the installed binary finding its data.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "helpers.h"

using namespace greenrun::test;
namespace fs = std::filesystem;

TEST_CASE("cmake --install puts the binary, data, man page, completions and licences in place", "[install]") {
  TempDir prefix;
  auto inst = run_proc({CMAKE_COMMAND, "--install", BUILD_DIR, "--prefix", prefix.path()});
  REQUIRE(inst.status == 0);
  for (const char* rel : {"bin/greenrun", "share/greenrun/intensity/zones.csv", "share/greenrun/intensity/ATTRIBUTION.md",
                          "share/greenrun/intensity/LICENSE-ODbL.txt", "share/greenrun/hardware/cpu_tdp.csv",
                          "share/man/man1/greenrun.1.gz", "share/bash-completion/completions/greenrun",
                          "share/zsh/vendor-completions/_greenrun", "share/fish/vendor_completions.d/greenrun.fish",
                          "share/doc/greenrun/copyright", "share/doc/greenrun/changelog.Debian.gz"})
    CHECK(fs::is_regular_file(prefix / rel));
  // The man page is the source page, compressed.
  const std::string page = prefix.path() + "/share/man/man1/greenrun.1.gz", source = SOURCE_DIR;
  auto man = run_proc({"gzip", "-dc", page});
  CHECK(man.out == slurp(source + "/man/greenrun.1"));
  // The copyright names the data licences.
  const std::string copyright = slurp(prefix / "share/doc/greenrun/copyright");
  CHECK_THAT(copyright, Catch::Contains("License: ODbL-1.0") && Catch::Contains("License: CC-BY-4.0") &&
                            Catch::Contains("Electricity Maps") && Catch::Contains("Ember"));
  // Relocated: the binary finds PREFIX/share/greenrun by its own location.
  ProcOptions o;
  o.env["GREENRUN_DATA_DIR"] = "";
  auto v = run_proc({prefix / "bin/greenrun", "--version"}, o);
  CHECK_THAT(v.out, Catch::Contains("data: " + fs::canonical(prefix / "share/greenrun").string() + " (looked in"));
  auto r = run_proc({prefix / "bin/greenrun", "-q", "--", "sh", "-c", "exit 4"}, o);
  CHECK(r.status == 4);

  // The Python helper in PREFIX/lib/python3.X/dist-packages (Debian's python3
  // looks there for /usr/local), imported from there under the installed greenrun.
  std::string site;
  for (const auto& e : fs::directory_iterator(prefix / "lib"))
    if (fs::is_regular_file(e.path() / "dist-packages/greenrun.py")) site = (e.path() / "dist-packages").string();
  REQUIRE_FALSE(site.empty());
  CHECK_THAT(site, Catch::Matches(".*/lib/python3\\.[0-9]+/dist-packages"));
  CHECK(slurp(site + "/greenrun.py") == slurp(source + "/python/greenrun.py"));
  o.env["PYTHONPATH"] = site;
  o.env["PYTHONDONTWRITEBYTECODE"] = "1";
  auto py = run_proc({prefix / "bin/greenrun", "-q", "--json", prefix / "py.json", "--", "python3", "-c",
                      "import greenrun; assert greenrun.__file__ == '" + site + "/greenrun.py'; greenrun.count(3, 'samples')"},
                     o);
  INFO(py.err);
  CHECK(py.status == 0);
  const auto units = nlohmann::json::parse(slurp(prefix / "py.json"))["units"];
  REQUIRE(units.size() == 1);
  CHECK(units[0]["unit"] == "samples");
  CHECK(units[0]["count"] == 3);
}
