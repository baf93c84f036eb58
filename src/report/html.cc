// The report as one self-contained HTML page: what ran, the components, the
// power over time with the grid's intensity, energy and emissions so far, the
// same run elsewhere, equivalents, embodied emissions, SCI and water, unused
// sources and how to enable them, and every method and source. Charts are
// inline SVG (svg.cc); the page loads nothing (its Content-Security-Policy
// forbids it) and needs no script. Key figures carry data-field and
// data-value (the JSON's number) so that tests and tools can check them.

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "report/merge.h"
#include "report/report.h"
#include "report/svg.h"
#include "report/text.h"
#include "util/units.h"
#include "util/version.h"

namespace greenrun {

namespace {

/// The largest phases drawn as bands and listed; the JSON report has them all.
constexpr size_t kMaxPhases = 100;

const char* kStyle = R"(
:root{--bg:#fff;--fg:#1d232a;--muted:#5b6570;--card:#f5f7f9;--border:#d8dee4;--grid:#e6e9ed;--axis:#9aa4ad;
--band:rgba(110,110,170,.10);--band2:rgba(110,170,140,.12);--here:#c2410c;--bar:#8094a4;--right:#b42318;--good:#1a7f37;--warn:#9a6700;
--s0:#2f7ebc;--s1:#e07b39;--s2:#3a9d5d;--s3:#c44e52;--s4:#8172b3;--s5:#937860;--s6:#d16fae;--s7:#7f7f7f}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e4e8ec;--muted:#98a3ae;--card:#1a1f25;--border:#2e363f;
--grid:#262d34;--axis:#58636e;--band:rgba(150,150,230,.13);--band2:rgba(120,210,160,.12);--here:#fb923c;--bar:#6d7f8e;--right:#f87171;--good:#4ac26b;
--warn:#d4a72c;--s0:#62a9e6;--s1:#f0975a;--s2:#5cc27e;--s3:#e57377;--s4:#a597d8;--s5:#c09f83;--s6:#e89bcf;--s7:#a6a6a6}}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",sans-serif;background:var(--bg);
color:var(--fg);max-width:1060px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:1.5rem;margin:0 0 4px}h2{font-size:1.15rem;margin:32px 0 8px;border-bottom:1px solid var(--border);padding-bottom:4px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
.command{background:var(--card);border:1px solid var(--border);border-radius:6px;padding:8px 12px;overflow-wrap:anywhere;margin:8px 0 16px}
.muted,.note{color:var(--muted)}.note{font-size:.9em;margin:6px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:10px}
.card{background:var(--card);border:1px solid var(--border);border-radius:8px;padding:10px 12px}
.card .k{color:var(--muted);font-size:.85em}.card .v{font-size:1.3rem;font-weight:600;margin-top:2px}
.card .s{color:var(--muted);font-size:.82em}
table{border-collapse:collapse;width:100%;font-size:.93em}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--border);vertical-align:top}
th{color:var(--muted);font-weight:600}td.n,th.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.tag{display:inline-block;border-radius:10px;padding:0 8px;font-size:.8em;border:1px solid var(--border)}
.tag.measured{color:var(--good);border-color:var(--good)}.tag.estimated{color:var(--warn);border-color:var(--warn)}
svg.chart{width:100%;height:auto;display:block;margin:6px 0}svg text{fill:currentColor;font-size:12px}
svg text.title{fill:var(--muted)}svg text.right{fill:var(--right)}svg text.here{font-weight:700;fill:var(--here)}
.grid{stroke:var(--grid);stroke-width:1}.axis,.tick{stroke:var(--axis);stroke-width:1}
.band{fill:var(--band)}.band.odd{fill:var(--band2)}.band-edge{stroke:var(--axis);stroke-dasharray:2 3}.band-label{fill:var(--muted);font-size:11px}
.series.area{fill-opacity:.6;stroke-width:1}.series.area.estimated{fill-opacity:.4;stroke-dasharray:5 3}
.series.line{fill:none;stroke-width:2}.series.line.right{stroke:var(--right);stroke-dasharray:7 3}
.s0{fill:var(--s0);stroke:var(--s0)}.s1{fill:var(--s1);stroke:var(--s1)}.s2{fill:var(--s2);stroke:var(--s2)}
.s3{fill:var(--s3);stroke:var(--s3)}.s4{fill:var(--s4);stroke:var(--s4)}.s5{fill:var(--s5);stroke:var(--s5)}
.s6{fill:var(--s6);stroke:var(--s6)}.s7{fill:var(--s7);stroke:var(--s7)}
.bar{fill:var(--bar)}.bar.here{fill:var(--here)}
.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:.9em}
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.sw.s0{background:var(--s0)}.sw.s1{background:var(--s1)}.sw.s2{background:var(--s2)}.sw.s3{background:var(--s3)}
.sw.s4{background:var(--s4)}.sw.s5{background:var(--s5)}.sw.s6{background:var(--s6)}.sw.s7{background:var(--s7)}
.sw.right{background:none;border-top:2px dashed var(--right);height:0;border-radius:0}.sw.band{background:var(--band);border:1px solid var(--border)}
.formula{font-family:ui-monospace,Menlo,Consolas,monospace;background:var(--card);border-radius:6px;padding:8px 12px;overflow-wrap:anywhere}
footer{margin-top:40px;color:var(--muted);font-size:.85em}
@media print{:root{--bg:#fff;--fg:#000;--muted:#444;--card:#f4f4f4;--border:#ccc;--grid:#e5e5e5;--axis:#888;
--band:rgba(0,0,0,.07);--band2:rgba(0,0,0,.13);--here:#c2410c;--bar:#888;--right:#b42318;--s0:#2f7ebc;--s1:#e07b39;--s2:#3a9d5d;--s3:#c44e52;
--s4:#8172b3;--s5:#937860;--s6:#d16fae;--s7:#7f7f7f}body{max-width:none;padding:0;font-size:11pt}
section,svg.chart,table,.cards{break-inside:avoid}h2{break-after:avoid}}
)";

