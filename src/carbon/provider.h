#pragma once
// Grid-intensity providers: Electricity Maps v3, WattTime v3, the UK Carbon
// Intensity API and a file. Each turns its provider's answer into steps of
// an IntensityProfile (gCO2e/kWh, with their basis: live or forecast), so
// that carbon.cc prices the run's timeline with them like any other profile.
// Nothing here runs unless the user selects a provider.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "carbon/factor.h"
#include "carbon/intensity.h"
#include "carbon/region.h"
#include "carbon/response_cache.h"
#include "util/env.h"
#include "util/http.h"
#include "util/redact.h"

namespace greenrun {

struct GridOptions;  // carbon/carbon_options.h

/// The grid-data provider chosen with --intensity-source, and how it answered.
struct LiveSource {
  std::string provider;            // electricitymaps, watttime, uk, file
  std::string location;            // DE, CAISO_NORTH, national, OX1
  std::string signal = "average";  // or "marginal" (WattTime's MOER)
  Factor factor = Factor::Lifecycle;
  std::string endpoint;            // the base URL (never a credential)
  bool answered = false;           // live or forecast data arrived
  std::string problem;             // why not, in one line
  std::vector<std::string> notes;  // what the answers said of themselves (estimated hours, warnings)
};

/// What a provider answered: steps, each holding for `period` unless the
/// next starts sooner.
struct IntensitySeries {
  std::vector<IntensityProfile::Step> steps;
  std::chrono::seconds period{3600};
  /// What the answer says of its own figures, one line each: hours the
  /// provider estimated, its warnings, a stale forecast.
  std::vector<std::string> notes;
};

/// What was asked of Electricity Maps: the answer must be for that zone and factor.
struct ElectricityMapsQuery {
  std::string zone;
  Factor factor = Factor::Lifecycle;
};

/// WattTime's unit: 1 lb/MWh = 453.592 g / 1000 kWh.
inline constexpr double kGramsPerKwhPerLbPerMwh = 0.453592;

/// Parsers for each provider's documented answers (pure; the tests feed them
/// the documented examples). `forecast` marks the steps of a forecast.
/// Electricity Maps: an hour with isEstimated is Basis::Estimated, with a note
/// naming its estimationMethod; with `asked`, an answer for another zone or
/// emissionFactorType is an error. WattTime: meta.warnings become notes, and
/// with `now` a forecast older than its own horizon (meta.generated_at) is noted.
Result<IntensitySeries> parse_electricitymaps(const nlohmann::json& j, const ElectricityMapsQuery* asked = nullptr);
Result<IntensitySeries> parse_watttime(const nlohmann::json& j, bool forecast,
                                       std::optional<std::chrono::system_clock::time_point> now = std::nullopt);
Result<IntensitySeries> parse_uk_carbon_intensity(const nlohmann::json& j);

/// Network or the cache only (a lookup at start-up must cost no request).
enum class FetchMode { CacheOnly, Network };

/// GET through the cache: a fresh cached answer, else the network; a 2xx
/// JSON answer is stored. Errors are one line naming the provider, with the
/// server's own message; every message built from an answer goes through
/// the one Redactor, which knows every form of the provider's credentials.
class Fetcher {
 public:
  Fetcher(std::string who, ResponseCache cache, HttpPolicy policy, Redactor redactor)
      : who_(std::move(who)), cache_(std::move(cache)), policy_(policy), redactor_(std::move(redactor)) {}
  std::optional<nlohmann::json> cached(const std::string& url, std::chrono::system_clock::time_point now) const;
  /// `status_out` gets the HTTP status (0 on a transport error). `store`:
  /// false for an answer that is a credential (a login's token).
  Result<nlohmann::json> fetch(const HttpRequest& req, std::chrono::system_clock::time_point now,
                               long* status_out = nullptr, bool store = true) const;
  Result<nlohmann::json> get(const HttpRequest& req, FetchMode mode, std::chrono::system_clock::time_point now) const;
  const std::string& who() const { return who_; }
  /// A token a login answered is a credential too.
  void add_secret(const std::string& s) { redactor_.add(s); }
  /// `r` with its error (built from an answer) redacted.
  template <class T>
  Result<T> clean(Result<T> r) const {
    return r ? std::move(r) : Result<T>::fail(redactor_(r.error()));
  }
  /// No request runs past `deadline` (after the command exits: one for all).
  void set_deadline(std::chrono::steady_clock::time_point deadline) { policy_.deadline = deadline; }

 private:
  std::string who_;
  ResponseCache cache_;
  HttpPolicy policy_;
  Redactor redactor_;
};

class IntensityProvider {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~IntensityProvider() = default;
  /// What its figures are: provider, location, signal, factor, endpoint.
  virtual const LiveSource& source() const = 0;
  /// The figure in force at `now`.
  virtual Result<IntensitySeries> latest(time_point now, FetchMode mode) = 0;
  /// From `now` over at least `horizon` where the provider has it.
  virtual Result<IntensitySeries> forecast(time_point now, std::chrono::hours horizon, FetchMode mode) = 0;
  /// What happened over [from, to].
  virtual Result<IntensitySeries> history(time_point from, time_point to, FetchMode mode) = 0;
  /// No request from now on runs past `deadline` (none while a request runs).
  virtual void set_deadline(std::chrono::steady_clock::time_point) {}
};

struct ProviderArgs;

/// One live grid-data provider: a new one is its class and parser in
/// provider.cc plus a row of provider_table().
struct ProviderEntry {
  const char* name;         // "watttime", as --intensity-source spells it
  const char* usage;        // "watttime:REGION", for help and errors
  const char* url_env;      // the variable that overrides its base URL (tests, proxies); nullptr for none
  const char* default_url;  // its public API
  std::vector<const char*> credentials;  // the variables it reads them from (config keys: secret_table())
  Result<std::unique_ptr<IntensityProvider>> (*make)(ProviderArgs&);
};

/// Every provider, in the order help and errors list them.
const std::vector<ProviderEntry>& provider_table();

/// The provider `spec` names (electricitymaps[:ZONE], watttime:REGION,
/// uk[:POSTCODE], file). `location` supplies Electricity Maps' zone when the
/// spec has none; `file` serves `file_profile` (--intensity-file). An unknown
/// name, a missing location, a base URL that is not https (or loopback http)
/// and a credential too short to redact are errors; missing credentials are
/// not (the provider answers with that problem, and the run falls back).
Result<std::unique_ptr<IntensityProvider>> make_provider(const std::string& spec, const Location& location,
                                                         Factor factor, const IntensityProfile* file_profile,
                                                         const GridOptions& o, const EnvLookup& env);

/// A credential a provider needs: its environment variable, else a config file's.
std::string credential(const GridOptions& o, const EnvLookup& env, const char* env_var);

/// The environment variables a provider reads (credentials, base URLs).
inline constexpr const char* kElectricityMapsTokenEnv = "GREENRUN_ELECTRICITYMAPS_TOKEN";
inline constexpr const char* kElectricityMapsUrlEnv = "GREENRUN_ELECTRICITYMAPS_URL";
inline constexpr const char* kWattTimeUserEnv = "GREENRUN_WATTTIME_USERNAME";
inline constexpr const char* kWattTimePasswordEnv = "GREENRUN_WATTTIME_PASSWORD";
inline constexpr const char* kWattTimeUrlEnv = "GREENRUN_WATTTIME_URL";
inline constexpr const char* kUkUrlEnv = "GREENRUN_UK_CARBON_INTENSITY_URL";

}  // namespace greenrun
