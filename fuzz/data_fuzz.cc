// libFuzzer target: greenrun's data files (share/), one file replaced by the
// input in a copy of the shipped directory, then loaded and validated.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "carbon/carbon_data.h"
#include "sensors/hardware_data.h"

namespace {

const char* kFiles[] = {"intensity/zones.csv",   "intensity/countries.csv",      "intensity/cloud_regions.csv",
                        "intensity/pue.csv",     "intensity/equivalents.csv",    "hardware/cpu_tdp.csv",
                        "hardware/gpu_tdp.csv",  "hardware/cpu_microarchitectures.csv",
                        "hardware/cloud_power_coefficients.csv"};

std::string copy_of_share() {
  static std::string dir = [] {
    std::string d = std::filesystem::temp_directory_path().string() + "/greenrun-fuzz-share-" + std::to_string(::getpid());
    std::filesystem::copy(greenrun::find_data_dir(), d, std::filesystem::copy_options::recursive |
                                                            std::filesystem::copy_options::overwrite_existing);
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string dir = copy_of_share();
  const std::string file = dir + "/" + kFiles[data[0] % (sizeof kFiles / sizeof kFiles[0])];
  const std::string original = [&] {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  std::ofstream(file, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data + 1),
                                                                 static_cast<std::streamsize>(size - 1));
  if (auto carbon = greenrun::load_carbon_data(dir)) (void)greenrun::validate_carbon_data(*carbon);
  if (auto hw = greenrun::HardwareData::load(dir)) {
    (void)hw->match_cpu("Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz");
    (void)hw->match_gpu("NVIDIA H100 80GB HBM3");
  }
  std::ofstream(file, std::ios::binary | std::ios::trunc) << original;
  return 0;
}
