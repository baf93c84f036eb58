#include "commands/carbon_aware.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "carbon/plan.h"
#include "process/child.h"
#include "util/exit_codes.h"
#include "util/units.h"
#include "util/escape.h"

namespace greenrun {

namespace {

void say(const std::string& message) { std::fprintf(stderr, "greenrun: %s\n", terminal_text(message).c_str()); }

CarbonAware::steady::time_point steady_at(CarbonAware::wall::time_point t) {
  const auto now_wall = CarbonAware::wall::now();
  const auto now = CarbonAware::steady::now();
  return now + std::chrono::duration_cast<CarbonAware::steady::duration>(t - now_wall);
}

/// How often a fetch under way is looked at for its answer.
constexpr std::chrono::milliseconds kAnswerWatch{100};

/// Signals whose default action is to ignore them carry no request to stop.
bool benign(int sig) { return sig == SIGWINCH || sig == SIGURG; }

std::string percent(double p) { return significant(p, 2) + "%"; }

}  // namespace

bool CarbonAware::wanted(const Options& o) {
  return !o.grid.intensity_source.empty() || o.aware.start_within || o.aware.pause_above || o.grid.require_live_intensity;
}

Result<std::unique_ptr<CarbonAware>> CarbonAware::make(const Options& o, CarbonSettings& carbon, const EnvLookup& env) {
  using R = Result<std::unique_ptr<CarbonAware>>;
  std::string spec = o.grid.intensity_source;
  if (spec.empty() && !o.grid.intensity_file.empty()) spec = "file";
  if (spec.empty())
    return R::fail(std::string(o.aware.start_within ? "--start-within" : o.aware.pause_above ? "--pause-above" : "--require-live-intensity") +
                   " needs time-varying data: --intensity-source NAME or --intensity-file FILE");
  if (spec.rfind("file", 0) != 0 && !o.grid.intensity_file.empty())
    return R::fail("--intensity-file and --intensity-source " + spec + ": give one source of intensity");
  auto provider = make_provider(spec, carbon.location, carbon.factor, &carbon.profile, o.grid, env);
  if (!provider) return R::fail(provider.error());
  auto aware = std::unique_ptr<CarbonAware>(new CarbonAware(o, carbon, std::make_unique<IntensityFeed>(std::move(*provider))));
  aware->reprice();
  return aware;
}

bool CarbonAware::network() const { return feed_->source().provider != "file"; }

IntensityFeed::Want CarbonAware::want() const {
  return o_.aware.pause_above || o_.aware.start_within ? IntensityFeed::Want::Forecast : IntensityFeed::Want::Latest;
}

void CarbonAware::reprice() {
  carbon_.live = feed_->source();
  // A file keeps its own steps (and their "outside the file" accounting).
  if (network()) carbon_.profile = feed_->series().profile(carbon_.location.g_per_kwh);
}

void CarbonAware::start_watchdog() {
  if (!o_.aware.pause_above) return;
  watchdog_ = std::make_unique<Watchdog>();
  pauser_ = std::make_unique<Pauser>(*o_.aware.pause_above, o_.aware.max_delay, o_.aware.pause_signal, *watchdog_);
}

std::optional<int> CarbonAware::before_start() {
  if (o_.aware.start_within) return plan_and_wait();
  const auto now = wall::now();
  if (!o_.grid.require_live_intensity) {
    feed_->fetch(want(), now, FetchMode::CacheOnly);  // no request before the command starts
    reprice();
    return std::nullopt;
  }
  const Status st = feed_->fetch(want(), now);
  reprice();
  if (!st) return say(st.error() + " (--require-live-intensity)"), kExitGreenrunFailed;
  return std::nullopt;
}

std::optional<int> CarbonAware::plan_and_wait() {
  ScheduleReport s;
  s.requested_at = wall::now();
  s.expected_duration_s = std::chrono::duration<double>(*o_.aware.expected_duration).count();
  s.within_s = std::chrono::duration<double>(*o_.aware.start_within).count();
  const Status fetched = feed_->fetch(IntensityFeed::Want::Forecast, s.requested_at);
  reprice();
  Result<Plan> plan = fetched ? plan_start(forecast_points(feed_->series().points()),
                                           {s.requested_at, *o_.aware.expected_duration, *o_.aware.start_within})
                              : Result<Plan>::fail(fetched.error());
  s.planned_start = s.requested_at;
  if (!plan) {
    if (o_.grid.require_live_intensity) return say("no plan: " + plan.error() + " (--require-live-intensity)"), kExitGreenrunFailed;
    s.problem = "no plan: " + plan.error();
    say(s.problem + "; starting at once");
  } else {
    s.planned_start = plan->start;
    s.forecast_now_g_per_kwh = plan->now_g_per_kwh;
    s.forecast_planned_g_per_kwh = plan->best_g_per_kwh;
    s.beyond_horizon = plan->beyond_horizon;
    if (!o_.outputs.quiet)
      say("cleanest start " + format_rfc3339(plan->start) + " (in " +
          format_seconds(std::chrono::duration<double>(plan->start - s.requested_at).count()) + "): " +
          significant(plan->best_g_per_kwh) + " g/kWh over " + format_seconds(s.expected_duration_s) + " against " +
          significant(plan->now_g_per_kwh) + " g/kWh at once (" + percent(plan->saving_percent()) + " less)");
  }
  schedule_ = s;
  if (const int sig = wait_until(steady_at(s.planned_start), s.planned_start, o_.outputs.quiet); sig != 0)
    return kExitSignalBase + sig;
  return std::nullopt;
}

int wait_until(std::chrono::steady_clock::time_point start, std::chrono::system_clock::time_point planned, bool quiet) {
  using namespace std::chrono;
  const bool tty = !quiet && ::isatty(STDERR_FILENO);
  auto next_line = steady_clock::now();
  int got = 0;
  for (auto now = steady_clock::now(); now < start && got == 0; now = steady_clock::now()) {
    const std::string left = format_seconds(std::ceil(duration<double>(start - now).count()));
    if (tty) {
      std::fprintf(stderr, "\rgreenrun: starting in %s, at %s\033[K", left.c_str(), format_rfc3339(planned).c_str());
    } else if (!quiet && now >= next_line) {
      say("waiting " + left + " for the cleanest start, at " + format_rfc3339(planned));
      next_line = now + minutes(10);
    }
    got = wait_for_signal(std::min(start, tty ? now + seconds(1) : quiet ? start : next_line));
  }
  if (tty) std::fputs("\r\033[K", stderr);
  return got;
}

void CarbonAware::started(pid_t pgid) {
  if (schedule_) schedule_->actual_start = wall::now();
  if (pauser_) pauser_->attach(pgid);
  if (network() && !feed_->covers(wall::now())) feed_->fetch_async(want(), wall::now());
}

CarbonAware::steady::time_point CarbonAware::first_poll() const {
  // A pause may be due at once, and a fetch started with the command is
  // taken as it answers; otherwise the data read at the start lasts a poll.
  return pauser_ || feed_->fetching() ? steady::now() : steady::now() + o_.grid.intensity_poll;
}

CarbonAware::steady::time_point CarbonAware::poll() {
  const auto now = steady::now();
  const auto at = wall::now();
  if (feed_->collect()) reprice();
  if (network() && !feed_->covers(at)) feed_->fetch_async(want(), at);
  auto next = now + o_.grid.intensity_poll;
  // An answer is acted on when it arrives, not a poll later: a run that
  // starts on a dirty grid with a cold cache pauses at the first answer.
  if (feed_->fetching()) next = std::min(next, now + kAnswerWatch);
  if (!pauser_ || !pausing_) return next;
  next = std::min(next, pauser_->check(feed_->series().at(at), now, at));
  if (auto change = feed_->series().next_change(at)) next = std::min(next, steady_at(*change));
  return std::max(next, now + std::chrono::milliseconds(1));
}

void CarbonAware::forwarded(int sig) {
  if (!pauser_ || benign(sig)) return;
  pausing_ = false;  // the command is being told to stop or act: let it, and pause no more
  pauser_->resume("a signal for the command (" + signal_name(sig) + ")", steady::now(), wall::now());
}

void CarbonAware::finished(wall::time_point origin, wall::time_point ended) {
  if (pauser_) pauser_->resume("the command exited", steady::now(), wall::now());
  // One deadline for all the network work after the command: the fetch
  // still running and the history (each used to have a timeout of its own).
  const auto deadline = steady::now() + o_.grid.intensity_timeout;
  feed_->settle(deadline);
  if (network()) feed_->fetch_history(schedule_ ? std::min(origin, schedule_->requested_at) : origin, ended, deadline);
  reprice();
}

void CarbonAware::fill(RunReport& r) const {
  if (schedule_) r.schedule = schedule_;
  if (!pauser_) return;
  PauseReport p;
  p.threshold_g_per_kwh = pauser_->threshold();
  p.max_delay_s = std::chrono::duration<double>(pauser_->budget()).count();
  p.signal = pauser_->signal();
  p.spans = pauser_->spans();
  if (pauser_->paused()) p.spans.back().to = wall::now();  // a checkpoint during a pause
  r.pause = std::move(p);
}

}  // namespace greenrun
