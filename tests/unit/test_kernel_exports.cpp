// Tests of the precompiled kernels (runtime/kernels/exports.cpp, linked
// here as libgradc_kernels_native.a): each C entry point must give, bit
// for bit, what its template gives when called directly, for float and
// double, which checks the order of the arguments, the unpacked
// WindowShape, the int flags and the activation chosen by name. This file
// is compiled with the native library's flags, as the C++ backend compiles
// a trainer for --target native, so that the two sides can agree to the
// bit. Each result is also checked against a naive computation, so that
// two outputs that were never written cannot pass for equal.
#include <gradc/kernel_exports.h>
#include <gradc/kernels.h>

#include "random_values.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

namespace {

using gradc::WindowShape;

// The exported functions of one element type.
template <typename T> struct Exports;

template <> struct Exports<float> {
  static constexpr auto matmulNT = gradc_matmulNT_f32;
  static constexpr auto conv2d = gradc_conv2d_f32;
  static constexpr auto conv2dBias = gradc_conv2dBias_f32;
  static constexpr auto conv2dBiasRelu = gradc_conv2dBiasRelu_f32;
  static constexpr auto maxPool2dGradPositive = gradc_maxPool2dGradPositive_f32;
  static constexpr auto positiveChannelSum = gradc_positiveChannelSum_f32;
  static constexpr auto rnnReluScan = gradc_rnnReluScan_f32;
  static constexpr auto rnnTanhScan = gradc_rnnTanhScan_f32;
  static constexpr auto dropout = gradc_dropout_f32;
  static constexpr auto softmaxCrossEntropy = gradc_softmaxCrossEntropy_f32;
  static constexpr auto layerNorm = gradc_layerNorm_f32;
};

template <> struct Exports<double> {
  static constexpr auto matmulNT = gradc_matmulNT_f64;
  static constexpr auto conv2d = gradc_conv2d_f64;
  static constexpr auto conv2dBias = gradc_conv2dBias_f64;
  static constexpr auto conv2dBiasRelu = gradc_conv2dBiasRelu_f64;
  static constexpr auto maxPool2dGradPositive = gradc_maxPool2dGradPositive_f64;
  static constexpr auto positiveChannelSum = gradc_positiveChannelSum_f64;
  static constexpr auto rnnReluScan = gradc_rnnReluScan_f64;
  static constexpr auto rnnTanhScan = gradc_rnnTanhScan_f64;
  static constexpr auto dropout = gradc_dropout_f64;
  static constexpr auto softmaxCrossEntropy = gradc_softmaxCrossEntropy_f64;
  static constexpr auto layerNorm = gradc_layerNorm_f64;
};

// Whether two results hold the same bits, element for element.
template <typename T>
bool sameBits(const std::vector<T> &x, const std::vector<T> &y) {
  return x.size() == y.size() &&
         std::memcmp(x.data(), y.data(), x.size() * sizeof(T)) == 0;
}

template <typename T> bool sameBits(T x, T y) {
  return std::memcmp(&x, &y, sizeof(T)) == 0;
}

// The largest difference between a result and a reference in double.
template <typename T>
double maxDifference(const std::vector<T> &x, const std::vector<double> &y) {
  REQUIRE(x.size() == y.size());
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(x[i]) - y[i]));
  return worst;
}

// A tolerance for sums of a few dozen terms of order 1.
template <typename T> double tolerance() {
  return sizeof(T) == 4 ? 1e-4 : 1e-12;
}

} // namespace

