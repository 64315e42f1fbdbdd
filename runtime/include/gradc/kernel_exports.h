// C entry points of the precompiled kernel library, for code that calls
// the kernels without compiling their C++ templates: the LLVM backend
// emits calls to these.
//
// Each kernel of kernels.h that generated code calls by name is exported
// twice, gradc_<name>_f32 and gradc_<name>_f64, the template with T =
// float and T = double. The arguments are the template's, in its order,
// with these changes so that every one is a C type:
//   - a bool (training) is an int32_t, nonzero meaning true;
//   - a gradc::WindowShape is its ten int64_t fields, in the struct's
//     order: channels, height, width, outChannels, outHeight, outWidth,
//     kernel, stride, padTop, padLeft;
//   - a scalar attribute (eps, rate, momentum) is a double;
//   - rnnScan<T, Relu> and rnnScanGrad<T, Relu> are rnnTanhScan and
//     rnnReluScan, rnnTanhScanGrad and rnnReluScanGrad;
//   - conv2dBias<T, Relu> is conv2dBias and conv2dBiasRelu, and
//     maxPool2dGrad<T, true> is maxPool2dGradPositive.
// What each kernel computes, and the layouts, are documented at its
// template. The scalar activations (leakyRelu, gelu, ...) are not here:
// generated code applies them in its own elementwise loops.
//
// One source, runtime/kernels/exports.cpp, is compiled once per target
// into libgradc_kernels_{native,generic,avx2,avx512}.a. They all define
// these same names, so a program links exactly one of them, with the C++
// library and OpenMP (-fopenmp), which the kernels use.
#ifndef GRADC_KERNEL_EXPORTS_H
#define GRADC_KERNEL_EXPORTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Matrix products (kernels.h) and losses (kernels_losses.h).
void gradc_matmulNT_f32(int64_t M, int64_t N, int64_t K, const float *x,
                        const float *w, float *y);
void gradc_matmulNT_f64(int64_t M, int64_t N, int64_t K, const double *x,
                        const double *w, double *y);
void gradc_matmulNN_f32(int64_t M, int64_t N, int64_t K, const float *dy,
                        const float *w, float *dx);
void gradc_matmulNN_f64(int64_t M, int64_t N, int64_t K, const double *dy,
                        const double *w, double *dx);
void gradc_matmulTN_f32(int64_t M, int64_t N, int64_t K, const float *dy,
                        const float *x, float *dw);
void gradc_matmulTN_f64(int64_t M, int64_t N, int64_t K, const double *dy,
                        const double *x, double *dw);
float gradc_softmaxCrossEntropy_f32(int64_t B, int64_t C, const float *logits,
                                    const int32_t *labels);
double gradc_softmaxCrossEntropy_f64(int64_t B, int64_t C, const double *logits,
                                     const int32_t *labels);
void gradc_softmaxCrossEntropyGrad_f32(int64_t B, int64_t C,
                                       const float *logits,
                                       const int32_t *labels, float *dlogits);
void gradc_softmaxCrossEntropyGrad_f64(int64_t B, int64_t C,
                                       const double *logits,
                                       const int32_t *labels, double *dlogits);
float gradc_meanSquaredError_f32(int64_t n, const float *prediction,
                                 const float *target);
double gradc_meanSquaredError_f64(int64_t n, const double *prediction,
                                  const double *target);
void gradc_meanSquaredErrorGrad_f32(int64_t n, const float *prediction,
                                    const float *target, float *dprediction);
void gradc_meanSquaredErrorGrad_f64(int64_t n, const double *prediction,
                                    const double *target, double *dprediction);
float gradc_squaredNorm_f32(int64_t n, const float *values);
double gradc_squaredNorm_f64(int64_t n, const double *values);

