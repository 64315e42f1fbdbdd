// See settings.h.
#include "settings.h"

#include <fmt/format.h>
#include <stdexcept>

namespace gradc {
namespace {

// The model file may name .npy files as well as IDX ones; the extension
// tells them apart.
FileKind kindOfPath(const std::string &path) {
  const std::string npy = ".npy";
  const bool is_npy =
      path.size() >= npy.size() &&
      path.compare(path.size() - npy.size(), npy.size(), npy) == 0;
  return is_npy ? FileKind::Npy : FileKind::Idx;
}

std::optional<DataFiles> chooseFiles(const std::string &split,
                                     const SplitOptions &given,
                                     const gradc_split &configured) {
  if (!given.images.empty())
    return DataFiles{given.images, given.labels, FileKind::Idx,
                     fmt::format("--{0}-images and --{0}-labels", split)};
  if (!given.x.empty())
    return DataFiles{given.x, given.y, FileKind::Npy,
                     fmt::format("--{0}-x and --{0}-y", split)};
  if (!given.csv.empty())
    return DataFiles{given.csv, "", FileKind::Csv,
                     fmt::format("--{0}-csv and --{0}-label-column", split),
                     given.label_column};

  const std::string from_model_file = fmt::format(
      "data.{0} in the model file; give --{0}-images and --{0}-labels, "
      "--{0}-x and --{0}-y, or --{0}-csv and --{0}-label-column to read "
      "other files",
      split);
  if (configured.images && configured.labels)
    return DataFiles{configured.images, configured.labels,
                     kindOfPath(configured.images), from_model_file};
  if (configured.x && configured.y)
    return DataFiles{configured.x, configured.y, FileKind::Npy,
                     from_model_file};
  if (configured.csv)
    return DataFiles{configured.csv, "", FileKind::Csv, from_model_file,
                     configured.label_column};
  return std::nullopt;
}

} // namespace

DataSettings resolveData(const gradc_config &config, const DataOptions &data) {
  DataSettings settings;
  settings.train = chooseFiles("train", data.train, config.train);
  settings.test = chooseFiles("test", data.test, config.test);
  settings.transform.scale = config.scale;
  settings.transform.normalize = config.normalize != 0;
  settings.transform.mean = config.mean;
  settings.transform.std = config.std;
  return settings;
}

OptimizerSettings resolveOptimizer(const gradc_config &config,
                                   const Options &options) {
  OptimizerSettings settings;
  switch (config.optimizer) {
  case GRADC_OPTIMIZER_SGD:
    settings.kind = OptimizerKind::Sgd;
    break;
  case GRADC_OPTIMIZER_ADAM:
    settings.kind = OptimizerKind::Adam;
    break;
  case GRADC_OPTIMIZER_ADAMW:
    settings.kind = OptimizerKind::AdamW;
    break;
  default:
    throw std::logic_error(fmt::format(
        "the model asks for optimizer {}, which this runtime does not have",
        config.optimizer));
  }
  settings.lr = options.lr.value_or(config.lr);
  settings.weight_decay = config.weight_decay;
  settings.momentum = config.momentum;
  settings.nesterov = config.nesterov != 0;
  settings.beta1 = config.beta1;
  settings.beta2 = config.beta2;
  settings.eps = config.eps;
  return settings;
}

ScheduleSettings resolveSchedule(const gradc_config &config) {
  ScheduleSettings settings;
  switch (config.schedule) {
  case GRADC_SCHEDULE_NONE:
    settings.kind = ScheduleKind::None;
    break;
  case GRADC_SCHEDULE_STEP:
    settings.kind = ScheduleKind::Step;
    break;
  case GRADC_SCHEDULE_COSINE:
    settings.kind = ScheduleKind::Cosine;
    break;
  default:
    throw std::logic_error(fmt::format(
        "the model asks for schedule {}, which this runtime does not have",
        config.schedule));
  }
  if (settings.kind == ScheduleKind::Step && config.schedule_every < 1)
    throw std::logic_error(fmt::format("the model's step schedule decays "
                                       "every {} epochs",
                                       config.schedule_every));
  settings.every = config.schedule_every;
  settings.gamma = config.schedule_gamma;
  return settings;
}

GradLogSettings resolveGradLog(const gradc_config &config,
                               const Options &options) {
  // The summary needs norms even when no file is written, so a model file
  // without a log section still tracks them every 50 steps.
  constexpr int64_t kDefaultEvery = 50;
  GradLogSettings settings;
  settings.every = options.grad_every.value_or(
      config.grad_every > 0 ? config.grad_every : kDefaultEvery);
  if (!options.grad_log.empty())
    settings.path = options.grad_log;
  else if (config.grad_file && config.grad_every > 0)
    settings.path = config.grad_file;
  settings.vanishing_below = config.vanishing_below;
  settings.exploding_above = config.exploding_above;
  return settings;
}

int64_t resolveBatch(const gradc_config &config, const Options &options) {
  return options.batch.value_or(config.batch > 0 ? config.batch : 1);
}

uint64_t resolveSeed(const gradc_config &config, const Options &options) {
  return options.seed.value_or(config.seed);
}

} // namespace gradc