TEMPLATE_TEST_CASE("exported matmulNT gives the template's bits",
                   "[kernel_exports]", float, double) {
  using T = TestType;
  // 37 columns of w span more than one panel of the product in both types;
  // the larger product is split over threads when there are several.
  auto [M, N, K] = GENERATE(std::tuple<int64_t, int64_t, int64_t>{7, 37, 13},
                            std::tuple<int64_t, int64_t, int64_t>{70, 300, 40});
  auto x = randomValues<T>(M * K, 1);
  auto w = randomValues<T>(N * K, 2);
  std::vector<T> exported(M * N, T(-7)), direct(M * N, T(-9));
  Exports<T>::matmulNT(M, N, K, x.data(), w.data(), exported.data());
  gradc::matmulNT<T>(M, N, K, x.data(), w.data(), direct.data());
  CHECK(sameBits(exported, direct));

  std::vector<double> naive(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k)
        naive[i * N + j] += double(x[i * K + k]) * double(w[j * K + k]);
  CHECK(maxDifference(exported, naive) < tolerance<T>());
}

TEMPLATE_TEST_CASE("exported conv2d unpacks the WindowShape in field order",
                   "[kernel_exports]", float, double) {
  using T = TestType;
  // Every field differs from the others, so that two swapped fields would
  // change the result: 3 channels of 9x8, 5 filters of 3x3, stride 2, one
  // row of padding above, two columns left; output 5x5.
  const WindowShape s{3, 9, 8, 5, 5, 5, 3, 2, 1, 2};
  const int64_t B = 2;
  auto x = randomValues<T>(B * s.channels * s.height * s.width, 3);
  auto w = randomValues<T>(s.outChannels * s.channels * s.kernel * s.kernel, 4);
  const size_t outputs = B * s.outChannels * s.outHeight * s.outWidth;
  std::vector<T> exported(outputs, T(-7)), direct(outputs, T(-9));
  Exports<T>::conv2d(B, s.channels, s.height, s.width, s.outChannels,
                     s.outHeight, s.outWidth, s.kernel, s.stride, s.padTop,
                     s.padLeft, x.data(), w.data(), exported.data());
  gradc::conv2d<T>(B, s, x.data(), w.data(), direct.data());
  CHECK(sameBits(exported, direct));

  std::vector<double> naive(outputs, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t f = 0; f < s.outChannels; ++f)
      for (int64_t oh = 0; oh < s.outHeight; ++oh)
        for (int64_t ow = 0; ow < s.outWidth; ++ow) {
          double sum = 0;
          for (int64_t c = 0; c < s.channels; ++c)
            for (int64_t kh = 0; kh < s.kernel; ++kh)
              for (int64_t kw = 0; kw < s.kernel; ++kw) {
                int64_t ih = oh * s.stride + kh - s.padTop;
                int64_t iw = ow * s.stride + kw - s.padLeft;
                if (ih < 0 || ih >= s.height || iw < 0 || iw >= s.width)
                  continue;
                sum +=
                    double(w[((f * s.channels + c) * s.kernel + kh) * s.kernel +
                             kw]) *
                    double(x[((b * s.channels + c) * s.height + ih) * s.width +
                             iw]);
              }
          naive[((b * s.outChannels + f) * s.outHeight + oh) * s.outWidth +
                ow] = sum;
        }
  CHECK(maxDifference(exported, naive) < tolerance<T>());
}

TEMPLATE_TEST_CASE("exported rnn scans run the activation of their name",
                   "[kernel_exports]", float, double) {
  using T = TestType;
  const int64_t B = 3, steps = 4, H = 5;
  auto pre = randomValues<T>(B * steps * H, 5);
  auto whh = randomValues<T>(H * H, 6);
  const size_t states = B * steps * H;

  std::vector<T> relu(states, T(-7)), direct(states, T(-9));
  Exports<T>::rnnReluScan(B, steps, H, pre.data(), whh.data(), relu.data());
  gradc::rnnScan<T, true>(B, steps, H, pre.data(), whh.data(), direct.data());
  CHECK(sameBits(relu, direct));

  std::vector<T> tanh(states, T(-7));
  Exports<T>::rnnTanhScan(B, steps, H, pre.data(), whh.data(), tanh.data());
  gradc::rnnScan<T, false>(B, steps, H, pre.data(), whh.data(), direct.data());
  CHECK(sameBits(tanh, direct));

  // h_t = relu(pre_t + W_hh h_{t-1}), h_{-1} = 0.
  std::vector<double> naive(states, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < steps; ++t)
      for (int64_t j = 0; j < H; ++j) {
        double sum = double(pre[(b * steps + t) * H + j]);
        for (int64_t k = 0; t > 0 && k < H; ++k)
          sum += double(whh[j * H + k]) * naive[(b * steps + t - 1) * H + k];
        naive[(b * steps + t) * H + j] = sum > 0 ? sum : 0;
      }
  CHECK(maxDifference(relu, naive) < tolerance<T>());
}

