// Stochastic gradient descent with PyTorch's update rule, so a gradc run
// and a torch.optim.SGD run with the same settings take the same steps:
//   g = grad + weight_decay * p
//   v = g on the first step, momentum * v + g after it
//   g = g + momentum * v with nesterov, g = v without
//   p = p - lr * g
// The momentum buffer is its only state, the slot "momentum_buffer", kept
// only when momentum is on.
#ifndef GRADC_RUNTIME_SGD_H
#define GRADC_RUNTIME_SGD_H

#include "optimizer.h"

namespace gradc {

class Sgd : public Optimizer {
public:
  Sgd(const gradc_model &model, const OptimizerSettings &settings);

private:
  void update(float *params, const float *grads) override;
};

} // namespace gradc

#endif // GRADC_RUNTIME_SGD_H
