// Tests of the convolutional kernels (runtime/include/gradc/kernels_conv.h)
// against naive loops in double precision, over windows that exercise
// padding on each side, strides that leave input unread, the 1x1 window
// that unfolds to the input itself, outputs that span several panels of
// the matrix product, and the 3x3 windows of the Winograd path; the
// pools' tie and NaN rules; and the fused kernels against the ops they
// replace, bit for bit.
#include <gradc/kernels.h>

#include "random_values.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace {

using gradc::WindowShape;

std::vector<double> randomValues(int64_t count, std::mt19937 &rng) {
  std::normal_distribution<double> normal;
  std::vector<double> values(static_cast<size_t>(count));
  for (double &value : values)
    value = normal(rng);
  return values;
}

double maxDifference(const std::vector<double> &x,
                     const std::vector<double> &y) {
  REQUIRE(x.size() == y.size());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

// A window with its padding on every side; the kernels see only the top
// and left padding, the bottom and right ones follow from the output size.
struct Window {
  int64_t channels, height, width, filters, kernel, stride;
  int64_t top, left, bottom, right;

  WindowShape shape() const {
    return {channels,
            height,
            width,
            filters,
            (height + top + bottom - kernel) / stride + 1,
            (width + left + right - kernel) / stride + 1,
            kernel,
            stride,
            top,
            left};
  }
};

// Calls visit(b, f, oh, ow, c, i, j, inputIndex) for every product of the
// convolution whose input element lies inside the input.
template <typename Visit>
void forEachProduct(int64_t B, const WindowShape &s, Visit visit) {
  for (int64_t b = 0; b < B; ++b)
    for (int64_t f = 0; f < s.outChannels; ++f)
      for (int64_t oh = 0; oh < s.outHeight; ++oh)
        for (int64_t ow = 0; ow < s.outWidth; ++ow)
          for (int64_t c = 0; c < s.channels; ++c)
            for (int64_t i = 0; i < s.kernel; ++i)
              for (int64_t j = 0; j < s.kernel; ++j) {
                int64_t h = oh * s.stride + i - s.padTop;
                int64_t w = ow * s.stride + j - s.padLeft;
                if (h < 0 || h >= s.height || w < 0 || w >= s.width)
                  continue;
                visit(((b * s.outChannels + f) * s.outHeight + oh) *
                              s.outWidth +
                          ow,
                      ((f * s.channels + c) * s.kernel + i) * s.kernel + j,
                      ((b * s.channels + c) * s.height + h) * s.width + w);
              }
}

} // namespace

