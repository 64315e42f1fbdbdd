// The matrix products as a trainer compiled for this machine runs them:
// this file is compiled with -march=native, so that the products take the
// paths only vector targets have (the transposed weights packed by 16x16
// transposes with AVX-512 or 8x8 ones with AVX, short panel rows moved in
// masked vectors). Each element must be, bit for bit, the fused
// multiply-adds of its dot product taken in order.
#include <gradc/kernels.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <tuple>
#include <vector>

namespace {

std::vector<float> randomValues(int64_t n, std::mt19937 &random) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(n));
  for (float &v : values)
    v = value(random);
  return values;
}

// The elements of c[M,N] that differ from the fused multiply-adds of
// a(i, k) b(k, j) over k = 0..K-1, taken in order from zero.
template <typename A, typename B>
int64_t wrongElements(int64_t M, int64_t N, int64_t K,
                      const std::vector<float> &c, A a, B b) {
  int64_t wrong = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float sum = 0;
      for (int64_t k = 0; k < K; ++k)
        sum = std::fma(a(i, k), b(k, j), sum);
      wrong += c[i * N + j] != sum;
    }
  return wrong;
}

} // namespace

TEST_CASE("a dense layer's forward product is its dot products in order",
          "[kernels]") {
  std::mt19937 random(11);
  // Depths below, at and past the 8 or 16 rows of a transpose and the 256
  // of a block; widths of whole 16- or 32-column panels and not.
  for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{5, 32, 16},
                         {7, 64, 37},
                         {3, 96, 300},
                         {12, 33, 20},
                         {64, 64, 64},
                         {3, 64, 15}}) {
    const std::vector<float> x = randomValues(M * K, random);
    const std::vector<float> w = randomValues(N * K, random);
    std::vector<float> y(M * N);
    gradc::matmulNT<float>(M, N, K, x.data(), w.data(), y.data());

    INFO("M " << M << " N " << N << " K " << K);
    CHECK(wrongElements(
              M, N, K, y, [&](int64_t i, int64_t k) { return x[i * K + k]; },
              [&](int64_t k, int64_t j) { return w[j * K + k]; }) == 0);
  }
}

TEST_CASE("an input gradient's product is its dot products in order",
          "[kernels]") {
  std::mt19937 random(12);
  // dx[M,K] = dy[M,N] w[N,K]: the panels cut K, whose last is short
  // unless K is a multiple of 32 (121: a convolution's positions).
  for (auto [M, N, K] : {std::tuple<int64_t, int64_t, int64_t>{7, 64, 121},
                         {12, 20, 25},
                         {5, 9, 40},
                         {3, 300, 50}}) {
    const std::vector<float> dy = randomValues(M * N, random);
    const std::vector<float> w = randomValues(N * K, random);
    std::vector<float> dx(M * K);
    gradc::matmulNN<float>(M, N, K, dy.data(), w.data(), dx.data());

    INFO("M " << M << " N " << N << " K " << K);
    // dx's columns are the K of the layer, summed over its N outputs.
    CHECK(wrongElements(
              M, K, N, dx, [&](int64_t i, int64_t n) { return dy[i * N + n]; },
              [&](int64_t n, int64_t k) { return w[n * K + k]; }) == 0);
  }
}
