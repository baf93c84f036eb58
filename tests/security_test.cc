// Issue 23's privilege, credential and resource findings, each end to end
// against the real binary where a user meets it: strict base URLs, one
// redactor, credentials kept from the command, trusted keys and libraries,
// files read with the user's own permissions, output paths walked one
// component at a time, non-regular and oversized inputs, and one deadline
// for the network after the command (a silent name server included).
// Tests that plant files of another user, use setcap or a mount namespace
// need root and say so when skipped.

#include <catch2/catch.hpp>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "config/config_files.h"
#include "commands/options.h"
#include "helpers.h"
#include "util/fs.h"
#include "util/http.h"
#include "util/input_file.h"
#include "util/plain_http.h"
#include "util/privilege.h"
#include "util/redact.h"
#include "util/url.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

constexpr uid_t kNobody = 65534;

/// A machine with a RAPL fixture; greenrun's cache and config in a fresh directory.
struct Box {
  TempDir dir;
  std::string sys = dir / "sys";
  FakeRapl rapl{sys, 20};
  std::map<std::string, std::string> env() const {
    return {{"GREENRUN_SYSFS_ROOT", sys}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}, {"XDG_CACHE_HOME", dir / "cache"}};
  }
  ProcResult run(std::vector<std::string> args, const std::map<std::string, std::string>& extra = {}, double timeout_s = 30) const {
    args.insert(args.begin(), greenrun_bin());
    ProcOptions opt;
    opt.env = env();
    for (auto& [k, v] : extra) opt.env[k] = v;
    opt.timeout_s = timeout_s;
    return run_proc(args, opt);
  }
  bool ran() const { return path_exists(dir / "ran"); }
  std::vector<std::string> touch() const { return {"touch", dir / "ran"}; }
  /// A real report of a short run, for --baseline, report, compare and --like.
  std::string report(const std::string& name) const {
    auto r = run({"-q", "--region", "FR", "--json", dir / name, "--", "true"});
    REQUIRE(r.status == 0);
    return dir / name;
  }
};

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// The fake providers (tests/fake_grid_server.py) on a free loopback port.
struct Grid {
  TempDir dir;
  Background server;
  int port = 0;
  Grid() {
    server = start_background({"python3", source_dir() + "/tests/fake_grid_server.py", dir / "port", dir / "log"}, dir.path());
    REQUIRE(eventually([&] { return path_exists(dir / "port"); }, 20));
    port = std::stoi(slurp(dir / "port"));
  }
  ~Grid() {
    kill(server.pid, SIGTERM);
    server.wait(5);
  }
  std::string url(const std::string& mode, const std::string& provider) const {
    return "http://127.0.0.1:" + std::to_string(port) + "/" + mode + "/" + provider;
  }
};

bool is_root() { return geteuid() == 0; }

/// The commands that read a file a user names, each given `file` in that place.
struct Reader {
  std::string name;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;
};
std::vector<Reader> readers_of(const std::string& file, const std::string& good_report, const std::string& dir) {
  return {
      {"--config", {"--config", file, "--", "touch", dir + "/ran"}, {}},
      {"GREENRUN_CONFIG", {"--", "touch", dir + "/ran"}, {{"GREENRUN_CONFIG", file}}},
      {"--baseline", {"--baseline", file, "--", "touch", dir + "/ran"}, {}},
      {"--intensity-file", {"--intensity-file", file, "--", "touch", dir + "/ran"}, {}},
      {"report", {"report", file}, {}},
      {"report --html -", {"report", file, "--html", "-"}, {}},
      {"compare (baseline)", {"compare", file, good_report}, {}},
      {"compare (run)", {"compare", good_report, file}, {}},
      {"plan --like", {"plan", "--intensity-file", good_report + ".csv", "--like", file}, {}},
  };
}

/// A CSV intensity file around now, for plan.
void write_intensity(const std::string& path) {
  const long now = static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
  std::string csv = "timestamp,g_per_kwh,forecast\n";
  for (long k = 0; k < 30; ++k) csv += std::to_string(now + k * 3600) + ",300,true\n";
  write_file(path, csv);
}

}  // namespace

// ---------------------------------------------------------------- item 1, 21

