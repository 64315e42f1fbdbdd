// Kernels that generated code calls: matrix products.
//
// Generated code writes elementwise work as plain loops over static
// shapes; the work that needs more care (a register-blocked matrix
// product, numerically stable losses) lives here once, as templates, so
// the same code serves float training and double gradient checks. The
// header is compiled with the generated code, under its target flags.
#ifndef GRADC_KERNELS_H
#define GRADC_KERNELS_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#if defined(__AVX__)
#include <immintrin.h>
#endif

// Splitting loops over threads, deterministically.
#include <gradc/parallel.h>

// Scratch buffers and the short row copies that packing and unfolding do.
#include <gradc/kernels_memory.h>

// The elementwise, normalization and regularization family.
#include <gradc/kernels_batchnorm.h>
#include <gradc/kernels_elementwise.h>
#include <gradc/vector_exp.h>

// Losses and the squared norms of gradients.
#include <gradc/kernels_losses.h>

namespace gradc {

// ---------------------------------------------------------------------------
// Matrix product C[M,N] = op(A)[M,K] * op(B)[K,N], overwriting C or adding
// to it.
//
// op(A) is A[M,K] with rows `lda` apart, or A[K,M] transposed. op(B) is
// B[K,N] with rows `ldb` apart, or B[N,K] transposed. K is cut into blocks
// of kGemmDepth. For each block, B is packed into panels of NR columns laid
// out k-major, small enough to stay in the L1 cache while every MR-row
// block of C streams past it, its MR x NR sums held in vector registers.
// A large product splits C over threads, never K, so every thread count
// gives the same bits.
// ---------------------------------------------------------------------------

namespace detail {

// The vector helpers below are always inlined, so the warning that passing
// 64-byte vectors by value depends on AVX-512 being enabled does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

// The target's widest vector in bytes; the vectors across a panel of B
// (NR = kGemmPanelVectors * lanes columns); and the rows of C a
// micro-kernel keeps in registers, which takes MR * kGemmPanelVectors of
// the target's vector registers and leaves room for one row of the panel
// and the broadcast element of A.
//
// The elements of A stream from L2 while the panel stays in L1, and the
// stream is what limits the product: a panel three vectors wide reads a
// third fewer of them per multiply-add than one two vectors wide. With
// AVX-512's 32 registers, 9 rows of three vectors (27 sums) ran at 83% of
// the FMA peak where 12 rows of two ran at 71%, both with A from L2. With
// 16 registers, 6 rows of two vectors is the most that fits.
#if defined(__AVX512F__)
constexpr int kGemmVectorBytes = 64;
constexpr int kGemmPanelVectors = 3;
constexpr int kGemmRows = 9;
#elif defined(__AVX__)
constexpr int kGemmVectorBytes = 32;
constexpr int kGemmPanelVectors = 2;
constexpr int kGemmRows = 6;
#else
constexpr int kGemmVectorBytes = 16;
constexpr int kGemmPanelVectors = 2;
constexpr int kGemmRows = 6;
#endif

// The greatest depth of one block of K; K is cut into blocks of equal
// depth. A packed panel of floats then takes at most 24 KiB with AVX-512
// (128 x 48) and 16 KiB with AVX (256 x 16), which leaves it in a 48 KiB
// L1 cache beside the rows of A that stream past it. Unblocked, a
// 784-deep panel came from L2 on every use, and the products ran at L2's
// speed.
#if defined(__AVX512F__)
constexpr int64_t kGemmDepth = 128;
#else
constexpr int64_t kGemmDepth = 256;
#endif

// The most row blocks of C that read a panel of an untransposed B in
// place, rows ldb apart, rather than from a packed copy. A panel used
// once costs as much to copy as to read (a classifier's weight gradient,
// 10 rows); one used by every block of 256 rows ran a third slower in
// place than packed (784-deep products with AVX-512), its rows scattered
// over L1 as the rows of A stream past.
constexpr int64_t kGemmInPlaceUses = 2;

// Whether a micro-kernel's step from row to row of op(A) is known to be 1.
enum class ASteps { Any, UnitRow };

template <typename T> struct Gemm {
  static constexpr int VectorBytes = kGemmVectorBytes;
  static constexpr int Lanes = VectorBytes / sizeof(T);
  static constexpr int MR = kGemmRows; // rows of C per micro-kernel
  static constexpr int PanelVectors = kGemmPanelVectors;
  typedef T Vec __attribute__((vector_size(VectorBytes)));

  // Calls f(std::integral_constant<int, V>) with the vectors across a
  // panel for a product N columns wide: as many as N fills, up to
  // PanelVectors. A classifier's 10 outputs take panels one vector wide,
  // where in wider ones most lanes would be padding.
  template <typename F> static void withPanelVectors(int64_t N, F &&f) {
    const int64_t vectors = (N + Lanes - 1) / Lanes;
    if (vectors <= 1)
      f(std::integral_constant<int, 1>{});
    else if (vectors == 2)
      f(std::integral_constant<int, 2>{});
    else
      f(std::integral_constant<int, PanelVectors>{});
  }

  __attribute__((always_inline)) static Vec load(const T *p) {
    Vec v;
    std::memcpy(&v, p, sizeof(Vec));
    return v;
  }

  __attribute__((always_inline)) static void store(T *p, Vec v) {
    std::memcpy(p, &v, sizeof(Vec));
  }

  // Computes R rows of one panel of C, V vectors wide (NR = V * Lanes
  // columns), over `depth` values of k, starting from the values in C
  // when `accumulate` is set and from zero otherwise. Element (r, k) of
  // op(A) is at a[r * rowStep + k * kStep]; row k of the panel is at
  // panel + k * panelStride. The sums stay in registers
  // from start to end: with a partial panel's rows copied in and out
  // here, they went through the stack, by calls to memset and memcpy
  // that cost a twentieth of a 32-deep product.
  //
  // For floats and a transposed A, Steps fixes rowStep at 1 at compile
  // time: the elements of a row of A^T then load from one pointer at
  // constant offsets, which took a twentieth off the weight gradients'
  // products. Fixing kStep at 1 for an untransposed A made no difference
  // measured, so those, and doubles (for gradient checks), take the
  // general kernel.
  template <int V, int R, ASteps Steps>
  static void microKernel(int64_t depth, const T *a, int64_t rowStep,
                          int64_t kStep, const T *panel, int64_t panelStride,
                          T *c, int64_t ldc, bool accumulate) {
    if constexpr (Steps == ASteps::UnitRow)
      rowStep = 1;
    Vec acc[R][V];
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v)
        acc[r][v] = accumulate ? load(c + r * ldc + v * Lanes) : Vec{};

    for (int64_t k = 0; k < depth; ++k) {
      Vec b[V];
      for (int v = 0; v < V; ++v)
        b[v] = load(panel + k * panelStride + v * Lanes);
      for (int r = 0; r < R; ++r) {
        T scalar = a[r * rowStep + k * kStep];
        for (int v = 0; v < V; ++v)
          acc[r][v] += scalar * b[v];
      }
    }

    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v)
        store(c + r * ldc + v * Lanes, acc[r][v]);
  }

