#include "carbon/provider.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "carbon/carbon_options.h"
#include "config/config_files.h"
#include "util/fs.h"
#include "util/units.h"
#include "util/url.h"

namespace greenrun {

namespace {

using json = nlohmann::json;
using time_point = std::chrono::system_clock::time_point;
using R = Result<IntensitySeries>;

/// Keeps steps sorted with one per timestamp (the last answer wins).
R finish_series(IntensitySeries s, const std::string& who) {
  if (s.steps.empty()) return R::fail(who + ": the answer holds no intensity figure");
  std::stable_sort(s.steps.begin(), s.steps.end(), [](auto& a, auto& b) { return a.from < b.from; });
  std::vector<IntensityProfile::Step> unique;
  for (const auto& st : s.steps) {
    if (!unique.empty() && unique.back().from == st.from) unique.back() = st;
    else unique.push_back(st);
  }
  s.steps = std::move(unique);
  return s;
}

/// A plausible figure: a number within what grids emit (a negative or huge
/// value is a unit or parsing problem, not a grid).
std::optional<double> figure(const json& v, double scale = 1.0) {
  if (!v.is_number()) return std::nullopt;
  const double g = v.get<double>() * scale;
  if (!(g >= 0 && g <= 3000)) return std::nullopt;
  return g;
}

std::chrono::seconds granularity(const json& j) {
  const std::string g = j.is_object() ? j.value("temporalGranularity", "") : "";
  if (g == "5_minutes") return std::chrono::minutes(5);
  if (g == "15_minutes") return std::chrono::minutes(15);
  return std::chrono::hours(1);
}

/// The UK API's "2018-01-20T12:00Z" has no seconds.
std::optional<time_point> uk_time(const json& v) {
  if (!v.is_string()) return std::nullopt;
  std::string s = v.get<std::string>();
  if (s.size() == 17 && (s[16] == 'Z' || s[16] == 'z')) s.insert(16, ":00");
  return parse_timestamp(s);
}

/// UTC "2024-05-01T13:00:00Z", or with `minutes_only` "2024-05-01T13:00Z" (the UK API's form).
std::string utc_text(time_point t, bool minutes_only = false) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, minutes_only ? "%Y-%m-%dT%H:%MZ" : "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

time_point floor_to(time_point t, std::chrono::seconds step) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch());
  return time_point(s - s % step);
}

/// The server's own words from an error body ({"error": "..."}, {"error":
/// {"message": ...}}, {"message": ...}), one short line without control characters.
std::string server_message(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  std::string msg;
  if (j.is_object()) {
    if (j.contains("error") && j["error"].is_string()) msg = j["error"].get<std::string>();
    else if (j.contains("error") && j["error"].is_object()) msg = j["error"].value("message", "");
    if (j.contains("message") && j["message"].is_string())
      msg += (msg.empty() ? "" : ": ") + j["message"].get<std::string>();
  }
  for (auto& c : msg)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return msg.size() > 160 ? msg.substr(0, 157) + "..." : msg;
}

std::string status_text(long status) {
  if (status == 401 || status == 403) return "HTTP " + std::to_string(status) + ": the credentials were refused";
  if (status == 404) return "HTTP 404: not found (check the zone or region)";
  if (status == 429) return "HTTP 429: rate limited";
  if (status >= 500) return "HTTP " + std::to_string(status) + ": the provider failed";
  return "HTTP " + std::to_string(status);
}

