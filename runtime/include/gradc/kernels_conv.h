// Kernels of the convolutional ops: 2-D convolution forward and backward,
// max and average pooling, and the per-channel bias of a convolution
// (whose gradient is kernels_batchnorm.h's channelSum).
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
#ifndef GRADC_KERNELS_CONV_H
#define GRADC_KERNELS_CONV_H

#include <gradc/kernels.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace gradc {

// The geometry of a square window sliding over one sample. Rows and
// columns beyond the input (the bottom and right padding) read as zero,
// so only the top and left padding need stating.
struct WindowShape {
  int64_t channels; // the input's C, H, W
  int64_t height;
  int64_t width;
  int64_t outChannels; // a convolution's filters; C for a pool
  int64_t outHeight;
  int64_t outWidth;
  int64_t kernel; // the window is kernel x kernel
  int64_t stride;
  int64_t padTop;  // rows of zeros above the input
  int64_t padLeft; // columns of zeros left of it
};

namespace detail {

// The output columns [begin, end) whose input column
// ow * stride + offset falls inside [0, width).
inline void insideColumns(const WindowShape &s, int64_t offset, int64_t &begin,
                          int64_t &end) {
  begin = offset >= 0 ? 0 : (-offset + s.stride - 1) / s.stride;
  end = s.width - offset <= 0
            ? 0
            : std::min(s.outWidth, (s.width - offset - 1) / s.stride + 1);
  begin = std::min(begin, end);
}

// Visits the rows of U of the taps [firstTap, lastTap), a row being a
// (tap, output row) pair: `visit(row, in, begin, end, offset)` gets that
// row of U, the input row it reads (nullptr where it lies in the padding),
// and the output columns [begin, end) whose input column
// ow * stride + offset lies inside the input. Unfolding reads the image
// and writes U; folding reads U and adds into the image. `u` points at
// the row of firstTap.
template <typename Image, typename Columns, typename Visit>
void forEachUnfoldedRow(const WindowShape &s, Image *image, Columns *u,
                        Visit visit, int64_t firstTap = 0,
                        int64_t lastTap = -1) {
  const int64_t positions = s.outHeight * s.outWidth;
  if (lastTap < 0)
    lastTap = s.channels * s.kernel * s.kernel;
  for (int64_t tap = firstTap; tap < lastTap; ++tap) {
    const int64_t c = tap / (s.kernel * s.kernel);
    const int64_t kh = tap / s.kernel % s.kernel;
    const int64_t kw = tap % s.kernel;
    const int64_t offset = kw - s.padLeft;
    int64_t begin, end;
    insideColumns(s, offset, begin, end);
    for (int64_t oh = 0; oh < s.outHeight; ++oh) {
      const int64_t ih = oh * s.stride + kh - s.padTop;
      Image *in = ih >= 0 && ih < s.height
                      ? image + (c * s.height + ih) * s.width
                      : nullptr;
      visit(u + (tap - firstTap) * positions + oh * s.outWidth, in, begin, end,
            offset);
    }
  }
}

// U = unfold(x) for one sample: U[C*k*k, OH*OW], or only its rows of the
// taps [firstTap, lastTap), written from u on.
template <typename T>
void unfold(const WindowShape &s, const T *x, T *u, int64_t firstTap = 0,
            int64_t lastTap = -1) {
  forEachUnfoldedRow(
      s, x, u,
      [&](T *row, const T *in, int64_t begin, int64_t end, int64_t offset) {
        if (!in) {
          std::fill(row, row + s.outWidth, T(0));
          return;
        }
        std::fill(row, row + begin, T(0));
        if (s.stride == 1)
          std::copy(in + begin + offset, in + end + offset, row + begin);
        else
          for (int64_t ow = begin; ow < end; ++ow)
            row[ow] = in[ow * s.stride + offset];
        std::fill(row + end, row + s.outWidth, T(0));
      },
      firstTap, lastTap);
}

// dx += fold(dU) for one sample: each element of dU goes back to the input
// element it was copied from; padding takes nothing.
template <typename T> void fold(const WindowShape &s, const T *du, T *dx) {
  forEachUnfoldedRow(
      s, dx, du,
      [&](const T *row, T *in, int64_t begin, int64_t end, int64_t offset) {
        if (!in)
          return;
        if (s.stride == 1)
          for (int64_t ow = begin; ow < end; ++ow)
            in[ow + offset] += row[ow];
        else
          for (int64_t ow = begin; ow < end; ++ow)
            in[ow * s.stride + offset] += row[ow];
      });
}

// A 1x1 window with stride 1 and no padding unfolds to the input itself.
inline bool unfoldsToItself(const WindowShape &s) {
  return s.kernel == 1 && s.stride == 1 && s.padTop == 0 && s.padLeft == 0;
}

} // namespace detail

