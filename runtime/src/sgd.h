// Stochastic gradient descent with PyTorch's update rule, so a gradc run
// and a torch.optim.SGD run with the same settings take the same steps:
//   g = grad + weight_decay * p
//   v = g on the first step, momentum * v + g after it
//   g = g + momentum * v with nesterov, g = v without
//   p = p - lr * g
// The momentum buffer is the optimizer's only state; checkpoints store it
// per parameter as optimizer.<param>.momentum_buffer.
#ifndef GRADC_RUNTIME_SGD_H
#define GRADC_RUNTIME_SGD_H

#include "gradc/abi.h"

#include <vector>

namespace gradc {

struct SgdSettings {
  double lr = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

class Sgd {
public:
  Sgd(const gradc_model &model, const SgdSettings &settings);

  // Updates every parameter that is not a buffer from its gradient.
  void step(float *params, const float *grads);

  // Whether there is state to save: momentum is on and a step was taken.
  bool hasState() const { return settings_.momentum != 0 && started_; }

  // The buffer in the parameters' flat layout; restoring it from a
  // checkpoint marks the optimizer as started.
  const std::vector<float> &momentumBuffer() const { return momentum_; }
  void restoreMomentumBuffer(std::vector<float> buffer);

private:
  const gradc_model &model_;
  SgdSettings settings_;
  std::vector<float> momentum_;
  bool started_ = false;
};

} // namespace gradc

#endif // GRADC_RUNTIME_SGD_H
