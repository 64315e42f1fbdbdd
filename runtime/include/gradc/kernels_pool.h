// Kernels of the pooling ops: max and average pooling over the windows of
// kernels_conv.h's WindowShape, forward and backward, every tensor a batch
// of samples laid out [C, H, W]. Max pooling's 2x2 windows at stride 2, the
// common case, take their own one-pass loops. Max pooling's gradient also
// takes in the gradient of a relu before the pool, when asked.
#ifndef GRADC_KERNELS_POOL_H
#define GRADC_KERNELS_POOL_H

#include <gradc/kernels_conv.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace gradc {

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

// The common 2x2 window at stride 2 without padding: windows that tile
// the input, which the scans below take a row of windows at a time, in
// vectors (with AVX-512, floats through its permutes, and with AVX2 the
// gradient's through shuffles; otherwise loops the compiler vectorizes),
// where the general ones go window by window.
inline bool tiles2x2(const WindowShape &s) {
  return s.kernel == 2 && s.stride == 2 && s.padTop == 0 && s.padLeft == 0;
}

// Whether maxPool2x2Grad beats the general scan: for floats with AVX-512
// or AVX2 always, otherwise for rows of at least 8 windows, which its
// vectorized loop covers; shorter ones spent as long on its calls as on
// the windows.
template <typename T> bool tiles2x2Grad(const WindowShape &s) {
#if defined(__AVX512F__) || defined(__AVX2__)
  if (sizeof(T) == 4)
    return tiles2x2(s);
#endif
  return tiles2x2(s) && s.outWidth >= 8;
}

#if defined(__AVX512F__)
// The four elements of up to 16 windows of a row of 2x2 windows: a vector
// each of their top left, top right, bottom left and bottom right
// elements, the windows past `count` reading zeros.
struct Windows2x2 {
  __m512 v[4];
  __mmask16 first, second; // the elements of the two vectors of a row

  Windows2x2(const float *top, const float *bottom, int64_t count) {
    const int64_t elements = 2 * count;
    first = static_cast<__mmask16>((1u << std::min<int64_t>(16, elements)) - 1);
    second =
        static_cast<__mmask16>((1u << std::max<int64_t>(0, elements - 16)) - 1);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                           20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const float *rows[2] = {top, bottom};
    for (int r = 0; r < 2; ++r) {
      const __m512 low = _mm512_maskz_loadu_ps(first, rows[r]);
      const __m512 high = _mm512_maskz_loadu_ps(second, rows[r] + 16);
      v[2 * r] = _mm512_permutex2var_ps(low, even, high);
      v[2 * r + 1] = _mm512_permutex2var_ps(low, odd, high);
    }
  }

  // Writes a, b (the windows' left and right elements) to a row.
  void store(float *row, __m512 a, __m512 b) const {
    const __m512i low = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5,
                                          21, 6, 22, 7, 23);
    const __m512i high = _mm512_add_epi32(low, _mm512_set1_epi32(8));
    _mm512_mask_storeu_ps(row, first, _mm512_permutex2var_ps(a, low, b));
    _mm512_mask_storeu_ps(row + 16, second, _mm512_permutex2var_ps(a, high, b));
  }
};

// maxOrNaN's choice for 16 lanes.
inline __m512 maxOrNaN(__m512 maximum, __m512 value) {
  const __mmask16 wins = _mm512_cmp_ps_mask(value, maximum, _CMP_GT_OQ) |
                         _mm512_cmp_ps_mask(value, value, _CMP_UNORD_Q);
  return _mm512_mask_mov_ps(maximum, wins, value);
}
#elif defined(__AVX2__)
// The four elements of up to 8 windows of a row of 2x2 windows, as above
// in 256-bit vectors. Shuffling within 128-bit lanes leaves the windows in
// the order 0, 1, 4, 5, 2, 3, 6, 7, which unpacking a pair of vectors
// undoes and swapping their middle 64 bits (kMiddle) turns into order.
struct Windows2x2 {
  static constexpr int kMiddle = 0xd8; // 64-bit quarters 0, 2, 1, 3
  __m256 v[4];

  // 8 windows.
  Windows2x2(const float *top, const float *bottom) {
    const float *rows[2] = {top, bottom};
    for (int r = 0; r < 2; ++r)
      split(r, _mm256_loadu_ps(rows[r]), _mm256_loadu_ps(rows[r] + 8));
  }

