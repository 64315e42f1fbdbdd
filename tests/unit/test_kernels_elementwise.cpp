// Tests of the kernels of the elementwise, normalization and regularization
// family (runtime/include/gradc/kernels_elementwise.h): the activations and
// their derivatives against central differences, softmax and layer
// normalization against naive double loops, dropout by its statistics and
// its determinism, and both cross-entropy losses at extreme logits.
#include <gradc/kernels.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <vector>

namespace {

std::vector<double> normalValues(size_t count, double scale,
                                 std::mt19937 &rng) {
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<double> values(count);
  for (double &value : values)
    value = normal(rng);
  return values;
}

// Central difference of f at x, in double.
double numericDerivative(const std::function<double(double)> &f, double x) {
  const double h = 1e-6;
  return (f(x + h) - f(x - h)) / (2 * h);
}

// Checks that grad(dy, x) == dy * f'(x) at points away from kinks.
void checkDerivative(const std::function<double(double)> &f,
                     const std::function<double(double, double)> &grad) {
  for (double x : {-25.0, -3.0, -1.2, -0.4, -0.05, 0.05, 0.3, 1.7, 4.0, 19.5,
                   20.5, 30.0}) {
    CAPTURE(x);
    const double dy = 1.75;
    CHECK(grad(dy, x) ==
          Approx(dy * numericDerivative(f, x)).epsilon(1e-6).margin(1e-9));
  }
}

bool allFinite(const std::vector<float> &values) {
  for (float value : values)
    if (!std::isfinite(value))
      return false;
  return true;
}

} // namespace

TEST_CASE("activations match their definitions", "[kernels]") {
  CHECK(gradc::leakyRelu<double>(2.0, 0.01) == 2.0);
  CHECK(gradc::leakyRelu<double>(-2.0, 0.01) == Approx(-0.02));
  CHECK(gradc::elu<double>(-1.0, 1.0) == Approx(std::exp(-1.0) - 1));
  CHECK(gradc::elu<double>(-1.0, 0.5) == Approx(0.5 * (std::exp(-1.0) - 1)));
  CHECK(gradc::elu<double>(3.0, 0.5) == 3.0);

  // GELU: x * Phi(x), with Phi(1) = 0.841344746068543 from tables.
  CHECK(gradc::gelu<double>(1.0) == Approx(0.841344746068543).epsilon(1e-14));
  CHECK(gradc::gelu<double>(-1.0) ==
        Approx(-(1 - 0.841344746068543)).epsilon(1e-13));
  CHECK(gradc::gelu<double>(0.0) == 0.0);

  // Softplus is log(1 + e^x) up to 20, and x itself above.
  CHECK(gradc::softplus<double>(0.0) == Approx(std::log(2.0)));
  CHECK(gradc::softplus<double>(-3.0) ==
        Approx(std::log(1 + std::exp(-3.0))).epsilon(1e-14));
  CHECK(gradc::softplus<double>(20.0) ==
        Approx(20 + std::log1p(std::exp(-20.0))).epsilon(1e-15));
  CHECK(gradc::softplus<double>(20.5) == 20.5);
  CHECK(gradc::softplus<float>(1000.0f) == 1000.0f);
  CHECK(gradc::softplus<float>(-1000.0f) == 0.0f);
}

TEST_CASE("activation derivatives match central differences", "[kernels]") {
  checkDerivative([](double x) { return gradc::leakyRelu<double>(x, 0.2); },
                  [](double dy, double x) {
                    return gradc::leakyReluGrad<double>(dy, x, 0.2);
                  });
  checkDerivative(
      [](double x) { return gradc::elu<double>(x, 0.7); },
      [](double dy, double x) { return gradc::eluGrad<double>(dy, x, 0.7); });
  checkDerivative(
      [](double x) { return gradc::gelu<double>(x); },
      [](double dy, double x) { return gradc::geluGrad<double>(dy, x); });
  checkDerivative(
      [](double x) { return gradc::softplus<double>(x); },
      [](double dy, double x) { return gradc::softplusGrad<double>(dy, x); });
}

