// Output sinks end to end: streams get exactly one document, and no output
// path can block greenrun before the command starts.

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "helpers.h"
#include "outputs/sink.h"
#include "util/csv.h"

using namespace greenrun::test;
using nlohmann::json;

namespace {

struct Sandbox {
  TempDir dir;
  std::string sys = dir / "sys";
  Sandbox() { make_dirs(sys); }
  std::map<std::string, std::string> env() const {
    return {{"GREENRUN_SYSFS_ROOT", sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  }
  ProcResult run(std::vector<std::string> args, double timeout_s = 60) const {
    args.insert(args.begin(), greenrun_bin());
    ProcOptions opt;
    opt.env = env();
    opt.timeout_s = timeout_s;
    return run_proc(args, opt);
  }
};

// Every JSON document in `text` (a stream of concatenated documents).
std::vector<json> documents(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  while (in >> std::ws && in.peek() != EOF) out.push_back(json::parse(in, nullptr, true, false));
  return out;
}

}  // namespace

TEST_CASE("the sink table lists every output, and the options pick them", "[outputs]") {
  // Every row is documented: each option or variable that asks for it is in the man page.
  const std::string man = slurp(source_dir() + "/man/greenrun.1");
  REQUIRE(!man.empty());
  std::set<std::string> names;
  for (const auto& e : greenrun::sink_table()) {
    CHECK(names.insert(e.name).second);
    std::istringstream words(e.option);
    for (std::string w; words >> w;) {
      while (!w.empty() && (w.back() == ',' || w.back() == ')')) w.pop_back();
      std::string roff;
      for (char c : w.substr(0, w.find('='))) roff += c == '-' ? std::string("\\-") : std::string(1, c);
      if (w.rfind("--", 0) == 0 || w.find('_') != std::string::npos)
        CHECK_THAT(man, Catch::Matchers::Contains(roff));
    }
  }
  greenrun::OutputOptions o;
  greenrun::Hardware hw;
  const greenrun::CarbonData* data = nullptr;
  CHECK(greenrun::make_sinks({o, hw, &data}).size() == 1);  // the summary on stderr
  o.quiet = true;
  CHECK(greenrun::make_sinks({o, hw, &data}).empty());
  o.json_path = "r.json";
  o.csv_path = "e.csv";
  o.step_summary = "s.md";
  o.github_actions = true;
  CHECK(greenrun::make_sinks({o, hw, &data}).size() == 4);
}

TEST_CASE("json to a pipe gets exactly one document: the final one", "[outputs][json]") {
  Sandbox sb;
  // Checkpoints every second over a 2.5 s run: none of them reach a stream.
  auto r = sb.run({"-q", "--checkpoint", "1s", "--json", "/dev/stdout", "--", "sleep", "2.5"});
  REQUIRE(r.status == 0);
  auto docs = documents(r.out);
  REQUIRE(docs.size() == 1);
  CHECK(docs[0]["status"] == "finished");

  SECTION("- means standard output, after the command's own output") {
    auto d = sb.run({"-q", "--json", "-", "--", "echo", "from the command"});
    REQUIRE(d.status == 0);
    REQUIRE(d.out.rfind("from the command\n", 0) == 0);
    auto rest = documents(d.out.substr(17));
    REQUIRE(rest.size() == 1);
    CHECK(rest[0]["exit_code"] == 0);
  }
}

TEST_CASE("a FIFO with no reader never blocks the start, and the report is abandoned with a message", "[outputs][json]") {
  Sandbox sb;
  const std::string fifo = sb.dir / "report.fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  auto r = sb.run({"-q", "--json", fifo, "--", "sh", "-c", "touch " + sb.dir / "ran" + "; exit 7"}, 30);
  CHECK_FALSE(r.timed_out);
  CHECK(r.status == 7);  // the command's status, whatever became of the report
  CHECK(std::ifstream(sb.dir / "ran").good());
  CHECK_THAT(r.err, Catch::Contains("no reader"));
  CHECK(r.seconds < 15);

  SECTION("with a reader, the FIFO receives one document") {
    std::string got;
    std::thread reader([&] {
      int fd = ::open(fifo.c_str(), O_RDONLY);
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
      ::close(fd);
    });
    auto ok = sb.run({"-q", "--checkpoint", "1s", "--json", fifo, "--", "sleep", "1.5"}, 30);
    reader.join();
    CHECK(ok.status == 0);
    auto docs = documents(got);
    REQUIRE(docs.size() == 1);
    CHECK(docs[0]["status"] == "finished");
  }
}

TEST_CASE("FIFOs without a reader, one for each stream output, wait one bound together, not one each", "[outputs]") {
  Sandbox sb;
  const std::vector<std::string> outputs = {"--json", "--csv", "--html", "--metrics", "--summary-file", "--step-summary"};
  std::vector<std::string> args = {"--region", "FR"};
  for (const auto& o : outputs) {
    const std::string fifo = sb.dir / (o.substr(2) + ".fifo");
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    args.insert(args.end(), {o, fifo});
  }
  args.insert(args.end(), {"--", "true"});
  auto r = sb.run(args, 60);
  INFO(r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.status == 0);
  for (const auto& o : outputs) CHECK_THAT(r.err, Catch::Contains(o.substr(2) + ".fifo for " + o));
  // One wait of kOpenWaitS (5 s) for all six, not 5 s after each (30 s).
  CHECK(r.seconds < 5 + 3);
}

TEST_CASE("csv to a pipe is never read from: the header and the row are written", "[outputs][csv]") {
  Sandbox sb;
  auto r = sb.run({"-q", "--region", "FR", "--csv", "/dev/stdout", "--", "true"}, 30);
  CHECK_FALSE(r.timed_out);
  REQUIRE(r.status == 0);
  auto t = greenrun::parse_csv(r.out, "stdout");
  REQUIRE(t);
  CHECK(t->rows.size() == 1);
}
