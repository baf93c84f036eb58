#include <catch2/catch.hpp>

#include "sampling/accounting.h"

using namespace greenrun;

namespace {
Channel ch(const std::string& component) {
  Channel c;
  c.component.kind = component == "cpu" ? ComponentKind::Cpu : component == "dram" ? ComponentKind::Dram : ComponentKind::Gpu;
  c.label = component;
  c.source = "test";
  return c;
}
Interval iv(double dt, double tree, double machine, std::vector<std::optional<double>> e,
            std::vector<std::optional<double>> share = {}) {
  Interval i;
  i.dt_s = dt;
  i.tree_cpu_s = tree;
  i.machine_busy_s = machine;
  i.energy_j = std::move(e);
  i.share = std::move(share);
  return i;
}
}  // namespace

TEST_CASE("cpu share is clamped and handles an idle machine counter", "[accounting]") {
  CHECK(cpu_share(1, 4) == Approx(0.25));
  CHECK(cpu_share(5, 4) == 1);
  CHECK(cpu_share(0, 4) == 0);
  CHECK(cpu_share(0.01, 0) == 1);
  CHECK(cpu_share(0, 0) == 0);
}

TEST_CASE("energy is attributed per window by CPU share", "[accounting]") {
  Accounting a({ch("cpu"), ch("dram")});
  a.add(iv(1.0, 0.5, 2.0, {100.0, 10.0}));   // share 0.25
  a.add(iv(1.0, 1.0, 1.0, {50.0, std::nullopt}));  // share 1; dram unread
  a.flush();
  const auto& t = a.totals();
  CHECK(t[0].machine_j == Approx(150));
  CHECK(t[0].tree_j == Approx(25 + 50));
  CHECK(t[1].machine_j == Approx(10));
  CHECK(t[1].tree_j == Approx(2.5));
  CHECK(t[1].missing == 1);
  CHECK(a.peak_machine_w() == Approx(110));
  CHECK(a.peak_tree_w() == Approx(50));
  CHECK(a.duration_s() == Approx(2.0));
}

TEST_CASE("short intervals are pooled into one window before sharing", "[accounting]") {
  // At 1 ms intervals CPU times are read every 100th tick; the energy of all
  // 100 intervals is shared by the CPU times of the window (here 50%).
  Accounting a({ch("cpu")});
  for (int i = 0; i < 200; ++i) {
    bool read = i % 100 == 99;
    auto x = iv(0.001, read ? 0.05 : 0.0, read ? 0.1 : 0.0, {i < 100 ? 0.05 : 0.01});
    x.close_window = read;
    a.add(x);
  }
  CHECK(a.totals()[0].machine_j == Approx(5.0 + 1.0));
  CHECK(a.totals()[0].tree_j == Approx(2.5 + 0.5));
  CHECK(a.peak_machine_w() == Approx(50.0));  // windows of 100 ms, not single 1 ms intervals
}

TEST_CASE("a short last window is pooled into the peak, never dropped", "[accounting]") {
  // `sleep 1` at 250 ms: /proc/PID/stat shows 0 ticks of CPU (it counts 10 ms
  // ticks), and the 4.5 ms the command used appear only when it is reaped, in
  // a 10 ms final window. Dropping that window from the peaks printed
  // "average 27.7 mW, peak 0.607 mW".
  Accounting a({ch("cpu")});
  for (int i = 0; i < 4; ++i) a.add(iv(0.25, 0.0, 0.5, {1.9}));
  a.add(iv(0.01, 0.0045, 0.03, {0.08}));
  a.flush();
  const double tree_j = a.totals()[0].tree_j;
  CHECK(tree_j == Approx(0.08 * 0.15));
  CHECK(a.peak_tree_w() == Approx(tree_j / 0.26));  // the last 250 ms window and the 10 ms one
  CHECK(a.peak_tree_w() >= tree_j / a.duration_s());
  CHECK(a.peak_machine_w() == Approx((1.9 + 0.08) / 0.26));

  SECTION("a run with one short window has that window as its peak") {
    Accounting b({ch("cpu")});
    b.add(iv(0.003, 0.003, 0.004, {0.02}));
    b.flush();
    CHECK(b.peak_machine_w() == Approx(0.02 / 0.003));
  }
}

TEST_CASE("flush attributes a window the sampler left open", "[accounting]") {
  Accounting a({ch("cpu")});
  auto x = iv(0.5, 0.5, 1.0, {10.0});
  x.close_window = false;
  a.add(x);
  CHECK(a.totals()[0].machine_j == 0);
  a.flush();
  CHECK(a.totals()[0].machine_j == Approx(10));
  CHECK(a.totals()[0].tree_j == Approx(5));
}

TEST_CASE("a source's own share overrides the CPU share", "[accounting]") {
  Accounting a({ch("cpu"), ch("gpu0")});
  a.add(iv(1.0, 0.0, 1.0, {10.0, 300.0}, {std::nullopt, 1.0}));
  a.add(iv(1.0, 0.0, 1.0, {10.0, 300.0}, {std::nullopt, 0.25}));
  a.flush();
  CHECK(a.totals()[0].tree_j == 0);
  CHECK(a.totals()[1].tree_j == Approx(300 + 75));
  CHECK(a.totals()[1].machine_j == Approx(600));
}

