// A hand-written stand-in for generated code, so the runtime can be tested
// before and apart from the compiler: softmax regression from 4 inputs to
// 3 classes, logits = x W^T + b, with parameters fc.weight [3, 4] and
// fc.bias [3] as PyTorch's nn.Linear(4, 3) names them. Two environment
// variables make it misbehave on purpose for the tests:
//   GRADC_FAKE_LOSS=mse         train with mse instead of cross-entropy
//   GRADC_FAKE_NAN_AT_CALL=N    the Nth train_step gives fc.bias a NaN
//                               gradient
//   GRADC_FAKE_WRONG_GRAD=1     fc.bias's gradient comes out twice too
//                               large, for gradcheck to catch
#include "gradc/abi.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int64_t kInputs = 4;
constexpr int64_t kClasses = 3;
constexpr int64_t kBiasOffset = kClasses * kInputs;

const gradc_param_info kParams[] = {
    {"fc.weight",
     2,
     {kClasses, kInputs},
     0,
     kClasses *kInputs,
     GRADC_INIT_DEFAULT,
     0,
     kInputs,
     kClasses,
     0,
     0},
    {"fc.bias",
     1,
     {kClasses},
     kBiasOffset,
     kClasses,
     GRADC_INIT_DEFAULT,
     0,
     kInputs,
     kClasses,
     0,
     0},
};

const gradc_layer_info kLayers[] = {
    {"fc", "dense", "units=3", 1, {kClasses}, kBiasOffset + kClasses},
};

gradc_config makeConfig() {
  gradc_config config{};
  config.batch = 4;
  config.epochs = 3;
  config.seed = 7;
  config.shuffle = 1;
  config.optimizer = GRADC_OPTIMIZER_SGD;
  config.lr = 0.1;
  config.momentum = 0.9;
  config.scale = 1.0 / 255;
  config.std = 1;
  config.grad_every = 0;
  config.vanishing_below = 1e-6;
  config.exploding_above = 1e3;
  return config;
}

const gradc_config kConfig = makeConfig();

long train_calls = 0;

// One pass over the batch: logits into output, the loss, and when
// `backward` is set the gradients of W and b with their squared norms.
template <typename Real, typename Context>
void run(const Context *ctx, int loss_kind, bool backward) {
  const Real *weight = ctx->params;
  const Real *bias = ctx->params + kBiasOffset;
  const int64_t batch = ctx->batch;
  Real *dlogits = ctx->workspace; // [batch, classes]

  Real loss = 0;
  for (int64_t i = 0; i < batch; ++i) {
    const Real *x = ctx->x + i * kInputs;
    Real *logits = ctx->output + i * kClasses;
    for (int64_t k = 0; k < kClasses; ++k) {
      Real sum = bias[k];
      for (int64_t j = 0; j < kInputs; ++j)
        sum += weight[k * kInputs + j] * x[j];
      logits[k] = sum;
    }

    Real *d = dlogits + i * kClasses;
    if (loss_kind == GRADC_LOSS_MSE) {
      // mean over every element of (z - t)^2; dL/dz = 2 (z - t) / (B C)
      if (!ctx->targets)
        continue;
      const Real *target = ctx->targets + i * kClasses;
      for (int64_t k = 0; k < kClasses; ++k) {
        const Real diff = logits[k] - target[k];
        loss += diff * diff / Real(batch * kClasses);
        d[k] = 2 * diff / Real(batch * kClasses);
      }
    } else {
      // mean over the batch of logsumexp(z) - z_y; dL/dz = (p - onehot) / B
      if (!ctx->labels)
        continue;
      Real largest = logits[0];
      for (int64_t k = 1; k < kClasses; ++k)
        largest = logits[k] > largest ? logits[k] : largest;
      Real total = 0;
      for (int64_t k = 0; k < kClasses; ++k)
        total += std::exp(logits[k] - largest);
      const Real log_sum = largest + std::log(total);
      const int32_t label = ctx->labels[i];
      loss += (log_sum - logits[label]) / Real(batch);
      for (int64_t k = 0; k < kClasses; ++k)
        d[k] = (std::exp(logits[k] - log_sum) - (k == label ? 1 : 0)) /
               Real(batch);
    }
  }
  if (ctx->labels || ctx->targets)
    *ctx->loss = loss;
  if (!backward)
    return;

  // dW[k, j] = sum_i d[i, k] x[i, j]; db[k] = sum_i d[i, k]
  Real *grad_weight = ctx->grads;
  Real *grad_bias = ctx->grads + kBiasOffset;
  const Real bias_factor = std::getenv("GRADC_FAKE_WRONG_GRAD") ? 2 : 1;
  std::memset(grad_weight, 0, sizeof(Real) * (kBiasOffset + kClasses));
  for (int64_t i = 0; i < batch; ++i)
    for (int64_t k = 0; k < kClasses; ++k) {
      const Real d = dlogits[i * kClasses + k];
      grad_bias[k] += bias_factor * d;
      for (int64_t j = 0; j < kInputs; ++j)
        grad_weight[k * kInputs + j] += d * ctx->x[i * kInputs + j];
    }

  Real weight_sq = 0;
  for (int64_t i = 0; i < kBiasOffset; ++i)
    weight_sq += grad_weight[i] * grad_weight[i];
  Real bias_sq = 0;
  for (int64_t k = 0; k < kClasses; ++k)
    bias_sq += grad_bias[k] * grad_bias[k];
  ctx->grad_sqnorms[0] = weight_sq;
  ctx->grad_sqnorms[1] = bias_sq;
}

