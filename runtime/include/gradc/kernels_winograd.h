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
// sample at a time, so that a sample's V and M stay in the L2 cache. A
// channel's 16 rows of V lie side by side, as do a tile's 16 rows of M,
// so that each transform writes or reads one short stretch of memory
// rather than 16 far apart.
//
// The products read V in place as their left side and write each tile's
// filters side by side, so the output transform works on a vector of
// filters at a time and leaves the sample as [positions, F]; a transpose
// with the bias and relu gives y[F, positions].
//
// Both gradients run the transforms backwards, starting from the output
// gradient's tiles dM = A dY A^T. The weight gradient's 16 products
// dU_xi[F, C] = dM_xi V_xi^T sum over the batch's tiles, and dw =
// G^T dU G. The input gradient's products dV_xi = dM_xi^T U_xi^T give
// each tile's window gradient B dV B^T, summed where windows overlap.
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

// Whether the input gradient of a convolution of shape s takes the
// Winograd path too: its last transform works on whole vectors of
// channels.
template <typename T> bool winogradInputGradFits(const WindowShape &s) {
  return winogradFits<T>(s) && s.channels % Gemm<T>::Lanes == 0;
}

// U = G g G^T for every filter f and channel c of w[F, C, 3, 3]:
// U_xi[C, F] at transformed + xi * C * F.
template <typename T>
void winogradFilterTransforms(int64_t F, int64_t C, const T *w,
                              AlignedVector<T> &transformed) {
  detail::scratch(transformed, 16 * C * F);
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
}

// U packed as the right side of the forward products: U_xi[C, F] in
// Gemm::pack's layout, one after the other; with Turned, U_xi^T[F, C],
// the right side of the input gradient's.
template <bool Turned = false, typename T>
void winogradFilters(int64_t F, int64_t C, const T *w,
                     AlignedVector<T> &packed) {
  thread_local AlignedVector<T> transformed, one;
  winogradFilterTransforms(F, C, w, transformed);
  packed.clear();
  for (int xi = 0; xi < 16; ++xi) {
    if constexpr (Turned)
      Gemm<T>::pack(C, F, transformed.data() + xi * C * F, F, true, one);
    else
      Gemm<T>::pack(F, C, transformed.data() + xi * C * F, F, false, one);
    packed.insert(packed.end(), one.begin(), one.end());
  }
}

// The vectors the input and output-gradient transforms work in, W tiles
// of a row at a time. A row of tiles narrower than half the target's
// vector takes vectors half as wide: cnn_fashion's second layer has rows
// of 6 tiles, and in AVX-512's 16 lanes its transforms took a fifth of
// the training step.
template <typename T, int W> struct TileVectors {
  typedef T Vec __attribute__((vector_size(W * sizeof(T))));

  __attribute__((always_inline)) static Vec load(const T *p) {
    Vec v;
    std::memcpy(&v, p, sizeof(Vec));
    return v;
  }

  // Stores the first n lanes of `value` at `to`, all of them when n is at
  // least a vector. Element by element, not std::copy: its call to
  // memmove took a fifth of a transform's time.
  __attribute__((always_inline)) static void store(T *to, Vec value,
                                                   int64_t n) {
    if (n >= W) {
      std::memcpy(to, &value, sizeof(Vec));
      return;
    }
    T lanes[W];
    std::memcpy(lanes, &value, sizeof(Vec));
    for (int l = 0; l < W; ++l)
      if (l < n)
        to[l] = lanes[l];
  }
};

// Calls f(std::integral_constant<int, W>) with the lanes of the vectors
// for the rows of tiles of a convolution's output: the target's, or half
// of them.
template <typename T, typename F>
void withTileLanes(const WindowShape &s, F &&f) {
  constexpr int L = Gemm<T>::Lanes;
  const int64_t tilesWide = (s.outWidth + 1) / 2;
  if (L >= 8 && tilesWide <= L / 2)
    f(std::integral_constant<int, L / 2>{});
  else
    f(std::integral_constant<int, L>{});
}

