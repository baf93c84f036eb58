#include <catch2/catch.hpp>

#include "util/csv.h"

using namespace greenrun;

TEST_CASE("csv: quotes, embedded commas and newlines, CRLF", "[csv]") {
  auto t = parse_csv("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\r\n2,\"two\nlines\",\r\n\r\n", "t.csv");
  REQUIRE(t);
  CHECK(t->header == std::vector<std::string>{"a", "b", "c"});
  REQUIRE(t->rows.size() == 2);
  CHECK(t->rows[0] == std::vector<std::string>{"1", "x, y", "say \"hi\""});
  CHECK(t->rows[1] == std::vector<std::string>{"2", "two\nlines", ""});
  CHECK(t->lines == std::vector<int>{2, 3});
  CHECK(t->column("c") == 2);
  CHECK(t->column("z") == -1);
}

TEST_CASE("csv: errors name the file and line", "[csv]") {
  auto short_row = parse_csv("a,b\n1,2\n3\n", "data.csv");
  REQUIRE_FALSE(short_row);
  CHECK(short_row.error() == "data.csv line 3: 1 fields, expected 2");
  auto open_quote = parse_csv("a\n\"never closed\n", "q.csv");
  REQUIRE_FALSE(open_quote);
  CHECK_THAT(open_quote.error(), Catch::Contains("q.csv line 2") && Catch::Contains("unterminated"));
  CHECK_FALSE(parse_csv("", "empty.csv"));
}

TEST_CASE("csv: a UTF-8 byte-order mark does not rename the first column", "[csv]") {
  auto t = parse_csv("\xEF\xBB\xBFtimestamp,g_per_kwh\n0,1\n", "bom.csv");
  REQUIRE(t);
  CHECK(t->column("timestamp") == 0);
}

TEST_CASE("csv_field quotes only when needed and round-trips", "[csv]") {
  CHECK(csv_field("plain") == "plain");
  CHECK(csv_field("a,b") == "\"a,b\"");
  CHECK(csv_field("q\"q") == "\"q\"\"q\"");
  std::string line = csv_field("x,\"y\"\nz") + "," + csv_field("w");
  auto t = parse_csv("h1,h2\n" + line + "\n", "rt");
  REQUIRE(t);
  CHECK(t->rows[0][0] == "x,\"y\"\nz");
}
