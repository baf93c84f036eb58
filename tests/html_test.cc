// The HTML report: the chart helpers, a 30-day report's size and shape, the
// JSON read back into the model (greenrun report FILE --html renders the same
// page as --html did), and the page in a real browser (headless Chromium):
// its charts, its figures against the JSON, and no network request.

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "helpers.h"
#include "report/report.h"
#include "report/svg.h"
#include "util/fs.h"
#include "util/units.h"

using namespace greenrun;
using namespace greenrun::test;
using nlohmann::json;

namespace {

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

/// The elements `<tag ...>` (open tags) of `html` whose text contains `marker`.
std::vector<std::string> tags_with(const std::string& html, const std::string& tag, const std::string& marker) {
  std::vector<std::string> out;
  for (size_t p = html.find("<" + tag + " "); p != std::string::npos; p = html.find("<" + tag + " ", p + 1)) {
    const std::string t = html.substr(p, html.find('>', p) - p + 1);
    if (t.find(marker) != std::string::npos) out.push_back(t);
  }
  return out;
}

std::string attr(const std::string& tag, const std::string& name) {
  const std::string key = " " + name + "=\"";
  auto p = tag.find(key);
  if (p == std::string::npos) return "";
  p += key.size();
  return tag.substr(p, tag.find('"', p) - p);
}

/// The chart element with this id, up to its </svg>.
std::string chart(const std::string& html, const std::string& id) {
  auto p = html.find("id=\"" + id + "\"");
  if (p == std::string::npos) return "";
  p = html.rfind("<svg", p);
  return html.substr(p, html.find("</svg>", p) + 6 - p);
}

/// The text of the element carrying data-field="field".
std::pair<std::string, std::string> figure(const std::string& html, const std::string& field) {
  auto p = html.find("data-field=\"" + field + "\"");
  if (p == std::string::npos) return {};
  auto v = html.find("data-value=\"", p) + 12;
  auto t = html.find('>', p) + 1;
  return {html.substr(v, html.find('"', v) - v), html.substr(t, html.find('<', t) - t)};
}

/// A month-long run's report: 4,096 records of 4 components, a varying
/// intensity, 100 phases (built directly, as the timeline keeps it).
RunReport month_report() {
  RunReport r;
  r.command = {"python", "train.py"};
  r.status = "finished";
  r.exit_code = 0;
  r.duration_s = 30 * 86400;
  r.sampled_s = r.duration_s;
  std::vector<TimelineComponent> comps = {{{ComponentKind::Cpu, 0}, true},
                                          {{ComponentKind::Dram, 0}, true},
                                          {{ComponentKind::Gpu, 0}, true},
                                          {{ComponentKind::Gpu, 1}, true}};
  r.timeline = Timeline(comps, 4096);
  const double step = r.duration_s / 4096;
  r.window_s = step / 512;
  CarbonReport c;
  c.settings.location.name = "Germany";
  for (size_t i = 0; i < 4096; ++i) {
    std::vector<double> j = {step * (40 + i % 17), step * 5, step * (250 + i % 300), step * (240 + i % 290)};
    r.timeline.restore({i * step, (i + 1) * step, 512, step, 1 << 30, 0}, j, j, 512);
    const double g_per_kwh = 300 + 100 * std::sin(i / 50.0);
    const double e = j[0] + j[1] + j[2] + j[3];
    c.records.push_back({g_per_kwh, greenrun::Basis::Yearly, e / 3.6e6 * g_per_kwh, 0});
    c.emissions_g += c.records.back().emissions_g;
  }
  for (const auto& [name, kind] : {std::pair{"cpu", ComponentKind::Cpu}, {"dram", ComponentKind::Dram},
                                   {"gpu0", ComponentKind::Gpu}, {"gpu1", ComponentKind::Gpu}}) {
    ComponentReport cr;
    cr.name = name;
    cr.source = kind == ComponentKind::Gpu ? "NVML energy counter" : "RAPL powercap";
    for (size_t i = 0; i < 4096; ++i) {
      const size_t k = kind == ComponentKind::Cpu ? 0 : kind == ComponentKind::Dram ? 1 : cr.name == "gpu0" ? 2 : 3;
      cr.energy_j += r.timeline.tree_j(i, k);
    }
    cr.machine_energy_j = cr.energy_j;
    r.components.push_back(cr);
  }
  c.energy_kwh = r.energy_j() / 3.6e6;
  c.intensity_g_per_kwh = c.emissions_g / c.energy_kwh;
  r.carbon = c;
  for (int p = 0; p < 100; ++p) r.phases.push_back({"epoch " + std::to_string(p), p * 25920.0, (p + 1) * 25920.0, 1, 1, {}, {}});
  return r;
}

struct Chromium {
  std::string bin;
  Chromium() {
    for (const char* b : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
      if (path_exists(b)) bin = b;
  }
  /// Headless, as root without the sandbox, no background traffic, nothing resolvable, a fresh profile.
  ProcResult run(const TempDir& dir, const std::string& profile, std::vector<std::string> args) const {
    std::vector<std::string> argv = {bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                                     "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + (dir / profile),
                                     "--log-net-log=" + (dir / (profile + "-net.json"))};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcOptions opt;
    opt.timeout_s = 90;
    return run_proc(argv, opt);
  }
};

/// URL requests the page itself started (the browser's own carry the initiator "not an origin").
std::vector<std::string> page_requests(const std::string& netlog_path) {
  json log = json::parse(slurp(netlog_path), nullptr, false);
  std::vector<std::string> out;
  if (log.is_discarded()) return {"unreadable net log"};
  int start_job = -1;
  for (const auto& [name, id] : log["constants"]["logEventTypes"].items())
    if (name == "URL_REQUEST_START_JOB") start_job = id.get<int>();
  for (const auto& e : log["events"]) {
    if (e.value("type", -1) != start_job || !e.contains("params")) continue;
    const auto& p = e["params"];
    const std::string initiator = p.value("initiator", ""), url = p.value("url", "");
    if (!initiator.empty() && initiator != "not an origin") out.push_back(url + " from " + initiator);
  }
  return out;
}

}  // namespace

TEST_CASE("chart ticks are 1, 2 or 5 x 10^n and labelled without noise", "[html]") {
  CHECK(nice_ticks(0, 37, 5) == std::vector<double>{0, 10, 20, 30, 40});
  CHECK(nice_ticks(0, 3.6, 8) == std::vector<double>{0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4});
  CHECK(nice_ticks(0, 0.0042, 5).back() == Approx(0.005));
  CHECK(tick_label(0.5) == "0.5");
  CHECK(tick_label(40) == "40");
  CHECK(tick_label(1500) == "1500");
  CHECK(std::string(time_unit_for(120).name) == "s");
  CHECK(std::string(time_unit_for(3600).name) == "min");
  CHECK(std::string(time_unit_for(2 * 86400).name) == "h");
  CHECK(std::string(time_unit_for(30 * 86400).name) == "days");
  CHECK(escape_html("<a href='x'>&\"") == "&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
}

TEST_CASE("a 30-day report's page has every record in its charts and stays under 3 MB", "[html]") {
  const RunReport r = month_report();
  const std::string html = format_html(r);
  CHECK(html.size() < 3 * 1024 * 1024);
  const std::string power = chart(html, "power-chart");
  auto areas = tags_with(power, "path", "series area");
  REQUIRE(areas.size() == 4);
  for (const auto& a : areas) {
    CHECK(attr(a, "data-points") == "4096");
    CHECK(count(attr(a, "d"), " L") == 4 * 4096);  // up and along each record, back along the one below
  }
  auto intensity = tags_with(power, "path", "series line");
  REQUIRE(intensity.size() == 1);
  CHECK(count(attr(intensity[0], "d"), " L") == 2 * 4096);
  CHECK(count(power, "<rect class=\"band") == 100);
  CHECK_THAT(power, Catch::Contains("time since the start (days)"));
  const std::string cumulative = chart(html, "cumulative-chart");
  auto lines = tags_with(cumulative, "path", "series line");
  REQUIRE(lines.size() == 2);
  CHECK(count(attr(lines[0], "d"), " L") == 4096);
  // Text is escaped everywhere.
  RunReport evil = r;
  evil.command = {"sh", "-c", "echo </title><script>alert(1)</script>"};
  evil.phases[0].name = "<img src=x>";
  const std::string e = format_html(evil);
  CHECK(e.find("<script>") == std::string::npos);
  CHECK(e.find("<img") == std::string::npos);
}

TEST_CASE("greenrun report FILE --html renders the same page as --html, from the JSON alone", "[html][cli]") {
  TempDir dir;
  make_dirs(dir / "sys");
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  const std::string script = toy_train_bin() + " 1 >/dev/null; " + greenrun_bin() + " mark eval; " + toy_train_bin() + " 1 >/dev/null";
  auto r = run_proc({greenrun_bin(), "-q", "--json", dir / "r.json", "--html", dir / "r.html", "--interval", "100ms",
                     "--region", "DE", "--functional-unit", "64:batches", "--wue", "0.5", "--", "sh", "-c", script},
                    opt);
  REQUIRE(r.status == 0);
  const json j = json::parse(slurp(dir / "r.json"));
  auto back = run_report_from_json(j, "r.json");
  REQUIRE(back);
  // Every figure of the JSON survives the round trip.
  json again = to_json(*back);
  for (const char* key : {"command", "status", "duration_s", "energy_j", "machine_energy_j", "emissions_g", "components",
                          "comparisons", "equivalents", "phases", "embodied", "sci", "water", "region", "unused_sources"})
    CHECK(again[key] == j[key]);
  CHECK(again["timeline"]["records"] == j["timeline"]["records"]);
  CHECK(again["timeline"]["resolution_s"] == j["timeline"]["resolution_s"]);
  CHECK(again["timeline"]["components"] == j["timeline"]["components"]);

  auto rep = run_proc({greenrun_bin(), "report", dir / "r.json", "--html", dir / "again.html"}, opt);
  REQUIRE(rep.status == 0);
  CHECK(slurp(dir / "again.html") == slurp(dir / "r.html"));

  // Several reports: one page with each and the total.
  auto both = run_proc({greenrun_bin(), "report", dir / "r.json", dir / "r.json", "--html", dir / "both.html"}, opt);
  REQUIRE(both.status == 0);
  const std::string merged = slurp(dir / "both.html");
  CHECK(std::stod(figure(merged, "total.energy_j").first) == Approx(2 * j["energy_j"].get<double>()));
  CHECK(tags_with(merged, "rect", "class=\"bar").size() == 2);
  // A file that is no report is refused with the reason.
  write_file(dir / "bad.json", "{}");
  auto bad = run_proc({greenrun_bin(), "report", dir / "bad.json", "--html", dir / "bad.html"}, opt);
  CHECK(bad.status == 125);
  CHECK_THAT(bad.err, Catch::Contains("not a greenrun JSON report"));
}

TEST_CASE("the example run's page in headless Chromium: charts, figures equal to the JSON, no request", "[html][browser]") {
  Chromium browser;
  if (browser.bin.empty()) SKIP_UNLESS_CI("Debian's chromium is not installed");
  TempDir dir;
  make_dirs(dir / "sys");
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}, {"TZ", "UTC"}};
  auto run = run_proc({greenrun_bin(), "-q", "--json", dir / "r.json", "--html", dir / "r.html", "--interval", "100ms",
                       "--region", "FR", "--functional-unit", "1000:images", "--", toy_train_bin(), "2"},
                      opt);
  REQUIRE(run.status == 0);
  const json j = json::parse(slurp(dir / "r.json"));

