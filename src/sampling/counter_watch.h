#pragma once
// How one cumulative energy counter behaves while it is read: whether it
// moves, how often (its update period), and whether it froze. Hypervisors
// expose counters that never advance (the H200 VM's perf energy-psys read 0 J
// under a full core); NVML's counter moves in steps about every 100 ms, so a
// window shorter than a few steps sees one step more or less. Pure
// arithmetic on the reads the sampler (or `greenrun sensors`) makes.

namespace greenrun {

class CounterWatch {
 public:
  /// A counter that has not moved for this long (or ten of its update
  /// periods, if longer) while the machine used CPU time is frozen.
  static constexpr double kFrozenAfterS = 1.0;
  /// CPU seconds the whole machine must use in that span: a live counter
  /// that moves by zero on an idle machine is no evidence of anything.
  static constexpr double kBusyCpuS = 0.05;
  /// A counter that moves in steps is exact to one step: a record of ten
  /// steps is within 10% of the energy it covers.
  static constexpr double kStepsPerRecord = 10;

  /// `prior_update_s`: the update period known beforehand (Channel::update_s), 0 if none.
  explicit CounterWatch(double prior_update_s = 0) : prior_update_s_(prior_update_s) {}

  /// A read at offset `t_s` of the cumulative `energy_j`; `machine_busy_s`:
  /// the CPU seconds the machine used since the previous read. True the one
  /// time the counter is judged frozen.
  bool observe(double t_s, double energy_j, double machine_busy_s);

  bool frozen() const { return frozen_; }
  bool ever_moved() const { return moves_ > 0; }
  /// When it last moved (its first read if it never did).
  double last_move_s() const { return last_move_s_; }
  /// Seconds without a move, and the machine's CPU seconds in them, at the last read.
  double unmoved_s() const { return last_read_s_ - last_move_s_; }
  double busy_since_move_s() const { return busy_since_move_s_; }
  /// The update period: learned where reads came faster than the steps (some
  /// saw no change), else the prior; 0 when it moves at every read and no
  /// prior is known (finer than the reads).
  double update_s() const { return learned_update_s_ > 0 ? learned_update_s_ : prior_update_s_; }
  bool learned() const { return learned_update_s_ > 0; }
  /// The shortest span a record may have for this counter's energy in it to be within 10%.
  double min_record_s() const { return kStepsPerRecord * update_s(); }
  /// How long it must stay still, the machine busy, to be frozen.
  double frozen_after_s() const;

 private:
  double prior_update_s_;
  bool primed_ = false, frozen_ = false;
  double last_energy_j_ = 0, last_read_s_ = 0, last_move_s_ = 0, first_move_s_ = 0;
  double busy_since_move_s_ = 0;
  unsigned long moves_ = 0;
  bool still_between_ = false;  // a read since the last move saw no change
  unsigned long reads_ = 0;        // reads since the first move
  unsigned long still_reads_ = 0;  // moves that came after reads without a change
  double learned_update_s_ = 0;
};

}  // namespace greenrun
