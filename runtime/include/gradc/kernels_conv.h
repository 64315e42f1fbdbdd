// Kernels of the convolutional ops: 2-D convolution forward and backward
// and the per-channel bias of a convolution (whose gradient is
// kernels_batchnorm.h's channelSum), also as an epilogue of the forward
// convolution, with or without a relu. Pooling is in kernels_pool.h.
//
// Every tensor is a batch of samples laid out [C, H, W], as PyTorch lays
// them out. A convolution is a matrix product over the unfolded input
// (im2col): for one sample, column n of U[C*k*k, OH*OW] holds the input
// window that output position n sees, with zeros where the window hangs
// over the padding. Then
//   forward        y[F, OH*OW]      = W[F, C*k*k] U
//   weight grad    dW^T[C*k*k, F]  += U dy^T, summed over the batch
//   input grad     dU[C*k*k, OH*OW] = W^T dy, folded back onto dx (col2im)
// each through the register-blocked product of kernels.h, one sample at
// a time so that the unfolded input stays in cache. The threads split the
// samples, or for the weight gradient, a sum over the batch, the taps.
// A 3x3 window of stride 1 over enough channels and filters takes
// Winograd's F(2x2, 3x3) (kernels_winograd.h) instead, forward and for the
// input gradient.
// A convolution of few taps, too shallow a product, takes its own
// vectorized loops instead: the forward product broadcasts W over the rows
// of U, and the weight gradient takes dot products, the threads splitting
// its filters.
#ifndef GRADC_KERNELS_CONV_H
#define GRADC_KERNELS_CONV_H

