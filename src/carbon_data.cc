#include "carbon_data.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <set>

#include "csv.h"
#include "fs.h"

#ifndef GREENRUN_SOURCE_SHARE_DIR
#define GREENRUN_SOURCE_SHARE_DIR ""
#endif

namespace greenrun {

namespace {

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string exe_dir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/'));
}

// Reads one CSV file of the data set with the columns it must have.
struct Loader {
  std::string dir;
  std::string error;

  std::optional<CsvTable> table(const std::string& file, const std::vector<std::string>& columns) {
    std::string path = dir + "/intensity/" + file;
    auto text = read_file(path);
    if (!text) {
      error = "cannot read " + path + "; reinstall greenrun or set GREENRUN_DATA_DIR to its share directory";
      return std::nullopt;
    }
    auto t = parse_csv(*text, path);
    if (!t) {
      error = t.error();
      return std::nullopt;
    }
    for (const auto& c : columns) {
      if (t->column(c) < 0) {
        error = path + ": missing column " + c;
        return std::nullopt;
      }
    }
    return std::move(*t);
  }

  // A number field: empty -> nullopt; garbage -> error naming file and line.
  std::optional<double> number(const CsvTable& t, size_t row, const char* col, const char* file) {
    const std::string& v = t.rows[row][static_cast<size_t>(t.column(col))];
    if (v.empty()) return std::nullopt;
    auto d = parse_double(v);
    if (!d)
      error = dir + "/intensity/" + file + " line " + std::to_string(t.lines[row]) + ": " + col + " '" + v +
              "' is not a number";
    return d;
  }
};

size_t col_of(const CsvTable& t, const char* name) { return static_cast<size_t>(t.column(name)); }

std::vector<std::string> split_bar(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t bar = s.find('|', start);
    std::string part = s.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
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

std::string find_data_dir(const EnvLookup& env) {
  std::vector<std::string> candidates;
  if (auto v = env("GREENRUN_DATA_DIR"); v && !v->empty()) return *v;
  if (auto dir = exe_dir(); !dir.empty()) {
    candidates.push_back(dir + "/../share/greenrun");
    candidates.push_back(dir + "/../../share");  // build/cli/greenrun in a source tree
  }
  if (*GREENRUN_SOURCE_SHARE_DIR) candidates.push_back(GREENRUN_SOURCE_SHARE_DIR);
  for (const auto& c : candidates) {
    if (!path_exists(c + "/intensity/zones.csv")) continue;
    char buf[PATH_MAX];
    return ::realpath(c.c_str(), buf) ? std::string(buf) : c;
  }
  return "";
}

Result<CarbonData> load_carbon_data(const std::string& dir) {
  using R = Result<CarbonData>;
  if (dir.empty())
    return R::fail("greenrun's data files (share/greenrun/intensity) were not found; set GREENRUN_DATA_DIR");
  CarbonData data;
  data.dir = dir;
  Loader L{dir, ""};

  auto zones = L.table("zones.csv", {"id", "name", "country_name", "country", "lifecycle_g_per_kwh",
                                     "direct_g_per_kwh", "year", "source"});
  if (!zones) return R::fail(L.error);
  {
    const size_t id = col_of(*zones, "id"), name = col_of(*zones, "name"), cname = col_of(*zones, "country_name"),
                 country = col_of(*zones, "country"), source = col_of(*zones, "source");
    data.zones.reserve(zones->rows.size());
    for (size_t i = 0; i < zones->rows.size(); ++i) {
      auto& r = zones->rows[i];
      Zone z{std::move(r[id]), std::move(r[name]), std::move(r[cname]), std::move(r[country]),
             L.number(*zones, i, "lifecycle_g_per_kwh", "zones.csv"), L.number(*zones, i, "direct_g_per_kwh", "zones.csv"),
             0, std::move(r[source])};
      z.year = static_cast<int>(L.number(*zones, i, "year", "zones.csv").value_or(0));
      if (!L.error.empty()) return R::fail(L.error);
      data.zones.push_back(std::move(z));
    }
  }

  auto countries = L.table("countries.csv", {"iso2", "iso3", "name", "zone", "lifecycle_g_per_kwh",
                                             "direct_g_per_kwh", "year", "source", "aliases"});
  if (!countries) return R::fail(L.error);
  {
    const size_t iso2 = col_of(*countries, "iso2"), iso3 = col_of(*countries, "iso3"), name = col_of(*countries, "name"),
                 zone = col_of(*countries, "zone"), source = col_of(*countries, "source"),
                 aliases = col_of(*countries, "aliases");
    data.countries.reserve(countries->rows.size());
    for (size_t i = 0; i < countries->rows.size(); ++i) {
      auto& r = countries->rows[i];
      Country c{std::move(r[iso2]), std::move(r[iso3]), std::move(r[name]), std::move(r[zone]),
                L.number(*countries, i, "lifecycle_g_per_kwh", "countries.csv"),
                L.number(*countries, i, "direct_g_per_kwh", "countries.csv"), 0, std::move(r[source]),
                split_bar(r[aliases])};
      c.year = static_cast<int>(L.number(*countries, i, "year", "countries.csv").value_or(0));
      if (!L.error.empty()) return R::fail(L.error);
      data.countries.push_back(std::move(c));
    }
  }

  auto cloud = L.table("cloud_regions.csv", {"provider", "region", "zone", "location", "google_direct_g_per_kwh",
                                             "google_cfe", "note", "source"});
  if (!cloud) return R::fail(L.error);
  {
    const size_t provider = col_of(*cloud, "provider"), region = col_of(*cloud, "region"), zone = col_of(*cloud, "zone"),
                 location = col_of(*cloud, "location"), note = col_of(*cloud, "note"), source = col_of(*cloud, "source");
    data.cloud.reserve(cloud->rows.size());
    for (size_t i = 0; i < cloud->rows.size(); ++i) {
      auto& r = cloud->rows[i];
      CloudRegion c{std::move(r[provider]), std::move(r[region]), std::move(r[zone]), std::move(r[location]),
                    L.number(*cloud, i, "google_direct_g_per_kwh", "cloud_regions.csv"),
                    L.number(*cloud, i, "google_cfe", "cloud_regions.csv"), std::move(r[note]), std::move(r[source])};
      if (!L.error.empty()) return R::fail(L.error);
      data.cloud.push_back(std::move(c));
    }
  }

  auto pue = L.table("pue.csv", {"provider", "pue", "source"});
  if (!pue) return R::fail(L.error);
  for (size_t i = 0; i < pue->rows.size(); ++i) {
    auto v = L.number(*pue, i, "pue", "pue.csv");
    if (!L.error.empty()) return R::fail(L.error);
    data.pue.push_back({pue->rows[i][static_cast<size_t>(pue->column("provider"))], v.value_or(1.0),
                        pue->rows[i][static_cast<size_t>(pue->column("source"))]});
  }

  auto eq = L.table("equivalents.csv", {"id", "label", "g_co2e_per_unit", "unit", "source"});
  if (!eq) return R::fail(L.error);
  for (size_t i = 0; i < eq->rows.size(); ++i) {
    const auto& r = eq->rows[i];
    auto col = [&](const char* c) { return r[static_cast<size_t>(eq->column(c))]; };
    auto g = L.number(*eq, i, "g_co2e_per_unit", "equivalents.csv");
    if (!L.error.empty()) return R::fail(L.error);
    data.equivalents.push_back({col("id"), col("label"), col("unit"), col("source"), g.value_or(0)});
  }

  data.zone_index.resize(data.zones.size());
  for (size_t i = 0; i < data.zones.size(); ++i) data.zone_index[i] = i;
  std::sort(data.zone_index.begin(), data.zone_index.end(),
            [&](size_t a, size_t b) { return data.zones[a].id < data.zones[b].id; });
  auto problems = validate_carbon_data(data);
  if (!problems.empty()) return R::fail("invalid data in " + dir + "/intensity: " + problems.front());
  return data;
}

std::vector<std::string> validate_carbon_data(const CarbonData& data) {
  std::vector<std::string> out;
  // Grid intensities on Earth lie between ~0 (hydro, nuclear) and ~1,200 g/kWh (lignite).
  auto intensity_ok = [](const std::optional<double>& v) { return !v || (*v >= 0 && *v <= 1500); };
  std::set<std::string> ids;
  for (const auto& z : data.zones) {
    if (z.id.empty()) out.push_back("a zone without an id");
    if (!ids.insert(z.id).second) out.push_back("zone " + z.id + " appears twice");
    if (!intensity_ok(z.lifecycle_g_per_kwh) || !intensity_ok(z.direct_g_per_kwh))
      out.push_back("zone " + z.id + ": intensity outside 0..1500 g/kWh");
    if (!z.lifecycle_g_per_kwh && !z.direct_g_per_kwh) out.push_back("zone " + z.id + " has no figure");
    if (z.year < 2015 || z.year > 2030) out.push_back("zone " + z.id + ": implausible year");
    if (z.source.empty()) out.push_back("zone " + z.id + " has no source");
  }
  if (!data.zone("GLOBAL")) out.push_back("no GLOBAL zone (the world average)");
  std::set<std::string> codes;
  for (const auto& c : data.countries) {
    if (c.iso2.size() != 2 || c.iso3.size() != 3) out.push_back("country " + c.name + ": bad ISO code");
    if (!codes.insert(c.iso2).second || !codes.insert(c.iso3).second) out.push_back("country " + c.iso2 + " twice");
    if (!c.zone.empty() && !data.zone(c.zone)) out.push_back("country " + c.iso2 + ": unknown zone " + c.zone);
    if (!intensity_ok(c.lifecycle_g_per_kwh) || !c.lifecycle_g_per_kwh)
      out.push_back("country " + c.iso2 + ": missing or out-of-range life-cycle figure");
    if (c.source.empty()) out.push_back("country " + c.iso2 + " has no source");
  }
  std::set<std::string> regions;
  for (const auto& r : data.cloud) {
    if (r.provider != "aws" && r.provider != "gcp" && r.provider != "azure")
      out.push_back("cloud region " + r.region + ": unknown provider " + r.provider);
    if (!regions.insert(r.provider + ":" + r.region).second)
      out.push_back("cloud region " + r.provider + ":" + r.region + " twice");
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