TEST_CASE("base URLs: plain http only to a loopback address, by address, and never a user name or password", "[sec][url]") {
  for (const char* ok : {"https://api.electricitymap.org", "https://API.electricitymap.org/", "http://127.0.0.1:8080/x",
                         "http://127.1.2.3", "http://[::1]:1", "http://localhost:1", "HTTP://127.0.0.1"})
    CHECK(check_base_url(ok));
  CHECK(check_base_url("https://API.example.org:443/v3/")->text() == "https://api.example.org:443/v3");
  for (const char* bad : {
           "http://127.0.0.1@192.0.2.10:8080/x",  // the issue's: userinfo "127.0.0.1", host 192.0.2.10
           "http://127.0.0.1:80@192.0.2.10",      // userinfo "127.0.0.1:80"
           "http://127.attacker.example",          // a name that begins like an address
           "http://127.1",                         // inet_aton's shorthand: not four decimal numbers
           "http://0x7f.0.0.1", "http://0177.0.0.1", "http://2130706433",
           "http://localhost.attacker.example", "http://[::ffff:192.0.2.10]", "http://[::1%25lo]",
           "http://127.0.0.1\\@192.0.2.10", "http://127.0.0.1 @192.0.2.10", "http://127.0.0.1#@192.0.2.10",
           "http://127.0.0.1/?x", "http://127.0.0.1:0", "http://127.0.0.1:65536", "http://", "ftp://127.0.0.1",
           "https://user:pa55word-s3cr3t@api.example.org", "http://api.electricitymap.org"}) {
    auto r = check_base_url(bad);
    INFO(bad);
    CHECK_FALSE(r);
    CHECK(r.error().find("pa55word") == std::string::npos);
  }
  CHECK(is_loopback_address("127.9.9.9"));
  CHECK(is_loopback_address("::1"));
  CHECK_FALSE(is_loopback_address("192.0.2.10"));
  CHECK_FALSE(is_loopback_address("::ffff:127.0.0.1"));
  // The Pushgateway's URL is read by the same parser.
  CHECK_FALSE(parse_http_url("http://user:pw@127.0.0.1:9091"));
  CHECK(parse_http_url("http://[::1]:9091/x/")->authority == "[::1]:9091");
}

TEST_CASE("percent_encode keeps RFC 3986's unreserved characters and writes every other byte as %XX", "[url]") {
  CHECK(greenrun::percent_encode("SE-SE3_a.b~9") == "SE-SE3_a.b~9");
  CHECK(greenrun::percent_encode("SW1A 1AA") == "SW1A%201AA");
  CHECK(greenrun::percent_encode("a&b=c/d?#%") == "a%26b%3Dc%2Fd%3F%23%25");
  CHECK(greenrun::percent_encode("\xc3\xa9") == "%C3%A9");  // UTF-8 bytes, upper-case hex
  // The redactor knows a credential in this form too (a token sent in a query).
  greenrun::Redactor r;
  r.add("p@ss w/rd");
  CHECK(r("echoed: p%40ss%20w%2Frd") == "echoed: ***");
}

TEST_CASE("a base URL that would send the token elsewhere stops the run before the command, naming no credential", "[sec][url]") {
  Box b;
  for (const std::string url : {"http://127.0.0.1@192.0.2.10:9/", "http://127.0.0.1:80@192.0.2.10", "http://127.attacker.example",
                                "https://someone:pa55word-s3cr3t@127.0.0.1:9"}) {
    std::filesystem::remove(b.dir / "ran");
    auto r = b.run(std::vector<std::string>{"--region", "DE", "--intensity-source", "electricitymaps", "--json",
                                            b.dir / "r.json", "--"} + b.touch(),
                   {{"GREENRUN_ELECTRICITYMAPS_TOKEN", "token-s3cr3t-long"}, {"GREENRUN_ELECTRICITYMAPS_URL", url}});
    INFO(url << ": " << r.err);
    CHECK(r.status == 125);
    CHECK_FALSE(b.ran());
    CHECK_THAT(r.err, Catch::Contains("GREENRUN_ELECTRICITYMAPS_URL"));
    CHECK(r.err.find("pa55word") == std::string::npos);
    CHECK(r.err.find("someone") == std::string::npos);
  }
  // The Pushgateway's URL: refused, and never repeated where the value's origin is named.
  const std::map<std::string, std::string> push = {{"GREENRUN_PUSHGATEWAY", "http://someone:pa55word-s3cr3t@127.0.0.1:9"}};
  std::filesystem::remove(b.dir / "ran");
  auto p = b.run(std::vector<std::string>{"--"} + b.touch(), push);
  INFO(p.err);
  CHECK(p.status == 125);
  CHECK_FALSE(b.ran());
  CHECK_THAT(p.err, Catch::Contains("user name or password") && Catch::Contains("GREENRUN_PUSHGATEWAY"));
  auto listed = b.run({"config"}, push);
  CHECK_THAT(listed.out, Catch::Contains("http://***@127.0.0.1:9"));
  for (const std::string& text : {p.out + p.err, listed.out + listed.err}) {
    CHECK(text.find("pa55word") == std::string::npos);
    CHECK(text.find("someone") == std::string::npos);
  }
}

// ---------------------------------------------------------------- item 2, 21

