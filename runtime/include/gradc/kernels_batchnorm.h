// BatchNorm kernels, as torch.nn.BatchNorm1d/2d compute them.
//
// An activation is laid out [B, C, inner]: C channels per sample, each
// with `inner` values (1 for a [C] sample, H*W for [C,H,W]). Statistics
// are per channel over the n = B * inner values. `stats` holds each
// channel's mean in its first row and 1/sqrt(var + eps) in its second.
// Sums run in double so that a large batch keeps the statistics exact.
// The threads split the channels, or the (sample, channel) planes; each
// channel's sums stay on one thread, in order.
#ifndef GRADC_KERNELS_BATCHNORM_H
#define GRADC_KERNELS_BATCHNORM_H

#include <gradc/parallel.h>

#include <cmath>
#include <cstdint>
#include <cstring>

namespace gradc {

// Training: the batch's mean and biased variance normalize, and the
// running statistics move toward the batch's with the unbiased variance,
// as PyTorch does. Eval: the running statistics normalize.
template <typename T>
void batchNormStats(int64_t B, int64_t C, int64_t inner, const T *x,
                    T *runningMean, T *runningVar, T *stats, double eps,
                    double momentum, bool training) {
  if (!training) {
    for (int64_t c = 0; c < C; ++c) {
      stats[c] = runningMean[c];
      stats[C + c] = static_cast<T>(
          1 / std::sqrt(static_cast<double>(runningVar[c]) + eps));
    }
    return;
  }

  double n = static_cast<double>(B * inner);
  parallelRanges(C, 2 * B * C * inner, [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; ++c) {
      double sum = 0;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < inner; ++i)
          sum += x[(b * C + c) * inner + i];
      double mean = sum / n;

      double squares = 0;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < inner; ++i) {
          double d = x[(b * C + c) * inner + i] - mean;
          squares += d * d;
        }
      double variance = squares / n;

      stats[c] = static_cast<T>(mean);
      stats[C + c] = static_cast<T>(1 / std::sqrt(variance + eps));
      double unbiased = n > 1 ? squares / (n - 1) : variance;
      runningMean[c] =
          static_cast<T>((1 - momentum) * runningMean[c] + momentum * mean);
      runningVar[c] =
          static_cast<T>((1 - momentum) * runningVar[c] + momentum * unbiased);
    }
  });
}

// y = (x - mean) invstd w + b
template <typename T>
void batchNormApply(int64_t B, int64_t C, int64_t inner, const T *x,
                    const T *stats, const T *weight, const T *bias, T *y) {
  parallelRanges(B * C, B * C * inner, [&](int64_t first, int64_t last) {
    for (int64_t p = first; p < last; ++p) {
      const int64_t c = p % C;
      T scale = stats[C + c] * weight[c];
      T shift = bias[c] - stats[c] * scale;
      const T *in = x + p * inner;
      T *out = y + p * inner;
      for (int64_t i = 0; i < inner; ++i)
        out[i] = in[i] * scale + shift;
    }
  });
}

// dx = dy w invstd
template <typename T>
void batchNormInputGrad(int64_t B, int64_t C, int64_t inner, const T *dy,
                        const T *stats, const T *weight, T *dx) {
  parallelRanges(B * C, B * C * inner, [&](int64_t first, int64_t last) {
    for (int64_t p = first; p < last; ++p) {
      const int64_t c = p % C;
      T scale = stats[C + c] * weight[c];
      const T *in = dy + p * inner;
      T *out = dx + p * inner;
      for (int64_t i = 0; i < inner; ++i)
        out[i] = in[i] * scale;
    }
  });
}

// d mean = -sum(dy w invstd), d invstd = sum(dy w (x - mean))
template <typename T>
void batchNormStatsGrad(int64_t B, int64_t C, int64_t inner, const T *dy,
                        const T *x, const T *stats, const T *weight,
                        T *dstats) {
  parallelRanges(C, B * C * inner, [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; ++c) {
      double sumDy = 0, sumDyCentered = 0;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < inner; ++i) {
          int64_t at = (b * C + c) * inner + i;
          sumDy += dy[at];
          sumDyCentered += dy[at] * (static_cast<double>(x[at]) - stats[c]);
        }
      dstats[c] = static_cast<T>(-sumDy * weight[c] * stats[C + c]);
      dstats[C + c] = static_cast<T>(sumDyCentered * weight[c]);
    }
  });
}

// dx = d mean / n - d invstd invstd^3 (x - mean) / n
template <typename T>
void batchNormStatsInputGrad(int64_t B, int64_t C, int64_t inner,
                             const T *dstats, const T *x, const T *stats,
                             T *dx) {
  T n = static_cast<T>(B * inner);
  parallelRanges(B * C, B * C * inner, [&](int64_t first, int64_t last) {
    for (int64_t p = first; p < last; ++p) {
      const int64_t c = p % C;
      T mean = stats[c], invstd = stats[C + c];
      T fromMean = dstats[c] / n;
      T fromInvstd = -dstats[C + c] * invstd * invstd * invstd / n;
      const T *in = x + p * inner;
      T *out = dx + p * inner;
      for (int64_t i = 0; i < inner; ++i)
        out[i] = fromMean + fromInvstd * (in[i] - mean);
    }
  });
}