// The tiles of a convolution's output, and its rows of input split
// into their even and odd columns, so that a vector of tiles along a row
// finds each column of its windows as one whole vector: even(r)[k] and
// odd(r)[k] are row r - padTop's columns 2k - padLeft and 2k + 1 -
// padLeft, zero outside the image, for k up to tilesWide (a window's last
// two columns are the next tile's first two). The columns after those
// are read only into the lanes of tiles past a row's end, whose results
// are rewritten or not stored, so they keep whatever they held.
template <typename T> struct SplitRows {
  int64_t tilesHigh, tilesWide, tiles, rows, span;
  T *evenRows, *oddRows;

  SplitRows(const WindowShape &s, int64_t rows, AlignedVector<T> &buffer)
      : tilesHigh((s.outHeight + 1) / 2), tilesWide((s.outWidth + 1) / 2),
        tiles(tilesHigh * tilesWide), rows(rows),
        span((tilesWide + Gemm<T>::Lanes - 1) / Gemm<T>::Lanes *
                 Gemm<T>::Lanes +
             Gemm<T>::Lanes) {
    evenRows = detail::scratch(buffer, 2 * rows * span);
    oddRows = evenRows + rows * span;
  }

  T *even(int64_t r) const { return evenRows + r * span; }
  T *odd(int64_t r) const { return oddRows + r * span; }

  // Splits the first `rows` rows of image[height, width], padded. One
  // element at a time, from the row in place: copied into a padded line
  // first, the split was vectorized into stalls on the line's stores.
  // Only the pairs of columns that reach into the padding are tested:
  // tested all along, small images' splits took a third of the
  // transforms' time.
  void split(const T *image, int64_t height, int64_t width, int64_t padTop,
             int64_t padLeft) {
    if (splitInRegisters(image, height, width, padTop, padLeft))
      return;

    // Columns 2k - padLeft and 2k + 1 - padLeft both lie in the image for
    // k from inFirst up to inEnd.
    const int64_t inFirst = std::min((padLeft + 1) / 2, tilesWide + 1);
    const int64_t inEnd =
        std::clamp<int64_t>((width + padLeft) / 2, inFirst, tilesWide + 1);
    for (int64_t r = 0; r < rows; ++r) {
      T *e = even(r), *o = odd(r);
      const int64_t ih = r - padTop;
      if (ih < 0 || ih >= height) {
        std::fill(e, e + tilesWide + 1, T(0));
        std::fill(o, o + tilesWide + 1, T(0));
        continue;
      }
      const T *row = image + ih * width;
      auto tested = [&](int64_t k) {
        const int64_t column = 2 * k - padLeft;
        e[k] = column >= 0 && column < width ? row[column] : T(0);
        o[k] = column + 1 >= 0 && column + 1 < width ? row[column + 1] : T(0);
      };
      for (int64_t k = 0; k < inFirst; ++k)
        tested(k);
      for (int64_t k = inFirst; k < inEnd; ++k) {
        e[k] = row[2 * k - padLeft];
        o[k] = row[2 * k + 1 - padLeft];
      }
      for (int64_t k = inEnd; k <= tilesWide; ++k)
        tested(k);
    }
  }

  // The columns splitInRegisters picks for each lane of the even and odd
  // lines, and which lanes lie inside the image, for rows `pickedWidth`
  // wide padded by `pickedPadLeft`: the same for every channel.
  int64_t pickedWidth = -1, pickedPadLeft = -1;
  alignas(64) int32_t evenColumns[16], oddColumns[16];
  uint32_t evenInside = 0, oddInside = 0;

  void pickColumns(int64_t width, int64_t padLeft) {
    evenInside = oddInside = 0;
    for (int k = 0; k < 16; ++k) {
      const int64_t column = 2 * k - padLeft;
      const bool evenIn = column >= 0 && column < width;
      const bool oddIn = column + 1 >= 0 && column + 1 < width;
      evenColumns[k] = evenIn ? static_cast<int32_t>(column) : 0;
      oddColumns[k] = oddIn ? static_cast<int32_t>(column + 1) : 0;
      evenInside |= uint32_t{evenIn} << k;
      oddInside |= uint32_t{oddIn} << k;
    }
    pickedWidth = width;
    pickedPadLeft = padLeft;
  }

  // split for rows of at most 32 floats and 15 tiles, with AVX-512: each
  // row in two masked loads, its columns for the even and odd lines
  // picked by two permutes, zero where they fall outside the image. One
  // element at a time, the splits took a third of the input transforms'
  // time in cnn_fashion's training step.
  bool splitInRegisters(const T *image, int64_t height, int64_t width,
                        int64_t padTop, int64_t padLeft) {
#if defined(__AVX512F__)
    if constexpr (sizeof(T) == 4) {
      if (width > 32 || tilesWide >= 16)
        return false;
      if (width != pickedWidth || padLeft != pickedPadLeft)
        pickColumns(width, padLeft);
      const __m512i evenIndex = _mm512_load_si512(evenColumns);
      const __m512i oddIndex = _mm512_load_si512(oddColumns);
      const __mmask16 lowColumns =
          static_cast<__mmask16>((1u << std::min<int64_t>(width, 16)) - 1);
      const __mmask16 highColumns =
          static_cast<__mmask16>((1u << std::max<int64_t>(width - 16, 0)) - 1);
      const __m512 zero = _mm512_setzero_ps();
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t ih = r - padTop;
        __m512 low = zero, high = zero;
        if (ih >= 0 && ih < height) {
          const T *row = image + ih * width;
          low = _mm512_maskz_loadu_ps(lowColumns, row);
          if (width > 16)
            high = _mm512_maskz_loadu_ps(highColumns, row + 16);
        }
        _mm512_storeu_ps(even(r), _mm512_maskz_permutex2var_ps(
                                      static_cast<__mmask16>(evenInside), low,
                                      evenIndex, high));
        _mm512_storeu_ps(odd(r), _mm512_maskz_permutex2var_ps(
                                     static_cast<__mmask16>(oddInside), low,
                                     oddIndex, high));
      }
      return true;
    }
#endif
    (void)image, (void)height, (void)width, (void)padTop, (void)padLeft;
    return false;
  }
};

