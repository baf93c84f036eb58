#include "carbon/carbon_data.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <optional>
#include <utility>

#include "util/csv.h"
#include "util/privilege.h"
#include "util/fs.h"

#ifndef GREENRUN_SOURCE_SHARE_DIR
#define GREENRUN_SOURCE_SHARE_DIR ""
#endif

namespace greenrun {

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split_bar(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t bar = s.find('|', start);
    std::string part(s.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (!part.empty()) out.push_back(part);
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  return out;
}

}  // namespace

const Zone* CarbonData::zone(const std::string& id) const {
  std::string want = upper(id);
  if (zone_index.size() == zones.size()) {
    auto it = std::lower_bound(zone_index.begin(), zone_index.end(), want,
                               [&](size_t i, const std::string& key) { return zones[i].id < key; });
    return it != zone_index.end() && zones[*it].id == want ? &zones[*it] : nullptr;
  }
  for (const auto& z : zones)
    if (z.id == want) return &z;
  return nullptr;
}

const Country* CarbonData::country_by_code(const std::string& code) const {
  std::string want = upper(code);
  for (const auto& c : countries)
    if (c.iso2 == want || c.iso3 == want) return &c;
  return nullptr;
}

const PueDefault* CarbonData::pue_for(const std::string& provider) const {
  for (const auto& p : pue)
    if (p.provider == provider) return &p;
  return nullptr;
}

std::string_view CarbonData::intern(std::string_view s) {
  for (const auto& have : *strings)
    if (have == s) return have;
  return strings->emplace_back(s);  // a deque: earlier views stay valid
}

namespace {

// Each reader fills its part of `data` from one file of dir/intensity (`text`
// is the read buffer, reused) and returns the file's problem, if any.
Status read_zones(const std::string& dir, CarbonData& data, std::string& text) {
  DataRows z(dir + "/intensity/zones.csv", {"id", "name", "country_name", "country", "lifecycle_g_per_kwh", "direct_g_per_kwh", "year", "source"}, text);
  data.zones.reserve(400);
  while (z.next()) {
    Zone zone{z.str(0), z.str(1), z.str(2), z.str(3), z.number(4, "lifecycle_g_per_kwh"), z.number(5, "direct_g_per_kwh"),
              z.year(6, "year"), data.intern(z[7])};
    if (z.failed()) break;
    data.zones.push_back(std::move(zone));
  }
  return z.status();
}

Status read_countries(const std::string& dir, CarbonData& data, std::string& text) {
  DataRows c(dir + "/intensity/countries.csv", {"iso2", "iso3", "name", "zone", "lifecycle_g_per_kwh", "direct_g_per_kwh", "year", "source", "aliases"}, text);
  data.countries.reserve(256);
  while (c.next()) {
    Country country{c.str(0), c.str(1), c.str(2), c.str(3), c.number(4, "lifecycle_g_per_kwh"),
                    c.number(5, "direct_g_per_kwh"), c.year(6, "year"),
                    data.intern(c[7]), split_bar(c[8])};
    if (c.failed()) break;
    data.countries.push_back(std::move(country));
  }
  return c.status();
}

Status read_cloud_regions(const std::string& dir, CarbonData& data, std::string& text) {
  DataRows r(dir + "/intensity/cloud_regions.csv", {"provider", "region", "zone", "location", "google_direct_g_per_kwh", "google_cfe", "note", "source"}, text);
  data.cloud.reserve(160);
  while (r.next()) {
    CloudRegion region{r.str(0), r.str(1), r.str(2), r.str(3), r.number(4, "google_direct_g_per_kwh"),
                       r.number(5, "google_cfe"), data.intern(r[6]), data.intern(r[7])};
    if (r.failed()) break;
    data.cloud.push_back(std::move(region));
  }
  return r.status();
}

Status read_pue(const std::string& dir, CarbonData& data, std::string& text) {
  DataRows p(dir + "/intensity/pue.csv", {"provider", "pue", "source"}, text);
  while (p.next()) {
    auto v = p.number(1, "pue");
    if (p.failed()) break;
    data.pue.push_back({p.str(0), v.value_or(1.0), p.str(2)});
  }
  return p.status();
}

Status read_equivalents(const std::string& dir, CarbonData& data, std::string& text) {
  DataRows e(dir + "/intensity/equivalents.csv", {"id", "label", "g_co2e_per_unit", "unit", "source"}, text);
  while (e.next()) {
    auto g = e.number(2, "g_co2e_per_unit");
    if (e.failed()) break;
    data.equivalents.push_back({e.str(0), e.str(1), e.str(3), e.str(4), g.value_or(0)});
  }
  return e.status();
}

void index_zones(CarbonData& data) {
  data.zone_index.resize(data.zones.size());
  for (size_t i = 0; i < data.zones.size(); ++i) data.zone_index[i] = i;
  std::sort(data.zone_index.begin(), data.zone_index.end(),
            [&](size_t a, size_t b) { return data.zones[a].id < data.zones[b].id; });
}

}  // namespace

Result<CarbonData> load_carbon_data(const std::string& dir) {
  using R = Result<CarbonData>;
  if (dir.empty())
    return R::fail("greenrun's data files (share/greenrun/intensity) were not found; set GREENRUN_DATA_DIR");
  CarbonData data;
  data.dir = dir;
  std::string text;
  for (auto read : {read_zones, read_countries, read_cloud_regions, read_pue, read_equivalents})
    if (auto st = read(dir, data, text); !st) return R::fail(st.error());
  index_zones(data);
  auto problems = validate_carbon_data(data);
  if (!problems.empty()) return R::fail("invalid data in " + dir + "/intensity: " + problems.front());
  return data;
}

std::vector<std::string> validate_carbon_data(const CarbonData& data) {
  std::vector<std::string> out;
  // Grid intensities on Earth lie between ~0 (hydro, nuclear) and ~1,200 g/kWh (lignite).
  auto intensity_ok = [](const std::optional<double>& v) { return !v || (*v >= 0 && *v <= 1500); };
  // Duplicates are found by sorting views (this runs on every load: no sets).
  auto first_duplicate = [](std::vector<std::string_view> v) -> std::optional<std::string> {
    std::sort(v.begin(), v.end());
    auto it = std::adjacent_find(v.begin(), v.end());
    if (it == v.end()) return std::nullopt;
    return std::string(*it);
  };
  std::vector<std::string_view> keys;
  keys.reserve(data.zones.size());
  for (const auto& z : data.zones) keys.push_back(z.id);
  if (auto d = first_duplicate(keys)) out.push_back("zone " + *d + " appears twice");
  for (const auto& z : data.zones) {
    if (z.id.empty()) out.push_back("a zone without an id");
    if (!intensity_ok(z.lifecycle_g_per_kwh) || !intensity_ok(z.direct_g_per_kwh))
      out.push_back("zone " + z.id + ": intensity outside 0..1500 g/kWh");
    if (!z.lifecycle_g_per_kwh && !z.direct_g_per_kwh) out.push_back("zone " + z.id + " has no figure");
    if (z.year < 2015 || z.year > 2030) out.push_back("zone " + z.id + ": implausible year");
    if (z.source.empty()) out.push_back("zone " + z.id + " has no source");
  }
  if (!data.zone("GLOBAL")) out.push_back("no GLOBAL zone (the world average)");
  keys.clear();
  for (const auto& c : data.countries) keys.insert(keys.end(), {c.iso2, c.iso3});
  if (auto d = first_duplicate(keys)) out.push_back("country " + *d + " twice");
  for (const auto& c : data.countries) {
    if (c.iso2.size() != 2 || c.iso3.size() != 3) out.push_back("country " + c.name + ": bad ISO code");
    if (!c.zone.empty() && !data.zone(c.zone)) out.push_back("country " + c.iso2 + ": unknown zone " + c.zone);
    if (!intensity_ok(c.lifecycle_g_per_kwh) || !c.lifecycle_g_per_kwh)
      out.push_back("country " + c.iso2 + ": missing or out-of-range life-cycle figure");
    if (c.source.empty()) out.push_back("country " + c.iso2 + " has no source");
  }
  std::vector<std::pair<std::string_view, std::string_view>> regions;
  regions.reserve(data.cloud.size());
  for (const auto& r : data.cloud) regions.emplace_back(r.provider, r.region);
  std::sort(regions.begin(), regions.end());
  if (auto it = std::adjacent_find(regions.begin(), regions.end()); it != regions.end())
    out.push_back("cloud region " + std::string(it->first) + ":" + std::string(it->second) + " twice");
  for (const auto& r : data.cloud) {
    if (r.provider != "aws" && r.provider != "gcp" && r.provider != "azure")
      out.push_back("cloud region " + r.region + ": unknown provider " + r.provider);
    if (!r.zone.empty() && !data.zone(r.zone))
      out.push_back("cloud region " + r.provider + ":" + r.region + ": unknown zone " + r.zone);
    if (r.zone.empty() && r.note.empty())
      out.push_back("cloud region " + r.provider + ":" + r.region + " has no zone and no reason why");
    if (r.zone.empty() && !r.google_direct_g_per_kwh && r.provider == "gcp")
      out.push_back("cloud region gcp:" + r.region + " has no figure at all");
    if (!intensity_ok(r.google_direct_g_per_kwh)) out.push_back("cloud region " + r.region + ": intensity out of range");
  }
  for (const auto& p : data.pue)
    if (p.pue < 1.0 || p.pue > 3.0) out.push_back("PUE of " + p.provider + " outside 1..3");
  for (const auto& provider : {"aws", "gcp", "azure"})
    if (!data.pue_for(provider)) out.push_back(std::string("no default PUE for ") + provider);
  for (const auto& e : data.equivalents)
    if (e.g_per_unit <= 0 || e.source.empty()) out.push_back("equivalent " + e.id + ": no factor or no source");
  return out;
}

}  // namespace greenrun
