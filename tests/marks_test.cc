// The marks protocol (process/marks.cc): lines in any pieces, a label per
// line, at most kMaxMarkLabel bytes held whatever a line's length.

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "helpers.h"
#include "process/marks.h"

using namespace greenrun;
using namespace greenrun::test;

namespace {

std::vector<std::string> labels_of(const std::vector<std::string>& pieces) {
  MarkLines lines;
  std::vector<std::string> out;
  for (const auto& p : pieces) lines.feed(p, [&](MarkRecord r) { out.push_back(std::move(r.text)); });
  return out;
}

}  // namespace

TEST_CASE("marks: one label per line, in whatever pieces the bytes come", "[marks]") {
  CHECK(labels_of({"load\ntrain\n"}) == std::vector<std::string>{"load", "train"});
  CHECK(labels_of({"lo", "ad\ntr", "ain", "\n"}) == std::vector<std::string>{"load", "train"});
  CHECK(labels_of({"eval  \r\n", "\n", "   \n"}) == std::vector<std::string>{"eval"});  // blanks trimmed, empty skipped
  CHECK(labels_of({"no end yet"}).empty());
}

TEST_CASE("marks: a line longer than the label keeps its first 200 bytes, whole characters", "[marks]") {
  const std::string head = "epoch-1 " + std::string(300, 'h');
  // A megabyte in 64 KiB reads, as the FIFO hands it over.
  std::string line = head + std::string(1 << 20, 't') + "tail\n";
  std::vector<std::string> pieces;
  for (size_t at = 0; at < line.size(); at += 65536) pieces.push_back(line.substr(at, 65536));
  pieces.push_back("next\n");
  auto got = labels_of(pieces);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == head.substr(0, kMaxMarkLabel));
  CHECK(got[1] == "next");
  // A two-byte character across the 200th byte is left out, not cut in half.
  auto utf8 = labels_of({std::string(199, 'a') + "\xc3\xa9" + "zzz\n"});
  REQUIRE(utf8.size() == 1);
  CHECK(utf8[0] == std::string(199, 'a'));
}

TEST_CASE("marks: a 1 MB mark line from the command is a phase named by its first 200 characters", "[marks][cli]") {
  TempDir dir;
  make_dirs(dir / "sys");
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  auto r = run_proc({greenrun_bin(), "-q", "--json", dir / "m.json", "--", "python3", "-c",
                     "import os\nf = open(os.environ['GREENRUN_MARK'], 'w')\n"
                     "f.write('first-part-' + 'x' * (1 << 20) + 'end-of-line\\n'); f.write('after\\n')"},
                    opt);
  REQUIRE(r.status == 0);
  auto j = nlohmann::json::parse(slurp(dir / "m.json"));
  REQUIRE(j["phases"].size() == 3);
  CHECK(j["phases"][1]["name"] == "first-part-" + std::string(kMaxMarkLabel - 11, 'x'));
  CHECK(j["phases"][2]["name"] == "after");
}
