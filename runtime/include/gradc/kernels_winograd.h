// 3x3 convolutions of stride 1 by Winograd's minimal filtering F(2x2, 3x3).
//
// Each 2x2 block of outputs (a tile) is Y = A^T [(G g G^T) . (B^T d B)] A
// for every pair of input channel and filter, where d is the 4x4 window
// of input the tile sees and g the 3x3 filter: 16 products in place of
// im2col's 36. Summed over the channels, the 16 elementwise products
// become 16 matrix products, one per element xi of the 4x4 transform:
//   M_xi[tiles, F] = V_xi[C, tiles]^T U_xi[C, F]
// with V the transformed input windows and U the transformed filters.
// The filters are transformed and packed once per call; the inputs one
// sample at a time, so that a sample's V and M stay in the L2 cache.
//
// The products read V in place as their left side and write each tile's
// filters side by side, so the output transform works on a vector of
// filters at a time and leaves the sample as [positions, F]; a transpose
// with the bias and relu gives y[F, positions].
//
// The input gradient of such a convolution is itself one: the output
// gradient, padded by 2 - pad, convolved with the filters turned by 180
// degrees and their channels and filters exchanged.
//
// Results differ from im2col's in the last bits (the transforms round
// differently), and are the same for every thread count: each sample is
// computed on one thread, in a fixed order. The transforms mix a tile's
// whole 4x4 window, so a NaN or an infinity in the input reaches all
// four outputs of each tile whose window holds it, where im2col gives it
// only to the outputs whose 3x3 windows see it.
//
// A sample's transformed input and products take 16 (C + F) floats per
// tile; for large images they outgrow the L2 cache, and the transforms
// then run at the speed of memory. Tiles are not blocked further.
#ifndef GRADC_KERNELS_WINOGRAD_H
#define GRADC_KERNELS_WINOGRAD_H