TEST_CASE("one redactor: raw secrets, their percent-encoding, basic auth's base64 and any Basic or Bearer value", "[sec][redact]") {
  Redactor r;
  r.add("tok/en+s3cr3t");
  r.add_basic("grid-user", "grid-pass-s3cr3t");
  r.add("jwt-s3cr3t-123");
  const std::string b64 = base64("grid-user:grid-pass-s3cr3t");
  CHECK(b64 == "Z3JpZC11c2VyOmdyaWQtcGFzcy1zM2NyM3Q=");
  std::string said = "bad: Basic " + b64 + ", token tok/en+s3cr3t (tok%2Fen%2Bs3cr3t), jwt-s3cr3t-123, pw grid-pass-s3cr3t, " +
                     b64.substr(0, b64.size() - 1) + ", bearer eyJhbGciOiJIUzI1NiJ9.other-client, basic auth\n::error::x";
  const std::string out = r(said);
  CHECK(out.find("s3cr3t") == std::string::npos);
  CHECK(out.find("Z3JpZC11c2Vy") == std::string::npos);
  CHECK(out.find("eyJhbGci") == std::string::npos);
  CHECK_THAT(out, Catch::Contains("basic auth"));  // a short word after "basic" is no credential
  CHECK(out.find('\n') == std::string::npos);       // one line
  CHECK(base64("") == "");
  CHECK(base64("a") == "YQ==");
  CHECK(base64("ab") == "YWI=");
}

TEST_CASE("WattTime's basic-auth header echoed by a server never reaches the report or the summary", "[sec][redact][cli]") {
  Grid grid;
  Box b;
  auto r = b.run({"--intensity-source", "watttime:CAISO_NORTH", "--json", b.dir / "w.json", "--summary-file", b.dir / "s.txt", "--",
                  "true"},
                 {{"GREENRUN_WATTTIME_USERNAME", "grid-user"}, {"GREENRUN_WATTTIME_PASSWORD", "grid-pass-s3cr3t"},
                  {"GREENRUN_WATTTIME_URL", grid.url("echoauth", "wt")}});
  REQUIRE(r.status == 0);
  auto j = json::parse(slurp(b.dir / "w.json"));
  const std::string problem = j["intensity_source"]["problem"].get<std::string>();
  INFO(problem);
  CHECK_THAT(problem, Catch::Contains("bad credentials"));
  const std::string everything = r.out + r.err + slurp(b.dir / "w.json") + slurp(b.dir / "s.txt");
  const std::string b64 = base64("grid-user:grid-pass-s3cr3t");
  CHECK(everything.find(b64) == std::string::npos);
  CHECK(everything.find(b64.substr(0, 12)) == std::string::npos);
  CHECK(everything.find("s3cr3t") == std::string::npos);
}

TEST_CASE("a credential too short to redact is refused before the command starts", "[sec][redact][cli]") {
  Box b;
  for (auto [var, value, source] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"GREENRUN_ELECTRICITYMAPS_TOKEN", "e", "electricitymaps:DE"},
           {"GREENRUN_WATTTIME_PASSWORD", "pw", "watttime:CAISO_NORTH"}}) {
    std::filesystem::remove(b.dir / "ran");
    auto r = b.run(std::vector<std::string>{"--intensity-source", source, "--"} + b.touch(),
                   {{var, value}, {"GREENRUN_WATTTIME_USERNAME", "u"}, {"GREENRUN_ELECTRICITYMAPS_URL", "http://127.0.0.1:9"},
                    {"GREENRUN_WATTTIME_URL", "http://127.0.0.1:9"}});
    INFO(r.err);
    CHECK(r.status == 125);
    CHECK_FALSE(b.ran());
    CHECK_THAT(r.err, Catch::Contains(var) && Catch::Contains("shorter than 8"));
  }
}

// ---------------------------------------------------------------- item 3

TEST_CASE("the grid credentials from the environment are not passed on to the command", "[sec][env][cli]") {
  Grid grid;
  Box b;
  const std::map<std::string, std::string> creds = {{"GREENRUN_ELECTRICITYMAPS_TOKEN", "test-token-s3cr3t"},
                                                    {"GREENRUN_WATTTIME_USERNAME", "grid-user"},
                                                    {"GREENRUN_WATTTIME_PASSWORD", "grid-pass-s3cr3t"},
                                                    {"GREENRUN_ELECTRICITYMAPS_URL", grid.url("ok", "em")}};
  for (const auto& extra : std::vector<std::vector<std::string>>{{}, {"--region", "DE", "--intensity-source", "electricitymaps"}}) {
    // The command's own /proc/PID/environ, and what a child of it inherits.
    auto r = b.run(std::vector<std::string>{"-q"} + extra +
                       std::vector<std::string>{"--", "sh", "-c", "tr '\\0' '\\n' < /proc/$$/environ > " + b.dir / "environ"},
                   creds);
    REQUIRE(r.status == 0);
    const std::string environ = slurp(b.dir / "environ");
    CHECK_THAT(environ, Catch::Contains("GREENRUN_ELECTRICITYMAPS_URL="));  // the environment is there, but
    CHECK(environ.find("s3cr3t") == std::string::npos);
    CHECK(environ.find("GREENRUN_WATTTIME_USERNAME") == std::string::npos);
  }
}

// ---------------------------------------------------------------- item 4

