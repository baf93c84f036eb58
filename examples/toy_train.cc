// A small CPU-bound "training" loop for trying greenrun: logistic regression
// by stochastic gradient descent on synthetic data. About two seconds of one
// core with the defaults; `toy-train SECONDS` trains for that long instead.

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const int features = 256, samples = 16384;
  std::mt19937 rng(42);
  std::normal_distribution<double> normal;
  std::vector<double> truth(features), w(features, 0.0), x(static_cast<size_t>(features) * samples);
  std::vector<int> y(samples);
  for (auto& t : truth) t = normal(rng);
  for (int i = 0; i < samples; ++i) {
    double dot = 0;
    for (int f = 0; f < features; ++f) {
      x[static_cast<size_t>(i) * features + f] = normal(rng);
      dot += truth[f] * x[static_cast<size_t>(i) * features + f];
    }
    y[i] = dot > 0;
  }
  const auto start = std::chrono::steady_clock::now();
  const double rate = 0.05;
  int epoch = 0;
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds) {
    double loss = 0;
    for (int i = 0; i < samples; ++i) {
      const double* xi = &x[static_cast<size_t>(i) * features];
      double z = 0;
      for (int f = 0; f < features; ++f) z += w[f] * xi[f];
      double p = 1.0 / (1.0 + std::exp(-z));
      loss -= y[i] ? std::log(p + 1e-12) : std::log(1 - p + 1e-12);
      for (int f = 0; f < features; ++f) w[f] -= rate * (p - y[i]) * xi[f];
    }
    ++epoch;
    if (epoch % 25 == 0) std::printf("epoch %d  loss %.4f\n", epoch, loss / samples);
  }
  std::printf("trained %d epochs in %.1f s\n", epoch, seconds);
  return 0;
}
