#pragma once
// The run's total energy and end, projected while it runs from how far the
// command says it is (greenrun progress, greenrun.progress()) or, without
// that, from --expected-duration. Pure arithmetic over two bounded series the
// sampler keeps: the energy used so far at each window's end, and the
// progress points. Emissions are priced from it elsewhere (carbon/, report/).

#include <optional>
#include <string>
#include <vector>

namespace greenrun {

/// The energy used by offset `at_s` (cumulative, both scopes).
struct EnergyPoint {
  double at_s = 0, tree_j = 0, machine_j = 0;
};

/// How far the command said it was at offset `at_s` (0..1).
struct ProgressPoint {
  double at_s = 0, fraction = 0;
};

/// Each series keeps at most this many points: when full, every other point
/// of its older half goes (never the first), so the recent points stay as they
/// came and the older ones thin out. Memory is bounded whatever the run's length.
inline constexpr size_t kMaxSeriesPoints = 512;

template <class Point>
void append_bounded(std::vector<Point>& points, const Point& p) {
  if (points.size() >= kMaxSeriesPoints) {
    const size_t half = points.size() / 2;
    size_t kept = 1;
    for (size_t i = 1; i < points.size(); ++i)
      if (i >= half || i % 2 == 0) points[kept++] = points[i];
    points.resize(kept);
  }
  points.push_back(p);
}

/// What a projection is made from; the sampler hands out a copy.
struct ProjectionInputs {
  std::vector<EnergyPoint> energy;      // from {0, 0, 0}, one per window
  std::vector<ProgressPoint> progress;  // in the order the command sent them
};

struct EnergyProjection {
  std::string method;          // "progress" or "expected-duration"
  double fraction = 0;         // done at at_s
  double at_s = 0;             // the offset the projection starts from
  double energy_at_j = 0;      // used by at_s
  double energy_j = 0;         // the projected total
  double end_s = 0;            // the projected end, an offset
  double rate_from_s = 0;      // the rate is that of the span [rate_from_s, at_s]
  double rate_from_fraction = 0;
  double spent_s = 0, spent_j = 0;  // the last closed window's end, and the energy used by then
};

/// The share of the progress made so far that the rate is taken over: the
/// latest third, so that a slow first epoch (start-up, compilation, caches)
/// does not weigh on the projection once the run is a third further.
inline constexpr double kRecentShare = 1.0 / 3;

/// The energy used by `at_s`, linear between the points (the last beyond them).
double energy_at(const std::vector<EnergyPoint>& energy, double at_s, bool machine);

/// The projection from the progress points (method "progress"), else from
/// `expected_s` (seconds from the timeline's origin); nullopt before anything
/// can be projected (no progress past 0 in a closed window, no expected duration).
std::optional<EnergyProjection> project_energy(const ProjectionInputs& in, bool machine,
                                               std::optional<double> expected_s);

}  // namespace greenrun