TEMPLATE_TEST_CASE("exported dropout reads its int flag as a bool",
                   "[kernel_exports]", float, double) {
  using T = TestType;
  const int64_t n = 1000;
  const double rate = 0.3;
  const uint64_t seed = 12345, salt = 0x9E3779B97F4A7C15ull;
  auto in = randomValues<T>(n, 7);

  // Any nonzero flag trains.
  for (int32_t training : {1, 2, -1}) {
    std::vector<T> exported(n, T(-7)), direct(n, T(-9));
    Exports<T>::dropout(n, in.data(), exported.data(), rate, seed, salt,
                        training);
    gradc::dropout<T>(n, in.data(), direct.data(), rate, seed, salt, true);
    CHECK(sameBits(exported, direct));

    const T scale = static_cast<T>(1.0 / (1.0 - rate));
    int64_t dropped = 0, misscaled = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (exported[i] == T(0))
        ++dropped;
      else if (exported[i] != in[i] * scale)
        ++misscaled;
    }
    CHECK(misscaled == 0);
    CHECK(dropped > 230);
    CHECK(dropped < 370);
  }

  // Zero evaluates: the input is copied.
  std::vector<T> exported(n, T(-7)), direct(n, T(-9));
  Exports<T>::dropout(n, in.data(), exported.data(), rate, seed, salt, 0);
  gradc::dropout<T>(n, in.data(), direct.data(), rate, seed, salt, false);
  CHECK(sameBits(exported, direct));
  CHECK(sameBits(exported, in));
}

TEMPLATE_TEST_CASE("exported softmaxCrossEntropy returns the template's loss",
                   "[kernel_exports]", float, double) {
  using T = TestType;
  const int64_t B = 4, C = 6;
  auto logits = randomValues<T>(B * C, 8);
  const std::vector<int32_t> labels = {0, 5, 2, 2};
  T exported =
      Exports<T>::softmaxCrossEntropy(B, C, logits.data(), labels.data());
  T direct = gradc::softmaxCrossEntropy<T>(B, C, logits.data(), labels.data());
  CHECK(sameBits(exported, direct));

  double naive = 0;
  for (int64_t b = 0; b < B; ++b) {
    double sum = 0;
    for (int64_t j = 0; j < C; ++j)
      sum += std::exp(double(logits[b * C + j]));
    naive += std::log(sum) - double(logits[b * C + labels[b]]);
  }
  naive /= B;
  CHECK(naive > 0.5);
  CHECK(std::abs(double(exported) - naive) < tolerance<T>());
}

TEMPLATE_TEST_CASE("exported layerNorm passes eps on as a double",
                   "[kernel_exports]", float, double) {
  using T = TestType;
  const int64_t rows = 3, n = 10;
  auto x = randomValues<T>(rows * n, 9);
  auto weight = randomValues<T>(n, 10);
  auto bias = randomValues<T>(n, 11);
  // An eps this large moves the result well beyond rounding, so a lost or
  // misplaced eps shows.
  const double eps = 0.25;
  std::vector<T> exported(rows * n, T(-7)), direct(rows * n, T(-9));
  Exports<T>::layerNorm(rows, n, x.data(), weight.data(), bias.data(), eps,
                        exported.data());
  gradc::layerNorm<T>(rows, n, x.data(), weight.data(), bias.data(), eps,
                      direct.data());
  CHECK(sameBits(exported, direct));

  std::vector<double> naive(rows * n);
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, squares = 0;
    for (int64_t j = 0; j < n; ++j)
      mean += double(x[r * n + j]) / n;
    for (int64_t j = 0; j < n; ++j)
      squares += (double(x[r * n + j]) - mean) * (double(x[r * n + j]) - mean);
    double invStd = 1 / std::sqrt(squares / n + eps);
    for (int64_t j = 0; j < n; ++j)
      naive[r * n + j] =
          (double(x[r * n + j]) - mean) * invStd * double(weight[j]) +
          double(bias[j]);
  }
  CHECK(maxDifference(exported, naive) < tolerance<T>());
}