/// A short string field of a provider's answer, or "".
std::string text_of(const json& e, const char* key, size_t max = 64) {
  if (!e.is_object() || !e.contains(key) || !e[key].is_string()) return "";
  const std::string v = e[key].get<std::string>();
  return v.size() > max ? v.substr(0, max) + "..." : v;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

/// Why an Electricity Maps entry (or the whole answer) is not what was asked, or "".
std::string not_asked(const json& e, const ElectricityMapsQuery& q) {
  const std::string zone = text_of(e, "zone"), factor = text_of(e, "emissionFactorType");
  const std::string want = q.factor == Factor::Direct ? "direct" : "lifecycle";
  if (!zone.empty() && lower(zone) != lower(q.zone)) return "the answer is for zone " + zone + ", not " + q.zone + " as asked";
  if (!factor.empty() && lower(factor) != want) return "the answer's emissionFactorType is " + factor + ", not " + want + " as asked";
  return "";
}

/// "electricitymaps estimated 2 of 24 hours rather than measuring them
/// (TIME_SLICER_AVERAGE): priced as estimated, not live".
std::string estimated_note(size_t estimated, size_t hours, const std::vector<std::string>& methods) {
  std::string list;
  for (const auto& m : methods) list += (list.empty() ? "" : ", ") + m;
  const std::string what = hours == 1 ? "the hour" : std::to_string(estimated) + " of " + std::to_string(hours) + " hours";
  return "electricitymaps estimated " + what + " rather than measuring " + (estimated == 1 ? "it" : "them") +
         (list.empty() ? "" : " (" + list + ")") + ": priced as estimated, not live";
}

/// WattTime's meta.warnings ([{type, message}], or strings), one note each.
void warnings_of(const json& meta, std::vector<std::string>& notes) {
  if (!meta.is_object() || !meta.contains("warnings") || !meta["warnings"].is_array()) return;
  for (const auto& w : meta["warnings"]) {
    if (notes.size() >= 5) break;
    const std::string type = text_of(w, "type"), message = w.is_string() ? w.get<std::string>() : text_of(w, "message", 200);
    if (!message.empty() || !type.empty())
      notes.push_back("watttime warns" + (type.empty() ? "" : " (" + type + ")") + ": " + message.substr(0, 200));
  }
}

/// A forecast whose age (now - meta.generated_at) exceeds the span it covers.
void note_stale(const json& meta, const IntensitySeries& s, time_point now, std::vector<std::string>& notes) {
  auto made = parse_timestamp(text_of(meta, "generated_at"));
  if (!made || s.steps.empty()) return;
  auto [first, last] = std::minmax_element(s.steps.begin(), s.steps.end(), [](auto& a, auto& b) { return a.from < b.from; });
  const auto horizon = last->from + s.period - first->from;
  if (now - *made <= horizon) return;
  const auto hours = [](auto d) { return significant(std::chrono::duration<double>(d).count() / 3600, 3) + " h"; };
  notes.push_back("watttime: the forecast was generated at " + text_of(meta, "generated_at") + ", " + hours(now - *made) +
                  " ago, older than its " + hours(horizon) + " horizon");
}

}  // namespace

Result<IntensitySeries> parse_electricitymaps(const json& j, const ElectricityMapsQuery* asked) {
  const std::string who = "electricitymaps";
  if (!j.is_object()) return R::fail(who + ": the answer is not a JSON object");
  IntensitySeries s;
  s.period = granularity(j);
  std::string wrong = asked ? not_asked(j, *asked) : "";
  size_t hours = 0, estimated = 0;
  std::vector<std::string> methods;
  auto add = [&](const json& e, Basis basis) {
    if (!e.is_object() || !e.contains("datetime") || !e["datetime"].is_string()) return;
    if (asked && wrong.empty()) wrong = not_asked(e, *asked);
    auto t = parse_timestamp(e["datetime"].get<std::string>());
    auto g = figure(e.value("carbonIntensity", json()));
    if (!t || !g) return;  // null figures (no data for the hour) are skipped
    ++hours;
    if (basis == Basis::Live && e.contains("isEstimated") && e["isEstimated"] == true) {
      basis = Basis::Estimated;
      ++estimated;
      const std::string m = text_of(e, "estimationMethod");
      if (!m.empty() && std::find(methods.begin(), methods.end(), m) == methods.end() && methods.size() < 3) methods.push_back(m);
    }
    s.steps.push_back({*t, *g, basis});
  };
  if (j.contains("history") && j["history"].is_array()) {
    for (const auto& e : j["history"]) add(e, Basis::Live);
  } else if (j.contains("forecast") && j["forecast"].is_array()) {
    for (const auto& e : j["forecast"]) add(e, Basis::Forecast);
  } else if (j.contains("carbonIntensity")) {
    add(j, Basis::Live);
  } else {
    return R::fail(who + ": unexpected answer (no carbonIntensity, history or forecast)");
  }
  if (!wrong.empty()) return R::fail(who + ": " + wrong);
  if (estimated > 0) s.notes.push_back(estimated_note(estimated, hours, methods));
  return finish_series(std::move(s), who);
}