std::string esc(const std::string& s) { return escape_html(s); }

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// A figure the page shows, with the JSON's number beside it for checks.
std::string figure(const std::string& field, double value, const std::string& text) {
  return "<span class=\"figure\" data-field=\"" + esc(field) + "\" data-value=\"" + exact(value) + "\">" + esc(text) +
         "</span>";
}

std::string count_text(double n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", n);
  return buf;
}

std::string card(const std::string& key, const std::string& value_html, const std::string& sub = "") {
  return "<div class=\"card\"><div class=\"k\">" + esc(key) + "</div><div class=\"v\">" + value_html + "</div>" +
         (sub.empty() ? "" : "<div class=\"s\">" + esc(sub) + "</div>") + "</div>";
}

/// A display unit for a quantity whose largest value is `max`: factor to multiply by, and its name.
struct Scale {
  double factor;
  std::string unit;
};

Scale power_scale(double max_w) {
  if (max_w < 1) return {1e3, "mW"};
  if (max_w >= 1e4) return {1e-3, "kW"};
  return {1, "W"};
}

Scale energy_scale(double max_j) {
  if (max_j < 1e4) return {1, "J"};
  if (max_j < 3.6e7) return {1 / 3600.0, "Wh"};
  return {1 / 3.6e6, "kWh"};
}

Scale mass_scale(double max_g) {
  if (max_g < 1e-3) return {1e6, "\u00b5g CO2e"};
  if (max_g < 1) return {1e3, "mg CO2e"};
  if (max_g < 1e3) return {1, "g CO2e"};
  return {1e-3, "kg CO2e"};
}

bool estimated_component(const RunReport& r, const std::string& name) {
  for (const auto& c : r.components)
    if (c.name == name) return !c.measured;
  return false;
}

std::string series_class(size_t k, bool estimated) { return "s" + std::to_string(k % 8) + (estimated ? " estimated" : ""); }

