// Tests of the kernels generated code calls (runtime/include/gradc/kernels.h)
// against naive loops in double precision, over shapes that exercise every
// remainder of the register blocking, and the losses at extreme logits.
#include <gradc/kernels.h>

#include <catch2/catch.hpp>

#include <random>

namespace {

std::vector<double> randomMatrix(int64_t rows, int64_t columns,
                                 std::mt19937 &rng) {
  std::normal_distribution<double> normal;
  std::vector<double> values(static_cast<size_t>(rows * columns));
  for (double &value : values)
    value = normal(rng);
  return values;
}

// C[M,N] = sum over k of a(i, k) * b(k, j), with accessors for the layouts.
template <typename A, typename B>
std::vector<double> naiveProduct(int64_t M, int64_t N, int64_t K, A a, B b) {
  std::vector<double> c(static_cast<size_t>(M * N), 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k)
        c[i * N + j] += a(i, k) * b(k, j);
  return c;
}

double maxDifference(const std::vector<double> &x,
                     const std::vector<double> &y) {
  REQUIRE(x.size() == y.size());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

} // namespace

TEST_CASE("matrix products match naive loops at every blocking remainder",
          "[kernels]") {
  std::mt19937 rng(3);
  // Sizes below, at and above the row blocks (6 or 12 rows), the
  // column panels (8, 16 or 32 columns) and the blocks of K (256 deep);
  // one or two rows take dot products instead.
  for (int64_t M : {1, 2, 3, 5, 6, 7, 12, 13, 64})
    for (int64_t N : {1, 7, 16, 17, 33, 70})
      for (int64_t K : {1, 2, 13, 40, 257, 600}) {
        CAPTURE(M, N, K);
        auto x = randomMatrix(M, K, rng);
        auto w = randomMatrix(N, K, rng);
        auto dy = randomMatrix(M, N, rng);

        // y = x w^T
        std::vector<double> y(static_cast<size_t>(M * N));
        gradc::matmulNT<double>(M, N, K, x.data(), w.data(), y.data());
        auto expectY = naiveProduct(
            M, N, K, [&](int64_t i, int64_t k) { return x[i * K + k]; },
            [&](int64_t k, int64_t j) { return w[j * K + k]; });
        CHECK(maxDifference(y, expectY) < 1e-12);

        // dx = dy w
        std::vector<double> dx(static_cast<size_t>(M * K));
        gradc::matmulNN<double>(M, N, K, dy.data(), w.data(), dx.data());
        auto expectDx = naiveProduct(
            M, K, N, [&](int64_t i, int64_t n) { return dy[i * N + n]; },
            [&](int64_t n, int64_t k) { return w[n * K + k]; });
        CHECK(maxDifference(dx, expectDx) < 1e-12);

        // dw = dy^T x
        std::vector<double> dw(static_cast<size_t>(N * K));
        gradc::matmulTN<double>(M, N, K, dy.data(), x.data(), dw.data());
        auto expectDw = naiveProduct(
            N, K, M, [&](int64_t n, int64_t i) { return dy[i * N + n]; },
            [&](int64_t i, int64_t k) { return x[i * K + k]; });
        CHECK(maxDifference(dw, expectDw) < 1e-12);
      }
}

TEST_CASE("float products agree with double products", "[kernels]") {
  std::mt19937 rng(5);
  // 10 columns take the one-vector panels; 64 the two-vector ones, which
  // AVX-512 packs from the transposed weights with gathers.
  for (int64_t N : {10, 50, 64}) {
    CAPTURE(N);
    const int64_t M = 37, K = 300;
    auto x = randomMatrix(M, K, rng);
    auto w = randomMatrix(N, K, rng);
    std::vector<float> xf(x.begin(), x.end()), wf(w.begin(), w.end());
    std::vector<float> yf(M * N);
    std::vector<double> y(M * N);

    gradc::matmulNT<float>(M, N, K, xf.data(), wf.data(), yf.data());
    gradc::matmulNT<double>(M, N, K, x.data(), w.data(), y.data());
    for (size_t i = 0; i < y.size(); ++i)
      CHECK(yf[i] == Approx(y[i]).margin(1e-3));
  }
}

TEST_CASE("softmax cross-entropy is exact on a small case", "[kernels]") {
  // Two samples, three classes; worked out by hand:
  // row 0: logsumexp(0, 0, 0) - 0 = log 3
  // row 1: logsumexp(1, 2, 3) - 3 = log(e^-2 + e^-1 + 1)
  std::vector<double> logits = {0, 0, 0, 1, 2, 3};
  std::vector<int32_t> labels = {1, 2};
  double expected =
      (std::log(3.0) + std::log(std::exp(-2.0) + std::exp(-1.0) + 1)) / 2;
  CHECK(
      gradc::softmaxCrossEntropy<double>(2, 3, logits.data(), labels.data()) ==
      Approx(expected).epsilon(1e-14));

  // d/dz = (softmax(z) - onehot) / B
  std::vector<double> grad(6);
  gradc::softmaxCrossEntropyGrad<double>(2, 3, logits.data(), labels.data(),
                                         grad.data());
  CHECK(grad[0] == Approx(1.0 / 6));
  CHECK(grad[1] == Approx((1.0 / 3 - 1) / 2));
  double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  CHECK(grad[5] == Approx((std::exp(3.0) / z - 1) / 2));
}

TEST_CASE("softmax cross-entropy stays finite at logits of +-1000",
          "[kernels]") {
  std::vector<float> logits = {1000, -1000, 0, -1000, 1000, 0};
  std::vector<int32_t> labels = {1, 1};
  // Row 0 puts all its mass on a wrong class: its loss is 2000.
  // Row 1 is certain and right: its loss is 0.
  float loss =
      gradc::softmaxCrossEntropy<float>(2, 3, logits.data(), labels.data());
  CHECK(loss == Approx(1000.0));

  std::vector<float> grad(6);
  gradc::softmaxCrossEntropyGrad<float>(2, 3, logits.data(), labels.data(),
                                        grad.data());
  for (float g : grad)
    CHECK(std::isfinite(g));
  CHECK(grad[0] == Approx(0.5));
  CHECK(grad[1] == Approx(-0.5));
  CHECK(grad[4] == Approx(0.0).margin(1e-7));
}

TEST_CASE("mean squared error and its gradient", "[kernels]") {
  std::vector<double> prediction = {1, 2, 3, 4};
  std::vector<double> target = {1, 0, 3, 1};
  // ((0)^2 + 2^2 + 0 + 3^2) / 4
  CHECK(gradc::meanSquaredError<double>(4, prediction.data(), target.data()) ==
        Approx(13.0 / 4));
  std::vector<double> grad(4);
  gradc::meanSquaredErrorGrad<double>(4, prediction.data(), target.data(),
                                      grad.data());
  CHECK(grad == std::vector<double>{0, 1, 0, 1.5});
}

TEST_CASE("squared norm", "[kernels]") {
  std::vector<float> values = {3, 4, 0, -12};
  CHECK(gradc::squaredNorm<float>(4, values.data()) == Approx(169.0f));
}
