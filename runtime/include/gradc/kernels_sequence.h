// Kernels of the sequence layers: the recurrences of rnn and lstm with
// their backpropagation through time, the views that pick steps out of a
// sequence, and the embedding lookup.
//
// Tensors are batch-major, [B, T, K] with K contiguous, as one sample's
// [T, K] comes from the data. The recurrences walk the T steps in order and
// batch each step's work over the B samples into one matrix product whose
// rows are T * K apart; the input projections of all steps are ordinary
// products outside these kernels. Included from kernels.h.
//
// The steps run in order. Within a step, the product splits its output
// over threads and the samples' cell updates split over threads (see
// parallel.h), which changes no sum. The embedding's gradient, a sum over
// the rows that share an id, stays on one thread.
#ifndef GRADC_KERNELS_SEQUENCE_H
#define GRADC_KERNELS_SEQUENCE_H

#include <gradc/kernels.h>
#include <gradc/vector_exp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace gradc {

namespace detail {

// ---------------------------------------------------------------------------
// exp, sigmoid and tanh for the recurrences, which spend much of their time
// in them: once per hidden unit, gate and step. The library's functions are
// calls that keep a loop scalar (and glibc's tanhf goes through the slow
// expm1f); these are plain arithmetic, inlined, so the loops over a step's
// units vectorize.
//
// exp is the product of gradc/vector_exp.h's two factors, taken before
// the NaN test chooses. Written as plain products and sums, GCC moved
// products into the clamp's and the test's branches, and without
// AVX-512's masks it would not turn branches holding arithmetic into
// vector selects, so on an AVX2 machine the loops stayed scalar (a
// quarter of rnn_adding's step). x is clamped to where 2^k stays a normal
// number, which sigmoid and tanh, the only users, never notice. NaN comes
// back as NaN.
// ---------------------------------------------------------------------------

template <typename T> inline T sequenceExp(T x) {
  const auto e = expFactors(x);
  const T value = e.polynomial * e.scale;
  return isNaN(x) ? x : value;
}

template <typename T> inline T gateSigmoid(T x) {
  return T(1) / (T(1) + sequenceExp(-x));
}

// Written with exp, tanh keeps an absolute error of a few units in the last
// place of 1; its relative error grows near 0, where the subtraction
// cancels, but hidden states and gates are added to values of order 1.
template <typename T> inline T gateTanh(T x) {
  return T(1) - T(2) / (T(1) + sequenceExp(T(2) * x));
}

} // namespace detail

// ---------------------------------------------------------------------------
// Elman RNN. pre[B,T,H] holds x W_ih^T + b_ih + b_hh for every step;
//   h_t = act(pre_t + h_{t-1} W_hh^T),  h_{-1} = 0,
// with act tanh or relu, as torch.nn.RNN computes it.
// ---------------------------------------------------------------------------

template <typename T, bool Relu> inline T rnnActivation(T x) {
  if constexpr (Relu)
    return x > T(0) ? x : T(0);
  else
    return detail::gateTanh(x);
}

// The activation's derivative, written with its output y.
template <typename T, bool Relu> inline T rnnActivationSlope(T y) {
  if constexpr (Relu)
    return y > T(0) ? T(1) : T(0);
  else
    return T(1) - y * y;
}

