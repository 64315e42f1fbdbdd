// Adam and AdamW with PyTorch 1.13's update rules (torch.optim.Adam and
// torch.optim.AdamW, amsgrad off, the single-tensor implementation they
// use by default). At step t, from 1:
//   adam:  g = grad + weight_decay * p          (L2, through the gradient)
//   adamw: p = p * (1 - lr * weight_decay)      (decoupled)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// The state is the slots "exp_avg" (m) and "exp_avg_sq" (v), and t, the
// optimizer's step count.
#ifndef GRADC_RUNTIME_ADAM_H
#define GRADC_RUNTIME_ADAM_H

#include "optimizer.h"

namespace gradc {

class Adam : public Optimizer {
public:
  // settings.kind chooses between adam and adamw.
  Adam(const gradc_model &model, const OptimizerSettings &settings);

private:
  void update(float *params, const float *grads) override;
};

} // namespace gradc

#endif // GRADC_RUNTIME_ADAM_H