Result<IntensitySeries> parse_watttime(const json& j, bool forecast, std::optional<time_point> now) {
  const std::string who = "watttime";
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array())
    return R::fail(who + ": unexpected answer (no data array)");
  const json meta = j.value("meta", json::object());
  const std::string units = meta.is_object() ? meta.value("units", "") : "";
  if (units != "lbs_co2_per_mwh") return R::fail(who + ": units '" + units + "', expected lbs_co2_per_mwh");
  IntensitySeries s;
  if (meta.contains("data_point_period_seconds") && meta["data_point_period_seconds"].is_number_unsigned())
    s.period = std::chrono::seconds(std::clamp<uint64_t>(meta["data_point_period_seconds"].get<uint64_t>(), 1, 86400));
  else
    s.period = std::chrono::minutes(5);
  for (const auto& e : j["data"]) {
    if (!e.is_object() || !e.contains("point_time") || !e["point_time"].is_string()) continue;
    auto t = parse_timestamp(e["point_time"].get<std::string>());
    auto g = figure(e.value("value", json()), kGramsPerKwhPerLbPerMwh);
    if (t && g) s.steps.push_back({*t, *g, forecast ? Basis::Forecast : Basis::Live});
  }
  warnings_of(meta, s.notes);
  if (forecast && now) note_stale(meta, s, *now, s.notes);
  return finish_series(std::move(s), who);
}

Result<IntensitySeries> parse_uk_carbon_intensity(const json& j) {
  const std::string who = "uk";
  if (!j.is_object() || !j.contains("data")) return R::fail(who + ": unexpected answer (no data)");
  // National: data is the slots. Regional forecast: data is a region object
  // holding the slots; the regional current slot: an array of such objects.
  const json* slots = &j["data"];
  if (slots->is_object() && slots->contains("data")) slots = &(*slots)["data"];
  else if (slots->is_array() && !slots->empty() && (*slots)[0].is_object() && (*slots)[0].contains("data"))
    slots = &(*slots)[0]["data"];
  if (!slots->is_array()) return R::fail(who + ": unexpected answer (data is not a list of half-hours)");
  IntensitySeries s;
  s.period = std::chrono::minutes(30);
  for (const auto& e : *slots) {
    if (!e.is_object() || !e.contains("intensity") || !e["intensity"].is_object()) continue;
    auto from = uk_time(e.value("from", json())), to = uk_time(e.value("to", json()));
    const json& in = e["intensity"];
    auto actual = figure(in.value("actual", json())), forecast = figure(in.value("forecast", json()));
    if (!from || (!actual && !forecast)) continue;
    if (to && *to > *from) s.period = std::chrono::duration_cast<std::chrono::seconds>(*to - *from);
    s.steps.push_back({*from, actual ? *actual : *forecast, actual ? Basis::Live : Basis::Forecast});
  }
  return finish_series(std::move(s), who);
}

