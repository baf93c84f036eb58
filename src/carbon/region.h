#pragma once
// Where a run's electricity comes from: resolving --region / --cloud / the
// time zone to a grid intensity, with the source and how it was chosen.

#include <optional>
#include <string>
#include <vector>

#include "carbon/carbon_data.h"
#include "carbon/factor.h"
#include "util/result.h"

namespace greenrun {

std::string factor_name(Factor f);  // "life-cycle", "direct"

struct Location {
  std::string id;    // zone id, country code, or provider:region
  std::string name;  // France, New South Wales, aws:us-east-1 (US-MIDA-PJM)
  std::string zone;  // Electricity Maps zone for comparisons ("" if none)
  double g_per_kwh = 0;
  Factor factor = Factor::Lifecycle;  // of the figure actually used
  int year = 0;
  std::string source;
  std::string how;       // "--region", "guessed from the time zone Europe/Paris", ...
  bool guessed = false;
  std::string note;      // e.g. the factor asked for was not available
  std::string country_iso2;
  std::string cloud_provider, cloud_region;
};

/// A zone id, ISO 3166 alpha-2 or alpha-3 code, or a country or zone name,
/// case- and accent-insensitive. Unknown: an error with the closest matches.
Result<Location> resolve_region(const CarbonData& data, const std::string& query, Factor factor);

/// "aws:us-east-1", "gcp:europe-west9", "azure:westeurope".
Result<Location> resolve_cloud(const CarbonData& data, const std::string& spec, Factor factor);

/// The world average (zone GLOBAL).
Location world_average(const CarbonData& data, Factor factor);

/// Lower-case ASCII with Latin accents removed and runs of ' ', '-', '_' as one space.
std::string fold_name(const std::string& s);

/// Up to `n` candidates close to `query`: names containing it first, then by edit distance.
std::vector<std::string> closest_regions(const CarbonData& data, const std::string& query, size_t n = 3);

/// The system time zone name: $TZ (":Europe/Paris", "Europe/Paris", or a path
/// under zoneinfo), else <etc>/timezone, else the target of <etc>/localtime.
/// "" when none can be told (a POSIX TZ string such as "CET-1CEST").
std::string system_time_zone(const std::optional<std::string>& tz_env, const std::string& etc_dir = "/etc");

/// The ISO 3166 country of a tz database zone, from tzdata's zone.tab (one
/// country per zone) then zone1970.tab (first listed); links in the zoneinfo
/// directory (Europe/Kiev -> Europe/Kyiv) are followed. "" when unmapped (UTC).
std::string country_of_time_zone(const std::string& tz, const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

/// The location to use when nothing was set: the time zone's country, or the
/// world average; `how` says which and how to set it.
Location guess_location(const CarbonData& data, const std::string& tz, const std::string& zoneinfo_dir, Factor factor);

}  // namespace greenrun
