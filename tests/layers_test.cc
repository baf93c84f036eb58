// The house's one rule, checked on the code: a folder of src/ includes only
// folders below it (ARCHITECTURE.md, "Layers"). A new folder must be given its
// place in kLayers before anything may include it.

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "helpers.h"

using namespace greenrun::test;
namespace fs = std::filesystem;

namespace {

// Top down; folders on one line are side by side and include neither each other.
const std::vector<std::vector<std::string>> kLayers = {
    {"cli"},     {"commands"}, {"outputs"},          {"report"}, {"carbon"},
    {"sampling"}, {"sensors"},  {"process", "cluster"}, {"config"}, {"util"},
};

int rank_of(const std::string& folder) {
  for (size_t i = 0; i < kLayers.size(); ++i)
    for (const auto& f : kLayers[i])
      if (f == folder) return static_cast<int>(kLayers.size() - i);
  return -1;
}

// "FOLDER/FILE includes TARGET/...: ..." for each include that is not of a
// lower layer, under each folder of `roots` (src/, cli/ itself).
std::vector<std::string> back_edges(const std::vector<fs::path>& folders) {
  std::vector<std::string> out;
  const std::regex include(R"re(^\s*#\s*include\s+"([a-z_]+)/[^"]+")re");
  for (const auto& dir : folders) {
    const std::string from = dir.filename().string();
    if (rank_of(from) < 0) {
      out.push_back(from + "/ has no place in the layers: add it to kLayers (tests/layers_test.cc)");
      continue;
    }
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path());
      int line_no = 0;
      for (std::string line; std::getline(in, line);) {
        ++line_no;
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        const std::string to = m[1];
        if (to == from || (rank_of(to) >= 0 && rank_of(to) < rank_of(from))) continue;
        out.push_back(from + "/" + e.path().filename().string() + ":" + std::to_string(line_no) + " includes " + to +
                      "/, " + (rank_of(to) < 0 ? "a folder with no layer" : "which is not below " + from + "/"));
      }
    }
  }
  return out;
}

std::vector<fs::path> folders_of(const fs::path& src, const fs::path& cli) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(src))
    if (e.is_directory()) out.push_back(e.path());
  out.push_back(cli);
  return out;
}

}  // namespace

TEST_CASE("a planted include that points up a layer, and a folder with no layer, are found", "[layers]") {
  TempDir dir;
  write_file(dir / "src/config/options.cc", "#include \"config/options.h\"\n#include \"util/fs.h\"\n");
  write_file(dir / "src/util/fs.cc", "#include <string>\n  #include \"carbon/carbon_data.h\"\n");
  write_file(dir / "src/gadgets/g.cc", "#include \"util/fs.h\"\n");
  write_file(dir / "cli/main.cc", "#include \"commands/run.h\"\n");
  auto found = back_edges(folders_of(dir / "src", dir / "cli"));
  std::sort(found.begin(), found.end());
  CHECK(found == std::vector<std::string>{"gadgets/ has no place in the layers: add it to kLayers (tests/layers_test.cc)",
                                          "util/fs.cc:2 includes carbon/, which is not below util/"});
}

TEST_CASE("no folder of src/ includes a folder above it or beside it", "[layers]") {
  const fs::path root = SOURCE_DIR;
  const auto folders = folders_of(root / "src", root / "cli");
  CHECK(folders.size() == 11);  // the ten folders of src/ and cli/: a new one is placed in kLayers
  const auto found = back_edges(folders);
  std::string text;
  for (const auto& f : found) text += "\n  " + f;
  INFO("includes against the layers:" << text);
  CHECK(found.empty());
}