void header(const RunReport& r, std::ostringstream& out) {
  out << "<header><h1>greenrun report</h1><div class=\"command mono\">" << esc(command_line(r.command)) << "</div>";
  out << "<div class=\"cards\">";
  out << card("status", esc(r.status), r.error.empty() ? status_text(r) : r.error);
  out << card("duration", figure("duration_s", r.duration_s, format_seconds(r.duration_s)),
              "started " + format_rfc3339(r.started_at) + (r.host.empty() ? "" : " on " + r.host));
  if (!r.components.empty())
    out << card("energy", figure("energy_j", r.energy_j(), format_energy(r.energy_j())),
                r.energy_kind() + (r.scope == Scope::Process ? ", the command's share" : ", the whole machine"));
  else out << card("energy", "not measured", "no usable energy source");
  if (r.carbon)
    out << card("emissions", figure("emissions_g", r.carbon->emissions_g, format_mass_g(r.carbon->emissions_g) + " CO2e"),
                r.carbon->settings.location.name + ", " + significant(r.carbon->intensity_g_per_kwh) + " g/kWh");
  if (r.embodied)
    out << card("embodied",
                figure("embodied.emissions_g", r.embodied->emissions_g, format_mass_g(r.embodied->emissions_g) + " CO2e"),
                "manufacturing share, not in the emissions");
  if (r.sci)
    out << card("SCI", figure("sci.sci_g_per_unit", r.sci->per_unit_g, format_mass_g(r.sci->per_unit_g)),
                "CO2e per functional unit (" + count_text(r.sci->unit.count) + " " + r.sci->unit.name + " in all)");
  for (const auto& u : r.units)
    if (u.energy_j_per_unit)
      out << card("per " + singular_unit(u.unit), figure("units.energy_j_per_unit", *u.energy_j_per_unit, format_energy(*u.energy_j_per_unit)),
                  (u.emissions_g_per_unit ? format_mass_g(*u.emissions_g_per_unit) + " CO2e, " : std::string()) + count_text(u.count) +
                      " " + u.unit + " counted");
  if (r.projection && r.projection->energy.fraction < 0.999)
    out << card("projected", figure("projection.energy_j", r.projection->energy.energy_j, format_energy(r.projection->energy.energy_j)),
                "the whole run at " + format_done(r.projection->energy.fraction) + " done" +
                    (r.projection->emissions_g ? ", " + format_mass_g(*r.projection->emissions_g) + " CO2e" : std::string()) +
                    ", ends " + format_rfc3339(r.projection->ends_at));
  if (r.water)
    out << card("water", r.water->liters ? figure("water.liters", *r.water->liters, format_volume_l(*r.water->liters)) : "unknown",
                r.water->liters ? "WUE " + significant(*r.water->wue_l_per_kwh) + " L/kWh" : "no published WUE");
  out << "</div></header>\n";
}

void components(const RunReport& r, std::ostringstream& out) {
  out << "<section id=\"components\"><h2>Energy by component</h2>";
  if (r.components.empty()) {
    out << "<p>No energy figure: no usable energy source on this machine (see <a href=\"#unused\">unused sources</a>).</p></section>\n";
    return;
  }
  out << "<table><thead><tr><th>component</th><th class=\"n\">energy</th><th class=\"n\">share</th><th>how</th>"
         "<th class=\"n\">range</th><th>source or method</th></tr></thead><tbody>";
  const double total = r.energy_j();
  for (const auto& c : r.components) {
    out << "<tr><td>" << esc(c.name) << "</td><td class=\"n\">"
        << figure("component." + c.name + ".energy_j", c.energy_j, format_energy(c.energy_j)) << "</td><td class=\"n\">"
        << (total > 0 ? significant(100 * c.energy_j / total, 3) + "%" : "-") << "</td><td><span class=\"tag "
        << (c.measured ? "measured\">measured" : "estimated\">estimated") << "</span></td><td class=\"n\">"
        << (c.measured ? "" : esc(format_energy(c.energy_j_low.value_or(c.energy_j)) + " to " +
                                  format_energy(c.energy_j_high.value_or(c.energy_j))))
        << "</td><td>";
    std::string labels;
    for (const auto& d : c.detail) labels += (labels.empty() ? "" : ", ") + d.value("label", std::string());
    out << esc(c.measured ? c.source + (labels.empty() ? "" : ": " + labels) : c.method) << "</td></tr>";
  }
  out << "<tr><th>total</th><th class=\"n\">" << esc(format_energy(total)) << "</th><th></th><th>" << esc(r.energy_kind())
      << "</th><th></th><th>average " << esc(format_power(r.average_power_w())) << ", peak "
      << esc(format_power(r.peak_power_w)) << "</th></tr></tbody></table>";
  out << "<p class=\"note\">"
      << (r.scope == Scope::Process ? "The command's share of the machine, by its share of CPU time; the whole machine used "
                                    : "The whole machine while the command ran; the command's share was ")
      << figure("machine_energy_j", r.scope == Scope::Process ? r.machine_energy_j() : r.energy_j(),
                format_energy(r.scope == Scope::Process ? r.machine_energy_j() : r.energy_j()))
      << ".</p></section>\n";
}

