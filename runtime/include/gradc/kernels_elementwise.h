// Kernels of the elementwise, normalization and regularization ops and of
// the binary cross-entropy loss, for generated code (see kernels.h).
//
// The activations are scalar functions that the generated elementwise
// loops call once per element, so the compiler can inline them. Softmax,
// layer normalization, dropout and the loss work on whole rows or whole
// tensors and are called once per node. Everything follows PyTorch's
// definitions, so a step matches torch.nn to float rounding. Large calls
// split their rows or elements over threads (see parallel.h); the losses'
// sums and layerNormWeightGrad's sums over rows stay on one thread.
#ifndef GRADC_KERNELS_ELEMENTWISE_H
#define GRADC_KERNELS_ELEMENTWISE_H

#include <gradc/parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace gradc {

// ---------------------------------------------------------------------------
// Activations and their derivatives. Each derivative takes the upstream
// gradient dy and the forward input x, as PyTorch's backward kernels do.
// ---------------------------------------------------------------------------

template <typename T> T leakyRelu(T x, T alpha) {
  return x > T(0) ? x : alpha * x;
}

template <typename T> T leakyReluGrad(T dy, T x, T alpha) {
  return x > T(0) ? dy : alpha * dy;
}

// expm1 keeps the precision of alpha * (e^x - 1) for x near 0.
template <typename T> T elu(T x, T alpha) {
  return x > T(0) ? x : alpha * std::expm1(x);
}

template <typename T> T eluGrad(T dy, T x, T alpha) {
  return x > T(0) ? dy : dy * alpha * std::exp(x);
}

// The exact GELU, x * Phi(x) with Phi the standard normal CDF, as
// torch.nn.GELU() computes it (not the tanh approximation).
template <typename T> T gelu(T x) {
  const T invSqrt2 = T(0.70710678118654752440);
  return T(0.5) * x * (T(1) + std::erf(x * invSqrt2));
}

// d/dx x Phi(x) = Phi(x) + x phi(x), phi the standard normal density.
template <typename T> T geluGrad(T dy, T x) {
  const T invSqrt2 = T(0.70710678118654752440);
  const T invSqrt2Pi = T(0.39894228040143267794);
  T cdf = T(0.5) * (T(1) + std::erf(x * invSqrt2));
  T pdf = invSqrt2Pi * std::exp(T(-0.5) * x * x);
  return dy * (cdf + x * pdf);
}

// PyTorch's Softplus with beta 1 and threshold 20: above the threshold
// log(1 + e^x) equals x to float precision, and e^x would soon overflow.
template <typename T> T softplus(T x) {
  return x > T(20) ? x : std::log1p(std::exp(x));
}

// d/dx log(1 + e^x) = e^x / (1 + e^x), and 1 above the threshold.
template <typename T> T softplusGrad(T dy, T x) {
  if (x > T(20))
    return dy;
  T z = std::exp(x);
  return dy * z / (z + T(1));
}

// ---------------------------------------------------------------------------
// Softmax over the last axis, `rows` rows of n values. Subtracting each
// row's maximum keeps exp() finite for any input; sums are taken in double.
// ---------------------------------------------------------------------------

template <typename T>
void softmaxRows(int64_t rows, int64_t n, const T *x, T *y) {
  parallelRanges(rows, rows * n, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      const T *in = x + r * n;
      T *out = y + r * n;
      T largest = *std::max_element(in, in + n);
      double sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        out[j] = std::exp(in[j] - largest);
        sum += static_cast<double>(out[j]);
      }
      T scale = static_cast<T>(1.0 / sum);
      for (int64_t j = 0; j < n; ++j)
        out[j] *= scale;
    }
  });
}

// dx = y * (dy - sum over the row of dy * y), from the forward output y.
template <typename T>
void softmaxRowsGrad(int64_t rows, int64_t n, const T *dy, const T *y, T *dx) {
  parallelRanges(rows, rows * n, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      const T *g = dy + r * n;
      const T *p = y + r * n;
      double dot = 0;
      for (int64_t j = 0; j < n; ++j)
        dot += static_cast<double>(g[j]) * p[j];
      for (int64_t j = 0; j < n; ++j)
        dx[r * n + j] = p[j] * (g[j] - static_cast<T>(dot));
    }
  });
}

// ---------------------------------------------------------------------------
// Layer normalization over the last axis, as torch.nn.LayerNorm:
// y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased
// variance of the row. The backward recomputes each row's statistics from
// x instead of keeping them, which costs one pass over the row.
// ---------------------------------------------------------------------------

namespace detail {

struct RowStats {
  double mean;
  double invStd; // 1 / sqrt(var + eps)
};

// Two passes, so that rows with a large mean lose no precision.
template <typename T> RowStats rowStats(int64_t n, const T *row, double eps) {
  double sum = 0;
  for (int64_t j = 0; j < n; ++j)
    sum += static_cast<double>(row[j]);
  double mean = sum / static_cast<double>(n);
  double squares = 0;
  for (int64_t j = 0; j < n; ++j) {
    double d = static_cast<double>(row[j]) - mean;
    squares += d * d;
  }
  double var = squares / static_cast<double>(n);
  return {mean, 1.0 / std::sqrt(var + eps)};
}

} // namespace detail