  // The micro-kernel for the `rows` (1 to MR) rows left in a block, over
  // the first `columns` of a panel: a panel's last whole vectors (16 of
  // 48 columns) by a narrower micro-kernel, a part of a vector through a
  // tile of whole vectors.
  template <int V, ASteps Steps, int R = MR>
  static void microKernelRows(int64_t rows, int64_t depth, const T *a,
                              int64_t rowStep, int64_t kStep, const T *panel,
                              int64_t panelStride, T *c, int64_t ldc,
                              int64_t columns, bool accumulate) {
    // The common blocks, of MR rows and one fewer, keep their Steps; the
    // rest take the general kernels, which keeps down the number of
    // kernels the trainers compile.
    if constexpr (R > 1) {
      constexpr ASteps Next = R > MR - 1 ? Steps : ASteps::Any;
      if (rows < R)
        return microKernelRows<V, Next, R - 1>(rows, depth, a, rowStep, kStep,
                                               panel, panelStride, c, ldc,
                                               columns, accumulate);
    }
    constexpr int NR = V * Lanes;
    if (columns == NR)
      return microKernel<V, R, Steps>(depth, a, rowStep, kStep, panel,
                                      panelStride, c, ldc, accumulate);
    if constexpr (V > 1) {
      if (columns <= NR - Lanes)
        return microKernelRows<V - 1, Steps, R>(rows, depth, a, rowStep, kStep,
                                                panel, panelStride, c, ldc,
                                                columns, accumulate);
    }

    // Element by element with a fixed count: std::copy called memmove
    // for a few floats, and GCC warned of the vectors moveRow may write.
    T tile[R * NR] = {};
    for (int r = 0; r < R && accumulate; ++r)
      for (int j = 0; j < NR; ++j)
        if (j < columns)
          tile[r * NR + j] = c[r * ldc + j];
    microKernel<V, R, Steps>(depth, a, rowStep, kStep, panel, panelStride, tile,
                             NR, accumulate);
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < NR; ++j)
        if (j < columns)
          c[r * ldc + j] = tile[r * NR + j];
  }

  // Packs rows k0 to k0 + depth of the `columns` columns of op(B) from
  // column n on into one panel NR columns wide, k-major, zero-padding
  // each row.
  template <int NR>
  static void packPanel(int64_t k0, int64_t depth, const T *B, int64_t ldb,
                        bool transB, int64_t n, int64_t columns, T *panel) {
    if (!transB) {
      for (int64_t k = 0; k < depth; ++k) {
        const T *row = B + (k0 + k) * ldb + n;
        T *to = panel + k * NR;
        if (columns == NR) {
          // Whole vectors: std::copy called memmove for every short row,
          // and a loop of NR elements stayed scalar, since the compiler
          // cannot tell that the row and the panel do not overlap.
          for (int v = 0; v < NR / Lanes; ++v)
            store(to + v * Lanes, load(row + v * Lanes));
          continue;
        }
        // Zeros, then the row over them in masked vectors: the last panel
        // of a convolution's product (121 positions: 25 of 32 columns)
        // called memmove and memset for every row.
        for (int j = 0; j < NR; ++j)
          to[j] = T(0);
        moveRow<false>(row, columns, to);
      }
      return;
    }
    if (columns % Lanes == 0 &&
        packTransposedFast(k0, depth, B, ldb, n, columns / Lanes, NR, panel))
      return;

    // Column j of the panel is row n + j of B: read along it, over a
    // panel zeroed in one call (a call per row of padding cost a tenth
    // of a classifier's 10-wide product).
    if (columns < NR)
      std::fill(panel, panel + depth * NR, T(0));
    for (int64_t j = 0; j < columns; ++j) {
      const T *column = B + (n + j) * ldb + k0;
      for (int64_t k = 0; k < depth; ++k)
        panel[k * NR + j] = column[k];
    }
  }

