// See trainer.h.
#include "trainer.h"

#include "epoch_report.h"
#include "errors.h"
#include "evaluate.h"
#include "grad_summary.h"
#include "rng.h"

#include <chrono>
#include <cmath>
#include <fmt/format.h>
#include <numeric>

namespace gradc {

Trainer::Trainer(Network<float> &network, Optimizer &optimizer,
                 GradNormLog &grad_log, const Dataset &train,
                 const Dataset *test, TrainPlan plan, TrainingPosition start)
    : network_(network), optimizer_(optimizer),
      base_lr_(optimizer.learningRate()), grad_log_(grad_log),
      train_(train), test_(test), plan_(std::move(plan)), position_(start),
      progress_(!plan_.quiet) {
  if (!plan_.metrics_path.empty())
    metrics_ =
        std::make_unique<TextFile>(plan_.metrics_path, plan_.append_logs);
}

TrainingPosition Trainer::run() {
  for (int64_t epoch = position_.epoch; epoch < plan_.epochs; ++epoch)
    if (stepLimitReached() || !runEpoch(epoch))
      break;

  // A run that trained nothing (no epochs left, or --epochs 0) still
  // leaves the checkpoint it was asked for.
  if (!saved_)
    save();
  printCounts();

  // The figure a run is for, once more after the per-epoch lines.
  if (!last_report_ && stepLimitReached())
    fmt::print("nothing to train: the run is already at step {}, and "
               "--steps is {}\n",
               position_.step, *plan_.max_steps);
  else if (!last_report_)
    fmt::print("nothing to train: the run has already done {} of {} "
               "epochs\n",
               position_.epoch, plan_.epochs);
  else if (!plan_.quiet && last_report_->test_accuracy)
    fmt::print("finished after {} step{}: test accuracy {:.4f}\n",
               position_.step, position_.step == 1 ? "" : "s",
               *last_report_->test_accuracy);
  else if (!plan_.quiet && last_report_->test_loss)
    fmt::print("finished after {} step{}: test loss {:.4f}\n", position_.step,
               position_.step == 1 ? "" : "s", *last_report_->test_loss);
  return position_;
}

bool Trainer::stepLimitReached() const {
  return plan_.max_steps && position_.step >= *plan_.max_steps;
}

bool Trainer::runEpoch(int64_t epoch) {
  optimizer_.setLearningRate(
      scheduledLearningRate(plan_.schedule, base_lr_, epoch, plan_.epochs));

  std::vector<int64_t> order;
  if (plan_.shuffle) {
    order = shuffledOrder(train_.count, position_.seed, epoch);
  } else {
    order.resize(static_cast<size_t>(train_.count));
    std::iota(order.begin(), order.end(), int64_t{0});
  }
  const int64_t batches = (train_.count + plan_.batch - 1) / plan_.batch;
  const int64_t first_batch = position_.batch_in_epoch;

  const auto start = std::chrono::steady_clock::now();
  int64_t samples = 0;
  Batch batch;
  for (int64_t index = first_batch; index < batches; ++index) {
    if (stepLimitReached())
      break;
    const int64_t begin = index * plan_.batch;
    const int64_t count = std::min(plan_.batch, train_.count - begin);
    gatherBatch(network_.model(), train_,
                std::span<const int64_t>(order).subspan(
                    static_cast<size_t>(begin), static_cast<size_t>(count)),
                batch);
    trainBatch(batch);
    position_.batch_in_epoch = index + 1;
    samples += count;

    // Reading the clock every step costs as much as a small model's
    // bookkeeping, so it is read only for a bar that is drawn.
    if (!progress_.enabled())
      continue;
    const std::chrono::duration<double> so_far =
        std::chrono::steady_clock::now() - start;
    progress_.update(epoch + 1, plan_.epochs, index + 1, batches,
                     position_.loss_sum / static_cast<double>(position_.seen),
                     static_cast<double>(samples) / so_far.count());
  }
  const std::chrono::duration<double> elapsed =
      std::chrono::steady_clock::now() - start;
  progress_.clear();

  if (position_.batch_in_epoch == first_batch)
    return false;
  finishEpoch(epoch, batches, elapsed.count(), samples);
  return position_.batch_in_epoch == 0;
}

void Trainer::trainBatch(const Batch &batch) {
  const gradc_model &model = network_.model();
  const int64_t step = position_.step + 1;
  const float loss = network_.trainStep(
      batchView(model, batch), deriveSeed(position_.seed, RngStream::Dropout,
                                          static_cast<uint64_t>(step)));
  ++steps_run_;
  if (checkFinite(step, loss)) {
    // The batch is consumed but nothing is learned from it.
    position_.step = step;
    return;
  }
  const bool clipped = clipGradients(model, plan_.clip, network_.grads.data(),
                                     network_.grad_sqnorms.data());
  clipped_steps_ += clipped;

  // The norms are logged before the update, against the weights that
  // produced these gradients, and before clipping.
  if (grad_log_.isLoggedStep(step))
    grad_log_.record(step, network_.params.data(), network_.grad_sqnorms.data(),
                     clipped);
  optimizer_.step(network_.params.data(), network_.grads.data());

  position_.step = step;
  position_.loss_sum +=
      static_cast<double>(loss) * static_cast<double>(batch.count);
  position_.seen += batch.count;
  if (!batch.labels.empty())
    position_.correct +=
        countCorrect(network_.output.data(), batch.labels.data(), batch.count,
                     model.output_size);
}

bool Trainer::checkFinite(int64_t step, float loss) {
  const gradc_model &model = network_.model();
  std::string what;
  if (!std::isfinite(loss)) {
    what = "the loss is not finite";
  } else {
    for (int index = 0; index < model.num_params && what.empty(); ++index)
      if (!model.params[index].is_buffer &&
          !std::isfinite(network_.grad_sqnorms[index]))
        what = fmt::format("the gradient of '{}' is not finite",
                           model.params[index].name);
  }
  if (what.empty())
    return false;

  // Log the step that broke, whatever the logging interval, so the CSV
  // and the summary end where training did.
  progress_.clear();
  grad_log_.record(step, network_.params.data(), network_.grad_sqnorms.data());
  if (plan_.skip_nonfinite) {
    // Only the first is described; the count comes at the end.
    if (skipped_steps_++ == 0)
      fmt::print(stderr, "warning: step {}: {}; skipping such steps\n", step,
                 what);
    return true;
  }
  printGradSummary(model, grad_log_, !plan_.quiet, stdout, stderr);
  // Clipping is compiled in, so a trainer without it can only point at
  // the compiler's switch.
  throw UserError(fmt::format("step {}: {}", step, what),
                  plan_.clip.kind == GRADC_CLIP_NONE
                      ? "lower the learning rate (--lr), or rebuild the "
                        "trainer with gradient clipping (gradc --clip-norm 1)"
                      : "lower the learning rate (--lr)");
}

void Trainer::printCounts() const {
  if (plan_.clip.kind != GRADC_CLIP_NONE && !plan_.quiet)
    fmt::print("gradient clipping acted on {} of {} steps\n", clipped_steps_,
               steps_run_);
  // Printed even when quiet: these steps taught the model nothing.
  if (skipped_steps_ > 0)
    fmt::print(stderr,
               "warning: skipped {} of {} steps whose loss or "
               "gradient was not finite\n",
               skipped_steps_, steps_run_);
}

void Trainer::finishEpoch(int64_t epoch, int64_t batches_in_epoch,
                          double seconds, int64_t samples) {
  EpochReport report;
  report.epoch = epoch + 1;
  report.epochs = plan_.epochs;
  report.step = position_.step;
  report.batches = position_.batch_in_epoch;
  report.batches_in_epoch = batches_in_epoch;
  report.loss = position_.loss_sum / static_cast<double>(position_.seen);
  if (train_.hasClasses())
    report.train_accuracy = static_cast<double>(position_.correct) /
                            static_cast<double>(position_.seen);
  if (plan_.schedule.kind != ScheduleKind::None)
    report.lr = optimizer_.learningRate();
  report.seconds = seconds;
  report.samples_per_second =
      seconds > 0 ? static_cast<double>(samples) / seconds : 0;
  if (test_) {
    const Evaluation evaluation = evaluate(network_, *test_, plan_.batch);
    report.test_loss = evaluation.loss;
    report.test_accuracy = evaluation.accuracy;
  }

  if (!plan_.quiet) {
    // Flushed, so a log file shows each epoch as it ends.
    fmt::print("{}\n", consoleLine(report));
    std::fflush(stdout);
  }
  if (metrics_)
    metrics_->write(metricsLine(report) + "\n");
  last_report_ = report;

  if (position_.batch_in_epoch == batches_in_epoch) {
    position_.epoch = epoch + 1;
    position_.batch_in_epoch = 0;
    position_.loss_sum = 0;
    position_.correct = 0;
    position_.seen = 0;
  }
  save();
}

void Trainer::save() {
  saved_ = true;
  if (plan_.save_path.empty())
    return;
  // A step can overflow the weights with a finite gradient; keeping the
  // last good checkpoint is worth more than saving that.
  const gradc_model &model = network_.model();
  for (int index = 0; index < model.num_params; ++index) {
    const gradc_param_info &param = model.params[index];
    const float *values = network_.params.data() + param.offset;
    for (int64_t i = 0; i < param.size; ++i)
      if (!std::isfinite(values[i])) {
        fmt::print(stderr,
                   "warning: step {}: '{}' is not finite; '{}' is not "
                   "saved\n",
                   position_.step, param.name, plan_.save_path);
        return;
      }
  }
  saveCheckpoint(plan_.save_path, network_.model(), network_.params.data(),
                 optimizer_, position_);
}

} // namespace gradc
