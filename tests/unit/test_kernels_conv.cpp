// Tests of the convolutional kernels (runtime/include/gradc/kernels_conv.h)
// against naive loops in double precision, over windows that exercise
// padding on each side, strides that leave input unread, the 1x1 window
// that unfolds to the input itself, and outputs that span several panels
// of the matrix product; and the pools' tie and NaN rules.
#include <gradc/kernels.h>

#include <catch2/catch.hpp>

#include <cmath>
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