TEST_CASE("softmax rows sum to one and match the definition", "[kernels]") {
  std::mt19937 rng(11);
  const int64_t rows = 5, n = 7;
  auto x = normalValues(rows * n, 3.0, rng);
  std::vector<double> y(x.size());
  gradc::softmaxRows<double>(rows, n, x.data(), y.data());
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0, total = 0;
    for (int64_t j = 0; j < n; ++j)
      sum += std::exp(x[r * n + j]);
    for (int64_t j = 0; j < n; ++j) {
      CHECK(y[r * n + j] == Approx(std::exp(x[r * n + j]) / sum));
      total += y[r * n + j];
    }
    CHECK(total == Approx(1.0).epsilon(1e-14));
  }

  // The backward against central differences of sum(dy * softmax(x)).
  auto dy = normalValues(x.size(), 1.0, rng);
  std::vector<double> dx(x.size());
  gradc::softmaxRowsGrad<double>(rows, n, dy.data(), y.data(), dx.data());
  auto objective = [&](const std::vector<double> &at) {
    std::vector<double> out(at.size());
    gradc::softmaxRows<double>(rows, n, at.data(), out.data());
    double total = 0;
    for (size_t i = 0; i < out.size(); ++i)
      total += dy[i] * out[i];
    return total;
  };
  for (size_t i = 0; i < x.size(); ++i) {
    auto plus = x, minus = x;
    plus[i] += 1e-6;
    minus[i] -= 1e-6;
    double numeric = (objective(plus) - objective(minus)) / 2e-6;
    CHECK(dx[i] == Approx(numeric).epsilon(1e-6).margin(1e-9));
  }
}

TEST_CASE("softmax stays finite at inputs of +-1000", "[kernels]") {
  std::vector<float> x = {1000, -1000, 0, -1000, -1000, -1000};
  std::vector<float> y(6);
  gradc::softmaxRows<float>(2, 3, x.data(), y.data());
  CHECK(allFinite(y));
  CHECK(y[0] == 1.0f);
  CHECK(y[1] == 0.0f);
  CHECK(y[3] == Approx(1.0 / 3));
  CHECK(y[5] == Approx(1.0 / 3));
}

TEST_CASE("layer normalization matches naive loops", "[kernels]") {
  std::mt19937 rng(13);
  const int64_t rows = 6, n = 9;
  const double eps = 1e-5;
  // A large mean tests that the variance is taken around it.
  auto x = normalValues(rows * n, 2.0, rng);
  for (double &value : x)
    value += 100;
  auto weight = normalValues(n, 1.0, rng);
  auto bias = normalValues(n, 1.0, rng);
  std::vector<double> y(x.size());
  gradc::layerNorm<double>(rows, n, x.data(), weight.data(), bias.data(), eps,
                           y.data());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < n; ++j)
      mean += x[r * n + j] / n;
    for (int64_t j = 0; j < n; ++j)
      var += (x[r * n + j] - mean) * (x[r * n + j] - mean) / n;
    for (int64_t j = 0; j < n; ++j) {
      double expected =
          (x[r * n + j] - mean) / std::sqrt(var + eps) * weight[j] + bias[j];
      CHECK(y[r * n + j] == Approx(expected).epsilon(1e-10).margin(1e-11));
    }
  }

  // Both gradients against central differences of sum(dy * y).
  auto dy = normalValues(x.size(), 1.0, rng);
  auto objective = [&](const std::vector<double> &at,
                       const std::vector<double> &w) {
    std::vector<double> out(at.size());
    gradc::layerNorm<double>(rows, n, at.data(), w.data(), bias.data(), eps,
                             out.data());
    double total = 0;
    for (size_t i = 0; i < out.size(); ++i)
      total += dy[i] * out[i];
    return total;
  };
  std::vector<double> dx(x.size()), dweight(n);
  gradc::layerNormGrad<double>(rows, n, dy.data(), x.data(), weight.data(), eps,
                               dx.data());
  gradc::layerNormWeightGrad<double>(rows, n, dy.data(), x.data(), eps,
                                     dweight.data());
  for (size_t i = 0; i < x.size(); ++i) {
    auto plus = x, minus = x;
    plus[i] += 1e-5;
    minus[i] -= 1e-5;
    double numeric =
        (objective(plus, weight) - objective(minus, weight)) / 2e-5;
    CHECK(dx[i] == Approx(numeric).epsilon(1e-5).margin(1e-7));
  }
  for (int64_t j = 0; j < n; ++j) {
    auto plus = weight, minus = weight;
    plus[j] += 1e-6;
    minus[j] -= 1e-6;
    double numeric = (objective(x, plus) - objective(x, minus)) / 2e-6;
    CHECK(dweight[j] == Approx(numeric).epsilon(1e-6).margin(1e-9));
  }
}