#include <gradc/kernels.h>
#include <gradc/kernels_unfold.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace gradc {
namespace detail {

// Whether a convolution takes the Winograd path: a 3x3 window of stride
// 1 over enough channels that the products are deep, filters in whole
// vectors, and at most 2 rows and columns of padding before the input
// (what an input gradient needs).
template <typename T> bool winogradFits(const WindowShape &s) {
  return s.kernel == 3 && s.stride == 1 && s.channels * 9 > kFewTaps &&
         s.outChannels % Gemm<T>::Lanes == 0 && s.padTop >= 0 &&
         s.padTop <= 2 && s.padLeft >= 0 && s.padLeft <= 2 && s.outHeight > 0 &&
         s.outWidth > 0;
}

// The convolution whose output is the input gradient of one of shape s:
// the output gradient is its input, the channels and filters exchanged,
// and 2 - pad rows and columns of padding before it.
inline WindowShape winogradTurned(const WindowShape &s) {
  return {s.outChannels, s.outHeight, s.outWidth, s.channels,   s.height,
          s.width,       3,           1,          2 - s.padTop, 2 - s.padLeft};
}

// U = G g G^T for every filter f and channel c of w[F, C, 3, 3], packed
// as the right side of the 16 products: U_xi[C, F] in Gemm::pack's
// layout, one after the other.
template <typename T>
void winogradFilters(int64_t F, int64_t C, const T *w, std::vector<T> &packed) {
  thread_local std::vector<T> transformed, one;
  transformed.resize(static_cast<size_t>(16 * C * F));
  for (int64_t f = 0; f < F; ++f)
    for (int64_t c = 0; c < C; ++c) {
      const T *g = w + (f * C + c) * 9;

      // G g: the rows combined, 4x3.
      T rows[4][3];
      for (int j = 0; j < 3; ++j) {
        rows[0][j] = g[j];
        rows[1][j] = T(0.5) * (g[j] + g[3 + j] + g[6 + j]);
        rows[2][j] = T(0.5) * (g[j] - g[3 + j] + g[6 + j]);
        rows[3][j] = g[6 + j];
      }

      // (G g) G^T: the columns combined, 4x4.
      for (int i = 0; i < 4; ++i) {
        const T u[4] = {
            rows[i][0], T(0.5) * (rows[i][0] + rows[i][1] + rows[i][2]),
            T(0.5) * (rows[i][0] - rows[i][1] + rows[i][2]), rows[i][2]};
        for (int j = 0; j < 4; ++j)
          transformed[((i * 4 + j) * C + c) * F + f] = u[j];
      }
    }

  packed.clear();
  for (int xi = 0; xi < 16; ++xi) {
    Gemm<T>::pack(F, C, transformed.data() + xi * C * F, F, false, one);
    packed.insert(packed.end(), one.begin(), one.end());
  }
}

// V = B^T d B for every tile and channel of one sample x[C, H, W]: V_xi
// is [C, tiles] from v + xi * planeStride, rows `tiles` apart, the tiles
// row-major over the output. A vector of tiles along a row at a time:
// the windows' even and odd columns are gathered apart, so that the
// columns 0 to 3 of the vector's windows are four whole vectors. A row's
// last vector may run into the next row's tiles, rewritten after it, or
// past the last channel, into the gap planeStride leaves.
template <typename T>
void winogradInputs(const WindowShape &s, const T *x, T *v,
                    int64_t planeStride) {
  using G = Gemm<T>;
  using Vec = typename G::Vec;
  constexpr int64_t L = G::Lanes;
  const int64_t tilesHigh = (s.outHeight + 1) / 2;
  const int64_t tilesWide = (s.outWidth + 1) / 2;
  const int64_t tiles = tilesHigh * tilesWide;

  // even[r][k], odd[r][k]: the input at row r - padTop, columns
  // 2k - padLeft and 2k + 1 - padLeft, zero outside it, for the window
  // rows of every tile row and the window columns of every tile and one
  // more. Each row is laid into a zero-padded line first. The columns
  // after those are read only into the lanes of tiles past a row's end,
  // whose results are rewritten, so they keep whatever they held.
  const int64_t rows = 2 * tilesHigh + 2;
  const int64_t span = (tilesWide + L - 1) / L * L + L;
  thread_local std::vector<T> columns, line;
  columns.resize(static_cast<size_t>(2 * rows * span));
  line.assign(static_cast<size_t>(std::max(2 * span, s.padLeft + s.width)),
              T(0));
  T *even = columns.data(), *odd = even + rows * span;

  for (int64_t c = 0; c < s.channels; ++c) {
    const T *image = x + c * s.height * s.width;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t ih = r - s.padTop;
      T *e = even + r * span, *o = odd + r * span;
      if (ih < 0 || ih >= s.height) {
        std::fill(e, e + tilesWide + 1, T(0));
        std::fill(o, o + tilesWide + 1, T(0));
        continue;
      }
      moveRow<false>(image + ih * s.width, s.width, line.data() + s.padLeft);
      for (int64_t k = 0; k <= tilesWide; ++k) {
        e[k] = line[2 * k];
        o[k] = line[2 * k + 1];
      }
    }

    for (int64_t th = 0; th < tilesHigh; ++th) {
      for (int64_t k = 0; k < tilesWide; k += L) {
        // B^T d on the window columns 2k, 2k + 1, 2k + 2 and 2k + 3.
        Vec t[4][4];
        const int64_t top = 2 * th * span + k;
        const T *from[4] = {even + top, odd + top, even + top + 1,
                            odd + top + 1};
        for (int j = 0; j < 4; ++j) {
          const Vec d0 = G::load(from[j]), d1 = G::load(from[j] + span);
          const Vec d2 = G::load(from[j] + 2 * span);
          const Vec d3 = G::load(from[j] + 3 * span);
          t[0][j] = d0 - d2;
          t[1][j] = d1 + d2;
          t[2][j] = d2 - d1;
          t[3][j] = d1 - d3;
        }

        // (B^T d) B.
        T *out = v + c * tiles + th * tilesWide + k;
        for (int i = 0; i < 4; ++i) {
          G::store(out + (i * 4 + 0) * planeStride, t[i][0] - t[i][2]);
          G::store(out + (i * 4 + 1) * planeStride, t[i][1] + t[i][2]);
          G::store(out + (i * 4 + 2) * planeStride, t[i][2] - t[i][1]);
          G::store(out + (i * 4 + 3) * planeStride, t[i][1] - t[i][3]);
        }
      }
    }
  }
}

