// Gradient clipping, applied by `train` and `step` after the backward pass
// and before the optimizer, with the semantics of PyTorch's
// torch.nn.utils.clip_grad_norm_ and clip_grad_value_. Buffers (running
// statistics) have no gradient and are left alone.
#ifndef GRADC_RUNTIME_CLIP_H
#define GRADC_RUNTIME_CLIP_H

#include "gradc/abi.h"

namespace gradc {

struct ClipSettings {
  int kind = GRADC_CLIP_NONE; // enum gradc_clip
  double threshold = 0;       // the largest global norm, or the bound
};

ClipSettings resolveClip(const gradc_config &config);

// clip_grad_norm_'s factor, max_norm / (total_norm + 1e-6), or 1 where
// that is not below 1: gradients are only ever scaled down, and a global
// norm of zero leaves them as they are.
double clipNormScale(double total_norm, double max_norm);

// The global L2 norm over every trainable parameter's gradient, from the
// squared norms the generated backward pass reports.
double globalGradNorm(const gradc_model &model, const float *grad_sqnorms);

// Clips `grads` (laid out as the parameters) in place; true when clipping
// changed them. The caller has checked that every gradient is finite.
bool clipGradients(const gradc_model &model, const ClipSettings &clip,
                   float *grads, const float *grad_sqnorms);

} // namespace gradc

#endif // GRADC_RUNTIME_CLIP_H
