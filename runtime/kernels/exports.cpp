//===- exports.cpp - The kernels behind C names, precompiled --------------===//
//
// The C++ backend prints calls to the kernel templates of gradc/kernels.h
// and compiles them with the generated code, under the trainer's target
// flags. The LLVM backend emits IR, which cannot instantiate a template,
// so it calls precompiled functions instead: this file instantiates every
// kernel that generated code calls, for float and for double, behind the
// C names of gradc/kernel_exports.h, which also says how the arguments
// map. It is compiled once per target with that target's flags
// (runtime/kernels/CMakeLists.txt), so that a kernel called from IR
// computes what the C++ backend's trainer for the same target computes.
//
//===----------------------------------------------------------------------===//
#include <gradc/kernel_exports.h>

#include <gradc/kernels.h>

#include <cstdint>
#include <type_traits>

// GRADC_EXPORT(RET, NAME, PARAMS, ARGS) defines gradc_NAME_f32 and
// gradc_NAME_f64, each returning `gradc::NAME<T> ARGS`, from one text
// written with T. T is an alias in a namespace of each element type; a
// function with C linkage defined there is the one the header declares.
// GCC only warns when the two disagree, hence the static_assert.
// GRADC_EXPORT_CALL names the callee itself, for rnnScan's extra argument.
#define GRADC_EXPORT_AS(SUFFIX, TYPE, RET, NAME, CALLEE, PARAMS, ARGS)         \
  namespace gradc_exports_##SUFFIX {                                           \
    using T = TYPE;                                                            \
    extern "C" RET gradc_##NAME##_##SUFFIX PARAMS { return CALLEE ARGS; }      \
    static_assert(                                                             \
        std::is_same_v<decltype(::gradc_##NAME##_##SUFFIX), RET PARAMS>,       \
        "gradc_" #NAME "_" #SUFFIX " differs from kernel_exports.h");          \
  }
#define GRADC_EXPORT_CALL(RET, NAME, CALLEE, PARAMS, ARGS)                     \
  GRADC_EXPORT_AS(f32, float, RET, NAME, CALLEE, PARAMS, ARGS)                 \
  GRADC_EXPORT_AS(f64, double, RET, NAME, CALLEE, PARAMS, ARGS)
#define GRADC_EXPORT(RET, NAME, PARAMS, ARGS)                                  \
  GRADC_EXPORT_CALL(RET, NAME, gradc::NAME<T>, PARAMS, ARGS)

// A gradc::WindowShape as ten parameters, and the struct made from them.
// The designated initializer fails to compile if the fields' order changes.
#define GRADC_WINDOW_PARAMS                                                    \
  int64_t channels, int64_t height, int64_t width, int64_t outChannels,        \
      int64_t outHeight, int64_t outWidth, int64_t kernel, int64_t stride,     \
      int64_t padTop, int64_t padLeft
#define GRADC_WINDOW                                                           \
  gradc::WindowShape {                                                         \
    .channels = channels, .height = height, .width = width,                    \
    .outChannels = outChannels, .outHeight = outHeight, .outWidth = outWidth,  \
    .kernel = kernel, .stride = stride, .padTop = padTop, .padLeft = padLeft   \
  }

// Every scalar attribute of these kernels (eps, momentum, rate) is a
// double in the template too, so it is passed on unconverted; a bool
// arrives as an int32_t, nonzero meaning true.

// ---------------------------------------------------------------------------
// Matrix products and losses (kernels.h).
// ---------------------------------------------------------------------------

GRADC_EXPORT(void, matmulNT,
             (int64_t M, int64_t N, int64_t K, const T *x, const T *w, T *y),
             (M, N, K, x, w, y))
GRADC_EXPORT(void, matmulNN,
             (int64_t M, int64_t N, int64_t K, const T *dy, const T *w, T *dx),
             (M, N, K, dy, w, dx))
GRADC_EXPORT(void, matmulTN,
             (int64_t M, int64_t N, int64_t K, const T *dy, const T *x, T *dw),
             (M, N, K, dy, x, dw))
GRADC_EXPORT(T, softmaxCrossEntropy,
             (int64_t B, int64_t C, const T *logits, const int32_t *labels),
             (B, C, logits, labels))
GRADC_EXPORT(void, softmaxCrossEntropyGrad,
             (int64_t B, int64_t C, const T *logits, const int32_t *labels,
              T *dlogits),
             (B, C, logits, labels, dlogits))
GRADC_EXPORT(T, meanSquaredError,
             (int64_t n, const T *prediction, const T *target),
             (n, prediction, target))
GRADC_EXPORT(void, meanSquaredErrorGrad,
             (int64_t n, const T *prediction, const T *target, T *dprediction),
             (n, prediction, target, dprediction))
GRADC_EXPORT(T, squaredNorm, (int64_t n, const T *values), (n, values))

// ---------------------------------------------------------------------------
// Softmax, layer normalization, dropout and binary cross-entropy
// (kernels_elementwise.h).
// ---------------------------------------------------------------------------

GRADC_EXPORT(void, softmaxRows, (int64_t rows, int64_t n, const T *x, T *y),
             (rows, n, x, y))
GRADC_EXPORT(void, softmaxRowsGrad,
             (int64_t rows, int64_t n, const T *dy, const T *y, T *dx),
             (rows, n, dy, y, dx))
GRADC_EXPORT(void, layerNorm,
             (int64_t rows, int64_t n, const T *x, const T *weight,
              const T *bias, double eps, T *y),
             (rows, n, x, weight, bias, eps, y))
GRADC_EXPORT(void, layerNormGrad,
             (int64_t rows, int64_t n, const T *dy, const T *x, const T *weight,
              double eps, T *dx),
             (rows, n, dy, x, weight, eps, dx))
GRADC_EXPORT(void, layerNormWeightGrad,
             (int64_t rows, int64_t n, const T *dy, const T *x, double eps,
              T *dweight),
             (rows, n, dy, x, eps, dweight))
GRADC_EXPORT(void, dropout,
             (int64_t n, const T *in, T *out, double rate, uint64_t seed,
              uint64_t salt, int32_t training),
             (n, in, out, rate, seed, salt, training != 0))
GRADC_EXPORT(T, bceWithLogits, (int64_t n, const T *logits, const T *targets),
             (n, logits, targets))
GRADC_EXPORT(void, bceWithLogitsGrad,
             (int64_t n, const T *logits, const T *targets, T *dlogits),
             (n, logits, targets, dlogits))

// ---------------------------------------------------------------------------
// BatchNorm (kernels_batchnorm.h).
// ---------------------------------------------------------------------------

GRADC_EXPORT(void, batchNormStats,
             (int64_t B, int64_t C, int64_t inner, const T *x, T *runningMean,
              T *runningVar, T *stats, double eps, double momentum,
              int32_t training),
             (B, C, inner, x, runningMean, runningVar, stats, eps, momentum,
              training != 0))
GRADC_EXPORT(void, batchNormApply,
             (int64_t B, int64_t C, int64_t inner, const T *x, const T *stats,
              const T *weight, const T *bias, T *y),
             (B, C, inner, x, stats, weight, bias, y))
GRADC_EXPORT(void, batchNormInputGrad,
             (int64_t B, int64_t C, int64_t inner, const T *dy, const T *stats,
              const T *weight, T *dx),
             (B, C, inner, dy, stats, weight, dx))
GRADC_EXPORT(void, batchNormStatsGrad,
             (int64_t B, int64_t C, int64_t inner, const T *dy, const T *x,
              const T *stats, const T *weight, T *dstats),
             (B, C, inner, dy, x, stats, weight, dstats))
GRADC_EXPORT(void, batchNormStatsInputGrad,
             (int64_t B, int64_t C, int64_t inner, const T *dstats, const T *x,
              const T *stats, T *dx),
             (B, C, inner, dstats, x, stats, dx))
GRADC_EXPORT(void, batchNormWeightGrad,
             (int64_t B, int64_t C, int64_t inner, const T *dy, const T *x,
              const T *stats, T *dweight),
             (B, C, inner, dy, x, stats, dweight))
GRADC_EXPORT(void, channelSum,
             (int64_t B, int64_t C, int64_t inner, const T *dy, T *sum),
             (B, C, inner, dy, sum))
GRADC_EXPORT(void, positiveChannelSum,
             (int64_t B, int64_t C, int64_t inner, const T *dy, const T *y,
              T *sum),
             (B, C, inner, dy, y, sum))

// ---------------------------------------------------------------------------
// The convolutional family (kernels_conv.h).
// ---------------------------------------------------------------------------

GRADC_EXPORT(void, conv2d,
             (int64_t B, GRADC_WINDOW_PARAMS, const T *x, const T *w, T *y),
             (B, GRADC_WINDOW, x, w, y))
GRADC_EXPORT(void, conv2dInputGrad,
             (int64_t B, GRADC_WINDOW_PARAMS, const T *dy, const T *w, T *dx),
             (B, GRADC_WINDOW, dy, w, dx))
GRADC_EXPORT(void, conv2dWeightGrad,
             (int64_t B, GRADC_WINDOW_PARAMS, const T *dy, const T *x, T *dw),
             (B, GRADC_WINDOW, dy, x, dw))
GRADC_EXPORT(void, channelBiasAdd,
             (int64_t B, int64_t channels, int64_t plane, const T *x,
              const T *bias, T *y),
             (B, channels, plane, x, bias, y))

// The fused forms of the fusion pass (passes/FuseConvolution.cpp): their
// template flag, relu or not, positive or not, becomes part of the name.
GRADC_EXPORT_CALL(void, conv2dBias, (gradc::conv2dBias<T, false>),
                  (int64_t B, GRADC_WINDOW_PARAMS, const T *x, const T *w,
                   const T *bias, T *y),
                  (B, GRADC_WINDOW, x, w, bias, y))
GRADC_EXPORT_CALL(void, conv2dBiasRelu, (gradc::conv2dBias<T, true>),
                  (int64_t B, GRADC_WINDOW_PARAMS, const T *x, const T *w,
                   const T *bias, T *y),
                  (B, GRADC_WINDOW, x, w, bias, y))
GRADC_EXPORT_CALL(void, maxPool2dGradPositive, (gradc::maxPool2dGrad<T, true>),
                  (int64_t B, GRADC_WINDOW_PARAMS, const T *dy, const T *x,
                   T *dx),
                  (B, GRADC_WINDOW, dy, x, dx))
GRADC_EXPORT(void, maxPool2d,
             (int64_t B, GRADC_WINDOW_PARAMS, const T *x, T *y),
             (B, GRADC_WINDOW, x, y))
GRADC_EXPORT(void, maxPool2dGrad,
             (int64_t B, GRADC_WINDOW_PARAMS, const T *dy, const T *x, T *dx),
             (B, GRADC_WINDOW, dy, x, dx))
GRADC_EXPORT(void, avgPool2d,
             (int64_t B, GRADC_WINDOW_PARAMS, const T *x, T *y),
             (B, GRADC_WINDOW, x, y))
GRADC_EXPORT(void, avgPool2dGrad,
             (int64_t B, GRADC_WINDOW_PARAMS, const T *dy, T *dx),
             (B, GRADC_WINDOW, dy, dx))

// ---------------------------------------------------------------------------
// The sequence family (kernels_sequence.h). rnnScan's activation, a
// template argument, becomes part of the name.
// ---------------------------------------------------------------------------

GRADC_EXPORT_CALL(void, rnnTanhScan, (gradc::rnnScan<T, false>),
                  (int64_t B, int64_t steps, int64_t H, const T *pre,
                   const T *whh, T *hs),
                  (B, steps, H, pre, whh, hs))
GRADC_EXPORT_CALL(void, rnnReluScan, (gradc::rnnScan<T, true>),
                  (int64_t B, int64_t steps, int64_t H, const T *pre,
                   const T *whh, T *hs),
                  (B, steps, H, pre, whh, hs))
GRADC_EXPORT_CALL(void, rnnTanhScanGrad, (gradc::rnnScanGrad<T, false>),
                  (int64_t B, int64_t steps, int64_t H, const T *dhs,
                   const T *hs, const T *whh, T *dpre),
                  (B, steps, H, dhs, hs, whh, dpre))
GRADC_EXPORT_CALL(void, rnnReluScanGrad, (gradc::rnnScanGrad<T, true>),
                  (int64_t B, int64_t steps, int64_t H, const T *dhs,
                   const T *hs, const T *whh, T *dpre),
                  (B, steps, H, dhs, hs, whh, dpre))
GRADC_EXPORT(void, lstmScan,
             (int64_t B, int64_t steps, int64_t H, const T *pre, const T *whh,
              T *state),
             (B, steps, H, pre, whh, state))
GRADC_EXPORT(void, lstmScanGrad,
             (int64_t B, int64_t steps, int64_t H, const T *dstate,
              const T *state, const T *whh, T *dpre),
             (B, steps, H, dstate, state, whh, dpre))
GRADC_EXPORT(void, lstmHidden, (int64_t rows, int64_t H, const T *state, T *hs),
             (rows, H, state, hs))
GRADC_EXPORT(void, lstmHiddenGrad,
             (int64_t rows, int64_t H, const T *dhs, T *dstate),
             (rows, H, dhs, dstate))
GRADC_EXPORT(void, prevHidden,
             (int64_t B, int64_t steps, int64_t K, int64_t H, const T *x,
              T *prev),
             (B, steps, K, H, x, prev))
GRADC_EXPORT(void, lastStep,
             (int64_t B, int64_t steps, int64_t K, const T *x, T *y),
             (B, steps, K, x, y))
GRADC_EXPORT(void, lastStepGrad,
             (int64_t B, int64_t steps, int64_t K, const T *dy, T *dx),
             (B, steps, K, dy, dx))
GRADC_EXPORT(void, embedding,
             (int64_t rows, int64_t vocab, int64_t dim, const T *ids,
              const T *w, T *y),
             (rows, vocab, dim, ids, w, y))
GRADC_EXPORT(void, embeddingGrad,
             (int64_t rows, int64_t vocab, int64_t dim, const T *dy,
              const T *ids, T *dw),
             (rows, vocab, dim, dy, ids, dw))
