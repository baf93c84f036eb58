// greenrun sensors: what it says about this build machine and about fixtures.

#include <catch2/catch.hpp>
#include <unistd.h>

#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "helpers.h"

using namespace greenrun::test;
using nlohmann::json;

TEST_CASE("greenrun sensors on this machine: nothing readable is claimed readable, and why is said", "[sensors]") {
  // The real /sys: a VM without counters here; on a machine with RAPL or GPUs the
  // same checks hold for whatever it finds.
  auto r = run_proc({greenrun_bin(), "sensors", "--json"});
  REQUIRE(r.status == 0);
  auto j = json::parse(r.out);
  CHECK(j["machine"]["logical_cpus"].get<int>() == static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
  REQUIRE(j["sources"].size() >= 1);
  for (const auto& s : j["sources"]) {
    CHECK_FALSE(s["detail"].get<std::string>().empty());
    if (s["readable"] == false) CHECK(s.contains("fix"));
  }
  bool any_measured = false;
  for (const auto& u : j["used"]) any_measured = any_measured || u["measured"] == true;
  bool any_readable = false;
  for (const auto& s : j["sources"]) any_readable = any_readable || s["readable"] == true;
  CHECK(any_measured == any_readable);
  const json& tree = j["process_tree"];
  CHECK((tree["method"] == "cgroup" || tree["method"] == "proc"));
  if (tree["method"] == "proc") CHECK_FALSE(tree["reason"].get<std::string>().empty());
  auto text = run_proc({greenrun_bin(), "sensors"});
  CHECK(text.status == 0);
  CHECK_THAT(text.out, Catch::Contains("machine") && Catch::Contains("greenrun would report") &&
                           Catch::Contains("process tree: "));
}

TEST_CASE("greenrun sensors lists fake GPUs and the source of each figure", "[sensors][nvml]") {
  TempDir dir;
  FakeRapl rapl(dir / "sys", 20);  // a live counter: a constant one would be reported frozen
  write_file(dir / "nvml.conf", "count=2\ngpu0.name=NVIDIA H100 80GB HBM3\ngpu1.name=Tesla V100-SXM2-16GB\ngpu1.energy=0\n");
  ProcOptions opt;
  opt.env = {{"FAKE_NVML_CONFIG", dir / "nvml.conf"}};
  auto r = run_proc({greenrun_bin(), "sensors", "--json", "--sysfs-root", dir / "sys", "--nvml-lib", FAKE_NVML_LIB}, opt);
  REQUIRE(r.status == 0);
  auto j = json::parse(r.out);
  std::vector<std::string> used;
  for (const auto& u : j["used"]) used.push_back(u["component"].get<std::string>() + "/" + u["source"].get<std::string>());
  CHECK(std::find(used.begin(), used.end(), "cpu/RAPL powercap") != used.end());
  CHECK(std::find(used.begin(), used.end(), "gpu0/NVML energy counter") != used.end());
  CHECK(std::find(used.begin(), used.end(), "gpu1/NVML power (integrated)") != used.end());
}

TEST_CASE("greenrun sensors run unprivileged names the fix for root-only RAPL", "[sensors][privileges]") {
  if (geteuid() != 0) SKIP_TEST("needs root to drop to an unprivileged user");
  if (access("/usr/bin/setpriv", X_OK) != 0) SKIP_UNLESS_CI("setpriv is not installed (util-linux)");
  TempDir dir;
  add_powercap_zone(dir / "sys", "intel-rapl:0", "package-0", 1);
  chmod((dir / "sys/class/powercap/intel-rapl:0/energy_uj").c_str(), 0400);
  auto u = run_proc({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", greenrun_bin(), "sensors",
                     "--sysfs-root", dir / "sys"});
  REQUIRE(u.status == 0);
  CHECK_THAT(u.out, Catch::Contains("readable by root only") &&
                        Catch::Contains("to enable it: sudo chmod a+r " + dir / "sys/class/powercap/*/energy_uj"));
}