TEST_CASE("dropout zeroes about `rate` of the values and scales the rest "
          "exactly",
          "[kernels]") {
  const int64_t n = 1000000;
  std::vector<float> x(n), y(n);
  for (int64_t i = 0; i < n; ++i)
    x[i] = 0.5f + static_cast<float>(i % 1000) / 1000.0f;

  for (double rate : {0.1, 0.3, 0.5, 0.9}) {
    CAPTURE(rate);
    gradc::dropout<float>(n, x.data(), y.data(), rate, 12345, 77, true);
    const float scale = static_cast<float>(1.0 / (1.0 - rate));
    int64_t zeros = 0;
    bool keptExact = true;
    for (int64_t i = 0; i < n; ++i) {
      if (y[i] == 0.0f)
        ++zeros;
      else if (y[i] != x[i] * scale)
        keptExact = false;
    }
    CHECK(keptExact);
    // The standard deviation of the fraction is sqrt(rate (1 - rate) / n),
    // at most 5e-4 here; 3e-3 is six of them.
    CHECK(static_cast<double>(zeros) / n == Approx(rate).margin(3e-3));
  }
}

TEST_CASE("dropout masks depend on the seed, the layer and the index only",
          "[kernels]") {
  const int64_t n = 4096;
  std::vector<double> ones(n, 1.0), a(n), b(n), c(n), d(n);

  // The same call twice gives the same mask, whatever happened between.
  gradc::dropout<double>(n, ones.data(), a.data(), 0.5, 99, 1, true);
  gradc::dropout<double>(n, ones.data(), c.data(), 0.5, 100, 1, true);
  gradc::dropout<double>(n, ones.data(), b.data(), 0.5, 99, 1, true);
  CHECK(a == b);
  // Another step's seed or another layer's salt draws another mask.
  CHECK(a != c);
  gradc::dropout<double>(n, ones.data(), d.data(), 0.5, 99, 2, true);
  CHECK(a != d);

  // A prefix of the tensor gets the prefix of the mask: the mask of an
  // element does not depend on how many elements there are.
  std::vector<double> prefix(100);
  gradc::dropout<double>(100, ones.data(), prefix.data(), 0.5, 99, 1, true);
  CHECK(std::equal(prefix.begin(), prefix.end(), a.begin()));

  // The backward, the same call on dy, zeroes exactly where the forward did.
  std::vector<double> dy(n, 3.0), dx(n);
  gradc::dropout<double>(n, dy.data(), dx.data(), 0.5, 99, 1, true);
  for (int64_t i = 0; i < n; ++i)
    CHECK((dx[i] == 0) == (a[i] == 0));
}

TEST_CASE("dropout is the identity outside training and at rate 0",
          "[kernels]") {
  std::vector<float> x = {1, -2, 3, 0.25f, 5}, y(5);
  gradc::dropout<float>(5, x.data(), y.data(), 0.7, 1, 2, false);
  CHECK(y == x);
  gradc::dropout<float>(5, x.data(), y.data(), 0.0, 1, 2, true);
  CHECK(y == x);
}