#if defined(__AVX512F__)
  // Writes the 16x16 block of floats at `from` (rows `ld` apart)
  // transposed to `to` (rows `toStride` apart): pairs of rows interleaved,
  // then quadruples, then 128-bit lanes twice over, all in registers. The
  // masked forms, with every lane on, as for the gathers below.
  static void transposeBlock(const float *from, int64_t ld, float *to,
                             int64_t toStride) {
    const __m512 zero = _mm512_setzero_ps();
    constexpr __mmask16 all = 0xffff;
    __m512 r[16], t[16];
    for (int i = 0; i < 16; ++i)
      r[i] = _mm512_loadu_ps(from + i * ld);
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_mask_unpacklo_ps(zero, all, r[i], r[i + 1]);
      t[i + 1] = _mm512_mask_unpackhi_ps(zero, all, r[i], r[i + 1]);
    }
    // r[4i + j], lane L: column 4L + j of rows 4i to 4i + 3.
    for (int i = 0; i < 16; i += 4) {
      r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
      r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xee);
      r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    auto lanes = [&](__m512 a, __m512 b, bool odd) {
      return odd ? _mm512_mask_shuffle_f32x4(zero, all, a, b, 0xdd)
                 : _mm512_mask_shuffle_f32x4(zero, all, a, b, 0x88);
    };
    for (int j = 0; j < 4; ++j) {
      const __m512 even = lanes(r[j], r[4 + j], false);
      const __m512 odd = lanes(r[j], r[4 + j], true);
      const __m512 evenHigh = lanes(r[8 + j], r[12 + j], false);
      const __m512 oddHigh = lanes(r[8 + j], r[12 + j], true);
      _mm512_storeu_ps(to + j * toStride, lanes(even, evenHigh, false));
      _mm512_storeu_ps(to + (8 + j) * toStride, lanes(even, evenHigh, true));
      _mm512_storeu_ps(to + (4 + j) * toStride, lanes(odd, oddHigh, false));
      _mm512_storeu_ps(to + (12 + j) * toStride, lanes(odd, oddHigh, true));
    }
  }

  // The Lanes floats down a column of B (rows `ld` apart) written as one
  // row of a panel, in a gather.
  static void gatherColumn(const float *from, int64_t ld, float *to) {
    const __m512i rows = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(static_cast<int>(ld)));
    // The masked form, with every lane on: GCC warns that the unmasked
    // one reads an uninitialized register.
    _mm512_storeu_ps(to, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), 0xffff,
                                                  rows, from, 4));
  }
