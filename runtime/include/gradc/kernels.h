// Kernels that generated code calls: matrix products and losses.
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
#include <vector>

// Splitting loops over threads, deterministically.
#include <gradc/parallel.h>

// The elementwise, normalization and regularization family.
#include <gradc/kernels_batchnorm.h>
#include <gradc/kernels_elementwise.h>

namespace gradc {

// ---------------------------------------------------------------------------
// Matrix product C[M,N] = op(A)[M,K] * op(B)[K,N], overwriting C or adding
// to it.
//
// op(A) is A[M,K] with rows `lda` apart, or A[K,M] transposed. op(B) is
// B[K,N] with rows `ldb` apart, or B[N,K] transposed. B is packed into
// panels of NR columns laid out k-major, so the inner loop streams one
// contiguous panel while MR rows of C stay in vector registers. A large
// product splits C over threads, never K, so every thread count gives the
// same bits.
// ---------------------------------------------------------------------------

namespace detail {

// The vector helpers below are always inlined, so the warning that passing
// 64-byte vectors by value depends on AVX-512 being enabled does not apply.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

template <typename T> struct Gemm {
  static constexpr int VectorBytes = 64;
  static constexpr int Lanes = VectorBytes / sizeof(T);
  static constexpr int NR = 2 * Lanes; // columns of C per micro-kernel
  static constexpr int MR = 4;         // rows of C per micro-kernel
  typedef T Vec __attribute__((vector_size(VectorBytes)));

  __attribute__((always_inline)) static Vec load(const T *p) {
    Vec v;
    std::memcpy(&v, p, sizeof(Vec));
    return v;
  }

  __attribute__((always_inline)) static void store(T *p, Vec v) {
    std::memcpy(p, &v, sizeof(Vec));
  }

  // Computes R rows of one NR-wide panel of C, adding them to C when
  // `accumulate` is set. Element (r, k) of op(A) is at
  // a[r * rowStep + k * kStep]; only the first `columns` are stored.
  template <int R>
  static void microKernel(int64_t K, const T *a, int64_t rowStep,
                          int64_t kStep, const T *panel, T *c, int64_t ldc,
                          int64_t columns, bool accumulate) {
    Vec acc[R][2] = {};
    for (int64_t k = 0; k < K; ++k) {
      Vec b0 = load(panel + k * NR);
      Vec b1 = load(panel + k * NR + Lanes);
      for (int r = 0; r < R; ++r) {
        T scalar = a[r * rowStep + k * kStep];
        acc[r][0] += scalar * b0;
        acc[r][1] += scalar * b1;
      }
    }

    for (int r = 0; r < R; ++r) {
      T *cRow = c + r * ldc;
      if (columns == NR) {
        if (accumulate) {
          acc[r][0] += load(cRow);
          acc[r][1] += load(cRow + Lanes);
        }
        store(cRow, acc[r][0]);
        store(cRow + Lanes, acc[r][1]);
        continue;
      }
      T row[NR];
      store(row, acc[r][0]);
      store(row + Lanes, acc[r][1]);
      for (int64_t j = 0; j < columns; ++j)
        cRow[j] = accumulate ? cRow[j] + row[j] : row[j];
    }
  }

  // Packs the `columns` columns of op(B) from column n on into one panel,
  // k-major, zero-padding it to NR columns.
  static void packPanel(int64_t K, const T *B, int64_t ldb, bool transB,
                        int64_t n, int64_t columns, T *panel) {
    for (int64_t k = 0; k < K; ++k) {
      T *row = panel + k * NR;
      if (transB)
        for (int64_t j = 0; j < columns; ++j)
          row[j] = B[(n + j) * ldb + k];
      else
        for (int64_t j = 0; j < columns; ++j)
          row[j] = B[k * ldb + n + j];
      std::fill(row + columns, row + NR, T(0));
    }
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

    // Element (i, k) of op(A) is at a + i * rowStep + k * kStep.
    const int64_t rowStep = transA ? 1 : lda;
    const int64_t kStep = transA ? lda : 1;

    // C is computed in blocks of MR rows of one panel, panel by panel. The
    // threads split the blocks; each packs the panels its blocks need, one
    // at a time, so that a parallel product needs no barrier. Every element
    // of C is one thread's sum over all of K, in the same order whatever
    // the split.
    const int64_t panels = (N + NR - 1) / NR;
    const int64_t rowBlocks = (M + MR - 1) / MR;
    parallelRanges(
        panels * rowBlocks, M * N * K,
        [&](int64_t first, int64_t last) {
          thread_local std::vector<T> packed;
          packed.resize(static_cast<size_t>(K * NR));
          T *panel = packed.data();
          int64_t packedPanel = -1;
          for (int64_t block = first; block < last; ++block) {
            const int64_t p = block / rowBlocks;
            const int64_t i = block % rowBlocks * MR;
            const int64_t columns = std::min<int64_t>(NR, N - p * NR);
            if (p != packedPanel) {
              packPanel(K, B, ldb, transB, p * NR, columns, panel);
              packedPanel = p;
            }
            const T *a = A + i * rowStep;
            T *c = C + i * ldc + p * NR;
            switch (std::min<int64_t>(MR, M - i)) {
            case MR:
              microKernel<MR>(K, a, rowStep, kStep, panel, c, ldc, columns,
                              accumulate);
              break;
            case 3:
              microKernel<3>(K, a, rowStep, kStep, panel, c, ldc, columns,
                             accumulate);
              break;
            case 2:
              microKernel<2>(K, a, rowStep, kStep, panel, c, ldc, columns,
                             accumulate);
              break;
            case 1:
              microKernel<1>(K, a, rowStep, kStep, panel, c, ldc, columns,
                             accumulate);
              break;
            }
          }
        },
        kParallelMinGemmWork);
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

// ---------------------------------------------------------------------------
// Losses. Each returns the mean loss over the batch; the gradients already
// include the 1/B (or 1/elements) of the mean, as PyTorch's do.
// ---------------------------------------------------------------------------

// Softmax cross-entropy over C classes. Subtracting each row's maximum
// keeps exp() finite for any logits.
template <typename T>
T softmaxCrossEntropy(int64_t B, int64_t C, const T *logits,
                      const int32_t *labels) {
  double total = 0;
  for (int64_t b = 0; b < B; ++b) {
    const T *z = logits + b * C;
    T largest = *std::max_element(z, z + C);
    double sum = 0;
    for (int64_t j = 0; j < C; ++j)
      sum += std::exp(static_cast<double>(z[j] - largest));
    total += std::log(sum) - static_cast<double>(z[labels[b]] - largest);
  }
  return static_cast<T>(total / static_cast<double>(B));
}

template <typename T>
void softmaxCrossEntropyGrad(int64_t B, int64_t C, const T *logits,
                             const int32_t *labels, T *dlogits) {
  parallelRanges(B, B * C, [&](int64_t first, int64_t last) {
    for (int64_t b = first; b < last; ++b) {
      const T *z = logits + b * C;
      T *dz = dlogits + b * C;
      T largest = *std::max_element(z, z + C);
      T sum = 0;
      for (int64_t j = 0; j < C; ++j) {
        dz[j] = std::exp(z[j] - largest);
        sum += dz[j];
      }
      T scale = T(1) / (sum * static_cast<T>(B));
      for (int64_t j = 0; j < C; ++j)
        dz[j] *= scale;
      dz[labels[b]] -= T(1) / static_cast<T>(B);
    }
  });
}

// Mean squared error over all n elements.
template <typename T>
T meanSquaredError(int64_t n, const T *prediction, const T *target) {
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = static_cast<double>(prediction[i]) - target[i];
    total += d * d;
  }
  return static_cast<T>(total / static_cast<double>(n));
}

template <typename T>
void meanSquaredErrorGrad(int64_t n, const T *prediction, const T *target,
                          T *dprediction) {
  T scale = T(2) / static_cast<T>(n);
  parallelRanges(n, n, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i)
      dprediction[i] = scale * (prediction[i] - target[i]);
  });
}

// Sum of squares, accumulated in double so that the norms of large
// gradients keep their precision. The values are summed in chunks of a
// fixed size, the chunks' sums added in order; within a chunk, element i
// goes to the partial sum i % 8 (eight sums that vectorize), added up in
// a fixed order. The chunks, not the threads, fix the order of every
// addition, so every thread count gives the same sum.
constexpr int64_t kSquaredNormChunk = 8192;

template <typename T> T squaredNorm(int64_t n, const T *values) {
  auto chunkSum = [&](int64_t chunk) {
    constexpr int Lanes = 8;
    const int64_t end = std::min(n, (chunk + 1) * kSquaredNormChunk);
    double lane[Lanes] = {};
    int64_t i = chunk * kSquaredNormChunk;
    for (; i + Lanes <= end; i += Lanes)
      for (int j = 0; j < Lanes; ++j)
        lane[j] += static_cast<double>(values[i + j]) * values[i + j];
    for (int j = 0; i < end; ++i, ++j)
      lane[j] += static_cast<double>(values[i]) * values[i];
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) +
           ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  };
  const int64_t chunks = (n + kSquaredNormChunk - 1) / kSquaredNormChunk;
  if (chunks <= 1)
    return static_cast<T>(chunks == 1 ? chunkSum(0) : 0.0);

  thread_local std::vector<double> sums;
  sums.resize(static_cast<size_t>(chunks));
  double *sum = sums.data();
  parallelRanges(chunks, n, [&](int64_t first, int64_t last) {
    for (int64_t chunk = first; chunk < last; ++chunk)
      sum[chunk] = chunkSum(chunk);
  });
  double total = 0;
  for (int64_t chunk = 0; chunk < chunks; ++chunk)
    total += sum[chunk];
  return static_cast<T>(total);
}

} // namespace gradc

// The convolutional family, which builds on the matrix product above.
#include <gradc/kernels_conv.h>

// The sequence family: recurrences, step views and embeddings.
#include <gradc/kernels_sequence.h>

#endif // GRADC_KERNELS_H