/// The phases shown: every one, or the largest kMaxPhases by energy, in time order.
std::vector<const PhaseReport*> shown_phases(const RunReport& r) {
  std::vector<const PhaseReport*> shown;
  for (const auto& p : r.phases) shown.push_back(&p);
  if (shown.size() > kMaxPhases) {
    std::stable_sort(shown.begin(), shown.end(), [](auto* a, auto* b) { return a->energy_j > b->energy_j; });
    shown.resize(kMaxPhases);
    std::stable_sort(shown.begin(), shown.end(), [](auto* a, auto* b) { return a->start_s < b->start_s; });
  }
  return shown;
}

std::vector<TimeChart::Band> phase_bands(const RunReport& r) {
  std::vector<TimeChart::Band> out;
  for (const auto* p : shown_phases(r))
    out.push_back({p->start_s, p->end_s, p->name,
                   p->name + ": " + format_seconds(p->end_s - p->start_s) + ", " + format_energy(p->energy_j)});
  return out;
}

std::string legend(const std::vector<Series>& series, const std::optional<Series>& right, bool bands) {
  std::string out = "<ul class=\"legend\">";
  for (const auto& s : series) {
    const std::string cls = s.css.substr(0, s.css.find(' '));
    out += "<li><span class=\"sw " + cls + "\"></span>" + esc(s.name) + "</li>";
  }
  if (right) out += "<li><span class=\"sw right\"></span>" + esc(right->name) + "</li>";
  if (bands) out += "<li><span class=\"sw band\"></span>phases</li>";
  return out + "</ul>";
}

// What each component can resolve: a counter that moves in steps is exact
// only over ten of them, so the records are never finer than that.
std::string resolution_note(const Timeline& t) {
  std::string out;
  for (const auto& c : t.components()) {
    if (c.resolution_s <= 0) continue;
    out += (out.empty() ? "" : ", ") + c.component.name() + " " + format_seconds(c.resolution_s * t.windows_per_record());
    if (c.update_s > 0) out += " (its counter moves every " + format_seconds(c.update_s) + ")";
  }
  return out.empty() ? "" : " Resolution per component: " + out + ".";
}

void power_chart(const RunReport& r, std::ostringstream& out) {
  const Timeline& t = r.timeline;
  out << "<section id=\"power\"><h2>Power over time</h2>";
  if (t.size() == 0) {
    out << "<p class=\"note\">No sampling window closed before the command ended: no timeline to draw.</p></section>\n";
    return;
  }
  const bool machine = r.scope == Scope::Machine;
  TimeChart c;
  c.id = "power-chart";
  c.label = "power per component over time, stacked" + std::string(r.carbon ? ", with the grid intensity" : "");
  double max_w = 0;
  std::vector<double> stacked(t.size(), 0.0);
  for (size_t i = 0; i < t.size(); ++i) {
    c.starts.push_back(t.record(i).start_s);
    c.ends.push_back(t.record(i).end_s);
  }
  for (size_t k = 0; k < t.components().size(); ++k) {
    const std::string name = t.components()[k].component.name();
    Series s{name + (estimated_component(r, name) ? " (estimated)" : ""), series_class(k, estimated_component(r, name)), {}, {}};
    double joules = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      const double e = machine ? t.machine_j(i, k) : t.tree_j(i, k);
      const double span = c.ends[i] - c.starts[i];
      s.values.push_back(span > 0 ? e / span : 0.0);
      stacked[i] += s.values.back();
      joules += e;
    }
    s.total = format_energy(joules);
    c.left.push_back(std::move(s));
  }
  for (double w : stacked) max_w = std::max(max_w, w);
  const Scale p = power_scale(max_w);
  for (auto& s : c.left)
    for (auto& v : s.values) v *= p.factor;
  c.left_unit = p.unit;
  if (r.carbon && r.carbon->records.size() == t.size()) {
    Series g{"grid intensity (g/kWh)", "", {}, significant(r.carbon->intensity_g_per_kwh) + " g/kWh on average"};
    for (const auto& rc : r.carbon->records) g.values.push_back(rc.intensity_g_per_kwh);
    c.right = std::move(g);
    c.right_unit = "g/kWh";
  }
  c.bands = phase_bands(r);
  out << svg_time_chart(c) << legend(c.left, c.right, !c.bands.empty());
  out << "<p class=\"note\">" << (machine ? "The whole machine's" : "The command's share of the") << " power, "
      << t.size() << " records of " << esc(format_seconds(r.window_s * t.windows_per_record()))
      << " each (the timeline keeps at most " << t.capacity() << ": a longer run merges neighbouring records)."
      << esc(resolution_note(t)) << " "
      << "Each record is drawn at its average power" << (r.any_estimated() ? "; dashed areas are estimates." : ".")
      << (r.phases.size() > c.bands.size() ? " The " + std::to_string(kMaxPhases) + " largest phases are shaded." : "")
      << "</p></section>\n";
}