#include <gradc/kernels.h>
#include <gradc/kernels_unfold.h>
#include <gradc/kernels_winograd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace gradc {
namespace detail {

// y[FR, CR vectors] = W[FR, taps] U[taps, CR vectors] for rows of U
// `padded` apart and rows of y `ldy` apart, summing the taps in order from
// zero as the matrix product does; only the first `columns` of the last
// vector are stored.
template <int FR, int CR, typename T>
void fewTapsBlock(int64_t taps, const T *w, const T *u, int64_t padded, T *y,
                  int64_t ldy, int64_t columns) {
  using G = Gemm<T>;
  typename G::Vec acc[FR][CR] = {}, v[CR];
  for (int64_t t = 0; t < taps; ++t) {
    for (int c = 0; c < CR; ++c)
      v[c] = G::load(u + t * padded + c * G::Lanes);
    for (int f = 0; f < FR; ++f) {
      const T weight = w[f * taps + t];
      for (int c = 0; c < CR; ++c)
        acc[f][c] += weight * v[c];
    }
  }
  for (int f = 0; f < FR; ++f)
    for (int c = 0; c < CR; ++c) {
      T *out = y + f * ldy + c * G::Lanes;
      if (c < CR - 1 || columns == G::Lanes) {
        G::store(out, acc[f][c]);
      } else {
        T row[G::Lanes];
        G::store(row, acc[f][c]);
        std::copy(row, row + columns, out);
      }
    }
}

// fewTapsBlock for the `filters` (1 to FR) and `vectors` (1 to CR) left.
template <int FR = 4, int CR = 3, typename T>
void fewTapsBlockUpTo(int64_t filters, int64_t vectors, int64_t taps,
                      const T *w, const T *u, int64_t padded, T *y, int64_t ldy,
                      int64_t columns) {
  if constexpr (FR > 1) {
    if (filters < FR)
      return fewTapsBlockUpTo<FR - 1, CR>(filters, vectors, taps, w, u, padded,
                                          y, ldy, columns);
  }
  if constexpr (CR > 1) {
    if (vectors < CR)
      return fewTapsBlockUpTo<FR, CR - 1>(filters, vectors, taps, w, u, padded,
                                          y, ldy, columns);
  }
  fewTapsBlock<FR, CR>(taps, w, u, padded, y, ldy, columns);
}

// y_b = W U for one sample of a convolution of few taps, U unfolded into
// `columns` with rows padded to whole vectors, and W's rows broadcast
// straight from w, where the product would first copy U into panels.
template <typename T>
void conv2dFewTaps(const WindowShape &s, const T *xb, const T *w, T *yb,
                   AlignedVector<T> &columns) {
  constexpr int64_t lanes = Gemm<T>::Lanes, FR = 4, CR = 3;
  const int64_t taps = s.channels * s.kernel * s.kernel;
  const int64_t positions = s.outHeight * s.outWidth;
  const int64_t vectors = (positions + lanes - 1) / lanes;
  const int64_t padded = vectors * lanes;
  columns.resize(static_cast<size_t>(taps * padded));
  for (int64_t t = 0; t < taps; ++t) {
    unfold(s, xb, columns.data() + t * padded, t, t + 1);
    std::fill(columns.data() + t * padded + positions,
              columns.data() + (t + 1) * padded, T(0));
  }
  for (int64_t f = 0; f < s.outChannels; f += FR)
    for (int64_t v = 0; v < vectors; v += CR) {
      const int64_t count = std::min(CR, vectors - v);
      fewTapsBlockUpTo(std::min(FR, s.outChannels - f), count, taps,
                       w + f * taps, columns.data() + v * lanes, padded,
                       yb + f * positions + v * lanes, positions,
                       std::min(lanes, positions - (v + count - 1) * lanes));
    }
}

// A convolution's epilogue for one sample, y_b[f, :] = y_b[f, :] + bias[f],
// then with Relu v > 0 ? v : 0, while y_b is still in cache. These are
// channelBiasAdd's addition and the generated relu loop's select, so the
// fused ops give the bits of the separate ones (a -0 or a NaN becomes +0).
template <bool Relu, typename T>
void addChannelBias(int64_t filters, int64_t positions, const T *bias, T *yb) {
  for (int64_t f = 0; f < filters; ++f) {
    const T shift = bias[f];
    T *row = yb + f * positions;
    for (int64_t i = 0; i < positions; ++i) {
      const T value = row[i] + shift;
      row[i] = Relu ? (value > T(0) ? value : T(0)) : value;
    }
  }
}

// conv2d by unfolding (or few taps' loops), and with a bias (null: none)
// the epilogue after each sample.
template <bool Relu, typename T>
void convolveUnfolded(int64_t B, const WindowShape &s, const T *x, const T *w,
                      const T *bias, T *y) {
  const int64_t taps = s.channels * s.kernel * s.kernel;
  const int64_t positions = s.outHeight * s.outWidth;
  auto epilogue = [&](T *yb) {
    if (bias)
      addChannelBias<Relu>(s.outChannels, positions, bias, yb);
  };
  if (taps <= kFewTaps && !unfoldsToItself(s) && B > 1)
    return parallelRanges(B, B * s.outChannels * taps * positions,
                          [&](int64_t first, int64_t last) {
                            thread_local AlignedVector<T> columns;
                            for (int64_t b = first; b < last; ++b) {
                              T *yb = y + b * s.outChannels * positions;
                              conv2dFewTaps(
                                  s, x + b * s.channels * s.height * s.width, w,
                                  yb, columns);
                              epilogue(yb);
                            }
                          });
  parallelRanges(B, B * s.outChannels * taps * positions,
                 [&](int64_t first, int64_t last) {
                   thread_local AlignedVector<T> unfolded;
                   detail::scratch(unfolded, taps * positions);
                   for (int64_t b = first; b < last; ++b) {
                     const T *xb = x + b * s.channels * s.height * s.width;
                     const T *u = xb;
                     if (!unfoldsToItself(s)) {
                       unfold(s, xb, unfolded.data());
                       u = unfolded.data();
                     }
                     // y_b[F, OH*OW] = W[F, C*k*k] U[C*k*k, OH*OW]
                     T *yb = y + b * s.outChannels * positions;
                     Gemm<T>::run(s.outChannels, positions, taps, w, taps,
                                  false, u, positions, false, yb, positions);
                     epilogue(yb);
                   }
                 });
}

// conv2d, with a bias (null: none) and relu with Relu, by Winograd's
// F(2x2, 3x3) where it fits, otherwise by unfolding.
template <bool Relu, typename T>
void convolve(int64_t B, const WindowShape &s, const T *x, const T *w,
              const T *bias, T *y) {
  if (winogradFits<T>(s))
    return winogradConvolve<Relu>(B, s, x, w, bias, y);
  convolveUnfolded<Relu>(B, s, x, w, bias, y);
}

} // namespace detail

