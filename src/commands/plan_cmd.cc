#include "commands/plan_cmd.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "carbon/carbon.h"
#include "carbon/carbon_data.h"
#include "carbon/live.h"
#include "carbon/plan.h"
#include "commands/output_paths.h"
#include "commands/subcommand.h"
#include "config/config_files.h"
#include "config/option_table.h"
#include "util/exit_codes.h"
#include "util/fs.h"
#include "util/input_file.h"
#include "util/units.h"
#include "util/escape.h"

namespace greenrun {

namespace {

int fail(const std::string& what, int code = kExitGreenrunFailed) {
  std::fprintf(stderr, "greenrun plan: %s\n", terminal_text(what).c_str());
  return code;
}

/// "2kWh", "500Wh", "3.6MJ", "1200J": kWh. A bare number is ambiguous.
std::optional<double> parse_energy_kwh(const std::string& text) {
  static const std::pair<const char*, double> units[] = {{"MWh", 1000}, {"kWh", 1}, {"Wh", 1e-3}, {"MJ", 1 / 3.6},
                                                         {"kJ", 1 / 3600.0}, {"J", 1 / 3.6e6}};
  for (const auto& [unit, kwh] : units) {
    const std::string u = unit;
    if (text.size() > u.size() && text.compare(text.size() - u.size(), u.size(), u) == 0) {
      auto v = parse_double(trim(std::string_view(text).substr(0, text.size() - u.size())));
      if (v && *v >= 0) return *v * kwh;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

/// Energy (kWh) and duration (s) of an earlier greenrun JSON report.
Result<std::pair<double, double>> read_like(const std::string& path) {
  using R = Result<std::pair<double, double>>;
  auto text = read_input_file(path, "--like", kMaxReportFileBytes);
  if (!text) return R::fail(text.error());
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("energy_j") || !j["energy_j"].is_number() || !j["duration_s"].is_number())
    return R::fail("--like " + path + ": not a greenrun JSON report with energy_j and duration_s");
  return std::make_pair(j["energy_j"].get<double>() / 3.6e6, j["duration_s"].get<double>());
}

struct Request {
  std::string duration, within = "24h", energy, like, format = "text";
};

void print_text(const Plan& plan, const PlanRequest& req, const LiveSource& src, std::optional<double> kwh, double pue) {
  const double wait_s = std::chrono::duration<double>(plan.start - req.now).count();
  const double job_s = std::chrono::duration<double>(req.duration).count();
  std::printf("best start  %s (in %s)\n", format_rfc3339(plan.start).c_str(), format_seconds(wait_s).c_str());
  std::printf("at once     %s g/kWh, mean over the %s job (forecast: %s %s, %s, %s)\n",
              significant(plan.now_g_per_kwh).c_str(), format_seconds(job_s).c_str(), src.provider.c_str(),
              src.location.c_str(), src.signal.c_str(), factor_name(src.factor).c_str());
  std::printf("at best     %s g/kWh (%s%% less)\n", significant(plan.best_g_per_kwh).c_str(),
              significant(plan.saving_percent(), 2).c_str());
  if (kwh)
    std::printf("saving      %s CO2e for %s (x PUE %s)\n",
                format_mass_g(*kwh * pue * (plan.now_g_per_kwh - plan.best_g_per_kwh)).c_str(),
                format_energy(*kwh * 3.6e6).c_str(), significant(pue, 3).c_str());
  if (plan.beyond_horizon) std::printf("note        the forecast ends before the job would: start now\n");
  std::printf("schedule    %s    |    %s\n", at_line(plan.start).c_str(), sbatch_line(plan.start).c_str());
}

void print_json(const Plan& plan, const PlanRequest& req, const LiveSource& src, std::optional<double> kwh, double pue) {
  using json = nlohmann::ordered_json;
  auto opt = [](std::optional<double> v) { return v ? json(*v) : json(nullptr); };
  json j = {{"now", format_rfc3339(req.now)},
            {"best_start", format_rfc3339(plan.start)},
            {"wait_s", std::chrono::duration<double>(plan.start - req.now).count()},
            {"duration_s", std::chrono::duration<double>(req.duration).count()},
            {"within_s", std::chrono::duration<double>(req.within).count()},
            {"now_g_per_kwh", plan.now_g_per_kwh},
            {"best_g_per_kwh", plan.best_g_per_kwh},
            {"saving_percent", plan.saving_percent()},
            {"expected_energy_kwh", opt(kwh)},
            {"pue", pue},
            {"saving_g", opt(kwh ? std::optional<double>(*kwh * pue * (plan.now_g_per_kwh - plan.best_g_per_kwh)) : std::nullopt)},
            {"beyond_horizon", plan.beyond_horizon},
            {"source", {{"provider", src.provider}, {"location", src.location}, {"signal", src.signal},
                        {"factor", factor_name(src.factor)}}},
            {"sbatch", sbatch_line(plan.start)},
            {"at", at_line(plan.start)},
            {"cron", cron_line(plan.start)}};
  std::printf("%s\n", j.dump(2).c_str());
}

}  // namespace

int plan_command(const std::vector<std::string>& args, const EnvLookup& env) {
  CLI::App app{"greenrun plan --duration 2h [--within 24h] [--intensity-source NAME | --intensity-file FILE]: "
               "the cleanest time to start a job",
               "greenrun plan"};
  Request rq;
  app.add_option("--duration", rq.duration, "How long the job runs (2h, 90m); default: --like's duration");
  app.add_option("--within", rq.within, "Latest start, from now")->capture_default_str();
  app.add_option("--expected-energy", rq.energy, "The job's energy (2kWh, 500Wh, 3.6MJ), for the saving in grams");
  app.add_option("--like", rq.like, "An earlier greenrun JSON report: its energy (and duration)");
  app.add_option("--format", rq.format, "text, json, sbatch, at or cron")->capture_default_str();
  RawSettings raw;
  add_table_options(app, raw, {"config", "region", "cloud", "intensity-source", "intensity-file", "intensity-timeout",
                               "intensity-ttl", "emission-factor", "pue"});
  if (auto done = parse_subcommand(app, args, "plan")) return *done;
  auto layers = apply_config(raw, env);
  if (!layers) return fail(layers.error());
  if (rq.format != "text" && rq.format != "json" && rq.format != "sbatch" && rq.format != "at" && rq.format != "cron")
    return fail("--format must be text, json, sbatch, at or cron", kExitUsage);

  std::optional<double> kwh;
  std::chrono::nanoseconds duration{0};  // 0: not given
  if (!rq.duration.empty()) {
    auto d = parse_duration(rq.duration);
    if (!d) return fail("--duration " + rq.duration + " is not a duration (2h, 90m)", kExitUsage);
    duration = *d;
  }
  if (!rq.energy.empty() && !(kwh = parse_energy_kwh(rq.energy)))
    return fail("--expected-energy " + rq.energy + ": give a unit (2kWh, 500Wh, 3.6MJ)", kExitUsage);
  if (!rq.like.empty()) {
    auto like = read_like(rq.like);
    if (!like) return fail(like.error());
    if (!kwh) kwh = like->first;
    if (duration.count() == 0)
      duration = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(like->second));
  }
  auto within = parse_duration(rq.within);
  if (duration.count() <= 0) return fail("--duration is needed (or --like with a duration)", kExitUsage);
  if (!within) return fail("--within " + rq.within + " is not a duration", kExitUsage);

  auto checked = checked_subcommand_options(raw, env);  // as a run checks them: --pue 9 is refused here too
  if (!checked) return fail(checked.error());
  Options o = std::move(*checked);
  o.grid.compare = "none";
  o.grid.credentials = std::move(layers->credentials);
  const std::string spec = !o.grid.intensity_source.empty() ? o.grid.intensity_source : o.grid.intensity_file.empty() ? "" : "file";
  if (spec.empty()) return fail("a plan needs a forecast: --intensity-source NAME or --intensity-file FILE", kExitUsage);

  auto data = load_carbon_data(find_data_dir(env));
  if (!data) return fail(data.error());
  auto settings = resolve_carbon_settings(o.grid, *data, env);
  if (!settings) return fail(settings.error());
  auto provider = make_provider(spec, settings->location, settings->factor, &settings->profile, o.grid, env);
  if (!provider) return fail(provider.error());
  IntensityFeed feed(std::move(*provider));
  const PlanRequest req{std::chrono::system_clock::now(), duration, *within};
  if (auto st = feed.fetch(IntensityFeed::Want::Forecast, req.now); !st) return fail("cannot plan: " + st.error());
  auto plan = plan_start(forecast_points(feed.series().points()), req);
  if (!plan) return fail("cannot plan: " + plan.error());

  if (rq.format == "text") print_text(*plan, req, feed.source(), kwh, settings->pue);
  else if (rq.format == "json") print_json(*plan, req, feed.source(), kwh, settings->pue);
  else if (rq.format == "sbatch") std::printf("%s\n", sbatch_line(plan->start).c_str());
  else if (rq.format == "at") std::printf("%s\n", at_line(plan->start).c_str());
  else std::printf("%s\n", cron_line(plan->start).c_str());
  return 0;
}

}  // namespace greenrun