// winogradInputs in vectors of W tiles.
template <int W, typename T>
void winogradInputsIn(const WindowShape &s, const T *x, T *v,
                      int64_t channelStride, int64_t planeStride) {
  using TV = TileVectors<T, W>;
  using Vec = typename TV::Vec;
  constexpr int64_t L = W;
  thread_local AlignedVector<T> scratch;
  const int64_t windowRows = (s.outHeight + 1) / 2 * 2 + 2;
  SplitRows<T> split(s, windowRows, scratch);
  const int64_t tilesWide = split.tilesWide, span = split.span;

  for (int64_t c = 0; c < s.channels; ++c) {
    split.split(x + c * s.height * s.width, s.height, s.width, s.padTop,
                s.padLeft);
    for (int64_t th = 0; th < split.tilesHigh; ++th) {
      for (int64_t k = 0; k < tilesWide; k += L) {
        // B^T d on the window columns 2k, 2k + 1, 2k + 2 and 2k + 3.
        Vec t[4][4];
        const T *even = split.even(2 * th) + k, *odd = split.odd(2 * th) + k;
        const T *from[4] = {even, odd, even + 1, odd + 1};
        for (int j = 0; j < 4; ++j) {
          const Vec d0 = TV::load(from[j]), d1 = TV::load(from[j] + span);
          const Vec d2 = TV::load(from[j] + 2 * span);
          const Vec d3 = TV::load(from[j] + 3 * span);
          t[0][j] = d0 - d2;
          t[1][j] = d1 + d2;
          t[2][j] = d2 - d1;
          t[3][j] = d1 - d3;
        }

        // (B^T d) B.
        const int64_t tile = th * tilesWide + k;
        const int64_t lanes = split.tiles - tile;
        T *out = v + c * channelStride + tile;
        for (int i = 0; i < 4; ++i) {
          T *row = out + i * 4 * planeStride;
          TV::store(row, t[i][0] - t[i][2], lanes);
          TV::store(row + planeStride, t[i][1] + t[i][2], lanes);
          TV::store(row + 2 * planeStride, t[i][2] - t[i][1], lanes);
          TV::store(row + 3 * planeStride, t[i][1] - t[i][3], lanes);
        }
      }
    }
  }
}