// Calls an exported kernel of the convolutional family with `s` unpacked.
template <typename Kernel, typename... Tensors>
void callWindowed(Kernel kernel, int64_t B, const WindowShape &s,
                  Tensors... tensors) {
  kernel(B, s.channels, s.height, s.width, s.outChannels, s.outHeight,
         s.outWidth, s.kernel, s.stride, s.padTop, s.padLeft, tensors...);
}

TEMPLATE_TEST_CASE("exported conv2dBias gives conv2d, the bias and relu",
                   "[kernel_exports]", float, double) {
  using T = TestType;
  // A padded, strided window whose product is the matrix product, and
  // cnn_fashion's first layer, whose few taps take their own loops.
  const WindowShape s =
      GENERATE(WindowShape{3, 9, 8, 5, 5, 5, 3, 2, 1, 2},
               WindowShape{1, 28, 28, 32, 26, 26, 3, 1, 0, 0});
  const int64_t B = 4, positions = s.outHeight * s.outWidth;
  auto x = randomValues<T>(B * s.channels * s.height * s.width, 12);
  auto w =
      randomValues<T>(s.outChannels * s.channels * s.kernel * s.kernel, 13);
  auto bias = randomValues<T>(s.outChannels, 14);
  const size_t outputs = B * s.outChannels * positions;

  // The unfused ops, as the C++ backend calls them at -O0.
  std::vector<T> product(outputs), biased(outputs), relu(outputs);
  gradc::conv2d<T>(B, s, x.data(), w.data(), product.data());
  gradc::channelBiasAdd<T>(B, s.outChannels, positions, product.data(),
                           bias.data(), biased.data());
  for (size_t i = 0; i < outputs; ++i)
    relu[i] = biased[i] > T(0) ? biased[i] : T(0);

  std::vector<T> exported(outputs, T(-7));
  callWindowed(Exports<T>::conv2dBias, B, s, x.data(), w.data(), bias.data(),
               exported.data());
  CHECK(sameBits(exported, biased));
  std::vector<double> naive(outputs);
  for (size_t i = 0; i < outputs; ++i)
    naive[i] = double(product[i]) + double(bias[i / positions % s.outChannels]);
  CHECK(maxDifference(exported, naive) < tolerance<T>());

  callWindowed(Exports<T>::conv2dBiasRelu, B, s, x.data(), w.data(),
               bias.data(), exported.data());
  CHECK(sameBits(exported, relu));
  for (double &value : naive)
    value = value > 0 ? value : 0;
  CHECK(maxDifference(exported, naive) < tolerance<T>());
}