void cumulative_chart(const RunReport& r, std::ostringstream& out) {
  const Timeline& t = r.timeline;
  if (t.size() == 0) return;
  const bool machine = r.scope == Scope::Machine;
  TimeChart c;
  c.id = "cumulative-chart";
  c.label = "energy and emissions so far";
  c.lines = true;
  Series e{"energy", "s0", {}, format_energy(r.energy_j())};
  double sum = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    c.starts.push_back(t.record(i).start_s);
    c.ends.push_back(t.record(i).end_s);
    sum += t.energy_j(i, machine);
    e.values.push_back(sum);
  }
  const Scale es = energy_scale(sum);
  for (auto& v : e.values) v *= es.factor;
  c.left_unit = es.unit;
  e.name = "energy (" + es.unit + ")";
  c.left.push_back(std::move(e));
  if (r.carbon && r.carbon->records.size() == t.size()) {
    Series g{"", "", {}, format_mass_g(r.carbon->emissions_g) + " CO2e"};
    double grams = 0;
    for (const auto& rc : r.carbon->records) g.values.push_back(grams += rc.emissions_g);
    const Scale ms = mass_scale(grams);
    for (auto& v : g.values) v *= ms.factor;
    g.name = "emissions (" + ms.unit + ")";
    c.right = std::move(g);
    c.right_unit = ms.unit;
  }
  out << "<section id=\"cumulative\"><h2>Energy and emissions so far</h2>" << svg_time_chart(c)
      << legend(c.left, c.right, false) << "</section>\n";
}

void elsewhere(const RunReport& r, std::ostringstream& out) {
  if (!r.carbon || r.carbon->comparisons.size() <= 1) return;
  const CarbonReport& c = *r.carbon;
  std::vector<Bar> bars;
  for (const auto& x : c.comparisons)
    bars.push_back({x.name + " (" + x.id + ")" + (x.why == "here" ? ": this run" : ""),
                    format_mass_g(x.emissions_g) + " at " + significant(x.g_per_kwh) + " g/kWh", x.emissions_g,
                    x.why == "here"});
  out << "<section id=\"elsewhere\"><h2>The same run elsewhere</h2>"
      << svg_bar_chart("elsewhere-chart", "the same energy's emissions on other grids", bars)
      << "<p class=\"note\">The same energy x PUE on each grid's yearly average (" << esc(factor_name(c.settings.location.factor))
      << "); cleanest and dirtiest zones, the world average, the chosen regions"
      << (c.settings.location.cloud_provider.empty() ? "" : " and " + esc(c.settings.location.cloud_provider) + "'s regions")
      << ".</p><table><thead><tr><th>grid</th><th>zone</th><th class=\"n\">g/kWh</th><th class=\"n\">emissions</th><th>why</th></tr>"
         "</thead><tbody>";
  for (const auto& x : c.comparisons)
    out << "<tr><td>" << esc(x.name) << "</td><td>" << esc(x.id) << "</td><td class=\"n\">" << esc(significant(x.g_per_kwh))
        << "</td><td class=\"n\">" << figure("comparison." + x.id + ".emissions_g", x.emissions_g, format_mass_g(x.emissions_g))
        << "</td><td>" << esc(x.why == "here" ? "this run" : x.why) << "</td></tr>";
  out << "</tbody></table></section>\n";
}

void equivalents(const RunReport& r, std::ostringstream& out) {
  if (!r.carbon || r.carbon->equivalents.empty()) return;
  out << "<section id=\"equivalents\"><h2>As much CO2e as</h2><table><tbody>";
  for (const auto& e : r.carbon->equivalents)
    out << "<tr><td class=\"n\">" << figure("equivalent." + e.id, e.value, significant(e.value, 2)) << "</td><td>"
        << esc(e.label) << "</td><td class=\"muted\">" << esc(e.source) << "</td></tr>";
  out << "</tbody></table></section>\n";
}

