#pragma once
// Estimated energy where nothing can be measured: CPU power from load between
// idle and full-load watts, memory power from the memory in use. Every
// constant is documented in man greenrun (ESTIMATES) and ARCHITECTURE.md.

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sensors/energy_source.h"
#include "sensors/hardware.h"
#include "sensors/hardware_data.h"

namespace greenrun {

/// Published constants the model uses.
/// Memory power: 0.3725 W per GB (Green Algorithms referenceValues.csv).
inline constexpr double kRamWPerGb = 0.3725;
/// Unknown CPU: 12 W per core at full load (Green Algorithms' default per core).
inline constexpr double kUnknownCpuWPerCore = 12.0;
/// Idle power as a share of full-load power: 0.74 / 3.5, the ratio of Cloud
/// Carbon Footprint's average min and max watts per vCPU (from SPECpower data).
inline constexpr double kIdleShare = 0.74 / 3.5;

/// Watts at increasing loads in [0, 1], linear between the points: a cloud
/// instance's measured curve (Teads: idle, 10%, 50%, 100%).
struct PowerCurve {
  std::vector<std::pair<double, double>> points;  // (load, watts)
  double at(double load) const;
  /// "2.41/6.11/14.3/19.9 W at 0/10/50/100% load"
  std::string text() const;
};

/// An instance's curve from its four figures (kInstanceLoads); empty without them.
PowerCurve instance_curve(const std::vector<double>& watts);

struct EstimateOverrides {
  std::optional<double> cpu_tdp_w;   // one package's TDP
  std::string cpu_model;             // instead of /proc/cpuinfo's
  std::optional<double> cpu_idle_w;  // the whole machine's CPU at idle
  std::optional<double> cpu_max_w;   // and at full load
  std::optional<double> ram_w_per_gb;
  const CloudInstance* instance = nullptr;  // --instance-type
};

/// The CPU model chosen for a machine: watts at idle and at full load, how, and the range.
struct CpuPowerModel {
  double idle_w = 0, max_w = 0;
  PowerCurve curve;    // when set, the power at each load instead of the line idle..max
  std::string method;  // "TDP model: ...", "cloud per-vCPU coefficients: ...", ...
  std::string basis;   // short: tdp, cloud, cloud-average, default, user
  double low_factor = 1, high_factor = 1;
  bool matched = true;  // false: the CPU was not found and a default was used
};

CpuPowerModel cpu_power_model(const Hardware& hw, const HardwareData& data, const EstimateOverrides& o);

/// P(load) = idle + (max - idle) x load, load in [0, 1], or the model's curve.
double cpu_power_w(const CpuPowerModel& m, double load);

/// Memory estimated from a cloud instance's RAM curve (by CPU load), with the
/// method text; nullopt where the instance has none or --ram-w-per-gb was given.
struct RamCurveModel {
  PowerCurve curve;
  std::string method;
};
std::optional<RamCurveModel> ram_curve_model(const EstimateOverrides& o);

struct EstimatedChannel {
  bool ram = false;  // memory; else the CPU
  double energy_j = 0;
  std::optional<double> share;
};

class EstimateSource : public ChannelTable<EstimatedChannel> {
 public:
  /// `cpu` / `ram`: which components to estimate (those no measured source
  /// covers); the others become standby channels, counted only from the
  /// moment a counter that measures them is found frozen. Memory by the GB in
  /// use (`ram_w_per_gb`) or, for a known cloud instance, by its curve.
  EstimateSource(CpuPowerModel cpu_model, bool cpu, bool ram, double ram_w_per_gb, int logical_cpus,
                 std::optional<RamCurveModel> ram_curve = std::nullopt);

  void read(const SampleContext& ctx, std::vector<ChannelReading>& out) override;
  const std::vector<Channel>& standby() const override { return standby_; }

 private:
  Channel cpu_channel() const;
  Channel ram_channel() const;
  void update(EstimatedChannel& e, const SampleContext& ctx) const;

  CpuPowerModel model_;
  double ram_w_per_gb_;
  std::optional<RamCurveModel> ram_curve_;
  int logical_;
  std::vector<Channel> standby_;
  std::vector<EstimatedChannel> standby_state_;
};

}  // namespace greenrun
