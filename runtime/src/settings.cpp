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
  if (configured.images && configured.labels)
    return DataFiles{configured.images, configured.labels,
                     kindOfPath(configured.images),
                     fmt::format("data.{} in the model file; give --{}-images "
                                 "and --{}-labels to read other files",
                                 split, split, split)};
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

SgdSettings resolveSgd(const gradc_config &config, const Options &options) {
  if (config.optimizer != GRADC_OPTIMIZER_SGD)
    throw std::logic_error(fmt::format(
        "the model asks for optimizer {}, which this runtime does not have",
        config.optimizer));
  SgdSettings settings;
  settings.lr = options.lr.value_or(config.lr);
  settings.momentum = config.momentum;
  settings.weight_decay = config.weight_decay;
  settings.nesterov = config.nesterov != 0;
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