// Y = A^T m A for every tile of one sample, a vector of filters at a
// time, from M_xi[tiles, F]; then the bias, and relu with Relu. Writes
// the outputs inside the image to out[positions, F].
template <bool Relu, typename T>
void winogradOutputs(const WindowShape &s, const T *m, const T *bias, T *out) {
  using G = Gemm<T>;
  using Vec = typename G::Vec;
  const int64_t F = s.outChannels;
  const int64_t tilesWide = (s.outWidth + 1) / 2;
  const int64_t tiles = (s.outHeight + 1) / 2 * tilesWide;
  const int64_t plane = tiles * F;
  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t oh = tile / tilesWide * 2, ow = tile % tilesWide * 2;
    for (int64_t f = 0; f < F; f += G::Lanes) {
      const T *at = m + tile * F + f;
      Vec e[4][4];
      for (int xi = 0; xi < 16; ++xi)
        e[xi / 4][xi % 4] = G::load(at + xi * plane);

      // A^T m, then (A^T m) A.
      Vec r[2][4];
      for (int j = 0; j < 4; ++j) {
        r[0][j] = e[0][j] + e[1][j] + e[2][j];
        r[1][j] = e[1][j] - e[2][j] - e[3][j];
      }
      Vec shift = {};
      if (bias)
        shift = G::load(bias + f);
      for (int a = 0; a < 2 && oh + a < s.outHeight; ++a)
        for (int b = 0; b < 2 && ow + b < s.outWidth; ++b) {
          Vec y = b == 0 ? r[a][0] + r[a][1] + r[a][2]
                         : r[a][1] - r[a][2] - r[a][3];
          if (bias)
            y += shift;
          if constexpr (Relu)
            y = y > Vec{} ? y : Vec{};
          G::store(out + ((oh + a) * s.outWidth + ow + b) * F + f, y);
        }
    }
  }
}

} // namespace detail

// y = conv2d(x, w) (+ bias[F], then relu with Relu) for x[B, C, H, W],
// w[F, C, 3, 3] and y[B, F, OH, OW], by F(2x2, 3x3), for a window that
// winogradFits. The threads split the batch.
template <bool Relu, typename T>
void winogradConvolve(int64_t B, const WindowShape &s, const T *x, const T *w,
                      const T *bias, T *y) {
  using G = detail::Gemm<T>;
  const int64_t C = s.channels, F = s.outChannels;
  const int64_t positions = s.outHeight * s.outWidth;
  const int64_t tiles = (s.outHeight + 1) / 2 * ((s.outWidth + 1) / 2);
  const int64_t planeStride = C * tiles + G::Lanes;

  thread_local std::vector<T> filters;
  detail::winogradFilters(F, C, w, filters);
  const T *packed = filters.data();
  const int64_t packedSize = static_cast<int64_t>(filters.size()) / 16;

  parallelRanges(B, B * 16 * tiles * C * F, [&](int64_t first, int64_t last) {
    thread_local std::vector<T> v, m, out;
    v.resize(static_cast<size_t>(16 * planeStride));
    m.resize(static_cast<size_t>(16 * tiles * F));
    out.resize(static_cast<size_t>(positions * F));
    for (int64_t b = first; b < last; ++b) {
      detail::winogradInputs(s, x + b * C * s.height * s.width, v.data(),
                             planeStride);

      // M_xi[tiles, F] = V_xi^T U_xi.
      for (int xi = 0; xi < 16; ++xi)
        G::runPacked(tiles, F, C, v.data() + xi * planeStride, tiles, true,
                     packed + xi * packedSize, m.data() + xi * tiles * F, F);

      detail::winogradOutputs<Relu>(s, m.data(), bias, out.data());

      // y_b[F, positions] = out^T.
      T *yb = y + b * F * positions;
      for (int64_t f = 0; f < F; ++f)
        for (int64_t p = 0; p < positions; ++p)
          yb[f * positions + p] = out[p * F + f];
    }
  });
}

// dx = d loss / d x of a convolution that winogradFits with its padding
// and whose turned form (see the top) fits too.
template <typename T>
void winogradInputGrad(int64_t B, const WindowShape &s, const T *dy, const T *w,
                       T *dx) {
  const int64_t C = s.channels, F = s.outChannels;
  thread_local std::vector<T> turned;
  turned.resize(static_cast<size_t>(C * F * 9));
  for (int64_t f = 0; f < F; ++f)
    for (int64_t c = 0; c < C; ++c)
      for (int tap = 0; tap < 9; ++tap)
        turned[(c * F + f) * 9 + 8 - tap] = w[(f * C + c) * 9 + tap];
  winogradConvolve<false>(B, detail::winogradTurned(s), dy, turned.data(),
                          static_cast<const T *>(nullptr), dx);
}

} // namespace gradc

#endif // GRADC_KERNELS_WINOGRAD_H