#endif

#if defined(__AVX__) && !defined(__AVX512F__)
  // The 8x8 block of floats at `from` (rows `ld` apart) transposed to `to`
  // (rows `toStride` apart), in registers: pairs of rows interleaved, then
  // quadruples, then the 128-bit halves exchanged.
  static void transposeBlock(const float *from, int64_t ld, float *to,
                             int64_t toStride) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; ++i)
      r[i] = _mm256_loadu_ps(from + i * ld);
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    // r[i + j], 128-bit half h: column 4h + j of rows i to i + 3.
    for (int i = 0; i < 8; i += 4) {
      r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
      r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int j = 0; j < 4; ++j) {
      _mm256_storeu_ps(to + j * toStride,
                       _mm256_permute2f128_ps(r[j], r[4 + j], 0x20));
      _mm256_storeu_ps(to + (4 + j) * toStride,
                       _mm256_permute2f128_ps(r[j], r[4 + j], 0x31));
    }
  }

  // The Lanes floats down a column of B (rows `ld` apart) written as one
  // row of a panel, one at a time.
  static void gatherColumn(const float *from, int64_t ld, float *to) {
    for (int64_t j = 0; j < 8; ++j)
      to[j] = from[j * ld];
  }
#endif

  // `vectors` whole vectors of columns of a panel of B^T (rows `stride`
  // apart) packed by in-register transposes where the target has them:
  // Lanes rows of the panel at a time as a Lanes x Lanes transpose per
  // vector, the rows left over column by column. A dense layer's
  // forward product packs its weights this way on every call: scalar
  // copies took a quarter of its time at batch 64, and gathers alone
  // still more than half the packing's.
  static bool packTransposedFast(int64_t k0, int64_t depth, const T *B,
                                 int64_t ldb, int64_t n, int64_t vectors,
                                 int64_t stride, T *panel) {
#if defined(__AVX__)
    if constexpr (sizeof(T) == 4) {
      if (ldb * Lanes >= (int64_t{1} << 31)) // the gathers' 32-bit offsets
        return false;
      for (int64_t v = 0; v < vectors; ++v) {
        const T *from = B + (n + Lanes * v) * ldb + k0;
        T *to = panel + Lanes * v;
        int64_t k = 0;
        for (; k + Lanes <= depth; k += Lanes)
          transposeBlock(from + k, ldb, to + k * stride, stride);
        for (; k < depth; ++k)
          gatherColumn(from + k, ldb, to + k * stride);
      }
      return true;
    }
#endif
    (void)k0, (void)depth, (void)B, (void)ldb, (void)n, (void)vectors;
    (void)stride, (void)panel;
    return false;
  }

  static void run(int64_t M, int64_t N, int64_t K, const T *A, int64_t lda,
                  bool transA, const T *B, int64_t ldb, bool transB, T *C,
                  int64_t ldc, bool accumulate = false) {
    if (K == 0) {
      // An empty sum: zero, which leaves an accumulated C as it is.
      for (int64_t i = 0; i < M && !accumulate; ++i)
        std::fill(C + i * ldc, C + i * ldc + N, T(0));
      return;
    }

    // One or two rows by B^T, too small to split over threads: packing B^T
    // would cost more than the product (a batch-1 dense layer).
    if (!transA && transB && M <= 2 && M * N * K < kParallelMinGemmWork)
      return dotProducts(M, N, K, A, lda, B, ldb, C, ldc, accumulate);

    splitOverThreads(M, N, K, Lanes,
                     [&](int64_t i, int64_t rows, int64_t j, int64_t columns) {
                       const T *a = A + (transA ? i : i * lda);
                       runColumns(rows, columns, K, a, lda, transA, B, ldb,
                                  transB, j, C + i * ldc, ldc, accumulate);
                     });
  }

  // C[:, j : j + N] = op(A) op(B)[:, j : j + N] on the calling thread, in
  // panels of PanelVectors vectors. Where that would leave one vector
  // over, the last four vectors take two panels of two: a panel one
  // vector wide loads an element of A for every multiply-add, which
  // leaves the FMA units half idle (mlp_fashion's 256 and 784 columns are
  // 5 and 16 panels of three and one vector over).
  static void runColumns(int64_t M, int64_t N, int64_t K, const T *A,
                         int64_t lda, bool transA, const T *B, int64_t ldb,
                         bool transB, int64_t j, T *C, int64_t ldc,
                         bool accumulate) {
    const T *b = B + (transB ? j * ldb : j);
    if constexpr (PanelVectors == 3) {
      const int64_t vectors = (N + Lanes - 1) / Lanes;
      if (vectors >= 4 && vectors % 3 == 1) {
        const int64_t wide = (vectors - 4) * Lanes;
        if (wide > 0)
          runPanels<3>(M, wide, K, A, lda, transA, b, ldb, transB, nullptr,
                       C + j, ldc, accumulate);
        const T *rest = B + (transB ? (j + wide) * ldb : j + wide);
        return runPanels<2>(M, N - wide, K, A, lda, transA, rest, ldb, transB,
                            nullptr, C + j + wide, ldc, accumulate);
      }
    }

    withPanelVectors(N, [&](auto panelVectors) {
      runPanels<decltype(panelVectors)::value>(M, N, K, A, lda, transA, b, ldb,
                                               transB, nullptr, C + j, ldc,
                                               accumulate);
    });
  }

  // Calls part(i, rows, j, columns) for the blocks of C[M, N] the threads
  // compute side by side, at most one block each, or once for all of C
  // when the product is too small to split. Each block is a product of
  // its own, so every element of C gets the same sums in the same order
  // however C is split. A block of columns starts on a multiple of
  // `unit` columns: a vector, or a panel of a prepacked B.
  //
  // The threads split the columns where each gets at least two full
  // panels, or where there are too few rows to give each thread a block
  // of MR (a batch of one), and otherwise the rows. Split by columns, a
  // thread packs only the panels of B it uses and keeps its block of C in
  // its own cache. Handing the panels out one at a time as threads came
  // free moved blocks of C between the cores' caches and packed B^T twice,
  // once for each half of the rows: on two threads, mlp_fashion's
  // 784-deep product ran at 72% of the speed of two one-thread processes
  // side by side, and split evenly at 85%. The even split leaves a core
  // that another process slows holding up the other.
  template <typename Part>
  static void splitOverThreads(int64_t M, int64_t N, int64_t K, int64_t unit,
                               Part &&part) {
    const int64_t work = M * N * K;
    const int64_t threads = parallelThreads(work, kParallelMinGemmWork);
    if (threads <= 1)
      return part(int64_t{0}, M, int64_t{0}, N);

    const int64_t units = (N + unit - 1) / unit;
    const int64_t panelUnits =
        std::max<int64_t>(1, PanelVectors * Lanes / unit);
    const bool byColumns =
        units >= threads &&
        (units >= 2 * panelUnits * threads || M < threads * MR);
    parallelRanges(
        threads, work,
        [&](int64_t first, int64_t last) {
          for (int64_t t = first; t < last; ++t) {
            if (byColumns) {
              const int64_t j = std::min(N, units * t / threads * unit);
              const int64_t end = std::min(N, units * (t + 1) / threads * unit);
              part(int64_t{0}, M, j, end - j);
            } else {
              // A thread left no rows (a product of fewer rows than
              // threads) skips its part, which would still pack B.
              const int64_t i = M * t / threads;
              const int64_t end = M * (t + 1) / threads;
              if (end > i)
                part(i, end - i, int64_t{0}, N);
            }
          }
        },
        kParallelMinGemmWork);
  }

  // C = A B^T with A[M,K] and B[N,K] read in place, each element a dot
  // product of two rows: Lanes partial sums along K, added in a fixed
  // tree, then the remainder in order.
  static void dotProducts(int64_t M, int64_t N, int64_t K, const T *A,
                          int64_t lda, const T *B, int64_t ldb, T *C,
                          int64_t ldc, bool accumulate) {
    for (int64_t i = 0; i < M; ++i) {
      const T *a = A + i * lda;
      for (int64_t j = 0; j < N; ++j) {
        const T *b = B + j * ldb;
        Vec partial = {};
        int64_t k = 0;
        for (; k + Lanes <= K; k += Lanes)
          partial += load(a + k) * load(b + k);
        T lane[Lanes];
        store(lane, partial);
        for (int width = Lanes / 2; width > 0; width /= 2)
          for (int l = 0; l < width; ++l)
            lane[l] += lane[l + width];
        T sum = lane[0];
        for (int j = 0; k < K && j < Lanes; ++k, ++j)
          sum += a[k] * b[k];
        T &c = C[i * ldc + j];
        c = accumulate ? c + sum : sum;
      }
    }
  }

  // Packs op(B)[K,N] once, every panel over all of K, for many products
  // by the same matrix: a recurrence multiplies by W_hh at every step.
  static void pack(int64_t N, int64_t K, const T *B, int64_t ldb, bool transB,
                   AlignedVector<T> &packed) {
    withPanelVectors(N, [&](auto vectors) {
      constexpr int NR = decltype(vectors)::value * Lanes;
      const int64_t panels = (N + NR - 1) / NR;
      packed.resize(static_cast<size_t>(panels * K * NR));
      for (int64_t p = 0; p < panels; ++p) {
        const int64_t columns = std::min<int64_t>(NR, N - p * NR);
        packPanel<NR>(0, K, B, ldb, transB, p * NR, columns,
                      packed.data() + p * K * NR);
      }
    });
  }

  // run() with op(B) packed by pack(N, K, ...); the same bits.
  static void runPacked(int64_t M, int64_t N, int64_t K, const T *A,
                        int64_t lda, bool transA, const T *packed, T *C,
                        int64_t ldc, bool accumulate = false) {
    if (K == 0)
      return run(M, N, K, A, lda, transA, nullptr, 0, false, C, ldc,
                 accumulate);
    // The threads split the packed panels, or the rows.
    withPanelVectors(N, [&](auto vectors) {
      constexpr int V = decltype(vectors)::value;
      constexpr int64_t NR = V * Lanes;
      splitOverThreads(
          M, N, K, NR,
          [&](int64_t i, int64_t rows, int64_t j, int64_t columns) {
            runPanels<V>(rows, columns, K, A + (transA ? i : i * lda), lda,
                         transA, nullptr, 0, false, packed + j / NR * K * NR,
                         C + i * ldc + j, ldc, accumulate);
          });
    });
  }

  // The product with panels V vectors wide, packed here from B, or taken
  // from `prepacked` (pack()'s layout) when it is not null, on the calling
  // thread.
  template <int V>
  static void runPanels(int64_t M, int64_t N, int64_t K, const T *A,
                        int64_t lda, bool transA, const T *B, int64_t ldb,
                        bool transB, const T *prepacked, T *C, int64_t ldc,
                        bool accumulate) {
    constexpr int NR = V * Lanes;

    // Element (i, k) of op(A) is at A + i * rowStep + k * kStep.
    const int64_t rowStep = transA ? 1 : lda;
    const int64_t kStep = transA ? lda : 1;

    // C is computed in blocks of at most MR rows of one panel, one block
    // of K after the other. The row blocks are cut as evenly as they go
    // (256 rows in blocks of 9: 24 of 9, five of 8), which keeps the
    // narrow micro-kernels of a remainder out of the common sizes.
    const int64_t panels = (N + NR - 1) / NR;
    const int64_t rowBlocks = (M + MR - 1) / MR;
    const int64_t kBlocks = (K + kGemmDepth - 1) / kGemmDepth;
    for (int64_t kBlock = 0; kBlock < kBlocks; ++kBlock) {
      const int64_t k0 = K * kBlock / kBlocks;
      const int64_t depth = K * (kBlock + 1) / kBlocks - k0;
      for (int64_t p = 0; p < panels; ++p) {
        const int64_t columns = std::min<int64_t>(NR, N - p * NR);
        const T *panel;
        int64_t panelStride = NR;
        if (prepacked) {
          panel = prepacked + (p * K + k0) * NR;
        } else if (!transB && columns % Lanes == 0 &&
                   rowBlocks <= kGemmInPlaceUses) {
          // A panel of whole vectors of B as it is, rows ldb apart,
          // where too few row blocks use it to pay for a copy.
          panel = B + k0 * ldb + p * NR;
          panelStride = ldb;
        } else {
          thread_local AlignedVector<T> packed;
          T *to = scratch(packed, depth * NR);
          packPanel<NR>(k0, depth, B, ldb, transB, p * NR, columns, to);
          panel = to;
        }

        for (int64_t rowBlock = 0; rowBlock < rowBlocks; ++rowBlock) {
          const int64_t i = M * rowBlock / rowBlocks;
          const int64_t rows = M * (rowBlock + 1) / rowBlocks - i;
          const T *a = A + i * rowStep + k0 * kStep;
          T *c = C + i * ldc + p * NR;
          const bool add = accumulate || k0 > 0;
          if constexpr (sizeof(T) == 4) {
            if (transA) {
              microKernelRows<V, ASteps::UnitRow>(rows, depth, a, rowStep,
                                                  kStep, panel, panelStride, c,
                                                  ldc, columns, add);
              continue;
            }
          }
          microKernelRows<V, ASteps::Any>(rows, depth, a, rowStep, kStep, panel,
                                          panelStride, c, ldc, columns, add);
        }
      }
    }
  }
};

