#include <catch2/catch.hpp>

#include "helpers.h"
#include "carbon/intensity.h"

using namespace greenrun;
using namespace greenrun::test;
using namespace std::chrono;

namespace {
system_clock::time_point at(long long unix_s) { return system_clock::time_point(seconds(unix_s)); }
}  // namespace

TEST_CASE("timestamps: RFC 3339 with offsets, fractions, or Unix seconds", "[intensity]") {
  CHECK(parse_timestamp("2024-05-01T13:00:00Z") == at(1714568400));
  CHECK(parse_timestamp("2024-05-01T15:00:00+02:00") == at(1714568400));
  CHECK(parse_timestamp("2024-05-01 08:30:00-04:30") == at(1714568400));
  CHECK(parse_timestamp("1714568400") == at(1714568400));
  CHECK(parse_timestamp("2024-05-01T13:00:00.5Z") == at(1714568400) + milliseconds(500));
  CHECK_FALSE(parse_timestamp("2024-05-01T13:00:00"));  // no offset: ambiguous
  CHECK_FALSE(parse_timestamp("2024-13-01T00:00:00Z"));
  CHECK_FALSE(parse_timestamp("yesterday"));
  CHECK_FALSE(parse_timestamp("12.5"));
}

TEST_CASE("steps: each value holds until the next, averaged over a window", "[intensity]") {
  auto p = IntensityProfile::steps({{at(0), 100}, {at(3600), 300}, {at(7200), 50}});
  CHECK(p.average(at(0), at(3600)) == Approx(100));
  CHECK(p.average(at(1800), at(5400)) == Approx(200));  // half an hour at each
  CHECK(p.average(at(0), at(10800)) == Approx(150));    // 100, 300, 50 for an hour each
  CHECK(p.average(at(-100), at(0)) == Approx(100));     // before the first: the first value
  CHECK(p.average(at(9000), at(9000)) == Approx(50));
  CHECK(p.seconds_outside(at(-100), at(100)) == Approx(100));
  CHECK(p.seconds_outside(at(0), at(10800)) == Approx(0));      // the last value covers its hour
  CHECK(p.seconds_outside(at(0), at(11000)) == Approx(200));
  CHECK(IntensityProfile::constant(42).average(at(5), at(10)) == 42);
}

TEST_CASE("intensity files: CSV and JSON", "[intensity]") {
  auto csv = parse_intensity_text("g_per_kwh,timestamp,zone\n120,2024-05-01T00:00:00Z,FR\n80,2024-05-01T01:00:00Z,FR\n", "f.csv");
  REQUIRE(csv);
  CHECK(csv->data().size() == 2);
  CHECK(csv->data()[1].g_per_kwh == 80);
  auto json = parse_intensity_text(R"([{"timestamp": 1714521600, "g_per_kwh": 120}, {"timestamp": "2024-05-01T01:00:00Z", "g_per_kwh": 80.5}])", "f.json");
  REQUIRE(json);
  CHECK(json->data()[0].from == at(1714521600));
  CHECK(json->data()[1].g_per_kwh == 80.5);
}

TEST_CASE("a malformed intensity file names the line", "[intensity]") {
  auto bad_value = parse_intensity_text("timestamp,g_per_kwh\n0,10\n3600,ten\n", "grid.csv");
  REQUIRE_FALSE(bad_value);
  CHECK(bad_value.error() == "grid.csv line 3: g_per_kwh 'ten' is not a number");
  auto bad_time = parse_intensity_text("timestamp,g_per_kwh\n2024-05-01 13:00,10\n", "grid.csv");
  REQUIRE_FALSE(bad_time);
  CHECK_THAT(bad_time.error(), Catch::StartsWith("grid.csv line 2: timestamp"));
  auto order = parse_intensity_text("timestamp,g_per_kwh\n3600,10\n0,20\n", "grid.csv");
  REQUIRE_FALSE(order);
  CHECK(order.error() == "grid.csv line 3: timestamps must increase");
  auto range = parse_intensity_text("timestamp,g_per_kwh\n0,-5\n", "grid.csv");
  REQUIRE_FALSE(range);
  CHECK_THAT(range.error(), Catch::Contains("outside 0..2000"));
  auto header = parse_intensity_text("time,value\n0,1\n", "grid.csv");
  REQUIRE_FALSE(header);
  CHECK_THAT(header.error(), Catch::Contains("line 1") && Catch::Contains("timestamp and g_per_kwh"));
  auto json = parse_intensity_text(R"([{"timestamp": 0, "g_per_kwh": 1}, {"ts": 5}])", "g.json");
  REQUIRE_FALSE(json);
  CHECK_THAT(json.error(), Catch::StartsWith("g.json entry 2"));
  CHECK_FALSE(parse_intensity_text("timestamp,g_per_kwh\n", "empty.csv"));
  TempDir dir;
  auto missing = load_intensity_file(dir / "nope.csv");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error(), Catch::Contains("cannot read --intensity-file"));
}