TEST_CASE("as root, a library is loaded only from a config file and a file of root's or one's own that no one else may write", "[sec][trust]") {
  if (!is_root()) {
    WARN("skipped: needs root to plant files owned by another user");
    return;
  }
  TempDir dir;
  ::chmod(dir.path().c_str(), 0755);
  const std::string lib = dir / "lib/libnvidia-ml.so.1";
  make_dirs(dir / "lib");
  std::filesystem::copy_file(FAKE_NVML_LIB, lib);
  ::chmod(lib.c_str(), 0755);
  const std::string conf = dir / "conf";
  const std::string text = "nvml-lib = " + lib + "\n";
  auto parse = [&](const std::vector<std::string>& args, const std::map<std::string, std::string>& vars,
                   const std::string& system_file = "") {
    std::map<std::string, std::string> all = {{"HOME", dir / "home"}};
    for (auto& [k, v] : vars) all[k] = v;
    std::vector<std::string> full = args;
    full.insert(full.end(), {"--", "true"});
    return parse_cli(full, env_of(all), system_file);
  };
  struct Way {
    std::string name;
    std::string file;
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    bool system = false;
  };
  const std::vector<Way> ways = {
      {"--config", conf, {"--config", conf}, {}},
      {"GREENRUN_CONFIG", conf, {}, {{"GREENRUN_CONFIG", conf}}},
      {"XDG_CONFIG_HOME", dir / "xdg/greenrun/config", {}, {{"XDG_CONFIG_HOME", dir / "xdg"}}},
      {"$HOME/.config", dir / "home/.config/greenrun/config", {}, {}},
      {"/etc/greenrun/config", conf, {}, {{"GREENRUN_CONFIG", ""}}, true},
  };
  for (const auto& w : ways) {
    write_file(w.file, text);
    for (auto [owner, mode, trusted] : std::vector<std::tuple<uid_t, mode_t, bool>>{
             {kNobody, 0644, false}, {0, 0666, false}, {0, 0664, false}, {0, 0644, true}}) {
      REQUIRE(chown(w.file.c_str(), owner, owner) == 0);
      REQUIRE(chmod(w.file.c_str(), mode) == 0);
      auto r = parse(w.args, w.env, w.system ? w.file : "");
      INFO(w.name << " owner " << owner << " mode " << std::oct << mode << ": " << r.message);
      if (trusted) {
        REQUIRE(r.action == ParsedCli::Action::Run);
        CHECK(r.options.sources.nvml_lib == lib);
      } else {
        CHECK(r.action == ParsedCli::Action::Exit);
        CHECK(r.exit_code == 125);
        CHECK_THAT(r.message, Catch::Contains(w.file + " line 1") && Catch::Contains("nvml-lib") &&
                                  Catch::Contains("chmod go-w " + w.file));
      }
    }
    std::filesystem::remove(w.file);
  }
  // The library itself, wherever it is named, passes the same test.
  for (auto [owner, mode] : std::vector<std::pair<uid_t, mode_t>>{{kNobody, 0755}, {0, 0777}, {0, 0775}}) {
    REQUIRE(chown(lib.c_str(), owner, owner) == 0);
    REQUIRE(chmod(lib.c_str(), mode) == 0);
    for (const auto& args : std::vector<std::vector<std::string>>{{"--nvml-lib", lib}, {"--rocm-lib", lib}}) {
      auto r = parse(args, {{"GREENRUN_CONFIG", ""}});
      INFO(args[0] << " owner " << owner << " mode " << std::oct << mode);
      CHECK(r.exit_code == 125);
      CHECK_THAT(r.message, Catch::Contains(lib) && Catch::Contains("no one else"));
    }
    auto env = parse({}, {{"GREENRUN_CONFIG", ""}, {"GREENRUN_NVML_LIB", lib}});
    CHECK(env.exit_code == 125);
    CHECK_THAT(env.message, Catch::Contains("GREENRUN_NVML_LIB"));
  }
}

TEST_CASE("as root, the NVML library of another user's config file is never loaded: 125, and its constructor never ran", "[sec][trust][cli]") {
  if (!is_root()) {
    WARN("skipped: needs root to plant files owned by another user");
    return;
  }
  Box b;
  ::chmod(b.dir.path().c_str(), 0755);
  write_file(b.dir / "nvml.conf", "count=1\ngpu0.power_w=300\n");
  write_file(b.dir / "other/config", std::string("nvml-lib = ") + FAKE_NVML_LIB + "\n");
  REQUIRE(chown((b.dir / "other/config").c_str(), kNobody, kNobody) == 0);
  ::chmod((b.dir / "other/config").c_str(), 0666);
  auto r = b.run(std::vector<std::string>{"-q", "--config", b.dir / "other/config", "--json", b.dir / "r.json", "--"} + b.touch(),
                 {{"FAKE_NVML_CONFIG", b.dir / "nvml.conf"}});
  INFO(r.err);
  CHECK(r.status == 125);
  CHECK_FALSE(b.ran());
  CHECK_FALSE(path_exists(b.dir / "r.json"));
}

// ---------------------------------------------------------------- item 5