TEST_CASE("softmax cross-entropy is finite and right at logits of +-1000, "
          "in float and double",
          "[kernels]") {
  // Row 0 puts all its mass on a wrong class: its loss is 2000. Row 1 is
  // certain and right: its loss is 0. The mean is 1000.
  std::vector<int32_t> labels = {1, 1};
  std::vector<float> logitsF = {1000, -1000, 0, -1000, 1000, 0};
  std::vector<double> logitsD(logitsF.begin(), logitsF.end());
  CHECK(gradc::softmaxCrossEntropy<float>(2, 3, logitsF.data(),
                                          labels.data()) == Approx(1000.0));
  CHECK(
      gradc::softmaxCrossEntropy<double>(2, 3, logitsD.data(), labels.data()) ==
      Approx(1000.0).epsilon(1e-15));

  // (softmax - onehot) / B: row 0 is (1, -1, 0) / 2, row 1 is zero.
  std::vector<float> gradF(6);
  std::vector<double> gradD(6);
  gradc::softmaxCrossEntropyGrad<float>(2, 3, logitsF.data(), labels.data(),
                                        gradF.data());
  gradc::softmaxCrossEntropyGrad<double>(2, 3, logitsD.data(), labels.data(),
                                         gradD.data());
  const std::vector<double> expected = {0.5, -0.5, 0, 0, 0, 0};
  CHECK(allFinite(gradF));
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(gradF[i] == Approx(expected[i]).margin(1e-7));
    CHECK(gradD[i] == Approx(expected[i]).margin(1e-15));
  }
}

TEST_CASE("bce_with_logits is exact on a small case", "[kernels]") {
  std::vector<double> logits = {0.0, 2.0, -1.5, 0.3};
  std::vector<double> targets = {1.0, 0.0, 0.25, 0.5};
  double expected = 0;
  std::vector<double> grad(4), expectedGrad(4);
  for (size_t i = 0; i < 4; ++i) {
    double p = 1 / (1 + std::exp(-logits[i]));
    expected +=
        -(targets[i] * std::log(p) + (1 - targets[i]) * std::log(1 - p)) / 4;
    expectedGrad[i] = (p - targets[i]) / 4;
  }
  CHECK(gradc::bceWithLogits<double>(4, logits.data(), targets.data()) ==
        Approx(expected).epsilon(1e-14));
  gradc::bceWithLogitsGrad<double>(4, logits.data(), targets.data(),
                                   grad.data());
  for (size_t i = 0; i < 4; ++i)
    CHECK(grad[i] == Approx(expectedGrad[i]).epsilon(1e-14));
}

TEST_CASE("bce_with_logits is finite and right at logits of +-200, in float "
          "and double",
          "[kernels]") {
  // Confidently wrong elements cost |x| = 200 each; confidently right ones
  // cost log(1 + e^-200), which is e^-200 to double precision.
  std::vector<float> logitsF = {200, -200, 200, -200};
  std::vector<float> targetsF = {0, 1, 1, 0};
  std::vector<double> logitsD(logitsF.begin(), logitsF.end());
  std::vector<double> targetsD(targetsF.begin(), targetsF.end());
  CHECK(gradc::bceWithLogits<float>(4, logitsF.data(), targetsF.data()) ==
        Approx(100.0));
  CHECK(gradc::bceWithLogits<double>(4, logitsD.data(), targetsD.data()) ==
        Approx((400 + 2 * std::exp(-200.0)) / 4).epsilon(1e-15));

  // (sigmoid(x) - t) / n: +-1/4 where wrong, 0 (to e^-200) where right.
  std::vector<float> gradF(4);
  std::vector<double> gradD(4);
  gradc::bceWithLogitsGrad<float>(4, logitsF.data(), targetsF.data(),
                                  gradF.data());
  gradc::bceWithLogitsGrad<double>(4, logitsD.data(), targetsD.data(),
                                   gradD.data());
  const std::vector<double> expected = {0.25, -0.25, 0, 0};
  CHECK(allFinite(gradF));
  for (size_t i = 0; i < 4; ++i) {
    CHECK(gradF[i] == Approx(expected[i]).margin(1e-7));
    CHECK(gradD[i] == Approx(expected[i]).margin(1e-80));
  }
}