TEST_CASE("conv2d and its gradients match naive loops", "[kernels]") {
  const Window windows[] = {
      {2, 6, 7, 3, 3, 1, 0, 0, 0, 0},   // valid
      {3, 5, 4, 5, 1, 1, 0, 0, 0, 0},   // 1x1: the input is its own unfold
      {2, 6, 5, 4, 4, 1, 1, 1, 2, 2},   // same, the odd padding after
      {1, 5, 5, 2, 3, 2, 2, 2, 2, 2},   // a number, wider than k/2
      {2, 7, 8, 3, 2, 3, 1, 1, 1, 1},   // stride 3 over padding
      {2, 5, 7, 2, 5, 2, 0, 0, 0, 0},   // stride 2 leaving columns unread
      {3, 12, 11, 9, 3, 1, 1, 1, 1, 1}, // outputs over several panels
      {1, 20, 21, 9, 3, 1, 0, 0, 0, 0}, // few taps, filters in 4 + 4 + 1
      {2, 9, 19, 3, 3, 1, 0, 0, 0, 0},  // rows wider than a vector
      // 3x3 windows of stride 1 over filters in whole vectors take
      // Winograd's F(2x2, 3x3), forward and for both gradients:
      {4, 12, 11, 8, 3, 1, 1, 1, 1, 1},   // odd output width
      {3, 9, 22, 16, 3, 1, 0, 0, 0, 0},   // odd height, a row of 10 tiles
      {2, 8, 8, 8, 3, 1, 2, 2, 2, 2},     // padding of 2, turned to none
      {5, 6, 7, 16, 3, 1, 1, 0, 0, 1},    // padding on two sides only
      {32, 13, 13, 64, 3, 1, 0, 0, 0, 0}, // cnn_fashion's second layer
  };
  std::mt19937 rng(5);
  for (const Window &window : windows) {
    const WindowShape s = window.shape();
    CAPTURE(s.channels, s.height, s.width, s.outChannels, s.kernel, s.stride,
            s.padTop, s.padLeft);
    const int64_t B = 3;
    auto x = randomValues(B * s.channels * s.height * s.width, rng);
    auto w =
        randomValues(s.outChannels * s.channels * s.kernel * s.kernel, rng);
    auto dy = randomValues(B * s.outChannels * s.outHeight * s.outWidth, rng);

    std::vector<double> expectY(dy.size(), 0.0), expectDw(w.size(), 0.0),
        expectDx(x.size(), 0.0);
    forEachProduct(B, s, [&](int64_t out, int64_t weight, int64_t in) {
      expectY[out] += w[weight] * x[in];
      expectDw[weight] += dy[out] * x[in];
      expectDx[in] += dy[out] * w[weight];
    });

    std::vector<double> y(dy.size()), dw(w.size()), dx(x.size(), 99.0);
    gradc::conv2d<double>(B, s, x.data(), w.data(), y.data());
    gradc::conv2dWeightGrad<double>(B, s, dy.data(), x.data(), dw.data());
    gradc::conv2dInputGrad<double>(B, s, dy.data(), w.data(), dx.data());
    CHECK(maxDifference(y, expectY) < 1e-12);
    CHECK(maxDifference(dw, expectDw) < 1e-12);
    CHECK(maxDifference(dx, expectDx) < 1e-12);

    // The float instantiation, which training runs, to float precision.
    std::vector<float> xf(x.begin(), x.end()), wf(w.begin(), w.end()),
        dyf(dy.begin(), dy.end()), yf(y.size()), dwf(dw.size()),
        dxf(dx.size(), 99.0f);
    gradc::conv2d<float>(B, s, xf.data(), wf.data(), yf.data());
    gradc::conv2dWeightGrad<float>(B, s, dyf.data(), xf.data(), dwf.data());
    gradc::conv2dInputGrad<float>(B, s, dyf.data(), wf.data(), dxf.data());
    CHECK(maxDifference(std::vector<double>(yf.begin(), yf.end()), expectY) <
          1e-4);
    CHECK(maxDifference(std::vector<double>(dwf.begin(), dwf.end()), expectDw) <
          1e-4);
    CHECK(maxDifference(std::vector<double>(dxf.begin(), dxf.end()), expectDx) <
          1e-4);
  }
}

TEST_CASE("the channel bias is added per channel", "[kernels]") {
  const double x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const double bias[] = {10, 20, 30};
  double y[12];
  // Two samples of three channels of two positions.
  gradc::channelBiasAdd<double>(2, 3, 2, x, bias, y);
  const double expected[] = {11, 12, 23, 24, 35, 36, 17, 18, 29, 30, 41, 42};
  for (int i = 0; i < 12; ++i)
    CHECK(y[i] == expected[i]);
}

TEST_CASE("max pooling takes each window's first maximum", "[kernels]") {
  // One 4x4 plane; size 2 at stride 1 gives overlapping windows.
  const WindowShape s{1, 4, 4, 1, 3, 3, 2, 1, 0, 0};
  const double x[] = {1, 5, 5, 0, //
                      5, 2, 3, 4, //
                      0, 0, 4, 4, //
                      7, 7, 4, 4};
  double y[9];
  gradc::maxPool2d<double>(1, s, x, y);
  const double expectY[] = {5, 5, 5, 5, 4, 4, 7, 7, 4};
  for (int i = 0; i < 9; ++i)
    CHECK(y[i] == expectY[i]);

  // Every window sends its gradient to its first maximum in row order,
  // as PyTorch does; overlapping windows that share one add up.
  const double dy[] = {1, 10, 100, 1000, 10000, 1e5, 1e6, 1e7, 1e8};
  double dx[16];
  gradc::maxPool2dGrad<double>(1, s, dy, x, dx);
  const double expectDx[] = {0,   1 + 10, 100,       0,   //
                             1e3, 0,      0,         1e5, //
                             0,   0,      1e4 + 1e8, 0,   //
                             1e6, 1e7,    0,         0};
  for (int i = 0; i < 16; ++i)
    CHECK(dx[i] == expectDx[i]);
}