void footprint(const RunReport& r, std::ostringstream& out) {
  if (!r.embodied && !r.sci && !r.water) return;
  out << "<section id=\"footprint\"><h2>Embodied emissions, SCI and water</h2>";
  if (r.embodied) {
    const EmbodiedReport& e = *r.embodied;
    out << "<p>The hardware's manufacturing share of this run: <strong>"
        << figure("embodied.emissions_g", e.emissions_g, format_mass_g(e.emissions_g) + " CO2e") << "</strong> ("
        << esc(format_mass_g(e.low_g)) << " to " << esc(format_mass_g(e.high_g))
        << "), reported apart from the operational emissions and not added to them.</p>"
           "<table><thead><tr><th>hardware</th><th class=\"n\">kgCO2e</th><th class=\"n\">lifetime</th>"
           "<th class=\"n\">share of it</th><th class=\"n\">command's share</th><th class=\"n\">this run</th><th>source</th></tr></thead><tbody>";
    for (const auto& p : e.parts)
      out << "<tr><td>" << esc(p.part.what) << "</td><td class=\"n\">" << esc(significant(p.part.kg, 4))
          << "</td><td class=\"n\">" << esc(significant(p.part.lifetime_h / 8760, 3)) << " years</td><td class=\"n\">"
          << esc(significant(100 * p.part.machine_share, 3)) << "%</td><td class=\"n\">"
          << esc(significant(100 * p.command_share, 3)) << "%</td><td class=\"n\">" << esc(format_mass_g(p.emissions_g))
          << "</td><td class=\"muted\">" << esc(p.part.source) << "</td></tr>";
    out << "</tbody></table><p class=\"note\">Allocated linearly by time (" << esc(format_seconds(e.duration_s))
        << " of the lifetime) and by the command's share of the machine's energy. The range is greenrun's judgement of the "
           "method's uncertainty.</p>";
  }
  if (r.sci) {
    const SciReport& s = *r.sci;
    out << "<p><strong>Software Carbon Intensity</strong> (ISO/IEC 21031:2024): <strong>"
        << figure("sci.sci_g_per_unit", s.per_unit_g, format_mass_g(s.per_unit_g) + " CO2e per functional unit")
        << "</strong></p><div class=\"formula\">SCI = (E &#215; I + M) / R = (" << esc(significant(s.e_kwh, 3))
        << " kWh &#215; " << esc(significant(s.i_g_per_kwh)) << " g/kWh + " << esc(format_mass_g(s.m_g)) << ") / "
        << esc(count_text(s.unit.count) + " " + s.unit.name) << "</div><p class=\"note\">E: the energy at the meter "
        << "(x PUE); I: the grid's average intensity; E x I = " << esc(format_mass_g(s.o_g)) << "; M: the embodied share"
        << (s.m_included ? "" : " (0 with --no-embodied: not an SCI score by the standard's definition)")
        << "; R: the functional units (--functional-unit).</p>";
  }
  if (r.water) {
    const WaterReport& w = *r.water;
    out << "<p><strong>Water</strong>: ";
    if (w.liters)
      out << figure("water.liters", *w.liters, format_volume_l(*w.liters)) << " = " << esc(format_energy(w.energy_kwh * 3.6e6))
          << " of IT energy x WUE " << esc(significant(*w.wue_l_per_kwh)) << " L/kWh (" << esc(w.source)
          << "), water used on site for cooling.";
    else out << esc(w.source) << ".";
    out << "</p>";
  }
  out << "</section>\n";
}