#pragma GCC diagnostic pop

} // namespace detail

// y[M,N] = x[M,K] * w[N,K]^T: a dense layer's forward product.
template <typename T>
void matmulNT(int64_t M, int64_t N, int64_t K, const T *x, const T *w,
              T *y) {
  detail::Gemm<T>::run(M, N, K, x, K, false, w, K, true, y, N);
}

// dx[M,K] = dy[M,N] * w[N,K]: the gradient flowing to a dense layer's input.
template <typename T>
void matmulNN(int64_t M, int64_t N, int64_t K, const T *dy, const T *w,
              T *dx) {
  detail::Gemm<T>::run(M, K, N, dy, N, false, w, K, false, dx, K);
}

// dw[N,K] = dy[M,N]^T * x[M,K]: a dense layer's weight gradient.
template <typename T>
void matmulTN(int64_t M, int64_t N, int64_t K, const T *dy, const T *x,
              T *dw) {
  detail::Gemm<T>::run(N, K, M, dy, N, true, x, K, false, dw, K);
}

} // namespace gradc

// The convolutional family, which builds on the matrix product above.
#include <gradc/kernels_conv.h>

// The sequence family: recurrences, step views and embeddings.
#include <gradc/kernels_sequence.h>

#endif // GRADC_KERNELS_H