std::optional<json> Fetcher::cached(const std::string& url, time_point now) const {
  auto body = cache_.get(url, now);
  if (!body) return std::nullopt;
  json j = json::parse(*body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

Result<json> Fetcher::fetch(const HttpRequest& req, time_point now, long* status_out, bool store) const {
  using J = Result<json>;
  auto r = http_get(req, policy_);
  if (status_out) *status_out = r ? r->status : 0;
  if (!r) return J::fail(redactor_(who_ + ": " + r.error()));
  if (r->status < 200 || r->status >= 300) {
    const std::string said = server_message(r->body);
    return J::fail(redactor_(who_ + ": " + status_text(r->status) + (said.empty() ? "" : " (" + said + ")")));
  }
  std::string type = r->content_type;
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type.find("json") == std::string::npos)
    return J::fail(redactor_(who_ + ": the answer is " + (type.empty() ? "untyped" : type.substr(0, 60)) + ", not JSON"));
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return J::fail(who_ + ": the answer is not valid JSON (cut short?)");
  if (store) cache_.put(req.url, r->body, now);
  return j;
}

Result<json> Fetcher::get(const HttpRequest& req, FetchMode mode, time_point now) const {
  if (auto c = cached(req.url, now)) return *c;
  if (mode == FetchMode::CacheOnly) return Result<json>::fail(who_ + ": not cached");
  return fetch(req, now);
}

namespace {

/// Electricity Maps v3: `auth-token` header; /v3/carbon-intensity/latest,
/// /history (the last 24 hours), /forecast; gCO2eq/kWh, average, life-cycle
/// or direct by `emissionFactorType`.
class ElectricityMaps : public IntensityProvider {
 public:
  ElectricityMaps(LiveSource src, std::string token, Fetcher fetcher)
      : src_(std::move(src)), token_(std::move(token)), fetcher_(std::move(fetcher)) {}
  const LiveSource& source() const override { return src_; }
  R latest(time_point now, FetchMode mode) override { return call("latest", now, mode); }
  R forecast(time_point now, std::chrono::hours, FetchMode mode) override { return call("forecast", now, mode); }
  R history(time_point, time_point now, FetchMode mode) override { return call("history", now, mode); }
  void set_deadline(std::chrono::steady_clock::time_point t) override { fetcher_.set_deadline(t); }

 private:
  R call(const std::string& what, time_point now, FetchMode mode) {
    if (token_.empty()) return R::fail("electricitymaps: no token in " + std::string(kElectricityMapsTokenEnv) + " or electricitymaps-token in a config file");
    HttpRequest req;
    req.url = src_.endpoint + "/v3/carbon-intensity/" + what + "?zone=" + percent_encode(src_.location) +
              "&emissionFactorType=" + (src_.factor == Factor::Direct ? "direct" : "lifecycle");
    req.headers = {"auth-token: " + token_};
    auto j = fetcher_.get(req, mode, now);
    if (!j) return R::fail(j.error());
    const ElectricityMapsQuery asked{src_.location, src_.factor};
    return fetcher_.clean(parse_electricitymaps(*j, &asked));
  }

  LiveSource src_;
  std::string token_;
  Fetcher fetcher_;
};

/// WattTime v3: GET /login with HTTP basic auth gives a bearer token (valid
/// 30 minutes); /v3/forecast and /v3/historical with signal_type=co2_moer,
/// in lbs/MWh. A marginal signal.
class WattTime : public IntensityProvider {
 public:
  WattTime(LiveSource src, std::string user, std::string password, Fetcher fetcher)
      : src_(std::move(src)), user_(std::move(user)), password_(std::move(password)), fetcher_(std::move(fetcher)) {}
  const LiveSource& source() const override { return src_; }
  R latest(time_point now, FetchMode mode) override {
    auto r = forecast_hours(now, 1, mode);
    if (r && r->steps.size() > 1) r->steps.resize(1);  // the first point is the current five minutes
    return r;
  }
  R forecast(time_point now, std::chrono::hours horizon, FetchMode mode) override {
    return forecast_hours(now, std::clamp<long>(static_cast<long>(horizon.count()), 1, 72), mode);
  }
  R history(time_point from, time_point to, FetchMode mode) override {
    // Whole hours to whole five minutes: runs in the same hour share a cached answer.
    const std::string url = src_.endpoint + "/v3/historical?region=" + percent_encode(src_.location) +
                            "&start=" + utc_text(floor_to(from, std::chrono::hours(1))) +
                            "&end=" + utc_text(floor_to(to, std::chrono::minutes(5)) + std::chrono::minutes(5)) +
                            "&signal_type=co2_moer";
    return call(url, false, to, mode);
  }
  void set_deadline(std::chrono::steady_clock::time_point t) override { fetcher_.set_deadline(t); }

 private:
  R forecast_hours(time_point now, long hours, FetchMode mode) {
    return call(src_.endpoint + "/v3/forecast?region=" + percent_encode(src_.location) +
                    "&signal_type=co2_moer&horizon_hours=" + std::to_string(hours),
                true, now, mode);
  }

  R call(const std::string& url, bool is_forecast, time_point now, FetchMode mode) {
    if (auto c = fetcher_.cached(url, now)) return fetcher_.clean(parse_watttime(*c, is_forecast, now));
    if (mode == FetchMode::CacheOnly) return R::fail("watttime: not cached");
    if (user_.empty() || password_.empty())
      return R::fail("watttime: no credentials in " + std::string(kWattTimeUserEnv) + " and " + kWattTimePasswordEnv +
                     " (or watttime-username and watttime-password in a config file)");
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (token_.empty() || now - token_at_ > std::chrono::minutes(25))
        if (auto st = login(now); !st) return R::fail(st.error());
      HttpRequest req;
      req.url = url;
      req.headers = {"Authorization: Bearer " + token_};
      long status = 0;
      auto j = fetcher_.fetch(req, now, &status);
      if (j) return fetcher_.clean(parse_watttime(*j, is_forecast, now));
      if ((status != 401 && status != 403) || attempt == 1) return R::fail(j.error());
      token_.clear();  // expired: log in again once
    }
    return R::fail("watttime: unreachable");
  }

  Status login(time_point now) {
    HttpRequest req;
    req.url = src_.endpoint + "/login";
    req.basic_user = user_;
    req.basic_password = password_;
    auto j = fetcher_.fetch(req, now, nullptr, false);
    if (!j) return Status::fail(j.error());
    if (!j->is_object() || !j->contains("token") || !(*j)["token"].is_string())
      return Status::fail("watttime: the login answer has no token");
    token_ = (*j)["token"].get<std::string>();
    fetcher_.add_secret(token_);
    token_at_ = now;
    return {};
  }

  LiveSource src_;
  std::string user_, password_, token_;
  time_point token_at_{};
  Fetcher fetcher_;
};

/// The UK Carbon Intensity API (no key): national /intensity,
/// /intensity/{from}/fw48h, /intensity/{from}/{to}; by outward postcode
/// /regional/postcode/{pc}, /regional/intensity/{from}/fw48h/postcode/{pc},
/// /regional/intensity/{from}/{to}/postcode/{pc}. Half hours, gCO2/kWh.
class UkCarbonIntensity : public IntensityProvider {
 public:
  UkCarbonIntensity(LiveSource src, Fetcher fetcher) : src_(std::move(src)), fetcher_(std::move(fetcher)) {}
  const LiveSource& source() const override { return src_; }
  R latest(time_point now, FetchMode mode) override {
    return call(national() ? "/intensity" : "/regional/postcode/" + postcode(), now, mode);
  }
  R forecast(time_point now, std::chrono::hours, FetchMode mode) override {
    // As cats does: minute 01 or 31, so that the first slot is the current one.
    const time_point from = floor_to(now, std::chrono::minutes(30)) + std::chrono::minutes(1);
    const std::string span = "/intensity/" + utc_text(from, true) + "/fw48h";
    return call(national() ? span : "/regional" + span + "/postcode/" + postcode(), now, mode);
  }
  R history(time_point from, time_point to, FetchMode mode) override {
    const std::string span = "/intensity/" + utc_text(floor_to(from, std::chrono::minutes(30)), true) + "/" +
                             utc_text(floor_to(to, std::chrono::minutes(30)) + std::chrono::minutes(30), true);
    return call(national() ? span : "/regional" + span + "/postcode/" + postcode(), to, mode);
  }
  void set_deadline(std::chrono::steady_clock::time_point t) override { fetcher_.set_deadline(t); }

 private:
  bool national() const { return src_.location == "national"; }
  std::string postcode() const { return percent_encode(src_.location); }
  R call(const std::string& path, time_point now, FetchMode mode) {
    HttpRequest req;
    req.url = src_.endpoint + path;
    auto j = fetcher_.get(req, mode, now);
    if (!j) return R::fail(j.error());
    return fetcher_.clean(parse_uk_carbon_intensity(*j));
  }

  LiveSource src_;
  Fetcher fetcher_;
};

/// --intensity-file as a provider: its steps are history and forecast at once.
class FileProvider : public IntensityProvider {
 public:
  FileProvider(LiveSource src, IntensityProfile profile) : src_(std::move(src)), profile_(std::move(profile)) {}
  const LiveSource& source() const override { return src_; }
  R latest(time_point, FetchMode) override { return all(); }
  R forecast(time_point, std::chrono::hours, FetchMode) override { return all(); }
  R history(time_point, time_point, FetchMode) override { return all(); }

 private:
  R all() const {
    IntensitySeries s;
    s.steps = profile_.data();
    // The last value covers one more step length, as for the report's "outside the file".
    if (s.steps.size() > 1)
      s.period = std::chrono::duration_cast<std::chrono::seconds>(s.steps.back().from - s.steps[s.steps.size() - 2].from);
    return s;
  }
  LiveSource src_;
  IntensityProfile profile_;
};

std::string base_url(const EnvLookup& env, const char* var, const char* fallback) {
  auto v = env(var);
  return v && !v->empty() ? *v : fallback;
}

/// A token or password short enough to turn up inside ordinary words
/// ("te***t") is refused: it could not be kept out of messages.
Status check_length(const std::string& value, const char* env_var) {
  if (value.empty() || value.size() >= Redactor::kMinSecretLength) return {};
  std::string key = env_var;
  for (const auto& s : secret_table())
    if (key == s.env) key = s.key;
  return Status::fail(std::string(env_var) + " (or " + key + " in a config file) holds " + std::to_string(value.size()) +
                      " character" + (value.size() == 1 ? "" : "s") + ": a credential shorter than " +
                      std::to_string(Redactor::kMinSecretLength) + " cannot be kept out of messages; check the value");
}

}  // namespace