TEST_CASE("max pooling propagates a NaN", "[kernels]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const WindowShape s{1, 2, 4, 1, 1, 2, 2, 2, 0, 0};
  const double x[] = {1, nan, 3, 4, //
                      9, 2,   3, nan};
  double y[2];
  gradc::maxPool2d<double>(1, s, x, y);
  CHECK(std::isnan(y[0]));
  CHECK(std::isnan(y[1]));

  const double dy[] = {1, 2};
  double dx[8];
  gradc::maxPool2dGrad<double>(1, s, dy, x, dx);
  const double expectDx[] = {0, 1, 0, 0, 0, 0, 0, 2};
  for (int i = 0; i < 8; ++i)
    CHECK(dx[i] == expectDx[i]);
}

namespace {

// The tiling 2x2 windows have their own scans; they must agree with the
// general one. Few distinct values make ties, and NaNs take part; a width
// of 40 gives rows of more windows than a vector holds, odd sizes an
// uncovered row and column.
template <typename T> void checkTiledMaxPool() {
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const int64_t sizes[][2] = {{26, 26}, {11, 11}, {7, 40}, {4, 3}};
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> pick(0, 9);
  for (const auto &size : sizes) {
    const int64_t h = size[0], w = size[1];
    const WindowShape s{3, h, w, 3, h / 2, w / 2, 2, 2, 0, 0};
    CAPTURE(sizeof(T), s.height, s.width);
    const int64_t B = 2, in = B * 3 * s.height * s.width;
    const int64_t out = B * 3 * s.outHeight * s.outWidth;
    std::vector<T> x(static_cast<size_t>(in)), dy(static_cast<size_t>(out));
    for (T &value : x) {
      const int v = pick(rng);
      value = v == 0 ? nan : static_cast<T>(v % 4);
    }
    for (T &value : dy)
      value = static_cast<T>(pick(rng) + 1);
    std::vector<T> y(dy.size()), expectY(dy.size());
    std::vector<T> dx(x.size(), T(99)), expectDx(x.size(), T(99));
    gradc::maxPool2d<T>(B, s, x.data(), y.data());
    gradc::detail::maxPool2d<2, T>(B, s, x.data(), expectY.data());
    gradc::maxPool2dGrad<T>(B, s, dy.data(), x.data(), dx.data());
    gradc::detail::maxPool2dGrad<2, T>(B, s, dy.data(), x.data(),
                                       expectDx.data());
    for (size_t i = 0; i < y.size(); ++i)
      CHECK(
          (y[i] == expectY[i] || (std::isnan(y[i]) && std::isnan(expectY[i]))));
    CHECK(dx == expectDx);
  }
}

} // namespace

TEST_CASE("2x2 max pooling at stride 2 matches the general scan", "[kernels]") {
  checkTiledMaxPool<float>();
  checkTiledMaxPool<double>();
}