// Softmax, layer normalization, dropout, binary cross-entropy
// (kernels_elementwise.h).
void gradc_softmaxRows_f32(int64_t rows, int64_t n, const float *x, float *y);
void gradc_softmaxRows_f64(int64_t rows, int64_t n, const double *x, double *y);
void gradc_softmaxRowsGrad_f32(int64_t rows, int64_t n, const float *dy,
                               const float *y, float *dx);
void gradc_softmaxRowsGrad_f64(int64_t rows, int64_t n, const double *dy,
                               const double *y, double *dx);
void gradc_layerNorm_f32(int64_t rows, int64_t n, const float *x,
                         const float *weight, const float *bias, double eps,
                         float *y);
void gradc_layerNorm_f64(int64_t rows, int64_t n, const double *x,
                         const double *weight, const double *bias, double eps,
                         double *y);
void gradc_layerNormGrad_f32(int64_t rows, int64_t n, const float *dy,
                             const float *x, const float *weight, double eps,
                             float *dx);
void gradc_layerNormGrad_f64(int64_t rows, int64_t n, const double *dy,
                             const double *x, const double *weight, double eps,
                             double *dx);
void gradc_layerNormWeightGrad_f32(int64_t rows, int64_t n, const float *dy,
                                   const float *x, double eps, float *dweight);
void gradc_layerNormWeightGrad_f64(int64_t rows, int64_t n, const double *dy,
                                   const double *x, double eps,
                                   double *dweight);
void gradc_dropout_f32(int64_t n, const float *in, float *out, double rate,
                       uint64_t seed, uint64_t salt, int32_t training);
void gradc_dropout_f64(int64_t n, const double *in, double *out, double rate,
                       uint64_t seed, uint64_t salt, int32_t training);
float gradc_bceWithLogits_f32(int64_t n, const float *logits,
                              const float *targets);
double gradc_bceWithLogits_f64(int64_t n, const double *logits,
                               const double *targets);
void gradc_bceWithLogitsGrad_f32(int64_t n, const float *logits,
                                 const float *targets, float *dlogits);
void gradc_bceWithLogitsGrad_f64(int64_t n, const double *logits,
                                 const double *targets, double *dlogits);

// BatchNorm, on the layout [B, C, inner] (kernels_batchnorm.h).
void gradc_batchNormStats_f32(int64_t B, int64_t C, int64_t inner,
                              const float *x, float *runningMean,
                              float *runningVar, float *stats, double eps,
                              double momentum, int32_t training);
void gradc_batchNormStats_f64(int64_t B, int64_t C, int64_t inner,
                              const double *x, double *runningMean,
                              double *runningVar, double *stats, double eps,
                              double momentum, int32_t training);
void gradc_batchNormApply_f32(int64_t B, int64_t C, int64_t inner,
                              const float *x, const float *stats,
                              const float *weight, const float *bias, float *y);
void gradc_batchNormApply_f64(int64_t B, int64_t C, int64_t inner,
                              const double *x, const double *stats,
                              const double *weight, const double *bias,
                              double *y);
void gradc_batchNormInputGrad_f32(int64_t B, int64_t C, int64_t inner,
                                  const float *dy, const float *stats,
                                  const float *weight, float *dx);
void gradc_batchNormInputGrad_f64(int64_t B, int64_t C, int64_t inner,
                                  const double *dy, const double *stats,
                                  const double *weight, double *dx);
void gradc_batchNormStatsGrad_f32(int64_t B, int64_t C, int64_t inner,
                                  const float *dy, const float *x,
                                  const float *stats, const float *weight,
                                  float *dstats);
void gradc_batchNormStatsGrad_f64(int64_t B, int64_t C, int64_t inner,
                                  const double *dy, const double *x,
                                  const double *stats, const double *weight,
                                  double *dstats);
void gradc_batchNormStatsInputGrad_f32(int64_t B, int64_t C, int64_t inner,
                                       const float *dstats, const float *x,
                                       const float *stats, float *dx);
