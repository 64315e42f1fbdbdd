// The training loop. Each epoch visits the training set in the order
// shuffledOrder(seed, epoch) gives, in batches (the last one partial, as
// PyTorch's DataLoader leaves it); each batch is one train_step and one
// optimizer step, at the learning rate the schedule gives the epoch. After
// each epoch it evaluates the test split, prints and
// logs the epoch, and saves the checkpoint. Gradient clipping, when set,
// acts between the backward pass and the optimizer. A non-finite loss or
// gradient stops the run with a UserError naming the step and the first
// parameter affected, before anything is saved; with skip_nonfinite the
// step is skipped instead (no update) and counted. Parameters that are
// not finite are never saved over a checkpoint.
#ifndef GRADC_RUNTIME_TRAINER_H
#define GRADC_RUNTIME_TRAINER_H

#include "checkpoint.h"
#include "clip.h"
#include "epoch_report.h"
#include "dataset.h"
#include "grad_log.h"
#include "network.h"
#include "optimizer.h"
#include "progress.h"
#include "schedule.h"
#include "text_file.h"

#include <memory>
#include <optional>
#include <string>

namespace gradc {

struct TrainPlan {
  int64_t epochs = 1;
  int64_t batch = 1;
  std::optional<int64_t> max_steps; // optimizer steps in total
  bool shuffle = true;
  ScheduleSettings schedule; // the base rate is the optimizer's lr
  std::string save_path;
  std::string metrics_path;
  bool append_logs = false; // a resumed run continues its logs
  bool quiet = false;
  ClipSettings clip;
  bool skip_nonfinite = false; // skip such a step rather than stop
};

class Trainer {
public:
  Trainer(Network<float> &network, Optimizer &optimizer,
          GradNormLog &grad_log,
          const Dataset &train, const Dataset *test, TrainPlan plan,
          TrainingPosition start);

  // Trains until the last epoch or the step limit; returns the position
  // reached.
  TrainingPosition run();

private:
  bool stepLimitReached() const;
  // Runs what is left of one epoch; false when the step limit cut it short.
  bool runEpoch(int64_t epoch);
  void trainBatch(const Batch &batch);
  // True when the step is to be skipped; throws when it must stop the run.
  bool checkFinite(int64_t step, float loss);
  void printCounts() const;
  void finishEpoch(int64_t epoch, int64_t batches_in_epoch, double seconds,
                   int64_t samples);
  void save();

  Network<float> &network_;
  Optimizer &optimizer_;
  double base_lr_;
  GradNormLog &grad_log_;
  const Dataset &train_;
  const Dataset *test_;
  TrainPlan plan_;
  TrainingPosition position_;
  bool saved_ = false;
  // Counted over this run, not carried across a resume.
  int64_t steps_run_ = 0;
  int64_t clipped_steps_ = 0;
  int64_t skipped_steps_ = 0;
  std::optional<EpochReport> last_report_; // for the closing line
  ProgressBar progress_;
  std::unique_ptr<TextFile> metrics_;
};

} // namespace gradc

#endif // GRADC_RUNTIME_TRAINER_H