using Made = Result<std::unique_ptr<IntensityProvider>>;

std::string credential(const GridOptions& o, const EnvLookup& env, const char* env_var) {
  if (auto v = env(env_var); v && !v->empty()) return *v;
  auto it = o.credentials.find(env_var);
  return it == o.credentials.end() ? "" : it->second;
}

/// What a provider's row builds it from.
struct ProviderArgs {
  const ProviderEntry& entry;
  std::string where;  // after the colon: a zone, a region, a postcode
  const Location& location;
  LiveSource src;
  const IntensityProfile* file_profile;
  const GridOptions& o;
  const EnvLookup& env;

  /// The row's base URL (its variable, else the default), checked.
  Status use_endpoint() {
    auto url = check_base_url(base_url(env, entry.url_env, entry.default_url));
    if (!url) return Status::fail(std::string(entry.url_env) + ": " + url.error());
    src.endpoint = url->text();  // no user name or password, ever
    return {};
  }
  Fetcher fetcher(Redactor redactor) const {
    HttpPolicy policy;
    policy.total = std::chrono::duration_cast<std::chrono::milliseconds>(o.intensity_timeout);
    policy.connect = std::min(policy.connect, policy.total);
    return Fetcher(entry.name, ResponseCache(ResponseCache::default_dir(env), o.intensity_ttl), policy, std::move(redactor));
  }
};