void phases_table(const RunReport& r, std::ostringstream& out) {
  if (r.phases.empty()) return;
  out << "<section id=\"phases\"><h2>Phases</h2><table><thead><tr><th>phase</th><th class=\"n\">start</th>"
         "<th class=\"n\">duration</th><th class=\"n\">energy</th><th class=\"n\">emissions</th><th class=\"n\">per unit</th>"
         "</tr></thead><tbody>";
  for (const auto* p : shown_phases(r)) {
    std::string per = "-";
    if (!p->units.empty() && p->units[0].energy_j_per_unit)
      per = format_energy(*p->units[0].energy_j_per_unit) + " per " + singular_unit(p->units[0].unit);
    out << "<tr><td>" << esc(p->name) << "</td><td class=\"n\">" << esc(format_seconds(p->start_s)) << "</td><td class=\"n\">"
        << esc(format_seconds(p->end_s - p->start_s)) << "</td><td class=\"n\">" << esc(format_energy(p->energy_j))
        << "</td><td class=\"n\">" << esc(p->emissions_g ? format_mass_g(*p->emissions_g) : "-") << "</td><td class=\"n\">"
        << esc(per) << "</td></tr>";
  }
  out << "</tbody></table>";
  if (r.phases.size() > kMaxPhases)
    out << "<p class=\"note\">The " << kMaxPhases << " largest of " << r.phases.size()
        << " phases; every one is in the JSON report.</p>";
  out << "</section>\n";
}

void unused(const RunReport& r, std::ostringstream& out) {
  std::vector<const Finding*> shown;
  for (const auto& f : r.findings)
    if (!f.used() && f.disposition != Disposition::Covered && !f.reason.empty()) shown.push_back(&f);
  if (shown.empty()) return;
  out << "<section id=\"unused\"><h2>Sources not used, and how to enable them</h2><table><thead><tr><th>source</th>"
         "<th>what</th><th>why</th><th>to measure it</th></tr></thead><tbody>";
  for (const auto* f : shown)
    out << "<tr><td>" << esc(f->source) << "</td><td>" << esc(f->what) << "</td><td>" << esc(f->reason) << "</td><td>"
        << (f->fix.empty() ? "" : "<code>" + esc(f->fix) + "</code>") << "</td></tr>";
  out << "</tbody></table></section>\n";
}

void methods(const RunReport& r, std::ostringstream& out) {
  out << "<section id=\"methods\"><h2>Methods and sources</h2><ul>";
  for (const auto& c : r.components)
    out << "<li><strong>" << esc(c.name) << "</strong>: "
        << esc(c.measured ? "measured by " + c.source : "estimated: " + c.method) << "</li>";
  if (r.carbon) {
    const Location& l = r.carbon->settings.location;
    out << "<li><strong>grid</strong>: " << esc(l.name) << (l.zone.empty() ? "" : " (" + esc(l.zone) + ")") << ", "
        << esc(significant(r.carbon->intensity_g_per_kwh)) << " g/kWh " << esc(factor_name(l.factor)) << ", " << esc(l.source)
        << (l.year ? ", " + std::to_string(l.year) : "") << (l.how.empty() ? "" : "; " + esc(l.how))
        << (l.note.empty() ? "" : "; " + esc(l.note)) << "</li>";
    out << "<li><strong>PUE</strong>: " << esc(significant(r.carbon->settings.pue, 3)) << " ("
        << esc(r.carbon->settings.pue_source) << ")</li>";
    out << "<li><strong>emissions</strong>: each timeline record's energy x PUE x the intensity over its span, summed</li>";
  }
  if (!r.instance_type.empty()) out << "<li><strong>instance</strong>: " << esc(r.instance_type) << "</li>";
  if (r.embodied)
    for (const auto& p : r.embodied->parts)
      out << "<li><strong>embodied, " << esc(p.part.what) << "</strong>: " << esc(p.part.source) << "</li>";
  for (const auto& n : r.notes) out << "<li><strong>note</strong>: " << esc(n) << "</li>";
  for (const auto& v : r.verdicts) out << "<li><strong>budget</strong>: " << esc(v) << "</li>";
  out << "<li><strong>CPU time</strong>: " << esc(format_seconds(r.user_s + r.system_s)) << "; peak memory "
      << esc(format_bytes(static_cast<double>(r.peak_rss_bytes))) << "; greenrun's own CPU time "
      << esc(format_seconds(r.greenrun_cpu_s)) << " (/proc, getrusage)</li>";
  out << "</ul><p class=\"note\">Grid data: Electricity Maps (ODbL 1.0), Ember (CC BY 4.0), Cloud Carbon Footprint and "
         "Google Cloud (Apache-2.0); hardware data: CodeCarbon (MIT), nf-co2footprint (Apache-2.0), Green Algorithms "
         "(CC BY 4.0), Teads via Cloud Carbon Footprint, Boavizta. See <code>man greenrun</code> and "
         "share/greenrun/*/ATTRIBUTION.md.</p></section>\n";
}

