// Losses and squared norms that generated code calls: numerically stable
// softmax cross-entropy, mean squared error, and the sum of squares a
// gradient norm takes, in an order that does not depend on the threads.
#ifndef GRADC_KERNELS_LOSSES_H
#define GRADC_KERNELS_LOSSES_H

#include <gradc/parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace gradc {

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
// goes to the partial sum i % 32, added up in a fixed tree. The chunks,
// not the threads, fix the order of every addition, so every thread count
// gives the same sum. 32 sums are four independent vectors of eight
// doubles: with one, each multiply-add waited for the one before, and the
// norms of a step's gradients took a tenth of mlp_fashion's step.
constexpr int64_t kSquaredNormChunk = 8192;

namespace detail {

// The sum of squares of values[begin, end), at most one chunk, in double.
template <typename T>
double squaredNormChunk(const T *values, int64_t begin, int64_t end) {
  constexpr int Lanes = 32;
  double lane[Lanes] = {};
  int64_t i = begin;
  for (; i + Lanes <= end; i += Lanes)
    for (int j = 0; j < Lanes; ++j)
      lane[j] += static_cast<double>(values[i + j]) * values[i + j];
  for (int j = 0; i < end && j < Lanes; ++i, ++j)
    lane[j] += static_cast<double>(values[i]) * values[i];
  for (int width = Lanes / 2; width > 0; width /= 2)
    for (int j = 0; j < width; ++j)
      lane[j] += lane[j + width];
  return lane[0];
}

} // namespace detail

template <typename T> T squaredNorm(int64_t n, const T *values) {
  auto chunkSum = [&](int64_t chunk) {
    return detail::squaredNormChunk(
        values, chunk * kSquaredNormChunk,
        std::min(n, (chunk + 1) * kSquaredNormChunk));
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

#endif // GRADC_KERNELS_LOSSES_H
