// See checkpoint.h. Metadata values are strings, as safetensors requires;
// the loss sum is written with 17 significant digits so it reads back to
// the same double.
#include "checkpoint.h"

#include "errors.h"
#include "names.h"
#include "options.h"
#include "tensor_io.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <limits>
#include <map>

namespace gradc {
namespace {

constexpr const char *kFormatVersion = "1";
// The largest count of epochs, batches, steps or samples a checkpoint may
// give: far beyond any run, and small enough that arithmetic on the counts
// cannot overflow.
constexpr int64_t kMaxCount = int64_t{1} << 53;

std::string slotTensorName(const gradc_param_info &param,
                           const std::string &slot) {
  return fmt::format("optimizer.{}.{}", param.name, slot);
}

std::vector<int64_t> shapeOf(const gradc_param_info &param) {
  return {param.shape, param.shape + param.rank};
}

// Reads the data only of the tensors the model expects, by name and
// shape: the parameters, and the optimizer's slots of each when `slots`
// names them. Another tensor in the file, however large, costs nothing.
SafeTensors readCheckpoint(const std::string &path, const gradc_model &model,
                           const std::vector<std::string> &slots) {
  std::map<std::string, std::vector<int64_t>> expected;
  for (int index = 0; index < model.num_params; ++index) {
    const gradc_param_info &param = model.params[index];
    expected[param.name] = shapeOf(param);
    if (!param.is_buffer)
      for (const std::string &slot : slots)
        expected[slotTensorName(param, slot)] = shapeOf(param);
  }
  const auto wanted = [&](const std::string &name,
                          const std::vector<int64_t> &shape) {
    const auto found = expected.find(name);
    return found != expected.end() && found->second == shape;
  };
  try {
    return readSafeTensors(path, wanted);
  } catch (const IoError &failure) {
    throw UserError(
        fmt::format("cannot read the checkpoint: {}", failure.what()),
        "give a .safetensors file written by train --save");
  }
}

// Copies one tensor of the file into the flat array, after checking that
// it is there and has the model's shape.
void copyTensor(const SafeTensors &file, const std::string &path,
                const std::string &name, const gradc_param_info &param,
                float *values) {
  const auto found = file.tensors.find(name);
  if (found == file.tensors.end())
    throw UserError(
        fmt::format("'{}' has no tensor '{}'", path, name),
        file.tensors.empty()
            ? std::string("the file holds no tensors")
            : fmt::format("it holds {} tensors, the first '{}'; was it saved "
                          "from another model?",
                          file.tensors.size(), file.tensors.begin()->first));

  const HostTensor &tensor = found->second;
  if (tensor.shape != shapeOf(param))
    throw UserError(fmt::format("'{}' gives '{}' the shape {}, but the model's "
                                "is {}",
                                path, name, formatShape(tensor.shape),
                                formatShape(param.rank, param.shape)),
                    "was it saved from another model, or before the model "
                    "file changed?");
  std::copy(tensor.data.begin(), tensor.data.end(), values + param.offset);
}

// A non-finite parameter is refused here: otherwise it shows only at the
// first step, as a loss that is not finite, with advice about the
// learning rate, which does not help a run that starts from it.
void copyParameters(const SafeTensors &file, const std::string &path,
                    const gradc_model &model, float *params) {
  for (int index = 0; index < model.num_params; ++index) {
    const gradc_param_info &param = model.params[index];
    copyTensor(file, path, param.name, param, params);
    const float *first = params + param.offset;
    const float *bad = std::find_if(first, first + param.size,
                                    [](float v) { return !std::isfinite(v); });
    if (bad != first + param.size)
      throw UserError(fmt::format("'{}' gives '{}' the value {} at element "
                                  "{}",
                                  path, param.name, *bad, bad - first),
                      "start from a checkpoint saved before training "
                      "diverged, or from scratch");
  }
}

std::string metadataValue(const SafeTensors &file, const std::string &path,
                          const std::string &key) {
  const auto found = file.metadata.find(key);
  if (found == file.metadata.end())
    throw UserError(fmt::format("'{}' has no '{}' in its metadata", path, key),
                    "was it written by an older trainer?");
  return found->second;
}

// Reads a number as saveCheckpoint writes it, in plain decimal, from
// lowest to highest. Anything else was changed by hand or damaged, and
// trusted it would index past the data, wrap around or overflow.
template <typename Number>
Number parseMetadata(const SafeTensors &file, const std::string &path,
                     const std::string &key, Number lowest = 0,
                     Number highest = kMaxCount) {
  const std::string text = metadataValue(file, path, key);
  Number value{};
  const char *end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  // NaN fails both comparisons, and infinity the range.
  if (!text.empty() && stop == end && error == std::errc() && value >= lowest &&
      value <= highest)
    return value;
  std::string expected;
  if constexpr (std::is_floating_point_v<Number>)
    expected = "a finite number";
  else if (highest == std::numeric_limits<Number>::max())
    expected = fmt::format("a whole number of at least {}", lowest);
  else
    expected = fmt::format("a whole number from {} to {}", lowest, highest);
  throw UserError(fmt::format("{}: '{}' in its metadata is '{}', not {}", path,
                              key, text, expected),
                  "the file has been changed by hand or is damaged");
}

TrainingPosition readPosition(const SafeTensors &file,
                              const std::string &path) {
  if (!file.metadata.count("format_version"))
    throw UserError(fmt::format("'{}' holds no training position", path),
                    "it was not written by train --save; start from its "
                    "parameters with --load");
  const std::string version = metadataValue(file, path, "format_version");
  if (version != kFormatVersion)
    throw UserError(fmt::format("'{}' is a checkpoint of format {}, but this "
                                "trainer reads format {}",
                                path, version, kFormatVersion),
                    "resume it with the trainer that wrote it");

  TrainingPosition position;
  position.epoch = parseMetadata<int64_t>(file, path, "epoch");
  position.batch_in_epoch =
      parseMetadata<int64_t>(file, path, "batch_in_epoch");
  position.step = parseMetadata<int64_t>(file, path, "step");
  position.seed = parseMetadata<uint64_t>(file, path, "seed", 0,
                                          std::numeric_limits<uint64_t>::max());
  // 0 says nothing of the batch, which a position at an epoch's start does
  // not need; inside an epoch, the batch must be the run's.
  position.batch = parseMetadata<int64_t>(file, path, "batch", 0, kMaxBatch);
  position.loss_sum = parseMetadata<double>(
      file, path, "loss_sum", std::numeric_limits<double>::lowest(),
      std::numeric_limits<double>::max());
  position.correct = parseMetadata<int64_t>(file, path, "correct");
  position.seen = parseMetadata<int64_t>(file, path, "seen");
  return position;
}

} // namespace

HostTensor paramTensor(const gradc_param_info &param, const float *values) {
  return {shapeOf(param),
          std::vector<float>(values + param.offset,
                             values + param.offset + param.size)};
}

void saveCheckpoint(const std::string &path, const gradc_model &model,
                    const float *params, const Optimizer &optimizer,
                    const TrainingPosition &position) {
  SafeTensors file;
  std::vector<std::string> order;
  for (int index = 0; index < model.num_params; ++index) {
    const gradc_param_info &param = model.params[index];
    file.tensors[param.name] = paramTensor(param, params);
    order.push_back(param.name);
  }
  if (optimizer.hasState()) {
    for (const OptimizerSlot &slot : optimizer.slots()) {
      for (int index = 0; index < model.num_params; ++index) {
        const gradc_param_info &param = model.params[index];
        if (param.is_buffer)
          continue;
        const std::string name = slotTensorName(param, slot.name);
        file.tensors[name] = paramTensor(param, slot.values.data());
        order.push_back(name);
      }
    }
  }

  file.metadata = {
      {"format", "gradc-checkpoint"},
      {"format_version", kFormatVersion},
      {"model", model.name},
      {"epoch", std::to_string(position.epoch)},
      {"batch_in_epoch", std::to_string(position.batch_in_epoch)},
      {"step", std::to_string(position.step)},
      {"seed", std::to_string(position.seed)},
      {"batch", std::to_string(position.batch)},
      {"loss_sum", fmt::format("{:.17g}", position.loss_sum)},
      {"correct", std::to_string(position.correct)},
      {"seen", std::to_string(position.seen)},
      {"optimizer", optimizer.name()},
      {"optimizer_step", std::to_string(optimizer.steps())},
  };

  try {
    writeSafeTensors(path, file, order);
  } catch (const IoError &failure) {
    throw UserError(
        fmt::format("cannot save the checkpoint: {}", failure.what()),
        "check that its folder exists and is writable");
  }
}

void loadParameters(const std::string &path, const gradc_model &model,
                    float *params) {
  copyParameters(readCheckpoint(path, model, {}), path, model, params);
}

TrainingPosition loadForResume(const std::string &path,
                               const gradc_model &model, float *params,
                               Optimizer &optimizer) {
  const SafeTensors file = readCheckpoint(path, model, optimizer.slotNames());

  // Another model whose parameters have the same names and shapes passes
  // every other check, and would go on from a stranger's position.
  const auto saved_model = file.metadata.find("model");
  if (saved_model != file.metadata.end() && saved_model->second != model.name)
    throw UserError(fmt::format("'{}' was saved by a run of the model '{}', "
                                "but this trainer is for '{}'",
                                path, saved_model->second, model.name),
                    "start from its parameters alone with --load");

  const TrainingPosition position = readPosition(file, path);
  copyParameters(file, path, model, params);

  // Checkpoints written before adam was added name no optimizer; sgd wrote
  // them, and counted its steps with the run's.
  const auto saved_by = file.metadata.find("optimizer");
  const std::string saved_optimizer =
      saved_by == file.metadata.end() ? "sgd" : saved_by->second;
  if (saved_optimizer != optimizer.name())
    throw UserError(fmt::format("'{}' was saved by a run that trained with "
                                "{}, but this model trains with {}",
                                path, saved_optimizer, optimizer.name()),
                    "start from its parameters alone with --load");
  const int64_t steps =
      file.metadata.count("optimizer_step")
          ? parseMetadata<int64_t>(file, path, "optimizer_step")
          : position.step;

  // The slots are there when the saving run had taken a step with an
  // optimizer that keeps state; otherwise the optimizer starts fresh.
  bool has_state = false;
  for (const std::string &slot : optimizer.slotNames())
    for (int index = 0; index < model.num_params; ++index)
      if (!model.params[index].is_buffer &&
          file.tensors.count(slotTensorName(model.params[index], slot)))
        has_state = true;
  if (!has_state)
    return position;

  std::vector<OptimizerSlot> slots;
  for (const std::string &slot : optimizer.slotNames()) {
    std::vector<float> values(static_cast<size_t>(model.param_size), 0.0f);
    for (int index = 0; index < model.num_params; ++index) {
      const gradc_param_info &param = model.params[index];
      if (!param.is_buffer)
        copyTensor(file, path, slotTensorName(param, slot), param,
                   values.data());
    }
    slots.push_back({slot, std::move(values)});
  }
  optimizer.restore(std::move(slots), steps);
  return position;
}

} // namespace gradc