  auto dom_run = browser.run(dir, "p1", {"--dump-dom", "file://" + (dir / "r.html")});
  REQUIRE(dom_run.status == 0);
  const std::string& dom = dom_run.out;
  REQUIRE_THAT(dom, Catch::Contains("greenrun report"));

  // The power chart: one stacked series per timeline component, one step per record, and the grid's intensity.
  const size_t records = j["timeline"]["records"].size();
  REQUIRE(records > 5);
  auto areas = tags_with(chart(dom, "power-chart"), "path", "series area");
  REQUIRE(areas.size() == j["timeline"]["components"].size());
  for (size_t k = 0; k < areas.size(); ++k) {
    CHECK(attr(areas[k], "data-series").rfind(j["timeline"]["components"][k]["name"].get<std::string>(), 0) == 0);
    CHECK(attr(areas[k], "data-points") == std::to_string(records));
    CHECK(count(attr(areas[k], "d"), "L") == 4 * records);
  }
  CHECK(tags_with(chart(dom, "power-chart"), "path", "series line").size() == 1);
  CHECK(tags_with(chart(dom, "cumulative-chart"), "path", "series line").size() == 2);
  CHECK(tags_with(chart(dom, "elsewhere-chart"), "rect", "class=\"bar").size() == j["comparisons"].size());