  // Fewer than 8, the windows past `count` reading zeros: masked loads,
  // which unlike masked stores are fast.
  Windows2x2(const float *top, const float *bottom, int64_t count) {
    const __m256i first = lanesBelow(std::min<int64_t>(8, 2 * count));
    const __m256i second = lanesBelow(std::max<int64_t>(0, 2 * count - 8));
    const float *rows[2] = {top, bottom};
    for (int r = 0; r < 2; ++r)
      split(r, _mm256_maskload_ps(rows[r], first),
            _mm256_maskload_ps(rows[r] + 8, second));
  }

  static __m256i lanesBelow(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }

  // A row's 16 elements to its windows' left and right elements.
  void split(int r, __m256 low, __m256 high) {
    v[2 * r] = _mm256_shuffle_ps(low, high, _MM_SHUFFLE(2, 0, 2, 0));
    v[2 * r + 1] = _mm256_shuffle_ps(low, high, _MM_SHUFFLE(3, 1, 3, 1));
  }

  // Values of 8 windows in order to the windows' order in v, and back.
  static __m256 swapMiddle(__m256 a) {
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(a), kMiddle));
  }
};
#endif

// One row of `count` 2x2 windows, whose rows of input are `top` and
// `bottom`: out[ow] = the maximum of window ow, a NaN winning. With AVX2
// the loop below, which the compiler vectorizes, was as fast on
// cnn_fashion's rows of 13 and 5 windows as Windows2x2's shuffles.
template <typename T>
void maxPoolRow2x2(const T *top, const T *bottom, int64_t count, T *out) {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4) {
    for (int64_t ow = 0; ow < count; ow += 16) {
      const int64_t n = std::min<int64_t>(16, count - ow);
      const Windows2x2 w(top + 2 * ow, bottom + 2 * ow, n);
      _mm512_mask_storeu_ps(
          out + ow, static_cast<__mmask16>((1u << n) - 1),
          maxOrNaN(maxOrNaN(maxOrNaN(w.v[0], w.v[1]), w.v[2]), w.v[3]));
    }
    return;
  }
#endif
  for (int64_t ow = 0; ow < count; ++ow) {
    T maximum = top[2 * ow];
    maximum = maxOrNaN(maximum, top[2 * ow + 1]);
    maximum = maxOrNaN(maximum, bottom[2 * ow]);
    out[ow] = maxOrNaN(maximum, bottom[2 * ow + 1]);
  }
}

// The gradient of one row of maxPoolRow2x2, the rows of input and dx
// `s.width` apart: each element of the windows gets its window's dy,
// `grad[ow]`, or zero. The choice is firstMaximum's: the first maximum in
// row order, or the last NaN. With Positive, an element that is not > 0
// gets zero too.
template <bool Positive, typename T>
void maxPoolGradRow2x2(const WindowShape &s, const T *top, const T *grad,
                       int64_t count, T *dTop) {
  const T *bottom = top + s.width;
  T *dBottom = dTop + s.width;
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4) {
    for (int64_t ow = 0; ow < count; ow += 16) {
      const int64_t n = std::min<int64_t>(16, count - ow);
      const Windows2x2 w(top + 2 * ow, bottom + 2 * ow, n);
      // Which element beats the maximum before it, and which are NaNs;
      // the last NaN wins over every maximum.
      __mmask16 beats[4], nan[4];
      __m512 best = w.v[0];
      for (int i = 0; i < 4; ++i) {
        beats[i] = _mm512_cmp_ps_mask(w.v[i], best, _CMP_GT_OQ);
        best = _mm512_mask_mov_ps(best, beats[i], w.v[i]);
        nan[i] = _mm512_cmp_ps_mask(w.v[i], w.v[i], _CMP_UNORD_Q);
      }
      const __mmask16 anyNaN = nan[0] | nan[1] | nan[2] | nan[3];
      __mmask16 taken = 0, chosen[4];
      for (int i = 3; i >= 0; --i) {
        const __mmask16 wins = i == 0 ? static_cast<__mmask16>(~0) : beats[i];
        chosen[i] =
            static_cast<__mmask16>(~taken & (nan[i] | (wins & ~anyNaN)));
        taken |= chosen[i];
      }
      if constexpr (Positive)
        for (int i = 0; i < 4; ++i)
          chosen[i] &=
              _mm512_cmp_ps_mask(w.v[i], _mm512_setzero_ps(), _CMP_GT_OQ);
      const __m512 g = _mm512_maskz_loadu_ps(
          static_cast<__mmask16>((1u << n) - 1), grad + ow);
      w.store(dTop + 2 * ow, _mm512_maskz_mov_ps(chosen[0], g),
              _mm512_maskz_mov_ps(chosen[1], g));
      w.store(dBottom + 2 * ow, _mm512_maskz_mov_ps(chosen[2], g),
              _mm512_maskz_mov_ps(chosen[3], g));
    }
    return;
  }
