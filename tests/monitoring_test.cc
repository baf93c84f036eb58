// Prometheus: the metrics file checked by the real promtool, read by a real
// node_exporter's textfile collector, and pushed to a real Pushgateway, all
// on loopback ports; a dead or silent gateway never holds greenrun up.

#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "helpers.h"

using namespace greenrun::test;
using nlohmann::json;

namespace {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A Prometheus daemon on a loopback port of its own: started with
// --web.listen-address=127.0.0.1:0, its port read from the line it logs once
// it listens; stopped by PID when the test ends.
struct Daemon {
  Background bg;
  int port = 0;
  Daemon(std::vector<std::string> argv, const std::string& dir) {
    argv.push_back("--web.listen-address=127.0.0.1:0");
    bg = start_background(argv, dir);
    const std::regex listening("msg=\"Listening on\" address=127\\.0\\.0\\.1:([0-9]+)");
    const bool up = eventually([&] {
      const std::string log = bg.err();
      std::smatch m;
      if (std::regex_search(log, m, listening)) port = std::stoi(m[1]);
      return port > 0;
    }, 30);
    if (!up) FAIL(argv[0] << " did not start listening: " << bg.err());
    if (http_get("/metrics").find(' ') == std::string::npos) FAIL(argv[0] << " does not answer on port " << port);
  }
  ~Daemon() {
    kill(bg.pid, SIGTERM);
    bg.wait(10);
  }
  std::string http_get(const std::string& path) const {
    return run_proc({"python3", "-c",
                     "import sys, urllib.request\ntry: print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())\nexcept Exception: pass",
                     "http://127.0.0.1:" + std::to_string(port) + path})
        .out;
  }
};

struct Box {
  TempDir dir;
  std::string sys = dir / "sys";
  Box() { make_dirs(sys); }
  ProcResult run(std::vector<std::string> args) const {
    args.insert(args.begin(), greenrun_bin());
    ProcOptions opt;
    opt.env = {{"GREENRUN_SYSFS_ROOT", sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
    return run_proc(args, opt);
  }
};

// The value of the sample of `metric` whose labels include every one of `labels`; -1 if none.
double value_of(const std::string& exposition, const std::string& metric, const std::vector<std::string>& labels) {
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(metric + "{", 0) != 0) continue;
    const std::string set = line.substr(metric.size(), line.find('}') + 1 - metric.size());  // {a="1",b="2"}
    auto has = [&](const std::string& label) {
      for (const char* before : {"{", ","})
        for (const char* after : {",", "}"})
          if (set.find(before + label + after) != std::string::npos) return true;
      return false;
    };
    if (std::all_of(labels.begin(), labels.end(), has)) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

// A loopback socket that completes connections (the kernel does, from the
// backlog) and never answers; listening from the moment it is made.
struct SilentServer {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int port = 0;
  SilentServer() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(fd, 16) == 0);
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~SilentServer() { close(fd); }
};

}  // namespace

TEST_CASE("the metrics file passes promtool, and OpenMetrics ends with # EOF", "[monitoring]") {
  if (!have_command("promtool")) SKIP_UNLESS_CI("promtool is not installed (Debian's prometheus)");
  Box b;
  auto r = b.run({"-q", "--region", "FR", "--json", b.dir / "r.json", "--metrics", b.dir / "m.prom", "--label",
                  "team=ml", "--label", "run=a \"quoted\" value", "--", "sleep", "0.3"});
  REQUIRE(r.status == 0);
  const std::string m = slurp(b.dir / "m.prom");
  auto lint = run_proc({"sh", "-c", "promtool check metrics < " + b.dir / "m.prom"});
  INFO(m << lint.err);
  CHECK(lint.status == 0);
  auto j = json::parse(slurp(b.dir / "r.json"));
  CHECK(value_of(m, "greenrun_energy_joules_total", {"component=\"cpu\""}) ==
        Approx(greenrun::test::component(j, "cpu")->at("energy_j").get<double>()));
  CHECK_THAT(m, Catch::Contains("team=\"ml\"") && Catch::Contains("run=\"a \\\"quoted\\\" value\""));
  // Every series carries the run's identity (here --label run=...).
  CHECK_THAT(m, Catch::Contains("greenrun_emissions_grams_total{run=\"a \\\"quoted\\\" value\",team=\"ml\"} ") &&
                    Catch::Contains("greenrun_running{run=\"a \\\"quoted\\\" value\",team=\"ml\"} 0"));
  CHECK(m.find(greenrun_bin()) == std::string::npos);  // no argv in labels: the command's name only

  auto om = b.run({"-q", "--metrics", b.dir / "m.om", "--metrics-format", "openmetrics", "--", "true"});
  REQUIRE(om.status == 0);
  const std::string o = slurp(b.dir / "m.om");
  CHECK(o.size() > 6);
  CHECK(o.substr(o.size() - 6) == "# EOF\n");
  CHECK_THAT(o, Catch::Contains("# TYPE greenrun_energy_joules counter\n# UNIT greenrun_energy_joules joules\n"));
  CHECK(b.run({"--label", "1bad=x", "--", "true"}).status == 125);
  CHECK(b.run({"--metrics-format", "influx", "--", "true"}).status == 125);
}

TEST_CASE("node_exporter's textfile collector serves the metrics greenrun writes", "[monitoring]") {
  if (!have_command("prometheus-node-exporter")) SKIP_UNLESS_CI("prometheus-node-exporter is not installed");
  Box b;
  make_dirs(b.dir / "textfile");
  Daemon exporter({"prometheus-node-exporter", "--collector.disable-defaults", "--collector.textfile",
                   "--collector.textfile.directory=" + b.dir / "textfile"},
                  b.dir.path());
  auto r = b.run({"-q", "--json", b.dir / "r.json", "--metrics", b.dir / "textfile/greenrun.prom", "--", "sleep", "0.3"});
  REQUIRE(r.status == 0);
  const std::string scraped = exporter.http_get("/metrics");
  INFO(scraped);
  auto j = json::parse(slurp(b.dir / "r.json"));
  CHECK(value_of(scraped, "greenrun_energy_joules_total", {"component=\"cpu\""}) ==
        Approx(greenrun::test::component(j, "cpu")->at("energy_j").get<double>()).epsilon(1e-6));
  CHECK_THAT(scraped, Catch::Contains("node_textfile_scrape_error 0"));
}

TEST_CASE("a Pushgateway receives the pushes, and its group holds the run's final figures", "[monitoring]") {
  if (!have_command("prometheus-pushgateway")) SKIP_UNLESS_CI("prometheus-pushgateway is not installed");
  Box b;
  // Its own state: Debian's default persistence file keeps the groups of earlier runs.
  Daemon gateway({"prometheus-pushgateway", "--persistence.file=" + b.dir / "pushgateway.data"}, b.dir.path());
  auto r = b.run({"-q", "--json", b.dir / "r.json", "--checkpoint", "1s", "--pushgateway",
                  "http://127.0.0.1:" + std::to_string(gateway.port), "--label", "team=ml", "--", "sleep", "1.5"});
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  const std::string pushed = gateway.http_get("/metrics");
  INFO(pushed);
  auto j = json::parse(slurp(b.dir / "r.json"));
  const std::vector<std::string> group = {"job=\"greenrun\"", "instance=\"" + j["host"].get<std::string>() + "\"",
                                          "team=\"ml\""};
  std::vector<std::string> cpu = group;
  cpu.push_back("component=\"cpu\"");
  CHECK(value_of(pushed, "greenrun_energy_joules_total", cpu) ==
        Approx(greenrun::test::component(j, "cpu")->at("energy_j").get<double>()).epsilon(1e-6));
  CHECK(value_of(pushed, "greenrun_running", group) == 0);
  CHECK(value_of(pushed, "greenrun_running", {"job=\"greenrun\"", "team=\"other\""}) == -1);  // the lookup can miss
}

TEST_CASE("a dead or silent Pushgateway holds nothing up", "[monitoring]") {
  Box b;
  SECTION("nobody listening: one line, no delay") {
    auto bare = b.run({"-q", "--", "sleep", "0.2"});
    auto dead = b.run({"-q", "--pushgateway", "http://127.0.0.1:" + std::to_string(free_port()), "--", "sleep", "0.2"});
    CHECK(dead.status == 0);
    CHECK(dead.seconds < bare.seconds + 1.5);  // waiting out the push's 2 s timeout would exceed it
    CHECK_THAT(dead.err, Catch::Contains("--pushgateway") && Catch::Contains("not pushed"));
  }
  SECTION("a gateway that accepts and never answers: given up after the timeout") {
    SilentServer silent;
    auto bare = b.run({"-q", "--", "sleep", "1.5"});
    auto slow = b.run({"-q", "--checkpoint", "1s", "--pushgateway", "http://127.0.0.1:" + std::to_string(silent.port),
                       "--", "sleep", "1.5"});
    CHECK(slow.status == 0);
    CHECK(slow.seconds < bare.seconds + 2.0 + 1.5);  // the same run, and at most the final push's 2 s
    CHECK_THAT(slow.err, Catch::Contains("no reply") || Catch::Contains("in time"));
  }
}

TEST_CASE("two runs' files in one textfile directory: node_exporter serves both runs' series", "[monitoring]") {
  Box b;
  make_dirs(b.dir / "textfile");
  for (const auto* run : {"train", "eval"})
    REQUIRE(b.run({"-q", "--metrics", b.dir / "textfile/" + run + ".prom", "--label", "team=ml", "--", "true"}).status == 0);
  for (const auto* file : {"train.prom", "eval.prom"}) {
    auto lint = run_proc({"sh", "-c", "promtool check metrics < " + b.dir / "textfile/" + file});
    INFO(file << ": " << lint.err << lint.out);
    CHECK(lint.status == 0);
  }
  Daemon exporter({"prometheus-node-exporter", "--collector.disable-defaults", "--collector.textfile",
                   "--collector.textfile.directory=" + b.dir / "textfile"},
                  b.dir.path());
  const std::string scraped = exporter.http_get("/metrics");
  INFO(scraped << exporter.bg.err());
  // Every series carries the run's identity: a run label from the file's name, and the --label pairs.
  for (const auto* metric : {"greenrun_energy_joules_total", "greenrun_duration_seconds", "greenrun_running",
                             "greenrun_run_info"})
    for (const auto* run : {"train", "eval"})
      CHECK(std::regex_search(scraped, std::regex(std::string(metric) + "\\{[^}]*run=\"" + run + "\"[^}]*team=\"ml\"[^}]*\\}")));
  CHECK_THAT(scraped, Catch::Contains("node_textfile_scrape_error 0"));
  CHECK_THAT(exporter.bg.err(), !Catch::Contains("collected before"));
}

TEST_CASE("a --label whose name is greenrun's or Prometheus's own is refused before the command", "[monitoring]") {
  Box b;
  for (const auto* name : {"component", "measured", "command", "host", "scope", "energy", "sources", "region", "slurm_job",
                           "slurm_step", "slurm_task", "job", "instance", "__name__", "__meta_x"}) {
    auto r = b.run({"--label", std::string(name) + "=x", "--metrics", b.dir / "m.prom", "--", "touch", b.dir / "ran"});
    INFO(name << ": " << r.err);
    CHECK(r.status == 125);
    CHECK_THAT(r.err, Catch::Contains("--label") && Catch::Contains(name));
    CHECK(run_proc({"test", "-e", b.dir / "ran"}).status != 0);
  }
  auto twice = b.run({"--label", "team=a", "--label", "team=b", "--", "touch", b.dir / "ran"});
  CHECK(twice.status == 125);
  CHECK_THAT(twice.err, Catch::Contains("team"));
  // run names the run itself: a --label may set it.
  REQUIRE(b.run({"-q", "--label", "run=nightly", "--metrics", b.dir / "m.prom", "--", "true"}).status == 0);
  CHECK_THAT(slurp(b.dir / "m.prom"), Catch::Contains("greenrun_running{run=\"nightly\"} 0"));
}

TEST_CASE("two concurrent pushes from one host keep their own groups on the Pushgateway", "[monitoring]") {
  Box b;
  // Debian's default persists to /var/lib/prometheus/pushgateway.data, shared by every
  // gateway on the machine: a private file, so no earlier run's groups come back.
  Daemon gateway({"prometheus-pushgateway", "--persistence.file=" + b.dir / "pushgateway.data"}, b.dir.path());
  const std::string url = "http://127.0.0.1:" + std::to_string(gateway.port);
  std::vector<Background> runs;
  for (const auto* run : {"a", "b"})
    runs.push_back(start_background({greenrun_bin(), "-q", "--checkpoint", "1s", "--metrics", b.dir / run + std::string(".prom"),
                                     "--pushgateway", url, "--", "sleep", "1.5"},
                                    b.dir.path(), {{"GREENRUN_SYSFS_ROOT", b.sys}, {"GREENRUN_CONFIG", ""}}));
  // A push alone (no file): the command names the run.
  auto alone = b.run({"-q", "--pushgateway", url, "--", "sleep", "0.2"});
  CHECK(alone.status == 0);
  CHECK(alone.err.empty());
  for (auto& r : runs) CHECK(r.wait(30) == 0);
  for (auto& r : runs) CHECK(r.err().empty());
  const std::string pushed = gateway.http_get("/metrics");
  INFO(pushed);
  for (const auto* run : {"a", "b"})
    CHECK(std::regex_search(pushed, std::regex("greenrun_running\\{[^}]*run=\"" + std::string(run) + "\"[^}]*\\} 0")));
  CHECK(std::regex_search(pushed, std::regex("greenrun_running\\{[^}]*run=\"sleep-[0-9a-f]{8}\"[^}]*\\} 0")));
}

TEST_CASE("invalid UTF-8 in a label or the command's name: the metrics file stays valid", "[monitoring][hardening]") {
  Box b;
  const std::string bad = "\xff\xfe" "ok\xc3";
  REQUIRE(run_proc({"ln", "-s", "/bin/true", b.dir / bad}).status == 0);
  auto r = b.run({"-q", "--metrics", b.dir / "m.prom", "--label", "team=" + bad, "--", b.dir / bad});
  REQUIRE(r.status == 0);
  const std::string m = slurp(b.dir / "m.prom");
  auto lint = run_proc({"sh", "-c", "promtool check metrics < " + b.dir / "m.prom"});
  INFO(m << lint.err);
  CHECK(lint.status == 0);
  // Replaced as the JSON report replaces them: U+FFFD.
  CHECK_THAT(m, Catch::Contains("team=\"\xef\xbf\xbd\xef\xbf\xbdok\xef\xbf\xbd\""));
  CHECK_THAT(m, Catch::Contains("command=\"\xef\xbf\xbd\xef\xbf\xbdok\xef\xbf\xbd\""));
}

TEST_CASE("GitLab: the metrics as a metrics report, read by promtool, the OpenMetrics parser and GitLab's rules", "[monitoring][gitlab]") {
  Box b;
  auto r = b.run({"-q", "--region", "FR", "--json", b.dir / "r.json", "--metrics", b.dir / "metrics.txt", "--metrics-format",
                  "openmetrics", "--label", "branch=main", "--", "sh", "-c", "sleep 0.2"});
  REQUIRE(r.status == 0);
  // promtool reads the Prometheus text format, where a counter's metadata
  // names the sample (greenrun_energy_joules_total) and OpenMetrics' names the
  // family (greenrun_energy_joules): it parses the file (status 1 otherwise)
  // and its only remarks are that the counters' samples have no HELP of
  // their own. The Prometheus-format file passes it clean (the first test).
  auto lint = run_proc({"sh", "-c", "promtool check metrics < " + b.dir / "metrics.txt"});
  INFO(slurp(b.dir / "metrics.txt") << lint.out << lint.err);
  CHECK((lint.status == 0 || lint.status == 3));
  std::istringstream remarks(lint.out + lint.err);
  for (std::string line; std::getline(remarks, line);)
    CHECK(std::regex_match(line, std::regex("greenrun_[a-z_]+_total no help text")));
  // Debian's python3-prometheus-client (tools/setup installs it): its strict
  // OpenMetrics parser, then the way GitLab reads a metrics report (its
  // Gitlab::Ci::Parsers::Metrics::Generic: each line with what follows '#'
  // dropped, split as a shell splits words, the first word the name and the
  // second the value).
  const std::string check =
      "import re, shlex, sys\n"
      "from prometheus_client.openmetrics.parser import text_string_to_metric_families\n"
      "text = open(sys.argv[1]).read()\n"
      "samples = {}\n"
      "for f in text_string_to_metric_families(text):\n"
      "    for s in f.samples:\n"
      "        samples[(s.name, tuple(sorted(s.labels.items())))] = s.value\n"
      "gitlab = {}\n"
      "for line in text.splitlines():\n"
      "    words = shlex.split(re.sub('#.*$', '', line))\n"
      "    if len(words) >= 2: gitlab[words[0]] = float(words[1])\n"
      "if len(gitlab) != len(samples): sys.exit('GitLab reads %d samples of %d' % (len(gitlab), len(samples)))\n"
      "for (name, labels), v in samples.items():\n"
      "    print(name, dict(labels).get('component', '-'), repr(v))\n";
  auto parsed = run_proc({"/usr/bin/python3", "-c", check, b.dir / "metrics.txt"});
  INFO(parsed.err);
  REQUIRE(parsed.status == 0);
  auto j = json::parse(slurp(b.dir / "r.json"));
  double cpu = -1;
  std::istringstream lines(parsed.out);
  for (std::string name, component, value; lines >> name >> component >> value;)
    if (name == "greenrun_energy_joules_total" && component == "cpu") cpu = std::stod(value);
  CHECK(cpu == Approx(greenrun::test::component(j, "cpu")->at("energy_j").get<double>()));
  // The example job declares it as the job's metrics report.
  auto yaml = run_proc({"/usr/bin/python3", "-c",
                        "import sys, yaml\nj = yaml.safe_load(open(sys.argv[1]))['test']\n"
                        "print(j['artifacts']['reports']['metrics'])\nprint(' '.join(j['script']))",
                        source_dir() + "/examples/ci/gitlab-ci.yml"});
  INFO(yaml.err);
  REQUIRE(yaml.status == 0);
  CHECK_THAT(yaml.out, Catch::StartsWith("metrics.txt\n") && Catch::Contains("--metrics metrics.txt") &&
                           Catch::Contains("--metrics-format openmetrics"));
}