  // Figures: the page's number is the JSON's, shown as the summary shows it.
  auto same = [&](const std::string& field, double value, const std::string& text) {
    auto [v, t] = figure(dom, field);
    INFO(field);
    REQUIRE_FALSE(v.empty());
    CHECK(std::stod(v) == value);
    CHECK(t == text);
  };
  same("energy_j", j["energy_j"], format_energy(j["energy_j"]));
  same("emissions_g", j["emissions_g"], format_mass_g(j["emissions_g"]) + " CO2e");
  same("duration_s", j["duration_s"], format_seconds(j["duration_s"]));
  same("embodied.emissions_g", j["embodied"]["emissions_g"], format_mass_g(j["embodied"]["emissions_g"]) + " CO2e");
  same("sci.sci_g_per_unit", j["sci"]["sci_g_per_unit"], format_mass_g(j["sci"]["sci_g_per_unit"]));
  for (const auto& c : j["components"])
    same("component." + c["name"].get<std::string>() + ".energy_j", c["energy_j"], format_energy(c["energy_j"]));
  for (const auto& c : j["comparisons"])
    same("comparison." + c["region"].get<std::string>() + ".emissions_g", c["emissions_g"], format_mass_g(c["emissions_g"]));

  // Nothing fetched: no URL to fetch, a policy that forbids it, and no request in the browser's net log.
  CHECK_THAT(dom, Catch::Contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
  CHECK(dom.find("src=") == std::string::npos);
  for (const char* scheme : {"href=\"http", "href=\"//", "url(", "@import"}) CHECK(dom.find(scheme) == std::string::npos);
  CHECK(page_requests(dir / "p1-net.json").empty());

  // The check would see a request: the same browser on a page that makes one.
  write_file(dir / "control.html", "<!DOCTYPE html><img src=\"http://127.0.0.1:9/x.png\">");
  browser.run(dir, "p2", {"--dump-dom", "file://" + (dir / "control.html")});
  CHECK(page_requests(dir / "p2-net.json").size() == 1);

  // And it renders: a screenshot of the whole page.
  auto shot = browser.run(dir, "p3", {"--hide-scrollbars", "--window-size=1200,2400", "--screenshot=" + (dir / "shot.png"),
                                      "file://" + (dir / "r.html")});
  REQUIRE(shot.status == 0);
  const std::string png = slurp(dir / "shot.png");
  REQUIRE(png.size() > 20000);
  CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
}

TEST_CASE("an --html path that cannot be written stops the run before the command starts", "[html][cli]") {
  TempDir dir;
  make_dirs(dir / "sys");
  ProcOptions opt;
  opt.env = {{"GREENRUN_SYSFS_ROOT", dir / "sys"}, {"GREENRUN_CONFIG", ""}};
  auto r = run_proc({greenrun_bin(), "--html", dir / "missing/r.html", "--", "touch", dir / "ran"}, opt);
  CHECK(r.status == 125);
  CHECK_THAT(r.err, Catch::Contains("--html"));
  CHECK_FALSE(path_exists(dir / "ran"));
  // A checkpoint page exists while the command runs, and the final page replaces it.
  auto bg = start_background({greenrun_bin(), "-q", "--checkpoint", "1s", "--html", dir / "live.html", "--", "sleep", "2.5"},
                             dir.path(), opt.env);
  REQUIRE(eventually([&] { return path_exists(dir / "live.html"); }, 5));
  CHECK_THAT(slurp(dir / "live.html"), Catch::Contains("a checkpoint"));
  REQUIRE(bg.wait() == 0);
  CHECK_THAT(slurp(dir / "live.html"), Catch::Contains("the final report"));
}
