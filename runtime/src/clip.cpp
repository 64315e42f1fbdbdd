// See clip.h.
#include "clip.h"

#include <cmath>

namespace gradc {

ClipSettings resolveClip(const gradc_config &config) {
  ClipSettings clip;
  clip.kind = config.clip;
  clip.threshold = config.clip_threshold;
  return clip;
}

double clipNormScale(double total_norm, double max_norm) {
  // PyTorch adds 1e-6 so that the division is safe at a zero norm.
  const double scale = max_norm / (total_norm + 1e-6);
  return scale < 1 ? scale : 1;
}

double globalGradNorm(const gradc_model &model, const float *grad_sqnorms) {
  double sum = 0;
  for (int index = 0; index < model.num_params; ++index)
    if (!model.params[index].is_buffer)
      sum += static_cast<double>(grad_sqnorms[index]);
  return std::sqrt(sum);
}

static bool scaleGradients(const gradc_model &model, float *grads,
                           double max_norm, const float *grad_sqnorms) {
  const double scale =
      clipNormScale(globalGradNorm(model, grad_sqnorms), max_norm);
  if (scale >= 1)
    return false;
  const float factor = static_cast<float>(scale);
  for (int index = 0; index < model.num_params; ++index) {
    const gradc_param_info &param = model.params[index];
    if (param.is_buffer)
      continue;
    float *grad = grads + param.offset;
    for (int64_t i = 0; i < param.size; ++i)
      grad[i] *= factor;
  }
  return true;
}

static bool clampGradients(const gradc_model &model, float *grads,
                           double bound) {
  const float high = static_cast<float>(bound);
  const float low = -high;
  bool clamped = false;
  for (int index = 0; index < model.num_params; ++index) {
    const gradc_param_info &param = model.params[index];
    if (param.is_buffer)
      continue;
    float *grad = grads + param.offset;
    for (int64_t i = 0; i < param.size; ++i) {
      if (grad[i] > high) {
        grad[i] = high;
        clamped = true;
      } else if (grad[i] < low) {
        grad[i] = low;
        clamped = true;
      }
    }
  }
  return clamped;
}

bool clipGradients(const gradc_model &model, const ClipSettings &clip,
                   float *grads, const float *grad_sqnorms) {
  switch (clip.kind) {
  case GRADC_CLIP_GLOBAL_NORM:
    return scaleGradients(model, grads, clip.threshold, grad_sqnorms);
  case GRADC_CLIP_VALUE:
    return clampGradients(model, grads, clip.threshold);
  default:
    return false;
  }
}

} // namespace gradc