// y = conv2d(x, w): x[B, C, H, W], w[F, C, k, k], y[B, F, OH, OW].
// The threads split the batch; a batch of one sample splits its product,
// so takes the product even with few taps. A 3x3 window of stride 1 over
// enough channels and filters takes kernels_winograd.h's path.
template <typename T>
void conv2d(int64_t B, const WindowShape &s, const T *x, const T *w, T *y) {
  detail::convolve<false, T>(B, s, x, w, nullptr, y);
}

// y = conv2d(x, w) + bias[F], then relu with Relu: conv2d, channelBiasAdd
// and relu in one pass, with the same bits. Each sample's output gets its
// bias right after its product, on the thread that computed it.
template <typename T, bool Relu>
void conv2dBias(int64_t B, const WindowShape &s, const T *x, const T *w,
                const T *bias, T *y) {
  detail::convolve<Relu, T>(B, s, x, w, bias, y);
}

namespace detail {

// sums[f][t] += the lanes of dy_b[f, :] * U[t, :] for FR filters and TR
// taps: rows of dy_b `positions` apart, whose last partial vector is read
// from `tails` (zero-padded, a vector per filter), and rows of U `padded`
// apart, zero-padded to whole vectors; sums `taps` apart. Every sum gets
// the same operations in the same order whatever block it falls in.
template <int FR, int TR, typename T>
void laneDots(int64_t positions, int64_t padded, const T *grads, const T *tails,
              const T *columns, typename Gemm<T>::Vec *sums, int64_t taps) {
  using G = Gemm<T>;
  typename G::Vec acc[FR][TR], g[FR], u[TR];
  for (int f = 0; f < FR; ++f)
    for (int t = 0; t < TR; ++t)
      acc[f][t] = sums[f * taps + t];
  int64_t k = 0;
  for (; k + G::Lanes <= positions; k += G::Lanes) {
    for (int f = 0; f < FR; ++f)
      g[f] = G::load(grads + f * positions + k);
    for (int t = 0; t < TR; ++t)
      u[t] = G::load(columns + t * padded + k);
    for (int f = 0; f < FR; ++f)
      for (int t = 0; t < TR; ++t)
        acc[f][t] += g[f] * u[t];
  }
  if (k < positions) {
    for (int f = 0; f < FR; ++f)
      g[f] = G::load(tails + f * G::Lanes);
    for (int t = 0; t < TR; ++t)
      u[t] = G::load(columns + t * padded + k);
    for (int f = 0; f < FR; ++f)
      for (int t = 0; t < TR; ++t)
        acc[f][t] += g[f] * u[t];
  }
  for (int f = 0; f < FR; ++f)
    for (int t = 0; t < TR; ++t)
      sums[f * taps + t] = acc[f][t];
}

// laneDots for the `filters` (1 to FR) and `count` (1 to TR) left.
template <int FR = 4, int TR = 3, typename T>
void laneDotsUpTo(int64_t filters, int64_t count, int64_t positions,
                  int64_t padded, const T *grads, const T *tails,
                  const T *columns, typename Gemm<T>::Vec *sums, int64_t taps) {
  if constexpr (FR > 1) {
    if (filters < FR)
      return laneDotsUpTo<FR - 1, TR>(filters, count, positions, padded, grads,
                                      tails, columns, sums, taps);
  }
  if constexpr (TR > 1) {
    if (count < TR)
      return laneDotsUpTo<FR, TR - 1>(filters, count, positions, padded, grads,
                                      tails, columns, sums, taps);
  }
  laneDots<FR, TR>(positions, padded, grads, tails, columns, sums, taps);
}

// conv2dWeightGrad for a window of few taps (a first layer's 3x3 over one
// channel). As a product, dW^T = U dy_b^T is then only `taps` rows tall,
// and packing dy_b^T for it cost as much as the arithmetic. Here each
// element of dW is a dot product of a row of dy_b and a row of U, both
// contiguous, taken in vectors: lane l of a sum collects the positions
// l, l + Lanes, ... of every sample in order, and the lanes are added up
// at the end in order. The threads split the filters, each summing the
// whole batch for its own.
template <typename T>
void conv2dWeightGradFewTaps(int64_t B, const WindowShape &s, const T *dy,
                             const T *x, T *dw) {
  using G = Gemm<T>;
  using Vec = typename G::Vec;
  const int64_t taps = s.channels * s.kernel * s.kernel;
  const int64_t positions = s.outHeight * s.outWidth;
  const int64_t whole = positions / G::Lanes * G::Lanes;
  const int64_t padded = (positions + G::Lanes - 1) / G::Lanes * G::Lanes;
  constexpr int64_t FR = 4, TR = 3;
  const int64_t filterBlocks = (s.outChannels + FR - 1) / FR;
  parallelRanges(
      filterBlocks, B * s.outChannels * taps * positions,
      [&](int64_t first, int64_t last) {
        const int64_t f0 = first * FR;
        const int64_t filters = std::min(s.outChannels, last * FR) - f0;
        thread_local AlignedVector<T> columns, tails;
        thread_local std::vector<Vec> sums;
        columns.assign(static_cast<size_t>(taps * padded), T(0));
        tails.assign(static_cast<size_t>(filters * G::Lanes), T(0));
        sums.assign(static_cast<size_t>(filters * taps), Vec{});
        for (int64_t b = 0; b < B; ++b) {
          const T *xb = x + b * s.channels * s.height * s.width;
          for (int64_t t = 0; t < taps; ++t)
            unfold(s, xb, columns.data() + t * padded, t, t + 1);
          const T *dyb = dy + (b * s.outChannels + f0) * positions;
          for (int64_t f = 0; f < filters; ++f)
            std::copy(dyb + f * positions + whole, dyb + (f + 1) * positions,
                      tails.data() + f * G::Lanes);
          for (int64_t f = 0; f < filters; f += FR)
            for (int64_t t = 0; t < taps; t += TR)
              laneDotsUpTo(std::min(FR, filters - f), std::min(TR, taps - t),
                           positions, padded, dyb + f * positions,
                           tails.data() + f * G::Lanes,
                           columns.data() + t * padded,
                           sums.data() + f * taps + t, taps);
        }
        for (int64_t f = 0; f < filters; ++f)
          for (int64_t t = 0; t < taps; ++t) {
            T lanes[G::Lanes];
            G::store(lanes, sums[f * taps + t]);
            T total = 0;
            for (int l = 0; l < G::Lanes; ++l)
              total += lanes[l];
            dw[(f0 + f) * taps + t] = total;
          }
      });
}

// conv2dWeightGrad by the products U dy_b^T, summed over the batch in
// order. The threads split the taps, the rows of dW^T, and each unfolds
// only its own rows of U.
template <typename T>
void weightGradUnfolded(int64_t B, const WindowShape &s, const T *dy,
                        const T *x, T *dw) {
  const int64_t taps = s.channels * s.kernel * s.kernel;
  const int64_t positions = s.outHeight * s.outWidth;
  thread_local AlignedVector<T> transposed;
  transposed.assign(static_cast<size_t>(taps * s.outChannels), T(0));
  T *dwT = transposed.data();

  parallelRanges(
      taps, B * s.outChannels * taps * positions,
      [&](int64_t first, int64_t last) {
        thread_local AlignedVector<T> unfolded;
        detail::scratch(unfolded, (last - first) * positions);
        for (int64_t b = 0; b < B; ++b) {
          const T *xb = x + b * s.channels * s.height * s.width;
          const T *u = xb + first * positions;
          if (!detail::unfoldsToItself(s)) {
            detail::unfold(s, xb, unfolded.data(), first, last);
            u = unfolded.data();
          }
          // dW^T[C*k*k, F] += U[C*k*k, OH*OW] dy_b[F, OH*OW]^T; U is read in
          // place as the product's left side, and only the small dy_b is
          // packed.
          detail::Gemm<T>::run(
              last - first, s.outChannels, positions, u, positions, false,
              dy + b * s.outChannels * positions, positions, true,
              dwT + first * s.outChannels, s.outChannels, true);
        }
      });

  for (int64_t f = 0; f < s.outChannels; ++f)
    for (int64_t t = 0; t < taps; ++t)
      dw[f * taps + t] = transposed[t * s.outChannels + f];
}

} // namespace detail