// hs[B,T,H] = every step's hidden state.
template <typename T, bool Relu>
void rnnScan(int64_t B, int64_t steps, int64_t H, const T *pre, const T *whh,
             T *hs) {
  const int64_t sampleStride = steps * H;
  AlignedVector<T> packedWhhT; // W_hh^T, packed once for every step
  detail::Gemm<T>::pack(H, H, whh, H, true, packedWhhT);

  // The samples never meet in the recurrence: the threads split them once,
  // and each runs every step for its own, where a split at each step
  // opened a parallel region per step for one small product.
  parallelRanges(
      B, B * steps * H * H,
      [&](int64_t first, int64_t last) {
        const T *preRows = pre + first * sampleStride;
        T *hsRows = hs + first * sampleStride;
        for (int64_t t = 0; t < steps; ++t) {
          // h_{t-1} W_hh^T for these samples, written where h_t goes.
          T *ht = hsRows + t * H;
          if (t > 0)
            detail::Gemm<T>::runPacked(last - first, H, H, ht - H,
                                       sampleStride, false,
                                       packedWhhT.data(), ht, sampleStride);
          for (int64_t b = 0; b < last - first; ++b) {
            T *h = ht + b * sampleStride;
            const T *p = preRows + b * sampleStride + t * H;
            if (t > 0)
              for (int64_t j = 0; j < H; ++j)
                h[j] = rnnActivation<T, Relu>(h[j] + p[j]);
            else
              for (int64_t j = 0; j < H; ++j)
                h[j] = rnnActivation<T, Relu>(p[j]);
          }
        }
      },
      kParallelMinGemmWork);
}

// Backpropagation through time. Given dhs[B,T,H], the loss's gradient with
// respect to every hidden state as the layers above see it, writes
// dpre[B,T,H], its gradient with respect to every step's pre-activation:
//   dh_t   = dhs_t + dpre_{t+1} W_hh    (the path through step t+1)
//   dpre_t = dh_t * act'(h_t)
// The weights' gradients follow from dpre as products over all steps,
// outside this kernel.
template <typename T, bool Relu>
void rnnScanGrad(int64_t B, int64_t steps, int64_t H, const T *dhs, const T *hs,
                 const T *whh, T *dpre) {
  const int64_t sampleStride = steps * H;
  AlignedVector<T> packedWhh; // packed once for every step
  detail::Gemm<T>::pack(H, H, whh, H, false, packedWhh);

  // As in rnnScan, the threads split the samples once for every step.
  parallelRanges(
      B, B * steps * H * H,
      [&](int64_t first, int64_t last) {
        for (int64_t t = steps - 1; t >= 0; --t) {
          // The product of step t + 1 was written into dpre_t's place.
          for (int64_t b = first; b < last; ++b) {
            const int64_t at = b * sampleStride + t * H;
            T *dp = dpre + at;
            const T *dh = dhs + at;
            const T *h = hs + at;
            if (t + 1 < steps)
              for (int64_t j = 0; j < H; ++j)
                dp[j] = (dh[j] + dp[j]) * rnnActivationSlope<T, Relu>(h[j]);
            else
              for (int64_t j = 0; j < H; ++j)
                dp[j] = dh[j] * rnnActivationSlope<T, Relu>(h[j]);
          }

          // dpre_t W_hh, the gradient reaching h_{t-1} through step t,
          // goes where dpre_{t-1} will be written, which saves a buffer.
          if (t > 0) {
            T *rows = dpre + first * sampleStride + t * H;
            detail::Gemm<T>::runPacked(last - first, H, H, rows,
                                       sampleStride, false, packedWhh.data(),
                                       rows - H, sampleStride);
          }
        }
      },
      kParallelMinGemmWork);
}

// ---------------------------------------------------------------------------
// LSTM, as torch.nn.LSTM computes it. pre[B,T,4H] holds x W_ih^T + b_ih +
// b_hh for every step, gates in the order i, f, g, o;
//   (i, f, g, o) = (sig, sig, tanh, sig)(pre_t + h_{t-1} W_hh^T)
//   c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t),  h_{-1} = c_{-1} = 0.
// The scan keeps what backpropagation needs: each step's state is 6H values,
//   [i f g o | c | h],
// the gates after their activations, the cell and the hidden state.
// ---------------------------------------------------------------------------

constexpr int64_t LstmStateWidth = 6; // times H