void gradc_batchNormStatsInputGrad_f64(int64_t B, int64_t C, int64_t inner,
                                       const double *dstats, const double *x,
                                       const double *stats, double *dx);
void gradc_batchNormWeightGrad_f32(int64_t B, int64_t C, int64_t inner,
                                   const float *dy, const float *x,
                                   const float *stats, float *dweight);
void gradc_batchNormWeightGrad_f64(int64_t B, int64_t C, int64_t inner,
                                   const double *dy, const double *x,
                                   const double *stats, double *dweight);
void gradc_channelSum_f32(int64_t B, int64_t C, int64_t inner, const float *dy,
                          float *sum);
void gradc_channelSum_f64(int64_t B, int64_t C, int64_t inner, const double *dy,
                          double *sum);
void gradc_positiveChannelSum_f32(int64_t B, int64_t C, int64_t inner,
                                  const float *dy, const float *y, float *sum);
void gradc_positiveChannelSum_f64(int64_t B, int64_t C, int64_t inner,
                                  const double *dy, const double *y,
                                  double *sum);

// The convolutional family (kernels_conv.h).
void gradc_conv2d_f32(int64_t B, int64_t channels, int64_t height,
                      int64_t width, int64_t outChannels, int64_t outHeight,
                      int64_t outWidth, int64_t kernel, int64_t stride,
                      int64_t padTop, int64_t padLeft, const float *x,
                      const float *w, float *y);
void gradc_conv2d_f64(int64_t B, int64_t channels, int64_t height,
                      int64_t width, int64_t outChannels, int64_t outHeight,
                      int64_t outWidth, int64_t kernel, int64_t stride,
                      int64_t padTop, int64_t padLeft, const double *x,
                      const double *w, double *y);
void gradc_conv2dInputGrad_f32(int64_t B, int64_t channels, int64_t height,
                               int64_t width, int64_t outChannels,
                               int64_t outHeight, int64_t outWidth,
                               int64_t kernel, int64_t stride, int64_t padTop,
                               int64_t padLeft, const float *dy, const float *w,
                               float *dx);
void gradc_conv2dInputGrad_f64(int64_t B, int64_t channels, int64_t height,
                               int64_t width, int64_t outChannels,
                               int64_t outHeight, int64_t outWidth,
                               int64_t kernel, int64_t stride, int64_t padTop,
                               int64_t padLeft, const double *dy,
                               const double *w, double *dx);
void gradc_conv2dWeightGrad_f32(int64_t B, int64_t channels, int64_t height,
                                int64_t width, int64_t outChannels,
                                int64_t outHeight, int64_t outWidth,
                                int64_t kernel, int64_t stride, int64_t padTop,
                                int64_t padLeft, const float *dy,
                                const float *x, float *dw);
void gradc_conv2dWeightGrad_f64(int64_t B, int64_t channels, int64_t height,
                                int64_t width, int64_t outChannels,
                                int64_t outHeight, int64_t outWidth,
                                int64_t kernel, int64_t stride, int64_t padTop,
                                int64_t padLeft, const double *dy,
                                const double *x, double *dw);
void gradc_channelBiasAdd_f32(int64_t B, int64_t channels, int64_t plane,
                              const float *x, const float *bias, float *y);
void gradc_channelBiasAdd_f64(int64_t B, int64_t channels, int64_t plane,
                              const double *x, const double *bias, double *y);
void gradc_conv2dBias_f32(int64_t B, int64_t channels, int64_t height,
                          int64_t width, int64_t outChannels, int64_t outHeight,
                          int64_t outWidth, int64_t kernel, int64_t stride,
                          int64_t padTop, int64_t padLeft, const float *x,
                          const float *w, const float *bias, float *y);
void gradc_conv2dBias_f64(int64_t B, int64_t channels, int64_t height,
                          int64_t width, int64_t outChannels, int64_t outHeight,
                          int64_t outWidth, int64_t kernel, int64_t stride,
                          int64_t padTop, int64_t padLeft, const double *x,
                          const double *w, const double *bias, double *y);
