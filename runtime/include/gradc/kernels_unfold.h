// The geometry of a window sliding over one sample, and unfolding
// (im2col) and folding (col2im) one sample's input along it. Column n of
// the unfolded U[C*k*k, OH*OW] holds the input window that output
// position n sees, with zeros where the window hangs over the padding;
// folding adds each element of such a U back onto the input element it
// came from. Convolutions (kernels_conv.h) multiply through U; pools
// (kernels_pool.h) share the geometry.
#ifndef GRADC_KERNELS_UNFOLD_H
#define GRADC_KERNELS_UNFOLD_H

#include <gradc/kernels.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

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
  if (s.stride == 1 && s.padTop == 0 && s.padLeft == 0) {
    // Every window inside the input: each row of U is a rectangle of x,
    // moved row by row with the shape held in registers.
    const int64_t kk = s.kernel * s.kernel, width = s.width;
    const int64_t outHeight = s.outHeight, outWidth = s.outWidth;
    const int64_t positions = outHeight * outWidth;
    if (lastTap < 0)
      lastTap = s.channels * kk;
    for (int64_t tap = firstTap; tap < lastTap; ++tap) {
      const T *in = x + (tap / kk * s.height + tap % kk / s.kernel) * width +
                    tap % s.kernel;
      T *row = u + (tap - firstTap) * positions;
      for (int64_t oh = 0; oh < outHeight; ++oh)
        moveRow<false>(in + oh * width, outWidth, row + oh * outWidth);
    }
    return;
  }
  forEachUnfoldedRow(
      s, x, u,
      [&](T *row, const T *in, int64_t begin, int64_t end, int64_t offset) {
        if (!in) {
          std::fill(row, row + s.outWidth, T(0));
          return;
        }
        std::fill(row, row + begin, T(0));
        if (s.stride == 1)
          moveRow<false>(in + begin + offset, end - begin, row + begin);
        else
          for (int64_t ow = begin; ow < end; ++ow)
            row[ow] = in[ow * s.stride + offset];
        std::fill(row + end, row + s.outWidth, T(0));
      },
      firstTap, lastTap);
}

