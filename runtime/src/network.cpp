// See network.h. The only place that fills the ABI's call contexts.
#include "network.h"

#include "errors.h"

#include <fmt/format.h>
#include <stdexcept>

namespace gradc {

template <typename Real>
Network<Real>::Network(const gradc_model &model)
    : params(static_cast<size_t>(model.param_size)),
      grads(static_cast<size_t>(model.param_size)),
      grad_sqnorms(static_cast<size_t>(model.num_params)), model_(model) {}

// Elements a buffer of `per_sample` values per sample needs at this batch,
// refusing sizes that would not fit in memory rather than wrapping around.
static size_t elementsFor(int64_t per_sample, int64_t fixed, int64_t count) {
  int64_t total = 0;
  if (__builtin_mul_overflow(per_sample, count, &total) ||
      __builtin_add_overflow(total, fixed, &total) ||
      total > (int64_t{1} << 40))
    throw UserError(fmt::format("a batch of {} samples needs more memory "
                                "than this machine could give",
                                count),
                    "use a smaller --batch");
  return static_cast<size_t>(total);
}

template <typename Real>
typename Precision<Real>::Context
Network<Real>::context(const BatchView<Real> &batch, bool training,
                       uint64_t seed, Real *loss) {
  const size_t workspace = elementsFor(model_.workspace_per_sample,
                                       model_.workspace_fixed, batch.count);
  if (workspace_.size() < workspace)
    workspace_.resize(workspace);
  output.resize(elementsFor(model_.output_size, 0, batch.count));

  typename Precision<Real>::Context ctx{};
  ctx.params = params.data();
  ctx.grads = grads.data();
  ctx.workspace = workspace_.data();
  ctx.x = batch.x;
  ctx.labels = batch.labels;
  ctx.targets = batch.targets;
  ctx.output = output.data();
  ctx.loss = loss;
  ctx.grad_sqnorms = grad_sqnorms.data();
  ctx.batch = batch.count;
  ctx.training = training ? 1 : 0;
  ctx.seed = seed;
  return ctx;
}

template <typename Real>
Real Network<Real>::trainStep(const BatchView<Real> &batch, uint64_t seed) {
  const auto entry = Precision<Real>::trainStep(model_);
  if (!entry)
    throw std::logic_error(
        fmt::format("the model has no {} train_step", Precision<Real>::name));
  Real loss = 0;
  const auto ctx = context(batch, true, seed, &loss);
  entry(&ctx);
  return loss;
}

template <typename Real>
Real Network<Real>::forward(const BatchView<Real> &batch, bool training,
                            uint64_t seed) {
  const auto entry = Precision<Real>::forward(model_);
  if (!entry)
    throw std::logic_error(
        fmt::format("the model has no {} forward", Precision<Real>::name));
  Real loss = 0;
  const auto ctx = context(batch, training, seed, &loss);
  entry(&ctx);
  return loss;
}

template class Network<float>;
template class Network<double>;

} // namespace gradc