// dw = d loss / d w, given dy[B, F, OH, OW] and x[B, C, H, W]. Few taps
// take conv2dWeightGradFewTaps, a 3x3 window of stride 1 that
// winogradFits the Winograd path, the rest weightGradUnfolded.
template <typename T>
void conv2dWeightGrad(int64_t B, const WindowShape &s, const T *dy, const T *x,
                      T *dw) {
  const int64_t taps = s.channels * s.kernel * s.kernel;
  if (taps <= detail::kFewTaps && !detail::unfoldsToItself(s))
    return detail::conv2dWeightGradFewTaps(B, s, dy, x, dw);
  if (detail::winogradFits<T>(s))
    return winogradWeightGrad(B, s, dy, x, dw);
  detail::weightGradUnfolded(B, s, dy, x, dw);
}

namespace detail {

// conv2dInputGrad by the product W^T dy, folded back onto dx.
template <typename T>
void inputGradUnfolded(int64_t B, const WindowShape &s, const T *dy, const T *w,
                       T *dx) {
  const int64_t taps = s.channels * s.kernel * s.kernel;
  const int64_t positions = s.outHeight * s.outWidth;
  const int64_t sampleSize = s.channels * s.height * s.width;
  parallelRanges(B, B * s.outChannels * taps * positions,
                 [&](int64_t first, int64_t last) {
                   thread_local AlignedVector<T> unfolded;
                   detail::scratch(unfolded, taps * positions);
                   for (int64_t b = first; b < last; ++b) {
                     T *dxb = dx + b * sampleSize;
                     const T *dyb = dy + b * s.outChannels * positions;
                     // dU[C*k*k, OH*OW] = W[F, C*k*k]^T dy_b[F, OH*OW], written
                     // straight into dx when unfolding is the identity.
                     if (unfoldsToItself(s)) {
                       Gemm<T>::run(taps, positions, s.outChannels, w, taps,
                                    true, dyb, positions, false, dxb,
                                    positions);
                       continue;
                     }
                     Gemm<T>::run(taps, positions, s.outChannels, w, taps, true,
                                  dyb, positions, false, unfolded.data(),
                                  positions);
                     fold(s, unfolded.data(), dxb);
                   }
                 });
}

} // namespace detail

