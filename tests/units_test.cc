#include <catch2/catch.hpp>

#include "util/units.h"

using namespace greenrun;
using namespace std::chrono_literals;

TEST_CASE("durations parse with units and reject junk", "[units]") {
  CHECK(parse_duration("250ms") == std::chrono::nanoseconds(250ms));
  CHECK(parse_duration("2s") == std::chrono::nanoseconds(2s));
  CHECK(parse_duration("1m") == std::chrono::nanoseconds(60s));
  CHECK(parse_duration("1.5s") == std::chrono::nanoseconds(1500ms));
  CHECK(parse_duration("3") == std::chrono::nanoseconds(3s));
  CHECK(parse_duration("1h") == std::chrono::nanoseconds(3600s));
  CHECK(parse_duration("500us") == std::chrono::nanoseconds(500us));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("fast"));
  CHECK_FALSE(parse_duration("1.2.3s"));
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration("10 s"));
  CHECK_FALSE(parse_duration("5d"));
}

TEST_CASE("energy picks J, Wh or kWh", "[units]") {
  CHECK(format_energy(0) == "0 J");
  CHECK(format_energy(41.23) == "41.2 J");
  CHECK(format_energy(3599) == "3599 J");
  CHECK(format_energy(3600) == "1.00 Wh");
  CHECK(format_energy(7.2e6) == "2.00 kWh");
  CHECK(format_energy(0.01234) == "0.0123 J");
}

TEST_CASE("significant digits round without growing a digit", "[units]") {
  CHECK(significant(9.996) == "10.0");
  CHECK(significant(123456) == "123456");
  CHECK(significant(0.0004567) == "0.000457");
  CHECK(significant(-2.5) == "-2.50");
}

TEST_CASE("power, time, bytes and mass formats", "[units]") {
  CHECK(format_power(0.85) == "850 mW");
  CHECK(format_power(34.9) == "34.9 W");
  CHECK(format_power(1200) == "1.20 kW");
  CHECK(format_seconds(0.2104) == "0.210 s");
  CHECK(format_seconds(12.44) == "12.4 s");
  CHECK(format_seconds(125) == "2 min 05 s");
  CHECK(format_seconds(3723) == "1 h 02 min 03 s");
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(1536) == "1.50 KiB");
  CHECK(format_bytes(5.0 * 1024 * 1024 * 1024) == "5.00 GiB");
  CHECK(format_mass_g(0.4123) == "412 mg");
  CHECK(format_mass_g(0.0000164) == "16.4 \u00b5g");
  CHECK(format_mass_g(0) == "0 g");
  CHECK(format_mass_g(1234) == "1.23 kg");
  CHECK(format_mass_g(4.56e6) == "4.56 t");
}

TEST_CASE("RFC 3339 timestamps carry a UTC offset", "[units]") {
  auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000123LL));
  auto local = format_rfc3339(t);
  REQUIRE(local.size() == 29);
  CHECK((local[23] == '+' || local[23] == '-'));
  CHECK(local[26] == ':');
}
