// Kernels of the sequence layers: the recurrences of rnn and lstm with
// their backpropagation through time, the views that pick steps out of a
// sequence, and the embedding lookup.
//
// Tensors are batch-major, [B, T, K] with K contiguous, as one sample's
// [T, K] comes from the data. The recurrences walk the T steps in order and
// batch each step's work over the B samples into one matrix product whose
// rows are T * K apart; the input projections of all steps are ordinary
// products outside these kernels. Included from kernels.h.
#ifndef GRADC_KERNELS_SEQUENCE_H
#define GRADC_KERNELS_SEQUENCE_H

#include <gradc/kernels.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace gradc {

namespace detail {

// The recurrences spend much of their time in these two functions, once
// per hidden unit, gate and step. Both are written with exp, which glibc
// computes several times faster than tanh (whose float version goes
// through expm1). Their absolute error stays within a few units in the
// last place of 1, though tanh's relative error grows near 0, where the
// subtraction cancels; for hidden states and gates, what counts is the
// absolute error.
template <typename T> T gateSigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

template <typename T> T gateTanh(T x) {
  return T(1) - T(2) / (T(1) + std::exp(T(2) * x));
}

} // namespace detail

// ---------------------------------------------------------------------------
// Elman RNN. pre[B,T,H] holds x W_ih^T + b_ih + b_hh for every step;
//   h_t = act(pre_t + h_{t-1} W_hh^T),  h_{-1} = 0,
// with act tanh or relu, as torch.nn.RNN computes it.
// ---------------------------------------------------------------------------

template <typename T, bool Relu> T rnnActivation(T x) {
  if constexpr (Relu)
    return x > T(0) ? x : T(0);
  else
    return detail::gateTanh(x);
}

// The activation's derivative, written with its output y.
template <typename T, bool Relu> T rnnActivationSlope(T y) {
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
  for (int64_t t = 0; t < steps; ++t) {
    // h_{t-1} W_hh^T for the whole batch, written where h_t goes.
    T *ht = hs + t * H;
    if (t > 0)
      detail::Gemm<T>::run(B, H, H, hs + (t - 1) * H, sampleStride, false, whh,
                           H, true, ht, sampleStride);

    for (int64_t b = 0; b < B; ++b) {
      T *h = ht + b * sampleStride;
      const T *p = pre + b * sampleStride + t * H;
      for (int64_t j = 0; j < H; ++j)
        h[j] = rnnActivation<T, Relu>((t > 0 ? h[j] : T(0)) + p[j]);
    }
  }
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
  for (int64_t t = steps - 1; t >= 0; --t) {
    // The product of step t + 1 was written into dpre_t's place.
    for (int64_t b = 0; b < B; ++b) {
      const int64_t at = b * sampleStride + t * H;
      for (int64_t j = 0; j < H; ++j) {
        T dh = dhs[at + j] + (t + 1 < steps ? dpre[at + j] : T(0));
        dpre[at + j] = dh * rnnActivationSlope<T, Relu>(hs[at + j]);
      }
    }

    // dpre_t W_hh, the gradient reaching h_{t-1} through step t, goes where
    // dpre_{t-1} will be written, which saves a buffer.
    if (t > 0)
      detail::Gemm<T>::run(B, H, H, dpre + t * H, sampleStride, false, whh, H,
                           false, dpre + (t - 1) * H, sampleStride);
  }
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

template <typename T>
void lstmScan(int64_t B, int64_t steps, int64_t H, const T *pre, const T *whh,
              T *state) {
  const int64_t W = LstmStateWidth * H;
  const int64_t sampleStride = steps * W;
  const int64_t preStride = steps * 4 * H;
  for (int64_t t = 0; t < steps; ++t) {
    // h_{t-1} W_hh^T for the whole batch, written into the gate slots.
    T *st = state + t * W;
    if (t > 0)
      detail::Gemm<T>::run(B, 4 * H, H, state + (t - 1) * W + 5 * H,
                           sampleStride, false, whh, H, true, st, sampleStride);

    for (int64_t b = 0; b < B; ++b) {
      T *s = st + b * sampleStride;
      const T *p = pre + b * preStride + t * 4 * H;
      const T *previous = t > 0 ? s - W : nullptr;
      for (int64_t j = 0; j < H; ++j) {
        auto gate = [&](int k) {
          return (t > 0 ? s[k * H + j] : T(0)) + p[k * H + j];
        };
        T i = detail::gateSigmoid(gate(0));
        T f = detail::gateSigmoid(gate(1));
        T g = detail::gateTanh(gate(2));
        T o = detail::gateSigmoid(gate(3));
        T c = i * g + (previous ? f * previous[4 * H + j] : T(0));
        s[j] = i;
        s[H + j] = f;
        s[2 * H + j] = g;
        s[3 * H + j] = o;
        s[4 * H + j] = c;
        s[5 * H + j] = o * detail::gateTanh(c);
      }
    }
  }
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
template <typename T>
void lstmScanGrad(int64_t B, int64_t steps, int64_t H, const T *dstate,
                  const T *state, const T *whh, T *dpre) {
  const int64_t W = LstmStateWidth * H;
  const int64_t sampleStride = steps * W;
  const int64_t preStride = steps * 4 * H;
  for (int64_t t = steps - 1; t >= 0; --t) {
    for (int64_t b = 0; b < B; ++b) {
      const T *s = state + b * sampleStride + t * W;
      const T *ds = dstate + b * sampleStride + t * W;
      T *dp = dpre + b * preStride + t * 4 * H;
      const bool later = t + 1 < steps;
      for (int64_t j = 0; j < H; ++j) {
        // Step t + 1 left dh in the i slot and f_{t+1} dc_{t+1} in the f
        // slot of dpre_t; both are read before they are overwritten.
        T dh = ds[5 * H + j] + (later ? dp[j] : T(0));
        T dcLater = later ? dp[H + j] : T(0);
        T i = s[j], f = s[H + j], g = s[2 * H + j], o = s[3 * H + j];
        T tanhC = detail::gateTanh(s[4 * H + j]);
        T cPrevious = t > 0 ? s[4 * H + j - W] : T(0);
        T dc = ds[4 * H + j] + dcLater + dh * o * (T(1) - tanhC * tanhC);
        dp[j] = (ds[j] + dc * g) * i * (T(1) - i);
        dp[H + j] = (ds[H + j] + dc * cPrevious) * f * (T(1) - f);
        dp[2 * H + j] = (ds[2 * H + j] + dc * i) * (T(1) - g * g);
        dp[3 * H + j] = (ds[3 * H + j] + dh * tanhC) * o * (T(1) - o);
        if (t > 0)
          dp[H + j - 4 * H] = f * dc;
      }
    }

    // dpre_t W_hh, the gradient reaching h_{t-1} through step t, goes into
    // the i slot of dpre_{t-1}.
    if (t > 0)
      detail::Gemm<T>::run(B, H, 4 * H, dpre + t * 4 * H, preStride, false, whh,
                           H, false, dpre + (t - 1) * 4 * H, preStride);
  }
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