template <typename T>
void layerNorm(int64_t rows, int64_t n, const T *x, const T *weight,
               const T *bias, double eps, T *y) {
  parallelRanges(rows, rows * n, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      const T *in = x + r * n;
      detail::RowStats stats = detail::rowStats(n, in, eps);
      T mean = static_cast<T>(stats.mean);
      T invStd = static_cast<T>(stats.invStd);
      for (int64_t j = 0; j < n; ++j)
        y[r * n + j] = (in[j] - mean) * invStd * weight[j] + bias[j];
    }
  });
}

// With xhat = (x - mean) * invStd and g = dy * weight:
// dx = invStd * (g - mean(g) - xhat * mean(g * xhat)), row by row.
template <typename T>
void layerNormGrad(int64_t rows, int64_t n, const T *dy, const T *x,
                   const T *weight, double eps, T *dx) {
  parallelRanges(rows, rows * n, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      const T *in = x + r * n;
      const T *g = dy + r * n;
      detail::RowStats stats = detail::rowStats(n, in, eps);
      double sumG = 0, sumGXhat = 0;
      for (int64_t j = 0; j < n; ++j) {
        double xhat = (static_cast<double>(in[j]) - stats.mean) * stats.invStd;
        double gj = static_cast<double>(g[j]) * weight[j];
        sumG += gj;
        sumGXhat += gj * xhat;
      }
      double meanG = sumG / static_cast<double>(n);
      double meanGXhat = sumGXhat / static_cast<double>(n);
      for (int64_t j = 0; j < n; ++j) {
        double xhat = (static_cast<double>(in[j]) - stats.mean) * stats.invStd;
        double gj = static_cast<double>(g[j]) * weight[j];
        dx[r * n + j] =
            static_cast<T>(stats.invStd * (gj - meanG - xhat * meanGXhat));
      }
    }
  });
}

// dweight[j] = sum over the rows of dy * xhat.
template <typename T>
void layerNormWeightGrad(int64_t rows, int64_t n, const T *dy, const T *x,
                         double eps, T *dweight) {
  std::fill(dweight, dweight + n, T(0));
  for (int64_t r = 0; r < rows; ++r) {
    const T *in = x + r * n;
    detail::RowStats stats = detail::rowStats(n, in, eps);
    for (int64_t j = 0; j < n; ++j) {
      double xhat = (static_cast<double>(in[j]) - stats.mean) * stats.invStd;
      dweight[j] += static_cast<T>(static_cast<double>(dy[r * n + j]) * xhat);
    }
  }
}

// ---------------------------------------------------------------------------
// Dropout. Whether element i is kept is a pure function of the call's seed,
// the layer's salt and i, through a counter-based hash: no generator state
// is carried between calls, so the mask is the same whatever the thread
// count, after a resume, and on every one of gradcheck's repeated calls,
// and the backward pass recomputes exactly the forward's mask.
// ---------------------------------------------------------------------------

namespace detail {

inline uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A uniform draw in [0, 1) with 53 random bits for element `index`. The
// salt, which differs between dropout layers, goes through its own round
// of mixing so that two layers' masks are unrelated.
inline double dropoutDraw(uint64_t seed, uint64_t salt, uint64_t index) {
  uint64_t bits =
      splitmix64(seed ^ splitmix64(salt) ^ (index * 0xD1B54A32D192ED03ull));
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

} // namespace detail

// out = in * mask / (1 - rate) while training, where each element is kept
// (mask 1) with probability 1 - rate; out = in otherwise. The forward
// applies it to x, the backward to dy, with the same seed and salt.
template <typename T>
void dropout(int64_t n, const T *in, T *out, double rate, uint64_t seed,
             uint64_t salt, bool training) {
  if (!training || rate == 0) {
    std::copy(in, in + n, out);
    return;
  }
  // The scale is taken in double: a rate just below 1 would round to 1 in
  // float and make it infinite.
  const T scale = static_cast<T>(1.0 / (1.0 - rate));
  parallelRanges(n, n, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      bool keep =
          detail::dropoutDraw(seed, salt, static_cast<uint64_t>(i)) >= rate;
      out[i] = keep ? in[i] * scale : T(0);
    }
  });
}

// ---------------------------------------------------------------------------
// Binary cross-entropy on logits, the mean over all n elements, as
// torch.nn.BCEWithLogitsLoss. The loss of one element is written
// max(x, 0) - x t + log(1 + e^-|x|), which never takes the exponential of
// a positive number, so it is finite for any logit.
// ---------------------------------------------------------------------------

template <typename T>
T bceWithLogits(int64_t n, const T *logits, const T *targets) {
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double x = static_cast<double>(logits[i]);
    double t = static_cast<double>(targets[i]);
    total += std::max(x, 0.0) - x * t + std::log1p(std::exp(-std::abs(x)));
  }
  return static_cast<T>(total / static_cast<double>(n));
}

// d/dx = (sigmoid(x) - t) / n, with the sigmoid written so that its
// exponential never overflows.
template <typename T>
void bceWithLogitsGrad(int64_t n, const T *logits, const T *targets,
                       T *dlogits) {
  const T scale = T(1) / static_cast<T>(n);
  parallelRanges(n, n, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      T x = logits[i];
      T e = std::exp(-std::abs(x));
      T sigmoid = x >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
      dlogits[i] = (sigmoid - targets[i]) * scale;
    }
  });
}

} // namespace gradc

#endif // GRADC_KERNELS_ELEMENTWISE_H