void gradc_conv2dBiasRelu_f32(int64_t B, int64_t channels, int64_t height,
                              int64_t width, int64_t outChannels,
                              int64_t outHeight, int64_t outWidth,
                              int64_t kernel, int64_t stride, int64_t padTop,
                              int64_t padLeft, const float *x, const float *w,
                              const float *bias, float *y);
void gradc_conv2dBiasRelu_f64(int64_t B, int64_t channels, int64_t height,
                              int64_t width, int64_t outChannels,
                              int64_t outHeight, int64_t outWidth,
                              int64_t kernel, int64_t stride, int64_t padTop,
                              int64_t padLeft, const double *x, const double *w,
                              const double *bias, double *y);
void gradc_maxPool2d_f32(int64_t B, int64_t channels, int64_t height,
                         int64_t width, int64_t outChannels, int64_t outHeight,
                         int64_t outWidth, int64_t kernel, int64_t stride,
                         int64_t padTop, int64_t padLeft, const float *x,
                         float *y);
void gradc_maxPool2d_f64(int64_t B, int64_t channels, int64_t height,
                         int64_t width, int64_t outChannels, int64_t outHeight,
                         int64_t outWidth, int64_t kernel, int64_t stride,
                         int64_t padTop, int64_t padLeft, const double *x,
                         double *y);
void gradc_maxPool2dGrad_f32(int64_t B, int64_t channels, int64_t height,
                             int64_t width, int64_t outChannels,
                             int64_t outHeight, int64_t outWidth,
                             int64_t kernel, int64_t stride, int64_t padTop,
                             int64_t padLeft, const float *dy, const float *x,
                             float *dx);
void gradc_maxPool2dGrad_f64(int64_t B, int64_t channels, int64_t height,
                             int64_t width, int64_t outChannels,
                             int64_t outHeight, int64_t outWidth,
                             int64_t kernel, int64_t stride, int64_t padTop,
                             int64_t padLeft, const double *dy, const double *x,
                             double *dx);
void gradc_maxPool2dGradPositive_f32(int64_t B, int64_t channels,
                                     int64_t height, int64_t width,
                                     int64_t outChannels, int64_t outHeight,
                                     int64_t outWidth, int64_t kernel,
                                     int64_t stride, int64_t padTop,
                                     int64_t padLeft, const float *dy,
                                     const float *x, float *dx);
void gradc_maxPool2dGradPositive_f64(int64_t B, int64_t channels,
                                     int64_t height, int64_t width,
                                     int64_t outChannels, int64_t outHeight,
                                     int64_t outWidth, int64_t kernel,
                                     int64_t stride, int64_t padTop,
                                     int64_t padLeft, const double *dy,
                                     const double *x, double *dx);
void gradc_avgPool2d_f32(int64_t B, int64_t channels, int64_t height,
                         int64_t width, int64_t outChannels, int64_t outHeight,
                         int64_t outWidth, int64_t kernel, int64_t stride,
                         int64_t padTop, int64_t padLeft, const float *x,
                         float *y);
void gradc_avgPool2d_f64(int64_t B, int64_t channels, int64_t height,
                         int64_t width, int64_t outChannels, int64_t outHeight,
                         int64_t outWidth, int64_t kernel, int64_t stride,
                         int64_t padTop, int64_t padLeft, const double *x,
                         double *y);
void gradc_avgPool2dGrad_f32(int64_t B, int64_t channels, int64_t height,
                             int64_t width, int64_t outChannels,
                             int64_t outHeight, int64_t outWidth,
                             int64_t kernel, int64_t stride, int64_t padTop,
                             int64_t padLeft, const float *dy, float *dx);
void gradc_avgPool2dGrad_f64(int64_t B, int64_t channels, int64_t height,
                             int64_t width, int64_t outChannels,
                             int64_t outHeight, int64_t outWidth,
                             int64_t kernel, int64_t stride, int64_t padTop,
                             int64_t padLeft, const double *dy, double *dx);

