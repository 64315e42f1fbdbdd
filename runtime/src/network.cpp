// See network.h. The only place that fills the ABI's call contexts.
#include "network.h"

#include "errors.h"

#include "gradc/kernels.h"
#include "gradc/parallel.h"

#include <algorithm>
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
                       uint64_t seed, Real *loss, Real *workspace) {
  if (!workspace) {
    const size_t size = elementsFor(model_.workspace_per_sample,
                                    model_.workspace_fixed, batch.count);
    if (workspace_.size() < size)
      workspace_.resize(size);
    workspace = workspace_.data();
  }

  typename Precision<Real>::Context ctx{};
  ctx.params = params.data();
  ctx.grads = grads.data();
  ctx.workspace = workspace;
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

// The fewest samples worth a part of its own.
constexpr int64_t kMinPartSamples = 8;

// A product is small, for cutting the batch, up to four times the least
// work the kernels split over threads: just past that least work, a
// product on two threads was no faster than on one (deep_sigmoid at
// batch 256, whose 64x64 products are 2^20 multiply-adds, trained at
// 130k samples/s on two threads and 140k on one).
constexpr double kSmallProduct = 4.0 * kParallelMinGemmWork;

// A step in two halves, each on its own thread, pays when the kernels
// cannot keep two threads busy by themselves: when a quarter of the
// products' work is in small products (a deep stack of narrow layers),
// or when the activations outweigh the parameters four times, so that
// per-sample work (elementwise loops, scans, unfolding) is most of the
// step. Its cost grows with the parameters: the halves' gradients are
// added, and each half packs every weight for its products.
TrainingParts chooseTrainingParts(const gradc_model &model, int64_t batch) {
  if (!model.batch_separable)
    return {1, "BatchNorm's statistics and dropout's masks are taken over "
               "the whole batch"};
  static_assert(2 * kMinPartSamples == 16, "the reason below says 16");
  if (batch < 2 * kMinPartSamples)
    return {1, "batches under 16 samples stay whole"};

  double total = 0;
  double small = 0;
  for (int i = 0; i < model.num_products; ++i) {
    const double work =
        static_cast<double>(model.product_macs[i]) * static_cast<double>(batch);
    total += work;
    if (work <= kSmallProduct)
      small += work;
  }
  if (total > 0 && small >= total / 4)
    return {2, "a quarter or more of the products' work is in products too "
               "small to split over threads"};

  const double activations = static_cast<double>(model.workspace_per_sample) *
                             static_cast<double>(batch);
  if (activations >= 4 * static_cast<double>(model.param_size))
    return {2, "the activations outweigh the parameters four times"};
  return {1, "the products are large enough to split over threads"};
}

int trainingParts(const gradc_model &model, int64_t batch) {
  return chooseTrainingParts(model, batch).parts;
}

std::string describeTrainingParts(const gradc_model &model, int64_t batch,
                                  int threads) {
  const TrainingParts choice = chooseTrainingParts(model, batch);
  if (choice.parts == 1)
    return fmt::format("each batch of {} whole: {}", batch, choice.why);

  const int64_t smaller = batch / choice.parts;
  const std::string sizes =
      batch % choice.parts == 0
          ? fmt::format("{}", smaller)
          : fmt::format("{} and {}", smaller, smaller + 1);
  const std::string how =
      threads >= choice.parts
          ? fmt::format("side by side on {} threads", choice.parts)
          : "one after the other on 1 thread";
  return fmt::format("each batch of {} in {} parts of {}, {}, their "
                     "gradients averaged: {}",
                     batch, choice.parts, sizes, how, choice.why);
}

template <typename Real>
Real Network<Real>::trainStep(const BatchView<Real> &batch, uint64_t seed) {
  const auto entry = Precision<Real>::trainStep(model_);
  if (!entry)
    throw std::logic_error(
        fmt::format("the model has no {} train_step", Precision<Real>::name));
  const int parts = trainingParts(model_, batch.count);
  if (parts > 1)
    return trainStepInParts(batch, seed, parts);

  output.resize(elementsFor(model_.output_size, 0, batch.count));
  Real loss = 0;
  const auto ctx = context(batch, true, seed, &loss);
  entry(&ctx);
  return loss;
}

template <typename Real>
Real Network<Real>::trainStepInParts(const BatchView<Real> &batch,
                                     uint64_t seed, int parts) {
  output.resize(elementsFor(model_.output_size, 0, batch.count));
  if (parts_.size() < static_cast<size_t>(parts - 1))
    parts_.resize(static_cast<size_t>(parts - 1));

  std::vector<typename Precision<Real>::Context> contexts;
  std::vector<Real> losses(static_cast<size_t>(parts));
  std::vector<Real> weights;
  for (int p = 0; p < parts; ++p) {
    contexts.push_back(
        partContext(batch, seed, p, parts, &losses[static_cast<size_t>(p)]));
    weights.push_back(static_cast<Real>(contexts.back().batch) /
                      static_cast<Real>(batch.count));
  }

  const auto entry = Precision<Real>::trainStep(model_);
  parallelParts(parts,
                [&](int p) { entry(&contexts[static_cast<size_t>(p)]); });

  // The mean over the batch is the parts' means weighted by their sizes,
  // for the gradients as for the loss.
  averageParts(weights);
  Real loss = 0;
  for (int p = 0; p < parts; ++p)
    loss += weights[static_cast<size_t>(p)] * losses[static_cast<size_t>(p)];
  return loss;
}

template <typename Real>
typename Precision<Real>::Context
Network<Real>::partContext(const BatchView<Real> &batch, uint64_t seed,
                           int part, int parts, Real *loss) {
  const int64_t first = batch.count * part / parts;
  BatchView<Real> rows;
  rows.count = batch.count * (part + 1) / parts - first;
  rows.x = batch.x + first * model_.input_size;
  if (batch.labels)
    rows.labels = batch.labels + first;
  if (batch.targets)
    rows.targets = batch.targets + first * model_.output_size;

  // The first part uses the members' workspace and gradients, the others
  // their own, each sized for its part, so that the parts together need
  // about the workspace of the whole batch.
  // (The first is made first: the member workspace may move as it grows.)
  Part *own = part > 0 ? &parts_[static_cast<size_t>(part - 1)] : nullptr;
  if (own) {
    own->workspace.resize(elementsFor(model_.workspace_per_sample,
                                      model_.workspace_fixed, rows.count));
    own->grads.resize(grads.size());
  }
  auto ctx =
      context(rows, true, seed, loss, own ? own->workspace.data() : nullptr);
  if (own)
    ctx.grads = own->grads.data();
  ctx.output = output.data() + first * model_.output_size;
  // A part's norms would be of its own gradient: averageParts takes those
  // of the sum.
  ctx.grad_sqnorms = nullptr;
  return ctx;
}

template <typename Real>
void Network<Real>::averageParts(const std::vector<Real> &weights) {
  const int parts = static_cast<int>(weights.size());
  if (chunks_.empty())
    for (int i = 0; i < model_.num_params; ++i) {
      const gradc_param_info &param = model_.params[i];
      for (int64_t at = 0; !param.is_buffer && at < param.size;
           at += kSquaredNormChunk)
        chunks_.push_back(
            {i, param.offset + at,
             param.offset + std::min(param.size, at + kSquaredNormChunk)});
    }
  chunk_sums_.resize(chunks_.size());
  Real *sum = grads.data();

  // Each chunk is summed and then, while in cache, squared: the chunks
  // are squaredNorm's, so the norms come out as it would give them. The
  // threads split the chunks by where they start in the parameters, as
  // the optimizer splits its update, so that each thread updates the
  // gradients it summed (and the chunks, of 1 to 8192 values, even out).
  const int64_t threads = availableThreads();
  auto firstChunkOf = [&](int64_t thread) {
    const int64_t at = model_.param_size * thread / threads;
    return std::lower_bound(chunks_.begin(), chunks_.end(), at,
                            [](const GradChunk &chunk, int64_t value) {
                              return chunk.begin < value;
                            }) -
           chunks_.begin();
  };
  parallelRanges(
      threads, parts * model_.param_size, [&](int64_t first, int64_t last) {
        for (int64_t c = firstChunkOf(first); c < firstChunkOf(last); ++c) {
          const GradChunk &chunk = chunks_[static_cast<size_t>(c)];
          for (int p = 1; p < parts; ++p) {
            const Real *part = parts_[static_cast<size_t>(p - 1)].grads.data();
            const Real scale = p == 1 ? weights[0] : Real(1);
            const Real weight = weights[static_cast<size_t>(p)];
            for (int64_t i = chunk.begin; i < chunk.end; ++i)
              sum[i] = scale * sum[i] + weight * part[i];
          }
          chunk_sums_[static_cast<size_t>(c)] =
              detail::squaredNormChunk(sum, chunk.begin, chunk.end);
        }
      });

  std::vector<double> totals(grad_sqnorms.size());
  for (size_t c = 0; c < chunks_.size(); ++c)
    totals[static_cast<size_t>(chunks_[c].param)] += chunk_sums_[c];
  for (size_t i = 0; i < totals.size(); ++i)
    grad_sqnorms[i] = static_cast<Real>(totals[i]);
}

template <typename Real>
Real Network<Real>::forward(const BatchView<Real> &batch, bool training,
                            uint64_t seed) {
  const auto entry = Precision<Real>::forward(model_);
  if (!entry)
    throw std::logic_error(
        fmt::format("the model has no {} forward", Precision<Real>::name));
  output.resize(elementsFor(model_.output_size, 0, batch.count));
  Real loss = 0;
  const auto ctx = context(batch, training, seed, &loss);
  entry(&ctx);
  return loss;
}

template class Network<float>;
template class Network<double>;

} // namespace gradc