namespace detail {

// One sample's step, slot by slot, so that the compiler knows the slots
// apart and vectorizes over the units. The gate slots hold pre-activations
// on entry and activations on exit. At the first step, cPrevious is unused.
template <typename T, bool First>
void lstmCell(int64_t H, T *__restrict i, T *__restrict f, T *__restrict g,
              T *__restrict o, T *__restrict c, T *__restrict h,
              const T *__restrict cPrevious) {
  for (int64_t j = 0; j < H; ++j) {
    T gi = gateSigmoid(i[j]), gf = gateSigmoid(f[j]);
    T gg = gateTanh(g[j]), go = gateSigmoid(o[j]);
    T cell = First ? gi * gg : gf * cPrevious[j] + gi * gg;
    i[j] = gi;
    f[j] = gf;
    g[j] = gg;
    o[j] = go;
    c[j] = cell;
    h[j] = go * gateTanh(cell);
  }
}

// One sample's step of lstmScanGrad (see there), slot by slot. The i and f
// slots of dpre hold, on entry, what step t + 1 left there: dpre_{t+1} W_hh
// and f_{t+1} dc_{t+1}; Last says there is no step t + 1. At the first step
// there is no c_{t-1} and no earlier f slot to leave f dc in.
template <typename T, bool Last, bool First>
void lstmCellGrad(int64_t H, const T *__restrict s, const T *__restrict ds,
                  const T *__restrict cPrevious, T *__restrict dInputGate,
                  T *__restrict dForgetGate, T *__restrict dCellGate,
                  T *__restrict dOutputGate, T *__restrict dfPrevious) {
  const T *si = s, *sf = s + H, *sg = s + 2 * H, *so = s + 3 * H;
  const T *sc = s + 4 * H;
  for (int64_t j = 0; j < H; ++j) {
    T dh = ds[5 * H + j] + (Last ? T(0) : dInputGate[j]);
    T dcLater = Last ? T(0) : dForgetGate[j];
    T i = si[j], f = sf[j], g = sg[j], o = so[j];
    T tanhC = gateTanh(sc[j]);
    T dc = ds[4 * H + j] + dcLater + dh * o * (T(1) - tanhC * tanhC);
    T cBefore = First ? T(0) : cPrevious[j];
    dInputGate[j] = (ds[j] + dc * g) * i * (T(1) - i);
    dForgetGate[j] = (ds[H + j] + dc * cBefore) * f * (T(1) - f);
    dCellGate[j] = (ds[2 * H + j] + dc * i) * (T(1) - g * g);
    dOutputGate[j] = (ds[3 * H + j] + dh * tanhC) * o * (T(1) - o);
    if (!First)
      dfPrevious[j] = f * dc;
  }
}

} // namespace detail

template <typename T>
void lstmScan(int64_t B, int64_t steps, int64_t H, const T *pre, const T *whh,
              T *state) {
  const int64_t W = LstmStateWidth * H;
  const int64_t sampleStride = steps * W;
  const int64_t preStride = steps * 4 * H;
  AlignedVector<T> packedWhhT; // W_hh^T, packed once for every step
  detail::Gemm<T>::pack(4 * H, H, whh, H, true, packedWhhT);

  // As in rnnScan, the threads split the samples once for every step.
  parallelRanges(
      B, B * steps * 4 * H * H,
      [&](int64_t first, int64_t last) {
        T *rows = state + first * sampleStride;
        for (int64_t t = 0; t < steps; ++t) {
          // h_{t-1} W_hh^T for these samples, written into the gate slots.
          T *st = rows + t * W;
          if (t > 0)
            detail::Gemm<T>::runPacked(last - first, 4 * H, H,
                                       st - W + 5 * H, sampleStride, false,
                                       packedWhhT.data(), st, sampleStride);
          for (int64_t b = first; b < last; ++b) {
            T *s = st + (b - first) * sampleStride;
            const T *p = pre + b * preStride + t * 4 * H;
            if (t > 0) {
              for (int64_t k = 0; k < 4 * H; ++k)
                s[k] += p[k];
              detail::lstmCell<T, false>(H, s, s + H, s + 2 * H, s + 3 * H,
                                         s + 4 * H, s + 5 * H,
                                         s - W + 4 * H);
            } else {
              std::copy_n(p, 4 * H, s);
              detail::lstmCell<T, true>(H, s, s + H, s + 2 * H, s + 3 * H,
                                        s + 4 * H, s + 5 * H, nullptr);
            }
          }
        }
      },
      kParallelMinGemmWork);
}