#elif defined(__AVX2__)
  if constexpr (sizeof(T) == 4) {
    // The windows [ow, ow + n) as AVX-512 takes them above, with masks in
    // vectors; dy's values are put in the windows' order in w, and
    // unpacking puts the left and right elements back in a row's order.
    auto windows = [&](const Windows2x2 &w, __m256 g, int64_t ow, int64_t n) {
      __m256 beats[4], nan[4];
      __m256 best = w.v[0];
      for (int i = 1; i < 4; ++i) {
        beats[i] = _mm256_cmp_ps(w.v[i], best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, w.v[i], beats[i]);
      }
      for (int i = 0; i < 4; ++i)
        nan[i] = _mm256_cmp_ps(w.v[i], w.v[i], _CMP_UNORD_Q);
      const __m256 anyNaN = _mm256_or_ps(_mm256_or_ps(nan[0], nan[1]),
                                         _mm256_or_ps(nan[2], nan[3]));
      const __m256 noNaN =
          _mm256_xor_ps(anyNaN, _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
      __m256 taken = _mm256_setzero_ps(), chosen[4];
      for (int i = 3; i >= 0; --i) {
        const __m256 wins = i == 0 ? noNaN : _mm256_andnot_ps(anyNaN, beats[i]);
        chosen[i] = _mm256_andnot_ps(taken, _mm256_or_ps(nan[i], wins));
        taken = _mm256_or_ps(taken, chosen[i]);
      }
      if constexpr (Positive)
        for (int i = 0; i < 4; ++i)
          chosen[i] = _mm256_and_ps(
              chosen[i],
              _mm256_cmp_ps(w.v[i], _mm256_setzero_ps(), _CMP_GT_OQ));

      g = Windows2x2::swapMiddle(g);
      float *rows[2] = {dTop + 2 * ow, dBottom + 2 * ow};
      for (int r = 0; r < 2; ++r) {
        const __m256 left = _mm256_and_ps(chosen[2 * r], g);
        const __m256 right = _mm256_and_ps(chosen[2 * r + 1], g);
        const __m256 low = _mm256_unpacklo_ps(left, right);
        const __m256 high = _mm256_unpackhi_ps(left, right);
        if (n == 8) {
          _mm256_storeu_ps(rows[r], low);
          _mm256_storeu_ps(rows[r] + 8, high);
        } else {
          storeFirst(rows[r], low, std::min<int64_t>(8, 2 * n));
          storeFirst(rows[r] + 8, high, std::max<int64_t>(0, 2 * n - 8));
        }
      }
    };
    int64_t ow = 0;
    for (; ow + 8 <= count; ow += 8)
      windows(Windows2x2(top + 2 * ow, bottom + 2 * ow),
              _mm256_loadu_ps(grad + ow), ow, 8);
    if (ow == count)
      return;

    // The last 8 windows again, overlapping the ones before (dx never
    // overlaps x or dy), or in a row of fewer, their lanes in pieces.
    if (count >= 8) {
      ow = count - 8;
      windows(Windows2x2(top + 2 * ow, bottom + 2 * ow),
              _mm256_loadu_ps(grad + ow), ow, 8);
    } else {
      windows(Windows2x2(top, bottom, count),
              _mm256_maskload_ps(grad, Windows2x2::lanesBelow(count)), 0,
              count);
    }
    return;
  }
#endif
  // Whole groups of 8 windows in a loop the compiler vectorizes, the rest
  // through firstMaximum: the vectorized loop's own remainder compiled to
  // branches, which data of no order mispredicts.
  const int64_t whole = count / 8 * 8;
  for (int64_t ow = 0; ow < whole; ++ow) {
    const T v0 = top[2 * ow], v1 = top[2 * ow + 1];
    const T v2 = bottom[2 * ow], v3 = bottom[2 * ow + 1];
    // The index as a T, so that every select is as wide as the values
    // and the loop vectorizes.
    T best = 0, bestValue = v0;
    best = v1 > bestValue ? T(1) : best;
    bestValue = v1 > bestValue ? v1 : bestValue;
    best = v2 > bestValue ? T(2) : best;
    bestValue = v2 > bestValue ? v2 : bestValue;
    best = v3 > bestValue ? T(3) : best;
    best = v0 != v0 ? T(0) : best;
    best = v1 != v1 ? T(1) : best;
    best = v2 != v2 ? T(2) : best;
    best = v3 != v3 ? T(3) : best;
    const T g = grad[ow];
    // With Positive, only an element > 0 takes g, as in relu_grad.
    dTop[2 * ow] = (best == T(0)) & (!Positive | (v0 > T(0))) ? g : T(0);
    dTop[2 * ow + 1] = (best == T(1)) & (!Positive | (v1 > T(0))) ? g : T(0);
    dBottom[2 * ow] = (best == T(2)) & (!Positive | (v2 > T(0))) ? g : T(0);
    dBottom[2 * ow + 1] = (best == T(3)) & (!Positive | (v3 > T(0))) ? g : T(0);
  }
  if (whole == count)
    return;
  std::fill(dTop + 2 * whole, dTop + 2 * count, T(0));
  std::fill(dBottom + 2 * whole, dBottom + 2 * count, T(0));
  for (int64_t ow = whole; ow < count; ++ow) {
    const int64_t at = 2 * ow + firstMaximum<2>(s, top + 2 * ow);
    if (!Positive || top[at] > T(0))
      dTop[at] = grad[ow];
  }
}

