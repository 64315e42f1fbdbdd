// `train`: reads the data, starts from the seed, a checkpoint's parameters
// (--load) or a whole training state (--resume), runs the loop and prints
// the gradient-norm summary.
#include "checkpoint.h"
#include "command_support.h"
#include "commands.h"
#include "errors.h"
#include "grad_summary.h"
#include "names.h"
#include "settings.h"
#include "trainer.h"

#include <filesystem>
#include <gradc/float_mode.h>
#include <gradc/parallel.h>

namespace gradc {
namespace {

// Checks that a saved position lies inside this run. Trusted, a batch
// past the end of an epoch would index past the data, an epoch past the
// last would end the run without training, and counts that do not fit the
// batches taken would print a wrong loss or accuracy.
void checkPosition(const TrainingPosition &position, const std::string &path,
                   int64_t samples, int64_t batch, int64_t epochs) {
  if (position.epoch > epochs)
    throw UserError(fmt::format("{}: the run that saved it had finished {} "
                                "epochs, more than the {} of this run",
                                path, position.epoch, epochs),
                    fmt::format("give --epochs {} or more", position.epoch));
  const int64_t batches = (samples + batch - 1) / batch;
  if (position.batch_in_epoch > 0 &&
      (position.epoch == epochs || position.batch_in_epoch >= batches))
    throw UserError(fmt::format("{}: it stopped after {} batches of epoch "
                                "{}, but this run has {} epochs of {} "
                                "batches",
                                path, position.batch_in_epoch,
                                position.epoch + 1, epochs, batches),
                    "resume with the data and --epochs it was saved with");
  if (position.seen != position.batch_in_epoch * batch ||
      position.correct > position.seen)
    throw UserError(fmt::format("{}: its epoch so far counts {} samples, {} "
                                "of them right, which {} batches of {} "
                                "cannot give",
                                path, position.seen, position.correct,
                                position.batch_in_epoch, batch),
                    "the file has been changed by hand or is damaged");
}

// Continues a saved run. The seed and the position come from the
// checkpoint, since a different seed would make a different run.
TrainingPosition resume(const gradc_model &model, const Options &options,
                        int64_t batch, int64_t samples, int64_t epochs,
                        Network<float> &network, Optimizer &optimizer) {
  const TrainingPosition position = loadForResume(
      options.resume, model, network.params.data(), optimizer);
  if (position.batch_in_epoch > 0 && position.batch != batch)
    throw UserError(fmt::format("'{}' stopped inside an epoch of batches of "
                                "{}, but this run uses batches of {}",
                                options.resume, position.batch, batch),
                    fmt::format("resume with --batch {}", position.batch));
  checkPosition(position, options.resume, samples, batch, epochs);
  if (options.seed && *options.seed != position.seed)
    fmt::print(stderr,
               "warning: --seed {} is ignored; '{}' continues the run seeded "
               "with {}\n",
               *options.seed, options.resume, position.seed);
  note(options, "resuming '{}' after {} epochs and {} steps", options.resume,
       position.epoch, position.step);
  return position;
}

// The checkpoint is first written after an epoch, which may be hours in;
// a folder that is not there is better found out now.
void checkSaveFolder(const std::string &path) {
  if (path.empty())
    return;
  try {
    checkOutputFile(path);
  } catch (const IoError &failure) {
    throw UserError(fmt::format("cannot save to {}", failure.what()),
                    "give --save the path of a regular file");
  }
  const std::filesystem::path folder =
      std::filesystem::path(path).parent_path();
  std::error_code ignored;
  if (folder.empty() || std::filesystem::is_directory(folder, ignored))
    return;
  throw UserError(fmt::format("cannot save to '{}': the folder '{}' does not "
                              "exist",
                              path, folder.string()),
                  "create it, or give --save another path");
}

std::string noTrainingDataHint() {
  return "give --train-images and --train-labels (IDX), --train-x and "
         "--train-y (.npy), or --train-csv and --train-label-column";
}

} // namespace

int runTrain(const gradc_model &model, const Options &options) {
  const gradc_config &config = *model.config;
  checkSaveFolder(options.save);
  const DataSettings data = resolveData(config, options.data);
  if (!data.train)
    throw UserError("no training data: the model file names none",
                    noTrainingDataHint());
  const Dataset train =
      loadSplit(model, *data.train, data.transform, "training", options);
  std::optional<Dataset> test;
  if (data.test)
    test = loadSplit(model, *data.test, data.transform, "test", options);

  const int threads = availableThreads();
  note(options, "computing on {} thread{}, {}", threads,
       threads == 1 ? "" : "s",
       flushingSubnormals() ? "subnormal floats flushed to zero"
                            : "subnormal floats kept");

  const int64_t batch = resolveBatch(config, options);
  note(options, "training steps: {}",
       describeTrainingParts(model, batch, threads));
  const int64_t epochs = options.epochs.value_or(config.epochs);
  Network<float> network(model);
  const std::unique_ptr<Optimizer> optimizer =
      makeOptimizer(model, resolveOptimizer(config, options));
  TrainingPosition start;
  if (!options.resume.empty()) {
    start =
        resume(model, options, batch, train.count, epochs, network, *optimizer);
  } else {
    start.seed = resolveSeed(config, options);
    startParameters(model, options, start.seed, network);
  }
  start.batch = batch;

  GradLogSettings grad_settings = resolveGradLog(config, options);
  grad_settings.append = !options.resume.empty();
  GradNormLog grad_log(model, grad_settings);

  TrainPlan plan;
  plan.epochs = epochs;
  plan.batch = batch;
  plan.max_steps = options.steps;
  plan.shuffle = config.shuffle != 0;
  plan.schedule = resolveSchedule(config);
  plan.save_path = options.save;
  plan.metrics_path = options.metrics;
  plan.append_logs = !options.resume.empty();
  plan.quiet = options.quiet;
  plan.clip = resolveClip(config);
  plan.skip_nonfinite = config.skip_nonfinite != 0;
  note(options, "training {} in batches of {} ({} per epoch)",
       countOf(plan.epochs, "epoch"), batch, (train.count + batch - 1) / batch);

  Trainer trainer(network, *optimizer, grad_log, train,
                  test ? &*test : nullptr, plan, start);
  const TrainingPosition end = trainer.run();
  printGradSummary(model, grad_log, !options.quiet, stdout, stderr);
  if (!options.save.empty())
    note(options, "saved '{}' after {} steps", options.save, end.step);
  return 0;
}

} // namespace gradc
