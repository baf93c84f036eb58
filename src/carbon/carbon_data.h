#pragma once
// The curated grid data in share/intensity (see tools/curate-data and
// share/intensity/ATTRIBUTION.md): zones, countries, cloud regions, PUE and
// equivalence factors.

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbon/factor.h"
#include "util/data_dir.h"
#include "util/result.h"

namespace greenrun {

struct Zone {
  std::string id;            // Electricity Maps zone: FR, US-CAL-CISO, SE-SE3, GLOBAL
  std::string name;          // France, New South Wales
  std::string country_name;  // as Electricity Maps names it
  std::string country;       // ISO 3166 alpha-2 of the zone's country ("" for GLOBAL)
  std::optional<double> lifecycle_g_per_kwh, direct_g_per_kwh;
  int year = 0;
  std::string_view source;  // interned in CarbonData::strings
};

struct Country {
  std::string iso2, iso3, name;
  std::string zone;  // Electricity Maps zone with the country's figures, or "" (Ember figure)
  std::optional<double> lifecycle_g_per_kwh, direct_g_per_kwh;
  int year = 0;
  std::string_view source;  // interned
  std::vector<std::string> aliases;
};

struct CloudRegion {
  std::string provider, region, zone, location;
  std::optional<double> google_direct_g_per_kwh, google_cfe;
  std::string_view note, source;  // interned
};

struct PueDefault {
  std::string provider;
  double pue = 1.0;
  std::string source;
};

struct EquivalentFactor {
  std::string id, label, unit, source;
  double g_per_unit = 0;
};

struct CarbonData {
  std::string dir;
  std::vector<Zone> zones;
  std::vector<Country> countries;
  std::vector<CloudRegion> cloud;
  std::vector<PueDefault> pue;
  std::vector<EquivalentFactor> equivalents;
  std::vector<size_t> zone_index;  // zones sorted by id, for zone()
  /// The few distinct source and note texts, shared by every row that cites
  /// them (and by copies of this CarbonData).
  std::shared_ptr<std::deque<std::string>> strings = std::make_shared<std::deque<std::string>>();
  std::string_view intern(std::string_view s);

  const Zone* zone(const std::string& id) const;
  const Country* country_by_code(const std::string& code) const;  // alpha-2 or alpha-3, any case
  const PueDefault* pue_for(const std::string& provider) const;
};

/// Loads and checks every file; an error names the file, the line and the
/// problem (and that the data directory can be set with GREENRUN_DATA_DIR).
Result<CarbonData> load_carbon_data(const std::string& dir);

/// Checks the loaded data for what tests and users rely on: units and ranges,
/// unique ids, every cloud region resolved or explained. Empty when sound.
std::vector<std::string> validate_carbon_data(const CarbonData& data);

}  // namespace greenrun
