// tools/real-check, the check a person runs on a real GPU node, run here: its
// CPU-side checks on this machine, and its GPU path against the fake NVML, the
// fake nvidia-smi that reads the same counter (tests/fakes/fake_nvidia_smi.c)
// and a fake GPU load (tests/fakes/fake_gpu_load) in place of torch's.

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>

#include "helpers.h"
#include "process/procfs.h"

using namespace greenrun::test;
using nlohmann::json;

namespace {

const std::string kNoGpu = "skipped: no NVIDIA GPU (nvidia-smi not found)";
const std::set<std::string> kCpuRows = {"f1", "g1", "cpu1", "cpu2"};

/// The check's output for a failed assertion's message, without ctest's skip
/// marker, which would make ctest count the failure as a skip.
std::string unmarked(std::string text) {
  for (size_t at = 0; (at = text.find("skipped: ", at)) != std::string::npos;) text.replace(at, 9, "skipped, ");
  return text;
}

/// This process's PATH without the folders that hold an nvidia-smi: the check
/// then takes this machine for one without a GPU, whatever it has.
std::string path_without_nvidia_smi() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  std::string out;
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && !std::filesystem::exists(dir + "/nvidia-smi")) out += (out.empty() ? "" : ":") + dir;
  return out;
}

struct RealCheck {
  TempDir dir;
  std::map<std::string, std::string> env;
  ProcResult result;
  std::map<std::string, json> rows;  // by id
  std::vector<std::string> order;

  RealCheck() {
    // Every knob set, so that a caller's REAL_CHECK_* cannot change what is checked.
    env = {{"GREENRUN", greenrun_bin()}, {"GREENRUN_CONFIG", ""}, {"PATH", path_without_nvidia_smi()},
           {"REAL_CHECK_JSON", dir / "rows.json"}, {"REAL_CHECK_SCALE", ""}, {"REAL_CHECK_LOAD_CMD", ""},
           {"REAL_CHECK_READER", ""}, {"REAL_CHECK_NVML_LIB", ""}, {"REAL_CHECK_GPU", ""},
           {"REAL_CHECK_ONLY", ""}, {"REAL_CHECK_KEEP", ""}, {"PYTHON", "python3"}};
  }

  /// The fake GPU: fake NVML for greenrun and the reader, the fake nvidia-smi first on PATH, the fake load.
  void fake_gpu(const std::string& config_text) {
    write_file(dir / "nvml.conf", config_text);
    const std::string bin = std::filesystem::path(FAKE_NVIDIA_SMI_BIN).parent_path().string();
    env["PATH"] = bin + ":" + env["PATH"];
    env["FAKE_NVML_CONFIG"] = dir / "nvml.conf";
    env["GREENRUN_NVML_LIB"] = FAKE_NVML_LIB;
    env["REAL_CHECK_NVML_LIB"] = FAKE_NVML_LIB;
    env["REAL_CHECK_LOAD_CMD"] = source_dir() + "/tests/fakes/fake_gpu_load";
    env["REAL_CHECK_SCALE"] = "0.05";  // the loads' shortest: 1 to 6 s each
  }

  void run(double timeout_s) {
    ProcOptions opt;
    opt.env = env;
    opt.timeout_s = timeout_s;
    result = run_proc({source_dir() + "/tools/real-check"}, opt);
    INFO(unmarked(result.out + result.err));
    REQUIRE_FALSE(result.timed_out);
    auto j = json::parse(slurp(dir / "rows.json"));
    for (const auto& r : j["rows"]) {
      order.push_back(r["id"]);
      rows[r["id"]] = r;
    }
  }

  std::string result_of(const std::string& id) const {
    auto it = rows.find(id);
    return it == rows.end() ? "(no row)" : it->second["result"].get<std::string>();
  }
};

// The counter moves in steps as a real one does, shortened with the loads
// (REAL_CHECK_SCALE 0.05): a step of 100 ms over a 1 s run is 10% of its
// energy, where the check's 5% against integrated power is meant for runs of
// 8 s and more.
const std::string kFakeGpu =
    "count=1\nshared_counter=1\n"
    "gpu0.name=NVIDIA Fake H100 80GB HBM3\ngpu0.uuid=GPU-5ea1c4ec-0000\ngpu0.power_w=250\ngpu0.step_s=0.02\n";

}  // namespace