TEST_CASE("every window lands in the timeline, per component, and the timeline sums to the totals", "[accounting][timeline]") {
  Accounting a({ch("cpu"), ch("dram"), ch("cpu")});  // two packages: one cpu component
  double t = 0;
  auto at = [&](double dt, double tree, double machine, std::vector<std::optional<double>> e) {
    t += dt;
    auto x = iv(dt, tree, machine, std::move(e));
    x.end_s = t;
    return x;
  };
  a.add(at(1.0, 0.5, 2.0, {100.0, 10.0, 40.0}));           // share 0.25
  a.add(at(1.0, 1.0, 1.0, {50.0, std::nullopt, 30.0}));  // share 1; dram unread
  a.flush();
  const Timeline& tl = a.timeline();
  REQUIRE(tl.components().size() == 2);
  CHECK(tl.components()[0].component.name() == "cpu");
  CHECK(tl.components()[1].component.name() == "dram");
  REQUIRE(tl.size() == 2);
  CHECK(tl.record(0).start_s == 0.0);
  CHECK(tl.record(0).end_s == 1.0);
  CHECK(tl.record(1).start_s == 1.0);
  CHECK(tl.record(1).end_s == 2.0);
  CHECK(tl.machine_j(0, 0) == 140.0);  // both packages
  CHECK(tl.tree_j(0, 0) == 35.0);
  CHECK(tl.tree_j(0, 1) == 2.5);
  CHECK(tl.machine_j(1, 0) == 80.0);
  CHECK(tl.tree_j(1, 0) == 80.0);
  CHECK(tl.record(1).missing == 2);  // bit 1: dram had no reading
  CHECK(tl.record(0).missing == 0);
  CHECK(tl.record(0).tree_cpu_s == 0.5);
  double tree = 0, machine = 0;
  for (const auto& x : a.totals()) {
    tree += x.tree_j;
    machine += x.machine_j;
  }
  CHECK(tl.energy_j(0, false) + tl.energy_j(1, false) == Approx(tree));
  CHECK(tl.energy_j(0, true) + tl.energy_j(1, true) == Approx(machine));
}

TEST_CASE("below the tick resolution of /proc/stat, the share is by the window's capacity", "[accounting]") {
  // A last window of 0.5 s on an idle two-CPU machine: /proc/stat moved by no
  // tick, `sleep` was reaped with 1 ms of CPU. By CPU share it had the machine
  // to itself and took all 0.75 J; by capacity, 1 ms of 1 s.
  CHECK(cpu_share(0.001, 0.0) == 1);                    // no capacity known: the old rule
  CHECK(cpu_share(0.001, 0.0, 1.0, 0.02) == Approx(0.001));
  CHECK(cpu_share(0.001, 0.01, 1.0, 0.02) == Approx(0.001));  // one tick on two CPUs: still below
  CHECK(cpu_share(0.3, 0.6, 1.0, 0.02) == Approx(0.5));       // measurable: the usual share
  Accounting a({ch("cpu")}, 0, 0.02);
  auto x = iv(0.5, 0.001, 0.0, {0.75});
  x.machine_capacity_s = 1.0;
  a.add(x);
  a.flush();
  CHECK(a.totals()[0].tree_j == Approx(0.00075));
}

TEST_CASE("phases: windows split at marks, and a mark that arrives late keeps the windows before it", "[accounting][phases]") {
  // 1 s windows of 10 J machine energy, the tree using half the machine's CPU:
  // 5 J a window for the command. The first mark ("load") arrives only after
  // two windows have closed, at 2.5 s; the second ("train") at 3.25 s.
  Accounting a({ch("cpu")});
  double now = 0;
  auto window = [&] {
    auto x = iv(1.0, 0.5, 1.0, {10.0});
    x.end_s = now += 1.0;
    x.close_window = true;
    a.add(x);
  };
  window();
  window();
  CHECK(a.phases().empty());  // no mark, no phases
  a.mark(2.5, "load");
  a.mark(3.25, "train");
  window();  // [2, 3): 0.5 s before load, 0.5 s of load
  window();  // [3, 4): 0.25 s of load, 0.75 s of train
  a.flush();
  const auto& p = a.phases();
  REQUIRE(p.size() == 3);
  CHECK(p[0].name == "(before the first mark)");
  CHECK(p[0].start_s == 0);
  CHECK(p[0].end_s == Approx(2.5));
  CHECK(p[0].tree_j == Approx(5 + 5 + 2.5));
  CHECK(p[0].machine_j == Approx(10 + 10 + 5));
  CHECK(p[1].name == "load");
  CHECK(p[1].start_s == Approx(2.5));
  CHECK(p[1].end_s == Approx(3.25));
  CHECK(p[1].tree_j == Approx(2.5 + 1.25));
  CHECK(p[2].name == "train");
  CHECK(p[2].end_s == Approx(4.0));
  CHECK(p[2].tree_j == Approx(3.75));
  double tree = 0, machine = 0;
  for (const auto& ph : p) tree += ph.tree_j, machine += ph.machine_j;
  CHECK(tree == Approx(a.totals()[0].tree_j));
  CHECK(machine == Approx(a.totals()[0].machine_j));
}