// The sequence family (kernels_sequence.h).
void gradc_rnnTanhScan_f32(int64_t B, int64_t steps, int64_t H,
                           const float *pre, const float *whh, float *hs);
void gradc_rnnTanhScan_f64(int64_t B, int64_t steps, int64_t H,
                           const double *pre, const double *whh, double *hs);
void gradc_rnnReluScan_f32(int64_t B, int64_t steps, int64_t H,
                           const float *pre, const float *whh, float *hs);
void gradc_rnnReluScan_f64(int64_t B, int64_t steps, int64_t H,
                           const double *pre, const double *whh, double *hs);
void gradc_rnnTanhScanGrad_f32(int64_t B, int64_t steps, int64_t H,
                               const float *dhs, const float *hs,
                               const float *whh, float *dpre);
void gradc_rnnTanhScanGrad_f64(int64_t B, int64_t steps, int64_t H,
                               const double *dhs, const double *hs,
                               const double *whh, double *dpre);
void gradc_rnnReluScanGrad_f32(int64_t B, int64_t steps, int64_t H,
                               const float *dhs, const float *hs,
                               const float *whh, float *dpre);
void gradc_rnnReluScanGrad_f64(int64_t B, int64_t steps, int64_t H,
                               const double *dhs, const double *hs,
                               const double *whh, double *dpre);
void gradc_lstmScan_f32(int64_t B, int64_t steps, int64_t H, const float *pre,
                        const float *whh, float *state);
void gradc_lstmScan_f64(int64_t B, int64_t steps, int64_t H, const double *pre,
                        const double *whh, double *state);
void gradc_lstmScanGrad_f32(int64_t B, int64_t steps, int64_t H,
                            const float *dstate, const float *state,
                            const float *whh, float *dpre);
void gradc_lstmScanGrad_f64(int64_t B, int64_t steps, int64_t H,
                            const double *dstate, const double *state,
                            const double *whh, double *dpre);
void gradc_lstmHidden_f32(int64_t rows, int64_t H, const float *state,
                          float *hs);
void gradc_lstmHidden_f64(int64_t rows, int64_t H, const double *state,
                          double *hs);
void gradc_lstmHiddenGrad_f32(int64_t rows, int64_t H, const float *dhs,
                              float *dstate);
void gradc_lstmHiddenGrad_f64(int64_t rows, int64_t H, const double *dhs,
                              double *dstate);
void gradc_prevHidden_f32(int64_t B, int64_t steps, int64_t K, int64_t H,
                          const float *x, float *prev);
void gradc_prevHidden_f64(int64_t B, int64_t steps, int64_t K, int64_t H,
                          const double *x, double *prev);
void gradc_lastStep_f32(int64_t B, int64_t steps, int64_t K, const float *x,
                        float *y);
void gradc_lastStep_f64(int64_t B, int64_t steps, int64_t K, const double *x,
                        double *y);
void gradc_lastStepGrad_f32(int64_t B, int64_t steps, int64_t K,
                            const float *dy, float *dx);
void gradc_lastStepGrad_f64(int64_t B, int64_t steps, int64_t K,
                            const double *dy, double *dx);
void gradc_embedding_f32(int64_t rows, int64_t vocab, int64_t dim,
                         const float *ids, const float *w, float *y);
void gradc_embedding_f64(int64_t rows, int64_t vocab, int64_t dim,
                         const double *ids, const double *w, double *y);
void gradc_embeddingGrad_f32(int64_t rows, int64_t vocab, int64_t dim,
                             const float *dy, const float *ids, float *dw);
void gradc_embeddingGrad_f64(int64_t rows, int64_t vocab, int64_t dim,
                             const double *dy, const double *ids, double *dw);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // GRADC_KERNEL_EXPORTS_H
