// Tests of the kernels of the sequence family
// (runtime/include/gradc/kernels_sequence.h) that the gradient checks and
// the PyTorch goldens cannot reach: the recurrences against a plain loop
// written from PyTorch's equations, the inlined exp, sigmoid and tanh
// against the library's, and the embedding's handling of values that name
// no row, which the runtime never lets through but a caller of the ABI
// could pass.
#include <gradc/kernels.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace {

std::vector<double> uniformValues(size_t count, std::mt19937 &rng) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  std::vector<double> values(count);
  for (double &value : values)
    value = uniform(rng);
  return values;
}

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

} // namespace

TEST_CASE("rnnScan follows h_t = tanh(pre_t + W_hh h_{t-1})", "[kernels]") {
  const int64_t B = 3, steps = 4, H = 5;
  std::mt19937 rng(1);
  std::vector<double> pre = uniformValues(B * steps * H, rng);
  std::vector<double> whh = uniformValues(H * H, rng);
  std::vector<double> hs(B * steps * H);
  gradc::rnnScan<double, false>(B, steps, H, pre.data(), whh.data(), hs.data());

  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> h(H, 0.0);
    for (int64_t t = 0; t < steps; ++t) {
      std::vector<double> next(H);
      for (int64_t j = 0; j < H; ++j) {
        double sum = pre[(b * steps + t) * H + j];
        for (int64_t k = 0; k < H; ++k)
          sum += whh[j * H + k] * h[k];
        next[j] = std::tanh(sum);
      }
      h = next;
      for (int64_t j = 0; j < H; ++j)
        CHECK(hs[(b * steps + t) * H + j] == Approx(h[j]).margin(1e-13));
    }
  }
}

TEST_CASE("lstmScan follows torch.nn.LSTM's equations", "[kernels]") {
  const int64_t B = 2, steps = 3, H = 4;
  std::mt19937 rng(2);
  std::vector<double> pre = uniformValues(B * steps * 4 * H, rng);
  std::vector<double> whh = uniformValues(4 * H * H, rng);
  std::vector<double> state(B * steps * 6 * H);
  gradc::lstmScan<double>(B, steps, H, pre.data(), whh.data(), state.data());

  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> h(H, 0.0), c(H, 0.0);
    for (int64_t t = 0; t < steps; ++t) {
      std::vector<double> gates(4 * H);
      for (int64_t r = 0; r < 4 * H; ++r) {
        gates[r] = pre[(b * steps + t) * 4 * H + r];
        for (int64_t k = 0; k < H; ++k)
          gates[r] += whh[r * H + k] * h[k];
      }
      for (int64_t j = 0; j < H; ++j) {
        double i = sigmoid(gates[j]), f = sigmoid(gates[H + j]);
        double g = std::tanh(gates[2 * H + j]), o = sigmoid(gates[3 * H + j]);
        c[j] = f * c[j] + i * g;
        h[j] = o * std::tanh(c[j]);
      }
      const double *s = state.data() + (b * steps + t) * 6 * H;
      for (int64_t j = 0; j < H; ++j) {
        CHECK(s[4 * H + j] == Approx(c[j]).margin(1e-13));
        CHECK(s[5 * H + j] == Approx(h[j]).margin(1e-13));
      }
    }
  }
}

TEST_CASE("the step views pick and place the right steps", "[kernels]") {
  // Two samples of three steps of two values, numbered 0..11.
  std::vector<double> x(12);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<double>(i);

  std::vector<double> last(4);
  gradc::lastStep<double>(2, 3, 2, x.data(), last.data());
  CHECK(last == std::vector<double>{4, 5, 10, 11});

  std::vector<double> back(12, -1);
  gradc::lastStepGrad<double>(2, 3, 2, last.data(), back.data());
  CHECK(back == std::vector<double>{0, 0, 0, 0, 4, 5, 0, 0, 0, 0, 10, 11});

  // The previous step's last value of each step, zero before step 0.
  std::vector<double> previous(6, -1);
  gradc::prevHidden<double>(2, 3, 2, 1, x.data(), previous.data());
  CHECK(previous == std::vector<double>{0, 1, 3, 0, 7, 9});
}

TEST_CASE("embedding rows, repeated ids adding up", "[kernels]") {
  const std::vector<float> weight = {0, 1, 10, 11, 20, 21};
  const std::vector<float> ids = {2, 0, 2};
  std::vector<float> rows(6);
  gradc::embedding<float>(3, 3, 2, ids.data(), weight.data(), rows.data());
  CHECK(rows == std::vector<float>{20, 21, 0, 1, 20, 21});

  const std::vector<float> dy = {1, 2, 3, 4, 5, 6};
  std::vector<float> dw(6, -1);
  gradc::embeddingGrad<float>(3, 3, 2, dy.data(), ids.data(), dw.data());
  CHECK(dw == std::vector<float>{3, 4, 0, 0, 6, 8});
}

TEST_CASE("an embedding reads nothing for a value that names no row",
          "[kernels]") {
  const std::vector<float> weight = {1, 2, 3, 4};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> ids = {-1, 2, 0.5f, nan, 1e30f, 1};
  std::vector<float> rows(12, -1);
  gradc::embedding<float>(6, 2, 2, ids.data(), weight.data(), rows.data());
  CHECK(rows == std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 4});

  std::vector<float> dy(12, 1);
  std::vector<float> dw(4, -1);
  gradc::embeddingGrad<float>(6, 2, 2, dy.data(), ids.data(), dw.data());
  CHECK(dw == std::vector<float>{0, 0, 1, 1});
}

TEMPLATE_TEST_CASE("the recurrences' exp keeps to a few units in the last "
                   "place",
                   "[kernels]", float, double) {
  using T = TestType;
  const double ulp = std::numeric_limits<T>::epsilon();
  double worst = 0;
  for (double x = -80; x <= 80; x += 0.0137) {
    const double exact = std::exp(static_cast<double>(static_cast<T>(x)));
    const double got = gradc::detail::sequenceExp(static_cast<T>(x));
    worst = std::max(worst, std::abs(got - exact) / exact);
  }
  CHECK(worst < 4 * ulp);

  const T nan = std::numeric_limits<T>::quiet_NaN();
  CHECK(std::isnan(gradc::detail::sequenceExp(nan)));
  CHECK(std::isnan(gradc::detail::gateSigmoid(nan)));
  CHECK(std::isnan(gradc::detail::gateTanh(nan)));
}

TEMPLATE_TEST_CASE("the recurrences' sigmoid and tanh, to their limits",
                   "[kernels]", float, double) {
  using T = TestType;
  const double ulp = std::numeric_limits<T>::epsilon();
  for (double x = -30; x <= 30; x += 0.0173) {
    const T at = static_cast<T>(x);
    const double sigmoid = 1 / (1 + std::exp(-static_cast<double>(at)));
    CHECK(std::abs(gradc::detail::gateSigmoid(at) - sigmoid) <= 4 * ulp);
    CHECK(std::abs(gradc::detail::gateTanh(at) -
                   std::tanh(static_cast<double>(at))) <= 4 * ulp);
  }

  const T huge = std::numeric_limits<T>::max();
  const T infinity = std::numeric_limits<T>::infinity();
  for (T big : {T(1000), huge, infinity}) {
    CHECK(gradc::detail::gateSigmoid(big) == T(1));
    CHECK(gradc::detail::gateSigmoid(-big) >= T(0));
    CHECK(gradc::detail::gateSigmoid(-big) < T(1e-30));
    CHECK(gradc::detail::gateTanh(big) == T(1));
    CHECK(gradc::detail::gateTanh(-big) == T(-1));
  }
}
