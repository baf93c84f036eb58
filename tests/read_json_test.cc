// A JSON report read back (greenrun report FILE --html): it holds no more
// than a run can (sampling/timeline.h's bounds), or it is refused with a
// message before anything is rendered.

#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "helpers.h"
#include "sampling/accounting.h"
#include "sampling/timeline.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

struct Hostile {
  const char* what;  // as the message names it
  std::function<void(json&)> grow;
};

json repeated(const json& one, size_t n) { return json(std::vector<json>(n, one)); }

}  // namespace

TEST_CASE("a report read back obeys the timeline's bounds: beyond them, 125 and a message, no page", "[report][html][hardening]") {
  TempDir dir;
  make_dirs(dir / "sys");
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  REQUIRE(run_proc({greenrun_bin(), "-q", "--interval", "100ms", "--json", dir / "base.json", "--", "sleep", "0.3"}, opt)
              .status == 0);
  const json base = json::parse(slurp(dir / "base.json"));
  REQUIRE(base["timeline"]["records"].size() > 0);
  const json record = base["timeline"]["records"][0];
  const size_t comps = base["timeline"]["components"].size();
  const size_t most = Timeline::capacity_for(comps);

  const std::vector<Hostile> cases = {
      // The adversarial pass's page: 3,000 components x 3,000 records (432 MB, 13 s before the bound).
      {"timeline components", [](json& j) {
         json c = j["timeline"]["components"][0];
         j["timeline"]["components"] = repeated(c, 3000);
         j["timeline"]["records"] = repeated(json{{"start_s", 0}, {"end_s", 1}, {"windows", 1}}, 3000);
       }},
      {"components", [](json& j) { j["components"] = repeated(j["components"][0], Timeline::kMaxComponents + 1); }},
      {"timeline records", [&](json& j) { j["timeline"]["records"] = repeated(record, most + 1); }},
      {"phases", [](json& j) {
         j["phases"] = repeated(json{{"name", "p"}, {"start_s", 0}, {"end_s", 0}}, Accounting::kMaxPhases + 2);
       }},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.what) {
      json j = base;
      c.grow(j);
      write_file(dir / "hostile.json", j.dump());
      auto r = run_proc({greenrun_bin(), "report", dir / "hostile.json", "--html", dir / "page.html"});
      INFO(r.err);
      CHECK(r.status == 125);
      CHECK_THAT(r.err, Catch::Contains(std::string(" ") + c.what + ", more than the ") &&
                            Catch::Contains("not a report greenrun wrote"));
      CHECK_FALSE(std::filesystem::exists(dir / "page.html"));
      CHECK(r.seconds < 10);
    }
  }
  SECTION("at the bound, the page is rendered") {
    json j = base;
    j["timeline"]["records"] = repeated(record, most);
    write_file(dir / "full.json", j.dump());
    auto r = run_proc({greenrun_bin(), "report", dir / "full.json", "--html", dir / "page.html"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(std::filesystem::file_size(dir / "page.html") > 0);
  }
}

TEST_CASE("a timeline's default capacity is the bound a report read back must obey", "[report][timeline]") {
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{16}, Timeline::kMaxComponents}) {
    std::vector<TimelineComponent> comps(n);
    CHECK(Timeline(comps).capacity() == Timeline::capacity_for(n));
  }
  CHECK(Timeline::capacity_for(2) == Timeline::kMaxRecords);
  CHECK(Timeline::capacity_for(Timeline::kMaxComponents) < Timeline::kMaxRecords);  // under 1 MiB of records
}
