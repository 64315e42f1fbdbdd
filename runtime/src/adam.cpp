// See adam.h. PyTorch works out the bias corrections and the step size in
// double precision, as Python floats, and rounds each scalar to float
// where it meets a tensor; the tensor operations run in float, one
// rounding each, in the order written below, which is the order of
// PyTorch's mul_, add_, addcmul_, sqrt, div, add_ and addcdiv_.
#include "adam.h"

#include <cmath>

namespace gradc {

namespace {

struct Step {
  float beta1, one_minus_beta1;
  float beta2, one_minus_beta2;
  float bias_correction2_sqrt;
  float eps;
  float negative_step_size; // -lr / (1 - beta1^t)
  float weight_decay;       // adam's L2 term
  float decay_factor;       // adamw's 1 - lr * weight_decay
};

// One parameter's update. The kind of weight decay is a template argument
// so that each loop compiles without branches, which vectorizes.
template <bool kL2Decay, bool kDecoupledDecay>
void updateParam(float *__restrict p, const float *__restrict grad,
                 float *__restrict exp_avg, float *__restrict exp_avg_sq,
                 int64_t size, const Step &step) {
  for (int64_t i = 0; i < size; ++i) {
    float g = grad[i];
    if constexpr (kL2Decay)
      g = g + step.weight_decay * p[i];
    if constexpr (kDecoupledDecay)
      p[i] = p[i] * step.decay_factor;

    float m = exp_avg[i] * step.beta1;
    m = m + step.one_minus_beta1 * g;
    float v = exp_avg_sq[i] * step.beta2;
    v = v + step.one_minus_beta2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;

    const float denominator =
        std::sqrt(v) / step.bias_correction2_sqrt + step.eps;
    p[i] = p[i] + step.negative_step_size * m / denominator;
  }
}

using Update = void (*)(float *, const float *, float *, float *, int64_t,
                        const Step &);

} // namespace

Adam::Adam(const gradc_model &model, const OptimizerSettings &settings)
    : Optimizer(model, settings, {"exp_avg", "exp_avg_sq"}) {}

void Adam::update(float *params, const float *grads) {
  const OptimizerSettings &s = settings_;
  const double lr = learningRate();
  const double t = static_cast<double>(steps() + 1);
  const double bias_correction1 = 1 - std::pow(s.beta1, t);
  const double bias_correction2 = 1 - std::pow(s.beta2, t);

  Step step;
  step.beta1 = static_cast<float>(s.beta1);
  step.one_minus_beta1 = static_cast<float>(1 - s.beta1);
  step.beta2 = static_cast<float>(s.beta2);
  step.one_minus_beta2 = static_cast<float>(1 - s.beta2);
  step.bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  step.eps = static_cast<float>(s.eps);
  step.negative_step_size = static_cast<float>(-(lr / bias_correction1));
  step.weight_decay = static_cast<float>(s.weight_decay);
  step.decay_factor = static_cast<float>(1 - lr * s.weight_decay);

  // Without weight decay both rules are the same; adamw's factor would be
  // exactly 1.
  const bool decay = s.weight_decay != 0;
  const bool decoupled = s.kind == OptimizerKind::AdamW;
  const Update update = !decay      ? updateParam<false, false>
                        : decoupled ? updateParam<false, true>
                                    : updateParam<true, false>;

  float *exp_avg = slot(0);
  float *exp_avg_sq = slot(1);
  forEachTrainablePiece([&](int64_t at, int64_t count) {
    update(params + at, grads + at, exp_avg + at, exp_avg_sq + at, count, step);
  });
}

} // namespace gradc
