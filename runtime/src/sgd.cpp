// See sgd.h. The arithmetic is done in float, in the order PyTorch's
// kernels do it, with the scalars rounded to float as PyTorch rounds them.
#include "sgd.h"

#include <cstddef>

namespace gradc {

namespace {

std::vector<std::string> slotsFor(const OptimizerSettings &settings) {
  if (settings.momentum == 0)
    return {};
  return {"momentum_buffer"};
}

struct Step {
  float lr;
  float weight_decay;
  float momentum;
  // The buffer's share of the new velocity: momentum, or 0 on the first
  // step, where the zeroed buffer then makes v = g as PyTorch's clone does.
  float keep;
};

// One parameter's update. The choices are template arguments so that each
// combination compiles to a loop without branches, which vectorizes.
template <bool kDecay, bool kMomentum, bool kNesterov>
void update(float *__restrict p, const float *__restrict grad,
            float *__restrict velocity, int64_t size, const Step &step) {
  for (int64_t i = 0; i < size; ++i) {
    float g = grad[i];
    if constexpr (kDecay)
      g = g + step.weight_decay * p[i];
    if constexpr (kMomentum) {
      velocity[i] = step.keep * velocity[i] + g;
      g = kNesterov ? g + step.momentum * velocity[i] : velocity[i];
    }
    p[i] = p[i] + -step.lr * g;
  }
}

using Update = void (*)(float *, const float *, float *, int64_t, const Step &);

Update chooseUpdate(bool decay, bool momentum, bool nesterov) {
  if (!momentum)
    return decay ? update<true, false, false> : update<false, false, false>;
  if (nesterov)
    return decay ? update<true, true, true> : update<false, true, true>;
  return decay ? update<true, true, false> : update<false, true, false>;
}

} // namespace

Sgd::Sgd(const gradc_model &model, const OptimizerSettings &settings)
    : Optimizer(model, settings, slotsFor(settings)) {}

void Sgd::update(float *params, const float *grads) {
  Step step;
  step.lr = static_cast<float>(learningRate());
  step.weight_decay = static_cast<float>(settings_.weight_decay);
  step.momentum = static_cast<float>(settings_.momentum);
  step.keep = steps() > 0 ? step.momentum : 0.0f;
  const bool use_momentum = settings_.momentum != 0;
  const Update update = chooseUpdate(settings_.weight_decay != 0, use_momentum,
                                     settings_.nesterov);

  float *velocities = use_momentum ? slot(0) : nullptr;
  forEachTrainablePiece([&](int64_t at, int64_t count) {
    update(params + at, grads + at, velocities ? velocities + at : nullptr,
           count, step);
  });
}

} // namespace gradc