// dw = sum(dy (x - mean) invstd)
template <typename T>
void batchNormWeightGrad(int64_t B, int64_t C, int64_t inner, const T *dy,
                         const T *x, const T *stats, T *dweight) {
  parallelRanges(C, B * C * inner, [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; ++c) {
      double sum = 0;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t i = 0; i < inner; ++i) {
          int64_t at = (b * C + c) * inner + i;
          sum += dy[at] * (static_cast<double>(x[at]) - stats[c]);
        }
      dweight[c] = static_cast<T>(sum * stats[C + c]);
    }
  });
}

// The sum of dy over the batch and every position of each channel, in
// double. Position i of every sample goes to the partial sum i % 16, and
// the partial sums are added in a fixed tree at the end: sixteen sums
// are two vectors of doubles, where one sum made each addition wait for
// the one before (a convolution's bias gradient took 6% of a step).
template <typename T>
void channelSum(int64_t B, int64_t C, int64_t inner, const T *dy, T *sum) {
  parallelRanges(C, B * C * inner, [&](int64_t first, int64_t last) {
    constexpr int Lanes = 16;
    for (int64_t c = first; c < last; ++c) {
      double lane[Lanes] = {};
      for (int64_t b = 0; b < B; ++b) {
        const T *row = dy + (b * C + c) * inner;
        int64_t i = 0;
        for (; i + Lanes <= inner; i += Lanes)
          for (int j = 0; j < Lanes; ++j)
            lane[j] += row[i + j];
        for (int j = 0; i < inner && j < Lanes; ++i, ++j)
          lane[j] += row[i];
      }
      for (int width = Lanes / 2; width > 0; width /= 2)
        for (int j = 0; j < width; ++j)
          lane[j] += lane[j + width];
      sum[c] = static_cast<T>(lane[0]);
    }
  });
}

// channelSum over the positions where y > 0 only, in double. A relu's
// convolution followed by max pooling has its bias gradient summed from
// the pooled gradient this way, y being the pool's output: the pool's
// gradient puts each window's dy on one element, and the relu keeps it
// where that element, the window's maximum, is > 0. For a 2x2 pool, dy
// and y together hold half the values of the pool's gradient.
//
// Each sample's row of `inner` positions goes 8 at a time into four
// vectors of 8 partial sums, taken in turn, and what is left of the row
// into 8 partial sums of its own; all are added in a fixed tree at the
// end. The values are selected in vectors of T and widened a vector of
// doubles at a time: selected one at a time, the loop did not vectorize
// and ran six times slower. The leftover positions are selected without
// a branch: a branch on the sign of a relu's output mispredicts about
// half the time.
template <typename T>
void positiveChannelSum(int64_t B, int64_t C, int64_t inner, const T *dy,
                        const T *y, T *sum) {
  constexpr int Chunk = 8, Ways = 4;
  typedef T Values __attribute__((vector_size(Chunk * sizeof(T))));
  typedef double Sums __attribute__((vector_size(Chunk * sizeof(double))));
  parallelRanges(C, B * C * inner, [&](int64_t first, int64_t last) {
    for (int64_t c = first; c < last; ++c) {
      Sums way[Ways] = {};
      double rest[Chunk] = {};
      for (int64_t b = 0; b < B; ++b) {
        const T *row = dy + (b * C + c) * inner;
        const T *mask = y + (b * C + c) * inner;
        auto add = [&](int64_t i, Sums &to) {
          Values values, signs;
          std::memcpy(&values, row + i, sizeof values);
          std::memcpy(&signs, mask + i, sizeof signs);
          to += __builtin_convertvector(signs > T(0) ? values : Values{}, Sums);
        };
        int64_t i = 0;
        for (; i + Ways * Chunk <= inner; i += Ways * Chunk)
          for (int w = 0; w < Ways; ++w)
            add(i + w * Chunk, way[w]);
        for (int w = 0; w < Ways - 1; ++w)
          if (i + Chunk <= inner) {
            add(i, way[w]);
            i += Chunk;
          }
        for (int j = 0; i < inner; ++i, ++j) {
          const T value = row[i];
          rest[j] += mask[i] > T(0) ? value : T(0);
        }
      }
      double lane[Chunk];
      for (int j = 0; j < Chunk; ++j)
        lane[j] = (way[0][j] + way[1][j]) + (way[2][j] + way[3][j]) + rest[j];
      for (int width = Chunk / 2; width > 0; width /= 2)
        for (int j = 0; j < width; ++j)
          lane[j] += lane[j + width];
      sum[c] = static_cast<T>(lane[0]);
    }
  });
}

} // namespace gradc

#endif // GRADC_KERNELS_BATCHNORM_H
