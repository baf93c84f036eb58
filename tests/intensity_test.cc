#include <catch2/catch.hpp>
#include <unistd.h>

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

TEST_CASE("timestamps outside the calendar or the range are refused with the reason", "[intensity][inputs]") {
  auto why = [](const char* t) {
    auto r = parse_timestamp_checked(t);
    return r ? std::string("accepted") : r.error();
  };
  CHECK(parse_timestamp("2024-02-29T00:00:00Z") == at(1709164800));  // a leap day
  CHECK_THAT(why("2024-02-30T00:00:00Z"), Catch::Contains("is not a date"));
  CHECK_THAT(why("2023-02-29T00:00:00Z"), Catch::Contains("is not a date"));
  CHECK_THAT(why("2024-05-01T24:00:00Z"), Catch::Contains("not a time of day"));
  CHECK_THAT(why("2024-05-01T13:00:00+99:99"), Catch::Contains("no valid UTC offset"));
  CHECK_THAT(why("-3600"), Catch::Contains("before 1970"));
  CHECK_THAT(why("1969-12-31T23:00:00Z"), Catch::Contains("before 1970"));
  CHECK_THAT(why("18446744073709551615"), Catch::Contains("after the year 2261"));
  CHECK_THAT(why("4048-05-01T01:00:00Z"), Catch::Contains("after the year 2261"));  // found by fuzzing: an overflow
  CHECK_THAT(why("99999999999999999999999"), Catch::Contains("not a whole number"));
  CHECK(parse_timestamp("9214646399") == at(9214646399));  // 2261-12-31T23:59:59Z
  CHECK_THAT(why("9214646400"), Catch::Contains("after the year 2261"));
  CHECK_THAT(why("2024-05-01T13:00:00.1234567891Z"), Catch::Contains("fraction"));
  CHECK_THAT(why("2024-05-01T13:00:00Zjunk"), Catch::Contains("extra characters"));
}

TEST_CASE("intensity files: errors name the line or entry, huge numbers and huge files included", "[intensity][inputs]") {
  auto j = parse_intensity_text(R"([{"timestamp": 0, "g_per_kwh": 1}, {"timestamp": 3600, "g_per_kwh": 1e400}])", "f.json");
  REQUIRE_FALSE(j);
  CHECK_THAT(j.error(), Catch::StartsWith("f.json entry 2: not valid JSON") && Catch::Contains("overflow"));
  auto neg = parse_intensity_text(R"([{"timestamp": -5, "g_per_kwh": 1}])", "n.json");
  REQUIRE_FALSE(neg);
  CHECK_THAT(neg.error(), Catch::StartsWith("n.json entry 1: timestamp") && Catch::Contains("before 1970"));
  auto feb = parse_intensity_text("timestamp,g_per_kwh\n2024-02-28T00:00:00Z,100\n2024-02-30T00:00:00Z,120\n", "f.csv");
  REQUIRE_FALSE(feb);
  CHECK_THAT(feb.error(), Catch::StartsWith("f.csv line 3: timestamp '2024-02-30T00:00:00Z' is not a date"));
  auto nan = parse_intensity_text("timestamp,g_per_kwh\n0,nan\n", "n.csv");
  REQUIRE_FALSE(nan);
  CHECK_THAT(nan.error(), Catch::Contains("n.csv line 2: g_per_kwh 'nan' is not a number"));

  TempDir dir;
  const std::string big = dir / "big.csv";
  write_file(big, "timestamp,g_per_kwh\n");
  REQUIRE(truncate(big.c_str(), 17 << 20) == 0);
  auto refused = load_intensity_file(big);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error(), Catch::Contains("up to 16 MiB"));
}