TEST_CASE("average pooling matches naive loops", "[kernels]") {
  std::mt19937 rng(9);
  // Size 3 at stride 2 over 7x8: overlapping rows and columns, and the
  // last column left out.
  const WindowShape s{2, 7, 8, 2, 3, 3, 3, 2, 0, 0};
  const int64_t B = 2;
  auto x = randomValues(B * 2 * 7 * 8, rng);
  auto dy = randomValues(B * 2 * 3 * 3, rng);

  std::vector<double> expectY(dy.size(), 0.0), expectDx(x.size(), 0.0);
  for (int64_t p = 0; p < B * 2; ++p)
    for (int64_t oh = 0; oh < 3; ++oh)
      for (int64_t ow = 0; ow < 3; ++ow)
        for (int64_t i = 0; i < 3; ++i)
          for (int64_t j = 0; j < 3; ++j) {
            int64_t in = (p * 7 + oh * 2 + i) * 8 + ow * 2 + j;
            int64_t out = (p * 3 + oh) * 3 + ow;
            expectY[out] += x[in] / 9;
            expectDx[in] += dy[out] / 9;
          }

  std::vector<double> y(dy.size()), dx(x.size(), 99.0);
  gradc::avgPool2d<double>(B, s, x.data(), y.data());
  gradc::avgPool2dGrad<double>(B, s, dy.data(), dx.data());
  CHECK(maxDifference(y, expectY) < 1e-12);
  CHECK(maxDifference(dx, expectDx) < 1e-12);
}

namespace {

// Whether two results hold the same bits, element for element: what the
// fused kernels promise, where a tolerance would let a -0 or a NaN pass.
template <typename T>
bool sameBits(const std::vector<T> &x, const std::vector<T> &y) {
  return x.size() == y.size() &&
         std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0;
}

// The generated step's relu loop, and its relu_grad loop with y the relu's
// output, as the C++ backend prints them.
template <typename T> void reluLoop(std::vector<T> &values) {
  for (T &value : values)
    value = value > T(0) ? value : T(0);
}

template <typename T>
void reluGradLoop(const std::vector<T> &y, std::vector<T> &grad) {
  for (size_t i = 0; i < grad.size(); ++i)
    grad[i] = y[i] > T(0) ? grad[i] : T(0);
}

// conv2dBias against conv2d, channelBiasAdd and the relu loop. The last
// sample is all zeros, so that its outputs are the biases, some of them
// -0, and one input is a NaN.
template <typename T> void checkConv2dBias(int64_t B, const WindowShape &s) {
  std::mt19937 rng(17);
  std::normal_distribution<double> normal;
  const int64_t sample = s.channels * s.height * s.width;
  std::vector<T> x(static_cast<size_t>(B * sample));
  for (T &value : x)
    value = static_cast<T>(normal(rng));
  std::fill(x.end() - sample, x.end(), T(0));
  x[1] = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> w(
      static_cast<size_t>(s.outChannels * s.channels * s.kernel * s.kernel));
  for (T &value : w)
    value = static_cast<T>(normal(rng));
  std::vector<T> bias(static_cast<size_t>(s.outChannels));
  for (size_t f = 0; f < bias.size(); ++f)
    bias[f] = f % 3 == 0 ? T(-0.0) : static_cast<T>(normal(rng));

  const size_t outputs =
      static_cast<size_t>(B * s.outChannels * s.outHeight * s.outWidth);
  std::vector<T> product(outputs), unfused(outputs);
  gradc::conv2d<T>(B, s, x.data(), w.data(), product.data());
  gradc::channelBiasAdd<T>(B, s.outChannels, s.outHeight * s.outWidth,
                           product.data(), bias.data(), unfused.data());
  std::vector<T> fused(outputs, T(99));
  gradc::conv2dBias<T, false>(B, s, x.data(), w.data(), bias.data(),
                              fused.data());
  CHECK(sameBits(fused, unfused));

  reluLoop(unfused);
  std::fill(fused.begin(), fused.end(), T(99));
  gradc::conv2dBias<T, true>(B, s, x.data(), w.data(), bias.data(),
                             fused.data());
  CHECK(sameBits(fused, unfused));
  // The relu had negative values to zero, and kept positive ones.
  CHECK(std::count(fused.begin(), fused.end(), T(0)) > 0);
  CHECK(std::count_if(fused.begin(), fused.end(),
                      [](T value) { return value > T(0); }) > 0);
}

// maxPool2dGrad<T, true> against maxPool2dGrad and the relu_grad loop on
// the pool's input x. Few distinct values make ties, and zeros, -0s,
// negative values and NaNs all take part; dy has -0s too.
template <typename T> void checkPositivePoolGrad(const WindowShape &s) {
  const int64_t B = 2;
  const auto x = poolInputs<T>(B * s.channels * s.height * s.width, 23);
  std::mt19937 rng(24);
  std::uniform_int_distribution<int> pick(0, 9);
  std::vector<T> dy(
      static_cast<size_t>(B * s.channels * s.outHeight * s.outWidth));
  for (T &value : dy) {
    const int v = pick(rng);
    value = v == 0 ? T(-0.0) : static_cast<T>(v - 4);
  }

  std::vector<T> unfused(x.size(), T(99)), fused(x.size(), T(99));
  gradc::maxPool2dGrad<T>(B, s, dy.data(), x.data(), unfused.data());
  reluGradLoop(x, unfused);
  gradc::maxPool2dGrad<T, true>(B, s, dy.data(), x.data(), fused.data());
  CHECK(sameBits(fused, unfused));
  CHECK(std::count_if(fused.begin(), fused.end(),
                      [](T value) { return value != T(0); }) > 0);

  if (gradc::detail::tiles2x2(s)) {
    // The 2x2 scan itself, whichever scan maxPool2dGrad chose above. It
    // writes a dy of -0 where the general scan adds it to +0, so it is
    // compared with itself unfused.
    std::fill(unfused.begin(), unfused.end(), T(99));
    gradc::detail::maxPool2x2Grad<false>(B, s, dy.data(), x.data(),
                                         unfused.data());
    reluGradLoop(x, unfused);
    std::fill(fused.begin(), fused.end(), T(99));
    gradc::detail::maxPool2x2Grad<true>(B, s, dy.data(), x.data(),
                                        fused.data());
    CHECK(sameBits(fused, unfused));
  }
}

} // namespace