TEMPLATE_TEST_CASE("exported maxPool2dGradPositive masks by the pool's input",
                   "[kernel_exports]", float, double) {
  using T = TestType;
  // 2x2 tiles, which take their own scan (with AVX-512, in vectors for
  // floats), over 13 windows a row, and 3x3 windows at stride 2.
  const WindowShape s = GENERATE(WindowShape{3, 26, 26, 3, 13, 13, 2, 2, 0, 0},
                                 WindowShape{2, 9, 10, 2, 4, 4, 3, 2, 0, 0});
  const int64_t B = 2;
  const auto x = poolInputs<T>(B * s.channels * s.height * s.width, 15);
  auto dy = randomValues<T>(B * s.channels * s.outHeight * s.outWidth, 16);

  // The unfused ops: the pool's gradient, then relu_grad's select.
  std::vector<T> unfused(x.size());
  gradc::maxPool2dGrad<T>(B, s, dy.data(), x.data(), unfused.data());
  for (size_t i = 0; i < x.size(); ++i)
    unfused[i] = x[i] > T(0) ? unfused[i] : T(0);
  std::vector<T> exported(x.size(), T(-7));
  callWindowed(Exports<T>::maxPool2dGradPositive, B, s, dy.data(), x.data(),
               exported.data());
  CHECK(sameBits(exported, unfused));

  // Each window's dy to its last NaN, or else its first maximum, where
  // that element is > 0.
  std::vector<double> naive(x.size(), 0.0);
  for (int64_t p = 0; p < B * s.channels; ++p)
    for (int64_t oh = 0; oh < s.outHeight; ++oh)
      for (int64_t ow = 0; ow < s.outWidth; ++ow) {
        int64_t best = -1, nan = -1;
        for (int64_t kh = 0; kh < s.kernel; ++kh)
          for (int64_t kw = 0; kw < s.kernel; ++kw) {
            const int64_t at = (p * s.height + oh * s.stride + kh) * s.width +
                               ow * s.stride + kw;
            if (std::isnan(x[at]))
              nan = at;
            else if (best < 0 || x[at] > x[best])
              best = at;
          }
        const int64_t chosen = nan >= 0 ? nan : best;
        if (x[chosen] > T(0))
          naive[chosen] += double(dy[(p * s.outHeight + oh) * s.outWidth + ow]);
      }
  CHECK(maxDifference(exported, naive) < tolerance<T>());
}

TEMPLATE_TEST_CASE("exported positiveChannelSum sums the pooled gradient "
                   "that the pool's gradient keeps",
                   "[kernel_exports]", float, double) {
  using T = TestType;
  // The pool's gradient summed per channel, as the bias gradient was
  // before the fold, against the pooled gradient summed where the pool's
  // output is > 0: 2x2 tiles with a column no window covers, and
  // overlapping 3x3 windows, over ties, zeros, negatives and NaNs.
  const WindowShape s = GENERATE(WindowShape{3, 27, 27, 3, 13, 13, 2, 2, 0, 0},
                                 WindowShape{2, 9, 10, 2, 4, 4, 3, 2, 0, 0});
  const int64_t B = 2, inner = s.outHeight * s.outWidth;
  const auto x = poolInputs<T>(B * s.channels * s.height * s.width, 17);
  std::vector<T> y(B * s.channels * inner);
  gradc::maxPool2d<T>(B, s, x.data(), y.data());

  // A NaN in dy where the window's maximum is not > 0 must not count.
  auto dy = randomValues<T>(y.size(), 18);
  const auto notPositive =
      std::find_if(y.begin(), y.end(), [](T v) { return !(v > T(0)); });
  REQUIRE(notPositive != y.end());
  dy[notPositive - y.begin()] = std::numeric_limits<T>::quiet_NaN();

  std::vector<T> dx(x.size());
  gradc::maxPool2dGrad<T, true>(B, s, dy.data(), x.data(), dx.data());
  std::vector<T> unfolded(s.channels);
  gradc::channelSum<T>(B, s.channels, s.height * s.width, dx.data(),
                       unfolded.data());

  std::vector<T> exported(s.channels, T(-7)), direct(s.channels);
  Exports<T>::positiveChannelSum(B, s.channels, inner, dy.data(), y.data(),
                                 exported.data());
  gradc::positiveChannelSum<T>(B, s.channels, inner, dy.data(), y.data(),
                               direct.data());
  CHECK(sameBits(exported, direct));
  std::vector<double> reference(unfolded.begin(), unfolded.end());
  for (double value : reference)
    REQUIRE(std::isfinite(value));
  CHECK(maxDifference(exported, reference) < tolerance<T>());
}