// V = B^T d B for every tile and channel of one sample x[C, H, W]: V_xi
// is [C, tiles] from v + xi * planeStride, rows channelStride apart, the
// tiles row-major over the output. A vector of tiles along a row at a
// time: the windows' even and odd columns are gathered apart, so that the
// columns 0 to 3 of the vector's windows are four whole vectors. A row's
// last vector may run into the next rows' tiles, rewritten after it, but
// never past the channel's last tile: the space after it may be another
// sample's, written by another thread.
template <typename T>
void winogradInputs(const WindowShape &s, const T *x, T *v,
                    int64_t channelStride, int64_t planeStride) {
  withTileLanes<T>(s, [&](auto lanes) {
    winogradInputsIn<decltype(lanes)::value>(s, x, v, channelStride,
                                             planeStride);
  });
}

// The 16 vectors of a tile's 4x4 transform at `at`, `stride` apart, as
// e[row][column].
template <typename T>
__attribute__((always_inline)) inline void
loadTileVectors(const T *at, int64_t stride, typename Gemm<T>::Vec (&e)[4][4]) {
  for (int xi = 0; xi < 16; ++xi)
    e[xi / 4][xi % 4] = Gemm<T>::load(at + xi * stride);
}

// Y = A^T m A for every tile of one sample, a vector of filters at a
// time, from M_xi[tiles, F] at m + xi * F, rows 16 F apart (a tile's 16
// rows side by side); then the bias, and relu with Relu. Writes the
// outputs inside the image to out[positions, F].
template <bool Relu, typename T>
void winogradOutputs(const WindowShape &s, const T *m, const T *bias, T *out) {
  using G = Gemm<T>;
  using Vec = typename G::Vec;
  const int64_t F = s.outChannels;
  const int64_t tilesWide = (s.outWidth + 1) / 2;
  const int64_t tiles = (s.outHeight + 1) / 2 * tilesWide;
  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t oh = tile / tilesWide * 2, ow = tile % tilesWide * 2;
    for (int64_t f = 0; f < F; f += G::Lanes) {
      Vec e[4][4];
      loadTileVectors(m + tile * 16 * F + f, F, e);

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

// winogradOutputGrads in vectors of W tiles.
template <int W, typename T>
void winogradOutputGradsIn(const WindowShape &s, const T *dy, T *dm,
                           int64_t filterStride, int64_t planeStride) {
  using TV = TileVectors<T, W>;
  using Vec = typename TV::Vec;
  constexpr int64_t L = W;
  thread_local AlignedVector<T> scratch;
  const int64_t tileRows = (s.outHeight + 1) / 2 * 2;
  SplitRows<T> split(s, tileRows, scratch);
  const int64_t tilesWide = split.tilesWide;

  for (int64_t f = 0; f < s.outChannels; ++f) {
    split.split(dy + f * s.outHeight * s.outWidth, s.outHeight, s.outWidth, 0,
                0);
    for (int64_t th = 0; th < split.tilesHigh; ++th) {
      for (int64_t k = 0; k < tilesWide; k += L) {
        // dY A^T, row a: y0, y0 + y1, y0 - y1, -y1.
        Vec t[2][4];
        for (int a = 0; a < 2; ++a) {
          const Vec y0 = TV::load(split.even(2 * th + a) + k);
          const Vec y1 = TV::load(split.odd(2 * th + a) + k);
          t[a][0] = y0;
          t[a][1] = y0 + y1;
          t[a][2] = y0 - y1;
          t[a][3] = -y1;
        }

        // A (dY A^T): rows t0, t0 + t1, t0 - t1, -t1.
        const int64_t tile = th * tilesWide + k;
        const int64_t lanes = split.tiles - tile;
        T *out = dm + f * filterStride + tile;
        for (int j = 0; j < 4; ++j) {
          TV::store(out + j * planeStride, t[0][j], lanes);
          TV::store(out + (4 + j) * planeStride, t[0][j] + t[1][j], lanes);
          TV::store(out + (8 + j) * planeStride, t[0][j] - t[1][j], lanes);
          TV::store(out + (12 + j) * planeStride, -t[1][j], lanes);
        }
      }
    }
  }
}

// dM = A dY A^T for every tile and filter of one sample's output
// gradient dy[F, OH, OW], the adjoint of winogradOutputs: dM_xi is
// [F, tiles] from dm + xi * planeStride, rows filterStride apart, laid
// out as winogradInputs lays out V. The outputs past an odd-sized
// image's edge are zero.
template <typename T>
void winogradOutputGrads(const WindowShape &s, const T *dy, T *dm,
                         int64_t filterStride, int64_t planeStride) {
  withTileLanes<T>(s, [&](auto lanes) {
    winogradOutputGradsIn<decltype(lanes)::value>(s, dy, dm, filterStride,
                                                  planeStride);
  });
}

// dw[F, C, 3, 3] = G^T dU G for every filter and channel, the adjoint of
// winogradFilters, from dU_xi[F, C] at du + xi * F * C.
template <typename T>
void winogradFilterGrads(int64_t F, int64_t C, const T *du, T *dw) {
  const int64_t plane = F * C;
  for (int64_t fc = 0; fc < plane; ++fc) {
    // G^T dU: the rows combined, 3x4.
    T rows[3][4];
    for (int j = 0; j < 4; ++j) {
      const T u0 = du[j * plane + fc], u1 = du[(4 + j) * plane + fc];
      const T u2 = du[(8 + j) * plane + fc], u3 = du[(12 + j) * plane + fc];
      rows[0][j] = u0 + T(0.5) * (u1 + u2);
      rows[1][j] = T(0.5) * (u1 - u2);
      rows[2][j] = T(0.5) * (u1 + u2) + u3;
    }

    // (G^T dU) G: the columns combined, 3x3.
    T *g = dw + fc * 9;
    for (int i = 0; i < 3; ++i) {
      const T *u = rows[i];
      g[i * 3] = u[0] + T(0.5) * (u[1] + u[2]);
      g[i * 3 + 1] = T(0.5) * (u[1] - u[2]);
      g[i * 3 + 2] = T(0.5) * (u[1] + u[2]) + u[3];
    }
  }
}

// dx += B dV B^T for every tile of one sample, the adjoint of
// winogradInputs: dV_xi[tiles, C] at dv + xi * C, rows 16 C apart (a
// tile's 16 rows side by side), a vector of channels at a time. Each
// tile's 4x4 window is added to dx[positions, C] where it lies inside
// the image, the tiles in order, so the overlapping windows' sums run in
// one fixed order.
template <typename T>
void winogradInputAdjoints(const WindowShape &s, const T *dv, T *dx) {
  using G = Gemm<T>;
  using Vec = typename G::Vec;
  const int64_t C = s.channels;
  const int64_t tilesWide = (s.outWidth + 1) / 2;
  const int64_t tiles = (s.outHeight + 1) / 2 * tilesWide;
  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t top = tile / tilesWide * 2 - s.padTop;
    const int64_t left = tile % tilesWide * 2 - s.padLeft;
    for (int64_t c = 0; c < C; c += G::Lanes) {
      Vec e[4][4];
      loadTileVectors(dv + tile * 16 * C + c, C, e);

      // B dV: rows u0, u1 - u2 + u3, u1 + u2 - u0, -u3 of each column.
      Vec r[4][4];
      for (int j = 0; j < 4; ++j) {
        r[0][j] = e[0][j];
        r[1][j] = e[1][j] - e[2][j] + e[3][j];
        r[2][j] = e[1][j] + e[2][j] - e[0][j];
        r[3][j] = -e[3][j];
      }

      // (B dV) B^T, added to the window's elements in the image.
      for (int i = 0; i < 4; ++i) {
        const int64_t h = top + i;
        if (h < 0 || h >= s.height)
          continue;
        const Vec d[4] = {r[i][0], r[i][1] - r[i][2] + r[i][3],
                          r[i][1] + r[i][2] - r[i][0], -r[i][3]};
        for (int j = 0; j < 4; ++j) {
          const int64_t w = left + j;
          if (w < 0 || w >= s.width)
            continue;
          T *to = dx + (h * s.width + w) * C + c;
          G::store(to, G::load(to) + d[j]);
        }
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

  thread_local AlignedVector<T> filters;
  detail::winogradFilters(F, C, w, filters);
  const T *packed = filters.data();
  const int64_t packedSize = static_cast<int64_t>(filters.size()) / 16;

  parallelRanges(B, B * 16 * tiles * C * F, [&](int64_t first, int64_t last) {
    thread_local AlignedVector<T> v, m, out;
    detail::scratch(v, 16 * C * tiles);
    detail::scratch(m, 16 * tiles * F);
    detail::scratch(out, positions * F);
    for (int64_t b = first; b < last; ++b) {
      detail::winogradInputs(s, x + b * C * s.height * s.width, v.data(),
                             16 * tiles, tiles);

      // M_xi[tiles, F] = V_xi^T U_xi.
      for (int xi = 0; xi < 16; ++xi)
        G::runPacked(tiles, F, C, v.data() + xi * tiles, 16 * tiles, true,
                     packed + xi * packedSize, m.data() + xi * F, 16 * F);

      detail::winogradOutputs<Relu>(s, m.data(), bias, out.data());

      // y_b[F, positions] = out^T.
      T *yb = y + b * F * positions;
      for (int64_t f = 0; f < F; ++f)
        for (int64_t p = 0; p < positions; ++p)
          yb[f * positions + p] = out[p * F + f];
    }
  });
}

// dx = d loss / d x of a convolution that winogradInputGradFits, by the
// adjoints of the forward's steps: dM = A dY A^T as for the weight
// gradient, the 16 products dV_xi[tiles, C] = dM_xi^T U_xi^T, and
// dx = B dV B^T summed over the overlapping windows. Taken as a
// convolution of dy with the filters turned, the transforms also covered
// 2 - pad rows and columns of padding around dy, and the products grew to
// match (cnn_fashion's second layer: 49 tiles for 36). The threads split
// the batch.
template <typename T>
void winogradInputGrad(int64_t B, const WindowShape &s, const T *dy, const T *w,
                       T *dx) {
  using G = detail::Gemm<T>;
  const int64_t C = s.channels, F = s.outChannels;
  const int64_t positions = s.height * s.width;
  const int64_t tiles = (s.outHeight + 1) / 2 * ((s.outWidth + 1) / 2);

  thread_local AlignedVector<T> filters;
  detail::winogradFilters<true>(F, C, w, filters);
  const T *packed = filters.data();
  const int64_t packedSize = static_cast<int64_t>(filters.size()) / 16;

  parallelRanges(B, B * 16 * tiles * C * F, [&](int64_t first, int64_t last) {
    thread_local AlignedVector<T> dm, dv, sums;
    detail::scratch(dm, 16 * F * tiles);
    detail::scratch(dv, 16 * tiles * C);
    detail::scratch(sums, positions * C);
    for (int64_t b = first; b < last; ++b) {
      detail::winogradOutputGrads(s, dy + b * F * s.outHeight * s.outWidth,
                                  dm.data(), 16 * tiles, tiles);

      // dV_xi[tiles, C] = dM_xi^T U_xi^T, dM_xi[F, tiles] read transposed.
      for (int xi = 0; xi < 16; ++xi)
        G::runPacked(tiles, C, F, dm.data() + xi * tiles, 16 * tiles, true,
                     packed + xi * packedSize, dv.data() + xi * C, 16 * C);

      std::fill(sums.begin(), sums.begin() + positions * C, T(0));
      detail::winogradInputAdjoints(s, dv.data(), sums.data());

      // dx_b[C, positions] = sums^T.
      T *dxb = dx + b * C * positions;
      for (int64_t c = 0; c < C; ++c)
        for (int64_t p = 0; p < positions; ++p)
          dxb[c * positions + p] = sums[p * C + c];
    }
  });
}

// dw = d loss / d w of a convolution that winogradFits:
//   dU_xi[F, C] = sum over samples and tiles of dM_xi V_xi^T,
// then dw = G^T dU G. The batch is taken a chunk of samples at a time
// (winogradChunk): the threads transform the chunk's samples, then each
// of the 16 products is one thread's, over the chunk's tiles, added to
// the sum of the chunks before it. Every sum thus runs in the same order
// on any number of threads.
//
// A chunk's transformed inputs and output gradients take 16 (C + F)
// values per tile and sample. They are written, then read back by the
// products, so a chunk is kept within kWinogradChunkBytes, half an L2
// cache of 512 KiB, which leaves room for dU. cnn_fashion's second layer
// takes 221 KiB a sample: in chunks of 8, its output-gradient transform
// ran about three times slower inside a training step than alone.
constexpr int64_t kWinogradChunkBytes = int64_t{256} << 10;
constexpr int64_t kWinogradMaxChunk = 8;

// The samples in one chunk of winogradWeightGrad's batch: as many as fit
// kWinogradChunkBytes, at least one, at most kWinogradMaxChunk and B.
template <typename T> int64_t winogradChunk(int64_t B, const WindowShape &s) {
  const int64_t tiles = (s.outHeight + 1) / 2 * ((s.outWidth + 1) / 2);
  const int64_t sampleBytes =
      16 * (s.channels + s.outChannels) * tiles * int64_t{sizeof(T)};
  return std::max<int64_t>(
      1, std::min({kWinogradChunkBytes / sampleBytes, kWinogradMaxChunk, B}));
}

template <typename T>
void winogradWeightGrad(int64_t B, const WindowShape &s, const T *dy,
                        const T *x, T *dw) {
  using G = detail::Gemm<T>;
  const int64_t C = s.channels, F = s.outChannels;
  const int64_t tiles = (s.outHeight + 1) / 2 * ((s.outWidth + 1) / 2);
  const int64_t chunk = winogradChunk<T>(B, s);
  const int64_t stride = chunk * tiles; // between rows of V_xi and dM_xi
  const int64_t inputSize = C * s.height * s.width;
  const int64_t gradSize = F * s.outHeight * s.outWidth;

  // Pointers, as a thread_local named inside the threads' body would be
  // each thread's own.
  thread_local AlignedVector<T> vScratch, dmScratch, duScratch;
  detail::scratch(vScratch, 16 * C * stride);
  detail::scratch(dmScratch, 16 * F * stride);
  detail::scratch(duScratch, 16 * F * C);
  T *v = vScratch.data(), *dm = dmScratch.data(), *du = duScratch.data();
  for (int64_t b0 = 0; b0 < B; b0 += chunk) {
    const int64_t samples = std::min(chunk, B - b0);
    const int64_t work = samples * 16 * tiles * (C + F);
    parallelRanges(samples, work, [&](int64_t first, int64_t last) {
      for (int64_t b = first; b < last; ++b) {
        detail::winogradInputs(s, x + (b0 + b) * inputSize, v + b * tiles,
                               16 * stride, stride);
        detail::winogradOutputGrads(s, dy + (b0 + b) * gradSize, dm + b * tiles,
                                    16 * stride, stride);
      }
    });

    // dU_xi[F, C] (+)= dM_xi[F, tiles] V_xi[C, tiles]^T.
    parallelRanges(16, 16 * F * C * samples * tiles,
                   [&](int64_t first, int64_t last) {
                     for (int64_t xi = first; xi < last; ++xi)
                       G::run(F, C, samples * tiles, dm + xi * stride,
                              16 * stride, false, v + xi * stride, 16 * stride,
                              true, du + xi * F * C, C, b0 > 0);
                   });
  }
  detail::winogradFilterGrads(F, C, du, dw);
}

} // namespace gradc

#endif // GRADC_KERNELS_WINOGRAD_H