#if defined(__AVX512F__)
// dx = fold(dU) for one sample when every window lies inside the input
// (stride 1, no padding), a vector of dx at a time: its sum over the taps
// that reach it stays in a register and is stored once, where adding
// unfold's rows back one by one would read and write dx once per tap, each
// load waiting on the overlapping store of the tap before. The taps are
// added in the order fold's general path adds them, which gives the same
// bits. Masked loads read only the elements of dU a window reaches.
template <typename T>
void foldInside(const WindowShape &s, const T *du, T *dx) {
  constexpr int64_t lanes = 64 / sizeof(T);
  const int64_t k = s.kernel, height = s.height, width = s.width;
  const int64_t outHeight = s.outHeight, outWidth = s.outWidth;
  const int64_t positions = outHeight * outWidth;
  auto bits = [](int64_t from, int64_t to) {
    return static_cast<__mmask16>(((1u << (to - from)) - 1) << from);
  };
  for (int64_t c = 0; c < s.channels; ++c)
    for (int64_t ih = 0; ih < height; ++ih)
      for (int64_t j0 = 0; j0 < width; j0 += lanes) {
        const int64_t j1 = std::min(width, j0 + lanes);
        auto sum = [&](auto zero, auto load, auto add) {
          auto total = zero;
          for (int64_t kh = std::max<int64_t>(0, ih - outHeight + 1);
               kh < k && kh <= ih; ++kh) {
            const T *row =
                du + ((c * k + kh) * k * positions) + (ih - kh) * outWidth;
            for (int64_t kw = 0; kw < k; ++kw, row += positions) {
              const int64_t from = std::max(j0, kw);
              const int64_t to = std::min(j1, kw + outWidth);
              if (from < to)
                total =
                    add(total, load(bits(from - j0, to - j0), row + j0 - kw));
            }
          }
          return total;
        };
        T *out = dx + (c * height + ih) * width + j0;
        if constexpr (sizeof(T) == 4)
          _mm512_mask_storeu_ps(
              out, bits(0, j1 - j0),
              sum(
                  _mm512_setzero_ps(),
                  [](__mmask16 m, const T *p) {
                    return _mm512_maskz_loadu_ps(m, p);
                  },
                  [](__m512 a, __m512 b) { return _mm512_add_ps(a, b); }));
        else
          _mm512_mask_storeu_pd(
              out, static_cast<__mmask8>(bits(0, j1 - j0)),
              sum(
                  _mm512_setzero_pd(),
                  [](__mmask16 m, const T *p) {
                    return _mm512_maskz_loadu_pd(static_cast<__mmask8>(m), p);
                  },
                  [](__m512d a, __m512d b) { return _mm512_add_pd(a, b); }));
      }
}
#elif defined(__AVX__)
// foldInside as above for floats in 256-bit vectors, the taps summed in
// the same order. A row's last vector ends at the row's end, overlapping
// the one before rather than being stored masked: the elements stored
// twice get the same sums both times. A load inside dU is a plain one
// with the lanes outside the window zeroed, faster on AMD's first Zen
// cores than a masked load, which only the ends of dU need.
inline void foldInside(const WindowShape &s, const float *du, float *dx) {
  const int64_t k = s.kernel, height = s.height, width = s.width;
  const int64_t outHeight = s.outHeight, outWidth = s.outWidth;
  const int64_t positions = outHeight * outWidth;
  const int64_t size = s.channels * k * k * positions;
  // Lane l of the 8 from kLanes + 8 - n is on when l < n, of the 8 from
  // kLanes + 16 - n when l >= n.
  alignas(32) static constexpr int32_t kLanes[24] = {
      -1, -1, -1, -1, -1, -1, -1, -1, 0,  0,  0,  0,
      0,  0,  0,  0,  -1, -1, -1, -1, -1, -1, -1, -1};
  // A masked load at du + at, with `at` possibly negative: the pointer is
  // formed only for the lanes' first one inside dU.
  auto maskedLoad = [](const float *du, int64_t at, __m256i mask) {
    if (at >= 0)
      return _mm256_maskload_ps(du + at, mask);
    alignas(32) float lanes[8];
    alignas(32) int32_t on[8];
    _mm256_store_si256(reinterpret_cast<__m256i *>(on), mask);
    for (int l = 0; l < 8; ++l)
      lanes[l] = on[l] ? du[at + l] : 0.0f;
    return _mm256_load_ps(lanes);
  };
  auto lanes = [](int64_t from, int64_t to) {
    auto load = [](const int32_t *at) {
      return _mm256_castsi256_ps(
          _mm256_loadu_si256(reinterpret_cast<const __m256i *>(at)));
    };
    return _mm256_castps_si256(
        _mm256_and_ps(load(kLanes + 8 - to), load(kLanes + 16 - from)));
  };
  for (int64_t c = 0; c < s.channels; ++c)
    for (int64_t ih = 0; ih < height; ++ih)
      for (int64_t j = 0; j < width; j += 8) {
        const int64_t j0 = width >= 8 ? std::min(j, width - 8) : 0;
        const int64_t j1 = std::min(width, j0 + 8);
        __m256 total = _mm256_setzero_ps();
        for (int64_t kh = std::max<int64_t>(0, ih - outHeight + 1);
             kh < k && kh <= ih; ++kh) {
          const float *row =
              du + ((c * k + kh) * k * positions) + (ih - kh) * outWidth;
          for (int64_t kw = 0; kw < k; ++kw, row += positions) {
            const int64_t from = std::max(j0, kw);
            const int64_t to = std::min(j1, kw + outWidth);
            if (from >= to)
              continue;
            // Where the 8 lanes start in dU; the first may lie before it.
            const int64_t at = (row - du) + j0 - kw;
            const __m256i mask = lanes(from - j0, to - j0);
            total = _mm256_add_ps(total,
                                  at >= 0 && at + 8 <= size
                                      ? _mm256_and_ps(_mm256_loadu_ps(du + at),
                                                      _mm256_castsi256_ps(mask))
                                      : maskedLoad(du, at, mask));
          }
        }
        storeFirst(dx + (c * height + ih) * width + j0, total, j1 - j0);
      }
}
#endif

// dx = fold(dU) for one sample: each element of dU goes back to the input
// element it was copied from; padding takes nothing.
template <typename T> void fold(const WindowShape &s, const T *du, T *dx) {
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4 || sizeof(T) == 8) {
    if (s.stride == 1 && s.padTop == 0 && s.padLeft == 0)
      return foldInside(s, du, dx);
  }
#elif defined(__AVX__)
  if constexpr (std::is_same_v<T, float>) {
    if (s.stride == 1 && s.padTop == 0 && s.padLeft == 0)
      return foldInside(s, du, dx);
  }
#endif
  std::fill(dx, dx + s.channels * s.height * s.width, T(0));
  forEachUnfoldedRow(
      s, dx, du,
      [&](const T *row, T *in, int64_t begin, int64_t end, int64_t offset) {
        if (!in)
          return;
        if (s.stride == 1)
          moveRow<true>(row + begin, end - begin, in + begin + offset);
        else
          for (int64_t ow = begin; ow < end; ++ow)
            in[ow * s.stride + offset] += row[ow];
      });
}

// A 1x1 window with stride 1 and no padding unfolds to the input itself.
inline bool unfoldsToItself(const WindowShape &s) {
  return s.kernel == 1 && s.stride == 1 && s.padTop == 0 && s.padLeft == 0;
}

// The most taps for which a convolution's forward product and weight
// gradient take their own loops rather than the matrix product: with so
// short a depth, or so few rows, packing for the product cost as much as
// its arithmetic.
constexpr int64_t kFewTaps = 16;

} // namespace detail
} // namespace gradc

#endif // GRADC_KERNELS_UNFOLD_H