namespace {

Made make_electricitymaps(ProviderArgs& a) {
  a.src.location = a.where.empty() ? a.location.zone : a.where;
  if (a.src.location.empty()) return Made::fail("--intensity-source electricitymaps: no zone; give one (electricitymaps:DE) or --region");
  if (auto st = a.use_endpoint(); !st) return Made::fail(st.error());
  const std::string token = credential(a.o, a.env, kElectricityMapsTokenEnv);
  if (auto st = check_length(token, kElectricityMapsTokenEnv); !st) return Made::fail(st.error());
  Redactor redactor;
  redactor.add(token);
  return std::unique_ptr<IntensityProvider>(new ElectricityMaps(std::move(a.src), token, a.fetcher(std::move(redactor))));
}

Made make_watttime(ProviderArgs& a) {
  a.src.location = a.where;
  a.src.signal = "marginal";
  a.src.factor = Factor::Direct;  // MOER: the marginal *operating* emissions rate, at the stack
  if (a.src.location.empty()) return Made::fail("--intensity-source watttime needs a region: watttime:CAISO_NORTH");
  if (auto st = a.use_endpoint(); !st) return Made::fail(st.error());
  const std::string user = credential(a.o, a.env, kWattTimeUserEnv), password = credential(a.o, a.env, kWattTimePasswordEnv);
  if (auto st = check_length(password, kWattTimePasswordEnv); !st) return Made::fail(st.error());
  Redactor redactor;  // the user name is no secret: only with the password, in basic auth's base64
  redactor.add_basic(user, password);
  return std::unique_ptr<IntensityProvider>(new WattTime(std::move(a.src), user, password, a.fetcher(std::move(redactor))));
}

Made make_uk(ProviderArgs& a) {
  // Only the outward part of a postcode ("OX1 3QD" -> "OX1") is used by the API.
  std::string pc = a.where.substr(0, a.where.find(' '));
  std::transform(pc.begin(), pc.end(), pc.begin(), [](unsigned char c) { return std::toupper(c); });
  a.src.location = pc.empty() || pc == "NATIONAL" ? "national" : pc;
  a.src.factor = Factor::Direct;  // the API's figures count generation, not the supply chain
  if (auto st = a.use_endpoint(); !st) return Made::fail(st.error());
  return std::unique_ptr<IntensityProvider>(new UkCarbonIntensity(std::move(a.src), a.fetcher(Redactor())));
}

Made make_file(ProviderArgs& a) {
  if (!a.file_profile || a.o.intensity_file.empty()) return Made::fail("--intensity-source file reads --intensity-file; none was given");
  a.src.location = a.src.endpoint = a.o.intensity_file;
  return std::unique_ptr<IntensityProvider>(new FileProvider(std::move(a.src), *a.file_profile));
}

}  // namespace