// Backpropagation through time. Given dstate[B,T,6H], the loss's gradient
// with respect to every step's state (in a network, only the h part is
// nonzero), writes dpre[B,T,4H]. With dh_t and dc_t the gradients reaching
// h_t and c_t from above and from step t + 1,
//   dh_t = dstate.h_t + dpre_{t+1} W_hh
//   dc_t = dstate.c_t + f_{t+1} dc_{t+1} + dh_t o tanh'(c_t)
//   dpre.o = (dstate.o + dh_t tanh(c_t)) o (1 - o)
//   dpre.i = (dstate.i + dc_t g) i (1 - i)
//   dpre.g = (dstate.g + dc_t i) (1 - g^2)
//   dpre.f = (dstate.f + dc_t c_{t-1}) f (1 - f)
// Step t leaves dpre_t W_hh and f_t dc_t for step t - 1 in the i and f
// slots of dpre_{t-1}, which saves two buffers.
template <typename T>
void lstmScanGrad(int64_t B, int64_t steps, int64_t H, const T *dstate,
                  const T *state, const T *whh, T *dpre) {
  const int64_t W = LstmStateWidth * H;
  const int64_t sampleStride = steps * W;
  const int64_t preStride = steps * 4 * H;
  AlignedVector<T> packedWhh; // packed once for every step
  detail::Gemm<T>::pack(H, 4 * H, whh, H, false, packedWhh);

  // As in rnnScan, the threads split the samples once for every step.
  parallelRanges(
      B, B * steps * 4 * H * H,
      [&](int64_t firstSample, int64_t lastSample) {
        for (int64_t t = steps - 1; t >= 0; --t) {
          const bool last = t + 1 == steps, first = t == 0;
          for (int64_t b = firstSample; b < lastSample; ++b) {
            const T *s = state + b * sampleStride + t * W;
            const T *ds = dstate + b * sampleStride + t * W;
            T *dp = dpre + b * preStride + t * 4 * H;
            const T *cPrevious = first ? nullptr : s - W + 4 * H;
            T *dfPrevious = first ? nullptr : dp - 4 * H + H;
            auto cell = [&](auto lastStep, auto firstStep) {
              detail::lstmCellGrad<T, decltype(lastStep)::value,
                                   decltype(firstStep)::value>(
                  H, s, ds, cPrevious, dp, dp + H, dp + 2 * H, dp + 3 * H,
                  dfPrevious);
            };
            if (last && first)
              cell(std::true_type{}, std::true_type{});
            else if (last)
              cell(std::true_type{}, std::false_type{});
            else if (first)
              cell(std::false_type{}, std::true_type{});
            else
              cell(std::false_type{}, std::false_type{});
          }

          // dpre_t W_hh, the gradient reaching h_{t-1} through step t,
          // goes into the i slot of dpre_{t-1}.
          if (t > 0) {
            T *rows = dpre + firstSample * preStride + t * 4 * H;
            detail::Gemm<T>::runPacked(lastSample - firstSample, H, 4 * H,
                                       rows, preStride, false,
                                       packedWhh.data(), rows - 4 * H,
                                       preStride);
          }
        }
      },
      kParallelMinGemmWork);
}

// hs[B,T,H] = the h part of every step's state[B,T,6H].
template <typename T>
void lstmHidden(int64_t rows, int64_t H, const T *state, T *hs) {
  for (int64_t r = 0; r < rows; ++r)
    std::copy_n(state + r * LstmStateWidth * H + 5 * H, H, hs + r * H);
}