TEST_CASE("with cap_dac_read_search, every file a user names is opened with the user's own permissions", "[sec][setcap]") {
  if (!is_root() || access("/usr/sbin/setcap", X_OK) != 0) {
    WARN("skipped: needs root and setcap (libcap2-bin)");
    return;
  }
  Box b;
  const std::string bin = b.dir / "bin/greenrun";
  make_dirs(b.dir / "bin");
  make_dirs(b.dir / "share");
  std::filesystem::copy_file(greenrun_bin(), bin);
  std::filesystem::copy(source_dir() + "/share", b.dir / "share/greenrun", std::filesystem::copy_options::recursive);
  ::chmod(b.dir.path().c_str(), 0777);
  if (run_proc({"/usr/sbin/setcap", "cap_dac_read_search+ep", bin}).status != 0) {
    WARN("skipped: this filesystem does not keep file capabilities");
    return;
  }
  const std::string good = b.report("good.json");
  write_intensity(good + ".csv");
  for (const auto& f : {good, good + ".csv"}) ::chmod(f.c_str(), 0644);
  // Root's file, readable by root alone: a report, which would parse.
  const std::string secret = b.dir / "root-only.json";
  std::filesystem::copy_file(good, secret);
  REQUIRE(chmod(secret.c_str(), 0600) == 0);
  auto as_nobody = [&](const Reader& reader) {
    std::vector<std::string> argv = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin};
    if (reader.env.count("XDG_CONFIG_HOME")) argv.insert(argv.begin(), {"env", "-u", "GREENRUN_CONFIG"});  // else no user file
    argv.insert(argv.end(), reader.args.begin(), reader.args.end());
    ProcOptions opt;
    opt.env = b.env();
    opt.env["GREENRUN_DATA_DIR"] = "";
    for (auto& [k, v] : reader.env) opt.env[k] = v;
    opt.timeout_s = 30;
    return run_proc(argv, opt);
  };
  std::vector<Reader> readers = readers_of(secret, good, b.dir.path());
  readers.push_back({"XDG_CONFIG_HOME", {"--", "touch", b.dir / "ran"}, {{"XDG_CONFIG_HOME", b.dir / "xdg"}}});
  make_dirs(b.dir / "xdg/greenrun");
  ::chmod((b.dir / "xdg").c_str(), 0755);
  ::chmod((b.dir / "xdg/greenrun").c_str(), 0755);
  std::filesystem::copy_file(secret, b.dir / "xdg/greenrun/config");
  for (const auto& reader : readers) {
    std::filesystem::remove(b.dir / "ran");
    auto r = as_nobody(reader);
    INFO(reader.name << ": status " << r.status << "\n" << r.out << r.err);
    CHECK(r.status == 125);
    CHECK_THAT(r.err, Catch::Contains("Permission denied"));
    CHECK(r.out.empty());  // nothing of the file came through
    CHECK_FALSE(b.ran());
  }
}