TEST_CASE("conv2dBias gives the bits of conv2d, the bias add and relu",
          "[kernels]") {
  const Window windows[] = {
      {1, 28, 28, 32, 3, 1, 0, 0, 0, 0},  // cnn_fashion's first layer
      {32, 13, 13, 64, 3, 1, 0, 0, 0, 0}, // and its second
      {3, 5, 4, 5, 1, 1, 0, 0, 0, 0},     // 1x1: the input is its own unfold
      {2, 7, 8, 3, 2, 3, 1, 1, 1, 1},     // stride 3 over padding
      {3, 9, 8, 5, 3, 2, 1, 2, 1, 2},     // stride 2, padding on every side
      {1, 9, 9, 6, 3, 2, 1, 1, 1, 1},     // few taps, padded and strided
  };
  for (const Window &window : windows) {
    const WindowShape s = window.shape();
    CAPTURE(s.channels, s.height, s.width, s.outChannels, s.kernel, s.stride,
            s.padTop, s.padLeft);
    for (int64_t B : {1, 4}) {
      CAPTURE(B);
      checkConv2dBias<float>(B, s);
      checkConv2dBias<double>(B, s);
    }
  }
}

TEST_CASE("positive maxPool2dGrad gives the bits of maxPool2dGrad and "
          "relu_grad",
          "[kernels]") {
  const WindowShape windows[] = {
      {3, 26, 26, 3, 13, 13, 2, 2, 0, 0}, // 2x2 tiles, 13 windows a row
      {3, 11, 11, 3, 5, 5, 2, 2, 0, 0},   // an uncovered row and column
      {2, 7, 40, 2, 3, 20, 2, 2, 0, 0},   // rows wider than a vector
      {2, 4, 3, 2, 2, 1, 2, 2, 0, 0},     // one window a row
      {2, 6, 6, 2, 5, 5, 2, 1, 0, 0},     // 2x2 overlapping at stride 1
      {2, 9, 10, 2, 4, 4, 3, 2, 0, 0},    // 3x3 at stride 2
      {2, 11, 12, 2, 3, 3, 4, 3, 0, 0},   // a size with no scan of its own
  };
  for (const WindowShape &s : windows) {
    CAPTURE(s.height, s.width, s.kernel, s.stride);
    checkPositivePoolGrad<float>(s);
    checkPositivePoolGrad<double>(s);
  }
}