/// The page's head: nothing may be fetched (default-src 'none'), only the inline style applies.
void head(const std::string& title, std::ostringstream& out) {
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"color-scheme\" content=\"light dark\">\n<title>"
      << esc(title) << "</title>\n<style>" << kStyle << "</style></head>\n<body>\n";
}

}  // namespace

std::string format_merged_html(const MergedReport& m) {
  std::ostringstream out;
  head("greenrun: " + std::to_string(m.runs.size()) + " reports", out);
  out << "<header><h1>greenrun: " << m.runs.size() << " reports</h1><div class=\"cards\">"
      << card("energy", figure("total.energy_j", m.energy_j, format_energy(m.energy_j)), m.energy_kind)
      << card("emissions", figure("total.emissions_g", m.emissions_g, format_mass_g(m.emissions_g) + " CO2e"),
              m.emissions_complete ? "every report" : "some reports have none")
      << card("duration", figure("total.duration_s", m.duration_s, format_seconds(m.duration_s)), "added up")
      << "</div></header>\n";
  std::vector<Bar> bars;
  for (const auto& r : m.runs)
    bars.push_back({r.name, r.energy_j ? format_energy(*r.energy_j) : "not measured", r.energy_j.value_or(0), false});
  out << "<section id=\"reports\"><h2>Energy per report</h2>" << svg_bar_chart("reports-chart", "energy per report", bars)
      << "<table><thead><tr><th>report</th><th>command</th><th class=\"n\">energy</th><th class=\"n\">emissions</th>"
         "<th class=\"n\">duration</th><th>host</th></tr></thead><tbody>";
  for (const auto& r : m.runs)
    out << "<tr><td>" << esc(r.name) << "</td><td><code>" << esc(command_line(r.command)) << "</code></td><td class=\"n\">"
        << esc(r.energy_j ? format_energy(*r.energy_j) + " " + r.energy_kind : "not measured") << "</td><td class=\"n\">"
        << esc(r.emissions_g ? format_mass_g(*r.emissions_g) : "-") << "</td><td class=\"n\">"
        << esc(format_seconds(r.duration_s)) << "</td><td>" << esc(r.host) << "</td></tr>";
  out << "</tbody></table></section>\n";
  if (!m.repeated.empty()) {
    out << "<section id=\"repeated\"><h2>Repeated commands</h2><table><thead><tr><th>command</th><th class=\"n\">runs</th>"
           "<th class=\"n\">energy mean</th><th class=\"n\">sd</th><th class=\"n\">min</th><th class=\"n\">max</th>"
           "<th class=\"n\">duration mean</th></tr></thead><tbody>";
    for (const auto& c : m.repeated) {
      // As in the Markdown: every run counted, the energy over those with a figure ("-" when none).
      auto e = [&](double v) { return esc(c.energy_j.n ? format_energy(v) : std::string("-")); };
      out << "<tr><td><code>" << esc(command_line(c.command)) << "</code></td><td class=\"n\">" << c.duration_s.n
          << "</td><td class=\"n\">" << e(c.energy_j.mean) << "</td><td class=\"n\">" << e(c.energy_j.stddev)
          << "</td><td class=\"n\">" << e(c.energy_j.min) << "</td><td class=\"n\">" << e(c.energy_j.max)
          << "</td><td class=\"n\">" << esc(format_seconds(c.duration_s.mean)) << "</td></tr>";
    }
    out << "</tbody></table></section>\n";
  }
  for (const auto& n : m.notes) out << "<p class=\"note\">" << esc(n) << "</p>";
  out << "<footer>Rendered by greenrun " << kVersion << ". <code>greenrun report FILE --html</code> renders one report's "
      << "full page with its charts.</footer>\n</body></html>\n";
  return out.str();
}

std::string format_html(const RunReport& r) {
  std::ostringstream out;
  head("greenrun: " + command_line(r.command), out);
  header(r, out);
  components(r, out);
  power_chart(r, out);
  cumulative_chart(r, out);
  elsewhere(r, out);
  equivalents(r, out);
  footprint(r, out);
  phases_table(r, out);
  unused(r, out);
  methods(r, out);
  out << "<footer>Rendered by greenrun " << kVersion << " from " << esc(r.status == "running" ? "a checkpoint" : "the final report")
      << ". Hover over a chart for its totals.</footer>\n</body></html>\n";
  return out.str();
}

}  // namespace greenrun