TEST_CASE("with cap_dac_read_search, a symlink swapped between check and open never leaks a root-only file", "[sec][setcap]") {
  if (!is_root() || access("/usr/sbin/setcap", X_OK) != 0) {
    WARN("skipped: needs root and setcap (libcap2-bin)");
    return;
  }
  TempDir dir;
  const std::string bin = dir / "bin/greenrun";
  make_dirs(dir / "bin");
  make_dirs(dir / "share");
  std::filesystem::copy_file(greenrun_bin(), bin);
  std::filesystem::copy(source_dir() + "/share", dir / "share/greenrun", std::filesystem::copy_options::recursive);
  ::chmod(dir.path().c_str(), 0777);
  if (run_proc({"/usr/sbin/setcap", "cap_dac_read_search+ep", bin}).status != 0) {
    WARN("skipped: this filesystem does not keep file capabilities");
    return;
  }
  // Both hold a line that is no setting: the error quotes the key, so a leak shows.
  write_file(dir / "mine", "mine-key = 1\n");
  write_file(dir / "secret", "rootonly-key = 1\n");
  ::chmod((dir / "mine").c_str(), 0644);
  ::chmod((dir / "secret").c_str(), 0600);
  const std::string link = dir / "link";
  REQUIRE(symlink((dir / "mine").c_str(), link.c_str()) == 0);
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    const std::string tmp = dir / "link.tmp";
    for (bool to_secret = true; !stop; to_secret = !to_secret) {
      ::unlink(tmp.c_str());
      if (::symlink((dir / (to_secret ? "secret" : "mine")).c_str(), tmp.c_str()) == 0) ::rename(tmp.c_str(), link.c_str());
    }
  });
  int leaks = 0, tries = 0;
  for (; tries < 80; ++tries) {
    for (const std::string option : {"--config", "--intensity-file"}) {
      auto r = run_proc({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bin, option, link, "--", "true"},
                        ProcOptions{"", {{"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}}, 30});
      leaks += r.err.find("rootonly") != std::string::npos;
    }
  }
  stop = true;
  swapper.join();
  CHECK(leaks == 0);
}

// ---------------------------------------------------------------- item 6

TEST_CASE("a directory component that is another user's link is never followed, for every output", "[sec][outputs]") {
  if (!is_root()) {
    WARN("skipped: needs root to plant a link owned by another user");
    return;
  }
  Box b;
  // Root's own directory, with a file only root may write.
  const std::string vault = b.dir / "vault";
  make_dirs(vault);
  ::chmod(vault.c_str(), 0700);
  // nobody's directory, in which nobody's `sub` is a link to root's.
  const std::string userdir = b.dir / "userdir";
  make_dirs(userdir);
  REQUIRE(chown(userdir.c_str(), kNobody, kNobody) == 0);
  REQUIRE(symlink(vault.c_str(), (userdir + "/sub").c_str()) == 0);
  REQUIRE(lchown((userdir + "/sub").c_str(), kNobody, kNobody) == 0);
  // Through two levels too: nobody's link to a directory holding root's link.
  REQUIRE(symlink(userdir.c_str(), (b.dir / "hop").c_str()) == 0);
  REQUIRE(lchown((b.dir / "hop").c_str(), kNobody, kNobody) == 0);
  const std::vector<std::string> options = {"--json", "--csv", "--summary-file", "--step-summary", "--metrics", "--html", "--log-file"};
  for (const std::string& through : {userdir + "/sub", b.dir / "hop/sub"}) {
    for (const auto& option : options) {
      const std::string victim = vault + "/victim" + option;
      write_file(victim, "precious\n");
      std::filesystem::remove(b.dir / "ran");
      auto r = b.run(std::vector<std::string>{option, through + "/victim" + option, "--"} + b.touch());
      INFO(option << " through " << through << ": " << r.err);
      CHECK(r.status == 125);
      CHECK_FALSE(b.ran());
      CHECK_THAT(r.err, Catch::Contains("symbolic link owned by another user"));
      CHECK(slurp(victim) == "precious\n");
      CHECK_FALSE(path_exists(victim + ".bak"));
    }
  }
  // The subcommands' outputs, too.
  const std::string good = b.report("good.json");
  for (const std::string option : {"--json", "--html"}) {
    write_file(vault + "/report" + option, "precious\n");
    auto r = b.run({"report", good, option, userdir + "/sub/report" + option});
    CHECK(r.status == 125);
    CHECK(slurp(vault + "/report" + option) == "precious\n");
  }
  // A link owned by root (or by the user running greenrun) is followed.
  REQUIRE(lchown((userdir + "/sub").c_str(), 0, 0) == 0);
  REQUIRE(lchown((b.dir / "hop").c_str(), 0, 0) == 0);
  auto ok = b.run({"-q", "--json", b.dir / "hop/sub/ok.json", "--", "true"});
  CHECK(ok.status == 0);
  CHECK(json::parse(slurp(vault + "/ok.json"))["status"] == "finished");
}

TEST_CASE("output paths are walked one component at a time", "[sec][outputs][fs]") {
  TempDir dir;
  make_dirs(dir / "real/deeper");
  REQUIRE(symlink("real", (dir / "rel").c_str()) == 0);  // relative, our own
  REQUIRE(atomic_write(dir / "rel/deeper/../deeper/x.json", "one"));
  CHECK(slurp(dir / "real/deeper/x.json") == "one");
  auto walked = OutputPath::walk(dir / "rel/deeper/x.json", "--json");
  REQUIRE(walked);
  CHECK(walked->name() == "x.json");
  CHECK(walked->shown() == dir / "real/deeper/x.json");
  write_file(dir / "file", "");
  auto through_file = check_writable(dir / "file/x.json", "--json");
  REQUIRE_FALSE(through_file);
  CHECK_THAT(through_file.error(), Catch::Contains("is not a directory"));
  REQUIRE(symlink("loop", (dir / "loop").c_str()) == 0);
  auto loop = check_writable(dir / "loop/x.json", "--json");
  REQUIRE_FALSE(loop);
  CHECK_THAT(loop.error(), Catch::Contains("too many levels"));
  CHECK(OutputPath::walk("/dev/stdout", "--json")->descriptor());
  REQUIRE(symlink("/dev/stdout", (dir / "out").c_str()) == 0);
  CHECK(OutputPath::walk(dir / "out", "--json")->descriptor());
  REQUIRE(locked_append(dir / "rel/deeper/runs.csv", "a,b", "1,2"));
  CHECK(slurp(dir / "real/deeper/runs.csv") == "a,b\n1,2\n");
}

// ---------------------------------------------------------------- items 7, 8

TEST_CASE("a FIFO or device given where a file is read is refused at once: 125", "[sec][inputs]") {
  Box b;
  const std::string good = b.report("good.json");
  write_intensity(good + ".csv");
  const std::string fifo = b.dir / "fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
  for (const std::string& input : {fifo, std::string("/dev/zero"), b.dir.path()}) {
    std::vector<Reader> readers = readers_of(input, good, b.dir.path());
    for (const auto& reader : readers) {
      std::filesystem::remove(b.dir / "ran");
      auto r = b.run(reader.args, reader.env, 20);
      INFO(reader.name << " " << input << ": " << r.err);
      CHECK_FALSE(r.timed_out);
      CHECK(r.status == 125);
      CHECK_THAT(r.err, Catch::Contains(input));
      CHECK_FALSE(b.ran());
    }
  }
  // The config file found through XDG_CONFIG_HOME (without GREENRUN_CONFIG).
  make_dirs(b.dir / "xdg/greenrun");
  REQUIRE(mkfifo((b.dir / "xdg/greenrun/config").c_str(), 0644) == 0);
  ProcOptions opt;
  opt.env = b.env();
  opt.timeout_s = 20;
  auto r = run_proc({"env", "-u", "GREENRUN_CONFIG", "XDG_CONFIG_HOME=" + b.dir / "xdg", greenrun_bin(), "--", "touch", b.dir / "ran"},
                    opt);
  INFO(r.err);
  CHECK_FALSE(r.timed_out);
  CHECK(r.status == 125);
  CHECK_THAT(r.err, Catch::Contains("is a FIFO"));
  CHECK_FALSE(b.ran());
}

TEST_CASE("every input is sized on its descriptor before a byte is read", "[sec][inputs]") {
  Box b;
  const std::string good = b.report("good.json");
  write_intensity(good + ".csv");
  // Sparse: as large as they say, costing no disk.
  auto sparse = [&](const std::string& name, uint64_t bytes) {
    const std::string path = b.dir / name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, static_cast<off_t>(bytes)) == 0);
    ::close(fd);
    return path;
  };
  const std::string huge = sparse("huge", (64u << 20) + 1);
  for (const auto& reader : readers_of(huge, good, b.dir.path())) {
    std::filesystem::remove(b.dir / "ran");
    auto r = b.run(reader.args, reader.env, 20);
    INFO(reader.name << ": " << r.err << " in " << r.seconds << " s");
    CHECK(r.status == 125);
    CHECK_THAT(r.err, Catch::Contains(huge) && Catch::Contains("greenrun reads up to"));
    CHECK(r.seconds < 5);
    CHECK_FALSE(b.ran());
  }
  // The smaller caps: a config file (1 MiB), an intensity file (16 MiB).
  for (auto [option, cap] : std::vector<std::pair<std::string, uint64_t>>{{"--config", 1u << 20}, {"--intensity-file", 16u << 20}}) {
    const std::string over = sparse("over" + option, cap + 1);
    auto r = b.run({option, over, "--", "true"});
    INFO(r.err);
    CHECK(r.status == 125);
    CHECK_THAT(r.err, Catch::Contains("greenrun reads up to " + std::string(cap == (1u << 20) ? "1" : "16")));
  }
  auto exact = read_input_file(sparse("exact", 4096), "x", 4096);
  REQUIRE(exact);
  CHECK(exact->size() == 4096);
}

// ---------------------------------------------------------------- item 12

namespace {

/// A UDP socket on a random loopback address, port 53, that reads and never answers.
struct SilentNameServer {
  int fd = -1;
  std::string address;
  SilentNameServer() {
    std::mt19937 rng(static_cast<unsigned>(getpid()) ^ static_cast<unsigned>(time(nullptr)));
    for (int attempt = 0; attempt < 20 && fd < 0; ++attempt) {
      address = "127." + std::to_string(10 + rng() % 200) + "." + std::to_string(rng() % 250) + "." + std::to_string(1 + rng() % 250);
      fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(53);
      inet_pton(AF_INET, address.c_str(), &a.sin_addr);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        fd = -1;
      }
    }
  }
  ~SilentNameServer() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

TEST_CASE("a silent name server costs no more than the documented bounds after the command exits", "[sec][network]") {
  if (!is_root() || access("/usr/bin/unshare", X_OK) != 0) {
    WARN("skipped: needs root and unshare to give greenrun a resolv.conf of its own");
    return;
  }
  SilentNameServer dns;
  REQUIRE(dns.fd >= 0);
  Box b;
  write_file(b.dir / "resolv.conf", "nameserver " + dns.address + "\noptions timeout:5 attempts:2\n");
  write_file(b.dir / "hosts", "127.0.0.1 localhost\n");
  auto in_namespace = [&](const std::vector<std::string>& args, const std::map<std::string, std::string>& extra) {
    std::string cmd = "mount --bind " + b.dir / "resolv.conf" + " /etc/resolv.conf && mount --bind " + b.dir / "hosts" +
                      " /etc/hosts && exec";
    for (const auto& a : args) cmd += " '" + a + "'";
    ProcOptions opt;
    opt.env = b.env();
    for (auto& [k, v] : extra) opt.env[k] = v;
    opt.timeout_s = 60;
    return run_proc({"/usr/bin/unshare", "-m", "sh", "-c", cmd}, opt);
  };
  // The provider: --intensity-timeout 2s, for everything after the command.
  auto provider = in_namespace({greenrun_bin(), "-q", "--region", "DE", "--intensity-source", "electricitymaps",
                                "--intensity-timeout", "2s", "--json", b.dir / "p.json", "--", "true"},
                               {{"GREENRUN_ELECTRICITYMAPS_TOKEN", "token-s3cr3t-long"},
                                {"GREENRUN_ELECTRICITYMAPS_URL", "https://grid.example.org"}});
  INFO(provider.err);
  REQUIRE(provider.status == 0);
  CHECK(provider.seconds < 4.5);
  CHECK_THAT(json::parse(slurp(b.dir / "p.json"))["intensity_source"]["problem"].get<std::string>(),
             Catch::Contains("name server") || Catch::Contains("deadline"));
  // The Pushgateway: 2 s documented for the last push.
  auto push = in_namespace({greenrun_bin(), "-q", "--pushgateway", "http://push.example.org:9091", "--", "true"}, {});
  INFO(push.err);
  CHECK(push.status == 0);
  CHECK(push.seconds < 4.5);
  CHECK_THAT(push.err, Catch::Contains("not pushed"));
}

TEST_CASE("plain http by name only where the name resolves to loopback addresses", "[sec][network][url]") {
  if (!is_root() || access("/usr/bin/unshare", X_OK) != 0) {
    WARN("skipped: needs root and unshare to give greenrun an /etc/hosts of its own");
    return;
  }
  Grid grid;
  Box b;
  write_file(b.dir / "hosts", "192.0.2.10 localhost\n");  // a hostile /etc/hosts
  const std::string cmd = "mount --bind " + b.dir / "hosts" + " /etc/hosts && exec " + greenrun_bin() +
                          " -q --region DE --intensity-source electricitymaps --json " + b.dir / "r.json" + " -- true";
  ProcOptions opt;
  opt.env = b.env();
  opt.env["GREENRUN_ELECTRICITYMAPS_TOKEN"] = "test-token-s3cr3t";
  opt.env["GREENRUN_ELECTRICITYMAPS_URL"] = "http://localhost:" + std::to_string(grid.port) + "/ok/em";
  auto r = run_proc({"/usr/bin/unshare", "-m", "sh", "-c", cmd}, opt);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(json::parse(slurp(b.dir / "r.json"))["intensity_source"]["problem"].get<std::string>(),
             Catch::Contains("not a loopback address"));
}

TEST_CASE("a slow provider delays the exit by at most one --intensity-timeout", "[sec][network][cli]") {
  Grid grid;
  Box b;
  // /slow/ answers after 5 s: the fetch started with the command succeeds
  // after the command exits, and the history would take 5 s more.
  auto r = b.run({"-q", "--region", "DE", "--intensity-source", "electricitymaps", "--intensity-timeout", "6s", "--json",
                  b.dir / "r.json", "--", "true"},
                 {{"GREENRUN_ELECTRICITYMAPS_TOKEN", "test-token-s3cr3t"},
                  {"GREENRUN_ELECTRICITYMAPS_URL", grid.url("slow", "em")}},
                 60);
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(r.seconds < 8);  // 6 s and start-up, not 10 s and more
}

// ---------------------------------------------------------------- item 21

TEST_CASE("a key set twice in a config file: the last wins, with a warning naming both lines", "[sec][config]") {
  Box b;
  write_file(b.dir / "config", "region = FR\n# a comment\nregion = DE\n");
  auto r = b.run({"--json", b.dir / "r.json", "--", "true"}, {{"GREENRUN_CONFIG", b.dir / "config"}});
  REQUIRE(r.status == 0);
  CHECK_THAT(r.err, Catch::Contains(b.dir / "config line 3: region is also set on line 1; line 3 wins"));
  CHECK(json::parse(slurp(b.dir / "r.json"))["region"]["id"] == "DE");
  auto listed = b.run({"config"}, {{"GREENRUN_CONFIG", b.dir / "config"}});
  CHECK_THAT(listed.out, Catch::Contains("region is also set on line 1"));
  ConfigValues values;
  std::vector<std::string> warnings;
  CHECK(parse_config_text("csv = a\ncsv = b\ncsv = c\n", "f", values, &warnings));
  CHECK(values["csv"].first == "c");
  CHECK(warnings.size() == 2);
}

TEST_CASE("greenrun's own files of a run go under TMPDIR, never one the user names with raised privileges", "[sec]") {
  // The marks FIFO and the Slurm node lock both ask temp_dir.
  CHECK(temp_dir(env_of({{"TMPDIR", "/scratch/me"}}), false) == "/scratch/me");
  CHECK(temp_dir(env_of({{"TMPDIR", "/scratch/me"}}), true) == "/tmp");
  CHECK(temp_dir(env_of({{"TMPDIR", ""}}), false) == "/tmp");  // not the root directory
  CHECK(temp_dir(env_of({}), false) == "/tmp");
}