// y = conv2d(x, w): x[B, C, H, W], w[F, C, k, k], y[B, F, OH, OW].
// The threads split the batch; a batch of one sample splits its product.
template <typename T>
void conv2d(int64_t B, const WindowShape &s, const T *x, const T *w, T *y) {
  const int64_t taps = s.channels * s.kernel * s.kernel;
  const int64_t positions = s.outHeight * s.outWidth;
  parallelRanges(B, B * s.outChannels * taps * positions,
                 [&](int64_t first, int64_t last) {
                   thread_local std::vector<T> unfolded;
                   unfolded.resize(static_cast<size_t>(taps * positions));
                   for (int64_t b = first; b < last; ++b) {
                     const T *xb = x + b * s.channels * s.height * s.width;
                     const T *u = xb;
                     if (!detail::unfoldsToItself(s)) {
                       detail::unfold(s, xb, unfolded.data());
                       u = unfolded.data();
                     }
                     // y_b[F, OH*OW] = W[F, C*k*k] U[C*k*k, OH*OW]
                     detail::Gemm<T>::run(s.outChannels, positions, taps, w,
                                          taps, false, u, positions, false,
                                          y + b * s.outChannels * positions,
                                          positions);
                   }
                 });
}

// dw = d loss / d w, given dy[B, F, OH, OW] and x[B, C, H, W]. The sum
// runs over the batch in order; the threads split the taps, the rows of
// dW^T, and each unfolds only its own rows of U.
template <typename T>
void conv2dWeightGrad(int64_t B, const WindowShape &s, const T *dy, const T *x,
                      T *dw) {
  const int64_t taps = s.channels * s.kernel * s.kernel;
  const int64_t positions = s.outHeight * s.outWidth;
  thread_local std::vector<T> transposed;
  transposed.assign(static_cast<size_t>(taps * s.outChannels), T(0));
  T *dwT = transposed.data();

  parallelRanges(
      taps, B * s.outChannels * taps * positions,
      [&](int64_t first, int64_t last) {
        thread_local std::vector<T> unfolded;
        unfolded.resize(static_cast<size_t>((last - first) * positions));
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

// dx = d loss / d x, given dy[B, F, OH, OW] and w[F, C, k, k]. The
// threads split the batch; a batch of one sample splits its product.
template <typename T>
void conv2dInputGrad(int64_t B, const WindowShape &s, const T *dy, const T *w,
                     T *dx) {
  const int64_t taps = s.channels * s.kernel * s.kernel;
  const int64_t positions = s.outHeight * s.outWidth;
  const int64_t sampleSize = s.channels * s.height * s.width;
  parallelRanges(B, B * s.outChannels * taps * positions,
                 [&](int64_t first, int64_t last) {
                   thread_local std::vector<T> unfolded;
                   unfolded.resize(static_cast<size_t>(taps * positions));
                   for (int64_t b = first; b < last; ++b) {
                     T *dxb = dx + b * sampleSize;
                     const T *dyb = dy + b * s.outChannels * positions;
                     // dU[C*k*k, OH*OW] = W[F, C*k*k]^T dy_b[F, OH*OW], written
                     // straight into dx when unfolding is the identity.
                     if (detail::unfoldsToItself(s)) {
                       detail::Gemm<T>::run(taps, positions, s.outChannels, w,
                                            taps, true, dyb, positions, false,
                                            dxb, positions);
                       continue;
                     }
                     detail::Gemm<T>::run(taps, positions, s.outChannels, w,
                                          taps, true, dyb, positions, false,
                                          unfolded.data(), positions);
                     std::fill(dxb, dxb + sampleSize, T(0));
                     detail::fold(s, unfolded.data(), dxb);
                   }
                 });
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

namespace detail {

// The larger of a running maximum and a value, a NaN winning as in
// PyTorch. The `|` (not `||`) keeps it one select instead of a branch.
template <typename T> inline T maxOrNaN(T maximum, T value) {
  const bool wins = (value > maximum) | (value != value);
  return wins ? value : maximum;
}

// The maximum of a window, a NaN winning. `Size` is the window's size when
// known at compile time, which unrolls the loops, or 0.
template <int Size, typename T>
__attribute__((always_inline)) inline T windowMaximum(const WindowShape &s,
                                                      const T *window) {
  const int64_t size = Size ? Size : s.kernel;
  T maximum = window[0];
  for (int64_t kh = 0; kh < size; ++kh)
    for (int64_t kw = 0; kw < size; ++kw)
      maximum = maxOrNaN(maximum, window[kh * s.width + kw]);
  return maximum;
}

// The offset, from the window's top left corner, of the element PyTorch's
// scan picks: the first maximum in row order, or the last NaN when there
// is one. The scan tracks the maximum with selects rather than branches,
// which data of no order would mispredict half the time, and looks for
// NaNs only when it has seen one.
template <int Size, typename T>
__attribute__((always_inline)) inline int64_t firstMaximum(const WindowShape &s,
                                                           const T *window) {
  const int64_t size = Size ? Size : s.kernel;
  int64_t best = 0;
  T bestValue = window[0];
  bool sawNaN = false;
  for (int64_t kh = 0; kh < size; ++kh)
    for (int64_t kw = 0; kw < size; ++kw) {
      const int64_t at = kh * s.width + kw;
      const T value = window[at];
      const bool better = value > bestValue;
      best = better ? at : best;
      bestValue = better ? value : bestValue;
      sawNaN |= value != value;
    }
  if (!sawNaN)
    return best;

  for (int64_t kh = size - 1; kh >= 0; --kh)
    for (int64_t kw = size - 1; kw >= 0; --kw)
      if (std::isnan(window[kh * s.width + kw]))
        return kh * s.width + kw;
  return best;
}

template <int Size, typename T>
void maxPool2d(int64_t B, const WindowShape &s, const T *x, T *y) {
  const int64_t inPlane = s.height * s.width;
  const int64_t outPlane = s.outHeight * s.outWidth;
  const int64_t planes = B * s.channels;
  parallelRanges(planes, planes * outPlane * s.kernel * s.kernel,
                 [&](int64_t first, int64_t last) {
                   for (int64_t p = first; p < last; ++p)
                     for (int64_t oh = 0; oh < s.outHeight; ++oh)
                       for (int64_t ow = 0; ow < s.outWidth; ++ow) {
                         const T *window =
                             x + p * inPlane + (oh * s.width + ow) * s.stride;
                         y[p * outPlane + oh * s.outWidth + ow] =
                             windowMaximum<Size>(s, window);
                       }
                 });
}

template <int Size, typename T>
void maxPool2dGrad(int64_t B, const WindowShape &s, const T *dy, const T *x,
                   T *dx) {
  const int64_t inPlane = s.height * s.width;
  const int64_t outPlane = s.outHeight * s.outWidth;
  const int64_t planes = B * s.channels;
  parallelRanges(planes, planes * (inPlane + outPlane * s.kernel * s.kernel),
                 [&](int64_t first, int64_t last) {
                   for (int64_t p = first; p < last; ++p) {
                     // Zeroing plane by plane keeps each one in cache for the
                     // additions.
                     std::fill(dx + p * inPlane, dx + (p + 1) * inPlane, T(0));
                     for (int64_t oh = 0; oh < s.outHeight; ++oh)
                       for (int64_t ow = 0; ow < s.outWidth; ++ow) {
                         const int64_t corner =
                             p * inPlane + (oh * s.width + ow) * s.stride;
                         dx[corner + firstMaximum<Size>(s, x + corner)] +=
                             dy[p * outPlane + oh * s.outWidth + ow];
                       }
                   }
                 });
}

} // namespace detail

// y = maxpool2d(x): the maximum of each window, for every channel. The
// common 2x2 and 3x3 windows get unrolled scans.
template <typename T>
void maxPool2d(int64_t B, const WindowShape &s, const T *x, T *y) {
  if (s.kernel == 2)
    return detail::maxPool2d<2>(B, s, x, y);
  if (s.kernel == 3)
    return detail::maxPool2d<3>(B, s, x, y);
  detail::maxPool2d<0>(B, s, x, y);
}

// dx: each window's dy goes to the first maximum of its window in x, and
// overlapping windows add up.
template <typename T>
void maxPool2dGrad(int64_t B, const WindowShape &s, const T *dy, const T *x,
                   T *dx) {
  if (s.kernel == 2)
    return detail::maxPool2dGrad<2>(B, s, dy, x, dx);
  if (s.kernel == 3)
    return detail::maxPool2dGrad<3>(B, s, dy, x, dx);
  detail::maxPool2dGrad<0>(B, s, dy, x, dx);
}

// y = avgpool2d(x): the mean of each window, which always lies inside the
// input, as PyTorch's AvgPool2d without padding.
template <typename T>
void avgPool2d(int64_t B, const WindowShape &s, const T *x, T *y) {
  const int64_t inPlane = s.height * s.width;
  const int64_t outPlane = s.outHeight * s.outWidth;
  const T scale = T(1) / static_cast<T>(s.kernel * s.kernel);
  const int64_t planes = B * s.channels;
  parallelRanges(planes, planes * outPlane * s.kernel * s.kernel,
                 [&](int64_t first, int64_t last) {
                   for (int64_t p = first; p < last; ++p) {
                     const T *in = x + p * inPlane;
                     T *out = y + p * outPlane;
                     for (int64_t oh = 0; oh < s.outHeight; ++oh)
                       for (int64_t ow = 0; ow < s.outWidth; ++ow) {
                         const T *window =
                             in + oh * s.stride * s.width + ow * s.stride;
                         T sum = 0;
                         for (int64_t kh = 0; kh < s.kernel; ++kh)
                           for (int64_t kw = 0; kw < s.kernel; ++kw)
                             sum += window[kh * s.width + kw];
                         out[oh * s.outWidth + ow] = sum * scale;
                       }
                   }
                 });
}

// dx: each window's dy, divided by the window's size, goes to every
// element of the window; overlapping windows add up.
template <typename T>
void avgPool2dGrad(int64_t B, const WindowShape &s, const T *dy, T *dx) {
  const int64_t inPlane = s.height * s.width;
  const int64_t outPlane = s.outHeight * s.outWidth;
  const T scale = T(1) / static_cast<T>(s.kernel * s.kernel);
  const int64_t planes = B * s.channels;
  parallelRanges(planes, planes * (inPlane + outPlane * s.kernel * s.kernel),
                 [&](int64_t first, int64_t last) {
                   for (int64_t p = first; p < last; ++p) {
                     const T *grad = dy + p * outPlane;
                     T *out = dx + p * inPlane;
                     std::fill(out, out + inPlane, T(0));
                     for (int64_t oh = 0; oh < s.outHeight; ++oh)
                       for (int64_t ow = 0; ow < s.outWidth; ++ow) {
                         T *window =
                             out + oh * s.stride * s.width + ow * s.stride;
                         const T share = grad[oh * s.outWidth + ow] * scale;
                         for (int64_t kh = 0; kh < s.kernel; ++kh)
                           for (int64_t kw = 0; kw < s.kernel; ++kw)
                             window[kh * s.width + kw] += share;
                       }
                   }
                 });
}

} // namespace gradc

#endif // GRADC_KERNELS_CONV_H