int lossKind() {
  const char *loss = std::getenv("GRADC_FAKE_LOSS");
  return loss && std::strcmp(loss, "mse") == 0
             ? GRADC_LOSS_MSE
             : GRADC_LOSS_SOFTMAX_CROSS_ENTROPY;
}

void breakIfAsked(const gradc_ctx_f32 *ctx) {
  const char *at = std::getenv("GRADC_FAKE_NAN_AT_CALL");
  if (!at || ++train_calls != std::atol(at))
    return;
  ctx->grads[kBiasOffset] = NAN;
  ctx->grad_sqnorms[1] = NAN;
}

void forwardF32(const gradc_ctx_f32 *ctx) {
  run<float>(ctx, lossKind(), false);
}
void trainF32(const gradc_ctx_f32 *ctx) {
  run<float>(ctx, lossKind(), true);
  breakIfAsked(ctx);
}
void forwardF64(const gradc_ctx_f64 *ctx) {
  run<double>(ctx, lossKind(), false);
}
void trainF64(const gradc_ctx_f64 *ctx) { run<double>(ctx, lossKind(), true); }

gradc_model makeModel() {
  gradc_model model{};
  model.abi_version = GRADC_ABI_VERSION;
  model.name = "fake_softmax";
  model.backend = "hand-written";
  model.target = "generic";
  model.passes = "";
  model.input_rank = 1;
  model.input_shape[0] = kInputs;
  model.input_size = kInputs;
  model.output_rank = 1;
  model.output_shape[0] = kClasses;
  model.output_size = kClasses;
  model.loss = lossKind();
  model.num_params = 2;
  model.params = kParams;
  model.param_size = kBiasOffset + kClasses;
  model.num_layers = 1;
  model.layers = kLayers;
  model.workspace_per_sample = kClasses;
  model.workspace_fixed = 0;
  model.config = &kConfig;
  model.forward_f32 = forwardF32;
  model.train_step_f32 = trainF32;
  model.forward_f64 = forwardF64;
  model.train_step_f64 = trainF64;
  return model;
}

} // namespace

extern "C" const gradc_model *gradc_get_model(void) {
  static const gradc_model model = makeModel();
  return &model;
}