TEST_CASE("real-check without a GPU: the CPU-side checks pass, the GPU ones are skipped saying why", "[real-check]") {
  RealCheck c;
  c.run(180);
  INFO(unmarked(c.result.out + c.result.err));
  CHECK(c.result.status == 0);
  CHECK(c.result.out.find(kNoGpu) != std::string::npos);
  // One table: its header once, then a row per check.
  const auto header = c.result.out.find("  check  ");
  CHECK(header != std::string::npos);
  CHECK(header == c.result.out.rfind("  check  "));
  REQUIRE(c.order.size() == 21);
  for (const auto& id : c.order) {
    INFO(id << ": " << unmarked(c.rows[id].dump()));
    if (kCpuRows.count(id)) {
      CHECK(c.result_of(id) == "PASS");
    } else {
      CHECK(c.result_of(id) == "SKIP");
      CHECK(c.rows[id]["note"] == kNoGpu);
    }
  }
  CHECK(c.result.out.find("4 passed, 0 failed, 17 skipped") != std::string::npos);
}

TEST_CASE("real-check on the fake GPU: every GPU row is computed and passes", "[real-check][nvml]") {
  // The fake load puts its own pid on the fake GPU; greenrun matches NVML's
  // pids to the command's only in the initial PID namespace.
  if (!greenrun::in_initial_pid_namespace("/proc")) SKIP_TEST("not in the initial PID namespace: NVML's pids are not the command's here");
  RealCheck c;
  c.fake_gpu(kFakeGpu);
  c.env["REAL_CHECK_ONLY"] = "a,b,c,d,e,h,f";  // g and the CPU rows: the test above
  c.run(180);
  INFO(unmarked(c.result.out + c.result.err));
  CHECK(c.result.out.find("reader: NVML through ctypes (" FAKE_NVML_LIB) != std::string::npos);
  CHECK(c.result.out.find("loads: REAL_CHECK_LOAD_CMD") != std::string::npos);
  // A sanitizer's runtime costs the sampler more than the 0.5 ms per tick a real build is held to.
  const std::set<std::string> may_fail = sanitized() ? std::set<std::string>{"a4"} : std::set<std::string>{};
  bool failed = false;
  REQUIRE(c.order.size() == 21);
  for (const auto& id : c.order) {
    INFO(id << ": " << unmarked(c.rows[id].dump()));
    if (id == "g1" || id == "cpu1" || id == "cpu2") {
      CHECK(c.result_of(id) == "SKIP");
    } else if (may_fail.count(id)) {
      CHECK(c.result_of(id) != "SKIP");
      failed = failed || c.result_of(id) == "FAIL";
    } else {
      CHECK(c.result_of(id) == "PASS");
    }
  }
  CHECK(c.result.status == (failed ? 1 : 0));
}

TEST_CASE("real-check on the fake GPU through nvidia-smi -lms 100 alone", "[real-check][nvml]") {
  RealCheck c;
  c.fake_gpu(kFakeGpu);
  c.env["REAL_CHECK_READER"] = "nvidia-smi";
  c.env["REAL_CHECK_ONLY"] = "b";
  c.run(120);
  INFO(unmarked(c.result.out + c.result.err));
  CHECK(c.result.out.find("reader: nvidia-smi -lms 100 (power.draw, total_energy_consumption)") != std::string::npos);
  for (const auto& id : {"b1", "b2", "b3"}) {
    INFO(id << ": " << unmarked(c.rows[id].dump()));
    CHECK(c.result_of(id) == "PASS");
  }
  CHECK(c.result.status == 0);
}

TEST_CASE("real-check fails a greenrun whose GPU counter is not the one the reader sees", "[real-check][nvml]") {
  // greenrun is given another fake GPU drawing 20% more than the one the
  // reader and nvidia-smi read: as if it misread the counter.
  RealCheck c;
  c.fake_gpu(kFakeGpu);
  write_file(c.dir / "skewed.conf", "count=1\nshared_counter=1\ngpu0.name=NVIDIA Fake H100 80GB HBM3\n"
                                    "gpu0.uuid=GPU-5ea1c4ec-0000\ngpu0.power_w=300\ngpu0.step_s=0.02\n");
  write_file(c.dir / "greenrun", "#!/bin/sh\nFAKE_NVML_CONFIG='" + (c.dir / "skewed.conf") + "' exec '" +
                                     greenrun_bin() + "' \"$@\"\n");
  REQUIRE(::chmod((c.dir / "greenrun").c_str(), 0755) == 0);
  c.env["GREENRUN"] = c.dir / "greenrun";
  c.env["REAL_CHECK_ONLY"] = "b";
  c.run(120);
  INFO(unmarked(c.result.out + c.result.err));
  CHECK(c.result.status == 1);
  CHECK(c.result_of("b1") == "FAIL");
  CHECK(c.result_of("b2") == "FAIL");
  CHECK(c.result_of("b3") == "PASS");  // the share is still the command's
  CHECK(c.result.out.find("failed") != std::string::npos);
}
