#include "carbon/carbon.h"

#include <algorithm>
#include <set>

#include "carbon/carbon_options.h"
#include "util/fs.h"
#include "util/units.h"

namespace greenrun {

namespace {

std::optional<double> zone_figure(const Zone& z, Factor f) {
  return f == Factor::Lifecycle ? z.lifecycle_g_per_kwh : z.direct_g_per_kwh;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item(trim(std::string_view(s).substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<CarbonSettings> resolve_carbon_settings(const GridOptions& o, const CarbonData& data, const EnvLookup& env,
                                               const std::string& zoneinfo_dir) {
  using R = Result<CarbonSettings>;
  CarbonSettings s;
  s.factor = o.emission_factor;
  if (!o.cloud.empty()) {
    auto loc = resolve_cloud(data, o.cloud, s.factor);
    if (!loc) return R::fail(loc.error());
    s.location = *loc;
    s.location.how = "--cloud " + o.cloud;
    if (const PueDefault* p = data.pue_for(loc->cloud_provider)) {
      s.pue = p->pue;
      s.pue_source = loc->cloud_provider + " default, " + p->source;
    }
  }
  if (!o.region.empty()) {
    auto loc = resolve_region(data, o.region, s.factor);
    if (!loc) return R::fail("--region " + o.region + ": " + loc.error());
    std::string provider = s.location.cloud_provider, region = s.location.cloud_region;
    s.location = *loc;
    s.location.cloud_provider = provider;
    s.location.cloud_region = region;
    s.location.how = "--region " + o.region;
  }
  if (o.cloud.empty() && o.region.empty())
    s.location = guess_location(data, system_time_zone(env("TZ")), zoneinfo_dir, s.factor);
  if (o.pue) {
    s.pue = *o.pue;
    s.pue_source = "--pue";
  }
  if (o.intensity) {
    s.intensity_override = *o.intensity;
    s.location.g_per_kwh = *o.intensity;
    s.location.source = "--intensity";
    s.location.factor = s.factor;
    s.location.note.clear();
  }
  if (!o.intensity_file.empty()) {
    auto profile = load_intensity_file(o.intensity_file);
    if (!profile) return R::fail(profile.error());
    s.profile = *profile;
    s.intensity_file = o.intensity_file;
    s.location.source = "--intensity-file " + o.intensity_file;
    s.location.factor = s.factor;
    s.location.note.clear();
  } else {
    s.profile = IntensityProfile::constant(s.location.g_per_kwh, o.intensity ? Basis::Given : Basis::Yearly);
  }
  if (o.compare == "none") {
    s.show_comparisons = false;
  } else {
    for (const auto& item : split_list(o.compare.empty() ? kDefaultCompare : o.compare)) {
      auto loc = item.find(':') != std::string::npos ? resolve_cloud(data, item, s.factor)
                                                     : resolve_region(data, item, s.factor);
      if (!loc) return R::fail("--compare: " + loc.error());
      s.compare.push_back(*loc);
    }
  }
  return s;
}

std::vector<RecordCarbon> record_emissions(const Timeline& timeline, std::chrono::system_clock::time_point origin,
                                           const IntensityProfile& profile, double pue, bool machine) {
  using std::chrono::duration;
  using std::chrono::system_clock;
  std::vector<RecordCarbon> out;
  out.reserve(timeline.size());
  for (size_t i = 0; i < timeline.size(); ++i) {
    const auto& rec = timeline.record(i);
    auto at = [&](double offset_s) {
      return origin + std::chrono::duration_cast<system_clock::duration>(duration<double>(offset_s));
    };
    RecordCarbon c;
    c.intensity_g_per_kwh = profile.average(at(rec.start_s), at(rec.end_s));
    const BasisSeconds cover = profile.coverage(at(rec.start_s), at(rec.end_s));
    c.basis = rec.end_s > rec.start_s
                  ? static_cast<Basis>(std::max_element(cover.begin(), cover.end()) - cover.begin())
                  : profile.basis_at(at(rec.start_s));
    // g = J / 3.6e6 J/kWh x PUE x g/kWh
    const double g_per_j = pue * c.intensity_g_per_kwh / 3.6e6;
    c.emissions_g = timeline.energy_j(i, machine) * g_per_j;
    c.machine_emissions_g = timeline.energy_j(i, true) * g_per_j;
    out.push_back(c);
  }
  return out;
}

namespace {

// The run's intensity: the data's own figure when every record had the same
// (no float noise), else the energy-weighted average to six digits.
double run_intensity(const std::vector<RecordCarbon>& records, double energy_j, double grams_before_pue,
                     const IntensityProfile& profile, std::chrono::system_clock::time_point started,
                     std::chrono::system_clock::time_point ended) {
  if (energy_j <= 0 || records.empty()) return profile.average(started, ended);
  const double first = records.front().intensity_g_per_kwh;
  if (std::all_of(records.begin(), records.end(), [&](auto& r) { return r.intensity_g_per_kwh == first; })) return first;
  const double weighted = grams_before_pue / (energy_j / 3.6e6);
  return std::stod(significant(weighted, 6));
}

}  // namespace

double projected_emissions_g(const CarbonSettings& settings, double so_far_g, double remaining_j,
                             std::chrono::system_clock::time_point from, std::chrono::system_clock::time_point to) {
  const double g_per_kwh = settings.profile.average(from, std::max(to, from + std::chrono::seconds(1)));
  return so_far_g + std::max(0.0, remaining_j) / 3.6e6 * settings.pue * g_per_kwh;
}

CarbonReport build_carbon_report(const CarbonData& data, const CarbonSettings& settings, const Timeline& timeline,
                                 std::chrono::system_clock::time_point origin, bool machine,
                                 std::chrono::system_clock::time_point started,
                                 std::chrono::system_clock::time_point ended) {
  CarbonReport r;
  r.settings = settings;
  r.records = record_emissions(timeline, origin, settings.profile, settings.pue, machine);
  for (size_t i = 0; i < timeline.size(); ++i) {
    const auto span = [&](double s) {
      return origin + std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(s));
    };
    const BasisSeconds cover = settings.profile.coverage(span(timeline.record(i).start_s), span(timeline.record(i).end_s));
    for (size_t b = 0; b < kBases; ++b) r.seconds_by_basis[b] += cover[b];
  }
  double energy_j = 0;
  for (size_t i = 0; i < timeline.size(); ++i) energy_j += timeline.energy_j(i, machine);
  for (const auto& c : r.records) {
    r.emissions_g += c.emissions_g;
    r.machine_emissions_g += c.machine_emissions_g;
  }
  r.energy_kwh = energy_j / 3.6e6;
  r.intensity_g_per_kwh = run_intensity(r.records, energy_j, r.emissions_g / settings.pue, settings.profile, started, ended);
  if (!settings.intensity_file.empty()) r.seconds_outside_file = settings.profile.seconds_outside(started, ended);

  const Factor f = settings.location.factor;  // compare like with like
  const double kwh_at_meter = r.energy_kwh * settings.pue;
  std::vector<Comparison> rows;
  std::set<std::string> ids;
  auto add = [&](const std::string& id, const std::string& name, double g, const std::string& why) {
    if (!ids.insert(id).second) return;
    rows.push_back({id, name, g, kwh_at_meter * g, why});
  };
  const Location& here = settings.location;
  add(here.zone.empty() ? here.id : here.zone, here.name, r.intensity_g_per_kwh, "here");
  if (settings.show_comparisons) {
    std::vector<const Zone*> zones;
    for (const auto& z : data.zones)
      if (z.id != "GLOBAL" && zone_figure(z, f)) zones.push_back(&z);
    std::sort(zones.begin(), zones.end(),
              [&](const Zone* a, const Zone* b) { return *zone_figure(*a, f) < *zone_figure(*b, f); });
    for (size_t i = 0; i < 2 && i < zones.size(); ++i) add(zones[i]->id, zones[i]->name, *zone_figure(*zones[i], f), "cleanest");
    for (size_t i = 0; i < 2 && i < zones.size(); ++i) {
      const Zone* z = zones[zones.size() - 1 - i];
      add(z->id, z->name, *zone_figure(*z, f), "dirtiest");
    }
    if (const Zone* g = data.zone("GLOBAL"); g && zone_figure(*g, f)) add("GLOBAL", "world average", *zone_figure(*g, f), "world");
    for (const auto& loc : settings.compare)
      if (loc.factor == f) add(loc.zone.empty() ? loc.id : loc.zone, loc.name, loc.g_per_kwh, "chosen");
    if (!here.cloud_provider.empty()) {
      for (const auto& cr : data.cloud) {
        if (cr.provider != here.cloud_provider) continue;
        auto loc = resolve_cloud(data, cr.provider + ":" + cr.region, f);
        if (loc && loc->factor == f) add(loc->id, loc->name, loc->g_per_kwh, "cloud");
      }
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Comparison& a, const Comparison& b) { return a.g_per_kwh < b.g_per_kwh; });
  r.comparisons = std::move(rows);
  for (const auto& e : data.equivalents)
    r.equivalents.push_back({e.id, e.label, e.unit, e.source, e.g_per_unit > 0 ? r.emissions_g / e.g_per_unit : 0});
  return r;
}

std::string comparison_caveat(const CarbonReport& c) {
  const auto& live = c.settings.live;
  const double live_s = c.seconds_by_basis[static_cast<size_t>(Basis::Live)] +
                        c.seconds_by_basis[static_cast<size_t>(Basis::Estimated)] +
                        c.seconds_by_basis[static_cast<size_t>(Basis::Forecast)];
  if (!live || live_s <= 0 || live->provider == "file") return "";
  const std::string yearly = factor_name(c.settings.location.factor) + " yearly averages";
  if (live->signal == "marginal")
    return "this run was priced with marginal figures (" + live->provider + ", " + factor_name(live->factor) +
           "); the comparisons are " + yearly + ": not like for like";
  if (live->factor != c.settings.location.factor)
    return "this run was priced with " + factor_name(live->factor) + " figures (" + live->provider +
           "); the comparisons are " + yearly + ": not like for like";
  return "";
}

}  // namespace greenrun