template <typename T>
void maxPool2x2(int64_t B, const WindowShape &s, const T *x, T *y) {
  const int64_t inPlane = s.height * s.width;
  const int64_t outPlane = s.outHeight * s.outWidth;
  const int64_t planes = B * s.channels;
  parallelRanges(planes, planes * outPlane * 4,
                 [&](int64_t first, int64_t last) {
                   for (int64_t p = first; p < last; ++p)
                     for (int64_t oh = 0; oh < s.outHeight; ++oh) {
                       const T *top = x + p * inPlane + 2 * oh * s.width;
                       maxPoolRow2x2(top, top + s.width, s.outWidth,
                                     y + p * outPlane + oh * s.outWidth);
                     }
                 });
}

// Every input element gets its window's dy or zero, written once, so dx
// needs no zeroing pass; the rows and the column that no window covers
// get zeros.
template <bool Positive, typename T>
void maxPool2x2Grad(int64_t B, const WindowShape &s, const T *dy, const T *x,
                    T *dx) {
  const int64_t inPlane = s.height * s.width;
  const int64_t outPlane = s.outHeight * s.outWidth;
  const int64_t planes = B * s.channels;
  parallelRanges(
      planes, planes * inPlane * 2, [&](int64_t first, int64_t last) {
        for (int64_t p = first; p < last; ++p) {
          for (int64_t oh = 0; oh < s.outHeight; ++oh) {
            const int64_t top = p * inPlane + 2 * oh * s.width;
            T *dTop = dx + top;
            maxPoolGradRow2x2<Positive>(s, x + top,
                                        dy + p * outPlane + oh * s.outWidth,
                                        s.outWidth, dTop);
            for (int64_t w = 2 * s.outWidth; w < s.width; ++w)
              dTop[w] = dTop[s.width + w] = T(0);
          }
          std::fill(dx + p * inPlane + 2 * s.outHeight * s.width,
                    dx + (p + 1) * inPlane, T(0));
        }
      });
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

template <int Size, typename T, bool Positive = false>
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
                     // relu_grad's select, once the plane's sums are
                     // complete, as relu_grad read the whole gradient.
                     if constexpr (Positive)
                       for (int64_t i = p * inPlane; i < (p + 1) * inPlane; ++i)
                         dx[i] = x[i] > T(0) ? dx[i] : T(0);
                   }
                 });
}

} // namespace detail

// y = maxpool2d(x): the maximum of each window, for every channel. The
// common 2x2 and 3x3 windows get unrolled scans.
template <typename T>
void maxPool2d(int64_t B, const WindowShape &s, const T *x, T *y) {
  if (detail::tiles2x2(s))
    return detail::maxPool2x2(B, s, x, y);
  if (s.kernel == 2)
    return detail::maxPool2d<2>(B, s, x, y);
  if (s.kernel == 3)
    return detail::maxPool2d<3>(B, s, x, y);
  detail::maxPool2d<0>(B, s, x, y);
}

// dx: each window's dy goes to the first maximum of its window in x, and
// overlapping windows add up. With Positive, dx is then zero wherever x is
// not > 0: the gradient of a relu whose output x is the pool's input,
// which gives relu_grad's bits without a pass of its own.
template <typename T, bool Positive = false>
void maxPool2dGrad(int64_t B, const WindowShape &s, const T *dy, const T *x,
                   T *dx) {
  if (detail::tiles2x2Grad<T>(s))
    return detail::maxPool2x2Grad<Positive>(B, s, dy, x, dx);
  if (s.kernel == 2)
    return detail::maxPool2dGrad<2, T, Positive>(B, s, dy, x, dx);
  if (s.kernel == 3)
    return detail::maxPool2dGrad<3, T, Positive>(B, s, dy, x, dx);
  detail::maxPool2dGrad<0, T, Positive>(B, s, dy, x, dx);
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

#endif // GRADC_KERNELS_POOL_H