const std::vector<ProviderEntry>& provider_table() {
  static const std::vector<ProviderEntry> table = {
      {"electricitymaps", "electricitymaps[:ZONE]", kElectricityMapsUrlEnv, "https://api.electricitymap.org",
       {kElectricityMapsTokenEnv}, make_electricitymaps},
      {"watttime", "watttime:REGION", kWattTimeUrlEnv, "https://api.watttime.org", {kWattTimeUserEnv, kWattTimePasswordEnv},
       make_watttime},
      {"uk", "uk[:POSTCODE]", kUkUrlEnv, "https://api.carbonintensity.org.uk", {}, make_uk},
      {"file", "file", nullptr, nullptr, {}, make_file},
  };
  return table;
}

Result<std::unique_ptr<IntensityProvider>> make_provider(const std::string& spec, const Location& location,
                                                         Factor factor, const IntensityProfile* file_profile,
                                                         const GridOptions& o, const EnvLookup& env) {
  const size_t colon = spec.find(':');
  std::string name = spec.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string usages;
  for (const auto& e : provider_table()) {
    usages += (usages.empty() ? "" : e.make == provider_table().back().make ? " or " : ", ") + std::string(e.usage);
    if (name != e.name) continue;
    ProviderArgs a{e, colon == std::string::npos ? "" : std::string(trim(spec.substr(colon + 1))), location, {}, file_profile, o, env};
    a.src.provider = name;
    a.src.factor = factor;
    return e.make(a);
  }
  return Result<std::unique_ptr<IntensityProvider>>::fail("--intensity-source " + spec + ": unknown provider; use " + usages);
}

}  // namespace greenrun