// dstate[B,T,6H] = dhs[B,T,H] in the h part, zero elsewhere.
template <typename T>
void lstmHiddenGrad(int64_t rows, int64_t H, const T *dhs, T *dstate) {
  for (int64_t r = 0; r < rows; ++r) {
    T *ds = dstate + r * LstmStateWidth * H;
    std::fill(ds, ds + 5 * H, T(0));
    std::copy_n(dhs + r * H, H, ds + 5 * H);
  }
}

// ---------------------------------------------------------------------------
// Views of a sequence [B, T, K].
// ---------------------------------------------------------------------------

// prev[B,T,H] = the hidden state before each step: the last H of the K
// values of step t - 1 (all of an RNN's [B,T,H], the h part of an LSTM's
// state), and zeros before step 0. The weight gradient of a recurrence,
// sum over t of dpre_t^T h_{t-1}, is then one product over all steps.
template <typename T>
void prevHidden(int64_t B, int64_t steps, int64_t K, int64_t H, const T *x,
                T *prev) {
  for (int64_t b = 0; b < B; ++b) {
    T *to = prev + b * steps * H;
    std::fill(to, to + H, T(0));
    for (int64_t t = 1; t < steps; ++t)
      std::copy_n(x + (b * steps + t - 1) * K + K - H, H, to + t * H);
  }
}

// y[B,K] = x[B,T,K] at the last step.
template <typename T>
void lastStep(int64_t B, int64_t steps, int64_t K, const T *x, T *y) {
  for (int64_t b = 0; b < B; ++b)
    std::copy_n(x + (b * steps + steps - 1) * K, K, y + b * K);
}

// dx[B,T,K] = dy[B,K] at the last step, zero elsewhere.
template <typename T>
void lastStepGrad(int64_t B, int64_t steps, int64_t K, const T *dy, T *dx) {
  std::fill(dx, dx + B * steps * K, T(0));
  for (int64_t b = 0; b < B; ++b)
    std::copy_n(dy + b * K, K, dx + (b * steps + steps - 1) * K);
}

// ---------------------------------------------------------------------------
// Embedding. Ids arrive as the floats (or doubles) of the input, where every
// integer up to 2^24 is exact; the compiler refuses larger vocabularies.
// The runtime refuses data holding anything but ids in [0, vocab), so an
// invalid id here means a caller bypassed it: such an id reads nothing,
// gives a zero row and receives no gradient, rather than reading outside
// the weight.
// ---------------------------------------------------------------------------

// The row of `value` in a [vocab, dim] table, or -1 when it names none.
template <typename T> int64_t embeddingRow(T value, int64_t vocab) {
  if (!(value >= T(0) && value < static_cast<T>(vocab)))
    return -1;
  const int64_t row = static_cast<int64_t>(value);
  return static_cast<T>(row) == value ? row : -1;
}

// y[rows, dim] = w[ids[r], :] for each of the rows ids.
template <typename T>
void embedding(int64_t rows, int64_t vocab, int64_t dim, const T *ids,
               const T *w, T *y) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t row = embeddingRow(ids[r], vocab);
    if (row < 0)
      std::fill(y + r * dim, y + (r + 1) * dim, T(0));
    else
      std::copy_n(w + row * dim, dim, y + r * dim);
  }
}

// dw[vocab, dim] = sum over the rows r with ids[r] = v of dy[r, :], so the
// gradients of a repeated id add up.
template <typename T>
void embeddingGrad(int64_t rows, int64_t vocab, int64_t dim, const T *dy,
                   const T *ids, T *dw) {
  std::fill(dw, dw + vocab * dim, T(0));
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t row = embeddingRow(ids[r], vocab);
    if (row < 0)
      continue;
    for (int64_t j = 0; j < dim; ++j)
      dw[row * dim + j] += dy[r * dim + j];
  }
}

} // namespace gradc

#endif // GRADC_KERNELS_SEQUENCE_H