// dx = d loss / d x, given dy[B, F, OH, OW] and w[F, C, k, k]. The
// threads split the batch; a batch of one sample splits its product. A
// convolution that winogradInputGradFits (kernels_winograd.h) takes the
// Winograd path.
template <typename T>
void conv2dInputGrad(int64_t B, const WindowShape &s, const T *dy, const T *w,
                     T *dx) {
  if (detail::winogradInputGradFits<T>(s))
    return winogradInputGrad(B, s, dy, w, dx);
  detail::inputGradUnfolded(B, s, dy, w, dx);
}

// y[b, c, ...] = x[b, c, ...] + bias[c], for `plane` elements per channel.
template <typename T>
void channelBiasAdd(int64_t B, int64_t channels, int64_t plane, const T *x,
                    const T *bias, T *y) {
  parallelRanges(B * channels, B * channels * plane,
                 [&](int64_t first, int64_t last) {
                   for (int64_t p = first; p < last; ++p) {
                     const T shift = bias[p % channels];
                     for (int64_t i = 0; i < plane; ++i)
                       y[p * plane + i] = x[p * plane + i] + shift;
                   }
                 });
}

} // namespace gradc

// Max and average pooling over the same windows.
#include <gradc/kernels_pool.h>

#endif // GRADC_KERNELS_CONV_H
