// `info`: what the trainer was built from: layers with their output shapes
// and parameter counts, the parameters, the passes, backend and target,
// the training configuration the YAML gave, and the workspace's size
// against its lower bound.
#include "command_support.h"
#include "commands.h"
#include "names.h"
#include "network.h"

#include <algorithm>
#include <gradc/parallel.h>

namespace gradc {
namespace {

void printLayers(const gradc_model &model) {
  size_t name_width = 5;
  size_t op_width = 2;
  size_t shape_width = 6;
  for (int i = 0; i < model.num_layers; ++i) {
    const gradc_layer_info &layer = model.layers[i];
    name_width = std::max(name_width, std::string(layer.name).size());
    op_width = std::max(op_width, std::string(layer.op).size());
    shape_width =
        std::max(shape_width, formatShape(layer.rank, layer.shape).size());
  }

  fmt::print("layers:\n  {:<{}}  {:<{}}  {:<{}}  {:>10}  {}\n", "layer",
             name_width, "op", op_width, "output", shape_width, "parameters",
             "detail");
  for (int i = 0; i < model.num_layers; ++i) {
    const gradc_layer_info &layer = model.layers[i];
    fmt::print("  {:<{}}  {:<{}}  {:<{}}  {:>10}  {}\n", layer.name, name_width,
               layer.op, op_width, formatShape(layer.rank, layer.shape),
               shape_width, layer.num_params, layer.detail ? layer.detail : "");
  }
}

void printParameters(const gradc_model &model) {
  size_t width = 9;
  for (int i = 0; i < model.num_params; ++i)
    width = std::max(width, std::string(model.params[i].name).size());

  int64_t trainable = 0;
  int64_t buffers = 0;
  fmt::print("parameters:\n");
  for (int i = 0; i < model.num_params; ++i) {
    const gradc_param_info &param = model.params[i];
    (param.is_buffer ? buffers : trainable) += param.size;
    fmt::print("  {:<{}}  {:<16}  {:>10}  {}{}\n", param.name, width,
               formatShape(param.rank, param.shape), param.size,
               initName(param), param.is_buffer ? " (buffer)" : "");
  }
  fmt::print("total parameters: {} ({} trainable, {} in buffers)\n",
             trainable + buffers, trainable, buffers);
}

std::string splitText(const gradc_split &split) {
  if (split.images && split.labels)
    return fmt::format("'{}' and '{}'", split.images, split.labels);
  if (split.x && split.y)
    return fmt::format("'{}' and '{}'", split.x, split.y);
  if (split.csv)
    return fmt::format("'{}' with the target in column {}", split.csv,
                       split.label_column);
  return "none";
}

std::string optimizerText(const gradc_config &config) {
  if (config.optimizer == GRADC_OPTIMIZER_SGD)
    return fmt::format("sgd, lr {:g}, momentum {:g}, nesterov {}, "
                       "weight_decay {:g}",
                       config.lr, config.momentum,
                       config.nesterov ? "yes" : "no", config.weight_decay);
  return fmt::format("{}, lr {:g}, beta1 {:g}, beta2 {:g}, eps {:g}, "
                     "weight_decay {:g}",
                     config.optimizer == GRADC_OPTIMIZER_ADAMW ? "adamw"
                                                               : "adam",
                     config.lr, config.beta1, config.beta2, config.eps,
                     config.weight_decay);
}

std::string scheduleText(const gradc_config &config) {
  if (config.schedule == GRADC_SCHEDULE_STEP)
    return fmt::format("step, lr times {:g} every {} epochs",
                       config.schedule_gamma, config.schedule_every);
  if (config.schedule == GRADC_SCHEDULE_COSINE)
    return "cosine, to 0 over the epochs";
  return "none";
}

void printConfig(const gradc_config &config) {
  fmt::print("optimizer: {}\n", optimizerText(config));
  fmt::print("train: batch {}, epochs {}, seed {}, shuffle {}, schedule {}\n",
             config.batch, config.epochs, config.seed,
             config.shuffle ? "yes" : "no", scheduleText(config));
  fmt::print("data: train {}, test {}\n", splitText(config.train),
             splitText(config.test));
  std::string inputs = fmt::format("inputs: x * {:g}", config.scale);
  if (config.normalize)
    inputs += fmt::format(", then (x - {:g}) / {:g}", config.mean, config.std);
  fmt::print("{}\n", inputs);
  const std::string file =
      config.grad_file && config.grad_every > 0
          ? fmt::format("every {} steps to '{}'", config.grad_every,
                        config.grad_file)
          : std::string("no file");
  fmt::print("gradient log: {}; vanishing below {:g}, exploding above {:g}\n",
             file, config.vanishing_below, config.exploding_above);
}

// The workspace arena at one batch against the least that could hold the
// buffers live at once (see compiler/passes/MemoryPlan.cpp), in bytes of
// float, the precision training runs in.
void printWorkspace(const gradc_model &model, int64_t batch) {
  constexpr int64_t bytes = sizeof(float);
  const int64_t arena =
      (model.workspace_per_sample * batch + model.workspace_fixed) * bytes;
  fmt::print("workspace at batch {}: {} bytes ({} bytes a sample, {} "
             "fixed)\n",
             batch, arena, model.workspace_per_sample * bytes,
             model.workspace_fixed * bytes);
  if (model.num_live_peaks <= 0 || !model.live_peaks) {
    fmt::print("workspace lower bound: not recorded in this trainer\n");
    return;
  }
  int64_t bound = 0;
  for (int i = 0; i < model.num_live_peaks; ++i)
    bound = std::max(bound, (model.live_peaks[2 * i] * batch +
                             model.live_peaks[2 * i + 1]) *
                                bytes);
  fmt::print("workspace lower bound at batch {}: {} bytes, the most that is "
             "live at once; the workspace is {:.3f} times that\n",
             batch, bound,
             bound > 0 ? static_cast<double>(arena) / bound : 1.0);
}

void printTrainingParts(const gradc_model &model, int64_t batch) {
  fmt::print("training steps: {}\n",
             describeTrainingParts(model, batch, availableThreads()));
}

} // namespace

int runInfo(const gradc_model &model, const Options &options) {
  fmt::print("model: {}\n", model.name);
  fmt::print("backend: {}, target: {}\n", model.backend, model.target);
  fmt::print("threads: {} (train, eval, predict and step take --threads N; "
             "the results do not depend on it)\n",
             availableThreads());
  fmt::print("passes: {}\n",
             model.passes && *model.passes ? model.passes : "none");
  fmt::print("input: {}, output: {}, loss: {}\n",
             formatShape(model.input_rank, model.input_shape),
             formatShape(model.output_rank, model.output_shape),
             lossName(model.loss));
  printLayers(model);
  printParameters(model);
  printConfig(*model.config);
  const int64_t batch = options.batch.value_or(model.config->batch);
  printWorkspace(model, batch);
  printTrainingParts(model, batch);
  return 0;
}

} // namespace gradc
