// Tests of the Winograd path for 3x3 convolutions of stride 1
// (runtime/include/gradc/kernels_winograd.h), compiled with -march=native
// as a trainer for --target native is, so that its vectors are the
// target's widest. The forward convolution, with and without the bias and
// relu, the input gradient and the weight gradient are checked against
// the unfolding path over windows with padding of 0 to 2 on any side, odd
// output sizes and rows of more tiles than a vector holds: to double
// precision's rounding in double, and to float's, relative to the sums'
// size, in float.
#include <gradc/kernels.h>

#include "random_values.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace {

using gradc::WindowShape;

// The largest difference between x and y, over the largest |y|.
template <typename T>
double relativeDifference(const std::vector<T> &x, const std::vector<T> &y) {
  REQUIRE(x.size() == y.size());
  double worst = 0, largest = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    worst = std::max(worst, std::abs(double(x[i]) - double(y[i])));
    largest = std::max(largest, std::abs(double(y[i])));
  }
  REQUIRE(largest > 0);
  return worst / largest;
}

// Checks the forward convolution of shape s, and the input gradient when
// it takes the Winograd path too; says whether it did.
template <typename T> bool checkWindow(const WindowShape &s, double within) {
  const int64_t B = 3;
  const size_t in = static_cast<size_t>(B * s.channels * s.height * s.width);
  const size_t out =
      static_cast<size_t>(B * s.outChannels * s.outHeight * s.outWidth);
  const auto x = randomValues<T>(in, 1);
  const auto w =
      randomValues<T>(static_cast<size_t>(s.outChannels * s.channels * 9), 2);
  const auto bias = randomValues<T>(static_cast<size_t>(s.outChannels), 3);
  const auto dy = randomValues<T>(out, 4);
  REQUIRE(gradc::detail::winogradFits<T>(s));

  std::vector<T> expected(out), y(out, T(99));
  gradc::detail::convolveUnfolded<false>(B, s, x.data(), w.data(),
                                         static_cast<const T *>(nullptr),
                                         expected.data());
  gradc::winogradConvolve<false>(B, s, x.data(), w.data(),
                                 static_cast<const T *>(nullptr), y.data());
  CHECK(relativeDifference(y, expected) < within);

  gradc::detail::convolveUnfolded<true>(B, s, x.data(), w.data(), bias.data(),
                                        expected.data());
  std::fill(y.begin(), y.end(), T(99));
  gradc::winogradConvolve<true>(B, s, x.data(), w.data(), bias.data(),
                                y.data());
  CHECK(relativeDifference(y, expected) < within);
  CHECK(*std::min_element(y.begin(), y.end()) == T(0));

  // The input gradient takes the path when the input's channels fill
  // whole vectors.
  if (!gradc::detail::winogradInputGradFits<T>(s))
    return false;
  std::vector<T> expectedDx(in), dx(in, T(99));
  gradc::detail::inputGradUnfolded(B, s, dy.data(), w.data(),
                                   expectedDx.data());
  gradc::winogradInputGrad(B, s, dy.data(), w.data(), dx.data());
  CHECK(relativeDifference(dx, expectedDx) < within);
  return true;
}

// Checks the weight gradient of shape s over a batch of `batch` samples.
template <typename T>
void checkWeightGrad(const WindowShape &s, int64_t batch, double within) {
  const size_t in =
      static_cast<size_t>(batch * s.channels * s.height * s.width);
  const size_t out =
      static_cast<size_t>(batch * s.outChannels * s.outHeight * s.outWidth);
  const auto x = randomValues<T>(in, 5);
  const auto dy = randomValues<T>(out, 6);
  const size_t weights = static_cast<size_t>(s.outChannels * s.channels * 9);
  std::vector<T> expected(weights), dw(weights, T(99));
  gradc::detail::weightGradUnfolded(batch, s, dy.data(), x.data(),
                                    expected.data());
  gradc::winogradWeightGrad(batch, s, dy.data(), x.data(), dw.data());
  CHECK(relativeDifference(dw, expected) < within);
}

} // namespace

TEST_CASE("Winograd's F(2x2, 3x3) matches the unfolded convolution",
          "[kernels][winograd]") {
  // {C, H, W, F, OH, OW, 3, 1, top, left}: the bottom and right padding
  // follow from the output size. Filters and channels come in 16s, whole
  // vectors of floats with AVX-512, so that every target takes the
  // Winograd path for both directions.
  const WindowShape windows[] = {
      {32, 13, 13, 64, 11, 11, 3, 1, 0, 0}, // cnn_fashion's second layer
      {16, 12, 11, 16, 12, 11, 3, 1, 1, 1}, // same padding, odd width
      {16, 9, 22, 16, 7, 20, 3, 1, 0, 0},   // a row of 10 tiles
      {16, 8, 8, 32, 10, 10, 3, 1, 2, 2},   // padding of 2, turned to none
      {16, 6, 7, 16, 5, 7, 3, 1, 1, 0},     // padding on two sides only
      {16, 5, 5, 16, 1, 1, 3, 1, 0, 0},     // one tile, half of it outside
      {3, 9, 10, 16, 9, 10, 3, 1, 1, 1},    // forward only: 3 channels
  };
  int inputGrads = 0;
  for (const WindowShape &s : windows) {
    CAPTURE(s.channels, s.height, s.width, s.outChannels, s.outHeight,
            s.outWidth, s.padTop, s.padLeft);
    inputGrads += checkWindow<double>(s, 1e-13);
    inputGrads += checkWindow<float>(s, 2e-6);

    // A few samples, and more than two of the largest chunks. A weight
    // gradient sums every sample's and position's products, so its
    // rounding relative to its size is larger than an output's.
    for (int64_t batch : {int64_t{3}, 2 * gradc::kWinogradMaxChunk + 3}) {
      checkWeightGrad<double>(s, batch, 1e-13);
      checkWeightGrad<float>(s, batch, 1e-5);
    }
  }
  CHECK(inputGrads >= 12);
}

TEST_CASE("the weight gradient's chunks fit half an L2 cache",
          "[kernels][winograd]") {
  using gradc::winogradChunk;

  // cnn_fashion's second layer: 16 (32 + 64) 36-tile planes, 221 KiB a
  // sample in float.
  const WindowShape wide{32, 13, 13, 64, 11, 11, 3, 1, 0, 0};
  CHECK(winogradChunk<float>(64, wide) == 1);
  CHECK(winogradChunk<double>(64, wide) == 1);

  // 8 channels and 16 filters over 36 tiles: 54 KiB a sample.
  const WindowShape small{8, 12, 11, 16, 12, 11, 3, 1, 1, 1};
  CHECK(winogradChunk<float>(64, small) == 4);
  CHECK(winogradChunk<float>(3, small) == 3);

  // One tile: the largest chunk, or the whole batch when it is smaller.
  const WindowShape tiny{8, 5, 5, 16, 1, 1, 3, 1, 0, 0};
  CHECK(winogradChunk<float>(64, tiny) == gradc::kWinogradMaxChunk);
  CHECK(winogradChunk<float>(5, tiny) == 5);
  CHECK(winogradChunk<float>(0, tiny) == 1);
}
